"""The adversaries against preemptive rules, and the fat-short game solved exactly: the best ratio any
deterministic preemptive algorithm can guarantee against a fully adaptive adversary on the
single-machine family (recompute model).

**The game.**  Instance shape as in :func:`kvtheory.theory.preemption.fat_short_instance`:
``L = (0, n, P)``, ``M = n + P``, and up to ``n`` shorts ``(r, M - 1, 1)``; a short needs the
whole memory, so one request runs per round.  Decision ``d = 0, 1, ...`` chooses what round
``d + 1`` processes.

* *The adversary* sees everything (the algorithm is deterministic, so it also knows every
  future reply).  Before each decision ``d`` it releases any number of shorts with arrival
  ``d`` (zero included), as long as at most ``n`` are released in all.
* *The algorithm* then sees the releases up to ``d`` and does one of: run ``L`` (start it, or
  continue its current attempt; ``L`` completes after ``P`` consecutive rounds); serve a waiting
  short (if ``L`` is running it is evicted and its progress lost: recompute model); idle, at
  most ``max_idle`` times (a running ``L`` is then evicted too).  Which waiting short is served
  does not matter: the total latency is ``sum c_i - sum a_i`` and the completion times are the
  same.
* *The game ends* when ``L`` has completed and no short waits; the payoff is
  ``ALG / OPT(releases)`` with ``OPT`` the exact optimum of the released instance
  (:func:`fat_short_opt_cost`).  Ending there loses the adversary nothing: from then on the
  algorithm serves each later short at the first free round, which costs exactly the optimum
  ``C`` of those shorts alone, while any schedule of the whole instance pays at least
  ``OPT(before) + C``; and ``(A + C) / (OPT + C') <= A / OPT`` when ``C' >= C`` and
  ``A >= OPT``.

Its value, ``min over algorithms max over adversaries ALG / OPT``, is computed exactly (a
``Fraction``) by memoised minimax (:func:`fat_short_game_value`); the state space grows
exponentially, so a budget ``max_states`` stops it with an error.  The tests compare it with an
independent brute force over release sequences and algorithm decision trees.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cache
from itertools import pairwise

from kvtheory.model.validation import as_int
from kvtheory.model.checker import check_schedule
from kvtheory.theory.preemption import (
    EVICTION_RULES,
    EvictionRule,
    _fat_params,
    fat_short_run,
)
from kvtheory.model.schedule import Schedule

__all__ = [
    "check_preemptive_rules",
    "fat_short_game_value",
    "fat_short_opt_cost",
    "game_line_schedule",
    "game_rows",
    "preemptive_adversary_table",
    "thin_pause_resume",
    "thin_short_run",
    "two_phase_instance",
    "two_phase_run",
]


def fat_short_opt_cost(releases: Sequence[int], P: int) -> int:
    """Exact optimum of the fat-short instance with these short releases (recompute model).

    Single machine, so by the recompute lemma the optimum is non-preemptive: ``L`` occupies
    rounds ``p + 1 .. p + P`` for some ``p``, and the unit shorts, in release order, take the
    earliest free round after their release (optimal for identical unit jobs around a fixed
    block).  ``p`` beyond ``max(releases) + len(releases)`` only delays ``L``.  Same rule as
    :func:`kvtheory.theory.preemption.fat_short_opt` without building the schedule (fast, for the game).

    Examples
    --------
    >>> fat_short_opt_cost([1, 2], 3)        # shorts in rounds 2, 3, L in 4..6: 1 + 1 + 6
    8
    >>> fat_short_opt_cost([], 5)
    5
    """
    P = as_int(P, name="P", minimum=1)
    rel = sorted(as_int(r, name="release", minimum=0) for r in releases)
    if not rel:
        return P
    best = None
    for p in range(rel[-1] + len(rel) + 1):
        cost, last = p + P, 0
        for r in rel:
            t = max(r + 1, last + 1)
            if p < t <= p + P:
                t = p + P + 1
            cost += t - r
            last = t
        best = cost if best is None else min(best, cost)
    return best


def fat_short_game_value(n: int, P: int, *, max_idle: int = 0,
                         max_states: int = 2_000_000) -> dict:
    """Exact value of the fat-short game (rules in the module docstring), as a fraction.

    ``min`` over deterministic online algorithms of ``max`` over adaptive adversaries (any
    number of shorts at any decision, ``n`` in all) of ``ALG / OPT``, by memoised minimax over
    the game tree.  Also returns one line of optimal play: the adversary's releases and the
    algorithm's actions (``"L"`` run ``L``, ``"S"`` serve a short, evicting ``L`` if it runs,
    ``"I"`` idle).

    Examples
    --------
    >>> g = fat_short_game_value(2, 3)     # shorts at 1 and 2 while L runs: 9 against 8
    >>> g["value"], g["releases"], g["actions"]
    (Fraction(9, 8), (1, 2), 'LLLSS')
    >>> fat_short_game_value(1, 5)["value"]       # one short: the algorithm knows the future
    Fraction(1, 1)
    >>> fat_short_game_value(6, 3, max_states=1000)
    Traceback (most recent call last):
    ...
    ValueError: fat-short game n=6, P=3 needs more than max_states=1000 states; raise max_states or shrink n, P

    Parameters
    ----------
    n : int
        Number of shorts the adversary may release (``n >= 1``); also ``L``'s prompt.
    P : int
        ``L``'s output length (``P >= 2``).
    max_idle : int
        How many times the algorithm may idle (0: never).
    max_states : int
        Budget on memoised game states; exceeding it raises ``ValueError``.

    Returns
    -------
    dict
        ``n``, ``P``, ``max_idle``, ``value`` (``Fraction``), ``states``, and the line of
        optimal play: ``releases``, ``actions``, ``ALG``, ``OPT`` (``ALG / OPT == value``).
    """
    n = as_int(n, name="n", minimum=1)
    P = as_int(P, name="P", minimum=2)
    max_idle = as_int(max_idle, name="max_idle", minimum=0)
    max_states = as_int(max_states, name="max_states", minimum=1)
    opt = cache(lambda rel: fat_short_opt_cost(rel, P))
    adv_memo: dict = {}           # state -> (value, shorts released now); None at game end
    alg_memo: dict = {}           # state after the releases -> (value, action)

    def moves(d, prog, done, rel, served, cost, idles):
        out = []
        if not done:                                   # run L (start or continue it)
            out.append(("L", (d + 1, 0, True, rel, served, cost + d + 1, idles) if prog + 1 == P
                        else (d + 1, prog + 1, False, rel, served, cost, idles)))
        if served < len(rel):                          # serve the oldest short, evicting L
            out.append(("S", (d + 1, 0, done, rel, served + 1, cost + d + 1 - rel[served], idles)))
        if idles < max_idle:                           # idle (L, if running, is evicted)
            out.append(("I", (d + 1, 0, done, rel, served, cost, idles + 1)))
        return out

    def adv(state):
        hit = adv_memo.get(state)
        if hit is not None:
            return hit[0]
        if len(adv_memo) + len(alg_memo) >= max_states:
            raise ValueError(f"fat-short game n={n}, P={P} needs more than max_states="
                             f"{max_states} states; raise max_states or shrink n, P")
        d, prog, done, rel, served, cost, idles = state
        if done and served == len(rel):                # game over
            best = (Fraction(cost, opt(rel)), None)
        else:
            best = None
            for m in range(n - len(rel) + 1):
                v = alg((d, prog, done, rel + (d,) * m, served, cost, idles))
                if best is None or v > best[0]:
                    best = (v, m)
        adv_memo[state] = best
        return best[0]

    def alg(state):
        hit = alg_memo.get(state)
        if hit is not None:
            return hit[0]
        best = None
        for act, nxt in moves(*state):
            v = adv(nxt)
            if best is None or v < best[0]:
                best = (v, act)
        alg_memo[state] = best
        return best[0]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        state = (0, 0, False, (), 0, 0, 0)
        value = adv(state)
    finally:
        sys.setrecursionlimit(limit)
    actions = []
    while adv_memo[state][1] is not None:              # replay one line of optimal play
        d, prog, done, rel, served, cost, idles = state
        state = (d, prog, done, rel + (d,) * adv_memo[state][1], served, cost, idles)
        act = alg_memo[state][1]
        actions.append(act)
        state = dict(moves(*state))[act]
    rel, cost = state[3], state[5]
    return {"n": n, "P": P, "max_idle": max_idle, "value": value,
            "states": len(adv_memo) + len(alg_memo), "releases": rel,
            "actions": "".join(actions), "ALG": cost, "OPT": opt(rel)}


def game_line_schedule(game: dict):
    """The line of optimal play of :func:`fat_short_game_value` as a checked instance and schedule.

    Replays ``actions`` against ``releases`` (``"L"`` runs ``L``, ``"S"`` serves the oldest
    waiting short, ``"I"`` idles; ``L`` loses its attempt whenever a round does not run it),
    builds the recompute-model schedule and checks it with ``preemptive=True``.

    Examples
    --------
    >>> inst, sched = game_line_schedule(fat_short_game_value(2, 3))
    >>> sched.total_latency, inst.arrival.tolist()
    (9, [0, 1, 2])
    """
    from kvtheory.theory.preemption import fat_short_instance
    n, P = game["n"], game["P"]
    inst = fat_short_instance(n, list(game["releases"]), P)
    L_att, shorts, start = [], [], None
    for d, act in enumerate(game["actions"]):
        if act == "L":
            start = d if start is None else start
            if d + 1 - start == P:                     # L completes
                L_att.append((start, d + 1))
                start = None
            continue
        if start is not None:                          # L evicted
            L_att.append((start, d))
            start = None
        if act == "S":
            shorts.append([(d, d + 1)])
    sched = Schedule.from_attempts(inst, [L_att] + shorts, policy="game line")
    check_schedule(inst, sched, preemptive=True)
    return inst, sched


def game_rows(cases: Sequence[tuple[int, int]], **kw) -> list[dict]:
    """:func:`fat_short_game_value` for each ``(n, P)``, as table rows (value as text and float).

    Examples
    --------
    >>> [(r["value"], r["ratio"]) for r in game_rows([(1, 2), (2, 3)])]
    [('1', 1.0), ('9/8', 1.125)]
    """
    rows = []
    for n, P in cases:
        g = fat_short_game_value(n, P, **kw)
        rows.append({"n": n, "P": P, "max_idle": g["max_idle"], "value": str(g["value"]),
                     "ratio": float(g["value"]), "states": g["states"],
                     "releases": g["releases"], "actions": g["actions"], "ALG": g["ALG"],
                     "OPT": g["OPT"]})
    return rows


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


def thin_pause_resume(n: int, release: int) -> tuple[int, int]:
    """Resume model on the thin construction: ``(cost of pausing L, resume optimum)``.

    ``L = (0, n^2, n)``, ``n`` shorts ``(r, n, 1)``, ``M = n(n + 1)``; no short fits beside
    ``L``.  The online rule "run ``L``; when the shorts come, pause it for one round, run them
    together, resume ``L``" costs ``2n + 1`` for ``r < n`` (``L`` completes at ``n + 1``) and
    ``2n`` for ``r >= n``.  That is the resume optimum: ``L`` needs ``n`` rounds and each short
    one; for ``r < n`` either a short runs in a round ``<= n`` (``L`` is paused then, so it
    completes at ``n + 1`` or later) or every short waits until round ``n + 1 >= r + 2``.
    The rounds are checked with :func:`kvtheory.theory.preemption.check_resume`.

    Examples
    --------
    >>> thin_pause_resume(4, 1)         # recomputing costs 2n + 2 = 10 here
    (9, 9)
    >>> thin_pause_resume(4, 4)
    (8, 8)
    """
    from kvtheory.theory.lower_bounds import adversarial_instance
    from kvtheory.theory.preemption import check_resume
    n = as_int(n, name="n", minimum=2)
    r = as_int(release, name="release", minimum=1)
    inst = adversarial_instance(n, r)
    if r < n:
        rounds = [list(range(1, r + 1)) + list(range(r + 2, n + 2))] + [[r + 1]] * n
    else:
        rounds = [list(range(1, n + 1))] + [[r + 1]] * n
    return check_resume(inst, rounds), 2 * n + (r < n)


# --------------------------------------------------------------------------- tables and plots
def preemptive_adversary_table(ns: Sequence[int], rules: dict | None = None, *,
                               P: int | None = None) -> list[dict]:
    """Ratio per ``n`` and eviction rule on both families (recompute model), worst case each.

    ``fat ratio``: against the adaptive fat-short adversary with ``P`` (default
    ``ceil(sqrt(n))``), releasing at progress ``P - 1`` (the adversary of :func:`kvtheory.theory.preemption.fat_short_run`); ``fat best
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
    worst ratio grows strictly with ``n``; the exact game value (a ``Fraction``) is the best
    any deterministic algorithm can guarantee against the fully adaptive adversary on that
    family.  Neither proves the conjecture (finite sizes only).

    Examples
    --------
    >>> rep = check_preemptive_rules((4, 8), games=((2, 3), (3, 3)))
    >>> rep["every_rule_defeated"], rep["max_game_value"], rep["max_game"]
    (True, Fraction(6, 5), (3, 3))
    """
    per_rule: dict[str, list[float]] = {}
    rows = []
    for n in ns:
        for row in preemptive_adversary_table([n], P=n):
            per_rule.setdefault(row["rule"], []).append(row["worst"])
            rows.append(row)
    grows = {r: all(b > a for a, b in pairwise(v)) for r, v in per_rule.items()}
    values = [fat_short_game_value(n, P) for n, P in games]
    top = max(values, key=lambda g: g["value"])
    return {"ns": list(ns), "worst_by_rule": {r: v[-1] for r, v in per_rule.items()},
            "grows": grows, "every_rule_defeated": all(grows.values()),
            "max_game_value": top["value"], "max_game": (top["n"], top["P"]),
            "games": values, "rows": rows}
