"""Lower bounds: no online algorithm has a constant competitive ratio (DIGEST section 4).

Claims ``clm_lb_deterministic`` (v4/v5, second-hand: every deterministic online algorithm has
ratio ``Omega(sqrt n)``) and ``clm_lb_randomized`` (v2 abstract: neither has any randomized one).
The paper's instances are not available to us; everything here is our reconstruction.

**The family** (parameter ``n >= 2``).  Memory ``M = n(n + 1)``.  One *long* request
``L = (0, n^2, n)`` arriving at round 0; in its ``j``-th round it holds ``n^2 + j``, at most
``M``, so it fits alone, and it leaves ``n - j < n + 1`` free: no short request fits beside it.
Optionally ``n`` *short* requests ``(r, n, 1)`` released together at round ``r``; each needs
``n + 1`` for one round, and all ``n`` together fill ``M`` exactly, so they can run in one round.

**Costs** (total latency).  Closed forms, each the minimum over all non-preemptive schedules
(the argument is in the book chapter; :func:`kvtheory.optimal.solve_optimal` confirms
``OPT``):

* no shorts: ``OPT = n``; an algorithm that starts ``L`` at ``d`` pays ``d + n``;
* shorts at ``r``: ``OPT(r) = min(2n + r + 1, 2n + n max(n - r, 0))`` (shorts first, then
  ``L``; or ``L`` at 0 and the shorts once it is done);
* an algorithm that started ``L`` at ``d < r`` pays at least
  ``ALG(d, r) = d + n + n (max(d + n - r, 0) + 1)`` (the shorts wait until ``L`` is done); one
  that had not started ``L`` when the shorts arrived pays at least ``2n + r + 1``.

**Deterministic adversary** (:func:`adaptive_adversary`).  A deterministic policy's decisions
before the shorts arrive depend only on ``L``: run it on ``L`` alone to learn its start round
``d``, then release the shorts at the round ``r > d`` (or not at all) that maximises
``ALG(d, r) / OPT(r)``.  Only ``r = d + 1`` and ``r = n`` can be best (DIGEST's construction
uses ``d + 1`` only; ``r = n`` is the round at which the optimum could have finished ``L``, and
beats ``d + 1`` when ``d`` is large).  The best a deterministic algorithm can then guarantee is
:func:`deterministic_bound`, ``~ (sqrt 3 - 1)/2 * n``, which is ``Theta(n) = Theta(sqrt M)`` with
``n + 1`` requests.

**Randomized algorithms** (:func:`solve_game`).  On this family every non-preemptive
algorithm, deterministic or randomized, is a mixture of the strategies "start ``L`` at ``d``
unless the shorts arrive first, then answer optimally"; the adversary picks ``r`` (or no shorts).
The zero-sum game with payoff ``ALG(d, r) / OPT(r)`` (for a fixed instance ``E[ALG]/OPT =
E[ALG/OPT]``, so this is exactly the competitive ratio) is solved by linear programming; its value
is the best ratio any randomized algorithm can guarantee on the family, a lower bound on its
competitive ratio (Yao's principle).  An explicit adversary distribution
(:func:`yao_distribution`) proves the value is at least :func:`yao_analytic_bound`,
``~ sqrt(n) / (2 sqrt 6)``, for every ``n``.

Run ``python -m kvtheory.lower_bounds`` for the full-size tables (larger ``n`` than the book).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import linprog

from ._validation import as_int
from .checker import check_schedule
from .instance import Instance
from .optimal import solve_optimal
from .policies import mc_sf
from .schedule import Schedule
from .simulator import Decision, PolicyError, State, simulate

__all__ = ["long_request", "adversarial_instance", "opt_cost", "alg_cost", "cost_ratio",
           "worst_release", "adversary_ratio", "deterministic_bound", "best_start",
           "delayed", "start_alone_at", "AdversaryRun", "adaptive_adversary",
           "game_matrix", "pure_value", "GameResult", "solve_game", "yao_distribution", "yao_bound",
           "yao_analytic_bound", 
           "plot_deterministic", "plot_ratio_vs_start", "plot_game"]


# --------------------------------------------------------------------------- validation
def _size(n) -> int:
    return as_int(n, name="n", minimum=2)


def _release(release):
    return None if release is None else as_int(release, name="release", minimum=0)


# --------------------------------------------------------------------------- instances
def long_request(n: int) -> Instance:
    """The long request alone: ``L = (0, n^2, n)`` with ``M = n(n + 1)``.

    Examples
    --------
    >>> inst = long_request(3)
    >>> inst.prompt.tolist(), inst.output.tolist(), inst.memory
    ([9], [3], 12)
    >>> long_request(1)
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 2, got 1
    """
    n = _size(n)
    return Instance.from_arrays([0], [n * n], [n], memory=n * (n + 1), name=f"L alone, n={n}")


def adversarial_instance(n: int, release: int | None) -> Instance:
    """``L = (0, n^2, n)`` plus ``n`` short requests ``(release, n, 1)``; ``M = n(n + 1)``.

    Request 0 is ``L``; requests ``1..n`` are the shorts.  ``release=None`` gives ``L`` alone.

    Examples
    --------
    >>> inst = adversarial_instance(3, 2)
    >>> inst.arrival.tolist(), inst.prompt.tolist(), inst.output.tolist(), inst.memory
    ([0, 2, 2, 2], [9, 3, 3, 3], [3, 1, 1, 1], 12)
    >>> adversarial_instance(3, None).n
    1
    """
    n, release = _size(n), _release(release)
    if release is None:
        return long_request(n)
    return Instance.from_arrays([0] + [release] * n, [n * n] + [n] * n, [n] + [1] * n,
                                memory=n * (n + 1), name=f"lower bound n={n}, r={release}")


# --------------------------------------------------------------------------- closed forms
def opt_cost(n: int, release: int | None) -> int:
    """Optimal total latency of :func:`adversarial_instance` ``(n, release)``.

    ``OPT = n`` without shorts, else ``min(2n + r + 1, 2n + n max(n - r, 0))``: either the
    shorts run at ``r`` and ``L`` starts at ``r + 1``, or ``L`` starts at 0 and the shorts run
    once it is done (no short ever fits beside ``L``).

    Examples
    --------
    >>> opt_cost(4, None), opt_cost(4, 1), opt_cost(4, 3), opt_cost(4, 4)
    (4, 10, 12, 8)
    """
    n, r = _size(n), _release(release)
    if r is None:
        return n
    return min(2 * n + r + 1, 2 * n + n * max(n - r, 0))


def alg_cost(n: int, start: int, release: int | None) -> int:
    """Least total latency of a non-preemptive algorithm whose plan is to start ``L`` at ``start``.

    If ``start < release`` (or there are no shorts) ``L`` runs in rounds ``start+1 .. start+n``
    and the shorts cannot start before ``L`` is done:
    ``start + n + n (max(start + n - r, 0) + 1)``.  If ``start >= release`` the algorithm saw
    the shorts before starting ``L``, and its best continuation (shorts at ``r``, ``L`` at
    ``r + 1``) costs ``2n + r + 1``.

    Examples
    --------
    >>> alg_cost(4, 0, 1)          # L at 0, shorts at 1 wait until round 4: 4 + 4*4
    20
    >>> alg_cost(4, 2, None), alg_cost(4, 5, 3)
    (6, 12)
    """
    n, r = _size(n), _release(release)
    d = as_int(start, name="start", minimum=0)
    if r is None:
        return d + n
    if d >= r:
        return 2 * n + r + 1
    return d + n + n * (max(d + n - r, 0) + 1)


def cost_ratio(n: int, start: int, release: int | None) -> float:
    """``alg_cost(n, start, release) / opt_cost(n, release)``: one entry of the game.

    Examples
    --------
    >>> cost_ratio(4, 0, 1)
    2.0
    """
    return alg_cost(n, start, release) / opt_cost(n, release)


def worst_release(n: int, start: int) -> int | None:
    """The adversary's best answer to an algorithm that starts ``L`` at ``start``.

    The release ``r > start`` (or ``None``, no shorts) maximising :func:`cost_ratio`.  For
    ``start < r <= n - 1`` the ratio decreases in ``r`` (``ALG`` falls, ``OPT`` rises) and for
    ``r >= n`` ``OPT = 2n`` is constant while ``ALG`` falls, so only ``start + 1``,
    ``max(n, start + 1)`` and ``None`` are candidates.

    Examples
    --------
    >>> worst_release(8, 0), worst_release(8, 6), worst_release(8, 100)
    (1, 8, None)
    """
    n = _size(n)
    d = as_int(start, name="start", minimum=0)
    cands = [d + 1, max(n, d + 1), None]
    return max(cands, key=lambda r: (cost_ratio(n, d, r), r is not None))


def adversary_ratio(n: int, start: int) -> float:
    """Ratio the adaptive adversary forces on an algorithm that starts ``L`` alone at ``start``.

    ``max_{r > start or none} ALG(start, r) / OPT(r)`` (claim ``clm_lb_deterministic``).

    Examples
    --------
    >>> round(adversary_ratio(8, 0), 3), round(adversary_ratio(8, 5), 3)
    (4.0, 3.812)
    """
    return cost_ratio(n, start, worst_release(n, start))


def best_start(n: int) -> int:
    """The start round of ``L`` minimising :func:`adversary_ratio` (smallest if tied).

    For ``start >= n - 1`` the adversary answers ``start + 1 >= n`` with ratio
    ``(n^2 + n + start) / (2n)``, increasing in ``start``, so the search stops at ``n``.

    Examples
    --------
    >>> best_start(8), best_start(64)
    (4, 45)
    """
    n = _size(n)
    return min(range(n + 1), key=lambda d: (adversary_ratio(n, d), d))


def deterministic_bound(n: int) -> float:
    """Least competitive ratio a deterministic non-preemptive algorithm can have on the family.

    Claim ``clm_lb_deterministic``: every deterministic online algorithm has ratio at least
    ``min_d max_r ALG(d, r) / OPT(r)``, which grows like ``(sqrt 3 - 1)/2 * n ~ 0.366 n``, i.e.
    ``Theta(sqrt M)`` and ``Theta(number of requests)``.

    Examples
    --------
    >>> round(deterministic_bound(8), 4), round(deterministic_bound(64), 3)
    (3.4545, 24.029)
    """
    return adversary_ratio(n, best_start(n))


# --------------------------------------------------------------------------- policies
def delayed(policy: Callable[[State], Decision], wait: int) -> Callable[[State], Decision]:
    """A policy that starts nothing before decision time ``wait``, then acts as ``policy``.

    Examples
    --------
    >>> from kvtheory import simulate
    >>> [r.start for r in simulate(long_request(3), delayed(mc_sf, 5)).records]
    [5]
    >>> delayed(mc_sf, 5).name
    'mc_sf after 5'
    """
    wait = as_int(wait, name="wait", minimum=0)

    def waiting(state: State) -> Decision:
        return Decision() if state.t < wait else policy(state)

    base = getattr(policy, "name", None) or getattr(policy, "__name__", "policy")
    waiting.name = f"{base} after {wait}"
    return waiting


def start_alone_at(start: int, then: Callable[[State], Decision] = mc_sf
                   ) -> Callable[[State], Decision]:
    """The game's pure strategy: start a lone request at ``start`` unless others arrive first.

    While exactly one request is waiting and nothing runs, wait until decision time ``start``;
    otherwise act as ``then`` (default MC-SF, which on the family runs the shorts at once and
    ``L`` next, or keeps ``L`` running and the shorts waiting).  The rule is memoryless, so a
    request left alone again also waits for ``start``: on :func:`adversarial_instance`
    ``(n, r)``, ``start_alone_at(min(d, r))`` realises :func:`alg_cost` ``(n, d, r)`` exactly.

    Examples
    --------
    >>> from kvtheory import simulate
    >>> simulate(adversarial_instance(4, 2), start_alone_at(2)).total_latency   # 2n + r + 1
    11
    >>> simulate(adversarial_instance(4, 2), start_alone_at(1)).total_latency   # alg_cost(4, 1, 2)
    21
    """
    start = as_int(start, name="start", minimum=0)

    def policy(state: State) -> Decision:
        if len(state.waiting) == 1 and not len(state.running) and state.t < start:
            return Decision()
        return then(state)

    policy.name = f"start alone at {start}"
    return policy


# --------------------------------------------------------------------------- the adversary
class _GaveUp(Exception):
    pass


@dataclass(frozen=True)
class AdversaryRun:
    """Outcome of :func:`adaptive_adversary` against one deterministic policy.

    Attributes
    ----------
    policy : str
    n : int
    start : int or None
        Decision time at which the policy started ``L`` alone (``None``: not by ``max_wait``).
    release : int or None
        Release round of the shorts the adversary chose (``None``: no shorts).
    instance : Instance
        The instance the adversary built.
    schedule : Schedule or None
        The policy's schedule on it (``None`` if the policy stalled: it never finished).
    alg : float
        Its total latency (``inf`` if it stalled).
    opt : int
        Optimal total latency from :func:`kvtheory.optimal.solve_optimal` (or the closed form
        if ``solve=False``).
    opt_closed_form : int
        :func:`opt_cost`.
    proven_optimal : bool
        Whether the solver proved ``opt`` optimal.
    ratio : float
        ``alg / opt``.
    derived : float
        The lower bound the closed forms give for this start: ``alg_cost / opt_cost``.
    preemptive : bool
        Whether the policy evicted (the bound assumes non-preemptive algorithms).
    """

    policy: str
    n: int
    start: int | None
    release: int | None
    instance: Instance = field(repr=False)
    schedule: Schedule | None = field(repr=False)
    alg: float
    opt: int
    opt_closed_form: int
    proven_optimal: bool
    ratio: float
    derived: float
    preemptive: bool

    def row(self) -> dict:
        """The run as a flat dict (for tables)."""
        return {"policy": self.policy, "n": self.n, "start": self.start,
                "release": self.release, "ALG": self.alg, "OPT": self.opt,
                "ratio": self.ratio, "derived": self.derived, "preemptive": self.preemptive}


def _probe_start(policy, n: int, max_wait: int) -> int | None:
    def probe(state: State) -> Decision:
        if state.t > max_wait and len(state.waiting):        # L still not started
            raise _GaveUp
        return policy(state)

    try:
        sched = simulate(long_request(n), probe, name="probe")
    except _GaveUp:
        return None
    return sched.records[0].first_start


def _run_policy(policy, instance: Instance, name: str) -> Schedule | None:
    try:
        return simulate(instance, policy, name=name)
    except PolicyError:           # stalled or livelocked: the policy never finishes
        return None


def adaptive_adversary(policy: Callable[[State], Decision], n: int, *,
                       max_wait: int | None = None, solve: bool = True,
                       time_limit: float | None = None, name: str | None = None,
                       opt_cache: dict | None = None) -> AdversaryRun:
    """Build the worst instance of the family for a deterministic policy, run it, compare with OPT.

    Claim ``clm_lb_deterministic``: the ratio is at least ``adversary_ratio(n, d)`` (``d`` = the
    policy's start round of ``L`` alone), hence at least :func:`deterministic_bound` ``(n)``,
    for every non-preemptive deterministic policy.

    Steps: (1) simulate the policy on ``L`` alone to learn its start round ``d`` (its decisions
    before the shorts arrive cannot depend on them); (2) for each candidate release
    ``r in {d + 1, max(n, d + 1), none}`` simulate the policy on the full instance and keep the
    ``r`` with the largest ratio; (3) solve the optimum exactly and check every schedule.  A
    policy that has not started ``L`` by ``max_wait`` (default ``n^2``) gets the shorts at
    ``max_wait + 1``; it then pays at least ``2n + max_wait + 1`` against ``OPT = 2n``.

    Examples
    --------
    >>> from kvtheory import POLICIES
    >>> run = adaptive_adversary(POLICIES["mc-sf"], 4)
    >>> run.start, run.release, run.alg, run.opt, run.ratio
    (0, 1, 20, 10, 2.0)
    >>> adaptive_adversary(delayed(mc_sf, 3), 4).release     # late start: release at n
    4

    Parameters
    ----------
    policy : callable
        Deterministic ``policy(state) -> Decision``.
    n : int
        Family size (``n >= 2``).
    max_wait : int, optional
        How long to wait for the policy to start ``L`` alone (default ``n^2``).
    solve : bool
        Solve the optimum with the integer program (default) or use the closed form.
    time_limit : float, optional
        Passed to :func:`kvtheory.optimal.solve_optimal`.
    name : str, optional
        Label (default: the policy's ``name`` or ``__name__``).
    opt_cache : dict, optional
        ``{(n, release): OptimalResult}`` reused across calls (the optimum depends only on the
        instance).

    Raises
    ------
    ValueError
        If the policy is not deterministic (it starts ``L`` at a different round once the
        shorts exist, before they arrived), or the optimum disagrees with the closed form.
    """
    n = _size(n)
    max_wait = n * n if max_wait is None else as_int(max_wait, name="max_wait", minimum=0)
    label = name or getattr(policy, "name", None) or getattr(policy, "__name__", "policy")
    d = _probe_start(policy, n, max_wait)
    eff = max_wait + 1 if d is None else d
    cands = [max_wait + 1] if d is None else sorted({d + 1, max(n, d + 1)}) + [None]
    best = None
    for r in cands:
        inst = adversarial_instance(n, r)
        sched = _run_policy(policy, inst, label)
        if sched is not None and d is not None and (r is None or d < r) \
                and sched.records[0].first_start != d:
            raise ValueError(f"policy {label!r} is not deterministic: it started L at "
                             f"{sched.records[0].first_start} on the full instance but at {d} "
                             f"on L alone, although the shorts arrive only at {r}")
        alg = math.inf if sched is None else sched.total_latency
        ratio = alg / opt_cost(n, r)
        if best is None or ratio > best[0]:
            best = (ratio, r, inst, sched, alg)
    _, r, inst, sched, alg = best
    if sched is not None:
        check_schedule(inst, sched)
    closed = opt_cost(n, r)
    if solve:
        key = (n, r)
        res = opt_cache.get(key) if opt_cache is not None else None
        if res is None:
            res = solve_optimal(inst, time_limit=time_limit)
            if opt_cache is not None:
                opt_cache[key] = res
        check_schedule(inst, res.schedule, preemptive=False)
        opt, proven = int(res.objective), bool(res.proven_optimal)
        if proven and opt != closed:
            raise ValueError(f"n={n}, r={r}: the integer program's optimum {opt} differs from "
                             f"the closed form {closed}")
    else:
        opt, proven = closed, False
    return AdversaryRun(label, n, d, r, inst, sched, alg, opt, closed, proven, alg / opt,
                        alg_cost(n, eff, r) / closed,
                        bool(sched is not None and sched.evictions > 0))


# --------------------------------------------------------------------------- the game
def game_matrix(n: int, max_release: int) -> np.ndarray:
    """Payoff matrix ``A[r, d] = ALG(d, r) / OPT(r)`` of the randomized lower-bound game.

    Rows: releases ``r = 1 .. max_release``, then "no shorts" (last row).  Columns: start rounds
    ``d = 0 .. max_release`` (column ``max_release`` also stands for every later start, which it
    dominates on these rows).  Entries equal :func:`cost_ratio`.

    Examples
    --------
    >>> A = game_matrix(4, 6)
    >>> A.shape
    (7, 7)
    >>> float(A[0, 0]), float(A[-1, 2])           # r = 1, d = 0; no shorts, d = 2
    (2.0, 1.5)
    """
    n = _size(n)
    R = as_int(max_release, name="max_release", minimum=1)
    return _payoff(n, R, np.arange(R + 1, dtype=np.int64))


def _payoff(n: int, R: int, starts: np.ndarray) -> np.ndarray:
    """Columns ``starts`` of :func:`game_matrix` ``(n, R)``."""
    d = starts[None, :]
    r = np.arange(1, R + 1, dtype=np.int64)[:, None]
    started = d + n + n * (np.maximum(d + n - r, 0) + 1)
    cost = np.where(d < r, started, 2 * n + r + 1)
    opt = np.minimum(2 * n + r + 1, 2 * n + n * np.maximum(n - r, 0))
    return np.vstack([cost / opt, (d + n) / n]).astype(float)


def pure_value(n: int, max_release: int) -> float:
    """Deterministic value ``min_d max_r A[r, d]`` of :func:`game_matrix` ``(n, max_release)``.

    Computed in blocks of columns, so large families fit in memory.  With
    ``max_release >= n^2`` it equals :func:`deterministic_bound` (the adversary's best answers
    ``d + 1``, ``n`` and "no shorts" are all rows, and later starts cost more); smaller
    families cap it, since starting after every release is then safe.

    Examples
    --------
    >>> pure_value(8, 64) == deterministic_bound(8)
    True
    >>> pure_value(8, 10)           # waiting past round 10 is safe in this small family
    2.25
    """
    n = _size(n)
    R = as_int(max_release, name="max_release", minimum=1)
    best = math.inf
    for lo in range(0, R + 1, 512):
        cols = np.arange(lo, min(lo + 512, R + 1), dtype=np.int64)
        best = min(best, float(_payoff(n, R, cols).max(axis=0).min()))
    return best


@dataclass(frozen=True)
class GameResult:
    """Solution of the lower-bound game (:func:`solve_game`).

    Attributes
    ----------
    n : int
    max_release : int
        Largest release round in the adversary's family (columns go to the same round).
    value : float
        Game value: the least ratio a randomized algorithm can guarantee on the family.
    lower, upper : float
        Certificates: ``min_d (q A)_d`` for the adversary's mix ``q`` (every algorithm, also
        every randomized one, has expected ratio ``>= lower`` on it; Yao) and ``max_r (A p)_r``
        for the algorithm's mix ``p``.
    pure_value : float
        Best ratio of a deterministic algorithm on the same finite family (``min_d max_r A``;
        capped by ``(max_release + n) / n``, see :func:`pure_value`).
    algorithm_mix : ndarray
        ``p[d]``: probability of starting ``L`` alone at ``d``.
    adversary_mix : ndarray
        ``q`` over the rows (releases ``1..max_release``, then no shorts).
    support_max : int
        Latest start with positive probability in ``p``.
    exact : bool
        Whether the value holds for the unbounded family (all releases and starts): true when
        ``max_release >= max(n, support_max + 1)`` (later rows cannot be worse for ``p``, later
        columns are dominated).
    seconds : float
    """

    n: int
    max_release: int
    value: float
    lower: float
    upper: float
    pure_value: float
    algorithm_mix: np.ndarray = field(repr=False)
    adversary_mix: np.ndarray = field(repr=False)
    support_max: int
    exact: bool
    seconds: float

    def row(self) -> dict:
        """Flat dict for tables."""
        return {"n": self.n, "value": self.value, "deterministic": deterministic_bound(self.n),
                "value/sqrt(n)": self.value / math.sqrt(self.n),
                "releases": self.max_release, "latest start": self.support_max,
                "exact": self.exact, "seconds": round(self.seconds, 2)}


def _solve_matrix_game(A: np.ndarray):
    """min_p max_r (A p)_r over mixed p; returns p, q (dual), value."""
    m, k = A.shape
    c = np.r_[np.zeros(k), 1.0]
    res = linprog(c, A_ub=np.c_[A, -np.ones(m)], b_ub=np.zeros(m),
                  A_eq=np.r_[np.ones(k), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0, None)] * k + [(None, None)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed on the game: {res.message}")
    p = np.clip(res.x[:k], 0, None)
    p /= p.sum()
    q = np.clip(-res.ineqlin.marginals, 0, None)
    q /= q.sum()
    return p, q, float(res.fun)


def solve_game(n: int, max_release: int | None = None, *, grow: bool = True) -> GameResult:
    """Solve the randomized lower-bound game exactly with :func:`scipy.optimize.linprog`.

    Claim ``clm_lb_randomized``: every randomized non-preemptive online algorithm has expected
    ratio at least ``value`` on the family (hence competitive ratio ``>= value``).

    The program is ``min v`` subject to ``A p <= v``, ``sum p = 1``, ``p >= 0``; the adversary's
    mix ``q`` is its dual solution.  With ``grow`` the family is doubled until the value is
    exact for unbounded release rounds (see :class:`GameResult`).

    Examples
    --------
    >>> g = solve_game(4)
    >>> round(g.value, 4), round(deterministic_bound(4), 4), g.exact
    (1.4164, 1.9091, True)
    >>> abs(g.upper - g.lower) < 1e-8
    True

    Parameters
    ----------
    n : int
    max_release : int, optional
        Largest release (default ``n + ceil(n^1.5)``: the algorithm's optimal mix spreads over
        about ``0.94 n^1.5`` rounds).
    grow : bool
        Double ``max_release`` until :attr:`GameResult.exact`.
    """
    n = _size(n)
    R = (n + math.ceil(n ** 1.5)) if max_release is None else as_int(
        max_release, name="max_release", minimum=1)
    t0 = time.perf_counter()
    while True:
        A = game_matrix(n, R)
        p, q, v = _solve_matrix_game(A)
        supp = int(np.flatnonzero(p > 1e-12).max())
        exact = R >= max(n, supp + 1)
        if exact or not grow:
            break
        R *= 2
    lower, upper = float((q @ A).min()), float((A @ p).max())
    pure = float(A.max(axis=0).min())
    return GameResult(n, R, v, lower, upper, pure, p, q, supp, exact,
                      time.perf_counter() - t0)


def yao_distribution(n: int) -> tuple[int, np.ndarray]:
    """An explicit adversary mix proving ``Omega(sqrt n)`` for randomized algorithms.

    With probability 1/2 no shorts; with probability 1/2 shorts at ``r`` uniform on
    ``1 .. K``, ``K = n m``, ``m = ceil(sqrt(n / 6))``.  Returns ``(K, q)`` with ``q`` over the
    rows of :func:`game_matrix` ``(n, K)``.

    Examples
    --------
    >>> K, q = yao_distribution(24)
    >>> K, float(q[-1]), float(q[:-1].sum())
    (48, 0.5, 0.5)
    """
    n = _size(n)
    m = math.ceil(math.sqrt(n / 6))
    K = n * m
    q = np.r_[np.full(K, 0.5 / K), 0.5]
    return K, q


def yao_bound(n: int) -> float:
    """``min_d E_q[ALG(d, r) / OPT(r)]`` for :func:`yao_distribution`: a proven lower bound.

    Every deterministic algorithm of the family has expected ratio at least this on ``q``; by
    averaging, so has every randomized one against its worst release (Yao's principle).

    Examples
    --------
    >>> round(yao_bound(24), 4)
    2.1655
    """
    K, q = yao_distribution(n)
    return float((q @ game_matrix(n, K)).min())


def yao_analytic_bound(n: int) -> float:
    """Closed-form lower bound on :func:`yao_bound`: ``min(1/2 + (n+1)/(12m), m/2 + 1/(2n))``.

    For ``d <= K - n`` the releases ``d + 1 .. d + n`` find ``L`` running and cost ratio at
    least ``(d + n + 1 - r)/3`` each (``OPT <= 3n``), summing to ``n(n + 1)/6``; for
    ``d > K - n`` the no-shorts instance alone costs ``(d + n)/n > K/n``.  With
    ``m ~ sqrt(n/6)`` both terms grow like ``sqrt(n) / (2 sqrt 6)``.

    Examples
    --------
    >>> round(yao_analytic_bound(24), 4), round(yao_analytic_bound(600), 3)
    (1.0208, 5.001)
    """
    n = _size(n)
    m = math.ceil(math.sqrt(n / 6))
    return min(0.5 + (n + 1) / (12 * m), m / 2 + 1 / (2 * n))


# --------------------------------------------------------------------------- checks
# --------------------------------------------------------------------------- figures
def _ax(ax):
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    return ax


def plot_deterministic(per_n: Sequence[dict], ax=None):
    """Measured smallest ratio against ``n`` beside the derived bound and ``sqrt(n)``.

    ``per_n`` are the rows of ``check_lb_deterministic(...).details["per_n"]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_deterministic([{"n": 2, "min ratio": 1.0, "registry min ratio": 1.0},
    ...                          {"n": 4, "min ratio": 1.6, "registry min ratio": 2.0}])
    >>> len(ax.lines) >= 3
    True
    """
    ax = _ax(ax)
    n = np.array([r["n"] for r in per_n])
    grid = np.arange(2, n.max() + 1)
    ax.plot(grid, [deterministic_bound(int(k)) for k in grid], color="black", lw=1,
            label="derived bound $\\min_d \\max_r$ ALG/OPT")
    ax.plot(grid, (math.sqrt(3) - 1) / 2 * grid, color="gray", ls="--", lw=1,
            label="$(\\sqrt{3}-1)\\,n/2$")
    ax.plot(grid, np.sqrt(grid), color="tab:green", ls=":", label="$\\sqrt{n}$")
    ax.scatter(n, [r["min ratio"] for r in per_n], color="tab:red", zorder=3,
               label="measured: best policy vs adversary")
    ax.scatter(n, [r["registry min ratio"] for r in per_n], marker="x", color="tab:blue",
               zorder=3, label="measured: registered policies")
    ax.set_xlabel("n  (n + 1 requests, M = n(n+1))")
    ax.set_ylabel("ALG / OPT")
    ax.legend(fontsize="small")
    return ax


def plot_ratio_vs_start(n: int, runs: Sequence[AdversaryRun] = (), ax=None):
    """The adversary's ratio as a function of the start round ``d`` of ``L`` (derived curve).

    Measured runs (from :func:`adaptive_adversary`) are overlaid as points.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> len(plot_ratio_vs_start(6).lines)     # three curves and the best start
    4
    """
    ax = _ax(ax)
    n = _size(n)
    d = np.arange(0, 2 * n + 1)
    ax.plot(d, [cost_ratio(n, int(k), int(k) + 1) for k in d], ls="--", lw=1,
            label="release at d + 1")
    ax.plot(d, [cost_ratio(n, int(k), max(n, int(k) + 1)) for k in d], ls=":", lw=1,
            label="release at max(n, d + 1)")
    ax.plot(d, [adversary_ratio(n, int(k)) for k in d], color="black", lw=1.5,
            label="adversary's best answer")
    if runs:
        ax.scatter([r.start for r in runs], [r.ratio for r in runs], color="tab:red", zorder=3,
                   label="measured (simulation / exact OPT)")
    ax.axvline(best_start(n), color="gray", lw=0.8)
    ax.set_xlabel("start round d of the long request")
    ax.set_ylabel("ALG / OPT")
    ax.set_title(f"n = {n}, M = {n * (n + 1)}")
    ax.legend(fontsize="small")
    return ax


def plot_game(rows: Sequence[dict], ax=None):
    """Game value (randomized) and deterministic value against ``n``, with the Yao bounds.

    ``rows`` are ``check_lb_randomized(...).details["per_n"]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_game([{"n": 4, "value": 1.4, "deterministic": 1.9, "yao bound": 1.0,
    ...                  "analytic bound": 0.6}, {"n": 8, "value": 1.8, "deterministic": 3.4,
    ...                  "yao bound": 1.2, "analytic bound": 0.9}])
    >>> ax.get_xscale()
    'log'
    """
    ax = _ax(ax)
    n = np.array([r["n"] for r in rows], dtype=float)
    val = np.array([r["value"] for r in rows])
    ax.plot(n, [r["deterministic"] for r in rows], "s-", color="tab:blue",
            label="deterministic (pure) value")
    ax.plot(n, val, "o-", color="tab:red", label="randomized game value (LP)")
    ax.plot(n, [r["yao bound"] for r in rows], "^--", color="tab:orange",
            label="explicit Yao distribution")
    ax.plot(n, [r["analytic bound"] for r in rows], ":", color="tab:orange",
            label="its closed-form bound")
    ax.plot(n, val[-1] * np.sqrt(n / n[-1]), color="gray", lw=1, ls="--",
            label="$\\propto \\sqrt{n}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(n, [str(int(k)) for k in n])
    ax.minorticks_off()
    ax.set_xlabel("n  (n + 1 requests, M = n(n+1))")
    ax.set_ylabel("competitive ratio")
    ax.legend(fontsize="small")
    return ax

