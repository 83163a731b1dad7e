"""The claim registry: one row per claim of the paper (all versions) and of our reconstruction.

One ID per claim is used everywhere: the Python name ``clm_mcsf_ratio`` is the registry key and
the name of its check function and test; the book label is the same with dashes
(``clm-mcsf-ratio``).  The book's registry page is generated from :data:`CLAIMS`, and
``tests/test_claims.py`` checks that every checked claim points to an existing chapter label,
check function and test.

Provenance (DIGEST's labels): ``"paper"`` (the paper states it and we have the statement),
``"second-hand"`` (known from third-party write-ups), ``"reconstruction"`` (our reading of a
claim whose details are unavailable), ``"ours"`` (a result of this project).

Status: ``"holds"`` (passes its numerical check), ``"fails"`` (a counterexample is shown),
``"partial"`` (holds under some readings only), ``"open"`` (not yet checked).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Claim", "CLAIMS", "claim", "claims_table", "PROVENANCE", "STATUS"]

PROVENANCE = ("paper", "second-hand", "reconstruction", "ours")
STATUS = ("holds", "fails", "partial", "open")


@dataclass(frozen=True)
class Claim:
    """One claim and where it is checked.

    Attributes
    ----------
    id : str
        Python-style ID, e.g. ``"clm_mcsf_ratio"``.
    title : str
        Short statement.
    versions : str
        Paper versions that make the claim (``"v1-v2"``, ``"v4-v5"``, ``"all"``, ``"-"`` for ours).
    provenance : str
        One of :data:`PROVENANCE`.
    status : str
        One of :data:`STATUS`.
    chapter : str or None
        Book chapter (path without suffix, e.g. ``"book/model"``) holding the label.
    check : str or None
        Dotted path of the check function (``"kvtheory.checks.check_ip_exact"``).
    test : str or None
        Pytest node id of the test asserting the check.
    evidence : str
        One sentence: what the check found.
    """

    id: str
    title: str
    versions: str
    provenance: str
    status: str
    chapter: str | None = None
    check: str | None = None
    test: str | None = None
    evidence: str = ""

    def __post_init__(self):
        if not self.id.startswith("clm_") or not self.id.replace("_", "").isalnum():
            raise ValueError(f"claim id must look like 'clm_word_word', got {self.id!r}")
        if self.provenance not in PROVENANCE:
            raise ValueError(f"claim {self.id}: provenance must be one of {PROVENANCE}, "
                             f"got {self.provenance!r}")
        if self.status not in STATUS:
            raise ValueError(f"claim {self.id}: status must be one of {STATUS}, got {self.status!r}")
        pointers = (self.chapter, self.check, self.test)
        if self.status != "open" and None in pointers:
            raise ValueError(f"claim {self.id}: a checked claim needs chapter, check and test")

    @property
    def label(self) -> str:
        """The book label: the ID with dashes (``clm-mcsf-ratio``)."""
        return self.id.replace("_", "-")


_C = Claim
CLAIMS: tuple[Claim, ...] = (
    # --- model, optimum and MC-SF (chapters: model, optimum, mcsf) ---------------------------
    _C("clm_ip_exact", "The time-indexed integer program computes the hindsight optimum",
       "v4-v5", "paper", "holds", "book/optimum", "kvtheory.checks.check_ip_exact",
       "tests/test_claims.py::test_clm_ip_exact",
       "IP optimum equals exhaustive search on random tiny instances; every IP schedule passes "
       "the checker."),
    _C("clm_mcsf_feasible", "MC-SF never exceeds the memory when predictions are not below "
       "the true output lengths", "v4-v5", "paper", "holds", "book/mcsf",
       "kvtheory.checks.check_mcsf_feasible", "tests/test_claims.py::test_clm_mcsf_feasible",
       "No eviction and no overflow on random instances with exact and over-predictions."),
    _C("clm_peak_points", "MC-SF's future check needs only the predicted completion rounds",
       "v4-v5", "paper", "holds", "book/mcsf", "kvtheory.checks.check_peak_points",
       "tests/test_claims.py::test_clm_peak_points",
       "Checking only completion rounds gives the same admissions as checking every round."),
    _C("clm_no_policy_beats_opt", "No online policy beats the hindsight optimum",
       "-", "ours", "holds", "book/optimum", "kvtheory.checks.check_no_policy_beats_opt",
       "tests/test_claims.py::test_clm_no_policy_beats_opt",
       "Every registered policy's schedule is valid and at least the IP optimum."),
    _C("clm_clear_all_livelock", "Clearing the whole cache on overflow (alpha-protection "
       "greedy) can livelock", "-", "ours", "holds", "book/mcsf",
       "kvtheory.checks.check_clear_all_livelock",
       "tests/test_claims.py::test_clm_clear_all_livelock",
       "Two requests that fit one at a time are evicted and readmitted forever; frequent on "
       "small random instances, never for beta-clearing or vLLM-style eviction."),
    # --- lower bounds (chapter: lower bounds) -----------------------------------------------
    _C("clm_lb_deterministic", "No deterministic online algorithm has a constant competitive "
       "ratio (Omega(sqrt n))", "v4-v5", "second-hand", "open"),
    _C("clm_lb_randomized", "No randomized online algorithm has a constant competitive ratio",
       "v1-v2", "paper", "open"),
    # --- MC-SF constant ratio (chapter: constant ratio) -------------------------------------
    _C("clm_mcsf_ratio", "MC-SF is O(1)-competitive (ratio <= 9216) when all requests arrive "
       "at 0 with equal prompts, M >= 2 max(s+o) and o <= õ <= alpha*o", "v4-v5",
       "second-hand", "open"),
    _C("clm_lemma_4_4", "Lemma 4.4: upper bound on MC-SF's total latency", "v4-v5",
       "second-hand", "open"),
    _C("clm_lemma_4_5", "Lemma 4.5: span of each power-of-two output group", "v4-v5",
       "second-hand", "open"),
    _C("clm_lemma_4_7", "Lemma 4.7: lower bound on OPT", "v4-v5", "second-hand", "open"),
    # --- synthetic replication --------------------------------------------------------------
    _C("clm_synthetic_model1", "Arrival model 1: MC-SF/OPT mean 1.005, worst 1.074, optimal "
       "in 114 of 200", "v4-v5", "second-hand", "open"),
    _C("clm_synthetic_model2", "Arrival model 2: MC-SF/OPT mean 1.047, worst 1.227", "v4-v5",
       "second-hand", "open"),
    # --- version 2 ---------------------------------------------------------------------------
    _C("clm_semionline_optimal", "A polynomial-time algorithm is exactly optimal in the "
       "semi-online model", "v1-v2", "reconstruction", "open"),
    _C("clm_identical_exact", "Identical requests: an exact polynomial algorithm", "-",
       "ours", "open"),
    _C("clm_constant_regret", "Constant regret under stochastic arrivals", "v1-v2",
       "reconstruction", "open"),
    # --- A100 -------------------------------------------------------------------------------
    _C("clm_kv_capacity", "Llama2-70B on 2 x A100-80GB holds M = 16,492 KV tokens", "v4-v5",
       "second-hand", "open"),
    _C("clm_real_latency", "On LMSYS-like traffic MC-SF has lower latency than every benchmark",
       "all", "second-hand", "open"),
    _C("clm_real_energy", "MC-SF uses less energy than practice-style benchmarks", "v1-v2",
       "paper", "open"),
    _C("clm_prediction_error", "With prediction errors 0.2/0.5/0.8 and a 10% reserve MC-SF "
       "still beats FCFS", "v4-v5", "second-hand", "open"),
)


def claim(claim_id: str) -> Claim:
    """Look a claim up by ID.

    Examples
    --------
    >>> claim("clm_ip_exact").status
    'holds'
    >>> claim("clm_ip_exact").label
    'clm-ip-exact'
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
    """The registry as rows of plain dicts (for the book's registry page).

    Examples
    --------
    >>> rows = claims_table()
    >>> rows[0]["id"], sorted(rows[0])[:3]
    ('clm_ip_exact', ['chapter', 'check', 'evidence'])
    """
    return [{**asdict(c), "label": c.label} for c in CLAIMS]
