"""Figures of the part "After the paper" (successor papers), in the house style of
:mod:`kvtheory.figures.plotting`."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from kvtheory.figures.plotting import _ax
from kvtheory.theory.successors import OPTIMAL_C, prompt_family_costs
from kvtheory.theory.successors_intervals import a_max_upper_bound

__all__ = ["plot_prompt_family", "plot_interval_growth", "plot_svf_ratios"]


def plot_prompt_family(exact_rows: Sequence[dict], *, max_m: int = 20_000, ax=None):
    """MC-SF / smalls-first on the prompt family (closed forms) beside exact MC-SF / OPT points.

    Examples
    --------
    >>> from kvtheory.theory.successors import prompt_family_row
    >>> ax = plot_prompt_family([prompt_family_row(m, exact=True) for m in (2, 3)], max_m=100)
    >>> ax.get_xscale()
    'log'
    """
    ax = _ax(ax)
    ms = np.unique(np.geomspace(2, max_m, 80).astype(int))
    M = 3 * ms
    ratio = []
    for m in ms:
        cf = prompt_family_costs(int(m), max(1, round(OPTIMAL_C * math.sqrt(3 * m))))
        ratio.append(cf["mcsf"] / cf["smalls_first"])
    ax.plot(M, ratio, lw=1.8, label="MC-SF / smalls-first (closed forms)")
    ax.plot(M, np.sqrt(M) / (2 * math.sqrt(3)), "--", color="grey",
            label=r"limit $\sqrt{M}/(2\sqrt{3})$")
    ax.plot([r["M"] for r in exact_rows], [r["ratio_vs_opt"] for r in exact_rows], "o",
            color="C3", label="MC-SF / OPT (exact)")
    for c, name in ((10.67, "GBA 10.67"), (61.92, "GSA 61.92")):
        ax.axhline(c, color="C2", lw=0.8, ls=":")
        ax.annotate(name, (M[0], c), xytext=(2, 2), textcoords="offset points", fontsize=8,
                    color="C2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory M")
    ax.set_ylabel("ratio")
    ax.legend(loc="lower right")
    return ax


def plot_interval_growth(rows: Sequence[dict], *, ax=None):
    """Worst A_max and A_min ratios against hindsight shortest-first, by ``u/l``.

    ``rows`` are :func:`kvtheory.theory.successors_intervals.interval_sweep` rows.

    Examples
    --------
    >>> rows = [{"u_over_l": q, "a_max_ratio": 1.0 * q, "a_min_ratio": 1.1} for q in (1, 2, 4)]
    >>> ax = plot_interval_growth(rows)
    >>> len(ax.lines)
    4
    """
    ax = _ax(ax)
    qs = sorted({r["u_over_l"] for r in rows})
    for key, label, mark in (("a_max_ratio", "A_max (worst)", "s-"),
                             ("a_min_ratio", "A_min (worst)", "o-")):
        ax.plot(qs, [max(r[key] for r in rows if r["u_over_l"] == q) for q in qs], mark,
                label=label)
    q = np.array(qs, dtype=float)
    ax.plot(q, [a_max_upper_bound(x) for x in q], ":", color="grey",
            label=r"$\alpha^{-1}(1+\alpha^{-1})/2$")
    ax.plot(q, 1 + np.log2(q), "--", color="grey", label=r"$1 + \log_2(u/l)$")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("u / l = 1 / alpha")
    ax.set_ylabel("total latency / hindsight")
    ax.legend(loc="upper left")
    return ax


def plot_svf_ratios(rows: Sequence[dict], *, ax=None):
    """SVF / OPT of sampled instances against their ``alpha``, under ``1 + 2/(1 - alpha)``.

    ``rows`` hold ``alpha`` and ``ratio`` (see :func:`kvtheory.theory.successors.svf_sample`).

    Examples
    --------
    >>> ax = plot_svf_ratios([{"alpha": 0.5, "ratio": 1.1}, {"alpha": 0.8, "ratio": 1.0}])
    >>> ax.get_ylabel()
    'SVF / OPT'
    """
    ax = _ax(ax)
    a = np.linspace(0.0, 0.9, 100)
    ax.plot(a, 1 + 2 / (1 - a), "--", color="grey", label=r"bound $1 + 2/(1-\alpha)$")
    ax.plot([r["alpha"] for r in rows], [r["ratio"] for r in rows], "o", ms=3, alpha=0.6,
            label="SVF / OPT (exact), random instances")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha$ = largest peak / M")
    ax.set_ylabel("SVF / OPT")
    ax.legend(loc="upper left")
    return ax
