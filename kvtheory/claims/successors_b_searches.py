"""The searches and rules of :mod:`kvtheory.claims.successors_b`, each a function of its target.

The fluid claims (arXiv 2504.11320) and the token-budget claims (arXiv 2504.07347) grade
their readings with the searches below; each takes the policy, thresholds or scheduler it
searches as an argument, so :mod:`kvtheory.claims.successors_b_power` can run the same search,
at the same sizes and seeds, against a planted counterpart.

Grading rule for a rate ``O(T^r)`` measured over finitely many horizons (ours): fit the slope of
``log(mean)`` against ``log T`` with a 95 % bootstrap interval over paths; ``supported`` when
the interval's upper end is at most ``r + 0.1`` (growth no faster than stated, within the
tolerance), else ``inconclusive`` (finite horizons cannot refute an asymptotic ``O``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kvtheory.claims._core import ClaimCheck
from kvtheory.engines.fluid import (StageWorkload, fit_slope, rate_samples,
                                    sample_stage_instance, simulate_stages,
                                    threshold_condition, wait_thresholds)
from kvtheory.engines.fluid_policies import (STAGE_POLICIES, make_stage_policy, nested_memory,
                                             nested_thresholds, nested_wait, wait)
from kvtheory.engines.token_budget import (BUDGET_POLICIES, WORK_CONSERVING, BudgetConfig,
                                           capacity, stability_rows)
from kvtheory.model.fluid_checker import check_stage_schedule
from kvtheory.model.validation import check_generator

__all__ = ["TOL", "CASES", "STATED", "grade_rate", "wait_rate_fits", "check_wait_no_overflow",
           "fcfs_example", "fcfs_statuses", "NESTED_TYPES", "NESTED_MAX_SLOPE", "nested_status",
           "nested_gap_fit", "budget_stability", "grade_budget", "mcsf_status", "mcsf_rule",
           "combine", "KMAX_PAIR", "kmax_status"]

TOL = 0.1
#: The two WAIT cases (ours): l = l' = 1, lambda = 4; C = 12 = M* with n = 4 (equality),
#: C = 15 with n = 5 (strict slack).
CASES = {"equality": (12, 4), "strict": (15, 5)}
STATED = {("equality", "gap"): -0.5, ("equality", "latency"): 0.5,
          ("strict", "gap"): -1.0, ("strict", "latency"): 0.0}


def grade_rate(fit: dict, stated: float, *, tol: float = TOL) -> str:
    """``supported`` when the fitted slope's 95 % upper end is at most ``stated + tol``.

    Examples
    --------
    >>> grade_rate({"slope": -0.55, "lo": -0.6, "hi": -0.45}, -0.5)
    'supported'
    >>> grade_rate({"slope": 0.2, "lo": 0.1, "hi": 0.3}, 0.0)
    'inconclusive'
    """
    return "supported" if fit["hi"] <= stated + tol else "inconclusive"


def wait_rate_fits(rng: np.random.Generator, *, horizons: Sequence[int] = (100, 200, 400, 800),
                   paths: int = 30, boot: int = 300, check: int = 1,
                   thresholds: dict | None = None, cases: Sequence[str] = tuple(CASES)) -> dict:
    """WAIT's throughput gap and latency against ``T`` in both cases, with fitted slopes.

    ``thresholds`` maps a case to the thresholds WAIT runs with (default: the case's ``n``),
    so the same search can be pointed at a planted WAIT outside the theorem's conditions
    (:mod:`kvtheory.claims.successors_b_power`); ``cases`` selects the cases run.

    Examples
    --------
    >>> f = wait_rate_fits(np.random.default_rng(0), horizons=(50, 100), paths=4, boot=20)
    >>> sorted(f["fits"])
    ['equality/gap', 'equality/latency', 'strict/gap', 'strict/latency']
    """
    rng = check_generator(rng)
    fits, rows = {}, {}
    for case in cases:
        C, n = CASES[case]
        n = (thresholds or {}).get(case, (n,))[0]
        w = StageWorkload(((1, 1, 4.0),), memory=C)
        pol = make_stage_policy(wait, f"wait(n={n})", thresholds=(n,))
        rows[case] = rate_samples(w, pol, horizons, paths, rng, check=check)
        for key in ("gap", "latency"):
            fits[f"{case}/{key}"] = fit_slope(rows[case], key, rng, boot=boot)
    return {"fits": fits, "rows": rows, "horizons": list(horizons), "paths": paths}


def check_wait_no_overflow(rng: np.random.Generator, *, paths: int = 10, horizon: int = 400,
                           thresholds=wait_thresholds) -> ClaimCheck:
    """Claim ``clm_wait_no_overflow``: WAIT with ``M^pi <= C`` never evicts, memory ``<= M^pi``.

    ``thresholds(workload)`` gives WAIT's thresholds (default
    :func:`~kvtheory.engines.fluid.wait_thresholds`, which meet ``M^pi <= C`` on the three
    workloads); pointing it at thresholds with ``M^pi > C`` (planted) measures the search's
    power: a violation is an eviction or a peak above ``min(M^pi, C)``.

    Examples
    --------
    >>> check_wait_no_overflow(np.random.default_rng(0), paths=2, horizon=50).holds
    True
    >>> over = lambda w: wait_thresholds(w, slack=1)          # M^pi > C on every workload
    >>> check_wait_no_overflow(np.random.default_rng(0), paths=2, horizon=50,
    ...                        thresholds=over).holds
    False
    """
    rng = check_generator(rng)
    workloads = [StageWorkload(((1, 1, 4.0),), memory=12),
                 StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=15),
                 StageWorkload(((2, 3, 1.5), (1, 1, 2.5)), memory=40)]
    worst, bad, cases = {"peak/M_pi": 0.0}, None, 0
    for w in workloads:
        n = thresholds(w)
        tc = threshold_condition(w, n)
        pol = make_stage_policy(wait, f"wait(n={n})", thresholds=n)
        limit = min(tc["M_pi"], w.memory)
        for k in range(paths):
            inst = sample_stage_instance(w, horizon, rng)
            sched = simulate_stages(inst, pol, horizon, w)
            rep = check_stage_schedule(inst, sched)
            cases += 1
            ratio = rep.peak_memory / tc["M_pi"]
            if ratio > worst["peak/M_pi"]:
                worst = {"peak/M_pi": round(ratio, 4), "types": w.types, "C": w.memory}
            if rep.evictions or rep.peak_memory > limit:
                bad = (f"{w.types}, C = {w.memory}, thresholds {n} (M^pi = {tc['M_pi']:g}), "
                       f"path {k}: {rep.evictions} evictions, peak {rep.peak_memory}")
                break
        if bad:
            break
    return ClaimCheck("clm_wait_no_overflow", bad is None, cases, worst,
                      f"{cases} WAIT schedules checked independently; peak memory / M^pi at most "
                      f"{worst['peak/M_pi']}, no eviction" if bad is None else bad, bad)


def fcfs_example(rng: np.random.Generator, *, horizons: Sequence[int] = (500, 2000),
                 paths: int = 10, policies: Sequence[str] = ("fcfs", "mc-sf", "wait")) -> dict:
    """The paper's FCFS example (``l = l' = 1``, ``C = 12``, ``lambda = 4``): loss per policy.

    ``loss`` = (throughput* - throughput) / throughput* with a 95 % normal band over paths;
    ``policies`` names the stage policies run (the search's targets).

    Examples
    --------
    >>> out = fcfs_example(np.random.default_rng(0), horizons=(100,), paths=2)
    >>> sorted(out["loss"])
    ['fcfs', 'mc-sf', 'wait']
    """
    rng = check_generator(rng)
    w = StageWorkload(((1, 1, 4.0),), memory=12)
    loss = {}
    for name in policies:
        loss[name] = {}
        for T in horizons:
            rows = rate_samples(w, STAGE_POLICIES[name], [T], paths, rng, check=1)
            x = np.array([r["gap_fluid"] / 4.0 for r in rows])
            half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else 0.0
            loss[name][int(T)] = (float(x.mean()), float(x.mean() - half),
                                  float(x.mean() + half),
                                  float(np.mean([r["evictions"] for r in rows])))
    return {"loss": loss, "horizons": list(horizons), "paths": paths}


def fcfs_statuses(loss: dict, T1: int, T2: int) -> dict:
    """Statuses of the three FCFS readings from ``loss[policy][T] = (mean, lo, hi, evictions)``.

    The paper's "about 3 to 3.5 completions per round instead of 4" is a loss of 12.5-25 %;
    ``the example's size`` is supported when FCFS's 95 % band at ``T2`` lies within it, widened
    by 2.5 points; ``gap does not vanish`` (and the MC-SF reading) when the lower ends stay
    above 5 %.

    Examples
    --------
    >>> loss = {"fcfs": {1: (0.25, 0.24, 0.26, 9), 4: (0.25, 0.24, 0.26, 9)},
    ...         "mc-sf": {1: (0.2, 0.19, 0.21, 0), 4: (0.02, 0.0, 0.04, 0)}}
    >>> fcfs_statuses(loss, 1, 4)
    {'size': 'supported', 'persists': 'supported', 'mcsf': 'inconclusive'}
    """
    f1, f2, m2 = loss["fcfs"][T1], loss["fcfs"][T2], loss["mc-sf"][T2]
    ok = lambda b: "supported" if b else "inconclusive"     # noqa: E731
    return {"size": ok(0.125 - 0.025 <= f2[1] and f2[2] <= 0.25 + 0.025),
            "persists": ok(f1[1] > 0.05 and f2[1] > 0.05), "mcsf": ok(m2[1] > 0.05)}


NESTED_TYPES = ((1, 1, 3.0), (1, 2, 1.0))
#: The gap "vanishes" when its fitted slope's 95 % upper end is at most this (ours): a gap that
#: settles to a constant from above (a start-up transient) has a slope just below 0, and a rule
#: "upper end below 0" let such a target pass.
NESTED_MAX_SLOPE = -0.25


def nested_status(fit: dict) -> str:
    """``supported`` when the gap's slope has its 95 % upper end at most ``NESTED_MAX_SLOPE``.

    Examples
    --------
    >>> nested_status({"slope": -1.0, "lo": -1.1, "hi": -0.9})
    'supported'
    >>> nested_status({"slope": -0.03, "lo": -0.07, "hi": -0.007})    # settles to a constant
    'inconclusive'
    """
    return grade_rate(fit, NESTED_MAX_SLOPE, tol=0.0)


def nested_gap_fit(rng: np.random.Generator, *, horizons: Sequence[int] = (100, 400, 1600),
                   paths: int = 10, memory: int = 24, thresholds: Sequence[int] | None = None,
                   boot: int = 300) -> dict:
    """Nested WAIT's throughput gap against ``T`` (lengths hidden) and its fitted slope.

    The reading's search as a function of its target: ``thresholds`` (default
    :func:`~kvtheory.engines.fluid_policies.nested_thresholds`, ``(5, 2)`` here) and ``memory``
    ``C``.  Returns the fit, the evictions and ``M^pi`` of the thresholds
    (:func:`~kvtheory.engines.fluid_policies.nested_memory`).

    Examples
    --------
    >>> f = nested_gap_fit(np.random.default_rng(0), horizons=(50, 100), paths=2, boot=20)
    >>> f["thresholds"], f["M_pi"], f["evictions"]
    ((5, 2), 21.0, 17)
    """
    rng = check_generator(rng)
    w = StageWorkload(NESTED_TYPES, memory=memory, reveal_types=False)
    n = tuple(thresholds) if thresholds is not None else nested_thresholds(w)
    pol = make_stage_policy(nested_wait, f"nested-wait(n={n})", thresholds=n)
    rows = rate_samples(w, pol, horizons, paths, rng, check=1)
    f = fit_slope(rows, "gap", rng, boot=boot)
    return {**f, "thresholds": n, "M_pi": nested_memory(w, n), "memory": memory,
            "evictions": int(sum(r["evictions"] for r in rows))}


def budget_stability(rng: np.random.Generator, *, horizon: float = 120_000.0,
                     paths: int = 4, parts: Sequence[str] = ("below", "above", "non_wc")
                     ) -> dict:
    """Backlog slopes: work-conserving below/above capacity, non-work-conserving below.

    Parts (workloads *second-hand*, loads ours): ``below``: Sarathi- and Orca-like, 100 + 100
    tokens, load 0.9; ``above``: all five schedulers, 100 + 100 tokens, load 1.1;
    ``non_wc``: FasterTransformer- and vLLM-like, 129 + 112 tokens, load 0.85; all with
    ``b_max = 512``.

    Examples
    --------
    >>> out = budget_stability(np.random.default_rng(0), horizon=5_000, paths=1)
    >>> sorted(out)
    ['above', 'below', 'non_wc']
    """
    rng = check_generator(rng)
    cfg = BudgetConfig(512)
    spec = {"below": (WORK_CONSERVING, 100, 100, 0.9),
            "above": (tuple(BUDGET_POLICIES), 100, 100, 1.1),
            "non_wc": (("fastertransformer", "vllm"), 129, 112, 0.85)}
    return {k: stability_rows(list(spec[k][0]), cfg, spec[k][1], spec[k][2], [spec[k][3]],
                              horizon, paths, rng) for k in parts}


def _summ(rows, policy):
    x = np.array([r["slope"] for r in rows if r["policy"] == policy])
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else float("inf")
    e = np.array([r["excess"] for r in rows if r["policy"] == policy])
    eh = 1.96 * e.std(ddof=1) / np.sqrt(e.size) if e.size > 1 else float("inf")
    r0 = next(r for r in rows if r["policy"] == policy)
    return {"mean": float(x.mean()), "lo": float(x.mean() - half),
            "hi": float(x.mean() + half), "offered": r0["offered"],
            "fluid": r0["fluid_slope"], "excess": float(e.mean()),
            "excess_hi": float(e.mean() + eh)}


def grade_budget(s: dict, *, expect: str, share: float | None = None) -> str:
    """Grade a backlog slope summary (tokens per ms, 95 % band) against what is expected.

    ``expect="bounded"``: ``supported`` if the band contains a zero or negative slope (its
    lower end is at most 0) and its upper end is below ``share`` of the offered rate;
    ``fails`` if its lower end is above ``share`` of the offered rate; else ``inconclusive``
    (a band that excludes 0 upward is a growing backlog, not a bounded one, even when slow).
    ``expect="grows"``: ``supported`` if the lower end is above ``share`` of the offered rate.
    ``expect="fluid"``: ``supported`` if the band of the *excess* over the fluid rate (computed
    with the tokens that arrived in the window) reaches ``-share`` of the offered rate or
    above: no scheduler drains faster than ``b_max / t(b_max)``.  ``share`` defaults to 0.05,
    and to 0.02 for ``"fluid"``: at load 1.1 even a server of unlimited speed has an excess of
    only about -0.09 of the offered rate (it cannot drain more than the overload), so a 5 %
    tolerance would let it pass (the planted faster clock of
    :mod:`kvtheory.claims.successors_b_power` measures this).

    Examples
    --------
    >>> grade_budget({"lo": -0.1, "hi": 0.1, "offered": 3.0, "fluid": 0.0}, expect="bounded")
    'supported'
    >>> grade_budget({"lo": 0.5, "hi": 0.9, "offered": 3.0, "fluid": 0.0}, expect="bounded")
    'fails'
    >>> grade_budget({"lo": 0.056, "hi": 0.117, "offered": 3.0, "fluid": 0.0}, expect="bounded")
    'inconclusive'
    >>> grade_budget({"lo": 0.0, "hi": 0.9, "offered": 3.0, "fluid": 0.0}, expect="grows")
    'inconclusive'
    >>> grade_budget({"excess_hi": -0.01, "offered": 3.0}, expect="fluid")
    'supported'
    """
    if share is None:
        share = 0.02 if expect == "fluid" else 0.05
    cut = share * s["offered"]
    if expect == "bounded":
        if s["lo"] > cut:
            return "fails"
        return "supported" if s["lo"] <= 0 and s["hi"] < cut else "inconclusive"
    if expect == "grows":
        return "supported" if s["lo"] > cut else "inconclusive"
    if expect == "fluid":
        return "supported" if s["excess_hi"] >= -cut else "inconclusive"
    raise ValueError(f"expect must be 'bounded', 'grows' or 'fluid', got {expect!r}")


def mcsf_status(served_hi: float, cap: float) -> str:
    """``supported`` when the served token rate's 95 % upper end is below 95 % of capacity.

    Examples
    --------
    >>> mcsf_status(2.9, 3.343), mcsf_status(3.3, 3.343)
    ('supported', 'inconclusive')
    """
    return "supported" if served_hi < 0.95 * cap else "inconclusive"


def mcsf_rule(rows: Sequence[dict], policy: str) -> str:
    """:func:`mcsf_status` of ``policy`` in :func:`~kvtheory.engines.token_budget.stability_rows`
    output (``b_max = 512``): served rate = offered minus the backlog slope's lower end.

    Examples
    --------
    >>> rows = [{"policy": "p", "slope": s, "excess": 0.0, "offered": 3.68, "fluid_slope": 0.34}
    ...         for s in (0.7, 0.8)]
    >>> mcsf_rule(rows, "p")
    'supported'
    """
    s = _summ(rows, policy)
    return mcsf_status(s["offered"] - s["lo"], capacity(BudgetConfig(512)))


def combine(statuses) -> str:
    """One reading's status from its policies': any ``fails`` fails; all ``supported``
    supports; otherwise ``inconclusive``.

    Examples
    --------
    >>> combine(["supported", "fails"]), combine(["supported"]), combine(["supported", "inconclusive"])
    ('fails', 'supported', 'inconclusive')
    """
    st = list(statuses)
    return ("fails" if "fails" in st else "supported" if all(v == "supported" for v in st)
            else "inconclusive")


#: The two runs :func:`kmax_status` grades.
KMAX_PAIR = (("sarathi", 128), ("sarathi", 1024))


def kmax_status(rows: Sequence[dict]) -> str:
    """``supported`` when Sarathi-1024 (offered below its capacity) grows over the second half
    by more than 5,000 tokens and ten times Sarathi-128's growth.

    Examples
    --------
    >>> r = lambda b, g, cap: {"policy": "sarathi", "b_max": b, "growth_second_half": g,
    ...                        "offered": 2.7, "capacity": cap}
    >>> kmax_status([r(128, 500, 2.7), r(1024, 30000, 3.5)])
    'supported'
    >>> kmax_status([r(128, 500, 2.7), r(1024, 900, 3.5)])
    'inconclusive'
    """
    by = {(r["policy"], r["b_max"]): r for r in rows}
    s128, s1024 = by[("sarathi", 128)], by[("sarathi", 1024)]
    ok = (s1024["growth_second_half"] > max(10 * abs(s128["growth_second_half"]), 5000)
          and s1024["offered"] < s1024["capacity"])
    return "supported" if ok else "inconclusive"
