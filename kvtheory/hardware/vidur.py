"""Comparison with Microsoft Vidur: error statistics and the committed cross-check figures.

The cross-check itself (``benchmarks/vidur_crosscheck.py``) runs Vidur (Agrawal et al., MLSys
2024, https://github.com/microsoft/vidur, MIT licence) outside this package and writes only our
comparison figures to ``book/data/vidur_crosscheck.json``.  This module holds the pure pieces
the book and the tests use:

* :func:`error_stats` -- relative error of predicted against reference times (per batch);
* :func:`load_crosscheck` -- the committed JSON as tidy :class:`pandas.DataFrame` tables.

Nothing here needs Vidur installed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "PAPER_COEFFICIENTS",
    "TABLES",
    "ErrorStats",
    "end_to_end_table",
    "error_stats",
    "fit_paper_form",
    "load_crosscheck",
    "per_batch_table",
    "refit_table",
    "seed_spread",
]

#: Tables :func:`load_crosscheck` can return.
TABLES = ("per_batch", "end_to_end", "config", "refit")


@dataclass(frozen=True)
class ErrorStats:
    """Relative error ``(predicted - reference) / reference`` of paired times, summarised.

    Examples
    --------
    >>> st = error_stats([1.1, 0.9], [1.0, 1.0])
    >>> st.n, round(st.mean_relative, 6), round(st.mean_abs_relative, 6)
    (2, 0.0, 0.1)

    Attributes
    ----------
    n : int
        Number of pairs.
    mean_relative : float
        Mean signed relative error (bias; > 0 means the prediction is too slow).
    mean_abs_relative : float
        Mean absolute relative error (MAPE as a fraction).
    median_abs_relative, p95_abs_relative, max_abs_relative : float
        Median, 95th percentile (linear interpolation) and maximum absolute relative error.
    total_ratio : float
        ``sum(predicted) / sum(reference)``: the error in total busy time.
    """

    n: int
    mean_relative: float
    mean_abs_relative: float
    median_abs_relative: float
    p95_abs_relative: float
    max_abs_relative: float
    total_ratio: float

    def as_dict(self) -> dict:
        """The fields as a plain ``dict`` (JSON-ready)."""
        return asdict(self)


def _times(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence of times, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got {float(a[~np.isfinite(a)][0])!r}")
    return a


def error_stats(predicted, reference) -> ErrorStats:
    """Relative error statistics of ``predicted`` times against ``reference`` times, pairwise.

    Examples
    --------
    >>> st = error_stats([2.0, 1.0, 1.5, 0.5], [1.0, 1.0, 1.0, 1.0])  # errors +1, 0, +0.5, -0.5
    >>> round(st.mean_relative, 6), round(st.mean_abs_relative, 6), round(st.max_abs_relative, 6)
    (0.25, 0.5, 1.0)
    >>> round(st.median_abs_relative, 6), round(st.total_ratio, 6)
    (0.5, 1.25)
    >>> error_stats([1.0], [0.0])
    Traceback (most recent call last):
    ...
    ValueError: reference times must be > 0, got 0.0 at index 0

    Parameters
    ----------
    predicted, reference : sequence of float
        Paired times (same length, same unit); reference times must be positive.

    Returns
    -------
    ErrorStats
    """
    p = _times(predicted, "predicted")
    r = _times(reference, "reference")
    if p.size != r.size:
        raise ValueError(f"predicted and reference must have equal lengths, got {p.size} and "
                         f"{r.size}")
    if (r <= 0).any():
        i = int(np.flatnonzero(r <= 0)[0])
        raise ValueError(f"reference times must be > 0, got {float(r[i])!r} at index {i}")
    rel = (p - r) / r
    a = np.abs(rel)
    return ErrorStats(int(p.size), float(rel.mean()), float(a.mean()), float(np.median(a)),
                      float(np.percentile(a, 95)), float(a.max()), float(p.sum() / r.sum()))


#: The coefficients of the linear batch time of *the paper's published code*, ms:
#: ``intercept + per_step * B + per_context_token * (sum of contexts) + per_prompt_token * P``.
PAPER_COEFFICIENTS = {"intercept_ms": 44.6, "per_step_ms": 0.52, "per_context_token_ms": 0.0027,
                      "per_prompt_token_ms": 0.378}


def fit_paper_form(steps, context_sum, prompt_tokens, seconds) -> dict:
    """Least-squares fit of the paper's linear form to observed batch times (coefficients in ms).

    The form is ``t = a + b * steps + c * context_sum + d * prompt_tokens`` (see
    :data:`PAPER_COEFFICIENTS`).  Refitting it to another simulator's batches shows which term
    of the paper's formula differs.

    Examples
    --------
    Four batches generated exactly by ``t = 40 + 1 * B + 0.01 * C + 0.5 * P`` ms:

    >>> fit = fit_paper_form([1, 2, 4, 8], [0, 10, 100, 50], [5, 0, 0, 20],
    ...                      [0.0435, 0.0421, 0.045, 0.0585])
    >>> {k: round(v, 6) for k, v in fit.items()}
    {'intercept_ms': 40.0, 'per_step_ms': 1.0, 'per_context_token_ms': 0.01, 'per_prompt_token_ms': 0.5}
    >>> fit_paper_form([1], [0], [1], [0.05])
    Traceback (most recent call last):
    ...
    ValueError: need at least 4 batches to fit 4 coefficients, got 1

    Parameters
    ----------
    steps, context_sum, prompt_tokens : sequence of int
        Per batch: number of steps (requests), sum of the token steps' contexts, prompt tokens.
    seconds : sequence of float
        Observed batch times.

    Returns
    -------
    dict
        The keys of :data:`PAPER_COEFFICIENTS`.
    """
    y = _times(seconds, "seconds") * 1e3
    X = np.column_stack([np.ones(y.size)] + [np.asarray(v, float) for v in
                                             (steps, context_sum, prompt_tokens)])
    if X.shape[0] != y.size:
        raise ValueError(f"all inputs must have one entry per batch, got {X.shape[0]} and {y.size}")
    if y.size < 4:
        raise ValueError(f"need at least 4 batches to fit 4 coefficients, got {y.size}")
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    return {k: float(v) for k, v in zip(PAPER_COEFFICIENTS, coef)}


def load_crosscheck(path, table: str = "per_batch"):
    """One table of the committed Vidur cross-check JSON, as a :class:`pandas.DataFrame`.

    ``"per_batch"``: one row per (Vidur scheduler, arrival rate, batch kind, time model) with
    the :class:`ErrorStats` columns; ``"end_to_end"``: one row per (Vidur scheduler, rate,
    engine) with average and 95th-percentile latency and the relative difference to Vidur;
    ``"config"``: one row per setting (workload, Vidur configuration, commit, command, seconds);
    ``"refit"``: one row per (scheduler, rate) with :func:`fit_paper_form` fitted to Vidur's
    batches (empty if the file has none).

    Examples
    --------
    >>> import json, tempfile, os
    >>> doc = {"per_batch": [{"scheduler": "vllm", "rate": 10.0, "n_batches": 2,
    ...                       "rows": [{"batches": "all", "model": "m", "n": 2}]}],
    ...        "end_to_end": [{"scheduler": "vllm", "rate": 10.0, "engine": "Vidur",
    ...                        "avg_latency_s": 1.5}],
    ...        "vidur_commit": "abc", "workload": {"n": 2}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "x.json")
    ...     _ = open(f, "w").write(json.dumps(doc))
    ...     pb, ee = load_crosscheck(f), load_crosscheck(f, "end_to_end")
    >>> pb[["scheduler", "rate", "batches", "model", "n"]].values.tolist()
    [['vllm', 10.0, 'all', 'm', 2]]
    >>> float(ee.loc[0, "avg_latency_s"])
    1.5
    >>> load_crosscheck(f, "nope")
    Traceback (most recent call last):
    ...
    ValueError: table must be one of ('per_batch', 'end_to_end', 'config', 'refit'), got 'nope'

    Parameters
    ----------
    path : str or Path
        The JSON written by ``benchmarks/vidur_crosscheck.py``.
    table : {"per_batch", "end_to_end", "config"}

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}, got {table!r}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"cross-check file not found: {p}")
    doc = json.loads(p.read_text())
    for key in ("per_batch", "end_to_end"):
        if key not in doc:
            raise ValueError(f"{p} is not a Vidur cross-check file: it lacks {key!r}")
    if table == "per_batch":
        rows = [{"scheduler": block["scheduler"], "rate": block["rate"],
                 **({"seed": block["seed"]} if "seed" in block else {}), **row}
                for block in doc["per_batch"] for row in block["rows"]]
        return pd.DataFrame(rows)
    if table == "end_to_end":
        return pd.DataFrame(doc["end_to_end"])
    if table == "refit":
        return pd.DataFrame([{"scheduler": block["scheduler"], "rate": block["rate"],
                              **({"seed": block["seed"]} if "seed" in block else {}),
                              **block["paper_form_refit"]} for block in doc["per_batch"]
                             if "paper_form_refit" in block])
    rows = []
    for key, value in doc.items():
        if key in ("per_batch", "end_to_end"):
            continue
        if isinstance(value, dict):
            rows += [{"setting": f"{key}.{k}", "value": _text(v)} for k, v in value.items()]
        else:
            rows.append({"setting": key, "value": _text(value)})
    return pd.DataFrame(rows)


def _text(value) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return str(value)


def _seed(df, seed):
    if seed is not None and "seed" in df.columns:
        df = df[df["seed"] == seed]
    return df


def per_batch_table(path, batches: str | None = None, seed: int | None = None):
    """The per-batch error table for the book: percentages, one row per scheduler/rate/model.

    ``batches`` selects one batch kind (``"all"``, ``"prefill only"``, ``"decode only"``,
    ``"mixed"``), ``seed`` one workload seed (default: every row).

    Examples
    --------
    >>> import json, tempfile, os
    >>> row = {"batches": "all", "model": "m", "n": 4, "mean_relative": -0.05,
    ...        "mean_abs_relative": 0.1, "median_abs_relative": 0.08, "p95_abs_relative": 0.2,
    ...        "max_abs_relative": 0.3, "total_ratio": 0.95}
    >>> doc = {"per_batch": [{"scheduler": "vllm", "rate": 10.0, "rows": [row]}],
    ...        "end_to_end": []}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "x.json")
    ...     _ = open(f, "w").write(json.dumps(doc))
    ...     t = per_batch_table(f)
    >>> [float(t.loc[0, c]) for c in ("bias %", "mean |error| %", "p95 |error| %", "total time %")]
    [-5.0, 10.0, 20.0, -5.0]
    """
    df = _seed(load_crosscheck(path, "per_batch"), seed)
    if batches is not None:
        df = df[df["batches"] == batches]
    out = df[["scheduler", "rate", "batches", "model", "n"]].copy()
    out = out.rename(columns={"rate": "rate (1/s)", "n": "batches (n)"})
    out["bias %"] = 100 * df["mean_relative"]
    out["mean |error| %"] = 100 * df["mean_abs_relative"]
    out["p95 |error| %"] = 100 * df["p95_abs_relative"]
    out["max |error| %"] = 100 * df["max_abs_relative"]
    out["total time %"] = 100 * (df["total_ratio"] - 1)
    return out.round(1).reset_index(drop=True)


def end_to_end_table(path, seed: int | None = None):
    """The end-to-end latency table for the book: one row per (seed, rate, engine).

    Columns: average and 95th-percentile latency, evictions, batches, the run's status, and the
    relative difference of the average latency to each Vidur scheduler's at the same rate.

    Examples
    --------
    >>> import json, tempfile, os
    >>> rows = [{"rate": 10.0, "engine": "Vidur, vllm scheduler", "avg_latency_s": 2.0,
    ...          "status": "ok"},
    ...         {"rate": 10.0, "engine": "ours", "avg_latency_s": 2.5, "status": "ok"},
    ...         {"rate": 10.0, "engine": "broken", "avg_latency_s": None,
    ...          "status": "livelock"}]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "x.json")
    ...     _ = open(f, "w").write(json.dumps({"per_batch": [], "end_to_end": rows}))
    ...     t = end_to_end_table(f)
    >>> t["engine"].tolist(), t["vs Vidur vllm %"].tolist()
    (['Vidur, vllm scheduler', 'ours', 'broken'], [0.0, 25.0, nan])
    """
    df = _seed(load_crosscheck(path, "end_to_end"), seed).reset_index(drop=True)
    if "seed" not in df.columns:
        df["seed"] = 0
    cols = {"seed": "seed", "rate": "rate (1/s)", "engine": "engine",
            "avg_latency_s": "avg latency (s)", "p95_latency_s": "p95 latency (s)",
            "evictions": "evictions", "batches": "batches", "status": "status"}
    out = df.reindex(columns=list(cols)).rename(columns=cols)
    for c in ("avg latency (s)", "p95 latency (s)"):
        out[c] = out[c].astype(float)
    for c in ("evictions", "batches"):
        out[c] = out[c].astype("Int64")
    is_vidur = df["engine"].astype(str).str.startswith("Vidur, ")
    for name in dict.fromkeys(df.loc[is_vidur, "engine"]):
        sched = str(name).split(", ")[1].split(" ")[0]
        ref = df[df["engine"] == name].set_index(["seed", "rate"])["avg_latency_s"]
        keys = list(zip(df["seed"], df["rate"]))
        base = np.array([float(ref.get(k, np.nan)) for k in keys])
        out[f"vs Vidur {sched} %"] = 100 * (out["avg latency (s)"].to_numpy() / base - 1)
    out["_vidur_last"] = ~is_vidur
    out = out.sort_values(["seed", "rate (1/s)", "_vidur_last"], kind="stable")
    out = out.drop(columns="_vidur_last")
    if seed is not None or out["seed"].nunique() == 1:
        out = out.drop(columns="seed")
    out["status"] = out["status"].astype(str).str.slice(0, 70)
    return out.round(2).reset_index(drop=True)


#: The comparisons :func:`seed_spread` keeps with ``key_only=True``: the two time models per
#: batch, and each engine against the Vidur scheduler that batches as it does.
_KEY_MODELS = ("ours (calibrated)", "paper formula")


def seed_spread(path, key_only: bool = False):
    """Smallest and largest value over workload seeds of the book's comparisons.

    One row per comparison: the per-batch bias and mean absolute error of each time model
    (all batches) per Vidur scheduler and rate, and each engine's average-latency difference
    to each Vidur scheduler per rate.  Percentages.  With ``key_only`` only the calibrated
    model and the paper's formula per batch, and each engine against the Vidur scheduler that
    batches as it does (prefill-first against vLLM, mixed against Sarathi).

    Examples
    --------
    >>> import json, tempfile, os
    >>> rows = [{"seed": s, "rate": 10.0, "engine": e, "avg_latency_s": v, "status": "ok"}
    ...         for s, e, v in ((0, "Vidur, vllm scheduler", 2.0), (0, "ours", 2.2),
    ...                         (1, "Vidur, vllm scheduler", 4.0), (1, "ours", 3.6))]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "x.json")
    ...     _ = open(f, "w").write(json.dumps({"per_batch": [], "end_to_end": rows}))
    ...     t = seed_spread(f)
    >>> t[["comparison", "seeds", "min %", "max %"]].values.tolist()
    [['ours vs Vidur vllm, 10/s', 2, -10.0, 10.0]]
    """
    import pandas as pd

    rows = []
    pb = load_crosscheck(path, "per_batch")
    if len(pb):
        pb = pb[pb["batches"] == "all"]
        for (sched, rate, model), g in pb.groupby(["scheduler", "rate", "model"], sort=False):
            if key_only and model not in _KEY_MODELS:
                continue
            for col, what in (("mean_relative", "bias"), ("mean_abs_relative", "mean |error|")):
                rows.append({"comparison": f"per batch: {model} vs Vidur {sched}, {rate:g}/s, "
                                           f"{what}", "seeds": int(g.shape[0]),
                             "min %": 100 * g[col].min(), "max %": 100 * g[col].max()})
    e2e = end_to_end_table(path)
    diffs = [c for c in e2e.columns if c.startswith("vs Vidur ")]
    for (rate, engine), g in e2e.groupby(["rate (1/s)", "engine"], sort=False):
        if str(engine).startswith("Vidur, "):
            continue
        for c in diffs:
            if key_only and ("prefill-first" in str(engine)) != (c == "vs Vidur vllm %"):
                continue
            v = g[c].dropna()
            if len(v):
                rows.append({"comparison": f"{engine} {c[:-2]}, {rate:g}/s",
                             "seeds": len(v), "min %": v.min(), "max %": v.max()})
    return pd.DataFrame(rows).round(1)


def refit_table(path, seed: int | None = None):
    """The paper's linear form refitted to Vidur's batches, beside the paper's coefficients.

    Examples
    --------
    >>> import json, tempfile, os
    >>> block = {"scheduler": "vllm", "rate": 10.0, "rows": [],
    ...          "paper_form_refit": {"intercept_ms": 50.0, "per_step_ms": 0.1,
    ...                               "per_context_token_ms": 0.0, "per_prompt_token_ms": 0.4}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "x.json")
    ...     _ = open(f, "w").write(json.dumps({"per_batch": [block], "end_to_end": []}))
    ...     t = refit_table(f)
    >>> t["fitted to"].tolist(), float(t.loc[1, "per step (ms)"])
    (["the paper's published code", 'Vidur vllm, 10/s'], 0.1)
    """
    import pandas as pd

    df = _seed(load_crosscheck(path, "refit"), seed)
    names = {"intercept_ms": "intercept (ms)", "per_step_ms": "per step (ms)",
             "per_context_token_ms": "per context token (ms)",
             "per_prompt_token_ms": "per prompt token (ms)"}
    rows = [{"fitted to": "the paper's published code", **PAPER_COEFFICIENTS}]
    seeds = "seed" in df.columns and df["seed"].nunique() > 1
    rows += [{"fitted to": f"Vidur {r['scheduler']}, {r['rate']:g}/s"
                           + (f", seed {int(r['seed'])}" if seeds else ""),
              **{k: r[k] for k in PAPER_COEFFICIENTS}} for _, r in df.iterrows()]
    return pd.DataFrame(rows).rename(columns=names).round(4)
