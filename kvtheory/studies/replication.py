"""Replication of the paper's synthetic study (v4/v5, second-hand).

200 trials per arrival model (:func:`kvtheory.model.workloads.paper_model1` and
:func:`~kvtheory.model.workloads.paper_model2`); in each, MC-SF and the other registered policies run
on the instance and are compared with the hindsight optimum of
:func:`kvtheory.optimum.exact.solve_optimal`.  The paper reports the MC-SF / OPT ratio of average
latency (equal to the ratio of total latency, since both divide by the same ``n``):

* model 1 (all at round 0): mean 1.005, best 1.000, worst 1.074, MC-SF optimal in 114 of 200;
* model 2 (Poisson arrivals): mean 1.047, best 1.000, worst 1.227.

The exact program proves optima only at small sizes.  In every trial the optimum is bracketed:
from above by the best schedule known (the program's, a policy's, or the local search of
:func:`kvtheory.optimum.search.improve_schedule`), from below by the program's bound (when it ran),
:func:`kvtheory.optimum.search.volume_lower_bound` and ``sum(o)``.  The ratio against the best schedule
known (``ratio``) is then a **lower** bound on the true ratio, exact on proven trials, and the
ratio against the lower bound (``ratio_upper``) an **upper** bound.  A trial in which some
schedule beats a policy proves that the policy is not optimal there (``beaten``).

The trials run through :func:`run_trials`, a thin call of the one executor
:func:`kvtheory.model.cells.run_cells` (2 local processes by default, a dask scheduler with
``dask=``, or any :class:`concurrent.futures.Executor` such as a ``dask.distributed`` client's
``get_executor()``), which shows a tqdm progress bar, and derives every trial's seed from one
seed with :meth:`numpy.random.SeedSequence.spawn`, so results do not depend on the executor or
the order of completion.  Full run::

    python -m kvtheory replicate --trials 200 --out replication.csv

(at the paper's size the exact program is skipped by default, ``--time-limit 0``, since it proves
nothing there; the local search supplies the upper side of the bracket).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

from kvtheory.model.cells import run_cells
from kvtheory.model.validation import as_fraction, as_int
from kvtheory.optimum.bounds import peak_lower_bound
from kvtheory.model.checker import check_schedule
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import BASE_POLICIES, POLICIES
from kvtheory.optimum.search import improve_schedule, volume_lower_bound
from kvtheory.engines.simulator import LivelockError, simulate
from kvtheory.model.workloads import paper_model1, paper_model2

__all__ = ["PAPER_FIGURES", "MODELS", "TrialSpec", "trial_specs", "run_trial", "run_trials", "tidy_rows",
           "rerun_policy",
           "schedule_shape",
           "summarize", "paper_comparison", "main"]

#: The paper's figures (second-hand): MC-SF / OPT average-latency ratio over 200 trials.
PAPER_FIGURES = {
    "model1": {"mean": 1.005, "best": 1.000, "worst": 1.074, "optimal": 114, "trials": 200},
    "model2": {"mean": 1.047, "best": 1.000, "worst": 1.227, "optimal": None, "trials": 200},
}
#: The arrival models by name.
MODELS = {"model1": paper_model1, "model2": paper_model2}
#: The lower bounds a trial can use beside the exact program's.
BOUNDS = ("volume", "peak")


@dataclass(frozen=True)
class TrialSpec:
    """Everything one trial needs (picklable, so it can travel to any executor).

    Attributes
    ----------
    model : str
        ``"model1"`` or ``"model2"``.
    trial : int
        Trial index.
    seed : numpy.random.SeedSequence
        The trial's own seed (spawned from the run's seed).
    time_limit : float or None
        Seconds for the exact program's solve (``None``: no limit; ``0``, the default: skip
        the program, which proves nothing at the paper's size; pass a limit at small sizes).
    policies : tuple of str
        Names in :data:`kvtheory.POLICIES` (default: the paper's policies, :data:`kvtheory.engines.policies.BASE_POLICIES`).
    size : dict
        Keyword arguments fixing the model's size (``n`` or ``horizon``, ``memory``); empty for
        the paper's distribution.
    search_evals : int
        Orders tried by the local search for a better schedule (``0``: no search).
    bound : str
        Lower bound used besides the program's: ``"volume"`` (the area bound,
        :func:`kvtheory.optimum.search.volume_lower_bound`) or ``"peak"`` (the relaxation with peak
        rows, :func:`kvtheory.optimum.bounds.peak_lower_bound`, which also includes the area bound).
    bound_time : float
        Seconds for the peak bound's separation rounds (after the first relaxation).
    """

    model: str
    trial: int
    seed: np.random.SeedSequence
    time_limit: float | None = 0.0
    policies: tuple = ("mc-sf",)
    size: tuple = ()
    search_evals: int = 20_000
    bound: str = "volume"
    bound_time: float = 10.0


def trial_specs(model: str, trials: int, seed: int = 0, *, time_limit: float | None = 0.0,
                policies: Sequence[str] | None = None, search_evals: int = 20_000,
                bound: str = "volume", bound_time: float = 10.0, **size) -> list[TrialSpec]:
    """Specs of ``trials`` trials of one model, seeds spawned from ``SeedSequence(seed)``.

    The seed of a model's trial ``k`` is child ``k`` of ``SeedSequence([seed, m])`` with
    ``m = 1, 2`` for models 1 and 2, so adding trials never changes the earlier ones.

    Examples
    --------
    >>> specs = trial_specs("model1", 3, seed=7, n=5, memory=12)
    >>> [s.trial for s in specs], specs[0].size, specs[0].policies[:2]
    ([0, 1, 2], (('memory', 12), ('n', 5)), ('mc-sf', 'mc-benchmark'))
    >>> trial_specs("model3", 1)
    Traceback (most recent call last):
    ...
    ValueError: model must be one of ['model1', 'model2'], got 'model3'
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    if bound not in BOUNDS:
        raise ValueError(f"bound must be one of {list(BOUNDS)}, got {bound!r}")
    bound_time = as_fraction(bound_time, name="bound_time", high=math.inf)
    trials = as_int(trials, name="trials", minimum=0)
    policies = tuple(BASE_POLICIES) if policies is None else tuple(policies)
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown policies {unknown}; known: {sorted(POLICIES)}")
    if "mc-sf" not in policies:
        raise ValueError("policies must include 'mc-sf'")
    if time_limit is not None:
        time_limit = as_fraction(time_limit, name="time_limit", high=math.inf)
    search_evals = as_int(search_evals, name="search_evals", minimum=0)
    root = np.random.SeedSequence([as_int(seed, name="seed", minimum=0), int(model[-1])])
    return [TrialSpec(model, k, ss, time_limit, policies, tuple(sorted(size.items())), search_evals,
                      bound, bound_time)
            for k, ss in enumerate(root.spawn(trials))]


def run_trial(spec: TrialSpec) -> list[dict]:
    """Run one trial: draw the instance, bracket the optimum, run every policy; one row per policy.

    The optimum is bracketed by the exact program (if ``spec.time_limit != 0``), the local
    search of :func:`kvtheory.optimum.search.improve_schedule` (started from the program's schedule or
    MC-SF's, with its own seed: child 1 of the trial's seed) and
    :func:`kvtheory.optimum.search.volume_lower_bound`.  Every schedule (the optimum's and the search's
    included) passes :func:`kvtheory.check_schedule`, and nothing may beat a proven optimum
    (``AssertionError`` otherwise).  ``opt`` is the best total latency known (any valid schedule
    bounds the optimum from above), ``search`` the search's total latency, ``lower_bound`` the
    best proven bound; ``beaten`` says that
    some schedule is better than the policy's, so the policy is provably not optimal there.  A
    policy that livelocks gets ``livelock=True`` and no latency.

    Examples
    --------
    >>> spec = trial_specs("model1", 1, seed=1, time_limit=30, n=5, memory=12, policies=["mc-sf"])[0]
    >>> rows = run_trial(spec)
    >>> r = rows[0]
    >>> r["policy"], r["n"], r["proven"], r["ratio"] >= 1, r["ratio"] <= r["ratio_upper"]
    ('mc-sf', 5, True, True, True)
    >>> r["beaten"] == (r["total_latency"] > r["opt"])
    True
    """
    rng = np.random.default_rng(spec.seed)
    inst = MODELS[spec.model](rng, **dict(spec.size))
    results, warm = {}, None
    for name in spec.policies:
        try:
            sched = simulate(inst, POLICIES[name], name=name)
        except LivelockError:
            results[name] = None
            continue
        check_schedule(inst, sched)
        results[name] = int(sched.total_latency)
        if name == "mc-sf" and not any(r.evictions for r in sched.records):
            warm = sched              # MC-SF's schedule warm-starts the program and the search
    t0 = time.perf_counter()
    if spec.time_limit == 0:
        res = None
        best_sched, lb, proven = warm, 0.0, False
    else:
        res = solve_optimal(inst, time_limit=spec.time_limit, upper_bound=warm)
        check_schedule(inst, res.schedule)
        best_sched, lb, proven = res.schedule, float(res.lower_bound), bool(res.proven_optimal)
        for name, tl in results.items():
            if proven and tl is not None and tl < res.objective:
                raise AssertionError(f"{name} beats the proven optimum on {spec}: "
                                     f"{tl} < {res.objective}")
    solve_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    search_seed = np.random.SeedSequence(spec.seed.entropy, spawn_key=spec.seed.spawn_key + (1,))
    searched = None
    if spec.search_evals or best_sched is None:
        found = improve_schedule(inst, np.random.default_rng(search_seed), start=best_sched,
                                 evaluations=spec.search_evals)
        if proven and found.total_latency < res.objective:
            raise AssertionError(f"the search beats the proven optimum on {spec}: "
                                 f"{found.total_latency} < {res.objective}")
        searched = int(found.total_latency)
        if best_sched is None or found.total_latency < best_sched.total_latency:
            best_sched = found.schedule
    search_seconds = time.perf_counter() - t1
    volume = int(volume_lower_bound(inst))
    lb = max(lb, float(volume), float(inst.output.sum()))
    t2 = time.perf_counter()
    peak_value = None
    if spec.bound == "peak" and not proven:
        peak = peak_lower_bound(inst, best_sched, time_limit=spec.bound_time, rounds=1000)
        peak_value = int(peak.bound)
        lb = max(lb, float(peak.bound))
        if peak.proven_optimal:                 # the bound meets the best schedule known
            proven = True
    bound_seconds = time.perf_counter() - t2
    # any valid schedule bounds OPT from above: the best known is the solver's, the search's
    # or a policy's
    best = min([int(best_sched.total_latency)] + [v for v in results.values() if v is not None])
    if not proven and lb > best:           # a valid bound never exceeds a feasible schedule
        raise AssertionError(f"lower bound {lb} exceeds a feasible schedule's {best} on {spec}")
    lb = float(best) if proven else lb
    rows = []
    for name, tl in results.items():
        base = {"model": spec.model, "trial": spec.trial, "n": inst.n, "M": inst.memory,
                "policy": name, "opt": best, "lower_bound": lb, "proven": proven,
                "volume_bound": volume, "peak_bound": peak_value,
                "search": searched,
                "solve_seconds": round(solve_seconds, 3),
                "search_seconds": round(search_seconds, 3),
                "bound_seconds": round(bound_seconds, 3)}
        if tl is None:
            rows.append({**base, "total_latency": None, "ratio": None, "ratio_upper": None,
                         "optimal": None, "beaten": None, "livelock": True})
            continue
        rows.append({**base, "total_latency": tl, "ratio": tl / best if best else 1.0,
                     "ratio_upper": tl / lb if lb else 1.0,
                     "optimal": bool(proven and tl == best), "beaten": bool(tl > best),
                     "livelock": False})
    return rows


def run_trials(specs: Iterable[TrialSpec], executor: cf.Executor | None = None, *,
               max_workers: int = 2, progress: bool = True, dask=None,
               cache: bool = False) -> list[dict]:
    """Run trials on the one executor; tidy rows sorted by (model, trial, policy order).

    A thin call of :func:`kvtheory.model.cells.run_cells` (one cell per trial).  ``executor``
    is any :class:`concurrent.futures.Executor` (``submit`` returning
    :class:`concurrent.futures.Future`), e.g. a ``ProcessPoolExecutor``, a
    ``ThreadPoolExecutor`` or ``distributed.Client(...).get_executor()``; ``dask`` a scheduler
    address or client.  Without either, ``max_workers`` local processes run them (a pool that
    breaks because a process died is replaced).  Results are independent of the executor: each
    trial's randomness comes from its own spawned seed.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> specs = trial_specs("model2", 2, seed=3, horizon=3, memory=12, policies=["mc-sf"])
    >>> with ThreadPoolExecutor(2) as ex:
    ...     rows = run_trials(specs, ex, progress=False)
    >>> [r["trial"] for r in rows], all(r["ratio"] >= 1 for r in rows)
    ([0, 1], True)

    Parameters
    ----------
    specs : iterable of TrialSpec
    executor : concurrent.futures.Executor, optional
        The caller's executor (not shut down here).
    max_workers : int
        Local processes when neither ``executor`` nor ``dask`` is given.
    progress : bool
        A progress bar of trials (stderr).
    dask : str or distributed.Client, optional
        Run the trials on this dask scheduler.
    cache : bool
        Load and store each trial's rows on disk (:func:`~kvtheory.model.cells.run_cells`);
        off by default, since the rows hold wall-clock seconds.
    """
    cells = [{"spec": s} for s in specs]
    workers = as_int(max_workers, name="max_workers", minimum=1)
    run = run_cells(run_trial, cells, workers=workers, dask=dask, executor=executor,
                    cache=cache, progress=progress, desc="trials")
    return tidy_rows(run.values)


def rerun_policy(specs: Sequence[TrialSpec], rows: Sequence[dict], policy,
                 name: str) -> list[dict]:
    """Rows of ``policy`` on the trials of ``specs``, against the brackets ``rows`` found there.

    Each trial's instance is drawn again from its spec; ``policy`` (any policy function, e.g.
    the planted :func:`kvtheory.engines.policies.planted.longest_first`) runs on it and is
    checked, and its total latency is set against that trial's best known schedule (``opt``,
    lowered to the policy's own if that is better) and lower bound, as :func:`run_trial`
    does for the registered policies.  The result goes through :func:`summarize` like theirs.

    Examples
    --------
    >>> from kvtheory.engines.policies.planted import longest_first
    >>> specs = trial_specs("model1", 2, seed=1, n=6, memory=14, policies=["mc-sf"],
    ...                     search_evals=200)
    >>> rows = run_trials(specs)
    >>> lf = rerun_policy(specs, rows, longest_first, "longest-first")
    >>> [r["policy"] for r in lf], all(r["ratio"] >= 1 for r in lf)
    (['longest-first', 'longest-first'], True)
    """
    out = []
    for spec in specs:
        base = next(r for r in rows if r["model"] == spec.model and r["trial"] == spec.trial
                    and r["policy"] == "mc-sf")
        inst = MODELS[spec.model](np.random.default_rng(spec.seed), **dict(spec.size))
        row = {**base, "policy": name}
        try:
            sched = simulate(inst, policy, name=name)
        except LivelockError:
            out.append({**row, "total_latency": None, "ratio": None, "ratio_upper": None,
                        "optimal": None, "beaten": None, "livelock": True})
            continue
        check_schedule(inst, sched)
        tl = int(sched.total_latency)
        best = min(int(base["opt"]), tl)
        lb = float(base["lower_bound"])
        out.append({**row, "total_latency": tl, "opt": best, "ratio": tl / best if best else 1.0,
                    "ratio_upper": tl / lb if lb else 1.0,
                    "optimal": bool(base["proven"] and tl == best), "beaten": bool(tl > best),
                    "livelock": False})
    return out


def tidy_rows(per_trial: Iterable[list[dict]]) -> list[dict]:
    """The trials' rows in one list, sorted by (model, trial, policy order)."""
    order = {m: k for k, m in enumerate(sorted(MODELS))}
    pol_rank = {p: k for k, p in enumerate(POLICIES)}
    rows = [r for chunk in per_trial for r in chunk]
    return sorted(rows, key=lambda r: (order[r["model"]], r["trial"], pol_rank[r["policy"]]))


def schedule_shape(schedule) -> dict:
    """Figures that describe how a schedule packs memory (used to compare MC-SF with better ones).

    ``makespan``; ``utilization``, the mean memory in use over rounds ``1 .. makespan``
    divided by ``M``; ``concurrency``, the mean number of requests running per round;
    ``rank_corr``, Spearman's correlation between completion round and output length (1 means
    requests finish exactly in shortest-first order).

    Examples
    --------
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [2, 3], memory=10)
    >>> shape = schedule_shape(Schedule.from_starts(inst, [0, 0]))
    >>> shape["makespan"], round(shape["utilization"], 3), shape["concurrency"], shape["rank_corr"]
    (3, 0.467, 1.6667, 1.0)

    (Memory 2+2, 3+3, 4 in rounds 1-3: mean 14/3 of M = 10; 5 tokens in 3 rounds.)
    """
    inst = schedule.instance
    T = int(schedule.makespan)
    prof = schedule.memory_profile()[1:T + 1]
    comp = np.array([r.completion for r in schedule.records])
    tokens = float(sum(r.completion - r.start for r in schedule.records))
    corr = (float(stats.spearmanr(comp, inst.output).statistic)
            if inst.n > 1 and np.ptp(comp) and np.ptp(inst.output) else math.nan)
    return {"makespan": T, "utilization": float(prof.mean()) / inst.memory if T else 0.0,
            "concurrency": round(tokens / T, 4) if T else 0.0, "rank_corr": round(corr, 4)}


# --------------------------------------------------------------------------- summaries
def _mean_ci(values: np.ndarray, confidence: float, n_resamples: int, seed: int):
    """Bootstrap (BCa) confidence interval of the mean; degenerate samples give a point."""
    if values.size == 0:
        return (math.nan, math.nan)
    if values.size < 3 or np.ptp(values) == 0:
        m = float(values.mean())
        return (m, m)

    def interval(method):
        kw = dict(confidence_level=confidence, n_resamples=n_resamples, method=method)
        try:
            res = stats.bootstrap((values,), np.mean, rng=np.random.default_rng(seed), **kw)
        except TypeError:                              # scipy < 1.15 calls it random_state
            res = stats.bootstrap((values,), np.mean, random_state=np.random.default_rng(seed),
                                  **kw)
        return float(res.confidence_interval.low), float(res.confidence_interval.high)

    lo, hi = interval("BCa")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = interval("percentile")
    return (lo, hi)


def model_policy_keys(rows: Sequence[dict]) -> list[tuple[str, str]]:
    """The distinct ``(model, policy)`` pairs of ``rows``, in order of first appearance.

    Examples
    --------
    >>> model_policy_keys([{"model": "m", "policy": "b"}, {"model": "m", "policy": "a"},
    ...                    {"model": "m", "policy": "b"}])
    [('m', 'b'), ('m', 'a')]
    """
    return list(dict.fromkeys((r["model"], r["policy"]) for r in rows))


def summarize(rows: Sequence[dict], *, confidence: float = 0.95, n_resamples: int = 2000,
              seed: int = 0) -> list[dict]:
    """One row per (model, policy): ratio statistics with bootstrap confidence intervals.

    ``mean``/``best``/``worst`` use ``ratio`` (against the best schedule found: exact when the
    trial is proven, otherwise a lower bound on the true ratio); ``mean_upper``/``worst_upper``
    use ``ratio_upper`` (against the proven lower bound: an upper bound).  ``ci_low`` is the
    lower end of the CI of ``mean`` and ``ci_high_upper`` the upper end of the CI of
    ``mean_upper``, so ``[ci_low, ci_high_upper]`` covers the true mean ratio's CI.
    ``optimal`` counts trials where the policy provably equals the optimum, ``beaten`` those
    where some schedule is better (the policy is provably not optimal there) and
    ``above_paper_worst`` those whose proven lower bound on the ratio exceeds the paper's worst
    ratio for the model (when the model is known); ``livelocks`` counts trials where it never
    finished.

    Examples
    --------
    >>> rows = [{"model": "model1", "policy": "mc-sf", "ratio": r, "ratio_upper": r,
    ...          "proven": True, "optimal": r == 1.0, "beaten": r > 1.0, "livelock": False}
    ...         for r in (1.0, 1.0, 1.1)]
    >>> s = summarize(rows)[0]
    >>> s["trials"], s["optimal"], s["beaten"], round(s["mean"], 4), s["worst"]
    (3, 2, 1, 1.0333, 1.1)
    >>> s["above_paper_worst"]          # 1.1 > the paper's worst 1.074 for model 1
    1
    """
    confidence = as_fraction(confidence, name="confidence", low_open=True, high_open=True)
    keys = model_policy_keys(rows)
    out = []
    for model, pol in keys:
        rs = [r for r in rows if r["model"] == model and r["policy"] == pol]
        done = [r for r in rs if not r["livelock"]]
        lo = np.array([r["ratio"] for r in done], dtype=float)
        up = np.array([r["ratio_upper"] for r in done], dtype=float)
        ci = _mean_ci(lo, confidence, n_resamples, seed)
        ci_up = _mean_ci(up, confidence, n_resamples, seed)
        out.append({"model": model, "policy": pol, "trials": len(rs),
                    "proven": sum(bool(r["proven"]) for r in rs),
                    "livelocks": len(rs) - len(done),
                    "mean": float(lo.mean()) if lo.size else math.nan,
                    "ci_low": ci[0], "ci_high": ci[1],
                    "best": float(lo.min()) if lo.size else math.nan,
                    "worst": float(lo.max()) if lo.size else math.nan,
                    "mean_upper": float(up.mean()) if up.size else math.nan,
                    "ci_high_upper": ci_up[1],
                    "worst_upper": float(up.max()) if up.size else math.nan,
                    "optimal": sum(bool(r["optimal"]) for r in done),
                    "beaten": sum(bool(r.get("beaten")) for r in done),
                    "above_paper_worst": (int(np.sum(lo > PAPER_FIGURES[model]["worst"]))
                                          if model in PAPER_FIGURES else None)})
    return out


def paper_comparison(summary: Sequence[dict]) -> list[dict]:
    """MC-SF's measured figures beside the paper's, one row per (model, figure).

    ``measured`` is exact when every trial is proven; otherwise it is the interval
    ``[lower, upper]`` printed as ``"lo .. hi"``.

    Examples
    --------
    >>> s = [{"model": "model1", "policy": "mc-sf", "trials": 2, "proven": 2, "mean": 1.01,
    ...       "ci_low": 1.0, "ci_high": 1.02, "best": 1.0, "worst": 1.02, "mean_upper": 1.01,
    ...       "ci_high_upper": 1.02, "worst_upper": 1.02, "optimal": 1, "beaten": 1,
    ...       "above_paper_worst": 0, "livelocks": 0}]
    >>> [(r["figure"], r["paper"], r["measured"]) for r in paper_comparison(s)][:2]
    [('mean', 1.005, '1.010'), ('best', 1.0, '1.000')]
    >>> unproven = [{**s[0], "proven": 0, "mean_upper": 1.5, "worst_upper": 1.6}]
    >>> [r["measured"] for r in paper_comparison(unproven)][-1]   # one trial was beaten
    'at most 1 of 2 (= 100)'
    """
    rows = []
    for s in summary:
        if s["policy"] != "mc-sf":
            continue
        paper = PAPER_FIGURES[s["model"]]
        exact = s["proven"] == s["trials"]
        scale = paper["trials"] / s["trials"] if s["trials"] else math.nan

        def fmt(lo, hi):
            return f"{lo:.3f}" if exact or abs(hi - lo) < 5e-4 else f"{lo:.3f} .. {hi:.3f}"
        rows.append({"model": s["model"], "figure": "mean", "paper": paper["mean"],
                     "measured": fmt(s["mean"], s["mean_upper"]),
                     "ci95": f"{s['ci_low']:.3f} .. {s['ci_high_upper'] if not exact else s['ci_high']:.3f}"})
        rows.append({"model": s["model"], "figure": "best", "paper": paper["best"],
                     "measured": fmt(s["best"], s["best"]) if exact else f">= {s['best']:.3f}",
                     "ci95": ""})
        rows.append({"model": s["model"], "figure": "worst", "paper": paper["worst"],
                     "measured": fmt(s["worst"], s["worst_upper"]),
                     "ci95": "" if exact else f"{s['above_paper_worst']} trials above {paper['worst']}"})
        if paper["optimal"] is not None:
            if exact:
                measured = f"{s['optimal']} of {s['trials']} (= {s['optimal'] * scale:.0f})"
            else:                          # optimal at most where no schedule beat MC-SF
                most = s["trials"] - s["livelocks"] - s["beaten"]
                measured = f"at most {most} of {s['trials']} (= {most * scale:.0f})"
            rows.append({"model": s["model"], "figure": f"optimal (of {paper['trials']})",
                         "paper": paper["optimal"], "measured": measured, "ci95": ""})
    return rows


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    """``kvtheory replicate``: the full synthetic replication (both models).

    Examples
    --------
    >>> main(["--trials", "1", "--n", "4", "--horizon", "3", "--memory", "10", "--workers", "1",
    ...       "--quiet"])    # doctest: +ELLIPSIS
    model...
    0
    """
    ap = argparse.ArgumentParser(prog="kvtheory replicate", description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=0.0,
                    help="seconds per exact solve (default 0: skip the exact program, which "
                         "proves nothing at the paper's size)")
    ap.add_argument("--search-evals", type=int, default=20_000,
                    help="orders tried by the local search per trial (default 20000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", choices=sorted(MODELS), action="append")
    ap.add_argument("--n", type=int, help="fix n (model 1; default: the paper's U{40..60})")
    ap.add_argument("--horizon", type=int, help="fix the horizon (model 2)")
    ap.add_argument("--memory", type=int, help="fix M (default: the paper's U{30..50})")
    ap.add_argument("--bound", choices=BOUNDS, default="volume",
                    help="lower bound beside the program's: volume (area, instant) or peak "
                         "(relaxation with peak rows, kvtheory.optimum.bounds; seconds per trial)")
    ap.add_argument("--bound-time", type=float, default=10.0,
                    help="seconds per trial for the peak bound's separation (default 10)")
    ap.add_argument("--dask", metavar="ADDRESS",
                    help="run the trials on an existing dask.distributed scheduler at ADDRESS "
                         "(bind it to 127.0.0.1 or secure it with TLS: it runs what it is sent)")
    ap.add_argument("--format", choices=("table", "json"), default="table",
                    help="json: one object per (model, policy) with policy, mean (proven lower "
                         "bound on the mean ratio), mean_upper (proven upper bound), proven, "
                         "trials, ...")
    ap.add_argument("--out", help="write the tidy per-trial rows to this CSV file")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        return _run_main(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_main(args) -> int:
    from kvtheory.model.tables import format_table
    t0 = time.perf_counter()
    specs = []
    for model in args.model or sorted(MODELS):
        size = {"memory": args.memory} if args.memory else {}
        if model == "model1" and args.n:
            size["n"] = args.n
        if model == "model2" and args.horizon:
            size["horizon"] = args.horizon
        specs += trial_specs(model, args.trials, args.seed, time_limit=args.time_limit,
                             search_evals=args.search_evals, bound=args.bound,
                             bound_time=args.bound_time, **size)
    # the one executor: local processes or a dask scheduler, each trial's rows cached on disk,
    # so an interrupted run resumes and a trial whose worker died runs again
    run = run_cells(run_trial, [{"spec": s} for s in specs], workers=args.workers,
                    dask=args.dask, progress=not args.quiet, desc="trials")
    rows = tidy_rows(run.values)
    summ = summarize(rows)
    if args.format == "json":
        clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                  for k, v in s.items()} for s in summ]
        print(json.dumps(clean, indent=1))
        _write_rows(args.out, rows)
        return 0
    cols = ["model", "policy", "trials", "proven", "livelocks", "mean", "ci_low", "ci_high",
            "mean_upper", "ci_high_upper", "best", "worst", "worst_upper", "optimal", "beaten"]
    print(format_table(summ, cols))
    print()
    print(format_table(paper_comparison(summ)))
    print(f"\n{len(specs)} trials in {time.perf_counter() - t0:.0f} s")
    _write_rows(args.out, rows)
    return 0


def _write_rows(path, rows) -> None:
    if path and rows:
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
