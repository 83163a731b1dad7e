"""Planted counterparts: policies that no claim covers, for measuring a search's power.

A search that found no violation of a claim is evidence only if it could have found one: the
same search, at the same sizes, budget and seeds, is pointed at a *planted* counterpart that
the claim does not cover, and the share of runs in which it finds a violation is the search's
power (:func:`kvtheory.claims.power_of`).  These policies are not in
:data:`kvtheory.engines.policies.POLICIES`: no claim is made about them.
"""

from __future__ import annotations

from kvtheory.engines.simulator import Decision, State

__all__ = ["longest_first", "over_admit", "cubic_mc_sf", "one_at_a_time", "admit_all",
           "idle_on_odd_rounds"]


def longest_first(state: State, *, reserve: float = 0.0) -> Decision:
    """Memory-constrained *longest* (predicted) first: MC-SF's admission in the reverse order.

    Waiting requests sorted by predicted output, longest first (ties: arrival, then id), are
    admitted while the predicted memory of every future round stays ``<= (1 - reserve) M``
    (MC-SF's reserve, default none), stopping at the
    first that does not fit; on overflow the newest running requests are evicted.  It never
    idles while a request fits, so on every instance its total latency is at most ``n`` times
    the optimum (each round completes a token of the total work ``sum o <= OPT``): a
    constant-ratio bound ``c`` cannot be violated by it below ``n = c``.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> [r.start for r in simulate(inst, longest_first).records]     # the long one first
    [0, 4, 4]
    >>> simulate(inst, longest_first).total_latency       # MC-SF: 1 + 2 + 5 = 8
    15
    """
    from kvtheory.engines.policies.base import _memory_constrained
    items = sorted(state.waiting_in_order("prediction"), key=lambda it: -it[2])
    return _memory_constrained(state, items, reserve, "newest")


def over_admit(state: State) -> Decision:
    """MC-SF admitting up to ``M + 1``: an off-by-one memory check that cheats on memory.

    MC-SF's rule (shortest predicted first, stop at the first that does not fit) with a capacity
    of ``M + 1`` instead of ``M``; it never evicts.  Whenever an admission fills the last unit
    the engine refuses the decision (it would exceed ``M``): a check of "every schedule is
    valid" must find this.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.engines.simulator import PolicyError
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [1, 1], memory=3)     # peaks 2 + 2 = M + 1
    >>> try:
    ...     simulate(inst, over_admit)
    ... except PolicyError as e:
    ...     print("refused")
    refused
    """
    from kvtheory.engines.policies.base import _admit
    return Decision(start=_admit(state, state.waiting_in_order("prediction"), state.memory + 1))


def cubic_mc_sf(state: State) -> Decision:
    """MC-SF's decision plus a deliberate ``O(M^3)`` computation: a planted slow scheduler.

    It decides exactly as :func:`~kvtheory.engines.policies.mc_sf` and then multiplies an
    ``M x M`` matrix by an ``M x (M / 16)`` one (``M^3 / 16`` multiply-adds, in one thread), so
    its time per round grows like ``M^3`` once that product outweighs the fixed overhead.  A measurement of
    "MC-SF decides a round in ``O(M^2)``" must see its exponent above 2.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.engines.policies import mc_sf
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> [r.start for r in simulate(inst, cubic_mc_sf).records] == [
    ...     r.start for r in simulate(inst, mc_sf).records]
    True
    """
    import numpy as np
    from kvtheory.engines.policies import mc_sf
    decision = mc_sf(state)
    M = int(state.memory)
    # einsum's own single-threaded loops, not BLAS: a multithreaded product's time jumps with
    # the threads' start-up and the machine's load, not with M^3 (seen as a flat 10 ms)
    work = np.einsum("ij,jk->ik", np.ones((M, M)), np.ones((M, max(1, M // 16))), optimize=False)
    if work[0, 0] != M:                                 # keeps the product from being skipped
        raise AssertionError("matrix product")
    return decision


def one_at_a_time(state: State) -> Decision:
    """Run one request at a time, shortest predicted first: a planted scheduler that idles memory.

    It starts the shortest waiting request only when nothing runs.  On ``n`` requests
    ``(0, 1, 1)`` with ``M >= 2 n`` the optimum starts them all at round 0 (total latency
    ``n``) while this policy takes ``1 + 2 + ... + n``: its ratio ``(n + 1) / 2`` grows
    without bound, so a search for a constant ratio bound must see it grow.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [1, 1, 1], memory=6)
    >>> simulate(inst, one_at_a_time).total_latency              # 1 + 2 + 3; OPT = 3
    6
    """
    if len(state.running) or not len(state.waiting):
        return Decision(start=[])
    first = next(iter(state.waiting_in_order("prediction")))
    return Decision(start=[int(first[0])])


def admit_all(state: State) -> Decision:
    """Start every waiting request at once, whatever the memory (planted for the scorecard's
    item *valid*: its runs exceed memory whenever two requests do not fit together).

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.engines.simulator import PolicyError
    >>> try:
    ...     simulate(Instance.from_arrays([0, 0], [2, 2], [1, 1], memory=4), admit_all)
    ... except PolicyError:
    ...     print("refused")
    refused
    """
    return Decision(start=[i for i, _, _ in state.waiting_in_order()])


def idle_on_odd_rounds(state: State) -> Decision:
    """MC-SF, except that it starts nothing at odd decision times unless the running requests
    overflow (planted for the scorecard's item *never idles*).

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> [r.start for r in simulate(Instance.from_arrays([1], [1], [1], memory=4),
    ...                            idle_on_odd_rounds).records]
    [2]
    """
    from kvtheory.engines.policies.base import mc_sf
    if state.t % 2 and not state.overflow:
        return Decision()
    return mc_sf(state)
