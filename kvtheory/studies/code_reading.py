"""The synthetic experiment under the published code's reading of "optimal", trial by trial.

:func:`code_reading_trials` runs the trials of one arrival model with the seeds of
:func:`kvtheory.studies.replication.trial_specs` (with ``shared_prompt=False``, trial ``k`` here is
trial ``k`` of the book's replication: the same instance), solving each with
:func:`kvtheory.optimum.paper_solver.solve_paper_program`, one tidy row per trial;
:func:`code_reading_summary` gives the figures the paper reports (mean, worst, "optimal" count)
under the code's counting.  ``python -m kvtheory code-reading --model model1 --trials 40
--time-limit 10 --out F.json`` writes the rows to JSON after every trial (a rerun with the same
settings resumes); :func:`load_runs` and :func:`summary_table` read them back.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np


from kvtheory.model.checker import check_schedule
from kvtheory.optimum.paper_solver import READINGS, _check_time_limit, solve_paper_program

__all__ = ["code_reading_trial", "code_reading_trials", "code_reading_summary", "load_runs",
           "summary_table", "PAPER", "main"]


# --------------------------------------------------------------------------- trials
def code_reading_trial(spec, *, time_limit: float, shared_prompt: bool = False,
                       policy: str = "mc-sf") -> dict:
    """One trial under the code's reading; one tidy row (see :func:`code_reading_trials`).

    ``spec`` is a :class:`kvtheory.studies.replication.TrialSpec`; its seed draws the instance (with
    ``shared_prompt``) and child 1 of it seeds the local search, exactly as in
    :func:`kvtheory.studies.replication.run_trial`.  ``policy`` is the target measured (a key
    of :data:`kvtheory.POLICIES`, or ``"longest-first"``, the planted
    :func:`kvtheory.engines.policies.planted.longest_first`): its schedule warm-starts the
    program and the search, and the columns ``mcsf``, ``ratio``, ... are its figures.
    """
    from kvtheory.engines.policies import POLICIES
    from kvtheory.engines.policies.planted import longest_first
    from kvtheory.studies.replication import MODELS
    from kvtheory.optimum.search import improve_schedule, volume_lower_bound
    from kvtheory.engines.simulator import simulate

    rng = np.random.default_rng(spec.seed)
    inst = MODELS[spec.model](rng, shared_prompt=shared_prompt, **dict(spec.size))
    target = longest_first if policy == "longest-first" else POLICIES[policy]
    mc = simulate(inst, target, name=policy)
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
    return {"model": spec.model, "reading": READINGS[bool(shared_prompt)], "policy": policy,
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
    from kvtheory.studies.replication import trial_specs
    return trial_specs(model, trials, seed, policies=["mc-sf"], search_evals=search_evals, **size)


def code_reading_trials(model: str, trials: int, seed: int = 0, time_limit: float = 10.0,
                        shared_prompt: bool = False, progress: bool = False, *,
                        search_evals: int = 20_000, skip: Sequence[int] = (), on_row=None,
                        policy: str = "mc-sf", **size):
    """Trials of one arrival model with the optimum as the published code obtains it.

    One row per trial: ``mcsf`` (MC-SF's total latency), ``incumbent`` (the warm-started,
    time-limited program's answer), ``ratio = mcsf / incumbent`` (the figure the code reports),
    ``optimal`` (``incumbent == mcsf``, the code's count), ``improved``, ``proven``, ``bound``
    (HiGHS's dual bound, ``None`` if it had none) and ``dual_gap``, ``search_best`` (the local
    search of :func:`kvtheory.optimum.search.improve_schedule` from MC-SF, ``search_evals`` orders; the
    replication's upper side of the bracket), ``lower_bound`` (the best proven lower bound) and
    ``ratio_best``/``ratio_upper`` (MC-SF against the best schedule known and the lower bound:
    the proven bracket of the true ratio).  Seeds are those of
    :func:`kvtheory.studies.replication.trial_specs`, so with ``shared_prompt=False`` and no ``size``
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
    policy : str
        The target in MC-SF's place (see :func:`code_reading_trial`; ``"longest-first"`` is
        the planted counterpart that measures the procedure's power).
    **size
        ``n``, ``horizon``, ``memory`` as in :func:`kvtheory.studies.replication.trial_specs`.

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
        row = code_reading_trial(spec, time_limit=time_limit, shared_prompt=bool(shared_prompt),
                                 policy=policy)
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


# --------------------------------------------------------------------------- command line
def _write(path, meta, rows):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"meta": meta, "rows": sorted(rows, key=lambda r: r["trial"])}, fh, indent=1)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kvtheory code-reading``: trials under the code's reading, saved as JSON.

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
    ap = argparse.ArgumentParser(prog="kvtheory code-reading",
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
    cmd = "python -m kvtheory code-reading " + " ".join(argv if argv is not None else sys.argv[1:])
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
