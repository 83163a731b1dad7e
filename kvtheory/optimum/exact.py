"""The hindsight optimum: the paper's integer program (v4/v5) and a brute force.

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

Strengthening (each added row is satisfied by every feasible schedule whose total latency is
at most the upper bound ``UB``, in particular by every optimal schedule, so the optimum is
unchanged; only the LP relaxation gets tighter).  Write ``R_t(v)`` for the number of requests
running in round ``t`` that hold at least ``v`` memory there; in the program
``R_t(v) = sum x[g, k]`` over the starts ``k`` with ``1 <= t - k <= o_g`` and
``s_g + t - k >= v``.

3. *Objective cutoff.*  ``sum_i (c_i - a_i) <= UB``: optimal schedules cost at most ``UB``.
4. *Family A (counting).*  ``R_t(v) <= floor(M / v)`` for every round ``t`` and ``v >= 1``:
   the ``R_t(v)`` requests together hold at least ``v R_t(v)`` memory, which is at most ``M``.
5. *Family B (clique).*  For a request ``i`` (alone in its group of identical requests), a
   round ``t`` and ``1 <= θ <= (M + 1) / 2``: ``[i holds >= θ in round t] + R'_t(M + 1 - θ)
   <= 1``, where ``R'`` counts requests other than ``i``.  Any two of the counted events
   together need at least ``θ + (M + 1 - θ) = M + 1`` or ``2 (M + 1 - θ) >= M + 1`` memory
   in round ``t``, more than ``M``; so at most one of them happens.

Rows of families A and B are added by separation: solve the LP relaxation, add for every
round the most violated row of each family, repeat (``cut_rounds`` times at most).

Measured effect (paper model 1, n = 8, M = 39-47, three seeds): the root LP bound rises
only about 1-3 % and HiGHS's branch-and-bound time changes by a factor 0.5-2 either way, so
the rows are off by default (``cuts=True`` turns them on).  The time-indexed relaxation
smears each request over many start times and so never sees the memory peak ``s_i + o_i`` at
completion; its gap to MC-SF is 24 % at n = 10 and 34 % at n = 50, which is why paper-size
instances (n = 40-60) cannot be proven optimal with this program.
"""

from __future__ import annotations

import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array, vstack

from kvtheory.optimum.cuts import cut_rows, separate

from kvtheory.model.validation import as_fraction
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.model.schedule import Schedule

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
        Wall-clock seconds of the whole call: ``build_seconds``, cut separation and HiGHS.
    root_bound : float
        LP-relaxation bound after the cutting rounds (``nan`` if no LP was solved).
    n_cuts : int
        Valid inequalities added (objective cutoff included).
    build_seconds : float
        Wall-clock seconds spent before any solver ran: the upper-bound schedule (MC-SF and its
        check, unless given) and the program's matrices.  Part of ``solve_time``.
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
    root_bound: float = float("nan")
    n_cuts: int = 0
    build_seconds: float = float("nan")


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


def _upper_bound_schedule(instance: Instance, schedule: Schedule | None = None) -> Schedule:
    """``schedule`` checked as non-preemptive, or (if ``None``) MC-SF's with exact predictions."""
    if schedule is not None:
        check_schedule(instance, schedule, preemptive=False)
        return schedule
    from kvtheory.engines.policies import mc_sf            # local import: the optimum needs a feasible schedule
    from kvtheory.engines.simulator import simulate
    exact = instance.with_predictions(None)
    sched = simulate(exact, mc_sf, name="mc-sf (upper bound)")
    check_schedule(exact, sched)
    return Schedule.from_starts(instance, [r.start for r in sched.records], policy="mc-sf")


def _round_offsets(lens: np.ndarray) -> np.ndarray:
    """``1, 2, ..., lens[0], 1, 2, ..., lens[1], ...``: the rounds of each column, concatenated."""
    return np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + 1


def _memory_matrix(k: np.ndarray, s: np.ndarray, o: np.ndarray, H: int) -> csr_array:
    """Memory rows of the time-indexed program: column ``c`` (start ``k_c``, prompt ``s_c``,
    output ``o_c``) holds ``s_c + d`` in round ``k_c + d`` for ``d = 1 .. o_c`` (row ``τ - 1``)."""
    d = _round_offsets(o)
    cols = np.repeat(np.arange(k.size), o)
    return csr_array(((s[cols] + d).astype(float), (k[cols] + d - 1, cols)), shape=(H, k.size))


@contextmanager
def _quiet_stdout():
    """Silence file descriptor 1 (HiGHS occasionally prints from C++ despite ``disp=False``)."""
    try:
        sys.stdout.flush()
        fd = os.dup(1)
    except (OSError, ValueError, AttributeError):      # no real stdout (e.g. captured)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)
        os.close(devnull)


def solve_optimal(instance: Instance, *, time_limit: float | None = None,
                  mip_rel_gap: float = 1e-9, upper_bound: Schedule | None = None,
                  cuts: bool = False, cut_rounds: int = 8,
                  presolve: bool = True) -> OptimalResult:
    """Minimum total latency over all feasible non-preemptive schedules (the paper's IP).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> res = solve_optimal(inst)
    >>> res.objective, res.proven_optimal
    (8, True)
    >>> [r.start for r in res.schedule.records]
    [1, 0, 0]
    >>> solve_optimal(inst, cuts=True).objective       # same optimum with the valid cuts
    8

    Parameters
    ----------
    instance : Instance
        Predictions are ignored: the optimum knows the true output lengths.
    time_limit : float, optional
        Seconds for the whole call: HiGHS (and the cut separation's LPs) get only what remains
        after building the program (``build_seconds``), at least 0.1 s.  On timeout the best
        schedule found is returned with ``proven_optimal=False`` and its gap.  HiGHS checks
        its clock only now and then; pass ``presolve=False`` for a limit that holds closely.
    mip_rel_gap : float
        HiGHS's relative gap tolerance (tiny by default, so the answer is exact).
    upper_bound : Schedule, optional
        A feasible schedule whose latency bounds the windows (default: MC-SF with exact
        predictions).  It is checked with :func:`check_schedule` first.
    cuts : bool
        Add the objective cutoff and separate the valid inequalities of families A and B
        (module docstring) before branching.  They never change the optimum; off by
        default because they did not speed HiGHS up reliably.
    cut_rounds : int
        Maximum number of separation rounds (each solves one LP relaxation).
    presolve : bool
        Let HiGHS presolve the program (default).  Its MIP presolve does not check the clock
        often: with a time limit of 2 s it ran 5-8 s on paper-model-1 programs of n = 20-30
        (measured); without presolve the overrun was at most 1.4 s there (2.5 s at n = 50,
        the setup of the first LP), but the bound at the limit is weaker.

    Returns
    -------
    OptimalResult
        Its ``schedule`` passes :func:`kvtheory.check_schedule`.
    """
    mip_rel_gap = as_fraction(mip_rel_gap, name="mip_rel_gap")
    if instance.n == 0:
        return OptimalResult(Schedule(instance, ()), 0, 0.0, True, 0.0, "optimal", 0, 0, 0, 0.0,
                             build_seconds=0.0)
    t_begin = time.perf_counter()
    upper_bound = _upper_bound_schedule(instance, upper_bound)
    ub = upper_bound.total_latency
    H, latest = optimal_horizon(instance, ub)
    a, s, o = instance.arrival, instance.prompt, instance.output
    M = instance.memory

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
    A_mem = _memory_matrix(var_k, gs[var_g], go[var_g], H)
    constraints = [LinearConstraint(A_start, gcount, gcount),
                   LinearConstraint(A_mem, -np.inf, M)]
    n_cuts, root_bound = 0, float("nan")
    build_seconds = time.perf_counter() - t_begin

    def remaining() -> float:
        return max(0.1, float(time_limit) - (time.perf_counter() - t_begin))
    if cuts:
        # objective cutoff (3) and separated rows of families A and B (4, 5): all valid
        A_cut = csr_array(cost[None, :])
        b_cut = np.array([float(ub)])
        budget = None if time_limit is None else 0.3 * float(time_limit)
        t_cut = time.perf_counter()
        for _ in range(max(0, int(cut_rounds))):
            if budget is not None and time.perf_counter() - t_cut > budget:
                break
            lp = linprog(cost, A_ub=vstack([A_mem, A_cut]),
                         b_ub=np.concatenate([np.full(H, float(M)), b_cut]),
                         A_eq=A_start, b_eq=gcount.astype(float),
                         bounds=np.column_stack([np.zeros(nv), gcount[var_g]]), method="highs",
                         options={} if time_limit is None else {"time_limit": remaining()})
            if lp.status != 0:
                break
            improved = not np.isfinite(root_bound) or lp.fun > root_bound + 1e-4 * abs(root_bound)
            root_bound = float(lp.fun) if not np.isfinite(root_bound) else max(root_bound, lp.fun)
            if math.ceil(root_bound - 1e-6) >= ub or not improved:
                break
            found = separate(lp.x, var_g, var_k, gs, go, gcount, H, M)
            if not found:
                break
            r, c, b = cut_rows(found, var_g, var_k, gs, go, M)
            A_cut = vstack([A_cut, csr_array((np.ones(r.size), (r, c)), shape=(len(found), nv))])
            b_cut = np.concatenate([b_cut, b])
        constraints.append(LinearConstraint(A_cut, -np.inf, b_cut))
        n_cuts = A_cut.shape[0]
        if np.isfinite(root_bound) and math.ceil(root_bound - 1e-6) >= ub:
            # the LP bound already meets the upper bound: the given schedule is optimal
            elapsed = time.perf_counter() - t_begin
            sched = Schedule.from_starts(instance, [r.start for r in upper_bound.records],
                                         policy="optimal")
            return OptimalResult(sched, ub, float(ub), True, 0.0, "optimal", H, nv,
                                 H + ng + n_cuts, elapsed, root_bound, n_cuts, build_seconds)
    options = {"disp": False, "mip_rel_gap": mip_rel_gap, "presolve": bool(presolve)}
    if time_limit is not None:
        options["time_limit"] = remaining()
    with _quiet_stdout():
        res = milp(cost, constraints=constraints, integrality=np.ones(nv),
                   bounds=Bounds(0, gcount[var_g]), options=options)
    elapsed = time.perf_counter() - t_begin
    n_rows = H + ng + n_cuts

    lp_bound = root_bound if np.isfinite(root_bound) else -np.inf
    dual = getattr(res, "mip_dual_bound", None)
    dual = float(dual) if dual is not None and np.isfinite(dual) else -np.inf
    trivial = float(o.sum())                      # every latency is at least its output length
    if res.x is None:
        bound = min(max(lp_bound, dual, trivial), float(ub))
        proven = math.ceil(bound - 1e-6) >= ub
        sched = Schedule.from_starts(instance, [r.start for r in upper_bound.records],
                                     policy="optimal" if proven else "mc-sf")
        return OptimalResult(sched, ub, bound, proven, 0.0 if proven else (ub - bound) / ub,
                             "optimal" if proven else str(res.message), H, nv, n_rows, elapsed,
                             root_bound, n_cuts, build_seconds)
    x = np.rint(res.x).astype(np.int64)
    starts = np.empty(instance.n, dtype=np.int64)
    for g, key in enumerate(keys):
        ks = np.repeat(var_k[var_g == g], x[var_g == g])
        starts[groups[key]] = np.sort(ks)
    sched = Schedule.from_starts(instance, starts.tolist(), policy="optimal")
    obj = sched.total_latency
    bound = max(dual, lp_bound, trivial)
    if res.status == 0 and not np.isfinite(dual):  # HiGHS reports optimality without a bound
        bound = max(bound, float(obj))
    proven = res.status == 0 and math.ceil(bound - 1e-6) >= obj
    if sched.total_latency > ub:                       # never worse than the warm bound
        sched, obj = Schedule.from_starts(instance, [r.start for r in upper_bound.records],
                                          policy="optimal"), ub
    gap = 0.0 if proven else max(0.0, (obj - bound) / obj)
    status = "optimal" if proven else ("time limit" if res.status == 1 else str(res.message))
    return OptimalResult(sched, obj, min(bound, obj) if proven else bound, proven, gap, status,
                         H, nv, n_rows, elapsed, root_bound, n_cuts, build_seconds)


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
