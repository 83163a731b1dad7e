"""The figure of capacity under an SLO: tail latency and TTFT against load, capacities marked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kvtheory.figures.style import panels

__all__ = ["capacity_figure"]


def _column(df: pd.DataFrame, key: str) -> str | None:
    """``key`` in seconds (``key_s``) where the rows have it, else in rounds, else None."""
    for col in (f"{key}_s", key):
        if col in df and df[col].notna().any():
            return col
    return None


def capacity_figure(df_load_curve: pd.DataFrame, capacities: pd.DataFrame):
    """p99 latency and p99 TTFT against the load scale, one line per policy, capacities marked.

    The curve is the mean over seeds at each scale of the rows of a sweep (or the evaluations
    of :func:`kvtheory.studies.capacity.capacity`, ``df.attrs["evaluations"]``); each policy's
    capacity is a dashed vertical line in its colour with its 95% interval shaded, and the
    SLO's limit a grey horizontal line in the panel of its metric.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> curve = pd.DataFrame({"policy": ["a"] * 3 + ["b"] * 3, "scale": [1, 2, 4] * 2,
    ...                       "p99_latency_s": [1, 2, 9, 1, 3, 12],
    ...                       "p99_ttft_s": [0.1, 0.3, 5, 0.1, 0.5, 8]})
    >>> caps = pd.DataFrame({"policy": ["a", "b"], "capacity": [3.0, 2.5],
    ...                      "ci95": [0.2, np.nan], "metric": ["p99_ttft_s"] * 2,
    ...                      "limit": [2.0, 2.0]})
    >>> fig = capacity_figure(curve, caps)
    >>> len(fig.axes), [len(ax.lines) for ax in fig.axes]    # 2 curves, 2 capacities (+ limit)
    (2, [4, 5])
    """
    keys = [k for k in ("p99_latency", "p99_ttft") if _column(df_load_curve, k)]
    if not keys:
        raise ValueError("the load curve needs p99_latency(_s) or p99_ttft(_s) columns")
    policies = list(dict.fromkeys(df_load_curve["policy"]))
    colors = {p: f"C{i % 10}" for i, p in enumerate(policies)}
    caps = {r["policy"]: r for r in capacities.to_dict("records")}
    labels = {"p99_latency": "p99 latency", "p99_ttft": "p99 time to first token"}

    def plot(key, ax):
        col = _column(df_load_curve, key)
        unit = "s" if col.endswith("_s") else "rounds"
        for pol in policies:
            g = (df_load_curve[df_load_curve["policy"] == pol].groupby("scale")[col].mean()
                 .sort_index())
            ax.plot(g.index, g.to_numpy(float), marker="o", ms=3, color=colors[pol], label=pol)
            cap = caps.get(pol)
            if cap is not None and np.isfinite(cap.get("capacity", np.nan)):
                c, h = float(cap["capacity"]), float(cap.get("ci95", np.nan))
                ax.axvline(c, color=colors[pol], ls="--", lw=1)
                if np.isfinite(h) and h > 0:
                    ax.axvspan(c - h, c + h, color=colors[pol], alpha=0.12, lw=0)
        limits = {(r.get("metric"), r.get("limit")) for r in caps.values()}
        for metric, limit in limits:
            if metric == col and limit is not None:
                ax.axhline(float(limit), color="0.5", lw=1, label=f"SLO {metric} <= {limit:g}")
        ax.set_xlabel("load scale (arrival times divided by it)")
        ax.set_ylabel(f"{labels[key]} ({unit})")
        ax.set_yscale("log")
        ax.legend(loc="upper left")

    return panels(plot, keys, width=4.8, height=3.4)
