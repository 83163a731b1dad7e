"""Figures of the successor chapters on fluid-guided batching and token budgets.

Every function takes precomputed data (rows, traces) and an optional ``ax`` and returns what it
drew on; the house style comes from :mod:`kvtheory.figures.plotting`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from kvtheory.figures.style import use_house_style

use_house_style()

__all__ = ["plot_wait_rates", "plot_completions", "plot_backlogs"]


def plot_wait_rates(fits: Mapping[str, dict], stated: Mapping[tuple, float], axes=None):
    """Log-log mean gap and latency against ``T`` per case, with stated-rate guide lines.

    ``fits`` maps ``"case/key"`` to :func:`kvtheory.engines.fluid.fit_slope` results; ``stated`` maps
    ``(case, key)`` to the paper's exponent.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> f = {"a/gap": {"T": [10, 100], "means": [1.0, 0.1], "se": [0.1, 0.01], "slope": -1.0}}
    >>> axes = plot_wait_rates(f, {("a", "gap"): -1.0})
    >>> axes[0].get_xscale()
    'log'
    """
    keys = sorted({k.split("/")[1] for k in fits})
    if axes is None:
        _, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
        axes = axes[0]
    for ax, key in zip(axes, keys):
        for name, f in sorted(fits.items()):
            case, k = name.split("/")
            if k != key:
                continue
            T = np.array(f["T"], dtype=float)
            m = np.array(f["means"])
            line = ax.errorbar(T, m, yerr=1.96 * np.array(f["se"]), marker="o", capsize=3,
                               label=f"{case}: slope {f['slope']:.2f}")
            r = stated.get((case, k))
            if r is not None:
                ax.plot(T, m[0] * (T / T[0]) ** r, ls=":", color=line[0].get_color(),
                        label=f"{case}: stated {r:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ts = sorted({t for f in fits.values() for t in f["T"]})
        ax.set_xticks(ts, [str(int(t)) for t in ts])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("horizon T (rounds)")
        ax.set_ylabel("throughput gap (tokens/round)" if key == "gap" else
                      "mean latency (rounds)")
        ax.legend()
    return axes


def plot_completions(series: Mapping[str, Sequence[int]], start: int = 0, ax=None):
    """Prompts completed per round, one line per policy, from ``start`` on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> plot_completions({"a": [1, 2, 3]}).get_xlabel()
    'round'
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    for name, ys in series.items():
        ax.step(np.arange(start, start + len(ys)), ys, where="post", label=name)
    ax.set_xlabel("round")
    ax.set_ylabel("prompts completed")
    ax.legend()
    return ax


def plot_backlogs(traces: Mapping[str, tuple], ax=None, *, unit: float = 1000.0):
    """Unprocessed tokens against time (seconds), one line per scheduler.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> plot_backlogs({"a": (np.array([0.0, 1000.0]), np.array([0, 5]))}).get_ylabel()
    'unprocessed tokens'
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    for name, (t, y) in traces.items():
        ax.step(np.asarray(t) / unit, y, where="post", label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unprocessed tokens")
    ax.legend()
    return ax
