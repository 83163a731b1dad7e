"""The one confidence-interval helper of the package."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["t_halfwidth"]


def t_halfwidth(values, confidence: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval of the mean of ``values``.

    ``nan`` with fewer than two values (no spread is known); ``0.0`` when every value is the same.

    Examples
    --------
    >>> round(t_halfwidth([1.0, 2.0, 3.0]), 4)         # t(0.975, 2) * 1 / sqrt(3)
    2.4841
    >>> t_halfwidth([5.0, 5.0]), t_halfwidth([1.0])
    (0.0, nan)
    """
    from scipy import stats
    x = np.asarray(values, dtype=float)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if x.size < 2:
        return float("nan")
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return 0.0
    return float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * sd / math.sqrt(x.size))
