"""Figures of the theory chapters: ratios, regret, hardness, the preemption game."""

from __future__ import annotations

import math  # noqa: F401
from typing import Callable, Iterable, Sequence  # noqa: F401

import numpy as np  # noqa: F401

from kvtheory.figures.style import _ax, panels  # noqa: F401
from kvtheory.theory.preemption import EVICTION_RULES
from kvtheory.theory.preemption_game import preemptive_adversary_table
from kvtheory.theory.ratio import CONDITIONS

__all__ = ["plot_reduction", "plot_fat_short", "dropped_condition_plot", "regret_plot"]


def plot_reduction(rows: Sequence[dict], ax=None):
    """Counts of ``OPT - K`` for yes and no instances (rows of :func:`reduction_table`)."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    excess = sorted({r["OPT - K"] for r in rows})
    width = 0.4
    for shift, ans, label in [(-width / 2, True, "yes instances"), (width / 2, False, "no instances")]:
        counts = [sum(1 for r in rows if r["yes"] is ans and r["OPT - K"] == e) for e in excess]
        ax.bar([e + shift for e in excess], counts, width=width, label=label)
    ax.set_xticks(excess)
    ax.set_xlabel("OPT - K (exact optimum minus threshold)")
    ax.set_ylabel("instances")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_fat_short(ns: Sequence[int], *, P_of_n: Callable[[int], int] | None = None, ax=None):
    """Worst ratio over every adversary of :func:`preemptive_adversary_table` against ``n``."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    for name, rule in EVICTION_RULES.items():
        ys = [preemptive_adversary_table([n], {name: rule},
                                         P=None if P_of_n is None else P_of_n(n))[0]["worst"]
              for n in ns]
        ax.plot(list(ns), ys, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("n (number of shorts)")
    ax.set_ylabel("worst ratio ALG / OPT")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def dropped_condition_plot(rows: Iterable[dict], ax=None):
    """MC-SF / OPT against the family size ``k``, one line per dropped condition.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from kvtheory.theory.ratio import dropped_condition_table
    >>> ax = dropped_condition_plot(dropped_condition_table([1, 2]))
    >>> len(ax.lines)
    4
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    rows = list(rows)
    for cond in sorted({r["dropped"] for r in rows}):
        rs = [r for r in rows if r["dropped"] == cond]
        ax.plot([r["k"] for r in rs], [r["ratio"] for r in rs], marker="o",
                label=f"({cond}) dropped: {CONDITIONS[cond]}")
    ax.set_xlabel("family size k")
    ax.set_ylabel("MC-SF / OPT (exact)")
    ax.legend(fontsize=7)
    return ax


def regret_plot(rows: Sequence[dict], ax=None, *, key: str = "regret"):
    """Log-log plot of regret against ``T`` per policy and load, with 95 % bands.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"policy": "a", "load": 0.5, "T": T, "regret": 2.0 * T, "ci95": 1.0}
    ...         for T in (10, 100)]
    >>> regret_plot(rows).get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["policy"], r["load"]), []).append(r)
    for (pol, load), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["T"])
        T = np.array([r["T"] for r in rs], dtype=float)
        y = np.array([r[key] for r in rs], dtype=float)
        ci = np.array([r.get("ci95", 0.0) for r in rs], dtype=float)
        line, = ax.plot(T, np.maximum(y, 1e-1), marker="o", label=f"{pol}, load {load:g}")
        ax.fill_between(T, np.maximum(y - ci, 1e-1), np.maximum(y + ci, 1e-1),
                        color=line.get_color(), alpha=0.2)
    T = np.array(sorted({r["T"] for r in rows}), dtype=float)
    if T.size:
        ax.plot(T, T, color="gray", ls=":", lw=1, label="slope 1 (linear)")
        ax.plot(T, 10 * np.sqrt(T), color="gray", ls="--", lw=1, label="slope 1/2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T (rounds of arrivals)")
    ax.set_ylabel("regret (total waiting)" if key == "regret" else key)
    ax.legend(fontsize="small")
    return ax
