"""The claim registry: every claim of the paper (all versions) and of this project, with its check.

One ID per claim is used everywhere: the Python name ``clm_mcsf_ratio`` is the registry key, the
book label is ``clm-mcsf-ratio`` and the test is ``test_clm_mcsf_ratio``.  Each claim is defined
next to its check, in one module per book chapter (:mod:`kvtheory.claims.optimum`,
:mod:`~kvtheory.claims.mcsf`, :mod:`~kvtheory.claims.lower_bounds`, :mod:`~kvtheory.claims.ratio`,
:mod:`~kvtheory.claims.synthetic`, :mod:`~kvtheory.claims.a100`,
:mod:`~kvtheory.claims.semionline`, :mod:`~kvtheory.claims.regret`); :mod:`~kvtheory.claims.registry`
collects them and :mod:`~kvtheory.claims._run` runs and caches the checks.  These modules hold
statements, readings, the checks that gather evidence and the grading of it; the computations
they call live in the layers below.

Layer 8 of 8: may import every layer; only the command line (:mod:`kvtheory.commands`) and the
book import it.

Statuses (:data:`STATUS`), one per reading: ``proved`` (a symbolic derivation, or exhaustive over
a stated finite family), ``supported`` (numerical evidence, no counterexample, the search stated),
``fails`` (a counterexample, the smallest found, shown), ``inconclusive`` (the evidence cannot
decide; the verdict says what would).  Statuses are computed by :func:`verify`, never written;
each reading declares the statuses its check can return (:attr:`Reading.statuses`), ``verify``
refuses any other, and a check that did not pass fails only with a counterexample object
(:func:`grade`: a time-out or an error is ``inconclusive``).

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

from kvtheory.claims._core import (GRADED, METHODS, POWER_MIN, PROVENANCE, STATUS, Claim,
                                   ClaimCheck, Reading, Verdict, check_power, describe, grade)
from kvtheory.claims._power import POWER_PENDING, power_of
from kvtheory.claims.registry import CLAIMS, claim, claims_frame, claims_table
from kvtheory.claims._run import (CheckFailed, cache_dir, code_key, html_table, status_box, verdict_frame,
                   verdict_rows, verify)
from kvtheory.claims._page import (claim_anchor, claim_matrix, definitions_table, glance,
                                  power_note, power_table, status_badge, status_counts,
                                  successor_table, verdict_table)

__all__ = ["CLAIMS", "claim", "claims_table", "claims_frame", "verify", "status_box",
           "verdict_rows", "verdict_frame", "html_table", "code_key", "cache_dir", "CheckFailed", "Claim",
           "ClaimCheck", "Reading", "Verdict", "grade", "describe", "STATUS", "PROVENANCE",
           "METHODS", "GRADED", "POWER_MIN", "POWER_PENDING", "power_of", "check_power",
           "status_counts", "claim_anchor", "status_badge", "glance",
           "claim_matrix", "definitions_table", "verdict_table", "successor_table",
           "power_note", "power_table"]
