"""Version 2's semi-online claim: exact optimality when every request is known at round 0.

Version 2 of the paper (abstract only) states that *a polynomial-time
algorithm achieves exact optimality in the semi-online model*.  The model's definition is not
available, so this module tests the claim under explicit readings (our reconstruction,
claim ``clm_semionline_optimal``):

* ``"equal-prompt-2M"``: all requests arrive at 0, all prompts are equal, ``M >= 2 max(s+o)``;
* ``"equal-prompt"``: the same without the memory condition;
* ``"arbitrary"``: all requests arrive at 0 with arbitrary prompt and output sizes.

For each reading it compares polynomial rules (MC-SF, MC-SF that skips instead of stopping,
shortest-first with at most ``k`` starts per round, and the best of all of them) with the
exact optimum, on *every* instance of a small bounded family (exhaustive enumeration) and on
random instances.

The exact optimum of an all-at-zero instance is computed by :func:`exact_optimum_at_zero`, a
dynamic program over (waiting multiset, running requests) that is independent of the integer
program; :func:`kvtheory.optimum.exact.solve_optimal` confirms every counterexample.

For fully identical requests (same ``s`` and ``o``, all at 0) :func:`identical_optimal` is an
exact dynamic program over the start counts of the last ``o - 1`` rounds (claim
``clm_identical_exact``, ours; proof in the book chapter *Semi-online optimality*).

Full-size run: ``python -m kvtheory tables semionline`` (about a minute).
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import admit_future_feasible, make_policy, mc_sf
from kvtheory.model.schedule import Schedule
from kvtheory.engines.simulator import Decision, State, simulate

__all__ = ["READINGS", "FAMILY_SIZES", "ExactResult", "exact_optimum_at_zero", "mc_sf_skip",
           "capped_shortest_first", "semionline_rules", "best_of_rules", "rule_costs",
           "family", "SemiOnlineStats", "evaluate_reading", "random_reading_instance",
           "identical_optimal", "identical_rows",
           ]

#: The readings of "semi-online" that are tested (all requests known at round 0).
READINGS: Mapping[str, str] = {
    "equal-prompt-2M": "all at 0, equal prompts, M >= 2 max(s+o)",
    "equal-prompt": "all at 0, equal prompts, any M",
    "arbitrary": "all at 0, arbitrary prompt and output sizes",
}


# --------------------------------------------------------------------------- exact optimum
@dataclass(frozen=True)
class ExactResult:
    """Result of :func:`exact_optimum_at_zero` or :func:`identical_optimal`.

    Attributes
    ----------
    objective : int
        Minimum total latency.
    starts : tuple of int
        Start round of each request in an optimal schedule (request-id order).
    states : int
        Dynamic-programming states evaluated (a measure of the work done).
    """

    objective: int
    starts: tuple[int, ...]
    states: int

    def schedule(self, instance: Instance) -> Schedule:
        """The optimal schedule as a :class:`~kvtheory.Schedule` of ``instance``."""
        return Schedule.from_starts(instance, list(self.starts), policy="optimal (DP)")


def _require_at_zero(instance: Instance) -> None:
    if not isinstance(instance, Instance):
        raise ValueError(f"instance must be an Instance, got {type(instance).__name__}")
    if instance.n and int(instance.arrival.max()) != 0:
        raise ValueError(f"every request must arrive at round 0 (semi-online reading), got "
                         f"arrivals up to {int(instance.arrival.max())}")


def exact_optimum_at_zero(instance: Instance, *, max_states: int = 2_000_000) -> ExactResult:
    """Minimum total latency of an all-at-zero instance by dynamic programming over states.

    Independent of the integer program.  State at a decision time: the multiset of waiting
    request types and the running requests (type, rounds left).  Every not-yet-completed
    request costs 1 per round, a start set is admissible iff running + started fit in every
    future round with no further start (later starts only add memory), and idling while
    nothing runs is never optimal (shifting everything one round earlier is feasible and
    cheaper), so the recursion is finite and exact.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> exact_optimum_at_zero(inst).objective          # the IP gives 8 too
    8
    >>> exact_optimum_at_zero(Instance.from_arrays([], [], [], memory=3)).objective
    0

    Parameters
    ----------
    instance : Instance
        Every request must arrive at round 0; predictions are ignored.
    max_states : int
        Safety limit on the number of states.

    Returns
    -------
    ExactResult
    """
    _require_at_zero(instance)
    M = instance.memory
    if instance.n == 0:
        return ExactResult(0, (), 0)
    types = sorted({(int(s), int(o)) for s, o in zip(instance.prompt, instance.output)})
    tid = {t: k for k, t in enumerate(types)}
    ids_of = [[i for i in range(instance.n)
               if (int(instance.prompt[i]), int(instance.output[i])) == t] for t in types]
    counts0 = tuple(len(x) for x in ids_of)
    H = max(o for _, o in types)
    memo: dict = {}
    sys_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(sys_limit, 20_000))

    def future(running):
        F = [0] * (H + 1)                      # F[k]: memory in round d + k, k = 1..H
        for k_type, left in running:
            s, o = types[k_type]
            for k in range(1, left + 1):
                F[k] += s + o - left + k
        return F

    def choices(rem, F, any_running):
        # every vector u <= rem with F[k] + sum_u u_type (s + k) <= M for k <= o_type
        out = []

        def rec(j, F_cur, u):
            if j == len(types):
                if any(u) or any_running:
                    out.append(tuple(u))
                return
            s, o = types[j]
            Fj = list(F_cur)
            for x in range(rem[j] + 1):
                if x:
                    ok = True
                    for k in range(1, o + 1):
                        Fj[k] += s + k
                        if Fj[k] > M:
                            ok = False
                    if not ok:
                        break
                rec(j + 1, Fj, u + [x])

        rec(0, F, [])
        return out

    def value(rem, running):
        key = (rem, running)
        if key in memo:
            return memo[key][0]
        if not any(rem) and not running:
            return 0
        if len(memo) >= max_states:
            raise ValueError(f"exact search exceeded max_states={max_states}")
        memo[key] = (math.inf, None)             # guard (the recursion is acyclic)
        pending = sum(rem) + len(running)
        F = future(running)
        best, arg = math.inf, None
        for u in choices(rem, F, bool(running)):
            nxt = [(k, left - 1) for k, left in running if left > 1]
            for j, x in enumerate(u):
                if types[j][1] > 1:
                    nxt.extend([(j, types[j][1] - 1)] * x)
            new_rem = tuple(r - x for r, x in zip(rem, u))
            v = value(new_rem, tuple(sorted(nxt)))
            if v < best:
                best, arg = v, u
        memo[key] = (pending + best, arg)
        return pending + best

    try:
        total = value(counts0, ())
        # follow the argmin to recover start rounds
        starts = [0] * instance.n
        rem, running, d = counts0, (), 0
        taken = [0] * len(types)
        while any(rem) or running:
            u = memo[(rem, running)][1]
            for j, x in enumerate(u):
                for i in ids_of[j][taken[j]: taken[j] + x]:
                    starts[i] = d
                taken[j] += x
            nxt = [(k, left - 1) for k, left in running if left > 1]
            for j, x in enumerate(u):
                if types[j][1] > 1:
                    nxt.extend([(j, types[j][1] - 1)] * x)
            rem = tuple(r - x for r, x in zip(rem, u))
            running = tuple(sorted(nxt))
            d += 1
    finally:
        sys.setrecursionlimit(sys_limit)
    return ExactResult(int(total), tuple(starts), len(memo))


# --------------------------------------------------------------------------- polynomial rules
def mc_sf_skip(state: State, *, key: str = "output") -> Decision:
    """Shortest-first with MC-SF's future check that *skips* a request that does not fit.

    Like :func:`kvtheory.mc_sf`, but a request that would overflow some future round is
    skipped and the walk continues with the next one (ours; one of the polynomial rules tested
    against claim ``clm_semionline_optimal``).  ``key="volume"`` sorts by the memory-time area
    ``s*o + o(o+1)/2`` instead of the output length.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 5, 1], [4, 4, 4], memory=10)
    >>> simulate(inst, mc_sf_skip).total_latency       # MC-SF stops at request 1: 24
    16
    """
    w = state.waiting
    if not len(w):
        return Decision()
    if key == "output":
        order = np.argsort(w.prediction, kind="stable")
    elif key == "volume":
        vol = w.prompt * w.prediction + w.prediction * (w.prediction + 1) // 2
        order = np.argsort(vol, kind="stable")
    else:
        raise ValueError(f"key must be 'output' or 'volume', got {key!r}")
    return Decision(start=admit_future_feasible(state, order, stop_at_first=False))


def capped_shortest_first(state: State, *, cap: int = 1) -> Decision:
    """MC-SF admitting at most ``cap`` requests per round (staggered starts; ours).

    Starting fewer requests per round staggers their completions, which lowers the peaks; it
    is one of the polynomial rules tested against claim ``clm_semionline_optimal``.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0] * 5, [1] * 5, [3] * 5, memory=9)
    >>> simulate(inst, mc_sf).total_latency, simulate(inst, capped_shortest_first).total_latency
    (27, 25)
    """
    cap = as_int(cap, name="cap", minimum=1)
    return Decision(start=mc_sf(state).start[:cap])


def semionline_rules(n: int) -> dict[str, Callable]:
    """The polynomial rules tested: MC-SF, skip variants and the caps ``k = 1..n``.

    Examples
    --------
    >>> sorted(semionline_rules(2))
    ['mc-sf', 'mc-sf-skip', 'mc-sf-skip-volume', 'sf-cap-1', 'sf-cap-2']
    """
    n = as_int(n, name="n", minimum=1)
    rules = {"mc-sf": make_policy(mc_sf, "mc-sf"),
             "mc-sf-skip": make_policy(mc_sf_skip, "mc-sf-skip"),
             "mc-sf-skip-volume": make_policy(mc_sf_skip, "mc-sf-skip-volume", key="volume")}
    for k in range(1, n + 1):
        rules[f"sf-cap-{k}"] = make_policy(capped_shortest_first, f"sf-cap-{k}", cap=k)
    return rules


def rule_costs(instance: Instance, *, check: bool = True) -> dict[str, int]:
    """Total latency of every rule of :func:`semionline_rules` and of their best (``"best-of"``).

    ``"sf-best-cap"`` is the best over the caps; ``"best-of"`` over all rules.  It runs
    ``n + 3`` simulations, so the best-of rule is itself a polynomial algorithm.

    Examples
    --------
    >>> inst = Instance.from_arrays([0] * 5, [1] * 5, [3] * 5, memory=9)
    >>> c = rule_costs(inst)
    >>> c["mc-sf"], c["sf-cap-1"], c["best-of"]
    (27, 25, 25)
    """
    out = {}
    for name, pol in semionline_rules(max(instance.n, 1)).items():
        sched = simulate(instance, pol, name=name)
        if check:
            check_schedule(instance, sched)
        out[name] = sched.total_latency
    caps = [v for k, v in out.items() if k.startswith("sf-cap-")]
    out["sf-best-cap"] = min(caps)
    out["best-of"] = min(out.values())
    return out


def best_of_rules(instance: Instance) -> Schedule:
    """The schedule of the best rule of :func:`semionline_rules` (a polynomial algorithm).

    Examples
    --------
    >>> inst = Instance.from_arrays([0] * 5, [1] * 5, [3] * 5, memory=9)
    >>> best_of_rules(inst).total_latency
    25
    """
    best = None
    for name, pol in semionline_rules(max(instance.n, 1)).items():
        sched = simulate(instance, pol, name=name)
        if best is None or sched.total_latency < best.total_latency:
            best = sched
    return best


# --------------------------------------------------------------------------- instance families
def _reading(reading: str) -> str:
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {list(READINGS)}, got {reading!r}")
    return reading


def family(reading: str, *, max_n: int = 4, max_output: int = 4, prompts: Sequence[int] = (1, 2),
           max_memory: int | None = None) -> Iterator[Instance]:
    """Every instance of a bounded family, ordered by ``n``, then ``M``, then the sizes.

    Requests are multisets of types ``(s, o)`` with ``s`` in ``prompts`` (one common ``s`` for
    the equal-prompt readings) and ``1 <= o <= max_output``; ``M`` runs from the smallest value
    the reading allows (``max(s+o)``, or ``2 max(s+o)``) up to ``sum(s+o) - 1`` (from
    ``sum(s+o)`` on everything starts at once and every rule is optimal), capped at
    ``max_memory``.

    Examples
    --------
    >>> insts = list(family("equal-prompt", max_n=2, max_output=2, prompts=(1,)))
    >>> [(i.n, i.memory, i.output.tolist()) for i in insts]
    [(2, 2, [1, 1]), (2, 3, [1, 1]), (2, 3, [1, 2]), (2, 3, [2, 2]), (2, 4, [1, 2]), (2, 4, [2, 2]),
     (2, 5, [2, 2])]
    """
    _reading(reading)
    max_n = as_int(max_n, name="max_n", minimum=1)
    max_output = as_int(max_output, name="max_output", minimum=1)
    rows = []
    for n in range(1, max_n + 1):
        if reading == "arbitrary":
            types = [(s, o) for s in prompts for o in range(1, max_output + 1)]
            groups = [types]
        else:
            groups = [[(s, o) for o in range(1, max_output + 1)] for s in prompts]
        seen = set()
        for types in groups:
            for combo in itertools.combinations_with_replacement(types, n):
                if combo in seen:
                    continue
                seen.add(combo)
                peak = max(s + o for s, o in combo)
                low = 2 * peak if reading == "equal-prompt-2M" else peak
                high = sum(s + o for s, o in combo) - 1
                if max_memory is not None:
                    high = min(high, max_memory)
                for M in range(low, high + 1):
                    rows.append((n, M, combo))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    for n, M, combo in rows:
        yield Instance.from_arrays([0] * n, [s for s, _ in combo], [o for _, o in combo], M,
                                   name=f"{reading} n={n} M={M}")


def random_reading_instance(rng: np.random.Generator, reading: str, *, n: int = 6,
                            max_prompt: int = 3, max_output: int = 6) -> Instance:
    """A random all-at-zero instance of a reading (``n`` requests).

    Examples
    --------
    >>> inst = random_reading_instance(np.random.default_rng(0), "equal-prompt-2M", n=4)
    >>> len(set(inst.prompt.tolist())), inst.memory >= 2 * int((inst.prompt + inst.output).max())
    (1, True)
    """
    rng = check_generator(rng)
    _reading(reading)
    n = as_int(n, name="n", minimum=1)
    if reading == "arbitrary":
        s = rng.integers(1, max_prompt + 1, size=n)
    else:
        s = np.full(n, int(rng.integers(1, max_prompt + 1)))
    o = rng.integers(1, max_output + 1, size=n)
    peak = int((s + o).max())
    low = 2 * peak if reading == "equal-prompt-2M" else peak
    high = max(low, int((s + o).sum()) - 1)
    M = int(rng.integers(low, high + 1))
    return Instance.from_arrays([0] * n, s, o, M, name=f"random {reading}")


@dataclass(frozen=True)
class SemiOnlineStats:
    """How the rules fare against the exact optimum on one reading.

    Attributes
    ----------
    reading : str
    cases : int
        Instances evaluated.
    optimal_fraction : dict
        Per rule: fraction of instances on which it is exactly optimal.
    worst_ratio : dict
        Per rule: largest total-latency ratio rule / OPT.
    smallest : dict
        Per rule: the first counterexample in the family's order (fewest requests, then
        smallest ``M``) as ``{"n", "M", "prompt", "output", "rule", "opt"}``, or ``None``.
    counterexamples : dict
        Per rule: the smallest counterexample as an :class:`Instance` (or ``None``).
    """

    reading: str
    cases: int
    optimal_fraction: Mapping[str, float]
    worst_ratio: Mapping[str, float]
    smallest: Mapping[str, dict | None]
    counterexamples: Mapping[str, Instance | None] = field(repr=False, default_factory=dict)

    def rows(self) -> list[dict]:
        """One tidy row per rule (for tables)."""
        out = []
        for rule in self.optimal_fraction:
            sm = self.smallest[rule]
            out.append({"reading": self.reading, "rule": rule, "cases": self.cases,
                        "optimal": round(self.optimal_fraction[rule], 4),
                        "worst ratio": round(self.worst_ratio[rule], 4),
                        "smallest counterexample": "-" if sm is None else
                        f"n={sm['n']} M={sm['M']} s={sm['prompt']} o={sm['output']} "
                        f"({sm['rule']} vs {sm['opt']})"})
        return out


_SUMMARY_RULES = ("mc-sf", "mc-sf-skip", "mc-sf-skip-volume", "sf-cap-1", "sf-best-cap", "best-of")


def evaluate_reading(reading: str, instances: Sequence[Instance] | Iterator[Instance]
                     ) -> SemiOnlineStats:
    """Compare every rule with the exact optimum on ``instances`` of ``reading``.

    Each optimum is computed by :func:`exact_optimum_at_zero` and its schedule checked; every
    rule's schedule is checked too, and no rule may beat the optimum (a ``RuntimeError`` says
    so if one ever did).

    Examples
    --------
    >>> st = evaluate_reading("equal-prompt", family("equal-prompt", max_n=2, max_output=2))
    >>> st.cases, st.optimal_fraction["mc-sf"], st.smallest["mc-sf"]
    (17, 1.0, None)
    """
    _reading(reading)
    cases = 0
    hits = {r: 0 for r in _SUMMARY_RULES}
    worst = {r: 1.0 for r in _SUMMARY_RULES}
    smallest: dict = {r: None for r in _SUMMARY_RULES}
    bad: dict = {r: None for r in _SUMMARY_RULES}
    for inst in instances:
        cases += 1
        ex = exact_optimum_at_zero(inst)
        check_schedule(inst, ex.schedule(inst))
        costs = rule_costs(inst)
        for r in _SUMMARY_RULES:
            c = costs[r]
            if c < ex.objective:
                raise RuntimeError(f"rule {r} beats the exact optimum on {inst}: a bug")
            if c == ex.objective:
                hits[r] += 1
            else:
                worst[r] = max(worst[r], c / ex.objective)
                if smallest[r] is None:
                    smallest[r] = {"n": inst.n, "M": inst.memory, "prompt": inst.prompt.tolist(),
                                   "output": inst.output.tolist(), "rule": c, "opt": ex.objective}
                    bad[r] = inst
    frac = {r: (hits[r] / cases if cases else 1.0) for r in _SUMMARY_RULES}
    return SemiOnlineStats(reading, cases, frac, worst, smallest, bad)


# --------------------------------------------------------------------------- identical requests
def identical_optimal(n: int, prompt: int, output: int, memory: int, *,
                      max_states: int = 5_000_000) -> ExactResult:
    """Exact optimum for ``n`` identical requests ``(0, s, o)``: a DP over recent start counts.

    Claim ``clm_identical_exact`` (ours).  State at a decision time: the number ``r`` of
    requests not yet started and the window ``z = (z_1, ..., z_{o-1})``, ``z_j`` = requests
    running with ``j`` rounds left.  The largest admissible start count is
    ``x_max(z) = min_k floor((M - F_z(k)) / (s + k))`` with ``F_z(k)`` the window's memory
    ``k`` rounds ahead; the Bellman equation
    ``V(z, r) = min_{x <= min(r, x_max)} (r - x) + V(shift(z, x), r - x)`` (``x >= 1`` when
    ``z = 0``) gives the minimum of ``sum_i p_i``, and the total latency is that plus ``n o``.
    Work: ``O(n W (M/(s+1)) o)`` with ``W`` the number of reachable windows, which depends only
    on ``(s, o, M)``: linear in ``n``, polynomial for bounded ``o`` (``W <= (M/(s+1)+1)^(o-1)``).

    Examples
    --------
    >>> r = identical_optimal(5, 1, 3, 9)          # MC-SF: starts 0,0,3,3,6, latency 27
    >>> r.objective, r.starts
    (25, (0, 1, 2, 3, 4))
    >>> identical_optimal(0, 1, 3, 9).objective
    0

    Parameters
    ----------
    n, prompt, output, memory : int
        ``n >= 0`` requests with ``s = prompt``, ``o = output``, and ``M = memory >= s + o``.
    max_states : int
        Safety limit.

    Returns
    -------
    ExactResult
        Start rounds sorted increasingly.
    """
    n = as_int(n, name="n", minimum=0)
    s = as_int(prompt, name="prompt", minimum=1)
    o = as_int(output, name="output", minimum=1)
    M = as_int(memory, name="memory", minimum=1)
    if s + o > M:
        raise ValueError(f"a request can never fit: s+o={s + o} > M={M}")
    if n == 0:
        return ExactResult(0, (), 0)
    L = o - 1                                      # window length
    memo: dict = {}

    def x_max(z):
        # F(k) = sum_{j >= k} z_j (s + o - j + k), k = 1..o
        best = M // (s + o) if not any(z) else None
        if best is not None:
            return best
        bound = math.inf
        for k in range(1, o + 1):
            F = sum(z[j - 1] * (s + o - j + k) for j in range(k, L + 1))
            bound = min(bound, (M - F) // (s + k))
        return int(bound)

    # iterative DP in reverse topological order is awkward; use an explicit-stack memo
    def solve(z0, r0):
        stack = [(z0, r0)]
        while stack:
            z, r = stack[-1]
            if (z, r) in memo:
                stack.pop()
                continue
            if r == 0:
                memo[(z, r)] = (0, 0)
                stack.pop()
                continue
            hi = min(r, x_max(z))
            lo = 1 if not any(z) else 0
            missing = []
            for x in range(lo, hi + 1):
                nz = (z[1:] + (x,)) if L else ()
                if (nz, r - x) not in memo:
                    missing.append((nz, r - x))
            if missing:
                if len(memo) + len(stack) > max_states:
                    raise ValueError(f"DP exceeded max_states={max_states}")
                stack.extend(missing)
                continue
            best, arg = math.inf, None
            for x in range(hi, lo - 1, -1):            # ties: the largest start count
                nz = (z[1:] + (x,)) if L else ()
                v = (r - x) + memo[(nz, r - x)][0]
                if v < best:
                    best, arg = v, x
            memo[(z, r)] = (best, arg)
            stack.pop()
        return memo[(z0, r0)][0]

    z, r = (0,) * L, n
    total = solve(z, r)
    starts, d = [], 0
    while r:
        x = memo[(z, r)][1]
        starts.extend([d] * x)
        z = (z[1:] + (x,)) if L else ()
        r -= x
        d += 1
    return ExactResult(int(total + n * o), tuple(starts), len(memo))


def identical_rows(grid: Sequence[tuple[int, int, int, int]], *, ip: bool = True,
                   dp: Callable[..., ExactResult] = identical_optimal,
                   ip_objectives: dict | None = None) -> list[dict]:
    """DP vs integer program (and MC-SF) on a grid of ``(n, s, o, M)``; every schedule checked.

    ``dp`` is the target (default :func:`identical_optimal`; a planted wrong DP measures the
    comparison's power): ``dp(n, s, o, M)`` must return an :class:`ExactResult`.  Its schedule
    goes through the independent checker on the true instance; ``row["valid"]`` is ``False``
    (not an exception) when it breaks the memory.  ``ip_objectives`` (a dict keyed by
    ``(n, s, o, M)``, filled as it goes) lets several targets share the integer program's solves.

    Examples
    --------
    >>> rows = identical_rows([(5, 1, 3, 9)])
    >>> rows[0]["dp"], rows[0]["ip"], rows[0]["mc-sf"], rows[0]["valid"]
    (25, 25, 27, True)
    >>> wide = lambda n, s, o, M: identical_optimal(n, s, o, M + 1)   # one unit too many
    >>> row = identical_rows([(2, 1, 1, 3)], dp=wide)[0]              # two peaks of 2 need 4
    >>> row["dp"], row["ip"], row["valid"]
    (2, 3, False)
    """
    from kvtheory.model.checker import ScheduleError
    rows = []
    known = ip_objectives if ip_objectives is not None else {}
    for n, s, o, M in grid:
        inst = Instance.from_arrays([0] * n, [s] * n, [o] * n, M)
        res = dp(n, s, o, M)
        try:
            check_schedule(inst, res.schedule(inst))
            valid = True
        except ScheduleError:
            valid = False
        row = {"n": n, "s": s, "o": o, "M": M, "dp": res.objective, "states": res.states,
               "valid": valid}
        if ip:
            key = (n, s, o, M)
            if key not in known:
                opt = solve_optimal(inst)
                known[key] = opt.objective if opt.proven_optimal else None
            row["ip"] = known[key]
        sched = simulate(inst, mc_sf)
        check_schedule(inst, sched)
        row["mc-sf"] = sched.total_latency
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- claim checks
#: Default bounded families ``(max_n, max_output, max_memory)`` per reading (prompts 1 and 2).
FAMILY_SIZES: Mapping[str, tuple[int, int, int]] = {
    "equal-prompt-2M": (5, 4, 10), "equal-prompt": (4, 4, 8), "arbitrary": (3, 4, 8)}

