"""The hindsight optimum: the paper's integer program (DIGEST section 2) and a brute force.

``solve_optimal`` builds the time-indexed integer program, with ``x[i, k] = 1`` iff request
``i`` starts at decision time ``k``, and solves it with :func:`scipy.optimize.milp` (HiGHS).
Identical requests (same arrival, prompt and output) are merged into one integer variable per
start time, which is exact and removes their symmetry.

Why the horizon is large enough (our argument, so the optimum is the true optimum):

1. *No empty round after the last arrival.*  In an optimal schedule, if some round
   ``τ > max_i a_i`` before the makespan had no request processed, every request processed after
   ``τ`` started at ``>= τ``; starting all of them one round earlier is feasible (their memory
   profile just shifts left into rounds ``>= τ``, which nothing else uses, and ``τ - 1 >= a_i``)
   and lowers total latency, a contradiction.  Each non-empty round processes at least one
   output token, so the makespan is at most ``max_i a_i + sum_i o_i``.
2. *Per-request window.*  If ``UB`` is the total latency of any feasible schedule (we use MC-SF
   with exact predictions, validated by the independent checker), then in an optimal schedule
   ``c_i - a_i = OPT - sum_{j != i} (c_j - a_j) <= UB - sum_{j != i} o_j``, i.e. request ``i``
   starts within ``UB - sum_j o_j`` rounds of its arrival.

Every optimal schedule satisfies both restrictions, so the restricted program has the same
optimum as the unrestricted one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from ._validation import as_fraction
from .checker import check_schedule
from .instance import Instance
from .schedule import Schedule

__all__ = ["OptimalResult", "solve_optimal", "brute_force_optimal", "optimal_horizon"]


@dataclass(frozen=True)
class OptimalResult:
    """Result of :func:`solve_optimal`.

    Attributes
    ----------
    schedule : Schedule or None
        Best schedule found (``None`` if the solver found none within its limits).
    objective : int or None
        Its total latency.
    lower_bound : float
        Proven lower bound on the optimal total latency.
    proven_optimal : bool
        ``True`` iff ``objective`` is the optimum (the integral objective meets the bound).
    gap : float
        ``(objective - lower_bound) / objective`` (0 when proven optimal).
    status : str
        ``"optimal"``, ``"time limit"`` or the solver's message.
    horizon : int
        Last round a request may be processed in the program.
    n_variables, n_constraints : int
        Size of the program.
    solve_time : float
        Wall-clock seconds spent in the solver.
    """

    schedule: Schedule | None
    objective: int | None
    lower_bound: float
    proven_optimal: bool
    gap: float
    status: str
    horizon: int
    n_variables: int
    n_constraints: int
    solve_time: float


def optimal_horizon(instance: Instance, upper_bound: int | None = None) -> tuple[int, np.ndarray]:
    """Horizon ``H`` and latest start per request that provably contain an optimal schedule.

    ``H = max(a) + sum(o)`` and request ``i`` starts no later than
    ``min(H - o_i, a_i + upper_bound - sum(o))`` (see the module docstring).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [2, 3], memory=4)
    >>> H, latest = optimal_horizon(inst)
    >>> H, latest.tolist()
    (5, [3, 2])
    >>> optimal_horizon(inst, upper_bound=6)[1].tolist()     # 6 - 5 = 1 round of slack
    [1, 1]
    """
    a, o = instance.arrival, instance.output
    H = int(a.max()) + int(o.sum())
    latest = H - o
    if upper_bound is not None:
        latest = np.minimum(latest, a + int(upper_bound) - int(o.sum()))
    return H, latest.astype(np.int64)


def _upper_bound_schedule(instance: Instance) -> Schedule:
    from .policies import mc_sf            # local import: the optimum needs a feasible schedule
    from .simulator import simulate
    exact = instance.with_predictions(None)
    sched = simulate(exact, mc_sf, name="mc-sf (upper bound)")
    check_schedule(exact, sched)
    return Schedule.from_starts(instance, [r.start for r in sched.records], policy="mc-sf")


def solve_optimal(instance: Instance, *, time_limit: float | None = None,
                  mip_rel_gap: float = 1e-9, upper_bound: Schedule | None = None) -> OptimalResult:
    """Minimum total latency over all feasible non-preemptive schedules (the paper's IP).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> res = solve_optimal(inst)
    >>> res.objective, res.proven_optimal
    (8, True)
    >>> [r.start for r in res.schedule.records]
    [1, 0, 0]

    Parameters
    ----------
    instance : Instance
        Predictions are ignored: the optimum knows the true output lengths.
    time_limit : float, optional
        Seconds for HiGHS; on timeout the best schedule found is returned with
        ``proven_optimal=False`` and its gap.
    mip_rel_gap : float
        HiGHS's relative gap tolerance (tiny by default, so the answer is exact).
    upper_bound : Schedule, optional
        A feasible schedule whose latency bounds the windows (default: MC-SF with exact
        predictions).  It is checked with :func:`check_schedule` first.

    Returns
    -------
    OptimalResult
        Its ``schedule`` passes :func:`kvtheory.check_schedule`.
    """
    mip_rel_gap = as_fraction(mip_rel_gap, name="mip_rel_gap")
    if instance.n == 0:
        return OptimalResult(Schedule(instance, ()), 0, 0.0, True, 0.0, "optimal", 0, 0, 0, 0.0)
    if upper_bound is None:
        upper_bound = _upper_bound_schedule(instance)
    else:
        check_schedule(instance, upper_bound, preemptive=False)
    ub = upper_bound.total_latency
    H, latest = optimal_horizon(instance, ub)
    a, s, o = instance.arrival, instance.prompt, instance.output

    # merge identical requests into one integer variable per (group, start)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i in range(instance.n):
        groups.setdefault((int(a[i]), int(s[i]), int(o[i])), []).append(i)
    keys = list(groups)
    var_g, var_k = [], []
    for g, (ai, si, oi) in enumerate(keys):
        last = int(latest[groups[keys[g]][0]])
        ks = np.arange(ai, last + 1)
        var_g.append(np.full(ks.size, g))
        var_k.append(ks)
    var_g = np.concatenate(var_g)
    var_k = np.concatenate(var_k)
    ga = np.array([k[0] for k in keys])
    gs = np.array([k[1] for k in keys])
    go = np.array([k[2] for k in keys])
    gcount = np.array([len(groups[k]) for k in keys])
    nv, ng = var_g.size, len(keys)

    cost = (var_k + go[var_g] - ga[var_g]).astype(float)
    # each group starts exactly count times
    A_start = csr_array((np.ones(nv), (var_g, np.arange(nv))), shape=(ng, nv))
    # memory: variable (g, k) uses s + (τ - k) in rounds τ = k+1 .. k+o
    lens = go[var_g]
    rows = np.repeat(var_k, lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)) + 1
    cols = np.repeat(np.arange(nv), lens)
    vals = gs[var_g][cols] + rows - var_k[cols]
    A_mem = csr_array((vals.astype(float), (rows - 1, cols)), shape=(H, nv))
    constraints = [LinearConstraint(A_start, gcount, gcount),
                   LinearConstraint(A_mem, -np.inf, instance.memory)]
    options = {"disp": False, "mip_rel_gap": mip_rel_gap}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    t0 = time.perf_counter()
    res = milp(cost, constraints=constraints, integrality=np.ones(nv),
               bounds=Bounds(0, gcount[var_g]), options=options)
    elapsed = time.perf_counter() - t0

    if res.x is None:
        return OptimalResult(upper_bound, ub, float(getattr(res, "mip_dual_bound", 0) or 0),
                             False, 1.0, res.message, H, nv, H + ng, elapsed)
    x = np.rint(res.x).astype(np.int64)
    starts = np.empty(instance.n, dtype=np.int64)
    for g, key in enumerate(keys):
        ks = np.repeat(var_k[var_g == g], x[var_g == g])
        starts[groups[key]] = np.sort(ks)
    sched = Schedule.from_starts(instance, starts.tolist(), policy="optimal")
    obj = sched.total_latency
    bound = getattr(res, "mip_dual_bound", None)
    bound = float(obj if bound is None or not np.isfinite(bound) else bound)
    proven = res.status == 0 and math.ceil(bound - 1e-6) >= obj
    if sched.total_latency > ub:                       # never worse than the warm bound
        sched, obj = Schedule.from_starts(instance, [r.start for r in upper_bound.records],
                                          policy="optimal"), ub
    gap = 0.0 if proven else max(0.0, (obj - bound) / obj)
    status = "optimal" if proven else ("time limit" if res.status == 1 else str(res.message))
    return OptimalResult(sched, obj, min(bound, obj) if proven else bound, proven, gap, status,
                         H, nv, H + ng, elapsed)


def brute_force_optimal(instance: Instance, *, max_leaves: int = 2_000_000) -> Schedule:
    """Exhaustive search over all start vectors within the proven horizon (tiny instances only).

    Independent of the integer program: it enumerates every start round
    ``a_i <= p_i <= max(a) + sum(o) - o_i`` for every request and keeps the feasible vector
    with least total latency (ties: lexicographically smallest starts).  Used by the tests to
    validate :func:`solve_optimal`.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> brute_force_optimal(inst).total_latency
    8

    Raises
    ------
    ValueError
        If the search space has more than ``max_leaves`` start vectors.
    """
    a, s, o, M = instance.arrival, instance.prompt, instance.output, instance.memory
    H, latest = optimal_horizon(instance)
    ranges = [range(int(a[i]), int(latest[i]) + 1) for i in range(instance.n)]
    size = math.prod(len(r) for r in ranges)
    if size > max_leaves:
        raise ValueError(f"brute force would enumerate {size} start vectors > max_leaves={max_leaves}")
    best, best_cost = None, None
    for starts in product(*ranges):
        cost = sum(p + oi - ai for p, oi, ai in zip(starts, o.tolist(), a.tolist()))
        if best_cost is not None and cost >= best_cost:
            continue
        use = [0] * (H + 2)
        ok = True
        for p, si, oi in zip(starts, s.tolist(), o.tolist()):
            for t in range(p + 1, p + oi + 1):
                use[t] += si + t - p
                if use[t] > M:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            best, best_cost = starts, cost
    return Schedule.from_starts(instance, list(best), policy="brute force")
