"""Lower bounds on the optimal total latency that see completion peaks (our finding).

At the paper's synthetic size the time-indexed relaxation of :mod:`kvtheory.optimum.exact` and the
area bound :func:`kvtheory.optimum.search.volume_lower_bound` sit 30-40 % below the best schedules
known.  Both let two long requests share memory "half each": a fractional start smears a
request's memory peak ``s_i + o_i`` over many rounds.  In an integral schedule a request holds
its peak in its last round, and every request still running then holds at least what it held
earlier.  That gives a family of valid rows (the *peak rows*):

**Lemma (peak rows).**  In every feasible non-preemptive schedule, for every round ``τ``, every
peak level ``θ`` and every holding level ``h >= 1``, the number of requests ``j`` with
``s_j + o_j >= θ`` that hold at least ``h`` memory in round ``τ`` is at most
``floor((M - θ) / h) + 1``.

*Proof.*  Let ``S`` be that set and ``i`` the member whose last round ``τ_i >= τ`` comes first.
Every other member of ``S`` started by round ``τ`` and ends in round ``τ_i`` or later, so it
runs in round ``τ_i`` and holds there at least what it held in round ``τ`` (a request's memory
grows by one per round), at least ``h``.  Request ``i`` holds its peak ``s_i + o_i >= θ`` in
round ``τ_i``.  Memory is at most ``M`` in round ``τ_i``, so ``θ + (|S| - 1) h <= M``.  ∎

With ``θ <= h`` the row is the counting row ``#{holding >= h} <= floor(M / h)``; with
``θ + h > M`` it says that requests with a peak of at least ``θ`` hold ``h`` or more one at a
time, which is what serialises long requests.  :func:`peak_lower_bound` solves the
time-indexed linear relaxation (HiGHS, through ``highspy``), adds the most violated peak row of
each round (the 50 most violated of these), re-solves, and repeats.  (Adding every round's row at
once, about 300 at the paper's size, made each re-solve slow: measured on paper model 1,
seed 1, n = 49, 40 s gave 6407 that way and 6689 with 50 rows per round.)  The relaxation has one column per request and start
round (about 50 000 at the paper's size); only the columns that pricing asks for are handed to
HiGHS (column generation), and every intermediate value is turned into a valid bound by adding
each request's most negative reduced cost (the Lagrangian bound of the restricted problem).  The result is a proven lower bound on the optimum; :func:`peak_row_slack` checks
the lemma on any schedule (the tests run it on every policy's schedules).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from kvtheory.model.validation import as_int
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import (_memory_matrix, _quiet_stdout, _round_offsets, _upper_bound_schedule,
                      optimal_horizon)
from kvtheory.model.schedule import Schedule
from kvtheory.optimum.search import volume_lower_bound

__all__ = ["BoundResult", "ProofResult", "peak_row_slack", "peak_lower_bound", "prove_optimal"]

#: Safety margin subtracted from every floating-point LP value before rounding up.
_MARGIN = 1e-6


@dataclass(frozen=True)
class BoundResult:
    """Result of :func:`peak_lower_bound`.

    Attributes
    ----------
    bound : int
        Proven lower bound on the optimal total latency: the largest of the rounded-up LP value
        with peak rows, :func:`kvtheory.optimum.search.volume_lower_bound` and ``sum(o)``; never above
        ``upper``.
    lp_bound : float
        Value of the plain time-indexed relaxation (no peak rows); ``nan`` if not solved.
    cut_bound : float
        Value of the relaxation after the last round of peak rows.
    volume : int
        :func:`kvtheory.optimum.search.volume_lower_bound`.
    upper : int
        Total latency of the feasible schedule used to bound the windows (an upper bound).
    proven_optimal : bool
        ``bound >= upper``: the upper-bound schedule is optimal.
    rounds, cuts, columns : int
        Separation rounds run, peak rows added, columns priced into the relaxation.
    seconds : float
        Wall-clock time.
    """

    bound: int
    lp_bound: float
    cut_bound: float
    volume: int
    upper: int
    proven_optimal: bool
    rounds: int
    cuts: int
    columns: int
    seconds: float

    @property
    def gap(self) -> float:
        """``upper / bound - 1``: how far the upper bound may be from the optimum."""
        return self.upper / self.bound - 1 if self.bound else math.inf


def _holdings(instance: Instance, schedule: Schedule) -> list[tuple[int, int, int]]:
    """``(round, request, memory held)`` for every processed round of ``schedule``."""
    out = []
    for r in schedule.records:
        for tau in range(r.start + 1, r.completion + 1):
            out.append((tau, r.id, r.prompt + tau - r.start))
    return out


def peak_row_slack(instance: Instance, schedule: Schedule) -> int:
    """Smallest slack of any peak row in ``schedule`` (the Lemma holds iff it is ``>= 0``).

    Slack of the row for ``(τ, θ, h)``: ``floor((M - θ) / h) + 1`` minus the number of
    requests with ``s_j + o_j >= θ`` holding at least ``h`` in round ``τ``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [3, 3], memory=8)
    >>> together = Schedule.from_starts(inst, [0, 0])     # peaks 4 + 4 = 8: feasible
    >>> peak_row_slack(inst, together)
    0
    >>> bad = Instance.from_arrays([0, 0], [1, 1], [4, 4], memory=8)
    >>> peak_row_slack(bad, Schedule.from_starts(bad, [0, 0]))   # 5 + 5 > 8 in round 4
    -1
    """
    M = int(instance.memory)
    peak = (instance.prompt + instance.output).astype(np.int64)
    by_round: dict[int, list[tuple[int, int]]] = {}
    for tau, j, u in _holdings(instance, schedule):
        by_round.setdefault(tau, []).append((int(peak[j]), u))
    slack = 2 ** 62
    for items in by_round.values():
        for theta in {p for p, _ in items}:
            for h in range(1, M + 1):
                count = sum(1 for p, u in items if p >= theta and u >= h)
                if count:
                    slack = min(slack, (M - theta) // h + 1 - count)
    return 0 if slack == 2 ** 62 else int(slack)


def _in_peak_row(P, s, o, k, t, theta, h):
    """Whether a column (request with peak ``P``, prompt ``s``, output ``o``, start ``k``) holds at
    least ``h`` in round ``t`` and has ``P >= theta``: its coefficient 1 in the peak row
    ``(t, theta, h)``.  It runs in rounds ``k+1 .. k+o`` and holds ``s + t - k`` in round ``t``.
    Broadcasts over any of its arguments."""
    return (P >= theta) & (k >= t - o) & (k <= t - 1) & (k <= t - h + s)


class _Model:
    """The time-indexed relaxation in HiGHS, priced column by column, with peak rows on demand.

    The universe of columns is every start ``k`` of every request in its window; only the
    columns that pricing asks for are given to HiGHS (column generation).  Every LP value of the
    restricted problem plus the most negative reduced cost of each request is a valid
    (Lagrangian) lower bound on the full relaxation, hence on the optimum.
    """

    def __init__(self, instance: Instance, upper_schedule: Schedule):
        import highspy

        self.hs = highspy
        a = instance.arrival.astype(np.int64)
        s = instance.prompt.astype(np.int64)
        o = instance.output.astype(np.int64)
        self.M, self.n = int(instance.memory), instance.n
        self.a, self.s, self.o, self.P = a, s, o, s + o
        upper = int(upper_schedule.total_latency)
        H, latest = optimal_horizon(instance, upper)
        self.H, self.latest = H, latest
        width = latest - a + 1
        self.offset = np.r_[0, np.cumsum(width)[:-1]]
        self.vj = np.repeat(np.arange(self.n), width)
        self.vk = np.concatenate([np.arange(a[j], latest[j] + 1) for j in range(self.n)])
        self.cost = (self.vk + o[self.vj] - a[self.vj]).astype(float)
        self.cuts = np.zeros((0, 4), dtype=np.int64)         # (τ, θ, h, capacity)
        self.active = np.zeros(0, dtype=np.int64)             # universe index of HiGHS columns
        self.in_model = np.zeros(self.vj.size, dtype=bool)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        for _ in range(self.n):
            h.addRow(1.0, 1.0, 0, np.zeros(0, np.int32), np.zeros(0))
        for _ in range(H):
            h.addRow(-inf, float(self.M), 0, np.zeros(0, np.int32), np.zeros(0))
        self.h = h
        self.rank = np.argsort(-self.P, kind="stable")       # requests by peak, largest first
        starts = np.array([r.start for r in upper_schedule.records], dtype=np.int64)
        self.add_columns(self.offset + starts - a)          # a feasible restricted problem

    # -- columns --------------------------------------------------------------------------
    def _rows_of(self, u: int):
        j, k = int(self.vj[u]), int(self.vk[u])
        s, o = int(self.s[j]), int(self.o[j])
        d = np.arange(1, o + 1)
        idx = [np.array([j]), self.n + k + d - 1]
        val = [np.ones(1), (s + d).astype(float)]
        if len(self.cuts):
            t, th, hh = self.cuts[:, 0], self.cuts[:, 1], self.cuts[:, 2]
            hit = np.flatnonzero(_in_peak_row(self.P[j], s, o, k, t, th, hh))
            idx.append(self.n + self.H + hit)
            val.append(np.ones(hit.size))
        return np.concatenate(idx).astype(np.int32), np.concatenate(val)

    def add_columns(self, universe: np.ndarray) -> None:
        universe = np.unique(universe[~self.in_model[universe]])
        for u in universe:
            idx, val = self._rows_of(int(u))
            self.h.addCol(float(self.cost[u]), 0.0, 1.0, idx.size, idx, val)
        self.in_model[universe] = True
        self.active = np.r_[self.active, universe]

    def reduced_costs(self) -> np.ndarray:
        """Reduced cost of every column of the universe under the current row duals."""
        y = np.asarray(self.h.getSolution().row_dual)
        n, H = self.n, self.H
        u, mem, pi = y[:n], y[n:n + H], y[n + H:]
        y0 = np.r_[0.0, np.cumsum(mem)]
        y1 = np.r_[0.0, np.cumsum(mem * np.arange(1, H + 1))]
        j, k = self.vj, self.vk
        end = np.minimum(k + self.o[j], H)
        part = (self.s[j] - k) * (y0[end] - y0[k]) + (y1[end] - y1[k])
        cut = np.zeros(self.vj.size)
        live = np.flatnonzero(np.abs(pi) > 1e-12)
        if live.size:
            t, th, hh = (self.cuts[live, c] for c in range(3))
            rows, reqs = np.nonzero(self.P[None, :] >= th[:, None])
            lo = np.maximum(self.a[reqs], t[rows] - self.o[reqs])
            hi = np.minimum.reduce([t[rows] - 1, t[rows] - hh[rows] + self.s[reqs],
                                    self.latest[reqs]])
            ok = lo <= hi
            rows, reqs, lo, hi = rows[ok], reqs[ok], lo[ok], hi[ok]
            diff = np.zeros(self.vj.size + 1)
            base = self.offset[reqs] - self.a[reqs]
            np.add.at(diff, base + lo, pi[live][rows])
            np.add.at(diff, base + hi + 1, -pi[live][rows])
            cut = np.cumsum(diff)[:-1]
        return self.cost - u[j] - part - cut

    # -- solving ----------------------------------------------------------------------------
    def solve(self) -> float:
        self.h.run()
        if self.h.getModelStatus() != self.hs.HighsModelStatus.kOptimal:
            return math.nan
        return float(self.h.getInfo().objective_function_value)

    def price(self, per_request: int = 4, tol: float = 1e-7) -> tuple[float, float]:
        """Solve, price; add the most negative columns.  Returns (LP value, Lagrangian bound)."""
        value = self.solve()
        if not math.isfinite(value):
            return math.nan, math.nan
        rc = self.reduced_costs()
        rc[self.in_model] = np.maximum(rc[self.in_model], 0.0)
        lowest = np.minimum.reduceat(rc, self.offset)
        bound = value + float(np.minimum(lowest, 0.0).sum())
        neg = np.flatnonzero(rc < -tol)
        if neg.size:
            order = np.lexsort((rc[neg], self.vj[neg]))
            neg = neg[order]
            first = np.r_[True, self.vj[neg][1:] != self.vj[neg][:-1]]
            rank = np.arange(neg.size) - np.maximum.accumulate(np.where(first, np.arange(neg.size), 0))
            self.add_columns(neg[rank < per_request])
        return value, bound

    def separate(self, max_rows: int = 50,
                 tol: float = 1e-4) -> list[tuple[int, int, int, int]]:
        """Most violated peak rows ``(τ, θ, h, capacity)``: one per round, ``max_rows`` at most."""
        x = np.asarray(self.h.getSolution().col_value)
        nz = np.flatnonzero(x > 1e-9)
        if nz.size == 0:
            return []
        M, n, H = self.M, self.n, self.H
        uni = self.active[nz]
        j, k, w = self.vj[uni], self.vk[uni], x[nz]
        lens = self.o[j]
        d = _round_offsets(lens)
        rep = np.repeat(np.arange(nz.size), lens)
        inv = np.empty(n, dtype=np.int64)
        inv[self.rank] = np.arange(n)
        D = np.zeros((H + 2, n, M + 2))
        np.add.at(D, (k[rep] + d, inv[j[rep]], self.s[j[rep]] + d), w[rep])
        Y = np.cumsum(D[:, :, ::-1], axis=2)[:, :, ::-1]      # holding >= h
        Y = np.cumsum(Y, axis=1)                               # over requests by peak
        theta = self.P[self.rank]
        last = np.r_[theta[1:] != theta[:-1], True]            # last index of each peak level
        q = np.flatnonzero(last)
        hh = np.arange(1, M + 1)
        cap = (M - theta[q])[:, None] // hh[None, :] + 1       # (levels, h)
        viol = Y[:, q, 1:M + 1] - cap[None, :, :]
        flat = viol.reshape(H + 2, -1)
        best = flat.argmax(axis=1)
        worst = flat[np.arange(H + 2), best]
        ts = np.flatnonzero(worst > tol)
        ts = ts[np.argsort(-worst[ts], kind="stable")][:max_rows]      # the most violated
        out = []
        for t in np.sort(ts):
            qi, hi = divmod(int(best[t]), M)
            out.append((int(t), int(theta[q[qi]]), int(hh[hi]), int(cap[qi, hi])))
        return out

    def add_rows(self, rows: list[tuple[int, int, int, int]]) -> None:
        inf = self.hs.kHighsInf
        vj, vk, s, o = self.vj[self.active], self.vk[self.active], self.s, self.o
        for t, theta, h, cap in rows:
            sel = np.flatnonzero(_in_peak_row(self.P[vj], s[vj], o[vj], vk, t, theta,
                                              h)).astype(np.int32)
            self.h.addRow(-inf, float(cap), sel.size, sel, np.ones(sel.size))
        self.cuts = np.vstack([self.cuts, np.array(rows, dtype=np.int64).reshape(-1, 4)])


def peak_lower_bound(instance: Instance, upper_bound: Schedule | None = None, *,
                     rounds: int = 50, time_limit: float | None = None,
                     max_pricing: int = 200) -> BoundResult:
    """Lower bound on the optimal total latency: time-indexed LP plus peak rows (our finding).

    Guarantee: ``bound <= OPT`` for every instance (the peak-row Lemma of the module docstring,
    reduced-cost fixing against ``upper_bound``, and rounding up only after subtracting a
    safety margin from the floating-point LP value).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> res = peak_lower_bound(inst)
    >>> res.bound, res.upper, res.proven_optimal       # the optimum is 8 (solve_optimal)
    (8, 8, True)
    >>> two = Instance.from_arrays([0, 0], [2, 2], [6, 6], memory=8)   # peaks 8: one at a time
    >>> peak_lower_bound(two).bound                                      # 6 + 12
    18

    Parameters
    ----------
    instance : Instance
        Predictions are ignored.
    upper_bound : Schedule, optional
        A feasible schedule (checked with :func:`kvtheory.check_schedule`); default MC-SF with
        exact predictions.  Its latency bounds the start windows and drives the fixing.
    rounds : int
        Maximum separation rounds (each adds at most 50 peak rows and re-solves).
    time_limit : float, optional
        Stop separating once this many seconds have passed (the bound stays valid).

    Returns
    -------
    BoundResult
    """
    rounds = as_int(rounds, name="rounds", minimum=0)
    t0 = time.perf_counter()
    upper_bound = _upper_bound_schedule(instance, upper_bound)
    return _peak_bound(instance, upper_bound, rounds, time_limit, max_pricing, t0)[0]


def _peak_bound(instance, upper_bound, rounds, time_limit, max_pricing, t0):
    """:func:`peak_lower_bound` (``upper_bound`` already checked; clock started at ``t0``) and
    the model it solved (``None`` if none was needed)."""
    upper = int(upper_bound.total_latency)
    vol = int(volume_lower_bound(instance)) if instance.n else 0
    floor_bound = max(vol, int(instance.output.sum()))

    model = None

    def done(lp, cut, r, c, f):
        best = floor_bound
        if math.isfinite(cut):
            best = max(best, math.ceil(cut - _MARGIN * max(1.0, abs(cut))))
        best = min(best, upper)
        return BoundResult(int(best), lp, cut, vol, upper, best >= upper, r, c, f,
                           time.perf_counter() - t0), model

    if instance.n == 0 or floor_bound >= upper:
        return done(math.nan, math.nan, 0, 0, 0)
    with _quiet_stdout():                  # HiGHS prints a banner on its first model
        model = _Model(instance, upper_bound)
    lp, best, r, c, first = math.nan, -math.inf, 0, 0, True
    while True:
        for _ in range(max_pricing):                    # price the relaxation out
            value, lagr = model.price()
            if not math.isfinite(value):
                return done(lp, best, r, c, model.active.size)
            best = max(best, lagr)
            if lagr >= value - 1e-6:                     # no negative reduced cost: exact
                break
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        if first:
            lp, first = best, False
        if r >= rounds or math.ceil(best - _MARGIN * abs(best)) >= upper:
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
        rows = model.separate()
        if not rows:
            break
        model.add_rows(rows)
        r, c = r + 1, c + len(rows)
    return done(lp, best, r, c, model.active.size)


@dataclass(frozen=True)
class ProofResult:
    """Result of :func:`prove_optimal`.

    Attributes
    ----------
    schedule : Schedule
        Best schedule known (checked): the solver's or the given upper bound.
    objective : int
        Its total latency.
    lower_bound : int
        Proven lower bound on the optimum (peak bound, or the solver's dual bound if higher).
    proven_optimal : bool
        ``lower_bound >= objective``.
    bound : BoundResult
        The peak-row bound computed first.
    solve_seconds : float
        Seconds in the integer solver (after the bound).
    """

    schedule: Schedule
    objective: int
    lower_bound: int
    proven_optimal: bool
    bound: BoundResult
    solve_seconds: float


def prove_optimal(instance: Instance, upper_bound: Schedule | None = None, *,
                  time_limit: float = 60.0, bound_time: float | None = 30.0) -> ProofResult:
    """Prove (or bracket) the optimum: the exact program strengthened by the peak rows.

    First :func:`peak_lower_bound` runs (``bound_time`` seconds); if it does not meet the upper
    bound, the time-indexed integer program (every start column, the memory rows, the peak rows
    the bound separated, and the cutoff ``total latency <= upper``) goes to HiGHS through
    :func:`scipy.optimize.milp` for ``time_limit`` seconds.  The peak rows hold for every
    feasible schedule (module docstring), so the program's optimum is the true optimum.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 3], [2, 5, 3], memory=6)
    >>> res = prove_optimal(inst, time_limit=10)
    >>> res.objective, res.lower_bound, res.proven_optimal      # exhaustive search: 15
    (15, 15, True)
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    t_limit = float(time_limit)
    upper_bound = _upper_bound_schedule(instance, upper_bound)
    bound, model = _peak_bound(instance, upper_bound, 1000, bound_time, 200, time.perf_counter())
    best_sched, lb = upper_bound, bound.bound
    if bound.proven_optimal or model is None or t_limit <= 0:
        return ProofResult(best_sched, int(best_sched.total_latency), int(lb),
                           lb >= best_sched.total_latency, bound, 0.0)
    t0 = time.perf_counter()
    vj, vk, s, o, P = model.vj, model.vk, model.s, model.o, model.P
    nv, n, H = vj.size, model.n, model.H
    A_mem = _memory_matrix(vk, s[vj], o[vj], H)
    rows, cc = [], []
    for r, (t, theta, h, _) in enumerate(model.cuts):
        sel = np.flatnonzero(_in_peak_row(P[vj], s[vj], o[vj], vk, t, theta, h))
        rows.append(np.full(sel.size, r))
        cc.append(sel)
    cons = [LinearConstraint(csr_array((np.ones(nv), (vj, np.arange(nv))), shape=(n, nv)), 1, 1),
            LinearConstraint(A_mem, -np.inf, model.M),
            LinearConstraint(csr_array(model.cost[None, :]), -np.inf, float(bound.upper))]
    if len(model.cuts):
        r, c = np.concatenate(rows), np.concatenate(cc)
        cons.append(LinearConstraint(csr_array((np.ones(r.size), (r, c)),
                                               shape=(len(model.cuts), nv)),
                                     -np.inf, model.cuts[:, 3].astype(float)))
    with _quiet_stdout():
        res = milp(model.cost, constraints=cons, integrality=np.ones(nv), bounds=Bounds(0, 1),
                   options={"time_limit": t_limit, "mip_rel_gap": 1e-9, "disp": False})
    dual = getattr(res, "mip_dual_bound", None)
    if res.x is not None:
        x = np.rint(res.x).astype(bool)
        starts = np.empty(n, dtype=np.int64)
        starts[vj[x]] = vk[x]
        cand = Schedule.from_starts(instance, starts.tolist(), policy="optimal")
        check_schedule(instance, cand, preemptive=False)
        if cand.total_latency < best_sched.total_latency:
            best_sched = cand
    obj = int(best_sched.total_latency)
    if res.status == 0:                          # solved to optimality: no better schedule exists
        lb = obj
    elif dual is not None and np.isfinite(dual):
        lb = max(lb, math.ceil(float(dual) - _MARGIN * max(1.0, abs(float(dual)))))
    lb = min(lb, obj)
    return ProofResult(best_sched, obj, int(lb), lb >= obj, bound, time.perf_counter() - t0)
