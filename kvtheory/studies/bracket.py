"""How tightly the optimum is bracketed at the paper's size: area bound against peak rows.

Reads the tidy rows of :func:`kvtheory.studies.replication.run_trials` run with ``bound="peak"`` (they
carry ``volume_bound``, ``peak_bound``, ``lower_bound`` and ``opt``, the best schedule known) and
summarises, per model and policy, the three sides of the bracket (``benchmarks/bracket_run.py``
writes such rows to ``book/data/bracket_<model>.json``).

For a policy with total latency ``T`` in a trial with best known schedule ``U`` and proven lower
bound ``L``, ``T / U <= T / OPT <= T / L``; the *bracket width* of a mean is
``mean(T / L) / mean(T / U) - 1`` (issue target: at most 0.05).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from kvtheory.studies.replication import model_policy_keys

__all__ = ["load_rows", "bracket_summary"]


def load_rows(path: str | Path) -> tuple[dict, list[dict]]:
    """Read ``{"meta": ..., "rows": [...]}`` as written by ``benchmarks/bracket_run.py``.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "b.json")
    >>> _ = open(p, "w").write('{"meta": {"trials": 1}, "rows": []}')
    >>> load_rows(p)
    ({'trials': 1}, [])
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read bracket rows from {path}: {exc}") from None
    if not isinstance(data, dict) or "rows" not in data:
        raise ValueError(f"{path}: expected an object with 'meta' and 'rows'")
    return data.get("meta", {}), list(data["rows"])


def bracket_summary(rows: Sequence[dict]) -> list[dict]:
    """Per (model, policy): mean ``T/U``, mean ``T/L`` with the area bound and with peak rows.

    ``width_area`` and ``width_peak`` are the bracket widths ``mean(T/L) / mean(T/U) - 1``;
    ``closed`` is the share of the area bracket's width that the peak rows remove;
    ``proven`` counts trials whose bound meets the best schedule (proven optima).

    Examples
    --------
    >>> rows = [{"model": "model1", "policy": "mc-sf", "total_latency": 110, "opt": 100,
    ...          "volume_bound": 50, "peak_bound": 80, "proven": False, "livelock": False}]
    >>> s = bracket_summary(rows)[0]
    >>> s["mean"], s["mean_upper_area"], s["mean_upper"], s["width_peak"]
    (1.1, 2.2, 1.375, 0.25)
    >>> round(s["closed"], 4)            # (2.2 - 1.375) / (2.2 - 1.1)
    0.75
    """
    out = []
    for model, pol in model_policy_keys(rows):
        rs = [r for r in rows if r["model"] == model and r["policy"] == pol and not r["livelock"]]
        if not rs:
            continue
        T = np.array([r["total_latency"] for r in rs], dtype=float)
        U = np.array([r["opt"] for r in rs], dtype=float)
        area = np.array([max(r["volume_bound"], 1) for r in rs], dtype=float)
        peak = np.array([max(r["volume_bound"], r["peak_bound"] or 0) for r in rs], dtype=float)
        proven = np.array([bool(r["proven"]) for r in rs])
        peak = np.where(proven, U, peak)
        lo, up_area, up = (T / U).mean(), (T / area).mean(), (T / peak).mean()
        out.append({"model": model, "policy": pol, "trials": len(rs), "proven": int(proven.sum()),
                    "mean": float(lo), "mean_upper_area": float(up_area), "mean_upper": float(up),
                    "width_area": float(up_area / lo - 1), "width_peak": float(up / lo - 1),
                    "closed": float((up_area - up) / (up_area - lo)) if up_area > lo else 1.0,
                    "opt_gap_area": float((U / area).mean() - 1),
                    "opt_gap_peak": float((U / peak).mean() - 1)})
    return out
