"""The adversaries against preemptive rules, and the fat-short game solved exactly: the best ratio any deterministic preemptive algorithm can
guarantee against an adaptive adversary on the single-machine family (recompute model).

Instance shape as in :func:`kvtheory.theory.preemption.fat_short_instance`: ``L = (0, n, P)``,
``M = n + P``, and up to ``n`` shorts ``(r, M - 1, 1)``; a short needs the whole memory, so
one request runs per round.  The adversary sees everything and, before each decision, may
release one short (any round, not only at ``L``'s progress ``P - 1``); the algorithm then runs
``L`` (starting or continuing it), serves the oldest waiting short (evicting ``L``, whose
progress is lost) or, if allowed, idles.  The game ends when ``L`` is done and no short waits
(shorts released later run at once for both sides and only dilute the ratio).  Its value

    min over algorithms  max over adversaries  ALG / OPT(releases)

is computed by exhaustive minimax with memoisation; ``OPT`` is the exact optimum of the
released instance (:func:`kvtheory.theory.preemption.fat_short_opt`).  Exponential: tiny ``n, P``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from functools import cache
from itertools import pairwise

from kvtheory.model.validation import as_int
from kvtheory.model.checker import check_schedule
from kvtheory.theory.preemption import (
    EVICTION_RULES,
    EvictionRule,
    _fat_params,
    fat_short_instance,
    fat_short_opt,
    fat_short_run,
)
from kvtheory.model.schedule import Schedule

__all__ = [
    "check_preemptive_rules",
    "fat_short_game_value",
    "game_rows",
    "preemptive_adversary_table",
    "thin_short_run",
    "two_phase_instance",
    "two_phase_run",
]


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

    @cache
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

    @cache
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
    from kvtheory.model.instance import Instance
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
        from kvtheory.optimum.exact import solve_optimal
        res = solve_optimal(inst)
        out["opt"] = res.objective if res.proven_optimal else None
    return out


# --------------------------------------------------------------------------- thin-short family
def thin_short_run(rule: EvictionRule, n: int, release: int) -> tuple[int, int]:
    """``(ALG, OPT)`` of ``rule`` on the chapter's construction (recompute model).

    ``L = (0, n^2, n)``, ``n`` shorts ``(release, n, 1)``, ``M = n(n + 1)``; ``L`` starts at 0;
    when the shorts arrive the rule decides once whether to evict ``L`` (then the shorts run
    together and ``L`` restarts) or to finish ``L`` first.  OPT is the exact non-preemptive
    optimum (= recompute optimum by the lemma) from :func:`kvtheory.theory.lower_bounds.opt_cost`.

    Examples
    --------
    >>> from kvtheory.theory.preemption import rent_or_buy
    >>> thin_short_run(rent_or_buy, 4, 1)      # evict at 1: shorts 1 each, L ends at 2 + 4
    (10, 10)
    """
    from kvtheory.theory.lower_bounds import adversarial_instance, opt_cost
    n = as_int(n, name="n", minimum=2)
    r = as_int(release, name="release", minimum=1)
    inst = adversarial_instance(n, r)
    if r < n and rule(r, n - r, n, 0):
        attempts = [[(0, r), (r + 1, r + 1 + n)]] + [[(r, r + 1)]] * n
    else:
        c = max(r, n)
        attempts = [[(0, n)]] + [[(c, c + 1)]] * n
    sched = Schedule.from_attempts(inst, attempts, policy=getattr(rule, "__name__", "rule"))
    return check_schedule(inst, sched, preemptive=True).total_latency, opt_cost(n, r)


# --------------------------------------------------------------------------- tables and plots
def preemptive_adversary_table(ns: Sequence[int], rules: dict | None = None, *,
                               P: int | None = None) -> list[dict]:
    """Ratio per ``n`` and eviction rule on both families (recompute model), worst case each.

    ``fat ratio``: against the adaptive fat-short adversary with ``P`` (default
    ``ceil(sqrt(n))``), releasing at progress ``P - 1`` (the issue's adversary); ``fat best
    response``: the worst over every release progress ``at = 1..P-1`` (with the ``at`` that
    attains it); ``thin ratio``: worst over releases ``r = 1..n`` of the chapter's
    construction; ``two-phase``: for threshold rules (attribute ``k``; never-evict is ``k = 0``)
    the lower bound of :func:`kvtheory.theory.preemption_game.two_phase_run`; ``worst``: the largest.
    Every schedule is checked.

    Examples
    --------
    >>> from kvtheory.theory.preemption import always_evict
    >>> rows = preemptive_adversary_table([16], {"always-evict": always_evict})
    >>> rows[0]["fat ratio"]
    4.0
    """
    rules = EVICTION_RULES if rules is None else rules
    rows = []
    for n in ns:
        for name, rule in rules.items():
            run = fat_short_run(rule, n, P)
            Pn = _fat_params(n, P)[1]
            br = max((fat_short_run(rule, n, P, at=at).ratio, at) for at in range(1, Pn))
            thin = max(a / o for a, o in (thin_short_run(rule, n, r) for r in range(1, n + 1))) \
                if n >= 2 else float("nan")
            rows.append({"n": n, "rule": name, "P": Pn, "fat ALG": run.alg,
                         "fat OPT": run.opt, "fat ratio": run.ratio,
                         "fat best response": br[0], "at": br[1], "thin ratio": thin})
            k = getattr(rule, "k", None)
            two = two_phase_run(n, k)["ratio lower bound"] if k is not None and n >= 2 \
                else float("nan")
            rows[-1]["two-phase"] = two
            rows[-1]["worst"] = max(br[0], thin, 0.0 if math.isnan(two) else two)
    return rows


def check_preemptive_rules(ns: Sequence[int] = (4, 8, 16, 32), *,
                           games: Sequence[tuple[int, int]] = ((2, 3), (3, 3), (3, 4), (4, 4))
                           ) -> dict:
    """One check for the registry (recompute model): every rule's worst ratio and the game values.

    For each ``n`` in ``ns`` (with ``P = n``) runs :func:`preemptive_adversary_table`; reports
    per rule the worst ratio at the largest ``n`` and whether it grows along ``ns``; then solves
    the fat-short game for ``games``.  ``every_rule_defeated`` is ``True`` iff each rule's
    worst ratio grows strictly with ``n``; the exact game value is the best any deterministic
    algorithm can guarantee on that family.  Neither proves the conjecture: status
    ``inconclusive`` unless a general adversary is added.

    Examples
    --------
    >>> rep = check_preemptive_rules((4, 8), games=((2, 3),))
    >>> rep["every_rule_defeated"], rep["max_game_value"]
    (True, 1.125)
    """
    per_rule: dict[str, list[float]] = {}
    rows = []
    for n in ns:
        for row in preemptive_adversary_table([n], P=n):
            per_rule.setdefault(row["rule"], []).append(row["worst"])
            rows.append(row)
    grows = {r: all(b > a for a, b in pairwise(v)) for r, v in per_rule.items()}
    values = game_rows(list(games))
    return {"ns": list(ns), "worst_by_rule": {r: v[-1] for r, v in per_rule.items()},
            "grows": grows, "every_rule_defeated": all(grows.values()),
            "max_game_value": max(g["value"] for g in values), "games": values, "rows": rows}
