"""The verdict vocabulary and the objects every claim module builds on.

A *claim* is one statement of the paper (any version) or of this project.  It has one or more
*readings*: the setups under which it is checked (a paper statement whose details are not
available can be read in several ways, and an experiment can be run on the paper's engine or on
ours).  Checking a claim gives one :class:`Verdict` per reading, with one of four statuses:

``proved``
    a symbolic derivation, or exhaustive over a stated finite family;
``supported``
    numerical evidence and no counterexample, the search stated;
``fails``
    a counterexample (the smallest found) is shown;
``inconclusive``
    the evidence cannot decide (seed-dependent, benchmark unattainable, setup unknown); the
    verdict says what would decide it.

A status is never typed in: it is computed by :func:`grade` (or by a claim's own rule) from what
its check found.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

__all__ = ["STATUS", "PROVENANCE", "METHODS", "GRADED", "POWER_MIN", "ClaimCheck", "Reading",
           "Verdict", "with_statuses", "check_power",
           "Claim", "grade"]

STATUS = ("proved", "supported", "fails", "inconclusive")
PROVENANCE = ("paper", "second-hand", "reconstruction", "ours")
#: How a reading is checked: ``exhaustive``/``symbolic`` can prove, ``sample``/``measured`` support.
METHODS = ("exhaustive", "symbolic", "sample", "measured")
#: The least power (share of runs in which the search found a planted violation) under which a
#: ``sample`` or ``measured`` reading that passed can be ``supported``.
POWER_MIN = 0.8


def check_power(power: Mapping | None) -> dict | None:
    """A power record checked and copied: ``{"planted": str, "found": k, "of": m}``, 0 <= k <= m.

    *Power* is how often the same search, at the same sizes, budget and seeds, found a
    violation planted in a counterpart target (a policy or bound the claim does not cover).

    Examples
    --------
    >>> check_power({"planted": "longest first", "found": 1, "of": 2})
    {'planted': 'longest first', 'found': 1, 'of': 2}
    >>> check_power(None) is None
    True
    >>> check_power({"planted": "x", "found": 3, "of": 2})
    Traceback (most recent call last):
    ...
    ValueError: power must be {'planted': non-empty str, 'found': k, 'of': m} with 0 <= k <= m and m >= 1, got {'planted': 'x', 'found': 3, 'of': 2}
    """
    if power is None:
        return None
    p = dict(power)
    ok = (set(p) == {"planted", "found", "of"} and isinstance(p["planted"], str)
          and p["planted"] and all(isinstance(p[k], int) and not isinstance(p[k], bool)
                                   for k in ("found", "of"))
          and 0 <= p["found"] <= p["of"] and p["of"] >= 1)
    if not ok:
        raise ValueError("power must be {'planted': non-empty str, 'found': k, 'of': m} with "
                         f"0 <= k <= m and m >= 1, got {power}")
    return p


@dataclass(frozen=True)
class ClaimCheck:
    """Raw outcome of a claim's check function (before grading into a :class:`Verdict`).

    Attributes
    ----------
    claim : str
        Claim ID.
    holds : bool
        Whether every case passed.
    cases : int
        Number of cases checked.
    worst : dict
        The worst case seen (its figures; for a failure, the counterexample's).
    summary : str
        One sentence for the book.
    counterexample : Instance or None
        An instance on which the claim fails, if one was found.
    details : dict
        Further per-check figures.

    Examples
    --------
    >>> ClaimCheck("clm_x", True, 3, {}, "three cases").holds
    True
    """

    claim: str
    holds: bool
    cases: int
    worst: dict
    summary: str
    counterexample: object = None
    details: Mapping = field(default_factory=dict)


#: The statuses :func:`grade` can give a reading of each method (a check with its own rule
#: declares its statuses on the :class:`Reading`).
GRADED = {"exhaustive": ("proved", "fails", "inconclusive"),
          "symbolic": ("proved", "fails", "inconclusive"),
          "sample": ("supported", "fails", "inconclusive"),
          "measured": ("supported", "fails", "inconclusive")}


@dataclass(frozen=True)
class Reading:
    """One setup under which a claim is checked.

    Attributes
    ----------
    name : str
        Short key, unique within the claim (``"non-preemptive"``, ``"paper engine, 50/s"``).
    setup : str
        What exactly is assumed: instance family, engine, benchmark, parameters.
    method : str
        One of :data:`METHODS`.
    provenance : str, optional
        Where this reading comes from (one of :data:`PROVENANCE`); default: its claim's.  A
        reading of ours under a successor paper's claim (MC-SF measured where the paper
        speaks of its own algorithm) says ``"ours"``, so a table never shows our finding as
        what that paper states.
    statuses : tuple of str, optional
        The statuses the reading's check can return (default: those :func:`grade` can give
        its method, :data:`GRADED`).  :func:`kvtheory.claims.verify` refuses a verdict whose
        status is not declared, and the tests reach every declared status.  A check that can
        return one status only decides nothing: that status must be ``inconclusive``, unless
        the check is a proof (``proved`` under an ``exhaustive`` or ``symbolic`` method).

    Examples
    --------
    >>> Reading("random tiny", "n <= 4, M <= 8", "sample").method
    'sample'
    >>> Reading("random tiny", "n <= 4, M <= 8", "sample").statuses
    ('supported', 'fails', 'inconclusive')
    >>> Reading("x", "y", "guess")
    Traceback (most recent call last):
    ...
    ValueError: reading 'x': method must be one of ('exhaustive', 'symbolic', 'sample', 'measured'), got 'guess'
    >>> Reading("x", "y", "sample", statuses=("supported",))
    Traceback (most recent call last):
    ...
    ValueError: reading 'x': a check with one status decides nothing: it must be ('inconclusive',) (or ('proved',) for an exhaustive or symbolic proof), got ('supported',)
    """

    name: str
    setup: str
    method: str = "sample"
    statuses: tuple[str, ...] | None = None
    provenance: str | None = None

    def __post_init__(self):
        if self.provenance is not None and self.provenance not in PROVENANCE:
            raise ValueError(f"reading {self.name!r}: provenance must be one of {PROVENANCE}, "
                             f"got {self.provenance!r}")
        if self.method not in METHODS:
            raise ValueError(f"reading {self.name!r}: method must be one of {METHODS}, "
                             f"got {self.method!r}")
        if self.statuses is None:
            object.__setattr__(self, "statuses", GRADED[self.method])
        st = tuple(self.statuses)
        object.__setattr__(self, "statuses", st)
        if not st or any(x not in STATUS for x in st) or len(set(st)) != len(st):
            raise ValueError(f"reading {self.name!r}: statuses must be distinct members of "
                             f"{STATUS}, got {st}")
        proof = self.method in ("exhaustive", "symbolic") and st == ("proved",)
        if len(st) == 1 and st != ("inconclusive",) and not proof:
            raise ValueError(f"reading {self.name!r}: a check with one status decides nothing: "
                             f"it must be ('inconclusive',) (or ('proved',) for an exhaustive "
                             f"or symbolic proof), got {st}")


@dataclass(frozen=True)
class Verdict:
    """The graded outcome of one reading of one claim.

    Attributes
    ----------
    claim : str
        Claim ID.
    reading : str
        The reading's name.
    status : str
        One of :data:`STATUS`.
    evidence : str
        One line: what the check found (figures, worst case, smallest counterexample).
    searched : str
        What was searched: instances, generator, adversarial budget, seeds.
    seconds : float
        Wall time of the check (shared between the readings one check serves).
    figures : dict
        Evidence figures (JSON-serialisable).
    counterexample : str or None
        The smallest counterexample found, as text, when the status is ``fails``.
    decide : str
        For ``inconclusive``: what would decide it (empty otherwise).
    quick : bool
        Whether the check ran in quick mode.
    full_status : bool
        In quick mode: whether the quick run gives the full run's status (its evidence is the
        same kind and decides the same way); ``False`` means the full run may differ.
    power : dict or None
        For a ``sample`` or ``measured`` reading: ``{"planted": what was planted, "found": k,
        "of": m}``, the same search run against a planted counterpart found its violation in
        ``k`` of ``m`` runs (:func:`check_power`); ``None`` for ``symbolic`` and
        ``exhaustive`` readings and for readings that do not report power yet.

    Examples
    --------
    >>> v = Verdict("clm_x", "only", "supported", "no counterexample in 10 cases", "10 random")
    >>> v.status, v.row()["id"]
    ('supported', 'clm_x')
    >>> Verdict("clm_x", "only", "holds", "", "")
    Traceback (most recent call last):
    ...
    ValueError: clm_x (only): status must be one of ('proved', 'supported', 'fails', 'inconclusive'), got 'holds'
    """

    claim: str
    reading: str
    status: str
    evidence: str
    searched: str
    seconds: float = 0.0
    figures: Mapping = field(default_factory=dict)
    counterexample: str | None = None
    decide: str = ""
    quick: bool = False
    full_status: bool = True
    power: Mapping | None = None

    def __post_init__(self):
        where = f"{self.claim} ({self.reading})"
        try:
            object.__setattr__(self, "power", check_power(self.power))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if self.status not in STATUS:
            raise ValueError(f"{where}: status must be one of {STATUS}, got {self.status!r}")
        if self.status == "fails" and not self.counterexample:
            raise ValueError(f"{where}: a failing verdict must show its counterexample")
        if self.status == "inconclusive" and not self.decide:
            raise ValueError(f"{where}: an inconclusive verdict must say what would decide it")
        if not math.isfinite(self.seconds) or self.seconds < 0:
            raise ValueError(f"{where}: seconds must be finite and >= 0, got {self.seconds}")

    def row(self) -> dict:
        """A JSON-ready dict (``id``, ``reading``, ``status``, ``evidence``, ``seconds``, ...)."""
        return {"id": self.claim, "reading": self.reading, "status": self.status,
                "evidence": self.evidence, "searched": self.searched,
                "seconds": round(float(self.seconds), 3), "counterexample": self.counterexample,
                "decide": self.decide or None, "quick": self.quick,
                "full_status": self.full_status, "figures": _plain(self.figures),
                "power": _plain(self.power) if self.power is not None else None}


def _plain(x):
    """JSON-ready copy of nested figures (numpy scalars to Python, keys to str)."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        try:
            return x.item()
        except (ValueError, TypeError):
            pass
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


@dataclass(frozen=True)
class Claim:
    """One claim, its readings and the function that checks them all.

    Attributes
    ----------
    id : str
        ``clm_word_word``; the book label is the same with dashes, the test is ``test_<id>``.
    title : str
        Short name.
    statement : str
        The exact statement with its conditions.
    versions : str
        Paper versions making it (``"v1-v2"``, ``"v4-v5"``, ``"all"``, ``"-"`` for ours).
    provenance : str
        One of :data:`PROVENANCE`.
    chapter : str
        Book chapter holding the label (``"book/mcsf"``).
    readings : tuple of Reading
    check : callable
        ``check(quick: bool) -> sequence of Verdict``, one per reading, in order.
    test : str
        Pytest node id of the test asserting the check.
    source : str
        The paper the claim is checked against, as an arXiv id (``"2502.07115"``, the paper this
        project is about; a successor paper's id for the claims of the part *After the paper*).
    machine_dependent : bool
        Whether a verdict can depend on the machine (timings, time-limited solvers): its
        evidence then names the machine it was measured on, and cached verdicts are keyed by
        the machine (:func:`kvtheory.model.cache.code_key`).

    Examples
    --------
    >>> c = Claim("clm_demo", "demo", "1 + 1 = 2", "-", "ours", "book/model",
    ...           (Reading("only", "integers", "symbolic"),), lambda quick: (), "tests/x.py::t")
    >>> c.label, c.row()["readings"][0]["method"]
    ('clm-demo', 'symbolic')
    """

    id: str
    title: str
    statement: str
    versions: str
    provenance: str
    chapter: str
    readings: tuple[Reading, ...]
    check: Callable[[bool], tuple[Verdict, ...]]
    test: str
    source: str = "2502.07115"
    machine_dependent: bool = False

    def __post_init__(self):
        if not self.id.startswith("clm_") or not self.id.replace("_", "").isalnum():
            raise ValueError(f"claim id must look like 'clm_word_word', got {self.id!r}")
        if not re.fullmatch(r"\d{4}\.\d{5}", self.source):
            raise ValueError(f"claim {self.id}: source must be an arXiv id like '2502.07115', "
                             f"got {self.source!r}")
        if self.provenance not in PROVENANCE:
            raise ValueError(f"claim {self.id}: provenance must be one of {PROVENANCE}, "
                             f"got {self.provenance!r}")
        names = [r.name for r in self.readings]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"claim {self.id}: readings must be non-empty with unique names")
        from dataclasses import replace
        object.__setattr__(self, "readings", tuple(
            r if r.provenance else replace(r, provenance=self.provenance) for r in self.readings))

    @property
    def label(self) -> str:
        """The book label: the ID with dashes (``clm-mcsf-ratio``)."""
        return self.id.replace("_", "-")

    def row(self) -> dict:
        """The definition as a JSON-ready dict (no check is run)."""
        return {"id": self.id, "title": self.title, "statement": self.statement,
                "versions": self.versions, "provenance": self.provenance,
                "chapter": self.chapter, "label": self.label, "test": self.test,
                "arxiv": self.source, "machine_dependent": self.machine_dependent,
                "readings": [{"name": r.name, "setup": r.setup, "method": r.method,
                              "provenance": r.provenance, "statuses": list(r.statuses)}
                             for r in self.readings]}


def grade(claim: str, reading: Reading, rep: ClaimCheck, *, searched: str,
          evidence: str | None = None, quick: bool = False, full_status: bool | None = None,
          seconds: float = 0.0, figures: Mapping | None = None,
          reverify: Callable[[object], bool] | None = None,
          power: Mapping | None = None) -> Verdict:
    """Grade a check's outcome under a reading by a fixed rule.

    The rule, in order:

    0. the check passed but compared no case (``rep.cases == 0``: every solve unproven, every
       run livelocked): ``inconclusive`` (zero evidence is not evidence);
    1. the check passed: an ``exhaustive`` or ``symbolic`` reading is ``proved``; a
       ``sample`` or ``measured`` one is ``supported`` if ``power`` is not given (readings that
       do not report power yet, listed in :data:`kvtheory.claims.POWER_PENDING`) or if the same
       search found the planted violation in at least :data:`POWER_MIN` of its runs, and
       ``inconclusive`` otherwise (the search could not have found a violation at these sizes);
    2. the check did not pass and shows a counterexample object (``rep.counterexample``: an
       instance, a schedule or explicit figures) that ``reverify`` (an independent check,
       when given) confirms: ``fails``, the counterexample shown;
    3. otherwise (no counterexample: a time-out, an error, a trend not seen, or a
       counterexample that does not re-verify): ``inconclusive``, with the check's summary
       as the reason and "a counterexample object" as what would decide it.  A check that
       did not pass never fails without its counterexample.

    In quick mode ``full_status`` defaults to whether the status must be the full run's: a
    quick sample is the start of the full sample (same seeds), so a counterexample found quickly
    is found by the full run too, while a quick ``supported`` or ``proved`` covers less.

    Examples
    --------
    >>> r = Reading("tiny", "all instances with n <= 2", "exhaustive")
    >>> grade("clm_x", r, ClaimCheck("clm_x", True, 5, {}, "ok"), searched="5").status
    'proved'
    >>> bad = ClaimCheck("clm_x", False, 5, {"n": 2}, "broken", counterexample="2 requests")
    >>> v = grade("clm_x", Reading("s", "random", "sample"), bad, searched="5")
    >>> v.status, v.counterexample
    ('fails', '2 requests')
    >>> timeout = ClaimCheck("clm_x", False, 5, {"n": 2}, "solver time-out at n=2")
    >>> v = grade("clm_x", Reading("s", "random", "sample"), timeout, searched="5")
    >>> v.status, v.evidence
    ('inconclusive', 'no counterexample object: solver time-out at n=2')
    >>> grade("clm_x", r, bad, searched="5", reverify=lambda ce: False).status
    'inconclusive'
    >>> grade("clm_x", r, ClaimCheck("clm_x", True, 0, {}, "all timed out"), searched="0").status
    'inconclusive'
    >>> ok = ClaimCheck("clm_x", True, 5, {}, "ratio <= 48")
    >>> s = Reading("s", "random", "sample")
    >>> v = grade("clm_x", s, ok, searched="5", power={"planted": "idler", "found": 0, "of": 3})
    >>> v.status, v.power["found"]
    ('inconclusive', 0)
    >>> grade("clm_x", s, ok, searched="5", power={"planted": "idler", "found": 3, "of": 3}).status
    'supported'

    Parameters
    ----------
    power : mapping, optional
        ``{"planted": what was planted, "found": k, "of": m}`` (:func:`check_power`): the same
        search, at the same sizes, budget and seeds, run against a planted counterpart found
        its violation in ``k`` of ``m`` runs.  Only for ``sample`` and ``measured`` readings.
    """
    decide = ""
    ce = None
    text = evidence or rep.summary
    power = check_power(power)
    if power is not None and reading.method not in ("sample", "measured"):
        raise ValueError(f"{claim} ({reading.name}): power is for sample and measured readings, "
                         f"not {reading.method!r}")
    if rep.holds and rep.cases == 0:
        status = "inconclusive"
        text = "no case compared: " + text
        decide = ("at least one case compared: a check that completes on some instance (a "
                  "proven optimum, a run that finishes), e.g. with a longer time limit or "
                  "smaller instances")
    elif rep.holds and power is not None and power["found"] < POWER_MIN * power["of"]:
        status = "inconclusive"
        text = (f"{text}; but the same search could not find a planted violation at these "
                f"sizes ({power['planted']}: found in {power['found']} of {power['of']} runs)")
        decide = (f"a search that finds the planted violation ({power['planted']}) at these "
                  f"sizes in at least {POWER_MIN:.0%} of its runs, e.g. larger sizes or a "
                  f"larger budget, and then none for the claim's target")
    elif rep.holds:
        status = "proved" if reading.method in ("exhaustive", "symbolic") else "supported"
    elif rep.counterexample is None:
        status = "inconclusive"
        text = "no counterexample object: " + text
        decide = ("a counterexample object re-verified by the independent checker (the check "
                  "did not pass, but a time-out, an error or a missing trend refutes nothing)")
    elif reverify is not None and not reverify(rep.counterexample):
        status = "inconclusive"
        text = "the counterexample did not re-verify: " + text
        decide = "a counterexample that the independent check confirms"
    else:
        status = "fails"
        ce = describe(rep.counterexample)
    if full_status is None:
        full_status = (not quick) or status == "fails"
    return Verdict(claim, reading.name, status, text, searched, seconds,
                   dict(figures if figures is not None else rep.worst), ce, decide=decide,
                   quick=quick, full_status=full_status, power=power)


def describe(instance) -> str:
    """A one-line text of an instance (``M`` and every request ``(a, s, o)``).

    Examples
    --------
    >>> from kvtheory import Instance
    >>> describe(Instance.from_arrays([0, 1], [2, 1], [3, 1], memory=6))
    'M=6: (a=0, s=2, o=3), (a=1, s=1, o=1)'
    """
    if instance is None:
        return ""
    if not hasattr(instance, "arrival"):
        return str(instance)
    reqs = ", ".join(f"(a={int(a)}, s={int(s)}, o={int(o)})" + (
        f" pred {int(p)}" if p != o else "")
        for a, s, o, p in zip(instance.arrival, instance.prompt, instance.output,
                              instance.prediction))
    return f"M={instance.memory}: {reqs}"


def with_statuses(claims, statuses) -> tuple:
    """``claims`` with each reading's declared statuses taken from ``statuses`` where it lists them.

    ``statuses`` maps ``(claim id, reading name)`` to the statuses that reading's own rule can
    return; readings it does not list keep theirs.

    Examples
    --------
    >>> c = Claim("clm_demo", "demo", "s", "-", "ours", "book/model",
    ...           (Reading("r", "x", "measured"),), lambda quick: (), "tests/x.py::t")
    >>> with_statuses((c,), {("clm_demo", "r"): ("supported", "inconclusive")})[0].readings[0].statuses
    ('supported', 'inconclusive')
    """
    from dataclasses import replace
    return tuple(replace(c, readings=tuple(replace(r, statuses=statuses.get((c.id, r.name),
                                                                            r.statuses))
                                           for r in c.readings)) for c in claims)
