"""Figures for the book: every plot in a chapter comes from here.

Functions take an optional ``ax`` and return the matplotlib ``Axes`` (or ``Figure``) they drew
on, so notebooks stay one line per figure.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .schedule import Schedule

__all__ = ["gantt", "memory_plot", "schedule_figure", "compare_schedules", "solve_time_plot"]


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    return ax


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
    ax.set_xlabel("round")
    ax.set_ylabel("request")
    if label_ids:
        ax.set_yticks(range(n))
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
    ax.step(np.arange(prof.size), prof, where="mid", label=label or schedule.policy or "memory")
    ax.axhline(schedule.instance.memory, color="black", ls="--", lw=1, label="M")
    ax.set_xlabel("round")
    ax.set_ylabel("KV memory in use")
    ax.set_ylim(0, schedule.instance.memory * 1.08)
    ax.legend(loc="lower right", fontsize="small")
    return ax


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
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    gantt(schedule, a1)
    a1.set_xlabel("")
    memory_plot(schedule, a2)
    fig.tight_layout()
    return fig


def compare_schedules(schedules: Sequence[Schedule]):
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
                             gridspec_kw={"height_ratios": [3, 2]})
    for j, s in enumerate(schedules):
        gantt(s, axes[0, j])
        axes[0, j].set_xlabel("")
        memory_plot(s, axes[1, j])
    fig.tight_layout()
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
