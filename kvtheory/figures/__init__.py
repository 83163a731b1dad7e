"""Every figure of the book, in one house style: functions that take rows or results and an
optional ``ax`` and return the matplotlib ``Axes`` (or ``Figure``) they drew on.

:mod:`~kvtheory.figures.style` (the house style, applied on import), :mod:`~kvtheory.figures.plotting`
(schedules, ratios, lower bounds, regret, brackets), :mod:`~kvtheory.figures.a100` (the A100
chapter), :mod:`~kvtheory.figures.theory` (ratios, regret, hardness, the preemption game) and
:mod:`~kvtheory.figures.studies` (the synthetic replication, the published setup, scaling) and
:mod:`~kvtheory.figures.successors_b` (the successors' fluid and token-budget models) and
:mod:`~kvtheory.figures.capacity` (capacity under an SLO).  Every name is re-exported here: ``from kvtheory.figures import gantt``.

Layer 7 of 8: may import every layer below; nothing below imports it (a library function never
draws).
"""

from kvtheory.figures.a100 import *  # noqa: F401,F403
from kvtheory.figures.capacity import capacity_figure  # noqa: F401
from kvtheory.figures.a100 import __all__ as _a100_all
from kvtheory.figures.plotting import *  # noqa: F401,F403
from kvtheory.figures.plotting import __all__ as _plotting_all
from kvtheory.figures.successors_b import *  # noqa: F401,F403
from kvtheory.figures.successors_b import __all__ as _successors_b_all
from kvtheory.figures.studies import *  # noqa: F401,F403
from kvtheory.figures.studies import __all__ as _studies_all
from kvtheory.figures.style import HOUSE_STYLE, panels, use_house_style  # noqa: F401
from kvtheory.figures.theory import *  # noqa: F401,F403
from kvtheory.figures.theory import __all__ as _theory_all

__all__ = ["HOUSE_STYLE", "use_house_style", "panels", "capacity_figure", *_plotting_all, *_a100_all, *_studies_all,
           *_theory_all, *_successors_b_all]
