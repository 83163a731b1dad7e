"""The claim registry: every claim of the paper (all versions) and of this project, with its check.

One ID per claim is used everywhere: the Python name ``clm_mcsf_ratio`` is the registry key, the
book label is ``clm-mcsf-ratio`` and the test is ``test_clm_mcsf_ratio``.  Each claim is defined
next to its check, in one module per book chapter (:mod:`kvtheory.claims.optimum`,
:mod:`~kvtheory.claims.mcsf`, :mod:`~kvtheory.claims.lower_bounds`, :mod:`~kvtheory.claims.ratio`,
:mod:`~kvtheory.claims.synthetic`, :mod:`~kvtheory.claims.a100`,
:mod:`~kvtheory.claims.semionline`, :mod:`~kvtheory.claims.regret`).  The library layer never
imports this package.

Statuses (:data:`STATUS`), one per reading: ``proved`` (a symbolic derivation, or exhaustive over
a stated finite family), ``supported`` (numerical evidence, no counterexample, the search stated),
``fails`` (a counterexample, the smallest found, shown), ``inconclusive`` (the evidence cannot
decide; the verdict says what would).  Statuses are computed by :func:`verify`, never written.

Provenance (:data:`PROVENANCE`): ``paper`` (the paper states it and we have the statement),
``second-hand`` (known from third-party summaries), ``reconstruction`` (our reading of a claim
whose details are unavailable), ``ours`` (a result of this project).

Examples
--------
>>> claim("clm_ip_exact").label
'clm-ip-exact'
>>> [r.name for r in claim("clm_lb_deterministic").readings]
['non-preemptive', 'preemptive (evict and recompute)']
"""

from __future__ import annotations

from . import a100, lower_bounds, mcsf, optimum, ratio, regret, semionline, synthetic
from ._core import (METHODS, PROVENANCE, STATUS, Claim, ClaimCheck, Reading, Verdict, describe,
                    grade)
from ._run import (CheckFailed, cache_dir, code_key, html_table, status_box, verdict_frame,
                   verdict_rows, verify)

__all__ = ["CLAIMS", "claim", "claims_table", "claims_frame", "verify", "status_box",
           "verdict_rows", "verdict_frame", "html_table", "code_key", "cache_dir", "CheckFailed", "Claim",
           "ClaimCheck", "Reading", "Verdict", "grade", "describe", "STATUS", "PROVENANCE",
           "METHODS"]

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
