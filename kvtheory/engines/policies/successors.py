"""Policies of the papers that followed arXiv 2502.07115, as plain ``policy(state) -> Decision``.

All four are *our reconstructions* from second-hand descriptions (the authors' pseudo-code was
not available to us); every rule we had to choose is a keyword argument or a stated default.

* :func:`svf`, Smallest Volume First (Kong, Qi, Ye, Zhou, arXiv 2606.22327): walk the waiting
  requests by predicted volume ``s õ + õ(õ + 1)/2`` and admit each while MC-SF's future-memory
  check passes; stop at the first that fails.
* :func:`sorted_f`, Sorted-F (Wang, Ye, Zhou, arXiv 2508.06133): start the feasible batch ``X``
  of least ``F(X) = (sum of õ over X) / |X|^2``; candidate batches are the prefixes of two
  skipping walks (by predicted output and by peak ``s + õ``) under the future-memory check.
* :func:`a_max` and :func:`a_min` (Chen, Ye, Zhou, arXiv 2508.14544) read an interval
  ``[l_i, u_i]`` of output lengths through the ``prediction`` field: run ``a-max`` on the
  instance whose predictions are the upper ends ``u_i`` and ``a-min`` on the instance whose
  predictions are the lower ends ``l_i`` (:func:`interval_instances` builds both).  A_max is
  MC-SF on ``u``; A_min admits on running lower bounds and evicts (with restart) on overflow.

:data:`SUCCESSOR_POLICIES` is merged into :data:`kvtheory.engines.policies.POLICIES`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Mapping

import numpy as np

from kvtheory.model.instance import Instance
from kvtheory.engines.policies.base import _admit, _victims, make_policy, mc_sf, predicted_memory
from kvtheory.engines.simulator import Decision, Jobs, State

__all__ = ["svf", "sorted_f", "a_max", "a_min", "interval_instances", "lower_bounds_of",
           "SUCCESSOR_POLICIES"]

_A_MIN_VICTIMS = ("least-progress", "most-progress")


def _produced(jobs: Jobs) -> np.ndarray:
    """The ``produced`` column, zeros when a hand-built view lacks it."""
    got = getattr(jobs, "produced", None)
    return np.zeros(len(jobs), dtype=np.int64) if got is None else np.asarray(got, dtype=np.int64)


def _eviction(state: State, victim: str = "newest"):
    """Evict on overflow (MC-SF's rule) and return ``(evict ids, keep mask or None)``."""
    if not state.overflow:
        return [], None
    evict = _victims(state, state.overflow, victim)
    return evict, ~np.isin(state.running.id, evict)


def _skip_walk(state: State, ids: np.ndarray, s: np.ndarray, o: np.ndarray,
               keep) -> list[tuple[int, int]]:
    """Admit, in the given order, every candidate that fits (skipping the others).

    Vectorised: with ``F`` the predicted memory of rounds ``t+1, ...`` (running + admitted) and
    ``G[k] = max_{j <= k} (F[j] + j + 1)``, a candidate ``(s, õ)`` fits iff
    ``G[õ - 1] + s <= M``; one numpy pass finds the next admission, so a round costs
    ``O(admissions x (queue + horizon))``.  Returns ``(id, õ)`` in admission order.
    """
    H = int(o.max())
    F = predicted_memory(state, horizon=H, keep=keep).copy()
    ramp = np.arange(1, H + 1, dtype=np.int64)
    chosen: list[tuple[int, int]] = []
    pos = 0
    while pos < ids.size:
        G = np.maximum.accumulate(F + ramp)
        fits = G[o[pos:] - 1] + s[pos:] <= state.memory
        if not fits.any():
            break
        j = pos + int(fits.argmax())
        F[:o[j]] += s[j] + ramp[:o[j]]
        chosen.append((int(ids[j]), int(o[j])))
        pos = j + 1
    return chosen


# --------------------------------------------------------------------------- SVF
def svf(state: State, *, victim: str = "newest", admission: str = "future") -> Decision:
    """Smallest Volume First (arXiv 2606.22327).

    Waiting requests are walked in increasing predicted volume ``s õ + õ(õ+1)/2`` (ties:
    arrival, id) and admitted while they fit; the walk stops at the first that does not (no
    skipping, no preemption).  ``admission="future"`` (default): a request fits when the
    predicted memory of running + admitted requests stays ``<= M`` in every future round, the
    forward-looking check of the paper's proof as the serQ documentation describes it;
    ``admission="peak"``: when its peak ``s + õ`` fits beside the peaks of the running and
    admitted requests, held from admission, which is the rule of the serQ program for SVF
    (servingQ/serQ, ``docs/use-cases/kong.md``).  The peak rule never admits more.  With
    equal prompts the volume order is MC-SF's order, so SVF (future check) and MC-SF coincide.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0], [6, 1], [1, 2], memory=8)
    >>> [r.start for r in simulate(inst, svf).records]     # volumes 7 and 5
    [2, 0]
    >>> [r.start for r in simulate(inst, mc_sf).records]   # MC-SF: the shorter output first
    [0, 1]
    >>> two = Instance.from_arrays([0, 0], [1, 1], [1, 3], memory=6)   # peaks 2 + 4 = 6
    >>> peak = lambda st: svf(st, admission="peak")
    >>> [r.start for r in simulate(two, svf).records], [r.start for r in simulate(two, peak).records]
    ([0, 0], [0, 0])
    >>> three = Instance.from_arrays([0, 0], [2, 2], [1, 3], memory=6)  # peaks 3 + 5 > 6
    >>> [r.start for r in simulate(three, svf).records], [r.start for r in simulate(three, peak).records]
    ([0, 0], [0, 1])

    Parameters
    ----------
    state : State
    victim : {"newest", "latest-arrival"}
        Eviction rule if under-predicted requests overflow (MC-SF's default; never used with
        exact or over-predictions).
    admission : {"future", "peak"}
        The admission check (above).
    """
    if admission not in ("future", "peak"):
        raise ValueError(f"admission must be one of ('future', 'peak'), got {admission!r}")
    evict, keep = _eviction(state, victim)
    items = state.waiting_in_order("volume")        # kept sorted by the engine: lazy walk
    if admission == "future":
        return Decision(start=_admit(state, items, state.memory, keep=keep), evict=evict)
    run = state.running
    held = run.prompt + np.maximum(run.prediction, _produced(run) + 1)
    used = int(held[keep].sum() if keep is not None else held.sum())
    chosen = []
    for i, s, o in items:
        if used + s + o > state.memory:
            break
        used += s + o
        chosen.append(i)
    return Decision(start=chosen, evict=evict)


# --------------------------------------------------------------------------- Sorted-F
def sorted_f(state: State, *, victim: str = "newest") -> Decision:
    """Sorted-F (arXiv 2508.06133, as we reconstruct it): start the feasible batch of least F.

    ``F(X) = (sum_{i in X} õ_i) / |X|^2``.  A batch is feasible when MC-SF's future-memory
    check passes for the running requests plus ``X``.  Minimising ``F`` over all feasible
    subsets is a knapsack-like problem; we take the best among the prefixes of two *skipping*
    walks, by ``(õ, s)`` and by ``(s + õ, õ)``, each admitting a candidate whenever it fits.
    Ties in ``F``: the larger batch, then the first walk.  The paper's constant (48, v3,
    second-hand) is for its own rule, which may differ from this one.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [4, 1, 1], [1, 2, 2], memory=6)
    >>> [r.start for r in simulate(inst, sorted_f).records]   # F: {big} = 1/1, {smalls} = 4/4
    [2, 0, 0]
    >>> [r.start for r in simulate(inst, mc_sf).records]      # MC-SF: the shorter output first
    [0, 1, 1]

    Parameters
    ----------
    state : State
    victim : {"newest", "latest-arrival"}
        Eviction rule if under-predicted requests overflow.
    """
    evict, keep = _eviction(state, victim)
    w = state.waiting
    if not len(w):
        return Decision(evict=evict)
    best = (math.inf, 0, ())
    for key in ((w.prompt, w.prediction), (w.prediction, w.prompt + w.prediction)):
        order = np.lexsort((w.id, w.arrival) + key)
        chosen = _skip_walk(state, w.id[order], w.prompt[order], w.prediction[order], keep)
        total = 0
        for k, (i, o) in enumerate(chosen, start=1):
            total += o
            f = total / k ** 2
            if f < best[0] or (f == best[0] and k > best[1]):
                best = (f, k, tuple(j for j, _ in chosen[:k]))
    return Decision(start=best[2], evict=evict)


# --------------------------------------------------------------------------- intervals
def interval_instances(instance: Instance, lower, upper) -> tuple[Instance, Instance]:
    """The two instances through which A_max and A_min see intervals ``[l_i, u_i]``.

    Returns ``(upper_instance, lower_instance)``: the same requests with predictions ``u`` and
    ``l``.  Requires ``l_i <= o_i <= u_i``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [3, 5], memory=10)
    >>> hi, lo = interval_instances(inst, [2, 2], [6, 6])
    >>> hi.prediction.tolist(), lo.prediction.tolist()
    ([6, 6], [2, 2])
    >>> interval_instances(inst, [4, 2], [6, 6])
    Traceback (most recent call last):
    ...
    ValueError: request 0: expected l <= o <= u, found l=4, o=3, u=6
    """
    lo = np.asarray(lower, dtype=np.int64)
    hi = np.asarray(upper, dtype=np.int64)
    o = instance.output
    if lo.shape != o.shape or hi.shape != o.shape:
        raise ValueError(f"lower and upper must have {o.size} entries, found {lo.size} and "
                         f"{hi.size}")
    bad = np.flatnonzero((lo > o) | (o > hi))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"request {i}: expected l <= o <= u, found l={int(lo[i])}, "
                         f"o={int(o[i])}, u={int(hi[i])}")
    return instance.with_predictions(hi.tolist()), instance.with_predictions(lo.tolist())


def lower_bounds_of(jobs: Jobs) -> np.ndarray:
    """A_min's lower bound of each request: ``max(l, produced + 1)``.

    ``l`` is the request's ``prediction`` (the lower end of its interval); a request whose
    aborted attempt produced ``k`` tokens without completing needs at least ``k + 1``.

    Examples
    --------
    >>> a = lambda *x: np.array(x, dtype=np.int64)
    >>> j = Jobs(a(0, 1), a(0, 0), a(1, 1), a(2, 2), a(-1, -1), a(-1, 3), a(0, 4))
    >>> lower_bounds_of(j).tolist()
    [2, 5]
    """
    return np.maximum(np.asarray(jobs.prediction, dtype=np.int64), _produced(jobs) + 1)


def a_max(state: State, **kwargs) -> Decision:
    """A_max (arXiv 2508.14544, second-hand): MC-SF on the upper ends ``u_i`` of the intervals.

    Run it on an instance whose ``prediction`` holds ``u_i`` (:func:`interval_instances`).
    Since ``o_i <= u_i`` the true memory never exceeds the predicted one: no overflow, no
    eviction.  Keyword arguments go to :func:`kvtheory.engines.policies.mc_sf`.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [1, 1], memory=6, prediction=[4, 4])
    >>> [r.start for r in simulate(inst, a_max).records]    # 2 x (1 + 4) > 6: one at a time
    [0, 1]
    """
    return mc_sf(state, **kwargs)


def a_min(state: State, *, victim: str = "least-progress") -> Decision:
    """A_min (arXiv 2508.14544; rules second-hand, eviction order our reconstruction).

    Run it on an instance whose ``prediction`` holds the lower ends ``l_i``.  Each request
    carries a lower bound ``max(l_i, produced + 1)`` (:func:`lower_bounds_of`); a running request
    that has produced ``k`` tokens is known to need at least ``k + 1``.

    1. If the running requests would overflow the next round, evict them one by one in
       ``victim`` order until it fits; evicted requests lose their progress (restart) and keep
       their raised bound.
    2. Walk the waiting requests by increasing lower bound (ties: arrival, id) and admit each
       while the memory predicted from the *lower bounds* stays ``<= M`` in every future round;
       stop at the first that fails.

    With ``victim="least-progress"`` the running request with the most progress is never
    evicted (it fits alone), so every run completes (no livelock).

    Examples
    --------
    >>> from kvtheory import Instance, simulate, check_schedule
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [4, 4], memory=8, prediction=[1, 1])
    >>> sched = simulate(inst, a_min)   # both start on l = 1; at t = 3 the next round needs 10
    >>> sched.evictions, [r.completion for r in sched.records]   # request 1 restarts at t = 4
    (1, [4, 8])
    >>> check_schedule(inst, sched).peak_memory <= 8
    True

    Parameters
    ----------
    state : State
    victim : {"least-progress", "most-progress"}
        Eviction order "by accumulated length" (which end first is not known to us):
        ``least-progress`` (default: newest start first) or ``most-progress``.
    """
    if victim not in _A_MIN_VICTIMS:
        raise ValueError(f"victim must be one of {_A_MIN_VICTIMS}, got {victim!r}")
    run = state.running
    none = np.zeros(0, dtype=np.int64)
    # the running requests with their raised bounds; the waiting ones are walked lazily in
    # the engine's "bound" order, so this view needs no waiting column
    view = State(state.t, state.memory, Jobs(none, none, none, none, none, none, none),
                 replace(run, prediction=lower_bounds_of(run)), state.usage_next)
    evict, keep = [], None
    if view.overflow:
        if victim == "least-progress":
            evict = _victims(view, view.overflow, "newest")
        else:
            idx = np.lexsort((run.id, run.start))               # oldest start first
            hold = run.prompt + (state.t + 1) - run.start
            k = int(np.searchsorted(np.cumsum(hold[idx]), view.overflow, side="left")) + 1
            evict = run.id[idx[:k]].tolist()
        keep = ~np.isin(run.id, evict)
    items = state.waiting_in_order("bound")           # (id, s, raised bound), lazily
    return Decision(start=_admit(view, items, state.memory, keep=keep), evict=evict)


#: The successors' policies by registry name (merged into ``kvtheory.engines.policies.POLICIES``).
SUCCESSOR_POLICIES: Mapping[str, object] = {
    "svf": make_policy(svf, "svf"),
    "sorted-f": make_policy(sorted_f, "sorted-f"),
    "a-max": make_policy(a_max, "a-max"),
    "a-min": make_policy(a_min, "a-min"),
}
