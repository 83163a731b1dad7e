"""The scorecard's planted counterparts: a policy that breaks each item on purpose.

The same search, at the same sizes and seeds, is pointed at them to measure its power
(:func:`kvtheory.claims.power_of`): the share of runs in which it finds the planted violation.
"""

from __future__ import annotations

from kvtheory.engines.policies import mc_sf
from kvtheory.engines.simulator import Decision, State

__all__ = ["admit_all", "idle_on_odd_rounds"]


def admit_all(state: State) -> Decision:
    """Start every waiting request at once, whatever the memory (planted for *valid*).

    Examples
    --------
    >>> from kvtheory import Instance
    >>> from kvtheory.scorecard._guard import run_guarded
    >>> run_guarded(Instance.from_arrays([0, 0], [2, 2], [1, 1], memory=4), admit_all).fault.kind
    'memory'
    """
    return Decision(start=[i for i, _, _ in state.waiting_in_order()])


def idle_on_odd_rounds(state: State) -> Decision:
    """MC-SF, except that it starts nothing at odd decision times unless
    the running requests overflow (planted for *never idles*).

    Examples
    --------
    >>> from kvtheory import Instance
    >>> from kvtheory.scorecard._guard import run_guarded
    >>> run_guarded(Instance.from_arrays([1], [1], [1], memory=4), idle_on_odd_rounds).idle.t
    1
    """
    if state.t % 2 and not state.overflow:
        return Decision()
    return mc_sf(state)
