"""The fat-short game solved exactly: the best ratio any deterministic preemptive algorithm can
guarantee against an adaptive adversary on the single-machine family (recompute model).

Instance shape as in :func:`kvtheory.preemption.fat_short_instance`: ``L = (0, n, P)``,
``M = n + P``, and up to ``n`` shorts ``(r, M - 1, 1)``; a short needs the whole memory, so
one request runs per round.  The adversary sees everything and, before each decision, may
release one short (any round, not only at ``L``'s progress ``P - 1``); the algorithm then runs
``L`` (starting or continuing it), serves the oldest waiting short (evicting ``L``, whose
progress is lost) or, if allowed, idles.  The game ends when ``L`` is done and no short waits
(shorts released later run at once for both sides and only dilute the ratio).  Its value

    min over algorithms  max over adversaries  ALG / OPT(releases)

is computed by exhaustive minimax with memoisation; ``OPT`` is the exact optimum of the
released instance (:func:`kvtheory.preemption.fat_short_opt`).  Exponential: tiny ``n, P``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Sequence

from ._validation import as_int
from .preemption import fat_short_instance, fat_short_opt

__all__ = ["fat_short_game_value", "game_rows", "two_phase_instance", "two_phase_run"]


def fat_short_game_value(n: int, P: int, *, max_idle: int = 0,
                         max_states: int = 2_000_000) -> dict:
    """Exact value of the fat-short game (see the module docstring) and the states visited.

    Examples
    --------
    >>> fat_short_game_value(1, 3)["value"]      # one short: never-evict is optimal
    1.0
    >>> fat_short_game_value(2, 3)["value"]      # 9/8: no algorithm is optimal on every instance
    1.125
    """
    n = as_int(n, name="n", minimum=1)
    P = as_int(P, name="P", minimum=2)
    max_idle = as_int(max_idle, name="max_idle", minimum=0)
    opt_cache: dict = {}
    seen = [0]

    def opt(rel):
        if rel not in opt_cache:
            opt_cache[rel] = fat_short_opt(fat_short_instance(n, list(rel), P))[0]
        return opt_cache[rel]

    @lru_cache(maxsize=None)
    def adv(d, prog, done, queue, rel, cost, idles):
        seen[0] += 1
        if seen[0] > max_states:
            raise ValueError(f"game search exceeded max_states={max_states}")
        if done and not queue:
            return cost / opt(rel)
        best = alg(d, prog, done, queue, rel, cost, idles)
        if len(rel) < n and not done:
            best = max(best, alg(d, prog, done, queue + (d,), rel + (d,), cost, idles))
        return best

    @lru_cache(maxsize=None)
    def alg(d, prog, done, queue, rel, cost, idles):
        vals = []
        if not done:
            if prog + 1 == P:
                vals.append(adv(d + 1, 0, True, queue, rel, cost + d + 1, idles))
            else:
                vals.append(adv(d + 1, prog + 1, False, queue, rel, cost, idles))
        if queue:
            vals.append(adv(d + 1, 0, done, queue[1:], rel, cost + d + 1 - queue[0], idles))
        if idles < max_idle:
            vals.append(adv(d + 1, 0, done, queue, rel, cost, idles + 1))
        return min(vals)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        value = adv(0, 0, False, (), (), 0, 0)
    finally:
        sys.setrecursionlimit(limit)
    return {"n": n, "P": P, "value": float(value), "states": seen[0], "max_idle": max_idle}


def game_rows(cases: Sequence[tuple[int, int]], **kw) -> list[dict]:
    """:func:`fat_short_game_value` for each ``(n, P)``, as table rows.

    Examples
    --------
    >>> [r["value"] for r in game_rows([(1, 2), (2, 2)])]
    [1.0, 1.0]
    """
    return [fat_short_game_value(n, P, **kw) for n, P in cases]


# --------------------------------------------------------------------------- two-phase adversary
def two_phase_instance(n: int, k: int):
    """``L = (0, n^2, n)``, ``M = n(n+1)``; ``k`` fat shorts ``(jn + n - 1, M - 1, 1)``,
    ``j < k``, then ``n`` thin shorts ``(kn + 1, n, 1)``.

    Examples
    --------
    >>> inst = two_phase_instance(3, 1)
    >>> inst.arrival.tolist(), inst.prompt.tolist(), inst.memory
    ([0, 2, 4, 4, 4], [9, 11, 3, 3, 3], 12)
    """
    from .instance import Instance
    n = as_int(n, name="n", minimum=2)
    k = as_int(k, name="k", minimum=0)
    M = n * (n + 1)
    arr = [0] + [j * n + n - 1 for j in range(k)] + [k * n + 1] * n
    return Instance.from_arrays(arr, [n * n] + [M - 1] * k + [n] * n, [n] + [1] * (k + n),
                                memory=M, name=f"two-phase n={n}, k={k}")


def two_phase_run(n: int, k: int, *, exact: bool = False) -> dict:
    """Threshold-``k`` (evict for the first ``k`` blocked arrivals) against the two-phase adversary.

    Phase 1 spends the rule's ``k`` evictions on fat shorts released at ``L``'s progress
    ``n - 1``; phase 2 releases ``n`` thin shorts at progress 1 of ``L``'s last attempt, which
    the rule no longer evicts for.  ``ALG = kn + n + k + n^2``.  The explicit schedule "``L`` at
    0, every short at once or right after ``L``" costs ``UB = 2n + k + 1`` (``k >= 1``; for
    ``k = 0`` "shorts first, ``L`` from 2" costs ``2n + 2``), so the ratio is at least
    ``ALG / UB``, about ``n / 2``; ``exact=True`` also solves the optimum.

    Examples
    --------
    >>> r = two_phase_run(4, 1)
    >>> r["alg"], r["ub"], round(r["ratio lower bound"], 3)
    (25, 10, 2.5)
    """
    from .checker import check_schedule
    from .schedule import Schedule
    inst = two_phase_instance(n, k)
    L_att = [(j * n, j * n + n - 1) for j in range(k)] + [(k * n, k * n + n)]
    fat = [[(j * n + n - 1, j * n + n)] for j in range(k)]
    thin = [[(k * n + n, k * n + n + 1)]] * n
    alg = check_schedule(inst, Schedule.from_attempts(inst, [L_att] + fat + thin),
                         preemptive=True).total_latency
    # explicit competitor: L in rounds 1..n, the first fat short right after, the rest at once
    if k:
        starts = [0] + [max(j * n + n - 1, n) for j in range(k)] + [k * n + 1] * n
    else:                                          # shorts first at 1, L from 2
        starts = [2] + [1] * n
    ub = check_schedule(inst, Schedule.from_starts(inst, starts), preemptive=False).total_latency
    out = {"n": n, "k": k, "alg": alg, "ub": ub, "ratio lower bound": alg / ub}
    if exact:
        from .optimal import solve_optimal
        res = solve_optimal(inst)
        out["opt"] = res.objective if res.proven_optimal else None
    return out
