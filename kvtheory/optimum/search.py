"""Better schedules by search, and a fast lower bound: brackets for the optimum at any size.

The exact program of :mod:`kvtheory.optimum.exact` cannot prove optimality at the paper's synthetic
size (40-60 requests, ``M`` about 40, outputs up to ``M - s``).  Its optimum can still be
*bracketed*:

* **from above** by any feasible schedule.  :func:`improve_schedule` runs a local search over
  request orders, turning each order into a schedule with the serial rule of
  :func:`serial_schedule`; every schedule it returns passes :func:`kvtheory.check_schedule`.
  If it finds a schedule better than a policy's, the policy is *provably* not optimal on that
  instance and ``policy / found`` is a proven **lower** bound on ``policy / OPT``.
* **from below** by :func:`volume_lower_bound`, a relaxation that forgets everything except
  the memory-time area each request needs; ``policy / bound`` is a proven **upper** bound on
  ``policy / OPT``.

The search is ours (a textbook permutation local search with a serial schedule-generation
decoder, as used for resource-constrained project scheduling); its inner loops are compiled
with numba.  Its randomness comes only from the ``numpy.random.Generator`` passed in, and with
``time_limit=None`` the result depends only on that generator and the evaluation budget.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numba
import numpy as np

from kvtheory.model.validation import as_int
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.model.schedule import Schedule

__all__ = ["serial_schedule", "SearchResult", "improve_schedule", "volume_lower_bound"]


# --------------------------------------------------------------------------- compiled kernels
@numba.njit(cache=True)
def _decode(order, a, s, o, M, use, starts, keep=0):  # pragma: no cover - compiled
    """Place requests in ``order`` at their earliest feasible start; return total latency.

    The first ``keep`` requests of ``order`` are replayed at ``starts`` (already known);
    the rest are placed by scanning.  A failed check at offset ``j`` skips every start that
    would still cover round ``p + j`` with too much memory.
    """
    use[:] = 0
    total = 0
    for k in range(order.size):
        idx = order[k]
        ai, si, oi = a[idx], s[idx], o[idx]
        if k < keep:
            p = starts[idx]
        else:
            p = ai
            while True:
                bad = 0
                for j in range(1, oi + 1):
                    excess = use[p + j] + si + j - M
                    if excess > 0:
                        bad = min(excess, j)
                        break
                if bad == 0:
                    break
                p += bad
        for j in range(1, oi + 1):
            use[p + j] += si + j
        starts[idx] = p
        total += p + oi - ai
    return total


@numba.njit(cache=True)
def _search(order, a, s, o, M, H, kinds, first, second):  # pragma: no cover - compiled
    """First-improvement local search (sideways moves accepted) over swap/insert moves.

    ``order`` is updated in place; returns the final cost (never above the initial one), the
    starts of the final order's schedule and the number of strict improvements.
    """
    n = order.size
    use = np.zeros(H + 2, dtype=np.int64)
    cur_starts = np.empty(n, dtype=np.int64)
    cur = _decode(order, a, s, o, M, use, cur_starts, 0)
    starts = cur_starts.copy()
    new = order.copy()
    improvements = 0
    for m in range(kinds.size):
        i, j = first[m], second[m]
        if i == j:
            continue
        new[:] = order
        if kinds[m] == 0:                       # swap two positions
            new[i], new[j] = order[j], order[i]
        elif i < j:                             # move the element at i to position j
            new[i:j] = order[i + 1:j + 1]
            new[j] = order[i]
        else:
            new[j + 1:i + 1] = order[j:i]
            new[j] = order[i]
        starts[:] = cur_starts
        c = _decode(new, a, s, o, M, use, starts, min(i, j))
        if c <= cur:
            if c < cur:
                improvements += 1
            cur = c
            order[:] = new
            cur_starts[:] = starts
    return cur, cur_starts, improvements


def _arrays(instance: Instance):
    a = np.ascontiguousarray(instance.arrival, dtype=np.int64)
    s = np.ascontiguousarray(instance.prompt, dtype=np.int64)
    o = np.ascontiguousarray(instance.output, dtype=np.int64)
    H = int(a.max()) + int(o.sum()) + 1 if instance.n else 1
    # the compiled kernels do no bounds checks: they rely on every request fitting alone
    # (s + o <= M, enforced by Instance), so no start is later than max(a) + sum(o) - o_i
    if instance.n and int((s + o).max()) > instance.memory:
        raise ValueError("every request must fit alone: s_i + o_i <= M")
    return a, s, o, H


def _as_order(instance: Instance, order) -> np.ndarray:
    order = np.asarray(order)
    if order.size == 0 and instance.n == 0:
        return np.zeros(0, dtype=np.int64)
    if order.ndim != 1 or order.size != instance.n or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"order must be a permutation of 0..{instance.n - 1} (one integer per request)")
    if not np.array_equal(np.sort(order), np.arange(instance.n)):
        raise ValueError(f"order must be a permutation of 0..{instance.n - 1}, got {order.tolist()}")
    return np.ascontiguousarray(order, dtype=np.int64)


def serial_schedule(instance: Instance, order) -> Schedule:
    """Start requests one by one in ``order``, each at its earliest feasible round.

    The serial schedule-generation rule: request ``order[k]`` starts at the smallest
    ``p >= a_i`` such that it fits in every round ``p + 1 .. p + o_i`` beside the requests
    ``order[:k]`` already placed (wherever they are, earlier or later).  The result is always
    feasible; different orders give different schedules, which is what :func:`improve_schedule`
    searches over.  Predictions are ignored (the schedule is built in hindsight).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> serial_schedule(inst, [1, 2, 0]).total_latency      # shortest first
    8
    >>> [r.start for r in serial_schedule(inst, [0, 1, 2]).records]
    [0, 0, 4]
    >>> serial_schedule(inst, [0, 0, 1])
    Traceback (most recent call last):
    ...
    ValueError: order must be a permutation of 0..2, got [0, 0, 1]
    """
    order = _as_order(instance, order)
    if instance.n == 0:
        return Schedule(instance, (), "serial")
    a, s, o, H = _arrays(instance)
    starts = np.empty(instance.n, dtype=np.int64)
    _decode(order, a, s, o, instance.memory, np.zeros(H + 2, dtype=np.int64), starts, 0)
    return Schedule.from_starts(instance, starts.tolist(), policy="serial")


@dataclass(frozen=True)
class SearchResult:
    """Result of :func:`improve_schedule`.

    Attributes
    ----------
    schedule : Schedule
        The best schedule found; it passed :func:`kvtheory.check_schedule`.
    total_latency : int
        Its total latency (an upper bound on the optimum).
    initial_latency : int
        Total latency of the starting schedule.
    evaluations : int
        Orders decoded.
    improvements : int
        Strict improvements accepted by the search, counted from the schedule of the starting
        order (which may be worse than ``start`` itself), so ``improvements > 0`` does not imply
        ``improved``.
    seconds : float
        Wall-clock time.
    """

    schedule: Schedule
    total_latency: int
    initial_latency: int
    evaluations: int
    improvements: int
    seconds: float

    @property
    def improved(self) -> bool:
        """``True`` iff the search beat the starting schedule."""
        return self.total_latency < self.initial_latency


def improve_schedule(instance: Instance, rng: np.random.Generator, *, start: Schedule | None = None,
                     evaluations: int = 20_000, time_limit: float | None = None,
                     batch: int = 2_000) -> SearchResult:
    """Search request orders for a schedule with lower total latency than ``start``.

    Local search: the current order starts as the order of ``start``'s start rounds (ties:
    shorter output first); each step swaps two positions or moves one request to another
    position (uniformly at random), decodes the order with :func:`serial_schedule`'s rule and
    keeps it if its total latency is no larger.  The best schedule found, or ``start`` if
    nothing beat it, is checked with :func:`kvtheory.check_schedule` and returned.

    No optimality guarantee: the result is an upper bound on the optimum.  Tests check that
    it never beats a proven optimum and usually reaches it on small instances.

    Parameters
    ----------
    instance : Instance
    rng : numpy.random.Generator
        The only source of randomness.
    start : Schedule, optional
        A feasible non-preemptive schedule to improve (default: MC-SF with exact predictions).
    evaluations : int
        Orders to try.
    time_limit : float, optional
        Stop after this many seconds (checked every ``batch`` evaluations); makes the result
        depend on the machine's speed, so leave it ``None`` for reproducible runs.
    batch : int
        Moves drawn and evaluated per compiled call.

    Examples
    --------
    >>> from kvtheory.model.workloads import paper_model1
    >>> inst = paper_model1(np.random.default_rng(1), n=8, memory=12)
    >>> res = improve_schedule(inst, np.random.default_rng(0), evaluations=3000)
    >>> res.initial_latency, res.total_latency, res.improved   # MC-SF, then the best found
    (82, 75, True)
    >>> from kvtheory.optimum.exact import solve_optimal
    >>> solve_optimal(inst).objective         # the proven optimum: the search reached it
    75
    """
    evaluations = as_int(evaluations, name="evaluations", minimum=0)
    batch = as_int(batch, name="batch", minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    t0 = time.perf_counter()
    from kvtheory.optimum.exact import _upper_bound_schedule     # local import: optimal pulls in the solver
    start = _upper_bound_schedule(instance, start)
    init = int(start.total_latency)
    if instance.n < 2:
        return SearchResult(start, init, init, 0, 0, time.perf_counter() - t0)
    a, s, o, H = _arrays(instance)
    st = np.array([r.start for r in start.records])
    order = np.lexsort((np.arange(instance.n), o, st)).astype(np.int64)
    best, best_starts, done, improvements = init, None, 0, 0
    cur_starts = np.empty(instance.n, dtype=np.int64)
    c0 = _decode(order, a, s, o, instance.memory, np.zeros(H + 2, dtype=np.int64), cur_starts, 0)
    if c0 < best:
        best, best_starts = int(c0), cur_starts.copy()
    while done < evaluations:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
        k = min(batch, evaluations - done)
        kinds = rng.integers(0, 2, size=k)
        first = rng.integers(0, instance.n, size=k)
        second = rng.integers(0, instance.n, size=k)
        cost, starts, imp = _search(order, a, s, o, instance.memory, H, kinds, first, second)
        done += k
        improvements += int(imp)
        if cost < best:
            best, best_starts = int(cost), starts
    if best_starts is None:
        sched = start
    else:
        sched = Schedule.from_starts(instance, best_starts.tolist(), policy="search")
        check_schedule(instance, sched, preemptive=False)
        assert sched.total_latency == best
    return SearchResult(sched, int(sched.total_latency), init, done, improvements,
                        time.perf_counter() - t0)


def volume_lower_bound(instance: Instance) -> int:
    """A lower bound on the optimal total latency from memory-time area alone (our relaxation).

    Request ``i`` holds ``s_i + j`` memory in its ``j``-th round, so it needs the area
    ``v_i = s_i o_i + o_i (o_i + 1) / 2`` of memory-rounds, and at most ``M`` is available per
    round.  Forget everything else: a single resource serves ``M`` units per unit of time,
    request ``i`` is released at ``a_i`` and completes when it has received ``v_i``.  Every
    feasible schedule is such a (processor-sharing) schedule with ``c_i`` at least the fluid
    completion time, and shortest-remaining-area-first minimises the total completion time of
    the relaxation (Schrage's rule for ``1|r_j, pmtn|sum C_j``).  The bound is the larger of
    that total minus ``sum a_i`` (rounded up) and ``sum o_i``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [2, 3], memory=10)
    >>> volume_lower_bound(inst)        # sum(o) = 5 beats the area bound 0.5 + 1.4
    5
    >>> volume_lower_bound(Instance.from_arrays([0, 0], [3, 3], [5, 5], memory=8))
    12
    """
    if instance.n == 0:
        return 0
    a = instance.arrival.astype(float)
    work = instance.volume.astype(float)
    M = float(instance.memory)
    order = np.argsort(a, kind="stable")
    t, k, total = 0.0, 0, 0.0
    heap: list[tuple[float, int]] = []
    n = instance.n
    while k < n or heap:
        if not heap:
            t = max(t, a[order[k]])
        while k < n and a[order[k]] <= t:
            heapq.heappush(heap, (work[order[k]], int(order[k])))
            k += 1
        rem, i = heapq.heappop(heap)
        nxt = a[order[k]] if k < n else math.inf
        if t + rem / M <= nxt:
            t += rem / M
            total += t
        else:
            heapq.heappush(heap, (rem - (nxt - t) * M, i))
            t = nxt
    area = math.ceil(total - float(a.sum()) - 1e-9)
    return int(max(area, int(instance.output.sum())))
