"""A planted counterpart of the exact solver, for measuring a check's power.

:func:`relaxed_solver` is the paper's integer program with one memory unit too many: an
off-by-one memory row.  A check that the program equals exhaustive search, run at its own
sizes and seeds against this solver, should find instances where it differs (a lower
objective, a schedule that overflows ``M``); the share of runs that do is the check's power
(:func:`kvtheory.claims.power_of`).  No claim is made about it.
"""

from __future__ import annotations

from dataclasses import replace

from kvtheory.model.instance import Instance
from kvtheory.optimum.bounds import BoundResult, peak_lower_bound
from kvtheory.optimum.exact import OptimalResult, solve_optimal

__all__ = ["relaxed_solver", "overstated_peak_bound"]


def relaxed_solver(instance: Instance, **kw) -> OptimalResult:
    """:func:`~kvtheory.optimum.exact.solve_optimal` on the same requests with memory ``M + 1``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [1, 1], memory=3)    # peaks 2 + 2 = M + 1
    >>> solve_optimal(inst).objective, relaxed_solver(inst).objective
    (3, 2)
    """
    wider = Instance.from_arrays(instance.arrival, instance.prompt, instance.output,
                                 instance.memory + 1, prediction=instance.prediction)
    return solve_optimal(wider, **kw)


def overstated_peak_bound(instance: Instance, bound=peak_lower_bound, **kw) -> BoundResult:
    """The peak-row lower bound plus one (an off-by-one in its rounding), a planted counterpart.

    ``bound`` (default :func:`~kvtheory.optimum.bounds.peak_lower_bound`) computes the true
    bound; this adds 1, so it exceeds the optimum wherever the true bound meets it.  A check
    that the bound never exceeds the optimum, run at its own sizes and seeds against this one,
    should find such instances.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)   # optimum 8
    >>> peak_lower_bound(inst).bound, overstated_peak_bound(inst).bound
    (8, 9)
    """
    res = bound(instance, **kw)
    return replace(res, bound=res.bound + 1)
