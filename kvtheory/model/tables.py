"""Rows as text and as JSON: the one table formatter and JSON converter of the package."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["format_table", "to_jsonable"]


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """Plain-text table of dict rows (floats with 3 decimals, ``None`` as ``-``).

    Examples
    --------
    >>> print(format_table([{"policy": "mc-sf", "latency": 3.14159}, {"policy": "x", "latency": None}]))
    policy  latency
    mc-sf     3.142
    x             -
    """
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def fmt(v):
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(columns)]

    def line(vals):
        return "  ".join(v.ljust(w) if j == 0 else v.rjust(w)
                         for j, (v, w) in enumerate(zip(vals, widths))).rstrip()
    return "\n".join([line(columns)] + [line(r) for r in cells])


def to_jsonable(value):
    """Plain JSON values: numpy scalars to Python, non-finite floats to ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.int64(3), "b": [np.float64(0.5), float("nan")], 1: (True,)})
    {'a': 3, 'b': [0.5, None], '1': [True]}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
