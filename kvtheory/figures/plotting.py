"""Figures for the book: every plot in a chapter comes from here.

Functions take an optional ``ax`` and return the matplotlib ``Axes`` (or ``Figure``) they drew
on, so notebooks stay one line per figure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence  # noqa: F401

import matplotlib.pyplot as plt
import numpy as np

from kvtheory.model.schedule import Schedule

if TYPE_CHECKING:                                   # chapter types, not imported at run time
    from kvtheory.theory.lower_bounds import AdversaryRun

__all__ = ["plot_synthetic_ratios",
           "plot_ratio_vs_n", "gantt", "memory_plot", "schedule_figure", "compare_schedules", "solve_time_plot",
           "plot_deterministic", "plot_ratio_vs_start", "plot_game", "plot_separate_regret",
           "plot_brackets"]


from kvtheory.figures.style import _ax, panels  # noqa: F401


def gantt(schedule: Schedule, ax=None, *, label_ids: bool | None = None):
    """Gantt chart: one bar per attempt, from its first to its last processed round.

    Aborted attempts (evictions) are hatched.  Rounds ``p+1 .. q`` of attempt ``(p, q)`` are
    drawn as the interval ``[p, q]`` so that a bar's length is the rounds processed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [2, 1], [3, 1], memory=6)
    >>> ax = gantt(Schedule.from_starts(inst, [0, 0]))
    >>> len(ax.patches)
    2
    """
    ax = _ax(ax)
    n = schedule.n
    label_ids = n <= 25 if label_ids is None else label_ids
    cmap = plt.get_cmap("viridis")
    omax = max((r.output for r in schedule.records), default=1)
    for r in schedule.records:
        for k, (p, q) in enumerate(r.attempts):
            aborted = k < len(r.attempts) - 1
            ax.barh(r.id, q - p, left=p, height=0.7,
                    color="lightgray" if aborted else cmap(0.15 + 0.7 * r.output / omax),
                    edgecolor="black", linewidth=0.4, hatch="//" if aborted else None)
        if r.arrival < r.first_start:
            ax.plot([r.arrival, r.first_start], [r.id, r.id], color="tab:red", lw=0.8, ls=":")
    ax.set_xlabel("round (round t is the cell [t-1, t])")
    ax.set_ylabel("request")
    if label_ids:
        ax.set_yticks(range(n))
    _round_grid(ax, schedule.makespan)
    ax.invert_yaxis()
    ax.set_title(f"{schedule.policy or 'schedule'}: total latency {schedule.total_latency}")
    return ax


def memory_plot(schedule: Schedule, ax=None, *, label: str | None = None):
    """Memory in use per round (step plot) with the capacity ``M`` as a dashed line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [2, 1], [3, 1], memory=6)
    >>> ax = memory_plot(Schedule.from_starts(inst, [0, 0]))
    >>> [round(v) for v in ax.get_ylim()][0]
    0
    """
    ax = _ax(ax)
    prof = schedule.memory_profile()
    # round t (index t of the profile) occupies [t-1, t], the same cell as in the Gantt chart
    ax.stairs(prof[1:], np.arange(prof.size), baseline=None,
              label=label or schedule.policy or "memory")
    ax.axhline(schedule.instance.memory, color="black", ls="--", lw=1, label="M")
    ax.set_xlabel("round (round t is the cell [t-1, t])")
    ax.set_ylabel("KV memory in use")
    ax.set_ylim(0, schedule.instance.memory * 1.08)
    _round_grid(ax, schedule.makespan)
    ax.legend(loc="lower right")
    return ax


def _round_grid(ax, makespan: int) -> None:
    """Light vertical lines on the round boundaries (integer ticks, thinned when there are many)."""
    from matplotlib.ticker import MaxNLocator, MultipleLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if 0 < makespan <= 60:
        ax.xaxis.set_minor_locator(MultipleLocator(1))
        ax.grid(axis="x", which="minor", color="0.85", lw=0.5)
    ax.grid(axis="x", which="major", color="0.75", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlim(0, max(makespan, 1))


def schedule_figure(schedule: Schedule):
    """Gantt chart above the memory profile of one schedule, sharing the round axis.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [2, 1], [3, 1], memory=6)
    >>> len(schedule_figure(Schedule.from_starts(inst, [0, 0])).axes)
    2
    """
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True, layout="constrained",
                                 gridspec_kw={"height_ratios": [3, 2]})
    gantt(schedule, a1)
    a1.set_xlabel("")
    memory_plot(schedule, a2).get_legend().remove()    # the caption names the dashed capacity
    return fig


def compare_schedules(schedules: Sequence[Schedule], *, title: str | None = None):
    """Side-by-side Gantt charts and memory profiles of several schedules of one instance.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [2, 1], [3, 1], memory=6)
    >>> fig = compare_schedules([Schedule.from_starts(inst, [0, 0]), Schedule.from_starts(inst, [1, 0])])
    >>> len(fig.axes)
    4
    """
    k = len(schedules)
    if k == 0:
        raise ValueError("need at least one schedule to compare")
    fig, axes = plt.subplots(2, k, figsize=(4.2 * k, 5), sharex=True, squeeze=False,
                             layout="constrained", gridspec_kw={"height_ratios": [3, 2]})
    for j, s in enumerate(schedules):
        gantt(s, axes[0, j])
        axes[0, j].set_xlabel("")
        axes[0, j].set_title(f"{s.policy or 'schedule'}\ntotal latency {s.total_latency}")
        memory_plot(s, axes[1, j]).get_legend().remove()   # the caption names the dashed capacity
        axes[1, j].set_xlabel("round")
    if title:
        fig.suptitle(title)        # constrained layout keeps it clear of the panel titles
    return fig


def solve_time_plot(rows, ax=None):
    """Solve time of the exact program against ``n`` (rows from ``solve_time_table``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = solve_time_plot([{"n": 2, "seconds": 0.01, "proven": True},
    ...                       {"n": 4, "seconds": 0.1, "proven": False}])
    >>> ax.get_yscale()
    'log'
    """
    ax = _ax(ax)
    n = np.array([r["n"] for r in rows])
    sec = np.array([r["seconds"] for r in rows])
    proven = np.array([bool(r["proven"]) for r in rows])
    ax.scatter(n[proven], sec[proven], label="proven optimal")
    if (~proven).any():
        ax.scatter(n[~proven], sec[~proven], marker="x", color="tab:red", label="time limit")
    ax.set_yscale("log")
    ax.set_xlabel("number of requests n")
    ax.set_ylabel("solve time (s)")
    ax.legend()
    return ax


# ===================================================================== synthetic chapter
def plot_synthetic_ratios(rows_by_model: dict, paper: dict, *, ylim=(0.98, 2.2)):
    """Sorted per-trial MC-SF ratios, one panel per model, with the paper's mean and worst.

    ``rows_by_model`` maps a model name to its trial rows (``kvtheory.studies.replication`` rows:
    ``policy``, ``ratio``, ``ratio_upper``, ``proven``, ``livelock``); ``paper`` maps the same
    names to ``{"mean": ..., "worst": ...}``.  Returns the Figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"policy": "mc-sf", "ratio": 1.1, "ratio_upper": 1.1, "proven": True,
    ...          "livelock": False}]
    >>> fig = plot_synthetic_ratios({"model1": rows}, {"model1": {"mean": 1.005, "worst": 1.2}})
    >>> len(fig.axes), len(fig.axes[0].lines)      # one curve + the paper's two lines
    (1, 3)
    """
    from kvtheory.figures.studies import ratio_plot

    def draw(model, ax):
        rows = rows_by_model[model]
        ratio_plot(rows, policies=("mc-sf",), ax=ax)
        for key, ls in (("mean", ":"), ("worst", "-.")):
            ax.axhline(paper[model][key], color="grey", ls=ls, lw=1,
                       label=f"paper's {key} ({paper[model][key]})")
        n = sum(r["policy"] == "mc-sf" for r in rows)
        ax.set_title(f"{model}: MC-SF / OPT, {n} trials")
        ax.set_ylim(*ylim)
        ax.legend(loc="upper left")
    return panels(draw, list(rows_by_model))


def plot_ratio_vs_n(size_rows: Sequence[dict], paper_mean: float, ax=None):
    """Mean MC-SF / best-known ratio against ``n`` with its one-sided 95 % interval.

    ``size_rows`` hold ``n``, ``mean MC-SF/U`` and ``ci_low``; the grey line is the paper's mean.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_ratio_vs_n([{"n": 4, "mean MC-SF/U": 1.0, "ci_low": 1.0},
    ...                       {"n": 8, "mean MC-SF/U": 1.1, "ci_low": 1.05}], 1.005)
    >>> ax.get_xlabel()
    'requests n (M = 40, all at round 0)'
    """
    ax = _ax(ax, (5.5, 3.2))
    n = [r["n"] for r in size_rows]
    mean = np.array([r["mean MC-SF/U"] for r in size_rows])
    low = np.array([r["ci_low"] for r in size_rows])
    ax.errorbar(n, mean, yerr=[mean - low, np.zeros_like(mean)], marker="o", capsize=3,
                label="MC-SF / best known (proven lower bound)")
    ax.axhline(paper_mean, color="grey", ls=":", label="paper's mean (n = 40-60)")
    ax.set_xlabel("requests n (M = 40, all at round 0)")
    ax.set_ylabel("mean ratio")
    ax.legend(loc="upper left")
    return ax


# ===================================================================== A100 chapter
def plot_deterministic(per_n: Sequence[dict], ax=None):
    """Measured smallest ratio against ``n`` beside the derived bound and ``sqrt(n)``.

    ``per_n`` are the rows of ``check_lb_deterministic(...).details["per_n"]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_deterministic([{"n": 2, "min ratio": 1.0, "registry min ratio": 1.0},
    ...                          {"n": 4, "min ratio": 1.6, "registry min ratio": 2.0}])
    >>> len(ax.lines) >= 3
    True
    """
    from kvtheory.theory.lower_bounds import deterministic_bound
    ax = _ax(ax, (7, 3.5))
    n = np.array([r["n"] for r in per_n])
    grid = np.arange(2, n.max() + 1)
    ax.plot(grid, [deterministic_bound(int(k)) for k in grid], color="black", lw=1,
            label="derived bound $\\min_d \\max_r$ ALG/OPT")
    ax.plot(grid, (math.sqrt(3) - 1) / 2 * grid, color="gray", ls="--", lw=1,
            label="$(\\sqrt{3}-1)\\,n/2$")
    ax.plot(grid, np.sqrt(grid), color="tab:green", ls=":", label="$\\sqrt{n}$")
    ax.scatter(n, [r["min ratio"] for r in per_n], color="tab:red", zorder=3,
               label="measured: best policy vs adversary")
    ax.scatter(n, [r["registry min ratio"] for r in per_n], marker="x", color="tab:blue",
               zorder=3, label="measured: registered policies")
    ax.set_xlabel("n  (n + 1 requests, M = n(n+1))")
    ax.set_ylabel("ALG / OPT")
    ax.legend()
    return ax


def plot_ratio_vs_start(n: int, runs: Sequence[AdversaryRun] = (), ax=None):
    """The adversary's ratio as a function of the start round ``d`` of ``L`` (derived curve).

    Measured runs (from :func:`adaptive_adversary`) are overlaid as points.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> len(plot_ratio_vs_start(6).lines)     # three curves and the best start
    4
    """
    from kvtheory.theory.lower_bounds import _size, adversary_ratio, best_start, cost_ratio
    ax = _ax(ax, (7, 3.5))
    n = _size(n)
    d = np.arange(0, 2 * n + 1)
    ax.plot(d, [cost_ratio(n, int(k), int(k) + 1) for k in d], ls="--", lw=1,
            label="release at d + 1")
    ax.plot(d, [cost_ratio(n, int(k), max(n, int(k) + 1)) for k in d], ls=":", lw=1,
            label="release at max(n, d + 1)")
    ax.plot(d, [adversary_ratio(n, int(k)) for k in d], color="black", lw=1.5,
            label="adversary's best answer")
    if runs:
        ax.scatter([r.start for r in runs], [r.ratio for r in runs], color="tab:red", zorder=3,
                   label="measured (simulation / exact OPT)")
    ax.axvline(best_start(n), color="gray", lw=0.8)
    ax.set_xlabel("start round d of the long request")
    ax.set_ylabel("ALG / OPT")
    ax.set_title(f"n = {n}, M = {n * (n + 1)}")
    ax.legend()
    return ax


def plot_game(rows: Sequence[dict], ax=None):
    """Game value (randomized) and deterministic value against ``n``, with the Yao bounds.

    ``rows`` are ``check_lb_randomized(...).details["per_n"]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_game([{"n": 4, "value": 1.4, "deterministic": 1.9, "yao bound": 1.0,
    ...                  "analytic bound": 0.6}, {"n": 8, "value": 1.8, "deterministic": 3.4,
    ...                  "yao bound": 1.2, "analytic bound": 0.9}])
    >>> ax.get_xscale()
    'log'
    """
    ax = _ax(ax, (7, 3.5))
    n = np.array([r["n"] for r in rows], dtype=float)
    val = np.array([r["value"] for r in rows])
    ax.plot(n, [r["deterministic"] for r in rows], "s-", color="tab:blue",
            label="deterministic (pure) value")
    ax.plot(n, val, "o-", color="tab:red", label="randomized game value (LP)")
    ax.plot(n, [r["yao bound"] for r in rows], "^--", color="tab:orange",
            label="explicit Yao distribution")
    ax.plot(n, [r["analytic bound"] for r in rows], ":", color="tab:orange",
            label="its closed-form bound")
    ax.plot(n, val[-1] * np.sqrt(n / n[-1]), color="gray", lw=1, ls="--",
            label="$\\propto \\sqrt{n}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(n, [str(int(k)) for k in n])
    ax.minorticks_off()
    ax.set_xlabel("n  (n + 1 requests, M = n(n+1))")
    ax.set_ylabel("competitive ratio")
    ax.legend()
    return ax




# ===================================================================== regret chapter
def plot_separate_regret(rows: Sequence[dict], ax=None):
    """Regret against the hindsight optimum vs the horizon ``T`` (log-log), with 95 % bands.

    ``rows`` are :func:`kvtheory.studies.regret_study.separate_regret_rows` rows; the band
    spans ``band_lo`` (below the bracket's lower end) to ``band_hi`` (above its upper end),
    clipped at 0.01.  A dotted line of slope 1 (linear growth) is drawn for comparison.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"policy": "a", "T": T, "regret_lo": 1.0, "regret_hi": 1.5, "band_lo": 0.5,
    ...          "band_hi": 2.0} for T in (10, 20)]
    >>> len(plot_separate_regret(rows).lines)      # one policy and the slope-1 line
    2
    """
    ax = _ax(ax, (7, 3.5))
    for pol in dict.fromkeys(r["policy"] for r in rows):
        rs = sorted((r for r in rows if r["policy"] == pol), key=lambda r: r["T"])
        T = np.array([r["T"] for r in rs], dtype=float)
        mid = np.array([(r["regret_lo"] + r["regret_hi"]) / 2 for r in rs])
        line, = ax.plot(T, np.maximum(mid, 1e-2), marker="o", label=pol)
        ax.fill_between(T, np.maximum([r["band_lo"] for r in rs], 1e-2),
                        np.maximum([r["band_hi"] for r in rs], 1e-2),
                        color=line.get_color(), alpha=0.2, lw=0)
    T = np.array(sorted({r["T"] for r in rows}), dtype=float)
    ax.plot(T, T / T[-1] * max(max(r["regret_hi"] for r in rows if r["T"] == T[-1]), 1e-2) / 4,
            color="gray", ls=":", lw=1, label="slope 1 (linear)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T (rounds of arrivals)")
    ax.set_ylabel("regret vs hindsight optimum")
    ax.legend()
    return ax




def plot_brackets(rows: Sequence[dict], policy: str = "mc-sf", ax=None, *, legend: bool = True):
    """Per-trial brackets of ``policy``'s ratio to the optimum: area bound against peak rows.

    Each trial is one x position; the thin grey bar runs from ``T/U`` (best schedule found) to
    ``T/L`` with the area bound, the thick bar to ``T/L`` with the peak rows
    (:mod:`kvtheory.optimum.bounds`); rows as in :func:`kvtheory.studies.bracket.bracket_summary`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"model": "model1", "trial": 0, "policy": "mc-sf", "total_latency": 110,
    ...          "opt": 100, "volume_bound": 50, "peak_bound": 80, "livelock": False}]
    >>> plot_brackets(rows).get_ylabel()
    'ratio to the optimum'
    """
    ax = _ax(ax)
    rs = [r for r in rows if r["policy"] == policy and not r["livelock"]]
    x = np.arange(len(rs))
    T = np.array([r["total_latency"] for r in rs], dtype=float)
    lo = T / np.array([r["opt"] for r in rs], dtype=float)
    area = T / np.array([r["volume_bound"] for r in rs], dtype=float)
    peak = T / np.array([max(r["volume_bound"], r["peak_bound"] or 0) for r in rs], dtype=float)
    ax.vlines(x, lo, area, color="0.75", lw=2, label="with the area bound")
    ax.vlines(x, lo, peak, color="C0", lw=5, label="with peak rows")
    ax.plot(x, lo, "_", color="k", ms=10, label="against the best schedule found")
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_ylabel("ratio to the optimum")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=1)
    return ax
