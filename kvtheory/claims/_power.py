"""Power: could a search that found no violation have found one?

A ``sample`` or ``measured`` reading is ``supported`` when its search found no violation; that
is evidence only if the same search, at the same sizes, budget and seeds, finds a violation
planted in a counterpart the claim does not cover (:func:`power_of`).  :func:`kvtheory.claims.grade`
grades a passed search whose power is below :data:`~kvtheory.claims.POWER_MIN` ``inconclusive``.
:data:`POWER_PENDING` lists the readings that do not report power yet; it may only shrink.
"""

from __future__ import annotations

from typing import Callable, Iterable

__all__ = ["power_of", "POWER_PENDING"]


def power_of(search: Callable[[object, int], object], planted: object, seeds: Iterable[int],
             violates: Callable[[object], bool], *, label: str) -> dict:
    """Run ``search(planted, seed)`` for every seed and count the runs that find a violation.

    ``search`` is the reading's own search as a function of its target (a policy or a bound)
    and a seed; pointing it at ``planted`` at the reading's seeds measures its power.

    Examples
    --------
    >>> def search(bound, seed):        # the largest of seed + 1 draws 0, 1, 2, ...
    ...     return max(range(seed + 1)) > bound
    >>> power_of(search, 2, seeds=[1, 3, 5], violates=bool, label="bound 2 instead of 9")
    {'planted': 'bound 2 instead of 9', 'found': 2, 'of': 3}
    >>> power_of(search, 9, seeds=[], violates=bool, label="x")
    Traceback (most recent call last):
    ...
    ValueError: power needs at least one seed
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("power needs at least one seed")
    found = sum(bool(violates(search(planted, s))) for s in seeds)
    return {"planted": label, "found": int(found), "of": len(seeds)}


#: The ``sample`` and ``measured`` readings that do not report power yet, as (claim id, reading
#: name).  A test asserts every other such reading reports power and none of these does: the
#: list may only shrink.  It is empty: every such reading reports power.
POWER_PENDING: frozenset = frozenset()
