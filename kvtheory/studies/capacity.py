"""Capacity under an SLO: per policy, the largest load scale at which a serving figure holds.

For each policy and seed, :func:`capacity` bisects the load scale (arrival times divided by
it, as in :mod:`kvtheory.studies.sweep`) between ``low`` and ``high``: it keeps a scale ``lo``
where the SLO ``metric <= limit`` holds and a scale ``hi`` where it fails, and halves
``[lo, hi]`` until ``hi - lo <= tol``.  The capacity is ``lo``; ``hi`` is the next step above,
where the SLO is known to fail.  Every evaluation is one sweep cell, run through
:func:`kvtheory.model.cells.run_cells` (cached on disk, so an interrupted search resumes; the
evaluations of every policy and seed at one bisection step run together, on local processes
or a dask cluster).  Over several seeds the capacity is the mean of the seeds' capacities with
a Student-t 95% confidence interval (:func:`kvtheory.model.stats.t_halfwidth`).

A figure that is not monotone in the load can hold above the capacity found: bisection
returns *a* boundary between a scale that holds and one ``tol`` above it that fails.

``python -m kvtheory capacity`` (:func:`main`) is the command line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from kvtheory.hardware.calibration import PAPER_KV_CAPACITY
from kvtheory.model.cells import run_cells
from kvtheory.model.stats import t_halfwidth
from kvtheory.studies.sweep import (OneLineParser, add_source_args, out_suffix, print_rows,
                                    run_sweep_cell, source_kwargs, sweep, sweep_cells, write_rows)

__all__ = ["Slo", "SLO_METRICS", "parse_slo", "capacity", "capacity_gain", "latency_reduction",
           "reduction_at_capacity", "main"]

#: Figures an SLO can bound (lower is better), by engine: rounds or seconds.
SLO_METRICS = {
    "round": ("average_latency", "p50_latency", "p90_latency", "p99_latency", "avg_ttft",
              "p99_ttft", "avg_tpot"),
    "seconds": ("avg_latency_s", "p50_latency_s", "p90_latency_s", "p99_latency_s",
                "avg_ttft_s", "p99_ttft_s", "avg_tpot_s"),
}
_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3}


@dataclass(frozen=True)
class Slo:
    """A service-level objective: ``metric <= limit`` (a key of a sweep row, in its unit).

    Examples
    --------
    >>> slo = Slo(metric="p99_ttft_s", limit=2.0)
    >>> slo.holds({"p99_ttft_s": 1.5}), slo.holds({"p99_ttft_s": 2.5}), slo.holds({})
    (True, False, False)
    """

    metric: str
    limit: float

    def holds(self, row: dict) -> bool:
        """Whether ``row`` meets the objective (a missing or null figure does not)."""
        v = row.get(self.metric)
        return v is not None and not (isinstance(v, float) and math.isnan(v)) \
            and float(v) <= self.limit

    def __str__(self) -> str:
        return f"{self.metric}<={self.limit:g}"


def parse_slo(text: str, engine: str = "timed") -> Slo:
    """Parse ``METRIC=VALUE[s|ms]`` for ``engine``; the metric is a sweep row's key.

    ``ttft_p99`` and ``latency_p99`` are read as ``p99_ttft`` and ``p99_latency``, and the
    ``_s`` of the continuous-time engines' keys may be left out.

    Examples
    --------
    >>> parse_slo("ttft_p99=2s"), parse_slo("p99_latency_s=500ms")
    (Slo(metric='p99_ttft_s', limit=2.0), Slo(metric='p99_latency_s', limit=0.5))
    >>> parse_slo("p99_latency=40", engine="round")
    Slo(metric='p99_latency', limit=40.0)
    >>> parse_slo("ttft=2s")
    Traceback (most recent call last):
    ...
    ValueError: unknown SLO metric 'ttft' for the timed engine; choose from avg_latency_s, p50_latency_s, p90_latency_s, p99_latency_s, avg_ttft_s, p99_ttft_s, avg_tpot_s
    """
    m = re.fullmatch(r"\s*([a-z0-9_]+)\s*=\s*([0-9.eE+-]+)\s*(s|ms)?\s*", str(text))
    if not m:
        raise ValueError(f"--slo must read METRIC=VALUE with an optional unit s or ms "
                         f"(e.g. p99_ttft_s=2s), got {text!r}")
    name, value, unit = m.group(1), m.group(2), m.group(3) or ""
    try:
        limit = float(value) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"--slo value must be a number, got {value!r}") from None
    if not math.isfinite(limit) or limit <= 0:
        raise ValueError(f"--slo limit must be positive and finite, got {value}{unit}")
    known = SLO_METRICS["round" if engine == "round" else "seconds"]
    swapped = re.sub(r"^(.*)_(p\d+|avg)$", r"\2_\1", name)
    for cand in (name, name + "_s", swapped, swapped + "_s"):
        if cand in known:
            if unit and engine == "round":
                raise ValueError(f"the round engine's {cand} counts rounds: give --slo "
                                 f"{cand}=VALUE without a unit")
            return Slo(metric=cand, limit=limit)
    raise ValueError(f"unknown SLO metric {name!r} for the {engine} engine; choose from "
                     f"{', '.join(known)}")


def _bounds(low, high, tol) -> tuple[float, float, float]:
    vals = []
    for name, v in (("low", low), ("high", high), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        vals.append(float(v))
    if vals[0] >= vals[1]:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    return vals[0], vals[1], vals[2]


def _evaluate(points: list[tuple[dict, float]], **run) -> list[dict]:
    """Rows of the cells ``base`` at ``scale`` for every ``(base, scale)``: one run_cells batch."""
    cells = [dict(base, scale=float(scale)) for base, scale in points]
    return run_cells(run_sweep_cell, cells, desc="capacity", **run).values


def capacity(policies, slo, *, low: float = 0.1, high: float = 4.0, tol: float = 0.05,
             seeds=1, memory: int = PAPER_KV_CAPACITY, traces: Sequence[str] = (),
             workload: str | None = None, engine: str = "round", workers: int | None = 1,
             dask=None, progress: bool | None = None, cache: bool = True,
             **source) -> pd.DataFrame:
    """Per policy, the largest load scale in ``[low, high]`` at which ``slo`` holds (to ``tol``).

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> df = capacity("mc-sf", "average_latency=120", low=0.5, high=8, tol=0.5, memory=2000,
    ...               workload="lmsys", n=200, rate=0.05)
    >>> row = df.iloc[0]
    >>> bool(row["metric_at_capacity"] <= 120 < row["metric_above"])
    True
    >>> bool(0 < row["scale_above"] - row["capacity"] <= 0.5), row["status"]
    (True, 'bisected')
    >>> del os.environ["KVTHEORY_CACHE"]

    Parameters
    ----------
    policies : str or sequence of str
    slo : str or Slo
        ``METRIC=VALUE[s|ms]`` (:func:`parse_slo`).
    low, high : float
        The scales bracketing the search, ``0 < low < high``.
    tol : float
        Bisection stops when the scale that holds and the one that fails are ``tol`` apart.
    seeds : int or sequence of int
        One search per seed (``k``: seeds ``0..k-1``).
    memory : int
        KV capacity ``M``.
    traces, workload, engine, **source
        One request source and the engine, as in :func:`~kvtheory.studies.sweep.sweep_cells`
        (``n``, ``rate``, ``head``, ``round_seconds``, ``oversized``).
    workers, dask, progress, cache
        Passed to :func:`~kvtheory.model.cells.run_cells`.

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``policy``, ``slo``, ``metric``, ``limit``, ``capacity`` (mean over
        seeds of the largest scale found to hold; ``nan`` if it fails at ``low`` for a seed),
        ``ci95`` (its half-width; ``nan`` for one seed), ``capacity_min``, ``capacity_max``,
        ``metric_at_capacity`` (mean over seeds), ``scale_above`` and ``metric_above`` (the
        next step above, where the SLO fails; ``nan`` when it holds at ``high``), ``seeds``,
        ``evaluations`` and ``status`` (``bisected``, ``holds at high`` or ``fails at low``,
        the latter two with the number of seeds when not all).  ``df.attrs["evaluations"]``
        holds every evaluated row (a load curve) with ``slo_holds``.
    """
    slo = slo if isinstance(slo, Slo) else parse_slo(slo, engine)
    low, high, tol = _bounds(low, high, tol)
    if len(traces) > 1:
        raise ValueError("capacity searches one request source: give one trace")
    bases = sweep_cells(policies, memory=[memory], seeds=seeds, traces=traces,
                        workload=workload, engine=engine, **source)
    run = dict(workers=workers, dask=dask, progress=progress, cache=cache)
    evaluated: list[dict] = []

    def rows_at(points):
        rows = _evaluate(points, **run)
        for (base, _), row in zip(points, rows):
            evaluated.append({**row, "slo_holds": slo.holds(row)})
        return rows

    ends = rows_at([(b, low) for b in bases] + [(b, high) for b in bases])
    chains = []                                   # [lo, hi, row at lo, row at hi] per base
    for k, base in enumerate(bases):
        at_low, at_high = ends[k], ends[len(bases) + k]
        chains.append([low if slo.holds(at_low) else None,
                       None if slo.holds(at_high) else high, at_low, at_high])
        if chains[-1][0] is not None and chains[-1][1] is None:
            chains[-1][2] = at_high                 # holds at high: the capacity is high
            chains[-1][0] = high
    while True:
        active = [k for k, c in enumerate(chains)
                  if c[0] is not None and c[1] is not None and c[1] - c[0] > tol]
        if not active:
            break
        mids = [(bases[k], (chains[k][0] + chains[k][1]) / 2) for k in active]
        for k, (_, mid), row in zip(active, mids, rows_at(mids)):
            if slo.holds(row):
                chains[k][0], chains[k][2] = mid, row
            else:
                chains[k][1], chains[k][3] = mid, row
    out = []
    names = list(dict.fromkeys(b["policy"] for b in bases))
    for name in names:
        mine = [c for b, c in zip(bases, chains) if b["policy"] == name]
        caps = np.array([np.nan if c[0] is None else c[0] for c in mine])
        fails = sum(c[0] is None for c in mine)
        tops = sum(c[1] is None for c in mine)
        status = ("bisected" if not fails and not tops else
                  "; ".join(s for s in (
                      f"fails at low{'' if fails == len(mine) else f' ({fails} of {len(mine)} seeds)'}"
                      if fails else "",
                      f"holds at high{'' if tops == len(mine) else f' ({tops} of {len(mine)} seeds)'}"
                      if tops else "") if s))

        def mean(values):
            vals = [np.nan if v is None else float(v) for v in values]
            return float(np.mean(vals)) if vals else math.nan

        out.append({
            "policy": name, "slo": str(slo), "metric": slo.metric, "limit": slo.limit,
            "capacity": float(caps.mean()), "ci95": t_halfwidth(caps) if not fails else math.nan,
            "capacity_min": float(caps.min()), "capacity_max": float(caps.max()),
            "metric_at_capacity": mean(None if c[0] is None else c[2].get(slo.metric)
                                       for c in mine),
            "scale_above": mean(c[1] for c in mine),
            "metric_above": mean(None if c[1] is None else c[3].get(slo.metric) for c in mine),
            "seeds": len(mine),
            "evaluations": sum(1 for r in evaluated if r["policy"] == name),
            "status": status})
    df = pd.DataFrame(out)
    df.attrs["evaluations"] = pd.DataFrame(evaluated)
    return df


def capacity_gain(df: pd.DataFrame, policy: str = "mc-sf",
                  baseline: str = "mc-benchmark") -> dict:
    """How much more load ``policy`` sustains than ``baseline`` under the same SLO.

    Each capacity ``c`` found by :func:`capacity` is bracketed: the SLO holds at ``c`` and fails
    at ``scale_above``, so the largest load scale meeting it (for one seed, a figure monotone in
    the load) lies in ``[c, scale_above)``.  The ratio of the two capacities is therefore
    bracketed by ``c_p / above_b`` and ``above_p / c_b``; ``ratio`` is ``c_p / c_b``.

    Examples
    --------
    >>> caps = pd.DataFrame({"policy": ["mc-sf", "mc-benchmark"], "capacity": [0.3, 0.2],
    ...                      "scale_above": [0.32, 0.22]})
    >>> g = capacity_gain(caps)
    >>> round(g["ratio"], 3), round(g["low"], 3), round(g["high"], 3)
    (1.5, 1.364, 1.6)
    >>> capacity_gain(caps, "svf")
    Traceback (most recent call last):
    ...
    ValueError: no capacity row for policy 'svf'; rows: mc-sf, mc-benchmark

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`capacity` (columns ``policy``, ``capacity``, ``scale_above``).
    policy, baseline : str

    Returns
    -------
    dict
        ``policy``, ``baseline``, ``capacity``, ``baseline_capacity``, ``ratio``, ``low``,
        ``high`` (plain floats; ``nan`` where a capacity or a step above is missing).
    """
    rows = {r["policy"]: r for r in df.to_dict("records")}
    for name in (policy, baseline):
        if name not in rows:
            raise ValueError(f"no capacity row for policy {name!r}; rows: {', '.join(rows)}")
    p, b = rows[policy], rows[baseline]

    def ratio(x, y):
        x, y = float(x), float(y)
        return x / y if math.isfinite(x) and math.isfinite(y) and y > 0 else math.nan

    return {"policy": policy, "baseline": baseline, "capacity": float(p["capacity"]),
            "baseline_capacity": float(b["capacity"]),
            "ratio": ratio(p["capacity"], b["capacity"]),
            "low": ratio(p["capacity"], b["scale_above"]),
            "high": ratio(p["scale_above"], b["capacity"])}


def latency_reduction(rows: pd.DataFrame, policy: str = "mc-sf",
                      baseline: str = "mc-benchmark", metric: str = "avg_latency_s") -> float:
    """``1 - metric(policy) / metric(baseline)`` over the sweep ``rows`` (means over their cells).

    The paper's kind of figure (MC-SF's average latency against MC-Benchmark's at one load); run
    both at one scale (e.g. the baseline's capacity) to read it beside :func:`capacity_gain`.

    Examples
    --------
    >>> rows = pd.DataFrame({"policy": ["mc-sf", "mc-benchmark"], "avg_latency_s": [30.0, 40.0]})
    >>> latency_reduction(rows)
    0.25
    >>> latency_reduction(rows, "vllm")
    Traceback (most recent call last):
    ...
    ValueError: no finite avg_latency_s for policy 'vllm' in the rows
    """
    means = {}
    for name in (policy, baseline):
        v = pd.to_numeric(rows.loc[rows["policy"] == name, metric], errors="coerce").mean()
        if not math.isfinite(v) or (name == baseline and v <= 0):
            raise ValueError(f"no finite {metric} for policy {name!r} in the rows")
        means[name] = float(v)
    return 1.0 - means[policy] / means[baseline]


def reduction_at_capacity(df: pd.DataFrame, policy: str = "mc-sf",
                          baseline: str = "mc-benchmark", *, metric: str | None = None,
                          workers: int | None = 1, dask=None, progress: bool | None = None,
                          **source) -> dict:
    """A latency reduction and a capacity ratio side by side: the paper's figure read as capacity.

    Runs ``policy`` and ``baseline`` at the baseline's capacity in ``df`` (the load at which the
    baseline just meets the SLO) on the requests of ``source`` (as :func:`capacity` was given
    them: ``traces``, ``engine``, ``head``, ...; cached sweep cells) and returns
    :func:`latency_reduction` there beside :func:`capacity_gain`.  ``metric`` defaults to the
    average latency (``average_latency`` in rounds, ``avg_latency_s`` in seconds).

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> src = dict(workload="lmsys", n=200, rate=0.05, memory=2000)
    >>> caps = capacity(["mc-sf", "mc-benchmark"], "average_latency=120", low=0.5, high=8,
    ...                 tol=0.5, **src)
    >>> r = reduction_at_capacity(caps, **src)
    >>> bool(r["scale"] == caps.set_index("policy").loc["mc-benchmark", "capacity"])
    True
    >>> sorted(r)
    ['high', 'low', 'ratio', 'reduction', 'scale']
    >>> del os.environ["KVTHEORY_CACHE"]

    Returns
    -------
    dict
        ``scale`` (the baseline's capacity), ``reduction`` (of ``metric`` there), ``ratio``,
        ``low``, ``high`` (:func:`capacity_gain`).
    """
    gain = capacity_gain(df, policy, baseline)
    scale = gain["baseline_capacity"]
    if not math.isfinite(scale):
        raise ValueError(f"{baseline} has no capacity in the rows (status: fails at low)")
    memory = source.pop("memory", PAPER_KV_CAPACITY)
    if metric is None:
        metric = "average_latency" if source.get("engine", "round") == "round" else "avg_latency_s"
    rows = sweep(sweep_cells([policy, baseline], memory=[memory], scales=[scale], **source),
                 workers=workers, dask=dask, progress=progress)
    return {"scale": scale, "reduction": latency_reduction(rows, policy, baseline, metric),
            "ratio": gain["ratio"], "low": gain["low"], "high": gain["high"]}


#: Columns of ``capacity``'s table.
TABLE_COLUMNS = ("policy", "slo", "capacity", "ci95", "metric_at_capacity", "scale_above",
                 "metric_above", "seeds", "evaluations", "status")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kvtheory capacity``: per policy, the largest load scale meeting an SLO.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> main(["--workload", "lmsys", "--n", "200", "--rate", "0.05", "--memory", "2000",
    ...       "--slo", "average_latency=120", "--low", "0.5", "--high", "8", "--tol", "0.5",
    ...       "--no-progress"])     # doctest: +ELLIPSIS
    policy                slo  capacity ...
     mc-sf  average_latency<=120 ...  bisected
    0
    >>> del os.environ["KVTHEORY_CACHE"]
    """
    ap = OneLineParser(prog="python -m kvtheory capacity",
                       description="per policy, the largest load scale (arrival times divided "
                                   "by it) at which an SLO holds, by bisection; each "
                                   "evaluation is a cached sweep cell")
    add_source_args(ap)
    ap.add_argument("--memory", type=int, default=PAPER_KV_CAPACITY,
                    help=f"KV capacity M in tokens (default {PAPER_KV_CAPACITY})")
    ap.add_argument("--slo", required=True, metavar="METRIC=VALUE",
                    help="the objective metric <= value; metric: a key of the sweep rows, e.g. "
                         "p99_ttft_s=2s, p99_latency_s=60s (ttft_p99=2s also reads), "
                         "p99_latency=40 for the round engine (rounds)")
    ap.add_argument("--low", type=float, default=0.1, help="lowest scale searched (default 0.1)")
    ap.add_argument("--high", type=float, default=4.0, help="highest scale (default 4)")
    ap.add_argument("--tol", type=float, default=0.05,
                    help="stop when the scale that holds and the one that fails are this far "
                         "apart (default 0.05)")
    ap.add_argument("--out", metavar="FILE", default=None,
                    help="write every evaluated cell (a load curve): FILE.parquet or FILE.csv")
    args = ap.parse_args(argv)
    kwargs = source_kwargs(args)
    slo = parse_slo(args.slo, args.engine)
    _bounds(args.low, args.high, args.tol)
    if args.out:
        out_suffix(args.out)
    df = capacity(kwargs.pop("policies"), slo, low=args.low, high=args.high, tol=args.tol,
                  memory=args.memory, workers=args.workers, dask=args.dask,
                  progress=False if args.no_progress else None, **kwargs)
    if args.out:
        write_rows(df.attrs["evaluations"], args.out)
    print_rows(df.to_dict("records"), args.format, TABLE_COLUMNS)
    return 0
