"""Separate batching: version 2's stochastic model as we reconstruct it (claim ``clm_constant_regret``).

A talk abstract by one of the authors (*second-hand*) describes version 2's stochastic model as
*separate batching*: a batch is all prompts or all tokens, and a compensated-coupling argument
gives constant regret.  Everything below is **our reconstruction**.

**Model.**  Request types ``k`` with prompt ``s_k``, output ``o_k`` and probability ``p_k``;
in every round ``t < T`` a Poisson(``rate``) or Bernoulli(``rate``) number of requests arrives
(:class:`kvtheory.theory.regret.ArrivalModel`).  In every round the server runs one batch:

* a **prompt batch** (``'P'``): it prefills any set of waiting requests (arrived in this round
  or earlier); a request prefilled in round ``p`` holds ``s_i`` from round ``p`` on;
* a **token batch** (``'D'``): *every* running request makes one token; in the round of its
  ``j``-th token it holds ``s_i + j``.  Its tokens are made in the first ``o_i`` token rounds
  after ``p``; it completes at ``c_i`` = (round of its last token) + 1 and frees its memory.

In every round the memory of the running requests (prefilled, not completed) is at most ``M``.
Latency ``c_i - a_i`` (at least ``o_i + 1``: one prompt round and ``o_i`` token rounds); the
objective is the total latency, which equals the sum over rounds of the number of requests in
the system.  An idle round is a prompt batch that prefills nobody.  A schedule is the word of
round kinds plus each request's prefill round; :func:`check_separate` verifies it
independently.  Between completions the running requests only grow, so a set of running
requests fits every future round iff it fits at its *future peak* (MC-SF's check).

**Regret** of a policy on a sample path: its total latency minus the **hindsight optimum** of
the same path (:func:`hindsight_optimum`: an exact dynamic program over (waiting counts,
running counts); when its frontier exceeds a budget it records a proven lower bound and goes on
as a beam search, whose schedule is an upper bound).  The best online policy (an exact MDP)
and the regret measurements are in :mod:`kvtheory.studies.regret_study`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from kvtheory.model.validation import as_int
from kvtheory.model.instance import Instance
from kvtheory.theory.regret import ArrivalModel

__all__ = ["SeparateSchedule", "SepState", "HindsightResult", "check_separate",
           "simulate_separate", "hindsight_optimum", "brute_force_optimum", "prefill_first",
           "decode_first", "lp_plan", "lp_policy", "SEPARATE_TYPES"]

#: Default types ``(s, o, p)`` of the separate-batching chapter (ours): half short, half long.
SEPARATE_TYPES = ((1, 2, 0.5), (2, 4, 0.5))


@dataclass(frozen=True)
class SeparateSchedule:
    """A separate-batching schedule: ``kinds[t]`` is ``'P'`` or ``'D'``; request ``i`` is
    prefilled in round ``prefill[i]``.

    Examples
    --------
    >>> SeparateSchedule("PDD", (0,)).kinds
    'PDD'
    >>> SeparateSchedule("PXD", (0,))
    Traceback (most recent call last):
    ...
    ValueError: kinds must be a string of 'P' and 'D', got 'PXD'
    """

    kinds: str
    prefill: tuple[int, ...]

    def __post_init__(self):
        if not isinstance(self.kinds, str) or set(self.kinds) - {"P", "D"}:
            raise ValueError(f"kinds must be a string of 'P' and 'D', got {self.kinds!r}")
        object.__setattr__(self, "prefill", tuple(int(p) for p in self.prefill))


def check_separate(inst: Instance, sched: SeparateSchedule) -> int:
    """Check a separate-batching schedule independently; return its total latency.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=6)
    >>> check_separate(inst, SeparateSchedule("PPDD", (0, 1)))   # both done at 4: 4 + 3
    7
    >>> check_separate(inst, SeparateSchedule("PDPDD", (0, 2)))  # tokens 1, 3 and 3, 4
    8
    >>> check_separate(inst, SeparateSchedule("PDPD", (0, 2)))
    Traceback (most recent call last):
    ...
    ValueError: request 1 gets only 1 of its 2 token rounds after its prefill round 2
    >>> check_separate(Instance.from_arrays([0, 0], [2, 2], [2, 2], memory=7),
    ...                SeparateSchedule("PDD", (0, 0)))
    Traceback (most recent call last):
    ...
    ValueError: memory 8 > M=7 in round 2
    """
    if len(sched.prefill) != inst.n:
        raise ValueError(f"need one prefill round per request ({inst.n}), got {len(sched.prefill)}")
    kinds, L = sched.kinds, len(sched.kinds)
    d_rounds = np.array([t for t, k in enumerate(kinds) if k == "D"], dtype=np.int64)
    mem = np.zeros(L + 1, dtype=np.int64)
    total = 0
    for i, (a, s, o, p) in enumerate(zip(inst.arrival.tolist(), inst.prompt.tolist(),
                                         inst.output.tolist(), sched.prefill)):
        if not 0 <= p < L or kinds[p] != "P":
            raise ValueError(f"request {i}: prefill round {p} is not a prompt round")
        if p < a:
            raise ValueError(f"request {i}: prefilled in round {p} before its arrival {a}")
        toks = d_rounds[d_rounds > p][:o]
        if toks.size < o:
            raise ValueError(f"request {i} gets only {toks.size} of its {o} token rounds after "
                             f"its prefill round {p}")
        c = int(toks[-1]) + 1
        held = s + np.searchsorted(toks, np.arange(p, c), side="right")
        mem[p:c] += held
        total += c - a
    over = np.nonzero(mem > inst.memory)[0]
    if over.size:
        t = int(over[0])
        raise ValueError(f"memory {int(mem[t])} > M={inst.memory} in round {t}")
    return int(total)


# --------------------------------------------------------------------------- state machinery
@lru_cache(maxsize=64)
def _machine(types: tuple, memory: int):
    """Slots ``(k, g)`` (type, tokens done), their memory at future token rounds, transitions."""
    slots = [(k, g) for k, (_, o) in enumerate(types) for g in range(o)]
    omax = max(o for _, o in types)
    C = np.array([[s + g + j if g + j <= o else 0 for j in range(1, omax + 1)]
                  for k, g in slots for s, o in [types[k]]], dtype=np.int64)
    nxt = [slots.index((k, g + 1)) if g + 1 < types[k][1] else -1 for k, g in slots]
    first = [slots.index((k, 0)) for k in range(len(types))]
    return slots, C, nxt, first


def _peak(run, C) -> int:
    return int((np.asarray(run, dtype=np.int64) @ C).max()) if any(run) else 0


def _advance(run, nxt) -> tuple:
    out = [0] * len(run)
    for i, n in enumerate(run):
        if n and nxt[i] >= 0:
            out[nxt[i]] += n
    return tuple(out)


def _admit(run, x, first) -> tuple:
    out = list(run)
    for k, n in enumerate(x):
        out[first[k]] += n
    return tuple(out)


def _admissions(w, run, C, first, M, *, zero: bool, cache: dict | None = None):
    """Every feasible admission vector ``x <= w`` (``zero``: include the empty one).

    The peak grows with ``x``, so each coordinate stops at its first infeasible value.
    ``cache`` maps a running vector to its peak (shared by a whole search)."""
    cache = {} if cache is None else cache
    K = len(w)

    def fits(r):
        pk = cache.get(r)
        if pk is None:
            pk = cache[r] = _peak(r, C)
        return pk <= M

    def rec(k, x, r):
        if k == K:
            if zero or any(x):
                yield tuple(x)
            return
        for v in range(w[k] + 1):
            rv = r if v == 0 else r[:first[k]] + (r[first[k]] + v,) + r[first[k] + 1:]
            if v and not fits(rv):
                break
            yield from rec(k + 1, x + [v], rv)

    yield from rec(0, [], tuple(run))


@dataclass(frozen=True)
class SepState:
    """What a policy sees at the start of round ``t`` (after that round's arrivals).

    Attributes
    ----------
    t : int
    waiting : tuple of int
        Waiting requests per type.
    running : tuple of int
        Running requests per slot ``(k, g)`` (type ``k``, ``g`` tokens done), type-major.
    types : tuple of (s, o)
    memory : int
    horizon : int
        Arrivals happen in rounds ``0 .. horizon-1``.
    """

    t: int
    waiting: tuple[int, ...]
    running: tuple[int, ...]
    types: tuple[tuple[int, int], ...]
    memory: int
    horizon: int

    def fits(self, x) -> bool:
        """Whether the running requests plus admissions ``x`` fit every future round."""
        _, C, _, first = _machine(self.types, self.memory)
        return _peak(_admit(self.running, x, first), C) <= self.memory


def _types_of(inst: Instance, types=None):
    pairs = list(zip(inst.prompt.tolist(), inst.output.tolist()))
    types = tuple(sorted(set(pairs))) if types is None else tuple((int(s), int(o))
                                                                  for s, o, *_ in types)
    try:
        kind = [types.index(p) for p in pairs]
    except ValueError:
        raise ValueError(f"a request's (s, o) is not among the types {types}") from None
    return types, kind


def _arrival_matrix(inst: Instance, kind, K: int, horizon: int) -> np.ndarray:
    A = np.zeros((max(horizon, int(inst.arrival.max(initial=-1)) + 1), K), dtype=np.int64)
    for a, k in zip(inst.arrival.tolist(), kind):
        A[a, k] += 1
    return A


def _to_schedule(inst: Instance, kind, actions) -> SeparateSchedule:
    """Turn per-round count actions into a schedule (FIFO within a type)."""
    queues = [sorted((a, i) for i, (a, k) in enumerate(zip(inst.arrival.tolist(), kind))
                     if k == kk) for kk in range(max(kind, default=-1) + 1)]
    prefill = [0] * inst.n
    for t, x in enumerate(actions):
        for k, n in enumerate(x or ()):
            for _ in range(n):
                prefill[queues[k].pop(0)[1]] = t
    return SeparateSchedule("".join("D" if x is None else "P" for x in actions), tuple(prefill))


# --------------------------------------------------------------------------- policies
def _greedy(state: SepState) -> tuple:
    """Shortest output first, one request at a time, stop at the first that does not fit."""
    x = [0] * len(state.types)
    for k in sorted(range(len(state.types)), key=lambda k: state.types[k][::-1]):
        while x[k] < state.waiting[k]:
            x[k] += 1
            if not state.fits(x):
                x[k] -= 1
                return tuple(x)
    return tuple(x)


def prefill_first(state: SepState):
    """Greedy baseline: a prompt batch whenever a waiting request fits, else a token batch.

    Examples
    --------
    >>> st = SepState(0, (2, 0), (0, 0, 0, 0, 0, 0), ((1, 2), (2, 4)), 6, 1)
    >>> prefill_first(st)                      # two (1, 2) peak at 2 * 3 = 6
    (2, 0)
    >>> prefill_first(SepState(1, (0, 0), (0, 2, 0, 0, 0, 0), ((1, 2), (2, 4)), 6, 1)) is None
    True
    """
    x = _greedy(state)
    return x if any(x) or not any(state.running) else None


def decode_first(state: SepState):
    """Static batching: token batches while anything runs; then admit greedily.

    Examples
    --------
    >>> decode_first(SepState(1, (3, 0), (0, 1, 0, 0, 0, 0), ((1, 2), (2, 4)), 6, 2)) is None
    True
    """
    return None if any(state.running) else _greedy(state)


def lp_plan(state: SepState, rates: Sequence[float], window: int):
    """The re-solved fluid LP: fractional prompt rounds ``u`` and admissions ``x[k, e]``.

    Over the next ``window`` token steps ``e = 0 .. E-1`` (``e = 0``: now) it chooses
    ``u_e in [0, 1]`` (a prompt round before token step ``e + 1``) and ``x[k, e] >= 0``,
    with ``x[k, e] <= cap_k u_e`` (``cap_k = floor(M / (s_k + 1))``), cumulative admissions
    at most ``waiting_k + rates_k * e`` (expected arrivals; none after the horizon), memory at
    every token step ``j``: running memory + ``sum x[k, e] (s_k + j - e)`` over ``e < j <=
    e + o_k`` at most ``M``, and backlog ``b_k`` = what is left unadmitted.  Cost: a prompt
    round stalls everyone in the system (``u_e (N + sum rates e)``), an admission at step
    ``e`` waits ``e``, a unit of backlog costs ``E + o_k + 1``.  Solved by HiGHS.

    Examples
    --------
    >>> st = SepState(0, (4, 0), (0,) * 6, ((1, 2), (2, 4)), 10, 5)
    >>> u, x, cost = lp_plan(st, (0.3, 0.3), 4)
    >>> round(u, 3), [round(v, 3) for v in x]      # fluid: 10/3 fit (peak 3 each), u = x/5
    (0.667, [3.333, 0.0])
    """
    from scipy.optimize import linprog
    types, M = state.types, state.memory
    _, C, _, _ = _machine(types, M)
    K, E = len(types), as_int(window, name="window", minimum=1)
    left = max(0, state.horizon - state.t - 1)
    avail = [[state.waiting[k] + rates[k] * min(e, left) for e in range(E)] for k in range(K)]
    nu, nx = E, K * E
    xi = lambda k, e: nu + k * E + e                                     # noqa: E731
    n = nu + nx + K
    N0 = sum(state.waiting) + sum(state.running)
    c = np.zeros(n)
    c[:nu] = [N0 + sum(rates) * min(e, left) for e in range(E)]
    for k in range(K):
        c[[xi(k, e) for e in range(E)]] = np.arange(E)
        c[nu + nx + k] = E + types[k][1] + 1
    rows, rhs = [], []
    run_mem = np.asarray(state.running, dtype=np.int64) @ C
    for k, (s, o) in enumerate(types):
        for e in range(E):
            r = np.zeros(n)
            r[xi(k, e)], r[e] = 1.0, -float(M // (s + 1))
            rows.append(r); rhs.append(0.0)                              # noqa: E702
            r = np.zeros(n)
            r[[xi(k, f) for f in range(e + 1)]] = 1.0
            rows.append(r); rhs.append(avail[k][e])                      # noqa: E702
        r = np.zeros(n)
        r[[xi(k, e) for e in range(E)]] = -1.0
        r[nu + nx + k] = -1.0
        rows.append(r); rhs.append(-(state.waiting[k] + rates[k] * min(E, left)))  # noqa: E702
    for j in range(1, E + 1):
        r = np.zeros(n)
        for k, (s, o) in enumerate(types):
            for e in range(j):
                if j <= e + o:
                    r[xi(k, e)] = s + j - e
        rows.append(r); rhs.append(M - (run_mem[j - 1] if j <= run_mem.size else 0))  # noqa
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs),
                  bounds=[(0, 1)] * nu + [(0, None)] * (nx + K), method="highs")
    if res.status != 0:
        raise RuntimeError(f"the fluid LP failed: {res.message}")
    return float(res.x[0]), [float(res.x[xi(k, 0)]) for k in range(K)], float(res.fun)


def lp_policy(model: ArrivalModel, window: int | None = None) -> Callable:
    """Re-solving policy (our reading of the recipe of Vera and Banerjee, 2021).

    Every round it re-solves the fluid LP :func:`lp_plan` (current state, expected future
    arrivals) once per candidate action and takes the action whose successor state looks best:
    candidates are a token batch (if anything runs), the LP's own admissions ``x[k, 0]``
    rounded to the nearest integer and *compensated* (while the set does not fit, drop a
    request of the longest type), the greedy admission of :func:`prefill_first`, and idling
    when nothing runs.  A successor is scored by the rounds its requests still need at least
    (``o_k + 1`` per waiting request, the remaining tokens per running one) plus the LP's
    optimal cost from it; ties go to the token batch.

    Examples
    --------
    >>> pol = lp_policy(ArrivalModel(0.3, types=((1, 2, 1.0),), memory=6, process="bernoulli"))
    >>> pol(SepState(0, (1,), (0, 0), ((1, 2),), 6, 5))        # nothing runs: admit
    (1,)
    >>> pol(SepState(1, (1,), (1, 0), ((1, 2),), 6, 5))     # prefilling now beats waiting
    (1,)
    """
    probs = {(s, o): p for s, o, p in model.types}
    E = window or 2 * max(o for _, o, _ in model.types)

    def lp_resolve(state: SepState):
        if not any(state.waiting):
            return None if any(state.running) else tuple(state.waiting)
        types, M = state.types, state.memory
        _, C, nxt, first = _machine(types, M)
        rates = [model.rate * probs.get(t, 0.0) for t in types]
        _, x0, _ = lp_plan(state, rates, E)
        x = [min(w, int(math.floor(v + 0.5))) for w, v in zip(state.waiting, x0)]
        order = sorted(range(len(x)), key=lambda k: -types[k][1])
        while any(x) and not state.fits(x):
            x[next(k for k in order if x[k])] -= 1
        running = any(state.running)
        cands = ([None] if running else [tuple(0 for _ in types)]) + [tuple(x), _greedy(state)]
        best, pick = math.inf, None
        for a in dict.fromkeys(cands):
            if a is not None and not any(a) and running:
                continue
            if a is None:
                w, run = state.waiting, _advance(state.running, nxt)
            else:
                w = tuple(n - v for n, v in zip(state.waiting, a))
                run = _admit(state.running, a, first)
            nxt_state = SepState(state.t + 1, w, run, types, M, state.horizon)
            rest = sum(n * (o + 1) for n, (_, o) in zip(w, types)) + sum(
                n * (types[k][1] - g) for n, (k, g) in zip(run, _machine(types, M)[0]))
            score = rest + lp_plan(nxt_state, rates, E)[2]
            if score < best - 1e-9:
                best, pick = score, a
        return pick

    lp_resolve.name = f"lp re-solve (E={E})"
    return lp_resolve


def simulate_separate(inst: Instance, policy: Callable, *, types=None,
                      horizon: int | None = None) -> SeparateSchedule:
    """Run ``policy(state) -> None | x`` (``None``: token batch; ``x``: admissions per type).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=6)
    >>> sched = simulate_separate(inst, prefill_first)
    >>> sched, check_separate(inst, sched)
    (SeparateSchedule(kinds='PPDD', prefill=(0, 1)), 7)
    """
    types, kind = _types_of(inst, types)
    M = inst.memory
    _, C, nxt, first = _machine(types, M)
    last = int(inst.arrival.max(initial=-1))
    T = max(last + 1, horizon or 0)
    A = _arrival_matrix(inst, kind, len(types), T)
    w, run = (0,) * len(types), (0,) * C.shape[0]
    actions, limit = [], T + 2 * (int(inst.output.sum()) + inst.n) + 10
    for t in range(limit + 1):
        if t < A.shape[0]:
            w = tuple(int(a + b) for a, b in zip(w, A[t]))
        if t > last and not any(w) and not any(run):
            return _to_schedule(inst, kind, actions)
        x = policy(SepState(t, w, run, types, M, T))
        if x is None:
            run = _advance(run, nxt)
        else:
            x = tuple(int(v) for v in x)
            if len(x) != len(types) or any(v < 0 or v > n for v, n in zip(x, w)) \
                    or _peak(_admit(run, x, first), C) > M:
                raise ValueError(f"round {t}: policy admitted {x} with waiting {w}: infeasible")
            run, w = _admit(run, x, first), tuple(n - v for n, v in zip(w, x))
        actions.append(x)
    raise RuntimeError(f"policy did not finish within {limit} rounds")


# --------------------------------------------------------------------------- the benchmark
@dataclass(frozen=True)
class HindsightResult:
    """Hindsight optimum of one sample path: ``lower <= OPT <= value`` (equal when ``exact``).

    Attributes
    ----------
    value : int
        Total latency of ``schedule`` (the optimum when ``exact``).
    lower : int
        A proven lower bound on the optimum.
    exact : bool
    schedule : SeparateSchedule
    states : int
        Largest frontier seen.
    """

    value: int
    lower: int
    exact: bool
    schedule: SeparateSchedule
    states: int


def hindsight_optimum(inst: Instance, *, types=None, max_states: int = 20000,
                      upper: int | None = None) -> HindsightResult:
    """Minimum total latency of ``inst`` under separate batching, knowing all arrivals.

    A forward dynamic program over rounds whose state is (waiting counts per type, running
    counts per (type, tokens done)); within a type the order is irrelevant because the cost
    is the number of requests in the system summed over rounds.  Branch and bound against
    ``upper`` (default: :func:`prefill_first`'s cost) with the bound "every request still
    needs its remaining rounds".  If the frontier exceeds ``max_states`` the minimum of
    (cost + bound) over it is recorded as ``lower`` (valid: the optimal path passes through
    it) and the search continues as a beam of the ``max_states`` best states.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=6)
    >>> r = hindsight_optimum(inst)
    >>> r.value, r.lower, r.exact, check_separate(inst, r.schedule)
    (7, 7, True, 7)
    """
    types, kind = _types_of(inst, types)
    M, K = inst.memory, len(types)
    _, C, nxt, first = _machine(types, M)
    max_states = as_int(max_states, name="max_states", minimum=1)
    last = int(inst.arrival.max(initial=-1))
    A = _arrival_matrix(inst, kind, K, last + 1)
    need = np.array([o + 1 for _, o in types])
    fut = np.concatenate([np.cumsum((A @ need)[::-1])[::-1], [0]]).tolist()
    fut_at = lambda r: fut[r] if r < len(fut) else 0                       # noqa: E731
    rem = [types[k][1] - g for k, g in _machine(types, M)[0]]

    def h(state):
        return sum(a * b for a, b in zip(state[0], need)) + sum(a * b for a, b in zip(state[1], rem))

    fallback = None
    if upper is None:
        fallback = simulate_separate(inst, prefill_first, types=types)
        upper = check_separate(inst, fallback)
    cache: dict = {}
    frontier = {((0,) * K, (0,) * C.shape[0]): 0}
    parents, best, best_t, lower, biggest = [], math.inf, None, None, 1
    t = 0
    while frontier:
        if t <= last:
            frontier = {(tuple(int(a + b) for a, b in zip(w, A[t])), run): c
                        for (w, run), c in frontier.items()}
        new, par = {}, {}
        for st, c in frontier.items():
            w, run = st
            N = sum(w) + sum(run)
            if t > last and N == 0:
                if c < best:
                    best, best_t = c, t
                continue
            acts = [None] if any(run) else []
            acts += list(_admissions(w, run, C, first, M, zero=t < last, cache=cache))
            for x in acts:
                ns = (w, _advance(run, nxt)) if x is None else \
                    (tuple(a - b for a, b in zip(w, x)), _admit(run, x, first))
                nc = c + N
                if nc + h(ns) + fut_at(t + 1) > upper or new.get(ns, math.inf) <= nc:
                    continue
                new[ns], par[ns] = nc, (st, x)
        parents.append(par)
        biggest = max(biggest, len(new))
        if len(new) > max_states:
            if lower is None:
                lower = min(c + h(s) + fut_at(t + 1) for s, c in new.items())
            new = dict(sorted(new.items(), key=lambda kv: kv[1] + h(kv[0]))[:max_states])
        frontier = new
        t += 1
    if best_t is None:                               # the beam lost every path: keep the bound
        sched = fallback or simulate_separate(inst, prefill_first, types=types)
        val = check_separate(inst, sched)
        return HindsightResult(val, int(lower if lower is not None else val), lower is None,
                               sched, biggest)
    actions, state = [None] * best_t, ((0,) * K, (0,) * C.shape[0])
    for r in range(best_t - 1, -1, -1):
        prev, x = parents[r][state]
        actions[r] = x
        state = (tuple(a - b for a, b in zip(prev[0], A[r])) if r <= last else prev[0], prev[1])
    sched = _to_schedule(inst, kind, actions)
    val = check_separate(inst, sched)
    if val != best:
        raise RuntimeError(f"DP value {best} but its schedule costs {val}: a bug")
    exact = lower is None
    return HindsightResult(int(val), int(val if exact else min(lower, val)), exact, sched, biggest)


def brute_force_optimum(inst: Instance, *, max_rounds: int | None = None) -> int:
    """Exhaustive search over request *identities* (tiny instances only; tests the DP).

    Every round: a token batch, or a prompt batch with any subset of the waiting requests;
    memory is summed request by request.

    Examples
    --------
    >>> brute_force_optimum(Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=6))
    7
    """
    arr, s, o = inst.arrival.tolist(), inst.prompt.tolist(), inst.output.tolist()
    n, M = inst.n, inst.memory
    L = max_rounds or max(arr, default=0) + sum(x + 1 for x in o) + 1
    best = [math.inf]

    def go(t, pre, tok, cost):       # pre[i]: prefilled?  tok[i]: tokens done (-1: not started)
        done = [tok[i] == o[i] for i in range(n)]
        if all(done):
            best[0] = min(best[0], cost)
            return
        if t >= L or cost >= best[0]:
            return
        present = sum(1 for i in range(n) if arr[i] <= t and not done[i])
        running = [i for i in range(n) if pre[i] and not done[i]]
        if running:
            if sum(s[i] + tok[i] + 1 for i in running) <= M:
                go(t + 1, pre, tuple(x + 1 if i in running else x for i, x in enumerate(tok)),
                   cost + present)
        waiting = [i for i in range(n) if not pre[i] and arr[i] <= t]
        base = sum(s[i] + tok[i] for i in running)
        for mask in range(1 << len(waiting)):
            pick = [waiting[b] for b in range(len(waiting)) if mask >> b & 1]
            if base + sum(s[i] for i in pick) <= M:
                go(t + 1, tuple(pre[i] or i in pick for i in range(n)),
                   tuple(0 if i in pick else x for i, x in enumerate(tok)), cost + present)

    go(0, (False,) * n, (-1,) * n, 0)
    return int(best[0])
