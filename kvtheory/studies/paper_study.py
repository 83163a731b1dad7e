"""The paper's real-data study under two engines: the paper's own setup and our A100 calibration.

The paper's runs (its published code) take the first ``1000 k`` rows of a 10,000-conversation
LMSYS-Chat-1M sample, ``k = 1..10``, at 50 and 10 requests per second.  This module runs the same
grid on LMSYS-like traces (:func:`kvtheory.studies.a100.lmsys_trace`, one 10,000-row trace per rate from
one seed; with one seed both rates share their lengths and their arrival draws, scaled) under

* ``"paper"`` -- :func:`kvtheory.engines.paper.engine.simulate_paper` with the paper's linear batch time
  and its policies as coded (:data:`kvtheory.engines.paper.engine.PAPER_POLICIES`);
* ``"calibrated"`` -- :func:`kvtheory.studies.a100.run_timed`: our round engine in continuous time with
  the batch time fitted to Vidur's A100 profiles and our policies (:data:`kvtheory.POLICIES`).

Both account energy with the same power model (:data:`kvtheory.hardware.calibration.DEFAULT_POWER`, two
GPUs).  Every run is checked (:func:`kvtheory.engines.paper.engine.check_paper_run`,
:func:`kvtheory.check_schedule`).  ``python -m kvtheory paper-setup`` runs the full grid.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kvtheory.model.cells import run_cells
from kvtheory.model.validation import as_int
from kvtheory.studies.a100 import ERRORS, RATES, batch_timer, lmsys_trace, noisy_predictions, run_timed
from kvtheory.hardware.calibration import DEFAULT_POWER, PAPER_KV_CAPACITY
from kvtheory.engines.paper.engine import PAPER_POLICIES, check_paper_run, simulate_paper
from kvtheory.engines.policies import POLICIES
from kvtheory.model.traces import Trace

__all__ = [
    "ENGINES",
    "KS",
    "PAPER_FIGURES",
    "TRACE_ROWS",
    "StudyTask",
    "energy_table",
    "latency_study",
    "latency_table",
    "main",
    "prediction_study",
    "prediction_table",
    "reduction_grid",
    "reduction_table",
    "run_task",
    "study_trace",
]

ENGINES = ("paper", "calibrated")
KS = tuple(range(1, 11))
TRACE_ROWS = 10_000
#: The paper's one reported pair (second-hand): MC-SF 32.11 vs MC-Benchmark 46.47 (seconds,
#: most likely), a 30.9 % reduction; rate and n not stated.
PAPER_FIGURES = {"mc-sf": 32.11, "mc-benchmark": 46.47, "reduction": 1 - 32.11 / 46.47}
_MC = ("mc-sf", "mc-benchmark")


@lru_cache(maxsize=8)
def study_trace(seed: int, rate: float, n: int = TRACE_ROWS,
                memory: int = PAPER_KV_CAPACITY) -> Trace:
    """The 10,000-row LMSYS-like trace of one rate: ``lmsys_trace(default_rng(seed), n, rate)``.

    Examples
    --------
    >>> tr = study_trace(0, 50.0, 100)
    >>> tr.n, float(tr.arrival_time[0])
    (100, 0.0)
    >>> bool((study_trace(0, 10.0, 100).prompt == tr.prompt).all())   # same lengths per seed
    True
    """
    return lmsys_trace(np.random.default_rng(seed), n, rate=rate, memory=memory)


def _head(tr: Trace, m: int) -> Trace:
    return Trace(tr.arrival_time[:m], tr.prompt[:m], tr.output[:m], tr.name)


@dataclass(frozen=True)
class StudyTask:
    """One run of the grid: engine, rate, the first ``1000 k`` rows, policy, prediction error."""

    engine: str
    rate: float
    k: int
    policy: str
    seed: int
    error: float | None = None
    reserve: float = 0.0
    memory: int = PAPER_KV_CAPACITY


def _stream(task: StudyTask, purpose: int) -> np.random.Generator:
    # one independent stream per (seed, rate, k, error, purpose), shared by every policy
    err = -1 if task.error is None else round(task.error * 1000)
    return np.random.default_rng([task.seed, round(task.rate * 1000), task.k, err + 1,
                                  purpose])


def run_task(task: StudyTask) -> dict:
    """Run and check one task; return a tidy row (the executor's unit of work).

    Examples
    --------
    >>> row = run_task(StudyTask("paper", 10.0, 1, "mc-sf", seed=0))
    >>> row["engine"], row["n"], row["status"], row["evictions"]
    ('paper', 1000, 'ok', 0)
    """
    full = study_trace(task.seed, task.rate, TRACE_ROWS, task.memory)
    tr = _head(full, 1000 * task.k)
    pred = None
    if task.error is not None:
        pred = noisy_predictions(_stream(task, 1), tr.prompt, tr.output, task.memory, task.error)
    row = {"engine": task.engine, "rate": task.rate, "k": task.k, "n": tr.n,
           "policy": task.policy, "error": task.error, "reserve": task.reserve}
    t0 = time.perf_counter()
    if task.engine == "paper":
        run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=task.memory,
                             policy=task.policy, prediction=pred, rng=_stream(task, 2),
                             reserve=task.reserve, power=DEFAULT_POWER, n_gpus=2)
        check_paper_run(run)
        sm = run.summary()
        row.update({k: sm[k] for k in ("avg_latency_s", "p95_latency_s", "makespan_s",
                                       "evictions", "energy_j", "status")})
        row["batches"] = sm["batches"]
    elif task.engine == "calibrated":
        res, _ = run_timed(tr, task.policy, memory=task.memory, timer=batch_timer(full.prompt),
                           prediction=pred, reserve=task.reserve,
                           power_models={"default": DEFAULT_POWER}, n_gpus=2)
        ok = res["status"] == "ok"
        row.update(avg_latency_s=res.get("avg_latency_s"), p95_latency_s=res.get("p95_latency_s"),
                   makespan_s=res.get("makespan_s"), evictions=res.get("evictions"),
                   energy_j=res["energy_kj"] * 1e3 if ok else None, status=res["status"],
                   batches=res.get("rounds"))
    else:
        raise ValueError(f"engine must be one of {ENGINES}, got {task.engine!r}")
    if row["status"] == "ok":
        row["energy_per_request_j"] = row["energy_j"] / tr.n
    else:                                    # an unfinished run has no comparable energy
        row["energy_j"] = row["energy_per_request_j"] = None
    row["sim_seconds"] = time.perf_counter() - t0
    return row


def _policies(engine: str, policies):
    if policies is not None:
        return tuple(policies)
    return PAPER_POLICIES if engine == "paper" else tuple(POLICIES)


def _run(tasks: list, executor, progress, workers: int = 1, dask=None, cache: bool = False):
    """The tasks' rows through the one executor (:func:`kvtheory.model.cells.run_cells`)."""
    import pandas as pd
    # slowest first (large k, high rate) so a pool finishes together; rows come back in order
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].k, -tasks[i].rate))
    run = run_cells(run_task, [{"task": tasks[i]} for i in order], workers=workers, dask=dask,
                    executor=executor, cache=cache, progress=progress, desc="runs")
    out = dict(zip(order, run.values))
    return pd.DataFrame([out[i] for i in range(len(tasks))])


def latency_study(rng_seed: int = 0, ks: Sequence[int] = KS, rates: Sequence[float] = RATES,
                  engines: Sequence[str] = ENGINES, policies: Sequence[str] | None = None,
                  executor=None, progress: bool = False, workers: int = 1, dask=None,
                  cache: bool = False):
    """Average latency, makespan, evictions and energy for every (engine, rate, k, policy).

    ``policies=None`` runs each engine's own registry (the paper engine's nine, our nine).
    The runs are cells of the one executor, :func:`kvtheory.model.cells.run_cells`: serial in
    this process by default, on ``workers`` local processes, on a dask scheduler (``dask``) or
    on any ``concurrent.futures`` ``executor``; ``cache=True`` stores each run on disk (an
    interrupted study resumes).

    Examples
    --------
    >>> df = latency_study(0, ks=(1,), rates=(10.0,), engines=("paper",),
    ...                    policies=("mc-sf", "mc-benchmark"))
    >>> df[["engine", "k", "n", "policy", "status"]].values.tolist()
    [['paper', 1, 1000, 'mc-sf', 'ok'], ['paper', 1, 1000, 'mc-benchmark', 'ok']]

    Returns
    -------
    pandas.DataFrame
        Columns ``engine, rate, k, n, policy, error, reserve, avg_latency_s, p95_latency_s,
        makespan_s, evictions, energy_j, status, batches, energy_per_request_j, sim_seconds``.
    """
    seed = as_int(rng_seed, name="rng_seed", minimum=0)
    tasks = [StudyTask(e, float(r), as_int(k, name="k", minimum=1), p, seed)
             for e in engines for r in rates for k in ks for p in _policies(e, policies)]
    return _run(tasks, executor, progress, workers, dask, cache)


def prediction_study(rng_seed: int = 0, k: int = 10, rates: Sequence[float] = RATES,
                     engines: Sequence[str] = ENGINES, errors: Sequence[float] = (0.0, *ERRORS),
                     reserve: float = 0.1, policies: Sequence[str] = _MC, executor=None,
                     progress: bool = False, workers: int = 1, dask=None, cache: bool = False):
    """MC-SF and MC-Benchmark with noisy predictions and a memory reserve, under both engines.

    Predictions are :func:`kvtheory.studies.a100.noisy_predictions` (multiplicative uniform errors,
    our noise model); one draw per (rate, error) is shared by the policies and the engines.
    Error 0 isolates the effect of the reserve.  The runs go through the one executor as in
    :func:`latency_study` (``executor``, ``workers``, ``dask``, ``cache``).

    Examples
    --------
    >>> df = prediction_study(0, k=1, rates=(10.0,), engines=("paper",), errors=(0.5,))
    >>> df[["policy", "error", "reserve", "status"]].values.tolist()
    [['mc-sf', 0.5, 0.1, 'ok'], ['mc-benchmark', 0.5, 0.1, 'ok']]
    """
    seed = as_int(rng_seed, name="rng_seed", minimum=0)
    tasks = [StudyTask(e, float(r), as_int(k, name="k", minimum=1), p, seed, float(err),
                       float(reserve))
             for e in engines for r in rates for err in errors for p in policies]
    return _run(tasks, executor, progress, workers, dask, cache)


def reduction_table(df):
    """MC-SF's latency reduction against MC-Benchmark, ``1 - MC-SF / MC-Benchmark``, per
    engine, rate and k (and error, when present).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"engine": ["paper"] * 2, "rate": [50.0] * 2, "k": [1, 1],
    ...                    "policy": ["mc-sf", "mc-benchmark"], "avg_latency_s": [32.11, 46.47],
    ...                    "status": ["ok", "ok"]})
    >>> round(float(reduction_table(df)["reduction"].iloc[0]), 4)
    0.309
    """
    import pandas as pd
    keys = [c for c in ("engine", "rate", "k", "error") if c in df.columns]
    ok = df[(df["status"] == "ok") & df["policy"].isin(_MC)]
    wide = ok.pivot_table(index=keys, columns="policy", values="avg_latency_s",
                          dropna=False).reset_index()
    for p in _MC:
        if p not in wide.columns:
            wide[p] = np.nan
    wide = wide[wide[list(_MC)].notna().any(axis=1)]          # combinations never run
    wide["reduction"] = 1 - wide["mc-sf"] / wide["mc-benchmark"]
    return pd.DataFrame(wide[keys + list(_MC) + ["reduction"]]).rename_axis(None, axis=1)


def reduction_grid(df):
    """:func:`reduction_table` reshaped: rows ``k``, columns (engine, rate), values in %."""
    red = reduction_table(df)
    return (100 * red.pivot_table(index="k", columns=["engine", "rate"], values="reduction",
                                  sort=False)).round(1)


def latency_table(df, k: int | None = None):
    """Average latency (s) with engines side by side: rows (rate, policy), columns engine.

    Livelocked runs show as missing values.
    """
    sub = df if k is None else df[df["k"] == k]
    idx = ["rate", "policy"] if k is not None else ["rate", "k", "policy"]
    return sub.pivot_table(index=idx, columns="engine", values="avg_latency_s",
                           dropna=False, sort=False).round(2)


def energy_table(df, k: int = 10):
    """Energy (kJ) and joules per request at one ``k``, engines side by side."""
    sub = df[df["k"] == k].copy()
    sub["energy_kj"] = sub["energy_j"] / 1e3
    return sub.pivot_table(index=["rate", "policy"], columns="engine",
                           values=["energy_kj", "energy_per_request_j"], sort=False).round(1)


def prediction_table(df):
    """Average latency (s) by engine, rate and error, MC-SF's reduction and both evictions."""
    red = reduction_table(df)
    keys = [c for c in ("engine", "rate", "k", "error") if c in red.columns]
    ev = df.pivot_table(index=keys, columns="policy", values="evictions").reset_index()
    ev = ev.rename(columns={p: f"evictions {p}" for p in _MC})
    cols = keys + [f"evictions {p}" for p in _MC if f"evictions {p}" in ev.columns]
    return red.merge(ev[cols], on=keys, how="left").round(3)


# ===================================================================== figures


def main(argv: Sequence[str] | None = None):
    """``kvtheory paper-setup``: the full grid, tables and timings on stdout.

    The runs are cells of the one executor: ``--workers N`` local processes (default 2) or
    ``--dask ADDRESS``, each stored on disk (``--no-cache`` recomputes), a progress bar
    (``--no-progress``).
    """
    import pandas as pd
    ap = argparse.ArgumentParser(prog="kvtheory paper-setup",
                                 description="The paper's study under both engines.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ks", type=int, nargs="+", default=list(KS))
    ap.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--workers", type=int, default=2, help="local processes (default 2)")
    ap.add_argument("--dask", metavar="ADDRESS", default=None,
                    help="run on an existing dask.distributed scheduler (bind it to 127.0.0.1 "
                         "or secure it with TLS: it runs what it is sent)")
    ap.add_argument("--no-cache", action="store_true",
                    help="recompute every run (default: runs stored on disk are loaded)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--no-errors", action="store_true", help="skip the prediction-error study")
    args = ap.parse_args(argv)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    pd.set_option("display.width", 160)
    run = dict(workers=args.workers, dask=args.dask, cache=not args.no_cache,
               progress=False if args.no_progress else None)
    where = f"dask {args.dask}" if args.dask else f"{args.workers} workers"
    for eng in args.engines:
        t0 = time.perf_counter()
        df = latency_study(args.seed, args.ks, args.rates, (eng,), **run)
        print(f"\n== {eng} engine: {len(df)} runs in {time.perf_counter() - t0:.1f} s "
              f"wall ({where}), seed {args.seed}")
        print(latency_table(df).unstack("policy").to_string())
        print(reduction_table(df).round(3).to_string(index=False))
        print(energy_table(df, max(args.ks)).to_string())
    if not args.no_errors:
        t0 = time.perf_counter()
        err = prediction_study(args.seed, max(args.ks), args.rates, args.engines, **run)
        print(f"\n== prediction errors (reserve 0.1, k = {max(args.ks)}): "
              f"{time.perf_counter() - t0:.1f} s")
        print(prediction_table(err).to_string(index=False))
