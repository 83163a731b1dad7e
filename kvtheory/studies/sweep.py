"""Sweeps: policies x memory x load scale x seeds x request sources, one serving row per cell.

:func:`sweep_cells` builds the grid, :func:`run_sweep_cell` runs one cell and :func:`sweep`
runs a grid through :func:`kvtheory.model.cells.run_cells` (local processes or a dask
cluster, every cell cached on disk, so an interrupted sweep resumes).  A cell's row holds its
parameters (``source``, ``scale``, ``seed``, ``head``) and the figures of ``python -m kvtheory
simulate --format json`` for the same requests, policy, memory and engine (the keys of
:data:`~kvtheory.engines.serving_metrics.COMMON_KEYS` first).

**Load scale.**  Scale ``c`` divides every arrival time by ``c``: scale 2 is twice the load.
A trace's times are divided as they are (a trace in rounds is divided, then floored to whole
rounds); a generated ``lmsys`` workload is drawn at ``c`` times its rate, which gives the same
draws with the times divided by ``c`` (up to floating-point rounding), so a cell is exactly
``simulate --workload lmsys --rate R*c``.

**Randomness** only from the cell's seed: the workload draws from
``numpy.random.default_rng(seed)`` and so does the paper engine's random tie-breaking; a trace
in the round or timed engine is deterministic, its seeds repeat the same cell.

**Ten million requests.**  A cell with more than
:data:`~kvtheory.studies.sweep_columns.COLUMNS_THRESHOLD` requests whose policy runs on a
compiled loop (round or paper engine) computes the same figures from bare columns
(:mod:`kvtheory.studies.sweep_columns`), without per-request objects and without the
checker; smaller cells, other policies and the timed engine run the full path.

``python -m kvtheory sweep`` (:func:`main`) is the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from kvtheory.engines.policies import POLICIES
from kvtheory.engines.serving_metrics import COMMON_KEYS
from kvtheory.hardware.calibration import PAPER_KV_CAPACITY
from kvtheory.model.cache import _hex16
from kvtheory.model.cells import run_cells
from kvtheory.model.tables import format_table, to_jsonable
from kvtheory.model.validation import as_int
from kvtheory.studies.sweep_columns import COLUMNS_THRESHOLD, uses_columns

__all__ = ["ENGINES", "WORKLOADS", "CELL_KEYS", "sweep_cells", "run_sweep_cell", "sweep", "file_fingerprint",
           "write_rows", "out_suffix", "main"]

#: Engines a sweep runs (as ``simulate --engine``).
ENGINES = ("round", "timed", "paper")
#: Generated workloads a sweep runs (besides trace files).
WORKLOADS = ("lmsys",)
#: A cell's parameters that head its row (the engine's figures follow).
CELL_KEYS = ("source", "scale", "seed", "head")


def _names(policies, engine: str) -> list[str]:
    """Policy names, checked against the engine's registry."""
    names = [policies] if isinstance(policies, str) else list(policies)
    names = [p.strip() for item in names for p in str(item).split(",") if p.strip()]
    if not names:
        raise ValueError("at least one policy is needed")
    if engine == "paper":
        from kvtheory.engines.paper.rules import paper_policy
        for name in names:
            paper_policy(name)
    else:
        unknown = [p for p in names if p not in POLICIES]
        if unknown:
            raise ValueError(f"unknown policy {unknown[0]!r} for engine {engine}; choose from "
                             f"{', '.join(POLICIES)}")
    return list(dict.fromkeys(names))


def _positive_list(values, name: str, kind=float) -> list:
    values = [values] if np.isscalar(values) else list(values)
    if not values:
        raise ValueError(f"{name} needs at least one value")
    out = []
    for v in values:
        if kind is int:
            out.append(as_int(v, name=name, minimum=1))
        else:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) \
                    or not np.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be positive finite numbers, got {v!r}")
            out.append(float(v))
    return list(dict.fromkeys(out))


def sweep_cells(policies, *, memory=(PAPER_KV_CAPACITY,), scales=(1.0,), seeds=1,
                traces: Sequence[str] = (), workload: str | None = None, n: int | None = None,
                rate: float | None = None, engine: str = "round", head: int | None = None,
                round_seconds: float | None = None, oversized: str = "error") -> list[dict]:
    """The grid policies x memory x scales x seeds x sources, one cell (a dict) per point.

    Examples
    --------
    >>> cells = sweep_cells("mc-sf,vllm", memory=[2000], scales=[1, 2], seeds=2,
    ...                     workload="lmsys", n=300, rate=5)
    >>> len(cells), sorted({c["policy"] for c in cells}), sorted({c["scale"] for c in cells})
    (8, ['mc-sf', 'vllm'], [1.0, 2.0])
    >>> cells[0]["source"], cells[0]["seed"], cells[0]["n"]
    ('lmsys', 0, 300)
    >>> sweep_cells("mc-sf", scales=[0])
    Traceback (most recent call last):
    ...
    ValueError: scale must be positive finite numbers, got 0

    Parameters
    ----------
    policies : str or sequence of str
        Policy names (comma-separated strings are split).
    memory : int or sequence of int
        KV capacities ``M`` in tokens (default the paper's 16,492).
    scales : float or sequence of float
        Load scales: arrival times are divided by each.
    seeds : int or sequence of int
        ``k`` for the seeds ``0..k-1``, or the seeds themselves.
    traces : sequence of str
        Trace files (every format :func:`~kvtheory.model.traces.load_trace` reads); or
    workload : {"lmsys"}, optional
        A generated workload of ``n`` requests (default 10,000) at ``rate`` (default 50; per
        second in the timed and paper engines, per round in the round engine).
    engine : {"round", "timed", "paper"}
    head : int, optional
        Only a trace's first ``head`` requests.
    round_seconds : float, optional
        Seconds per round: a trace in seconds in the round engine, in rounds in the others.
    oversized : {"error", "drop"}
        Requests that can never fit in ``M``: stop with an error, or drop them (counted in
        ``dropped``).

    Returns
    -------
    list of dict
        Keyword arguments of :func:`run_sweep_cell`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    names = _names(policies, engine)
    memories = _positive_list(memory, "memory", int)
    scales = _positive_list(scales, "scale")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = range(as_int(seeds, name="seeds", minimum=1))
    seeds = [as_int(s, name="seed", minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds needs at least one seed")
    traces = [str(t) for t in traces]
    if bool(traces) == (workload is not None):
        raise ValueError("give trace files or a workload (one of the two)")
    if workload is not None and workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")
    if workload is not None and head is not None:
        raise ValueError("head applies to trace files; a workload has n")
    if traces and (n is not None or rate is not None):
        raise ValueError("n and rate apply to a workload; a trace has its own requests")
    if head is not None:
        head = as_int(head, name="head", minimum=1)
    if oversized not in ("error", "drop"):
        raise ValueError(f"oversized must be 'error' or 'drop', got {oversized!r}")
    extra = {}
    if workload is not None:
        extra = {"n": 10_000 if n is None else as_int(n, name="n", minimum=1),
                 "rate": 50.0 if rate is None else _positive_list(rate, "rate")[0]}
    if round_seconds is not None:
        round_seconds = _positive_list(round_seconds, "round_seconds")[0]
    # a trace's cells carry its content's fingerprint: the cached result of a cell (keyed by its
    # arguments) then belongs to the file's content, not to its path
    prints = {t: file_fingerprint(t) for t in traces}
    return [{"policy": p, "memory": m, "scale": c, "seed": s, "source": src, "engine": engine,
             "head": head, "round_seconds": round_seconds, "oversized": oversized,
             **({"fingerprint": prints[src]} if traces else {}), **extra}
            for src, p, m, c, s in itertools.product(traces or [workload], names, memories,
                                                     scales, seeds)]


def file_fingerprint(path) -> str:
    """The first 16 hex characters of the SHA-256 of a file's bytes (read in blocks).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("one content")
    >>> a = file_fingerprint(p); _ = p.write_text("another")
    >>> len(a), a == file_fingerprint(p)
    (16, False)
    """
    import hashlib
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ValueError(f"cannot read trace {path}: {exc.strerror or exc}") from None
    return _hex16(h)


# ===================================================================== one cell
def _scaled(tr, scale: float):
    """The trace with its arrival times divided by ``scale``."""
    return tr if scale == 1.0 else dataclasses.replace(tr, arrival_time=tr.arrival_time / scale)


def _trace_cell(source, *, memory, scale, engine, head, round_seconds, oversized):
    """A trace file's requests for ``engine``: an Instance (round) or a Trace in seconds."""
    from kvtheory.model.traces import fit_trace, load_trace
    tr = load_trace(source)
    if head is not None and head < tr.n:
        tr = tr.select(np.arange(tr.n) < head)
    if engine == "round":
        if tr.unit == "round":
            if round_seconds is not None:
                raise ValueError(f"{source} gives arrivals in rounds already; drop "
                                 f"round_seconds")
            tr, round_seconds = tr.to_seconds(1.0), 1.0       # whole rounds: floor(a / scale)
        elif round_seconds is None:
            raise ValueError(f"{source} gives arrivals in seconds; the round engine needs "
                             f"round_seconds (--round-seconds S), or use the timed or paper "
                             f"engine")
        tr, dropped = fit_trace(_scaled(tr, scale), memory, oversized=oversized)
        return tr.to_instance(memory, round_seconds), dropped
    if tr.unit == "round":
        if round_seconds is None:
            raise ValueError(f"{source} gives arrivals in rounds; the {engine} engine needs "
                             f"round_seconds (--round-seconds S)")
        tr = tr.to_seconds(round_seconds)
    return fit_trace(_scaled(tr, scale), memory, extra=_extra(engine), oversized=oversized)


def _extra(engine: str) -> int:
    if engine != "paper":
        return 0
    from kvtheory.engines.paper.rules import fit_extra
    return fit_extra("code")


@dataclasses.dataclass(frozen=True)
class _Columns:
    """A round-engine workload as bare columns (the Instance's arrays, without its requests)."""

    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    memory: int

    @property
    def prediction(self) -> np.ndarray:
        return self.output

    @property
    def n(self) -> int:
        return int(self.arrival.size)


def _workload_cell(*, memory, scale, seed, engine, n, rate, columns=False):
    """The lmsys workload at ``rate * scale``: what ``simulate --workload lmsys`` generates.

    ``columns``: the round engine's requests as :class:`_Columns` (the same draws).
    """
    rng = np.random.default_rng(seed)
    if engine == "round" and columns:
        from kvtheory.model.workloads import lmsys_like_columns
        return _Columns(*lmsys_like_columns(rng, n, rate=rate * scale, memory=memory),
                        memory=int(memory)), 0
    if engine == "round":
        from kvtheory.model.workloads import lmsys_like
        return lmsys_like(rng, n, rate=rate * scale, memory=memory), 0
    from kvtheory.studies.a100 import lmsys_trace
    return lmsys_trace(rng, n, rate=rate * scale, memory=memory - _extra(engine)), 0


def _figures(requests, policy: str, engine: str, memory: int, seed: int, *,
             threshold: int = COLUMNS_THRESHOLD) -> dict:
    """The figures ``simulate --format json`` prints for one policy (same functions).

    Above ``threshold`` requests with a compiled policy: the same figures from bare columns
    (:mod:`kvtheory.studies.sweep_columns`, no checker).
    """
    from kvtheory.engines import serving_metrics as sm
    from kvtheory.model.checker import check_schedule
    from kvtheory.studies import sweep_columns as cols
    if uses_columns(policy, engine, requests.n, threshold):
        if engine == "paper":
            pred = requests.output if requests.prediction is None else requests.prediction
            return cols.paper_figures(requests.prompt, requests.output, requests.arrival_time,
                                      pred, memory, policy, seed)
        fig = cols.round_figures(requests.arrival, requests.prompt, requests.output,
                                 requests.prediction, requests.memory, policy)
        if fig is not None:
            return fig
        if isinstance(requests, _Columns):        # the full path raises or reports exactly
            from kvtheory.model.instance import Instance
            requests = Instance.from_arrays(requests.arrival, requests.prompt, requests.output,
                                            requests.memory)
    if engine == "round":
        from kvtheory.engines.simulator import LivelockError, simulate
        try:
            sched = simulate(requests, POLICIES[policy], name=policy)
        except LivelockError:
            return {"policy": policy, "n": requests.n, "status": "livelock"}
        check_schedule(requests, sched)
        return {**sched.summary(), "status": "ok",
                **sm.serving_figures(sm.requests_round(sched), unit="round")}
    if engine == "timed":
        from kvtheory.studies.a100 import run_timed
        fig, _, res = run_timed(requests, policy, memory=memory, prediction=requests.prediction,
                                with_schedule=True)
        fig.pop("energy_kj_by_power", None)
        kj = fig.pop("energy_kj", None)
        if res is not None:
            fig.update(sm.serving_figures(sm.requests_timed(res)))
        return {**fig, "energy_j": None if kj is None else 1e3 * kj}
    from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
    run = simulate_paper(requests.prompt, requests.output, requests.arrival_time,
                         memory=memory, policy=policy, prediction=requests.prediction,
                         rng=np.random.default_rng(seed))
    check_paper_run(run)
    fig = run.summary()
    if fig["status"] == "ok":
        fig.update(sm.serving_figures(sm.requests_paper(run)))
    return fig


def run_sweep_cell(*, policy: str, memory: int, scale: float, seed: int, source: str,
                   engine: str = "round", head: int | None = None,
                   round_seconds: float | None = None, oversized: str = "error",
                   n: int | None = None, rate: float | None = None,
                   fingerprint: str | None = None,
                   columns_above: int = COLUMNS_THRESHOLD) -> dict:
    """One cell of a sweep: its parameters and the serving figures of ``simulate``.

    Examples
    --------
    >>> row = run_sweep_cell(policy="mc-sf", memory=2000, scale=2.0, seed=0, source="lmsys",
    ...                      n=200, rate=5.0)
    >>> row["source"], row["scale"], row["policy"], row["engine"], row["status"], row["n"]
    ('lmsys', 2.0, 'mc-sf', 'round', 'ok', 200)
    >>> row["p99_latency"] >= row["p50_latency"] > 0
    True

    Parameters
    ----------
    policy, memory, scale, seed, source, engine, head, round_seconds, oversized, n, rate
        One cell of :func:`sweep_cells` (``source``: a trace file or ``"lmsys"``).
    fingerprint : str, optional
        The trace file's :func:`file_fingerprint` when the cell was made; a file changed since is
        an error (its cached results belong to the old content).
    columns_above : int
        A cell with more requests than this and a compiled policy computes its figures from
        bare columns (:mod:`kvtheory.studies.sweep_columns`: the same keys and values, no
        checker); the default keeps every cell up to 200,000 requests on the full path.

    Returns
    -------
    dict
        ``source``, ``scale``, ``seed``, ``head``, then the keys of ``simulate --format json``
        (:data:`~kvtheory.engines.serving_metrics.COMMON_KEYS` first, null where absent;
        latency in rounds for the round engine, in seconds for the others).
    """
    if fingerprint is not None and file_fingerprint(source) != fingerprint:
        raise ValueError(f"{source} changed since the sweep's cells were made")
    if source in WORKLOADS:
        requests, dropped = _workload_cell(
            memory=memory, scale=scale, seed=seed, engine=engine, n=n, rate=rate,
            columns=uses_columns(policy, engine, 10_000 if n is None else n, columns_above))
    else:
        requests, dropped = _trace_cell(source, memory=memory, scale=scale, engine=engine,
                                        head=head, round_seconds=round_seconds,
                                        oversized=oversized)
    fig = _figures(requests, policy, engine, memory, seed, threshold=columns_above)
    row = {"source": source, "scale": float(scale), "seed": int(seed), "head": head}
    row.update({k: fig.get(k) for k in COMMON_KEYS})
    row.update(engine=engine, memory=int(memory), dropped=dropped)
    row.update({k: v for k, v in fig.items() if k not in row})
    return to_jsonable(row)


def sweep(cells: Sequence[dict], *, workers: int | None = 1, dask=None,
          progress: bool | None = None, cache: bool = True) -> pd.DataFrame:
    """Every cell's row (:func:`run_sweep_cell`), through :func:`~kvtheory.model.cells.run_cells`.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> df = sweep(sweep_cells("mc-sf,vllm", memory=[2000], scales=[1, 4], workload="lmsys",
    ...                        n=200, rate=5))
    >>> df[["policy", "scale", "n"]].values.tolist()
    [['mc-sf', 1.0, 200], ['mc-sf', 4.0, 200], ['vllm', 1.0, 200], ['vllm', 4.0, 200]]
    >>> del os.environ["KVTHEORY_CACHE"]

    Parameters
    ----------
    cells : sequence of dict
        From :func:`sweep_cells`.
    workers : int or None
        Local processes (1: this process).
    dask : str or distributed.Client, optional
        Run the cells on this dask scheduler instead.
    progress : bool or None
        A progress bar of cells (default: when stderr is a terminal).
    cache : bool
        Load and store each cell's row under ``$KVTHEORY_CACHE``.

    Returns
    -------
    pandas.DataFrame
        One row per cell, in the cells' order.
    """
    run = run_cells(run_sweep_cell, cells, workers=workers, dask=dask, progress=progress,
                    cache=cache, desc="sweep")
    return pd.DataFrame(run.values)


def write_rows(df: pd.DataFrame, path) -> Path:
    """Write ``df`` to ``path``: Parquet (``.parquet``, ``.pq``) or CSV (``.csv``).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_rows(pd.DataFrame({"a": [1, None]}), os.path.join(tempfile.mkdtemp(), "x.csv"))
    >>> pd.read_csv(p)["a"].tolist()
    [1.0, nan]
    >>> write_rows(pd.DataFrame(), "x.txt")
    Traceback (most recent call last):
    ...
    ValueError: --out must end in .parquet, .pq or .csv, got x.txt
    """
    path = Path(path)
    if out_suffix(path) == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


def out_suffix(path) -> str:
    """The suffix of an ``--out`` file: ``.csv``, ``.parquet`` or ``.pq``; else a ValueError."""
    suffix = Path(path).suffix
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"--out must end in .parquet, .pq or .csv, got {path}")
    return suffix


# ===================================================================== command line
class OneLineParser(argparse.ArgumentParser):
    """Argument parser whose usage errors raise ``ValueError``: ``python -m kvtheory`` prints
    them as one line and exits 2, like every other error."""

    def error(self, message):
        raise ValueError(f"{message} (see {self.prog} --help)")


def add_source_args(ap) -> None:
    """The options shared by ``sweep`` and ``capacity``: requests, engine, execution, output."""
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--trace", nargs="+", metavar="FILE", default=[],
                     help="trace files (every format of simulate --trace)")
    src.add_argument("--workload", choices=WORKLOADS, default=None,
                     help="generated workload: lmsys (LMSYS-like lengths, Poisson arrivals)")
    ap.add_argument("--n", type=int, help="requests of the workload (default 10000)")
    ap.add_argument("--rate", type=float, help="arrival rate of the workload at scale 1 "
                    "(default 50; per second, per round in the round engine)")
    ap.add_argument("--head", type=int, help="only the first N requests of each trace")
    ap.add_argument("--policy", action="append", default=None,
                    help="policy names, comma-separated and/or repeated (default mc-sf)")
    ap.add_argument("--engine", choices=ENGINES, default="round",
                    help="round model (default), the A100-timed engine, the paper's engine")
    ap.add_argument("--round-seconds", type=float, default=None,
                    help="seconds per round: a trace in seconds in the round engine, a trace "
                         "in rounds in the others")
    ap.add_argument("--oversized", choices=["error", "drop"], default="error",
                    help="requests that can never fit in M: stop (default) or drop them")
    seeds = ap.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, default=None, help="seeds 0..k-1 (default 1)")
    seeds.add_argument("--seed", type=int, default=None, help="one seed")
    ap.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    ap.add_argument("--dask", metavar="ADDRESS", default=None,
                    help="run the cells on an existing dask.distributed scheduler (bind it to "
                         "127.0.0.1 or secure it with TLS: it runs what it is sent)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--format", choices=["table", "json"], default="table",
                    help="output: a text table (default) or a JSON array")


def source_kwargs(args) -> dict:
    """The :func:`sweep_cells` keywords of the options of :func:`add_source_args`."""
    if not args.trace and args.workload is None:
        raise ValueError("give --trace FILE [FILE ...] or --workload lmsys")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    seeds = [args.seed] if args.seed is not None else (1 if args.seeds is None else args.seeds)
    return dict(policies=args.policy or ["mc-sf"], seeds=seeds, traces=args.trace,
                workload=args.workload, n=args.n, rate=args.rate, engine=args.engine,
                head=args.head, round_seconds=args.round_seconds, oversized=args.oversized)


def print_rows(rows: list[dict], fmt: str, columns: Sequence[str]) -> None:
    """Print ``rows`` as a JSON array or as a table of ``columns`` (those present)."""
    rows = to_jsonable(rows)
    if fmt == "json":
        print(json.dumps(rows, indent=1))
    else:
        present = [c for c in columns if any(r.get(c) is not None for r in rows)]
        print(format_table(rows, present))


#: Columns of ``sweep``'s table (the JSON and ``--out`` hold every key).
TABLE_COLUMNS = ("source", "policy", "memory", "scale", "seed", "status", "n", "dropped",
                 "average_latency", "p99_latency", "p99_ttft", "avg_tpot", "throughput_tok",
                 "avg_latency_s", "p99_latency_s", "p99_ttft_s", "avg_tpot_s",
                 "throughput_tok_s", "evictions")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kvtheory sweep``: one row of serving figures per cell of a grid.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> main(["--workload", "lmsys", "--n", "100", "--rate", "5", "--memory", "2000",
    ...       "--scale", "1", "2", "--no-progress"])     # doctest: +ELLIPSIS
    source  policy  memory  scale  seed  status    n  dropped  average_latency  p99_latency ...
     lmsys   mc-sf    2000  1.000     0      ok  100        0 ...
     lmsys   mc-sf    2000  2.000     0      ok  100        0 ...
    0
    >>> del os.environ["KVTHEORY_CACHE"]
    """
    ap = OneLineParser(prog="python -m kvtheory sweep",
                       description="policies x memory x load scale x seeds x traces: one row "
                                   "of serving figures per cell (the figures of simulate "
                                   "--format json), cached and resumable")
    add_source_args(ap)
    ap.add_argument("--memory", type=int, nargs="+", default=[PAPER_KV_CAPACITY],
                    help=f"KV capacities M in tokens (default {PAPER_KV_CAPACITY})")
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0],
                    help="load scales: arrival times divided by each (2 = twice the load)")
    ap.add_argument("--out", metavar="FILE", default=None,
                    help="write every row: FILE.parquet (or .pq) or FILE.csv")
    args = ap.parse_args(argv)
    cells = sweep_cells(memory=args.memory, scales=args.scale, **source_kwargs(args))
    if args.out:
        out_suffix(args.out)                           # a bad name fails before the run
    df = sweep(cells, workers=args.workers, dask=args.dask,
               progress=False if args.no_progress else None)
    if args.out:
        write_rows(df, args.out)
    print_rows(df.to_dict("records"), args.format, TABLE_COLUMNS)
    return 0
