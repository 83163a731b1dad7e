"""MC-SF's worst ratio as the instance grows: adversarial search at fixed sizes, bracketed.

The constant of the v4/v5 ratio theorem (9216 with exact predictions, second-hand) cannot be
refuted on small instances: MC-SF never idles while a request waits and fits, so its total
latency is at most ``n`` times the optimum (:func:`trivial_ratio_bound`), and with ``n <= 9216``
no instance can violate the theorem.  What a search *can* show is how the worst ratio it finds
behaves as ``n`` and ``M`` grow: flat (evidence for some constant) or rising (no evidence for
one, and a hint of a family that would eventually break any constant).

:func:`worst_ratio_at_size` hill-climbs over instances with exactly ``n`` requests and memory
``M`` that satisfy conditions (a)-(d) of :mod:`kvtheory.theory.ratio`.  Its objective is a
*proven* lower bound on MC-SF / OPT: MC-SF's total latency divided by the best feasible schedule
known for the instance (the other registered policies' schedules and a short local search, every
one checked by :func:`kvtheory.check_schedule`).  The best instance is then bracketed:
``ratio_low = MC-SF / best schedule known`` (a longer search) and
``ratio_high = MC-SF / lower bound`` (the area bound and ``sum o``), so the true ratio of that
instance lies in ``[ratio_low, ratio_high]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kvtheory.engines.policies import POLICIES, mc_sf
from kvtheory.engines.simulator import PolicyError, simulate
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.optimum.search import improve_schedule, volume_lower_bound
from kvtheory.theory.ratio import ratio_conditions

__all__ = ["SizeSearch", "trivial_ratio_bound", "best_known_schedule", "worst_ratio_at_size"]


def trivial_ratio_bound(instance: Instance) -> int:
    """``n``: no policy that never idles has a total latency above ``n`` times the optimum.

    With every request at round 0: a policy that runs something in every round while requests
    remain (MC-SF does: when nothing runs it admits a request, which fits alone under (c))
    finishes everything within ``sum o`` rounds, since each round processes at least one of the
    ``sum o`` request-rounds; so each latency is at most ``sum o``, and ``sum o <= OPT`` because
    each latency is at least its output.  Total: at most ``n * sum o <= n * OPT``.

    Examples
    --------
    >>> trivial_ratio_bound(Instance.from_arrays([0, 0, 0], [1, 1, 1], [2, 3, 4], memory=12))
    3
    """
    return int(instance.n)


def best_known_schedule(instance: Instance, rng: np.random.Generator, *, evaluations: int = 300):
    """The best feasible schedule known cheaply: every registered policy, then a local search.

    Every schedule is checked by :func:`kvtheory.check_schedule`; its total latency is an
    upper bound on the optimum.

    Examples
    --------
    >>> inst = Instance.from_arrays([0] * 4, [1] * 4, [1, 1, 1, 6], memory=8)
    >>> best_known_schedule(inst, np.random.default_rng(0)).total_latency <= simulate(inst, mc_sf).total_latency
    True
    """
    rng = check_generator(rng)
    best = None
    for name, pol in POLICIES.items():
        try:
            sched = simulate(instance, pol, name=name)
        except PolicyError:                 # a livelock or a stall: no schedule from this policy
            continue
        check_schedule(instance, sched)
        if sched.evictions == 0 and (best is None or sched.total_latency < best.total_latency):
            best = sched
    if evaluations:
        found = improve_schedule(instance, rng, start=best, evaluations=evaluations)
        if found.total_latency < best.total_latency:
            best = found.schedule
    return best


@dataclass(frozen=True)
class SizeSearch:
    """Outcome of :func:`worst_ratio_at_size`: the worst instance found at one size, bracketed.

    Attributes
    ----------
    n, memory : int
        The size searched.
    instance : Instance
        The instance with the largest proven ratio found.
    mcsf : int
        MC-SF's total latency on it.
    upper : int
        The best schedule known for it (checked): ``OPT <= upper``.
    lower : int
        A lower bound on its optimum: ``max(area bound, sum o)``.
    ratio_low, ratio_high : float
        ``mcsf / upper <= MC-SF / OPT <= mcsf / lower``.
    trivial : int
        ``n``, the ratio no non-idling policy can exceed.
    evaluations : int
        Instances evaluated.
    """

    n: int
    memory: int
    instance: Instance
    mcsf: int
    upper: int
    lower: int
    ratio_low: float
    ratio_high: float
    trivial: int
    evaluations: int

    def row(self) -> dict:
        """A tidy row (plain numbers)."""
        return {"n": self.n, "M": self.memory, "prompt": int(self.instance.prompt[0]),
                "mcsf": self.mcsf, "best known": self.upper, "lower bound": self.lower,
                "ratio low": round(self.ratio_low, 4), "ratio high": round(self.ratio_high, 4),
                "trivial bound n": self.trivial, "evaluations": self.evaluations}


def _instance(s: int, o: np.ndarray, p: np.ndarray | None, M: int) -> Instance:
    n = len(o)
    return Instance.from_arrays(np.zeros(n, dtype=np.int64), [s] * n, o, M, prediction=p)


def _draw(rng, n, M, alpha):
    s = int(rng.integers(1, min(3, M // 2 - 1) + 1))
    cap = M // 2 - s
    o = rng.integers(1, cap + 1, size=n)
    p = None
    if alpha > 1:
        p = np.clip(np.floor(o * rng.uniform(1.0, alpha, size=n)).astype(np.int64), o, cap)
    return s, o, p


def _mutate(rng, s, o, p, M, alpha):
    o, p = o.copy(), None if p is None else p.copy()
    cap = M // 2 - s
    i = int(rng.integers(len(o)))
    move = int(rng.integers(4))
    if move == 0:                                      # resample one output
        o[i] = rng.integers(1, cap + 1)
    elif move == 1:                                    # nudge one output
        o[i] = min(cap, max(1, o[i] + int(rng.choice([-2, -1, 1, 2]))))
    elif move == 2:                                    # copy another request's output
        o[i] = o[int(rng.integers(len(o)))]
    elif M // 2 - 1 >= 1:                              # change the shared prompt size
        s = int(rng.integers(1, min(3, M // 2 - 1) + 1))
        cap = M // 2 - s
        o = np.minimum(o, cap)
    if p is not None:
        p = np.clip(np.maximum(p, o), o, np.minimum(np.floor(alpha * o), cap)).astype(np.int64)
        if rng.random() < 0.5:
            p[i] = rng.integers(o[i], max(o[i], min(int(alpha * o[i]), cap)) + 1)
    return s, o, p


def worst_ratio_at_size(rng: np.random.Generator, n: int, memory: int, *, alpha: float = 1.0,
                        restarts: int = 2, steps: int = 30, search_evals: int = 300,
                        final_evals: int = 5_000, policy=mc_sf) -> SizeSearch:
    """Hill-climb for the largest *proven* MC-SF / OPT at ``n`` requests and memory ``M`` under (a)-(d).

    Related to ``clm_mcsf_ratio`` (v4/v5, second-hand: MC-SF / OPT <= 9216 under (a)-(d) with
    exact predictions).  The objective of the climb is MC-SF / (best schedule known), a lower
    bound on the instance's true ratio; the returned bracket holds the true ratio of the worst
    instance.  Deterministic given ``rng``.  ``policy`` (default MC-SF) is the search's target:
    the same search, budget and seed can be pointed at any ``policy(state) -> Decision`` (the
    fields ``mcsf`` and the ratios then describe that policy).

    Examples
    --------
    >>> res = worst_ratio_at_size(np.random.default_rng(0), 6, 16, restarts=1, steps=3,
    ...                           search_evals=50, final_evals=200)
    >>> 1.0 <= res.ratio_low <= res.ratio_high, res.ratio_low <= res.trivial
    (True, True)
    >>> all(ratio_conditions(res.instance).values())
    True
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    M = as_int(memory, name="memory", minimum=6)
    alpha = as_fraction(alpha, name="alpha", low=1.0, high=math.inf)
    restarts = as_int(restarts, name="restarts", minimum=1)
    steps = as_int(steps, name="steps", minimum=0)
    evals = 0

    def score(s, o, p):
        nonlocal evals
        evals += 1
        inst = _instance(s, o, p, M)
        mine = simulate(inst, policy)
        check_schedule(inst, mine)
        best = best_known_schedule(inst, rng, evaluations=search_evals)
        return mine.total_latency / best.total_latency

    best = None
    for _ in range(restarts):
        cur = _draw(rng, n, M, alpha)
        cur_r = score(*cur)
        if best is None or cur_r > best[1]:
            best = (cur, cur_r)
        for _ in range(steps):
            cand = _mutate(rng, *cur, M, alpha)
            r = score(*cand)
            if r >= cur_r:
                cur, cur_r = cand, r
                if r > best[1]:
                    best = (cand, r)
    (s, o, p), _ = best
    inst = _instance(s, o, p, M)
    if not all(ratio_conditions(inst, alpha=alpha if alpha > 1 else None).values()):
        raise AssertionError("the search left conditions (a)-(d)")
    mine = simulate(inst, policy).total_latency
    upper = best_known_schedule(inst, rng, evaluations=final_evals).total_latency
    lower = max(volume_lower_bound(inst), int(inst.output.sum()))
    return SizeSearch(n, M, inst, int(mine), int(upper), int(lower), mine / upper, mine / lower,
                      trivial_ratio_bound(inst), evals)
