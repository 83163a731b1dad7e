"""The house style of every figure in the book, and the two helpers every figure module uses.

Importing this module applies :data:`HOUSE_STYLE` to matplotlib.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt

__all__ = ["HOUSE_STYLE", "use_house_style", "panels"]


#: The house style of every figure in the book: readable fonts at the page width, legends
#: that do not shrink in multi-panel figures, ``constrained_layout`` so titles, suptitles and
#: tick labels are never clipped or overlapping.  Applied when this module is imported.
HOUSE_STYLE = {
    "figure.constrained_layout.use": True,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def use_house_style() -> None:
    """Apply :data:`HOUSE_STYLE` to matplotlib (done once when :mod:`kvtheory.figures` is imported).

    Examples
    --------
    >>> import matplotlib
    >>> use_house_style()
    >>> bool(matplotlib.rcParams["figure.constrained_layout.use"])
    True
    """
    plt.rcParams.update(HOUSE_STYLE)


use_house_style()


def _ax(ax, size=(7, 3.2)):
    """``ax``, or the axes of a new figure of ``size`` inches."""
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax



def panels(plot, keys: Sequence, *, width: float = 5.5, height: float = 3.4):
    """One row of panels, ``plot(key, ax)`` drawing panel ``key``; returns the Figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> fig = panels(lambda k, ax: ax.plot([0, k]), [1, 2, 3])
    >>> len(fig.axes)
    3
    """
    keys = list(keys)
    if not keys:
        raise ValueError("panels needs at least one key")
    fig, axes = plt.subplots(1, len(keys), figsize=(width * len(keys), height),
                             layout="constrained", squeeze=False)
    for key, ax in zip(keys, axes[0]):
        plot(key, ax)
    return fig


# ===================================================================== lower-bounds chapter
