"""Command line: ``python -m kvtheory {simulate,opt,claims}``.

Examples (shell)::

    python -m kvtheory simulate --workload lmsys --n 10000 --rate 50 --policy mc-sf --policy vllm
    python -m kvtheory simulate --trace requests.csv --memory 40 --policy all
    python -m kvtheory opt --workload model1 --n 12 --seed 3
    python -m kvtheory claims
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from .checker import check_schedule
from .claims import CLAIMS
from .policies import POLICIES
from .simulator import LivelockError, simulate

__all__ = ["main", "format_table"]


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """Plain-text table of dict rows (floats with 3 significant decimals).

    Examples
    --------
    >>> print(format_table([{"policy": "mc-sf", "latency": 3.14159}, {"policy": "x", "latency": 10}]))
    policy  latency
    mc-sf     3.142
    x            10
    """
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(columns)]
    def line(vals):
        return "  ".join(v.ljust(w) if j == 0 else v.rjust(w)
                         for j, (v, w) in enumerate(zip(vals, widths))).rstrip()
    return "\n".join([line(columns)] + [line(r) for r in cells])


def _instance(args):
    from . import workloads
    rng = np.random.default_rng(args.seed)
    if args.trace:
        if args.memory is None:
            raise SystemExit("error: --trace needs --memory M")
        from .traces import load_instance_csv
        return load_instance_csv(args.trace, memory=args.memory)
    if args.workload == "model1":
        return workloads.paper_model1(rng, n=args.n, memory=args.memory)
    if args.workload == "model2":
        return workloads.paper_model2(rng, rate=args.rate, memory=args.memory)
    return workloads.lmsys_like(rng, args.n or 10_000, rate=args.rate or 50.0,
                                memory=args.memory or 16_492)


def _add_instance_args(p):
    src = p.add_mutually_exclusive_group()
    src.add_argument("--workload", choices=["model1", "model2", "lmsys"], default="model1",
                     help="generated workload (default model1: the paper's arrival model 1)")
    src.add_argument("--trace", help="CSV with columns arrival,prompt,output[,prediction]")
    p.add_argument("--n", type=int, help="number of requests (model1, lmsys)")
    p.add_argument("--memory", type=int, help="KV capacity M")
    p.add_argument("--rate", type=float, help="arrivals per round (model2, lmsys)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _simulate(args) -> int:
    inst = _instance(args)
    names = list(POLICIES) if "all" in args.policy else args.policy
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise SystemExit(f"error: unknown policy {unknown[0]!r}; choose from "
                         + ", ".join(POLICIES) + ", all")
    rows = []
    for name in names:
        try:
            sched = simulate(inst, POLICIES[name], name=name, progress=args.progress)
        except LivelockError:
            rows.append({"policy": name, "n": inst.n, "total_latency": "livelock"})
            continue
        check_schedule(inst, sched)
        rows.append(sched.summary())
    print(f"{inst!r}")
    print(format_table(rows, ["policy", "n", "memory", "total_latency", "average_latency",
                              "makespan", "peak_memory", "evictions", "tokens_recomputed"]))
    return 0


def _opt(args) -> int:
    from .optimal import solve_optimal
    inst = _instance(args)
    res = solve_optimal(inst, time_limit=args.time_limit)
    check_schedule(inst, res.schedule)
    mc = simulate(inst, POLICIES["mc-sf"], name="mc-sf")
    print(f"{inst!r}")
    print(format_table([{"status": res.status, "optimum": res.objective,
                         "lower_bound": res.lower_bound, "gap": res.gap,
                         "mc-sf": mc.total_latency,
                         "mc-sf/opt": mc.total_latency / res.objective,
                         "variables": res.n_variables, "seconds": res.solve_time}]))
    return 0


def _claims(args) -> int:
    print(format_table([{"id": c.id, "versions": c.versions, "provenance": c.provenance,
                         "status": c.status, "chapter": c.chapter or "-"} for c in CLAIMS]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kvtheory``.

    Examples
    --------
    >>> main(["simulate", "--workload", "model1", "--n", "5", "--memory", "12", "--policy", "mc-sf"])
    <Instance 'paper model 1': n=5, M=12>
    policy  n  memory  total_latency  average_latency  makespan  peak_memory  evictions  tokens_recomputed
    mc-sf   5      12             ...
    0
    """
    ap = argparse.ArgumentParser(prog="python -m kvtheory", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("simulate", help="run policies and print a summary table")
    _add_instance_args(p)
    p.add_argument("--policy", action="append", default=None,
                   help="policy name (repeatable) or 'all'; default mc-sf")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p = sub.add_parser("opt", help="solve the hindsight-optimal integer program")
    _add_instance_args(p)
    p.add_argument("--time-limit", type=float, default=None, help="solver seconds")
    sub.add_parser("claims", help="print the claim registry")
    args = ap.parse_args(argv)
    if args.command == "simulate":
        args.policy = args.policy or ["mc-sf"]
        return _simulate(args)
    if args.command == "opt":
        return _opt(args)
    return _claims(args)


if __name__ == "__main__":
    sys.exit(main())
