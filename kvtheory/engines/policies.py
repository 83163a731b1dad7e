"""Scheduling policies: plain functions ``policy(state) -> Decision``.

Every policy here has two parts, an **admission rule** (which waiting requests start) and an
**eviction rule** (what to do when the running requests alone would overflow the next round,
``state.overflow > 0``).  Parameters the paper leaves open are keyword arguments with
documented defaults; make variants with :func:`functools.partial` (or :func:`make_policy`,
which also names them).  :data:`POLICIES` is the registry every "all policies" test runs over.

Rules (MC-SF is Algorithm 1 of v4/v5, the benchmarks are those of its experiments; *paper* = arXiv 2502.07115 v4/v5, *2nd* = known from
third-party write-ups, *ours* = our default for what is not known):

* :func:`mc_sf`: walk waiting requests by predicted output (ties: arrival, id), add each to the
  batch while the *predicted* memory of running + batch stays ``<= M`` at every future round;
  stop at the first failure (paper, Algorithm 1).
* :func:`mc_benchmark`: the same check in FCFS order (paper).
* :func:`alpha_protection_greedy`: FCFS while the next round's memory stays ``<= (1-alpha) M``;
  on overflow clear the cache (2nd).
* :func:`alpha_protection_beta_clearing`: as above, but on overflow evict a fraction ``beta`` of
  the running requests, newest first (2nd; the victim order is ours).
* :func:`vllm_style`: FCFS while the next round's memory stays ``<= M - watermark``; on overflow
  preempt the latest-arrived running request until it fits (after vLLM's recompute preemption).
"""

from __future__ import annotations

import math
from functools import partial, update_wrapper
from typing import Callable, Mapping

import numpy as np

from kvtheory.model.validation import as_fraction
from kvtheory.engines.simulator import Decision, State

__all__ = ["mc_sf", "mc_benchmark", "alpha_protection_greedy", "alpha_protection_beta_clearing",
           "vllm_style", "predicted_memory", "admit_future_feasible", "make_policy", "POLICIES",
           "PAPER_BENCHMARKS"]

_VICTIM_ORDERS = ("newest", "latest-arrival")


# --------------------------------------------------------------------------- shared helpers
def predicted_memory(state: State, horizon: int | None = None,
                     keep: np.ndarray | None = None) -> np.ndarray:
    """Predicted memory of the running requests in rounds ``t+1, t+2, ...``.

    A running request started at ``p`` with prompt ``s`` and prediction ``õ`` is predicted to
    hold ``s + (τ - p)`` in round ``τ`` until its predicted completion ``max(p + õ, t + 1)``: a
    request that has outlived its prediction is predicted to finish in the next round.  Element
    ``k`` of the result is round ``t + 1 + k``; element 0 equals ``state.usage_next``.

    Computed in ``O(running + horizon)`` with suffix sums: ``mem(τ) = A(τ) + τ C(τ)`` where
    ``A`` sums ``s - p`` and ``C`` counts over requests predicted to run in round ``τ``.

    Examples
    --------
    >>> from kvtheory.engines.simulator import Jobs, State
    >>> import numpy as np
    >>> a = lambda *x: np.array(x, dtype=np.int64)
    >>> run = Jobs(id=a(0, 1), arrival=a(0, 0), prompt=a(2, 1), prediction=a(3, 1),
    ...            start=a(0, 1), evicted_at=a(-1, -1))
    >>> none = Jobs(*(a() for _ in range(6)))
    >>> st = State(t=1, memory=10, waiting=none, running=run, usage_next=6)
    >>> predicted_memory(st).tolist()      # rounds 2 and 3
    [6, 5]
    >>> predicted_memory(st, horizon=4).tolist()
    [6, 5, 0, 0]

    Parameters
    ----------
    state : State
    horizon : int, optional
        Length of the result (default: up to the last predicted completion).
    keep : ndarray of bool, optional
        Mask over ``state.running`` selecting the requests to include (default all).
    """
    window = getattr(state, "_window", None)    # the engines keep this profile incrementally
    if window is not None and keep is None and horizon is not None and int(horizon) > 0:
        fast = window(int(horizon))
        if fast is not None:
            return fast
    run = state.running
    p, s, pr = run.start, run.prompt, run.prediction
    if keep is not None:
        p, s, pr = p[keep], s[keep], pr[keep]
    t = state.t
    end = np.maximum(p + pr, t + 1)                      # predicted completion rounds
    last = int(end.max()) - t if end.size else 0
    H = last if horizon is None else int(horizon)
    if H <= 0:
        return np.zeros(0, dtype=np.int64)
    # bin each request at its last predicted round (clipped to the horizon: it still covers
    # every round of the result), then suffix sums give A(τ) and C(τ)
    idx = np.minimum(end - (t + 1), H - 1)
    A = np.bincount(idx, weights=s - p, minlength=H)
    C = np.bincount(idx, minlength=H)
    A = np.cumsum(A[::-1])[::-1].astype(np.int64)
    C = np.cumsum(C[::-1])[::-1].astype(np.int64)
    tau = np.arange(t + 1, t + 1 + H, dtype=np.int64)
    return A + tau * C


def _victims(state: State, amount: int, order: str, minimum: int = 0) -> list[int]:
    """Running ids to evict, in ``order``, until ``amount`` memory is freed (and >= minimum)."""
    run = state.running
    if order == "newest":                        # latest start first, ties: larger id first
        idx = np.lexsort((-run.id, -run.start))
    elif order == "latest-arrival":              # lowest FCFS priority first
        idx = np.lexsort((-run.id, -run.arrival))
    else:
        raise ValueError(f"victim order must be one of {_VICTIM_ORDERS}, got {order!r}")
    hold = run.prompt + (state.t + 1) - run.start          # memory each would hold next round
    freed = np.cumsum(hold[idx])
    k = int(np.searchsorted(freed, amount, side="left")) + 1 if amount > 0 else 0
    k = min(max(k, minimum), len(idx))
    return run.id[idx[:k]].tolist()


def _fcfs_items(state: State, requeue: str):
    """Waiting ``(id, prompt, prediction)`` in FCFS order, lazily (the engine keeps it sorted)."""
    if requeue == "front":                      # evicted requests keep their arrival priority
        return state.waiting_in_order("arrival")
    if requeue == "back":                        # evicted requests queue again from eviction time
        return state.waiting_in_order("requeue")
    raise ValueError(f"requeue must be 'front' or 'back', got {requeue!r}")


def _admit(state: State, items, capacity: int, stop_at_first: bool = True,
           keep: np.ndarray | None = None, allow: Callable | None = None) -> list[int]:
    """The future-feasibility walk over ``(id, s, õ)`` items (see admit_future_feasible).

    The profile ``F`` (predicted memory of running + admitted requests in rounds ``t+1, ...``)
    is computed at the first candidate and extended with zeros when a longer candidate comes,
    so the cost is that of the candidates read, not of the whole queue.
    """
    chosen: list[int] = []
    sizes: list[tuple[int, int]] = []
    F = ramp = None
    for i, s, o in items:
        if allow is not None and not allow(i, chosen):
            continue
        if F is None or F.size < o:             # (re)compute the profile over a longer window
            h = max(2 * o, 64) if F is None else max(o, 2 * F.size)
            F = predicted_memory(state, horizon=h, keep=keep)
            ramp = np.arange(1, h + 1, dtype=np.int64)
            for s2, o2 in sizes:
                F[:o2] += s2 + ramp[:o2]
        if int((F[:o] + ramp[:o]).max()) + s > capacity:
            if stop_at_first:
                break
            continue
        F[:o] += s + ramp[:o]
        chosen.append(i)
        sizes.append((s, o))
    return chosen


def admit_future_feasible(state: State, order, capacity: int | None = None, *,
                          stop_at_first: bool = True, keep: np.ndarray | None = None,
                          allow: Callable[[int, list], bool] | None = None) -> list[int]:
    """Walk ``state.waiting`` in ``order`` and admit requests that keep every future round feasible.

    The building block of MC-SF and MC-Benchmark (and of any future-feasibility policy): a
    candidate ``j`` (prompt ``s``, prediction ``õ``), started now, holds ``s + k`` in round
    ``t + k`` for ``k = 1..õ``; it is admitted if the predicted memory of the running requests
    (:func:`predicted_memory`) plus the already admitted ones plus its own stays ``<= capacity``
    in each of those rounds.  Checking every round up to its completion is equivalent to checking
    only the predicted completion rounds (claim ``clm_peak_points``) and costs ``O(õ)``.

    Examples
    --------
    >>> from kvtheory import Instance, simulate, Decision
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 5, 1], [4, 4, 4], memory=10)
    >>> first = []
    >>> def spy(state):
    ...     order = np.arange(len(state.waiting))
    ...     first.append((admit_future_feasible(state, order),
    ...                   admit_future_feasible(state, order, stop_at_first=False)))
    ...     return Decision(start=first[-1][0])
    >>> _ = simulate(inst, spy)
    >>> first[0]            # MC-SF stops at request 1; skipping admits request 2 as well
    ([0], [0, 2])

    Parameters
    ----------
    state : State
    order : array of int
        Positions in ``state.waiting`` in the order to try them.
    capacity : int, optional
        Memory limit of the check (default ``state.memory``).
    stop_at_first : bool
        Stop at the first candidate that does not fit (MC-SF's rule) or skip it and go on.
    keep : array of bool, optional
        Mask over ``state.running``: only these running requests count (e.g. after evictions).
    allow : callable, optional
        ``allow(j, chosen) -> bool``: an extra admission condition for position ``j`` given the
        ids chosen so far; a candidate it rejects is skipped (never stops the walk).

    Returns
    -------
    list of int
        Ids of the admitted requests, in admission order.
    """
    w = state.waiting
    order = np.asarray(order, dtype=np.int64)
    capacity = state.memory if capacity is None else int(capacity)
    items = [(int(w.id[j]), int(w.prompt[j]), int(w.prediction[j])) for j in order]
    if allow is not None:                        # allow() takes positions in state.waiting
        pos = {i: int(j) for (i, _, _), j in zip(items, order)}
        user_allow = allow

        def allow(i, chosen):
            return user_allow(pos[i], chosen)
    return _admit(state, items, capacity, stop_at_first, keep, allow)


def _memory_fcfs_prefix(state: State, items, limit: float, used: int) -> list[int]:
    """FCFS prefix admitted while next-round memory (each new request: s + 1) stays <= limit.

    Into an empty cache the first request is always admitted, even above the threshold (ours:
    otherwise a request with ``s + 1 > limit`` would wait forever).
    """
    chosen: list[int] = []
    for i, s, _ in items:
        used += s + 1
        if used > limit:
            if not chosen and not len(state.running):
                chosen.append(i)
            break
        chosen.append(i)
    return chosen


def _memory_constrained(state: State, items, reserve: float, victim: str) -> Decision:
    """MC-SF's and MC-Benchmark's shared rule: evict on overflow, then future-feasible prefix."""
    if reserve.__class__ is not float or reserve != 0.0:       # the default needs no check
        reserve = as_fraction(reserve, name="reserve", high=1.0, high_open=True)
    keep = None
    evict: list[int] = []
    if state.overflow:
        evict = _victims(state, state.overflow, victim)
        keep = ~np.isin(state.running.id, evict)
    capacity = math.floor((1.0 - reserve) * state.memory)
    return Decision(start=_admit(state, items, capacity, keep=keep), evict=evict)


# --------------------------------------------------------------------------- the policies
def mc_sf(state: State, *, reserve: float = 0.0, victim: str = "newest") -> Decision:
    """MC-SF, memory-constrained shortest (predicted) first (paper, Algorithm 1).

    Keep every running request; sort waiting requests by predicted output ``õ`` (ties: arrival,
    then id); add them one by one to the batch while, for every future round ``t' > t``, the
    predicted memory of running + batch stays ``<= (1 - reserve) M``; stop at the first request
    that fails (no skipping).  With exact or over-predictions (``õ >= o``) the true memory never
    exceeds the predicted memory, so MC-SF never overflows and never evicts.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=6)
    >>> [r.start for r in simulate(inst, mc_sf).records]
    [0, 0, 0]
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> [r.start for r in simulate(inst, mc_sf).records]     # the long one waits
    [1, 0, 0]

    Parameters
    ----------
    state : State
    reserve : float in [0, 1)
        Fraction of ``M`` kept free at admission (ours; the paper's prediction-error study
        uses 10%).  Default 0.
    victim : {"newest", "latest-arrival"}
        Eviction rule when under-predicted requests overflow the next round (ours: the paper's
        MC-SF never evicts because it assumes ``õ >= o``).  Default: evict the most recently
        started request until the next round fits; evicted requests keep their queue priority.

    Notes
    -----
    Only the predicted completion rounds need checking, since between completions memory only
    grows; this implementation checks every round up to the candidate's predicted completion
    with one vectorised comparison, which is equivalent and costs ``O(õ)`` per candidate.
    """
    return _memory_constrained(state, state.waiting_in_order("prediction"), reserve, victim)


def mc_benchmark(state: State, *, reserve: float = 0.0, victim: str = "newest",
                 requeue: str = "front") -> Decision:
    """MC-Benchmark: MC-SF's future-feasibility check in FCFS order (paper).

    Admit waiting requests in order of arrival (ties: id) while the predicted memory of
    running + batch stays ``<= (1 - reserve) M`` in every future round; stop at the first
    failure.  Overflow handling as in :func:`mc_sf`.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> [r.start for r in simulate(inst, mc_benchmark).records]   # FCFS: the long one first
    [0, 0, 4]
    """
    return _memory_constrained(state, _fcfs_items(state, requeue), reserve, victim)


def alpha_protection_greedy(state: State, *, alpha: float = 0.2, requeue: str = "front") -> Decision:
    """alpha-protection greedy: FCFS under a ``(1 - alpha) M`` threshold; clear the cache on overflow.

    Admission: walk waiting requests FCFS and admit each while the memory of the next round
    (running requests plus ``s + 1`` for each admitted one) stays ``<= (1 - alpha) M``; stop at
    the first that does not fit.  Into an empty cache the first request is always admitted
    (ours: otherwise a request with ``s + 1 > (1 - alpha) M`` would starve).  Eviction: if the running requests alone would overflow the next
    round, evict *all* of them (their progress is lost) and admit nothing this round.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 1], [1, 1, 1], [1, 4, 3], memory=8)
    >>> sched = simulate(inst, alpha_protection_greedy)
    >>> sched.evictions, [r.completion for r in sched.records]
    (2, [1, 8, 7])

    Two identical requests that fit one at a time but not together livelock: after each
    clearing both are readmitted and overflow again (our finding, see the book).

    >>> simulate(Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8), alpha_protection_greedy)
    Traceback (most recent call last):
    ...
    kvtheory.engines.simulator.LivelockError: policy 'alpha_protection_greedy': no request completed ...

    Parameters
    ----------
    alpha : float in [0, 1)
        Protected fraction of memory (paper's grid: 0.1, 0.2, 0.25, 0.3).  Default 0.2.
    requeue : {"front", "back"}
        Where evicted requests rejoin the queue: "front" keeps their arrival priority (ours,
        default; like vLLM), "back" queues them from the eviction time.
    """
    alpha = as_fraction(alpha, name="alpha", high=1.0, high_open=True)
    if state.overflow:
        return Decision(evict=state.running.id.tolist())
    return Decision(start=_memory_fcfs_prefix(state, _fcfs_items(state, requeue), (1 - alpha) * state.memory,
                                              state.usage_next))


def alpha_protection_beta_clearing(state: State, *, alpha: float = 0.2, beta: float = 0.1,
                                   victim: str = "newest", requeue: str = "front") -> Decision:
    """alpha-protection beta-clearing: as :func:`alpha_protection_greedy`, but evict a fraction beta.

    Admission as in :func:`alpha_protection_greedy`.  Eviction: if the running requests alone
    would overflow the next round, evict ``ceil(beta * running)`` of them in ``victim`` order
    (default newest first), and more in the same order if that does not make the next round
    fit (ours); admit nothing this round.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    >>> simulate(inst, alpha_protection_beta_clearing).evictions   # only the newest goes
    1

    Parameters
    ----------
    alpha : float in [0, 1)
        Protected fraction.  Default 0.2.
    beta : float in (0, 1]
        Fraction of running requests cleared on overflow (paper's grid: 0.1, 0.2).  Default 0.1.
    victim : {"newest", "latest-arrival"}
    requeue : {"front", "back"}
    """
    alpha = as_fraction(alpha, name="alpha", high=1.0, high_open=True)
    beta = as_fraction(beta, name="beta", low=0.0, low_open=True)
    if state.overflow:
        k = math.ceil(beta * len(state.running))
        return Decision(evict=_victims(state, state.overflow, victim, minimum=k))
    return Decision(start=_memory_fcfs_prefix(state, _fcfs_items(state, requeue), (1 - alpha) * state.memory,
                                              state.usage_next))


def vllm_style(state: State, *, watermark: float = 0.01, victim: str = "latest-arrival",
               requeue: str = "front") -> Decision:
    """vLLM-style FCFS with a watermark; preempt-and-recompute on overflow.

    Admission: FCFS while the next round's memory stays ``<= M - ceil(watermark * M)``; stop at
    the first that does not fit.  Eviction: if the running requests alone would overflow the
    next round, preempt running requests in ``victim`` order (default: latest arrival first, as
    vLLM preempts its lowest-priority request) until it fits; they recompute from scratch.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    >>> s = simulate(inst, vllm_style)
    >>> s.evictions, [r.completion for r in s.records]
    (1, [5, 10])

    Parameters
    ----------
    watermark : float in [0, 1)
        Fraction of memory kept free at admission (vLLM's default block watermark is 0.01).
    victim : {"newest", "latest-arrival"}
    requeue : {"front", "back"}
    """
    watermark = as_fraction(watermark, name="watermark", high=1.0, high_open=True)
    if state.overflow:
        return Decision(evict=_victims(state, state.overflow, victim))
    limit = state.memory - math.ceil(watermark * state.memory)
    return Decision(start=_memory_fcfs_prefix(state, _fcfs_items(state, requeue), limit,
                                              state.usage_next))


# --------------------------------------------------------------------------- registry
def make_policy(func: Callable[..., Decision], name: str | None = None, **params) -> Callable:
    """Fix a policy's keyword parameters and give the result a name.

    Examples
    --------
    >>> p = make_policy(alpha_protection_greedy, alpha=0.1)
    >>> p.name
    'alpha_protection_greedy(alpha=0.1)'
    """
    pol = partial(func, **params)
    update_wrapper(pol, func)
    args = ", ".join(f"{k}={v!r}" for k, v in params.items())
    pol.name = name or (f"{func.__name__}({args})" if args else func.__name__)
    return pol


#: The six practice-style configurations (our pairing of the paper's reported parameters:
#: alpha in {0.1, 0.2, 0.25, 0.3} with full clearing, and alpha = 0.2 with beta in {0.1, 0.2}).
PAPER_BENCHMARKS: Mapping[str, Callable] = {
    "alpha-0.1-greedy": make_policy(alpha_protection_greedy, "alpha-0.1-greedy", alpha=0.1),
    "alpha-0.2-greedy": make_policy(alpha_protection_greedy, "alpha-0.2-greedy", alpha=0.2),
    "alpha-0.25-greedy": make_policy(alpha_protection_greedy, "alpha-0.25-greedy", alpha=0.25),
    "alpha-0.3-greedy": make_policy(alpha_protection_greedy, "alpha-0.3-greedy", alpha=0.3),
    "alpha-0.2-beta-0.1": make_policy(alpha_protection_beta_clearing, "alpha-0.2-beta-0.1",
                                      alpha=0.2, beta=0.1),
    "alpha-0.2-beta-0.2": make_policy(alpha_protection_beta_clearing, "alpha-0.2-beta-0.2",
                                      alpha=0.2, beta=0.2),
}

#: Every registered policy by name; tests that apply to "all policies" run over this.
POLICIES: Mapping[str, Callable] = {
    "mc-sf": make_policy(mc_sf, "mc-sf"),
    "mc-benchmark": make_policy(mc_benchmark, "mc-benchmark"),
    **PAPER_BENCHMARKS,
    "vllm": make_policy(vllm_style, "vllm"),
}
