"""How the engines' cost grows with the trace: timed runs, fitted exponents, a figure.

:func:`scaling_run` times one engine and one policy on ``n`` LMSYS-like requests (the round
engine on :func:`kvtheory.model.workloads.lmsys_like`, the A100-calibrated timed engine and the
paper's engine on :func:`kvtheory.studies.a100.lmsys_trace`), checks the schedule and returns a tidy
row; :func:`fit_exponent` fits ``seconds ~ c n^k`` by least squares in log-log;
:func:`plot_scaling` draws the rows.  ``benchmarks/bench_scaling.py`` runs the full sizes, one
process per run so that peak memory is that run's.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Sequence

import numpy as np

from kvtheory.model.validation import as_int, check_generator

__all__ = ["ENGINES", "scaling_run", "fit_exponent", "exponent_table"]

#: Engines :func:`scaling_run` knows; rates are per round for "round", per second otherwise.
ENGINES = ("round", "timed", "paper")


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)


def scaling_run(engine: str, policy: str, n: int, rate: float, *, seed: int = 0,
                memory: int = 16_492, check: bool = True) -> dict:
    """Time one engine and one registered policy on ``n`` LMSYS-like requests.

    Examples
    --------
    >>> row = scaling_run("round", "mc-sf", 2_000, rate=50.0)
    >>> row["n"], row["status"], row["rounds"] > 2_000, row["sim_seconds"] > 0
    (2000, 'ok', True, True)

    Parameters
    ----------
    engine : {"round", "timed", "paper"}
    policy : str
        A key of :data:`kvtheory.POLICIES` (the paper engine: its own policy names).
    n : int
    rate : float
        Poisson arrival rate: requests per round (round engine) or per second.
    seed : int
        Seed of ``numpy.random.default_rng`` for the workload.
    memory : int
        KV capacity ``M`` in tokens.
    check : bool
        Pass the schedule through the checker (timed separately, in ``check_seconds``).

    Returns
    -------
    dict
        ``engine, policy, n, rate, seed, status, build_seconds, sim_seconds`` (wall clock),
        ``sim_cpu_seconds`` (CPU time of the process: robust to other load on the machine),
        ``check_seconds, rounds, avg_latency``, ``peak_rss_sim_mb`` (peak resident memory up to
        the end of the simulation) and ``peak_rss_mb`` (after the check as well).
    """
    from kvtheory.model.checker import check_schedule
    from kvtheory.engines.policies import POLICIES

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    n = as_int(n, name="n", minimum=1)
    rng = check_generator(np.random.default_rng(seed))
    row = {"engine": engine, "policy": policy, "n": n, "rate": float(rate), "seed": seed}
    t0 = time.perf_counter()
    if engine == "round":
        from kvtheory.engines.simulator import simulate
        from kvtheory.model.workloads import lmsys_like
        inst = lmsys_like(rng, n, rate=rate, memory=memory)
        t1, c1 = time.perf_counter(), time.process_time()
        sched = simulate(inst, POLICIES[policy], name=policy)
        t2, c2, rss = time.perf_counter(), time.process_time(), _peak_rss_mb()
        if check:
            check_schedule(inst, sched)
        rounds, latency = sched.makespan, sched.average_latency
    else:
        from kvtheory.studies.a100 import batch_timer, lmsys_trace
        tr = lmsys_trace(rng, n, rate=rate, memory=memory)
        t1, c1 = time.perf_counter(), time.process_time()
        if engine == "timed":
            from kvtheory.engines.simulator import simulate_timed
            res = simulate_timed(tr.prompt, tr.output, tr.arrival_time, memory,
                                 POLICIES[policy], batch_timer(tr.prompt), name=policy)
            t2, c2, rss = time.perf_counter(), time.process_time(), _peak_rss_mb()
            if check:
                check_schedule(res.schedule.instance, res.schedule)
            rounds, latency = res.schedule.makespan, float(res.latency.mean())
        else:
            from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
            run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=memory,
                                 policy=policy, rng=np.random.default_rng(seed + 1))
            t2, c2, rss = time.perf_counter(), time.process_time(), _peak_rss_mb()
            if check:
                check_paper_run(run)
            sm = run.summary()
            rounds, latency = sm["batches"], sm["avg_latency_s"]
    t3 = time.perf_counter()
    row.update(status="ok", build_seconds=t1 - t0, sim_seconds=t2 - t1,
               sim_cpu_seconds=c2 - c1,
               check_seconds=(t3 - t2) if check else None, rounds=int(rounds),
               avg_latency=float(latency), peak_rss_sim_mb=rss, peak_rss_mb=_peak_rss_mb())
    return row


def fit_exponent(n: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope ``k`` of ``log(seconds)`` against ``log(n)``.

    Examples
    --------
    >>> fit_exponent([1e4, 1e5, 1e6], [1.0, 10.0, 100.0])
    1.0
    >>> round(fit_exponent([1, 2, 4], [1, 4, 16]), 6)
    2.0
    """
    x, y = np.log(np.asarray(n, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(f"need at least two distinct n to fit an exponent, got {list(n)}")
    return round(float(np.polyfit(x, y, 1)[0]), 12)


def exponent_table(rows: Sequence[dict], time: str = "sim_cpu_seconds"):
    """One row per (engine, policy, rate): sizes, largest run and fitted exponent (a DataFrame).

    ``time`` is the column fitted: CPU seconds by default (wall seconds, ``"sim_seconds"``,
    also count the time other processes took the core; they are shown beside it, with the
    load average measured before the largest run, when the rows have them).

    Examples
    --------
    >>> rows = [{"engine": "round", "policy": "mc-sf", "rate": 5.0, "n": n,
    ...          "sim_cpu_seconds": s, "peak_rss_mb": 100.0} for n, s in [(10, 1.0), (100, 10.0)]]
    >>> exponent_table(rows)["exponent"].tolist()
    [1.0]
    """
    import pandas as pd
    df = pd.DataFrame([r for r in rows if r.get("status", "ok") == "ok"])
    out = []
    for (eng, pol, rate), g in df.groupby(["engine", "policy", "rate"], sort=False):
        g = g.sort_values("n")
        out.append({"engine": eng, "policy": pol, "rate": rate, "sizes": len(g),
                    "largest n": int(g["n"].iloc[-1]),
                    "seconds at largest": round(float(g[time].iloc[-1]), 2),
                    "peak RSS MB": round(float(g["peak_rss_mb"].max())),
                    "exponent": (round(fit_exponent(g["n"], g[time]), 2)
                                 if g["n"].nunique() > 1 else float("nan"))})
        if "load_before" in g:
            out[-1]["load (1 min)"] = float(g["load_before"].iloc[-1])
        if time != "sim_seconds" and "sim_seconds" in g:
            out[-1]["wall seconds at largest"] = round(float(g["sim_seconds"].iloc[-1]), 2)
    return pd.DataFrame(out)

