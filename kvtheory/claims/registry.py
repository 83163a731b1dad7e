"""The registry: every claim module's CLAIMS in book order, and look-ups by ID."""

from __future__ import annotations

from kvtheory.claims import a100, lower_bounds, mcsf, optimum, ratio, regret, semionline, synthetic
from kvtheory.claims._core import Claim

__all__ = ["CLAIMS", "claim", "claims_table", "claims_frame"]

CLAIMS: tuple[Claim, ...] = (optimum.CLAIMS + mcsf.CLAIMS + lower_bounds.CLAIMS + ratio.CLAIMS
                             + synthetic.CLAIMS + a100.CLAIMS + semionline.CLAIMS + regret.CLAIMS)


def claim(claim_id: str) -> Claim:
    """Look a claim up by ID.

    Examples
    --------
    >>> claim("clm_ip_exact").provenance
    'paper'
    >>> claim("clm_nope")
    Traceback (most recent call last):
    ...
    KeyError: "no claim 'clm_nope'; known: clm_ip_exact, ..."
    """
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise KeyError(f"no claim {claim_id!r}; known: " + ", ".join(c.id for c in CLAIMS))


def claims_table() -> list[dict]:
    """The definitions as JSON-ready dicts (``id``, ``statement``, ``provenance``, ...); no check runs.

    Examples
    --------
    >>> rows = claims_table()
    >>> rows[0]["id"], sorted(rows[0])[:4]
    ('clm_ip_exact', ['chapter', 'id', 'label', 'provenance'])
    """
    return [c.row() for c in CLAIMS]


def claims_frame():
    """The definitions as a pandas DataFrame, one row per reading (the book's registry table).

    Examples
    --------
    >>> claims_frame().columns.tolist()
    ['id', 'title', 'versions', 'provenance', 'reading', 'method', 'chapter']
    """
    import pandas as pd
    return pd.DataFrame([{"id": c.id, "title": c.title, "versions": c.versions,
                          "provenance": c.provenance, "reading": r.name, "method": r.method,
                          "chapter": c.chapter.removeprefix("book/")}
                         for c in CLAIMS for r in c.readings])
