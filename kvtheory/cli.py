"""Command line: ``python -m kvtheory COMMAND`` (or ``kvtheory COMMAND``); ``--help`` lists them.

Examples (shell)::

    python -m kvtheory simulate --workload model1 --n 12 --memory 40 --policy all
    python -m kvtheory simulate --trace requests.csv --memory 16492 --engine paper \\
        --policy mc-sf,mc-benchmark --format json
    python -m kvtheory simulate --workload lmsys --n 10000 --rate 50 --engine timed --policy all
    python -m kvtheory opt --workload model1 --n 12 --seed 3 --time-limit 10
    python -m kvtheory claims

``simulate --engine`` picks the model the policies run in:

* ``round`` (default): the paper's discrete model (:func:`kvtheory.simulate`), latency in
  rounds (``total_latency``, ``average_latency``, ``makespan``); ``avg_latency_s``,
  ``makespan_s`` and ``energy_j`` are null.  A trace in seconds needs ``--round-seconds S``
  (arrival round ``floor(t / S)``).
* ``timed``: our A100-calibrated engine (:func:`kvtheory.studies.a100.run_timed`), seconds and joules.
* ``paper``: the paper's engine (:func:`kvtheory.engines.paper.engine.simulate_paper`), seconds and
  joules.  A trace in rounds needs ``--round-seconds S`` for both continuous-time engines.

``--trace`` reads every format of :func:`kvtheory.model.traces.load_trace`: CSV, JSON lines or
Parquet (``.gz`` for the text formats), recognised by its header, or any column names with
``--columns arrival=A,prompt=P,output=O[,prediction=D]`` and ``--time-unit s|ms|us|round``.
A request that can never fit (the engine's fit rule) stops the run with one line naming how
many and the largest, unless ``--oversized drop`` drops them (``dropped`` reports how many).
``--per-request FILE.csv`` writes one row per request and policy.  Without ``--trace`` the
workload is generated: ``model1`` by default for the round
engine, ``lmsys`` (Poisson arrivals in seconds) for the others.  ``--seed`` seeds the workload
and every random policy (each policy gets its own generator seeded with it).

Every user error prints one line ``error: ...`` on stderr and exits with status 2
(``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Sequence

import numpy as np

from kvtheory.model.checker import check_schedule
from kvtheory.engines.policies import POLICIES
from kvtheory.engines.serving_metrics import COMMON_KEYS, SERVING_KEYS
from kvtheory.engines.simulator import LivelockError, PolicyError, simulate
from kvtheory.model.tables import format_table, to_jsonable
from kvtheory.commands import DELEGATED, add_claim_parsers, run_claims, run_delegated

__all__ = ["main", "ENGINES"]

#: Engines of ``simulate --engine``.
ENGINES = ("round", "timed", "paper")
_ROUND_COLUMNS = ("policy", "status", "n", "dropped", "memory", "total_latency",
                  "average_latency", "p50_latency", "p90_latency", "p99_latency", "avg_ttft",
                  "p99_ttft", "avg_tpot", "throughput_tok", "makespan", "peak_memory",
                  "evictions", "tokens_recomputed")
_SECONDS_COLUMNS = ("policy", "status", "n", "dropped", "memory", *SERVING_KEYS, "makespan_s",
                    "evictions", "energy_j")
#: Columns of ``simulate --per-request FILE.csv`` (times in the engine's unit).
PER_REQUEST_COLUMNS = ("policy", "id", "line", "arrival", "start", "first_token", "completion",
                       "latency", "evictions")


def _emit(args, rows: list[dict], columns: Sequence[str], title: str | None = None) -> int:
    """Print ``rows`` as a JSON array (``--format json``) or as a table under ``title``."""
    if args.format == "json":
        print(json.dumps(to_jsonable(rows), indent=2))
    else:
        if title:
            print(title)
        print(format_table(rows, columns))
    return 0


# ===================================================================== requests
def _paper_engine():
    try:
        from kvtheory.engines.paper import engine as paper_engine
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.paper_engine":
            raise
        raise ValueError("paper engine not available") from None
    return paper_engine


def _load(args):
    """The trace of ``--trace`` (with ``--columns`` / ``--time-unit`` where given)."""
    from kvtheory.model.traces import load_trace
    if args.memory is None:
        raise ValueError("--trace needs --memory M (the KV capacity in tokens)")
    if not 1 <= args.memory <= 10**12:
        raise ValueError(f"--memory M must be between 1 and 10^12 tokens, got {args.memory}")
    return load_trace(args.trace, columns=getattr(args, "columns", None),
                      time_unit=getattr(args, "time_unit", None))


def _fit(args, tr, extra: int = 0):
    """The requests the engine can run: zero-token requests refused, oversized ones refused or
    (``--oversized drop``) dropped and counted in ``args.dropped``.

    A request fits alone when ``s + max(o, prediction) + extra <= M`` (``extra`` is the
    engine's: 0 for the round and timed engines).
    """
    from kvtheory.model.traces import fit_trace
    tr, args.dropped = fit_trace(tr, args.memory, extra=extra,
                                 oversized=getattr(args, "oversized", "error"))
    return tr


def _trace(args):
    """The requests of a continuous-time engine: a Trace in seconds."""
    if args.trace:
        tr = _load(args)
        if tr.unit == "round":
            if args.round_seconds is None:
                raise ValueError(f"{args.trace} gives arrivals in rounds; --engine {args.engine} "
                                 f"needs --round-seconds S to turn them into seconds")
            tr = tr.to_seconds(args.round_seconds)
        return _fit(args, tr, _extra(args))
    if args.workload != "lmsys":
        raise ValueError(f"--engine {args.engine} runs requests in seconds: use --trace FILE "
                         f"or --workload lmsys, not {args.workload}")
    from kvtheory.studies.a100 import lmsys_trace
    return lmsys_trace(np.random.default_rng(args.seed), 10_000 if args.n is None else args.n,
                       rate=50.0 if args.rate is None else args.rate,
                       memory=_memory(args) - _extra(args))     # clipped to the engine's fit


def _instance(args):
    """The requests of the round model: an Instance."""
    from kvtheory.model import workloads
    if args.trace:
        tr = _load(args)
        if tr.unit == "round":
            if args.round_seconds is not None:
                raise ValueError(f"{args.trace} gives arrivals in rounds already; drop "
                                 f"--round-seconds")
            args.origin = _fit(args, tr)
            return args.origin.to_instance(args.memory)
        if args.round_seconds is None:
            raise ValueError(f"{args.trace} gives arrivals in seconds; the round model needs "
                             f"--round-seconds S (or use --engine timed or paper)")
        args.origin = _fit(args, tr)
        return args.origin.to_instance(args.memory, args.round_seconds)
    rng = np.random.default_rng(args.seed)
    if args.workload == "model2":
        return workloads.paper_model2(rng, rate=args.rate, memory=args.memory)
    if args.workload == "lmsys":
        return workloads.lmsys_like(rng, 10_000 if args.n is None else args.n,
                                    rate=50.0 if args.rate is None else args.rate,
                                    memory=_memory(args))
    return workloads.paper_model1(rng, n=args.n, memory=args.memory)


def _policy_names(args) -> list[str]:
    if args.engine == "paper":
        mod = _paper_engine()
        known, valid = tuple(mod.PAPER_POLICIES), mod.paper_policy
    else:
        known = tuple(POLICIES)

        def valid(name):
            if name not in POLICIES:
                raise ValueError(f"unknown policy {name!r} for --engine {args.engine}; choose "
                                 f"from {', '.join(known)}, all")
    names = [p.strip() for item in (args.policy or ["mc-sf"]) for p in item.split(",")
             if p.strip()]
    if not names:
        raise ValueError("--policy needs at least one name")
    if "all" in names:
        return list(known)
    for name in names:
        valid(name)
    return list(dict.fromkeys(names))


# ===================================================================== simulate
def _row(engine: str, memory: int, figures: dict, args=None) -> dict:
    """One JSON object: the common keys first (``None`` where absent), then the rest."""
    row = {k: figures.get(k) for k in COMMON_KEYS}
    row.update(engine=engine, memory=memory, dropped=getattr(args, "dropped", 0))
    row.update({k: v for k, v in figures.items() if k not in row})
    return row


def _run_round(args, names):
    from kvtheory.engines.serving_metrics import requests_round, serving_figures
    inst = _instance(args)
    rows = []
    for name in names:
        try:
            sched = simulate(inst, POLICIES[name], name=name, progress=args.progress,
                             compiled=getattr(args, "compiled", None))
        except LivelockError:
            rows.append(_row("round", inst.memory, {"policy": name, "n": inst.n,
                                                    "status": "livelock"}, args))
            continue
        check_schedule(inst, sched)
        table = _per_request(args, name, requests_round(sched))
        rows.append(_row("round", inst.memory, {**sched.summary(), "status": "ok",
                                                **serving_figures(table, unit="round")}, args))
    return f"{inst!r}", rows, _ROUND_COLUMNS


def _per_request(args, policy: str, table):
    """Keep ``table`` for ``--per-request`` (with the policy and each request's file line)."""
    if getattr(args, "per_request", None):
        origin = getattr(args, "origin", None)
        out = table.assign(policy=policy, line=None if origin is None or origin.origin is None
                           else origin.origin)
        args.tables.append(out[list(PER_REQUEST_COLUMNS)])
    return table


def _memory(args) -> int:
    from kvtheory.hardware.calibration import PAPER_KV_CAPACITY
    return PAPER_KV_CAPACITY if args.memory is None else args.memory


def _run_timed(args, names):
    from kvtheory.studies.a100 import run_timed
    from kvtheory.engines.serving_metrics import requests_timed, serving_figures
    tr, memory = _trace(args), _memory(args)
    args.origin = tr
    rows = []
    for name in names:
        fig, _, res = run_timed(tr, name, memory=memory, prediction=tr.prediction,
                                progress=args.progress, with_schedule=True)
        fig.pop("energy_kj_by_power", None)
        kj = fig.pop("energy_kj", None)
        if res is not None:
            fig.update(serving_figures(_per_request(args, name, requests_timed(res))))
        rows.append(_row("timed", memory, {**fig, "energy_j": None if kj is None else 1e3 * kj},
                         args))
    return f"<Trace {tr.name!r}: n={tr.n}, M={memory}, engine timed>", rows, _SECONDS_COLUMNS


def _extra(args) -> int:
    """Tokens the engine's fit rule adds to ``s + o``: 0 for the round and timed engines, and
    for the paper engine 1 under the published code's memory timing (its default)."""
    if args.engine != "paper":
        return 0
    from kvtheory.engines.paper.rules import fit_extra
    return fit_extra(args.memory_timing or "code")


def _paper_rules(args) -> dict:
    """``--memory-timing`` / ``--event-order`` (paper engine only; default the code's)."""
    given = {k: v for k, v in (("memory_timing", args.memory_timing),
                               ("event_order", args.event_order)) if v is not None}
    if given and args.engine != "paper":
        flag = "--" + next(iter(given)).replace("_", "-")
        raise ValueError(f"{flag} applies to --engine paper only")
    return given


def _run_paper(args, names):
    from kvtheory.engines.serving_metrics import requests_paper, serving_figures
    mod = _paper_engine()
    rules = _paper_rules(args)
    tr, memory = _trace(args), _memory(args)
    args.origin = tr
    rows = []
    for name in names:
        run = mod.simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=memory,
                                 policy=name, prediction=tr.prediction,
                                 rng=np.random.default_rng(args.seed), progress=args.progress,
                                 compiled=getattr(args, "compiled", None), **rules)
        mod.check_paper_run(run)
        fig = run.summary()
        table = _per_request(args, name, requests_paper(run))
        if fig["status"] == "ok":
            fig.update(serving_figures(table))
        rows.append(_row("paper", memory, fig, args))
    return f"<Trace {tr.name!r}: n={tr.n}, M={memory}, engine paper>", rows, _SECONDS_COLUMNS


def _simulate(args) -> int:
    names = _policy_names(args)
    _paper_rules(args)
    if args.progress is None:                   # a bar only where someone watches stderr
        args.progress = sys.stderr.isatty()
    args.tables, args.dropped = [], 0
    run = {"round": _run_round, "timed": _run_timed, "paper": _run_paper}[args.engine]
    title, rows, columns = run(args, names)
    if args.per_request:
        import pandas as pd
        pd.concat(args.tables, ignore_index=True).to_csv(args.per_request, index=False)
    return _emit(args, rows, columns, title)


# ===================================================================== opt
def _opt(args) -> int:
    """Optimum of the integer program, or under a time limit the best found and a bracket.

    The lower bound is the larger of the solver's proven bound and the area bound
    (:func:`kvtheory.optimum.search.volume_lower_bound`); ``mc-sf/opt`` is a ratio only when the
    optimum is proven, otherwise the bracket ``MC-SF / best found .. MC-SF / lower bound``.
    Under ``--time-limit`` HiGHS runs without presolve (its presolve overruns the limit by
    seconds) unless ``--presolve`` is given; ``build_seconds`` (MC-SF's upper bound and the
    program's matrices) counts towards the limit and is reported on its own.
    """
    from kvtheory.optimum.exact import solve_optimal
    from kvtheory.optimum.search import volume_lower_bound
    inst = _instance(args)
    presolve = args.time_limit is None or args.presolve
    res = solve_optimal(inst, time_limit=args.time_limit, presolve=presolve)
    check_schedule(inst, res.schedule)
    mc = simulate(inst, POLICIES["mc-sf"], name="mc-sf")
    check_schedule(inst, mc)
    best, lat = res.objective, mc.total_latency
    low = max(float(res.lower_bound), float(volume_lower_bound(inst)))
    proven = bool(res.proven_optimal) or math.ceil(low - 1e-9) >= best
    low = float(best) if proven else low
    bracket = [lat / best, lat / low]
    row = {"status": "optimal" if proven else "best found, not proven optimal",
           "proven_optimal": proven, "objective": best, "lower_bound": low,
           "gap": (best - low) / best, "mcsf_total_latency": lat,
           "mcsf_over_opt": bracket[0] if proven else None, "mcsf_over_opt_bracket": bracket,
           "n_variables": res.n_variables, "seconds": float(res.solve_time),
           "build_seconds": float(res.build_seconds), "time_limit": args.time_limit,
           "presolve": presolve}
    if args.format == "json":
        return _emit(args, [row], ())
    shown = {"status": row["status"], "optimum" if proven else "best found": best,
             "lower_bound": low, "gap": row["gap"], "mc-sf": lat,
             "mc-sf/opt": f"{bracket[0]:.3f}" if proven
             else f"{bracket[0]:.3f}..{bracket[1]:.3f}",
             "variables": res.n_variables, "seconds": row["seconds"],
             "build_s": row["build_seconds"]}
    return _emit(args, [shown], list(shown), f"{inst!r}")


# ===================================================================== main
class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors are one line, like every other error."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _add_instance_args(p):
    src = p.add_mutually_exclusive_group()
    src.add_argument("--workload", choices=["model1", "model2", "lmsys"], default=None,
                     help="generated workload (default model1 for the round model: the paper's "
                          "arrival model 1; lmsys for the timed and paper engines)")
    src.add_argument("--trace", help="trace file: the project CSV (arrival,prompt,output"
                     "[,prediction] in rounds or arrival_time,... in seconds), the Azure trace "
                     "or the Splitwise/Vidur processed trace, recognised by the header")
    p.add_argument("--n", type=int, help="number of requests (model1, lmsys)")
    p.add_argument("--memory", type=int, help="KV capacity M in tokens (needed with --trace)")
    p.add_argument("--rate", type=float, help="arrival rate: per round (model2, lmsys in the "
                   "round model), per second (lmsys in the timed and paper engines)")
    p.add_argument("--round-seconds", type=float, default=None,
                   help="seconds per round, to run a trace in seconds in the round model or "
                        "a trace in rounds in continuous time")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _add_output_args(p)


def _add_trace_args(p):
    """``simulate``'s options for user traces and per-request output."""
    p.add_argument("--columns", default=None, metavar="arrival=A,prompt=P,output=O[,prediction=D]",
                   help="the trace's column for each role (other columns are ignored; times "
                        "become relative to the first request, rows sorted by time)")
    p.add_argument("--time-unit", choices=["s", "ms", "us", "round"], default=None,
                   help="unit of a numeric arrival column (default: seconds; rounds for the "
                        "arrival,prompt,output format); datetime columns are recognised")
    p.add_argument("--memory-timing", choices=["code", "exact"], default=None,
                   help="paper engine: MC-SF's projection counts a request at its completion "
                        "as holding s+o+1, as the published code does (code, default; then a "
                        "request fits alone iff s+o+1 <= M), or frees it there (exact)")
    p.add_argument("--event-order", choices=["code", "exact"], default=None,
                   help="paper engine: one event at a time, a batch's end before a "
                        "simultaneous arrival, an idle engine starting on each arrival (code, "
                        "default), or every arrival so far joining each decision (exact)")
    p.add_argument("--oversized", choices=["error", "drop"], default="error",
                   help="requests that can never fit in --memory: stop with an error "
                        "(default) or drop them (the output reports 'dropped')")
    p.add_argument("--per-request", metavar="FILE.csv", default=None,
                   help="write one row per request and policy: " + ",".join(PER_REQUEST_COLUMNS)
                        + " (times in the engine's unit; line: the trace's line or row)")


def _add_output_args(p):
    """``--format`` and ``--debug``, for every subcommand that prints results."""
    p.add_argument("--format", choices=["table", "json"], default="table",
                   help="output: a text table (default) or a JSON array")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


_ERRORS = (ValueError, OSError, PolicyError)


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kvtheory``; returns the exit status (2 on bad input).

    Examples
    --------
    >>> main(["simulate", "--workload", "model1", "--n", "5", "--memory", "12", "--policy", "mc-sf"])
    <Instance 'paper model 1': n=5, M=12>
    policy  status  n  dropped  memory  total_latency  average_latency  p50_latency  ...
    mc-sf       ok  5        0      12             17            3.400        2.000  ...
    0
    """
    ap = _Parser(prog="python -m kvtheory",
                 description="kvtheory: online LLM inference scheduling under KV-cache "
                             "constraints (arXiv 2502.07115), verified. One subcommand each:")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("simulate", help="run policies and print a summary table")
    _add_instance_args(p)
    p.add_argument("--engine", choices=ENGINES, default="round",
                   help="round model (default), our A100-calibrated engine, the paper's engine")
    p.add_argument("--policy", action="append", default=None,
                   help="policy names, comma-separated and/or repeated, or 'all'; default mc-sf")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar on stderr, shown after 2 s (default: when stderr is a "
                        "terminal)")
    p.add_argument("--no-compile", dest="compiled", action="store_const", const=False,
                   default=None, help="round engine: run MC-SF, MC-Benchmark, SVF and vllm on "
                                      "the Python reference engine instead of the compiled loop "
                                      "(same schedules); paper engine: every policy on the "
                                      "Python reference loop (same runs)")
    _add_trace_args(p)
    p = sub.add_parser("opt", help="solve the hindsight-optimal integer program")
    _add_instance_args(p)
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds for the whole solve (model building included); the best "
                        "schedule found and the proven gap are reported if it is hit")
    p.add_argument("--presolve", action="store_true",
                   help="let HiGHS presolve under --time-limit (stronger bounds, but it may "
                        "overrun the limit by seconds)")
    argv = sys.argv[1:] if argv is None else list(argv)
    add_claim_parsers(sub)                             # claims, verify
    for name, (_, _, text) in DELEGATED.items():       # studies that parse their own options
        sub.add_parser(name, help=text, add_help=False)
    if argv and argv[0] in DELEGATED:
        try:
            return run_delegated(argv[0], argv[1:])
        except _ERRORS as exc:
            print(f"error: {_message(exc)}", file=sys.stderr)
            return 2
    args = ap.parse_args(argv)
    commands = {"simulate": _simulate, "opt": _opt, "claims": run_claims, "verify": run_claims}
    if getattr(args, "workload", "") is None:
        args.workload = "model1" if getattr(args, "engine", "round") == "round" else "lmsys"
    try:
        if getattr(args, "n", None) is not None and args.n < 1:
            raise ValueError(f"--n must be >= 1, got {args.n}")
        return commands[args.command](args)
    except BrokenPipeError:                  # output piped into a reader that stopped (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _ERRORS as exc:
        if getattr(args, "debug", False):
            raise
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
