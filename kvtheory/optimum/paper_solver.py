"""The synthetic optimum as the paper's published code obtains it, reimplemented.

The paper's published experiment code (as the book's chapter on the published setup describes it; nothing of it is
copied here) computes the "optimum" of each synthetic instance by handing the Section-2 integer program
to a solver with a **time limit** and a **warm start** (MC-SF's schedule), and reports the
solver's incumbent as the optimum when the time limit is hit, with no optimality flag.  A trial
in which a time-limited solver never improves on the warm start is then counted as "MC-SF
optimal".  This module makes that procedure measurable:

* :func:`solve_paper_program` builds the program over the full horizon
  ``T = max a_i + sum o_i`` (every request may start at any round ``a_i .. T - o_i``; no
  per-request window and no cuts, unlike :func:`kvtheory.optimum.exact.solve_optimal`), passes MC-SF's
  schedule to HiGHS with ``Highs.setSolution``, runs it under a time limit and returns the
  incumbent, HiGHS's model status, its dual bound and whether the incumbent is proven optimal.
* the trials that run it on the synthetic arrival models, and their summaries, are in
  :mod:`kvtheory.studies.code_reading`.

The solver is HiGHS (open source), not the commercial solver the paper used, so how far a
time-limited run gets is solver dependent: the measured statements are about HiGHS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from kvtheory.model.validation import as_fraction, as_int
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import _quiet_stdout, optimal_horizon
from kvtheory.model.schedule import Schedule

__all__ = ["CodeSolveResult", "build_paper_program", "solve_paper_program", "READINGS"]

#: Readings of the prompt-size draw: one ``s`` per request (the generator as described) or one
#: shared ``s`` per instance (the published program takes a single ``s``).
READINGS = {False: "per request", True: "shared"}


@dataclass(frozen=True)
class CodeSolveResult:
    """Result of :func:`solve_paper_program`.

    Attributes
    ----------
    schedule : Schedule
        The incumbent: HiGHS's best schedule, or the warm start if HiGHS returned none better.
    objective : int
        Its total latency.
    warm_objective : int
        Total latency of the warm start.
    improved : bool
        ``objective < warm_objective``.
    dual_bound : float
        HiGHS's dual (lower) bound on the optimum; ``nan`` when it reported none.
    proven : bool
        The incumbent is proven optimal (``ceil(dual_bound) >= objective``).
    status : str
        HiGHS's model status (``"Optimal"``, ``"Time limit reached"``, ...).
    horizon : int
        ``T = max a_i + sum o_i``.
    n_variables, n_nonzeros : int
        Size of the program.
    build_seconds, solve_seconds : float
        Wall-clock seconds to build the matrix and inside HiGHS (HiGHS's time limit is
        wall-clock, so on a loaded machine it gets less processor time than the limit).
    solve_cpu_seconds : float
        Processor seconds this process used inside HiGHS.
    """

    schedule: Schedule
    objective: int
    warm_objective: int
    improved: bool
    dual_bound: float
    proven: bool
    status: str
    horizon: int
    n_variables: int
    n_nonzeros: int
    build_seconds: float
    solve_seconds: float
    solve_cpu_seconds: float = math.nan

    @property
    def dual_gap(self) -> float:
        """``(objective - dual_bound) / objective`` (``nan`` without a bound, 0 when proven)."""
        if self.proven:
            return 0.0
        if not math.isfinite(self.dual_bound) or self.objective == 0:
            return math.nan
        return max(0.0, (self.objective - self.dual_bound) / self.objective)


def build_paper_program(instance: Instance):
    """The Section-2 program over the full horizon, as column-wise arrays.

    Variable ``(i, k)`` (request ``i`` starts at decision time ``k``, processed in rounds
    ``k+1 .. k+o_i``) exists for ``a_i <= k <= T - o_i``, ``T = max a + sum o``, ordered by
    request, then ``k``.  Rows ``0 .. n-1`` say each request starts once; row ``n + t - 1`` is
    the memory of round ``t = 1 .. T``, where variable ``(i, k)`` uses ``s_i + t - k``.

    Returns ``(T, first, cost, start, index, value)``: ``first[i]`` is request ``i``'s first
    column, and ``start/index/value`` the compressed-column matrix.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 2], [2, 1], memory=5)
    >>> T, first, cost, start, index, value = build_paper_program(inst)
    >>> T, first.tolist(), cost.tolist()            # request 0 starts 0 or 1, request 1 at 0..2
    (3, [0, 2], [2.0, 3.0, 1.0, 2.0, 3.0])
    >>> index[start[0]:start[1]].tolist(), value[start[0]:start[1]].tolist()   # (0, k=0)
    ([0, 2, 3], [1.0, 2.0, 3.0])
    """
    a, s, o = instance.arrival, instance.prompt, instance.output
    n = instance.n
    T, latest = optimal_horizon(instance)           # latest start T - o_i (no UB window)
    counts = (latest - a + 1).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    req = np.repeat(np.arange(n), counts)
    k = np.arange(counts.sum()) - np.repeat(first, counts) + np.repeat(a, counts)
    cost = (k + o[req] - a[req]).astype(float)
    per_col = 1 + o[req]                            # start row + o memory rows
    start = np.concatenate([[0], np.cumsum(per_col)]).astype(np.int32)
    nnz = int(start[-1])
    pos = np.arange(nnz) - np.repeat(start[:-1], per_col)      # 0 = start row, j = j-th round
    col = np.repeat(np.arange(req.size), per_col)
    index = np.where(pos == 0, req[col], n + k[col] + pos - 1).astype(np.int32)
    value = np.where(pos == 0, 1, s[req][col] + pos).astype(float)
    return T, first, cost, start, index, value


def _check_time_limit(time_limit):
    return as_fraction(time_limit, name="time_limit", high=math.inf)


def solve_paper_program(instance: Instance, *, time_limit: float = 10.0,
                        warm_start: Schedule | None = None, mip_rel_gap: float = 1e-4,
                        threads: int = 1) -> CodeSolveResult:
    """Solve the Section-2 program with HiGHS, warm-started and time-limited, as the code does.

    The warm start (MC-SF's schedule with exact output lengths by default) is checked with
    :func:`kvtheory.check_schedule` and passed to HiGHS with ``Highs.setSolution``; the answer
    is HiGHS's incumbent, which is never worse than the warm start.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> res = solve_paper_program(inst, time_limit=10)
    >>> res.objective, res.proven, res.status
    (8, True, 'Optimal')
    >>> [r.start for r in res.schedule.records]
    [1, 0, 0]

    Parameters
    ----------
    instance : Instance
        Predictions are ignored (the optimum knows the outputs).
    time_limit : float
        Seconds HiGHS may run (``0`` returns the warm start, unimproved).
    warm_start : Schedule, optional
        A non-preemptive feasible schedule; default MC-SF's.
    mip_rel_gap : float
        HiGHS's relative gap for stopping (its default 1e-4; Gurobi's default MIPGap is the same).
        ``proven`` is decided exactly from the bound, not from this tolerance.
    threads : int
        HiGHS threads (1: the machine is shared).

    Returns
    -------
    CodeSolveResult
        Its ``schedule`` passes :func:`kvtheory.check_schedule`.
    """
    import highspy

    time_limit = _check_time_limit(time_limit)
    mip_rel_gap = as_fraction(mip_rel_gap, name="mip_rel_gap")
    threads = as_int(threads, name="threads", minimum=1)
    exact = instance.with_predictions(None)
    if warm_start is None:
        from kvtheory.engines.policies import mc_sf
        from kvtheory.engines.simulator import simulate
        warm_start = simulate(exact, mc_sf, name="mc-sf")
    check_schedule(exact, warm_start, preemptive=False)
    warm_starts = [r.start for r in warm_start.records]
    warm = Schedule.from_starts(exact, warm_starts, policy="warm start")
    if instance.n == 0:
        return CodeSolveResult(warm, 0, 0, False, 0.0, True, "Optimal", 0, 0, 0, 0.0, 0.0, 0.0)
    t0 = time.perf_counter()
    T, first, cost, start, index, value = build_paper_program(exact)
    n, nv = exact.n, cost.size
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nv, n + T
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(nv)
    lp.col_upper_ = np.ones(nv)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(T, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), np.full(T, float(exact.memory))])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nv, n + T
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * nv
    x0 = np.zeros(nv)
    x0[first + np.asarray(warm_starts) - exact.arrival] = 1.0
    build_seconds = time.perf_counter() - t0
    with _quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", threads)
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        h.setOptionValue("time_limit", max(time_limit, 1e-3))
        h.passModel(lp)
        sol = highspy.HighsSolution()
        sol.col_value = x0
        h.setSolution(sol)
        t1, c1 = time.perf_counter(), time.process_time()
        if time_limit > 0:
            h.run()
        solve_seconds = time.perf_counter() - t1
        solve_cpu = time.process_time() - c1
    status = h.modelStatusToString(h.getModelStatus()) if time_limit > 0 else "Not run"
    info = h.getInfo()
    dual = float(info.mip_dual_bound) if time_limit > 0 else math.nan
    if not math.isfinite(dual) or abs(dual) >= highspy.kHighsInf:
        dual = math.nan
    best = warm
    if time_limit > 0 and h.getSolution().value_valid:
        x = np.asarray(h.getSolution().col_value)
        req_of = np.repeat(np.arange(n), np.diff(np.concatenate([first, [nv]])))
        cols = np.flatnonzero(x > 0.5)
        if np.bincount(req_of[cols], minlength=n).tolist() == [1] * n:
            starts = (cols - first[req_of[cols]] + exact.arrival[req_of[cols]])[np.argsort(req_of[cols])]
            cand = Schedule.from_starts(exact, starts.tolist(), policy="incumbent")
            check_schedule(exact, cand, preemptive=False)
            if cand.total_latency < warm.total_latency:
                best = cand
    obj = int(best.total_latency)
    dual = min(dual, float(obj)) if math.isfinite(dual) else dual
    proven = math.isfinite(dual) and math.ceil(dual - 1e-6) >= obj
    return CodeSolveResult(best, obj, int(warm.total_latency), obj < warm.total_latency, dual,
                           bool(proven), status, int(T), int(nv), int(start[-1]),
                           round(build_seconds, 3), round(solve_seconds, 3),
                           round(solve_cpu, 3))
