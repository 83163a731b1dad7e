"""Lower bounds: no online algorithm has a constant competitive ratio (v4/v5).

Claims ``clm_lb_deterministic`` (v4/v5, second-hand: every deterministic online algorithm has
ratio ``Omega(sqrt n)``) and ``clm_lb_randomized`` (v2 abstract: neither has any randomized one).
The paper's instances are not available to us; everything here is our reconstruction.

**The family** (parameter ``n >= 2``).  Memory ``M = n(n + 1)``.  One *long* request
``L = (0, n^2, n)`` arriving at round 0; in its ``j``-th round it holds ``n^2 + j``, at most
``M``, so it fits alone, and it leaves ``n - j < n + 1`` free: no short request fits beside it.
Optionally ``n`` *short* requests ``(r, n, 1)`` released together at round ``r``; each needs
``n + 1`` for one round, and all ``n`` together fill ``M`` exactly, so they can run in one round.

**Costs** (total latency).  Closed forms, each the minimum over all non-preemptive schedules
(the argument is in the book chapter; :func:`kvtheory.optimum.exact.solve_optimal` confirms
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
``ALG(d, r) / OPT(r)``.  Only ``r = d + 1`` and ``r = n`` can be best (the construction's
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

Run ``python -m kvtheory tables lower-bounds`` for the full-size tables (larger ``n`` than the book).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable


from kvtheory.model.validation import as_int
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import mc_sf
from kvtheory.model.schedule import Schedule
from kvtheory.engines.simulator import Decision, PolicyError, State, simulate

__all__ = ["long_request", "adversarial_instance", "opt_cost", "alg_cost", "cost_ratio",
           "worst_release", "adversary_ratio", "deterministic_bound", "best_start",
           "delayed", "start_alone_at", "AdversaryRun", "adaptive_adversary", "evict_and_restart", "preemptive_ratios"]


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
        Optimal total latency from :func:`kvtheory.optimum.exact.solve_optimal` (or the closed form
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
        Passed to :func:`kvtheory.optimum.exact.solve_optimal`.
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


# --------------------------------------------------------------------------- checks
# --------------------------------------------------------------------------- figures


def evict_and_restart(n: int, release: int) -> Schedule:
    """The preemptive answer to the construction: start ``L`` at 0, evict it when the shorts come.

    The shorts run at their release ``r`` (all ``n`` fit together once ``L`` is gone) and ``L``
    restarts from scratch (recomputing) at ``r + 1``; if ``L`` is done by ``r``, nothing is
    evicted.  Total latency ``2n + r + 1`` for ``r < n``, so at most 1.5 times the trivial lower
    bound ``sum o = 2n``: the construction defeats no preempting algorithm.

    Examples
    --------
    >>> s = evict_and_restart(4, 1)
    >>> s.total_latency, s.evictions
    (10, 1)
    >>> evict_and_restart(4, 5).total_latency       # L done before the shorts come
    8
    """
    inst = adversarial_instance(n, release)
    r = int(release)
    if r >= n:
        attempts = [[(0, n)]] + [[(r, r + 1)]] * n
    else:
        attempts = [[(0, r), (r + 1, r + 1 + n)]] + [[(r, r + 1)]] * n
    sched = Schedule.from_attempts(inst, attempts, policy="evict L and restart")
    check_schedule(inst, sched, preemptive=True)
    return sched


def preemptive_ratios(ns) -> list[dict]:
    """Worst ratio of :func:`evict_and_restart` over every release, against ``sum o`` and OPT.

    Examples
    --------
    >>> preemptive_ratios([4])[0]["worst vs sum o"]       # release r = n - 1: 3n / 2n
    1.5
    """
    rows = []
    for n in ns:
        worst_lb, worst_opt = 0.0, 0.0
        for r in range(1, n + 2):
            s = evict_and_restart(n, r)
            worst_lb = max(worst_lb, s.total_latency / (2 * n))
            worst_opt = max(worst_opt, s.total_latency / opt_cost(n, r))
        rows.append({"n": n, "worst vs sum o": worst_lb, "worst vs non-preemptive OPT": worst_opt})
    return rows
