"""Figures of the studies: the synthetic replication, the published code's solver and setup,
engine scaling."""

from __future__ import annotations

from typing import Iterable, Sequence  # noqa: F401

import numpy as np  # noqa: F401

from kvtheory.figures.style import _ax, panels  # noqa: F401
from kvtheory.studies.code_reading import PAPER
from kvtheory.studies.paper_study import PAPER_FIGURES as PAPER_SETUP_FIGURES
from kvtheory.studies.paper_study import reduction_table

#: Line style per engine and colour per policy of the paper-setup figures.
_STYLE = {"paper": "-", "calibrated": "--"}
_COLORS = {"mc-sf": "C0", "mc-benchmark": "C1", "vllm": "C2"}

__all__ = ["code_reading_plot", "ratio_plot", "plot_scaling", "plot_latency_vs_k", "plot_reduction_vs_k"]


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


def ratio_plot(rows: Sequence[dict], policies: Sequence[str] = ("mc-sf", "mc-benchmark", "vllm"),
               ax=None):
    """Sorted per-trial ratios (an empirical quantile curve) for a few policies.

    Solid: ratio to the best known schedule (exact when proven); dashed, for unproven trials:
    ratio to the proven lower bound.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"model": "model1", "policy": "mc-sf", "ratio": 1.0, "ratio_upper": 1.0,
    ...          "proven": True, "livelock": False}]
    >>> len(ratio_plot(rows).lines)
    1
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for k, pol in enumerate(policies):
        rs = [r for r in rows if r["policy"] == pol and not r["livelock"]]
        if not rs:
            continue
        q = np.linspace(0, 1, len(rs))
        line, = ax.plot(q, sorted(r["ratio"] for r in rs), label=pol)
        if not all(r["proven"] for r in rs):
            ax.plot(q, sorted(r["ratio_upper"] for r in rs), ls="--", color=line.get_color(),
                    label=f"{pol} (vs lower bound)")
    ax.set_xlabel("fraction of trials")
    ax.set_ylabel("latency / OPT")
    ax.legend(fontsize=7)
    return ax


def plot_scaling(rows: Sequence[dict], ax=None, time: str = "sim_cpu_seconds"):
    """Simulation seconds (column ``time``) against ``n`` (log-log), one line per configuration.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"engine": "round", "policy": "mc-sf", "rate": 5.0, "n": n,
    ...          "sim_cpu_seconds": s} for n, s in [(10, 1.0), (100, 10.0)]]
    >>> len(plot_scaling(rows).lines)
    2
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    ok = [r for r in rows if r.get("status", "ok") == "ok"]
    keys = sorted({(r["engine"], r["policy"], r["rate"]) for r in ok})
    marks = {"round": "o", "timed": "s", "paper": "^"}
    for eng, pol, rate in keys:
        g = sorted((r["n"], r[time]) for r in ok
                   if (r["engine"], r["policy"], r["rate"]) == (eng, pol, rate))
        n, s = zip(*g)
        unit = "/round" if eng == "round" else "/s"
        ax.loglog(n, s, marker=marks.get(eng, "o"), ms=4, lw=1,
                  label=f"{eng}, {pol}, {rate:g}{unit}")
    if ok:
        n0 = min(r["n"] for r in ok)
        s0 = float(np.median([r[time] for r in ok if r["n"] == n0]))
        xs = np.array([n0, max(r["n"] for r in ok)], dtype=float)
        ax.loglog(xs, s0 * xs / n0, "k--", lw=0.8, label="slope 1")
    ax.set_xlabel("requests n")
    ax.set_ylabel("CPU seconds" if "cpu" in time else "seconds")
    ax.legend(fontsize=7, ncol=2, loc="upper left", frameon=False)
    return ax


def plot_latency_vs_k(df, rates: Sequence[float] | None = None, policies=("mc-sf",
                                                                          "mc-benchmark",
                                                                          "vllm"),
                      show_paper: bool = True):
    """Average latency against ``n = 1000 k``, one panel per rate; solid = paper engine,
    dashed = calibrated engine; grey lines: the paper's 32.11 and 46.47 (second-hand).
    Returns the Figure."""
    import matplotlib.pyplot as plt
    rates = sorted(df["rate"].unique(), reverse=True) if rates is None else list(rates)
    fig, axes = plt.subplots(1, len(rates), figsize=(4.2 * len(rates), 3.4),
                             constrained_layout=True, squeeze=False)
    for ax, rate in zip(axes[0], rates):
        for (eng, pol), g in df[df["rate"] == rate].groupby(["engine", "policy"], sort=False):
            if pol not in policies:
                continue
            g = g.sort_values("k")
            ax.plot(g["n"], g["avg_latency_s"], _STYLE.get(eng, ":"), marker=".",
                    color=_COLORS.get(pol, "C3"), label=f"{pol} ({eng})")
        if show_paper:
            for v in (PAPER_SETUP_FIGURES["mc-sf"], PAPER_SETUP_FIGURES["mc-benchmark"]):
                ax.axhline(v, color="0.6", lw=0.8, zorder=0)
        ax.set_yscale("log")
        ax.set_title(f"{rate:g} requests/s")
        ax.set_xlabel("requests n (first 1000 k rows)")
        ax.set_ylabel("average latency (s)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def plot_reduction_vs_k(df, ax=None):
    """MC-SF's reduction against MC-Benchmark vs ``n``, per engine and rate; the dotted line is
    the paper's 31 % (second-hand).  Returns the Axes."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    red = reduction_table(df)
    for (eng, rate), g in red.groupby(["engine", "rate"], sort=False):
        g = g.dropna(subset=["reduction"]).sort_values("k")
        ax.plot(1000 * g["k"], 100 * g["reduction"], _STYLE.get(eng, ":"), marker="o", ms=3,
                color="C0" if rate == max(red["rate"]) else "C4", label=f"{eng}, {rate:g}/s")
    ax.axhline(100 * PAPER_SETUP_FIGURES["reduction"], color="0.5", ls=":", label="paper (31 %)")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel("requests n")
    ax.set_ylabel("MC-SF reduction vs MC-Benchmark (%)")
    ax.legend()
    return ax
