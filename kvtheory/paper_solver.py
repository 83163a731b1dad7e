"""The synthetic optimum as the paper's published code obtains it, reimplemented.

The paper's published experiment code (DIGEST section 8, paraphrased; nothing of it is copied
here) computes the "optimum" of each synthetic instance by handing the Section-2 integer program
to a solver with a **time limit** and a **warm start** (MC-SF's schedule), and reports the
solver's incumbent as the optimum when the time limit is hit, with no optimality flag.  A trial
in which a time-limited solver never improves on the warm start is then counted as "MC-SF
optimal".  This module makes that procedure measurable:

* :func:`solve_paper_program` builds the program over the full horizon
  ``T = max a_i + sum o_i`` (every request may start at any round ``a_i .. T - o_i``; no
  per-request window and no cuts, unlike :func:`kvtheory.optimal.solve_optimal`), passes MC-SF's
  schedule to HiGHS with ``Highs.setSolution``, runs it under a time limit and returns the
  incumbent, HiGHS's model status, its dual bound and whether the incumbent is proven optimal.
* :func:`code_reading_trials` runs the trials of one arrival model with the seeds of
  :func:`kvtheory.replication.trial_specs` (with ``shared_prompt=False``, trial ``k`` here is
  trial ``k`` of the book's replication: the same instance), one tidy row per trial;
  :func:`code_reading_summary` gives the figures the paper reports (mean, worst, "optimal"
  count) under the code's counting.
* ``python -m kvtheory.paper_solver --model model1 --trials 40 --time-limit 10 --out F.json``
  writes the rows to JSON after every trial (a rerun with the same settings resumes);
  :func:`load_runs` and :func:`summary_table` read them back.

The solver is HiGHS (open source), not the commercial solver the paper used, so how far a
time-limited run gets is solver dependent: the measured statements are about HiGHS.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ._validation import as_fraction, as_int
from .checker import check_schedule
from .instance import Instance
from .optimal import _quiet_stdout, optimal_horizon
from .schedule import Schedule

__all__ = ["CodeSolveResult", "build_paper_program", "solve_paper_program", "code_reading_trial",
           "code_reading_trials", "code_reading_summary", "load_runs", "summary_table",
           "code_reading_plot", "PAPER", "READINGS", "main"]

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
        from .policies import mc_sf
        from .simulator import simulate
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


# --------------------------------------------------------------------------- trials
def code_reading_trial(spec, *, time_limit: float, shared_prompt: bool = False) -> dict:
    """One trial under the code's reading; one tidy row (see :func:`code_reading_trials`).

    ``spec`` is a :class:`kvtheory.replication.TrialSpec`; its seed draws the instance (with
    ``shared_prompt``) and child 1 of it seeds the local search, exactly as in
    :func:`kvtheory.replication.run_trial`.
    """
    from .policies import POLICIES
    from .replication import MODELS
    from .search import improve_schedule, volume_lower_bound
    from .simulator import simulate

    rng = np.random.default_rng(spec.seed)
    inst = MODELS[spec.model](rng, shared_prompt=shared_prompt, **dict(spec.size))
    mc = simulate(inst, POLICIES["mc-sf"], name="mc-sf")
    check_schedule(inst, mc, preemptive=False)
    res = solve_paper_program(inst, time_limit=time_limit, warm_start=mc)
    check_schedule(inst, res.schedule, preemptive=False)
    search_best, search_seconds = None, 0.0
    if spec.search_evals:
        t0 = time.perf_counter()
        seed = np.random.SeedSequence(spec.seed.entropy, spawn_key=spec.seed.spawn_key + (1,))
        found = improve_schedule(inst, np.random.default_rng(seed), start=mc,
                                 evaluations=spec.search_evals)
        check_schedule(inst, found.schedule, preemptive=False)
        search_best, search_seconds = int(found.total_latency), time.perf_counter() - t0
    mcsf = int(mc.total_latency)
    best_known = min(res.objective, search_best if search_best is not None else res.objective)
    lower = max(float(volume_lower_bound(inst)), float(inst.output.sum()),
                res.dual_bound if math.isfinite(res.dual_bound) else 0.0)
    if res.proven and best_known < res.objective:
        raise AssertionError(f"the search beats a proven optimum on {spec}")
    if lower > best_known + 1e-6:
        raise AssertionError(f"lower bound {lower} above a feasible schedule {best_known} on {spec}")
    shared = int(inst.prompt[0]) if shared_prompt and inst.n else None
    return {"model": spec.model, "reading": READINGS[bool(shared_prompt)],
            "time_limit": float(time_limit), "trial": spec.trial, "n": inst.n, "M": inst.memory,
            "shared_s": shared, "mcsf": mcsf, "incumbent": res.objective,
            "ratio": mcsf / res.objective if res.objective else 1.0,
            "optimal": mcsf == res.objective, "improved": bool(res.improved),
            "proven": bool(res.proven),
            "bound": res.dual_bound if math.isfinite(res.dual_bound) else None,
            "dual_gap": res.dual_gap if math.isfinite(res.dual_gap) else None,
            "status": res.status, "search_best": search_best, "best_known": best_known,
            "ratio_best": mcsf / best_known if best_known else 1.0,
            "lower_bound": lower, "ratio_upper": mcsf / lower if lower else 1.0,
            "n_variables": res.n_variables, "n_nonzeros": res.n_nonzeros,
            "build_seconds": res.build_seconds, "solve_seconds": res.solve_seconds,
            "solve_cpu_seconds": res.solve_cpu_seconds,
            "search_seconds": round(search_seconds, 3)}


def _specs(model, trials, seed, search_evals, size):
    from .replication import trial_specs
    return trial_specs(model, trials, seed, policies=["mc-sf"], search_evals=search_evals, **size)


def code_reading_trials(model: str, trials: int, seed: int = 0, time_limit: float = 10.0,
                        shared_prompt: bool = False, progress: bool = False, *,
                        search_evals: int = 20_000, skip: Sequence[int] = (), on_row=None,
                        **size):
    """Trials of one arrival model with the optimum as the published code obtains it.

    One row per trial: ``mcsf`` (MC-SF's total latency), ``incumbent`` (the warm-started,
    time-limited program's answer), ``ratio = mcsf / incumbent`` (the figure the code reports),
    ``optimal`` (``incumbent == mcsf``, the code's count), ``improved``, ``proven``, ``bound``
    (HiGHS's dual bound, ``None`` if it had none) and ``dual_gap``, ``search_best`` (the local
    search of :func:`kvtheory.search.improve_schedule` from MC-SF, ``search_evals`` orders; the
    replication's upper side of the bracket), ``lower_bound`` (the best proven lower bound) and
    ``ratio_best``/``ratio_upper`` (MC-SF against the best schedule known and the lower bound:
    the proven bracket of the true ratio).  Seeds are those of
    :func:`kvtheory.replication.trial_specs`, so with ``shared_prompt=False`` and no ``size``
    trial ``k`` is trial ``k`` of the book's replication.

    Examples
    --------
    >>> df = code_reading_trials("model1", 2, seed=1, time_limit=5, n=4, memory=12,
    ...                          search_evals=200)
    >>> df["trial"].tolist(), bool((df["incumbent"] <= df["mcsf"]).all())
    ([0, 1], True)
    >>> bool(df["proven"].all()), bool((df["ratio"] >= 1).all())
    (True, True)

    Parameters
    ----------
    model : {"model1", "model2"}
    trials, seed : int
    time_limit : float
        Seconds per solve.
    shared_prompt : bool
        One prompt size per instance (the published program's reading) instead of one per request.
    progress : bool
        Show a tqdm bar.
    search_evals : int
        Local-search orders per trial (0: no search).
    skip : sequence of int
        Trial indices to leave out (already done).
    on_row : callable, optional
        Called with each row as it is finished (e.g. to save incrementally).
    **size
        ``n``, ``horizon``, ``memory`` as in :func:`kvtheory.replication.trial_specs`.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd
    from tqdm import tqdm

    time_limit = _check_time_limit(time_limit)
    if not isinstance(shared_prompt, (bool, np.bool_)):
        raise ValueError(f"shared_prompt must be True or False, got {shared_prompt!r}")
    specs = [s for s in _specs(model, trials, seed, search_evals, size) if s.trial not in set(skip)]
    rows = []
    for spec in tqdm(specs, disable=not progress, desc=f"{model} {time_limit:g}s"):
        row = code_reading_trial(spec, time_limit=time_limit, shared_prompt=bool(shared_prompt))
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return pd.DataFrame(rows)


def code_reading_summary(df) -> dict:
    """The paper's figures under the code's counting: mean and worst ``mcsf / incumbent``, etc.

    ``optimal_count`` counts trials with ``incumbent == mcsf``; ``improved_count`` trials where
    the solver beat its warm start; ``proven_count`` those it proved; ``mean_dual_gap`` is over
    trials with a bound (``nan`` if none had one); ``mean_best``/``worst_best`` use the best
    schedule known (a proven lower bound on the true ratio).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"mcsf": [10, 12, 11], "incumbent": [10, 10, 11],
    ...                    "best_known": [10, 10, 10], "improved": [False, True, False],
    ...                    "proven": [True, False, False], "dual_gap": [0.0, 0.5, None]})
    >>> s = code_reading_summary(df)
    >>> s["trials"], s["optimal_count"], s["improved_count"], round(s["mean"], 4), s["worst"]
    (3, 2, 1, 1.0667, 1.2)
    >>> s["mean_dual_gap"], round(s["mean_best"], 4)
    (0.25, 1.1)
    """
    if len(df) == 0:
        return {"trials": 0, "mean": math.nan, "worst": math.nan, "optimal_count": 0,
                "improved_count": 0, "proven_count": 0, "mean_dual_gap": math.nan,
                "mean_best": math.nan, "worst_best": math.nan}
    r = df["mcsf"].to_numpy(float) / df["incumbent"].to_numpy(float)
    rb = df["mcsf"].to_numpy(float) / df["best_known"].to_numpy(float)
    gaps = df["dual_gap"].dropna().to_numpy(float)
    return {"trials": int(len(df)), "mean": float(r.mean()), "worst": float(r.max()),
            "optimal_count": int((df["mcsf"] == df["incumbent"]).sum()),
            "improved_count": int(df["improved"].astype(bool).sum()),
            "proven_count": int(df["proven"].astype(bool).sum()),
            "mean_dual_gap": float(gaps.mean()) if gaps.size else math.nan,
            "mean_best": float(rb.mean()), "worst_best": float(rb.max())}


# --------------------------------------------------------------------------- stored runs
def load_runs(path):
    """Rows of stored runs (one JSON file, a list of them, or a directory) as one DataFrame.

    Each file is ``{"meta": {...}, "rows": [...]}`` as written by :func:`main`; ``command``
    and ``date`` from its meta are added to every row.

    Examples
    --------
    >>> import json, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "synthetic_code_x.json"), "w") as fh:
    ...     json.dump({"meta": {"command": "c", "date": "d"}, "rows": [{"trial": 0}]}, fh)
    >>> load_runs(d)[["trial", "command"]].values.tolist()
    [[0, 'c']]
    """
    import pandas as pd
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        files = sorted(glob.glob(str(p / "synthetic_code_*.json"))) if p.is_dir() else [str(p)]
    else:
        files = [str(f) for f in path]
    frames = []
    for f in files:
        with open(f) as fh:
            data = json.load(fh)
        meta = data.get("meta", {})
        df = pd.DataFrame(data["rows"])
        for key in ("command", "date"):
            df[key] = meta.get(key)
        frames.append(df)
    if not frames:
        raise ValueError(f"no stored runs found at {path}")
    return pd.concat(frames, ignore_index=True)


#: The paper's figures (second-hand), beside which :func:`summary_table` puts ours.
PAPER = {"model1": {"mean": 1.005, "worst": 1.074, "optimal": "114 of 200"},
         "model2": {"mean": 1.047, "worst": 1.227, "optimal": "n/a"}}


def summary_table(df):
    """One row per (model, reading, time limit): the code's figures and our proven brackets.

    Columns: ``trials``, ``mean``/``worst`` of MC-SF / incumbent, ``"optimal"`` (trials with
    incumbent = MC-SF), ``improved`` (solver beat the warm start), ``proven``, ``mean dual gap``
    (over trials with a bound; ``nan``: HiGHS had no bound in any), ``max solve (s)`` (the
    longest solve: HiGHS may overrun its limit), ``mean solve CPU (s)`` (processor seconds in
    HiGHS, where recorded: less than the wall-clock limit on a loaded machine),
    ``mean vs best known``
    (MC-SF / best schedule known, a proven lower bound on the true mean ratio), ``MC-SF beaten``
    (trials where some schedule is better than MC-SF's: MC-SF provably not optimal), and the
    paper's figures for the model.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"model": ["model1"] * 2, "reading": ["shared"] * 2,
    ...                    "time_limit": [10.0] * 2, "mcsf": [10, 12], "incumbent": [10, 12],
    ...                    "best_known": [9, 10], "improved": [False, False],
    ...                    "proven": [False, False], "dual_gap": [None, None]})
    >>> t = summary_table(df)
    >>> row = t.iloc[0]
    >>> int(row["trials"]), float(row["mean"]), int(row['"optimal"']), float(row["mean vs best known"])
    (2, 1.0, 2, 1.1556)
    """
    import pandas as pd
    out = []
    for (model, reading, tl), g in df.groupby(["model", "reading", "time_limit"], sort=True):
        s = code_reading_summary(g)
        paper = PAPER.get(model, {})
        out.append({"model": model, "reading": reading, "time limit (s)": tl,
                    "trials": s["trials"], "mean": round(s["mean"], 4),
                    "worst": round(s["worst"], 4), '"optimal"': s["optimal_count"],
                    "improved": s["improved_count"], "proven": s["proven_count"],
                    "mean dual gap": round(s["mean_dual_gap"], 4),
                    "max solve (s)": (round(float(g["solve_seconds"].max()), 1)
                                      if "solve_seconds" in g else math.nan),
                    "mean solve CPU (s)": (round(float(g["solve_cpu_seconds"].mean()), 1)
                                           if "solve_cpu_seconds" in g
                                           and g["solve_cpu_seconds"].notna().any() else math.nan),
                    "mean vs best known": round(s["mean_best"], 4),
                    "MC-SF beaten": int((g["best_known"] < g["mcsf"]).sum()),
                    "paper mean": paper.get("mean"), "paper worst": paper.get("worst"),
                    'paper "optimal"': paper.get("optimal")})
    return pd.DataFrame(out)


def code_reading_plot(df, model: str, ax=None):
    """Sorted per-trial ratios of one model: MC-SF / incumbent (the code's figure) per run,
    beside MC-SF / best schedule known (a proven lower bound on the true ratio).

    One line per (reading, time limit) for each; grey lines mark the paper's mean and worst.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"model": ["model1"] * 2, "reading": ["shared"] * 2,
    ...                    "time_limit": [10.0] * 2, "ratio": [1.0, 1.0],
    ...                    "ratio_best": [1.05, 1.1]})
    >>> len(code_reading_plot(df, "model1").lines)     # 2 runs + the paper's mean and worst
    4
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    sub = df[df["model"] == model]
    for k, ((reading, tl), g) in enumerate(sub.groupby(["reading", "time_limit"], sort=True)):
        q = np.linspace(0, 1, len(g))
        line, = ax.plot(q, np.sort(g["ratio"].to_numpy(float)), marker=".", ms=3,
                        label=f"{reading}, {tl:g} s: MC-SF / incumbent")
        ax.plot(q, np.sort(g["ratio_best"].to_numpy(float)), ls="--", color=line.get_color(),
                label=f"{reading}, {tl:g} s: MC-SF / best known")
    paper = PAPER[model]
    for key, ls in (("mean", ":"), ("worst", "-.")):
        ax.axhline(paper[key], color="grey", ls=ls, lw=1, label=f"paper's {key} ({paper[key]})")
    ax.set_xlabel("fraction of trials")
    ax.set_ylabel("MC-SF / reference")
    ax.set_title(f"{model}")
    top = max([paper["worst"]] + [float(sub[c].max()) for c in ("ratio", "ratio_best") if len(sub)])
    ax.set_ylim(0.98, top + 0.12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


# --------------------------------------------------------------------------- command line
def _write(path, meta, rows):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"meta": meta, "rows": sorted(rows, key=lambda r: r["trial"])}, fh, indent=1)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kvtheory.paper_solver``: trials under the code's reading, saved as JSON.

    The JSON is rewritten after every trial; rerunning the same command (same model, seed,
    reading, limit and size) resumes, skipping trials already stored.

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "r.json")
    >>> main(["--model", "model2", "--trials", "1", "--time-limit", "1", "--horizon", "2",
    ...       "--memory", "10", "--search-evals", "50", "--out", out])    # doctest: +ELLIPSIS
    model2 ...
    0
    >>> len(load_runs(out))
    1
    """
    import datetime
    ap = argparse.ArgumentParser(prog="python -m kvtheory.paper_solver",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["model1", "model2"], required=True)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--shared-prompt", action="store_true",
                    help="one prompt size per instance (default: one per request)")
    ap.add_argument("--search-evals", type=int, default=20_000)
    ap.add_argument("--n", type=int)
    ap.add_argument("--horizon", type=int)
    ap.add_argument("--memory", type=int)
    ap.add_argument("--out", help="JSON file (rewritten after every trial; resumed if present)")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    size = {k: v for k, v in (("n", args.n), ("horizon", args.horizon), ("memory", args.memory))
            if v is not None}
    cmd = "python -m kvtheory.paper_solver " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {"model": args.model, "seed": args.seed, "time_limit": args.time_limit,
            "shared_prompt": args.shared_prompt, "search_evals": args.search_evals,
            "size": size, "solver": "HiGHS (highspy), 1 thread", "command": cmd,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")}
    rows = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as fh:
            old = json.load(fh)
        same = {k: v for k, v in old["meta"].items() if k not in ("command", "date")}
        if same != {k: v for k, v in meta.items() if k not in ("command", "date")}:
            raise SystemExit(f"{args.out} holds a run with other settings; pick another --out")
        rows = old["rows"]
        meta["date"] = old["meta"].get("date", meta["date"])

    def save(row):
        rows.append(row)
        if args.out:
            _write(args.out, meta, rows)
    t0 = time.perf_counter()
    code_reading_trials(args.model, args.trials, args.seed, args.time_limit, args.shared_prompt,
                        args.progress, search_evals=args.search_evals,
                        skip=[r["trial"] for r in rows], on_row=save, **size)
    import pandas as pd
    s = code_reading_summary(pd.DataFrame(rows))
    print(f"{args.model} {READINGS[args.shared_prompt]} {args.time_limit:g}s: {s['trials']} trials, "
          f"mean {s['mean']:.4f}, worst {s['worst']:.4f}, \"optimal\" {s['optimal_count']}, "
          f"improved {s['improved_count']}, proven {s['proven_count']} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
