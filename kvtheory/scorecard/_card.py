"""Grading a policy: the items of the scorecard, each a :class:`~kvtheory.claims.Verdict`.

Items (``Verdict.claim`` is the item's key, ``Verdict.reading`` its setup):

``valid``
    every run ends in a schedule that passes :func:`kvtheory.check_schedule`: the policy never
    raises, answers in time, starts only waiting requests, evicts only running ones, keeps
    every round within ``M`` and keeps making progress.  ``fails`` shows the smallest invalid
    instance found (requests dropped while it still fails), what the policy did, the round and
    the request; power: the same sample finds a violation of a policy that admits everything.
``never-idles``
    no idle round (:data:`~kvtheory.scorecard._guard.IDLE_RULE`) in the same runs; power: a
    policy that idles at odd rounds.
``ratio``
    the worst ratio to the exact optimum at small ``n`` and the worst proven ratio as ``n``
    doubles, graded by :func:`kvtheory.claims.ratio.ratio_trend_status` against a stated
    bound (the paper's 9216 by default); power: the same search pointed at longest-first.

A policy that stops a run (raises, answers late, starts or evicts the wrong request, overflows,
stalls, livelocks) gets each item whose runs it stopped graded ``fails`` with that one line;
the other items are still graded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from kvtheory.claims._core import POWER_MIN, Verdict, describe
from kvtheory.claims.ratio import ratio_trend_status
from kvtheory.engines.policies.planted import longest_first
from kvtheory.model.cells import run_cells
from kvtheory.scorecard._guard import IDLE_RULE, Limits, run_guarded
from kvtheory.scorecard._items import FULL, QUICK, Budget, ratio_rows, sample_runs, shrink
from kvtheory.scorecard._planted import admit_all, idle_on_odd_rounds
from kvtheory.theory.ratio import RATIO_BOUND

__all__ = ["Scorecard", "scorecard", "ITEMS", "PLANTED"]

#: The items, in order: key -> title.
ITEMS = {"valid": "every schedule is valid",
         "never-idles": "never idles while a request fits",
         "ratio": "ratio to the optimum"}
#: The planted counterpart of each item, pointed at by the same search to measure its power.
PLANTED = {"valid": ("admits every waiting request whatever the memory", admit_all),
           "never-idles": ("MC-SF that idles at odd rounds", idle_on_odd_rounds),
           "ratio": ("longest predicted output first", longest_first)}


@dataclass(frozen=True)
class Scorecard:
    """The graded items of one policy.

    Attributes
    ----------
    policy : str
        The policy's label.
    items : tuple of Verdict
        One per item of :data:`ITEMS` (``Verdict.claim`` is the item's key).
    quick : bool
    seconds : float
        Wall time of the whole scorecard.
    limits : dict
        The limits a run was held to.

    Examples
    --------
    >>> card = Scorecard("p", (Verdict("valid", "r", "supported", "ok", "1 run"),), True, 1.0)
    >>> card["valid"].status, card.to_json()["items"][0]["item"]
    ('supported', 'valid')
    """

    policy: str
    items: tuple
    quick: bool
    seconds: float
    limits: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> Verdict:
        return next(v for v in self.items if v.claim == key)

    def to_json(self) -> dict:
        """A JSON-ready dict: the policy, the limits, one row per item."""
        rows = []
        for v in self.items:
            row = v.row()
            row["item"] = row.pop("id")
            rows.append(row)
        return {"policy": self.policy, "quick": self.quick,
                "seconds": round(self.seconds, 1), "limits": self.limits, "items": rows}

    def to_markdown(self) -> str:
        """A Markdown report: a status table, then each item's evidence and counterexample."""
        out = [f"# Scorecard: {self.policy}", "",
               f"{'Quick' if self.quick else 'Full'} run, {self.seconds:.1f} s. Limits: "
               f"{self.limits.get('text', '')}.", "", "| item | status | power | evidence |",
               "|---|---|---|---|"]
        for v in self.items:
            pw = f"{v.power['found']}/{v.power['of']}" if v.power else "-"
            ev = v.evidence.replace("|", "/")
            out.append(f"| {v.claim} | **{v.status}** | {pw} | {ev} |")
        for v in self.items:
            out += ["", f"## {v.claim}: {ITEMS.get(v.claim, '')} ({v.status})", "",
                    f"- setup: {v.reading}", f"- searched: {v.searched}",
                    f"- evidence: {v.evidence}"]
            if v.power:
                out.append(f"- power: the same search found the planted violation "
                           f"({v.power['planted']}) in {v.power['found']} of {v.power['of']} runs")
            if v.counterexample:
                out.append(f"- counterexample: {v.counterexample}")
            if v.decide:
                out.append(f"- would decide it: {v.decide}")
        return "\n".join(out) + "\n"

    def dumps(self) -> str:
        """:meth:`to_json` as text."""
        return json.dumps(self.to_json(), indent=1)


def _policy_of(target):
    if isinstance(target, str):
        from kvtheory.scorecard._load import load_policy
        return load_policy(target)[0]
    return target


def _cell(part: str, target, seed: int, budget: Budget, limits: Limits, label: str):
    """One unit of work (module level, so :func:`run_cells` can send it to a process)."""
    policy = _policy_of(target)
    if part == "sample":
        return sample_runs(policy, seed, budget, limits, label=label)
    if part == "ratio":
        return ratio_rows(policy, seed, budget, limits, label=label)
    if part in ("power valid", "power never-idles"):
        runs = sample_runs(policy, seed, budget, limits, label=label, stop_early=True)
        return [(run.fault is not None, run.idle is not None) for _, run in runs]
    raise ValueError(f"unknown part {part!r}")


def _power(item: str, found: int, of: int) -> dict:
    return {"planted": PLANTED[item][0], "found": int(found), "of": int(of)}


def _status_from_power(power: dict) -> str:
    return "supported" if power["found"] >= POWER_MIN * power["of"] else "inconclusive"


def _grade_sample(item: str, policy, runs, power: dict, limits: Limits, label: str, searched: str,
                  quick: bool, seconds: float) -> Verdict:
    """Grade ``valid`` or ``never-idles`` from the policy's runs."""
    setup = ("random instances (arrivals, heterogeneous prompts, exact and ±50 % noisy "
             "predictions, tight and loose memory) and the book's adversarial families; "
             f"limits: {limits.describe()}")
    if item == "never-idles":
        setup += f"; {IDLE_RULE}"
    common = dict(claim=item, reading=setup, searched=searched, quick=quick, seconds=seconds,
                  full_status=not quick, power=power)
    idle = [(inst, run) for inst, run in runs if run.idle is not None]
    bad = [(inst, run) for inst, run in runs if run.fault is not None]
    if item == "never-idles" and idle:
        inst, run = min(idle, key=lambda x: x[0].n)
        small = shrink(inst, lambda i: run_guarded(i, policy, limits,
                                                   label=label).idle is not None)
        w = run_guarded(small, policy, limits, label=label).idle
        return Verdict(status="fails", evidence=f"{len(idle)} of {len(runs)} runs idle; "
                       f"smallest witness: {w.line()}",
                       counterexample=f"{describe(small)}; {w.line()}", **common)
    if bad:
        inst, run = min(bad, key=lambda x: x[0].n)
        kind = run.fault.kind
        small, line = inst, run.fault.line
        if kind not in ("slow",):
            def same(i):
                f = run_guarded(i, policy, limits, label=label).fault
                return f is not None and f.kind == kind
            small = shrink(inst, same)
            line = run_guarded(small, policy, limits, label=label).fault.line
        what = ("stopped without a valid schedule" if item == "valid"
                else "stopped, so never-idles cannot be checked")
        return Verdict(status="fails", evidence=f"{len(bad)} of {len(runs)} runs {what}: "
                       f"{line}", counterexample=f"{describe(small)}; {line}", **common)
    status = _status_from_power(power)
    ev = (f"no {'invalid schedule' if item == 'valid' else 'idle round'} in {len(runs)} runs; "
          f"the planted violation found in {power['found']} of {power['of']} runs")
    decide = "" if status == "supported" else (
        f"a search that finds the planted violation in at least {POWER_MIN:.0%} of its runs "
        f"(more seeds or sizes)")
    return Verdict(status=status, evidence=ev, decide=decide, **common)


def _grade_ratio(policy, got: dict, planted: dict, bound: float, limits: Limits, label: str,
                 searched: str, quick: bool, seconds: float) -> Verdict:
    """Grade ``ratio`` from the policy's rows and the planted policy's."""
    setup = ("all requests at round 0; n <= the first size against the exact optimum "
             "(heterogeneous prompts), then conditions (a)-(d) at doubling (n, M) against the "
             f"best checked schedule known (a proven lower bound on the ratio); bound {bound:g}")
    p_status, _ = (ratio_trend_status(planted["rows"], bound) if not planted["fault"]
                   else ("fails", ""))
    power = _power("ratio", int(p_status != "supported"), 1)
    common = dict(claim="ratio", reading=setup, searched=searched, quick=quick,
                  seconds=seconds, full_status=not quick, power=power,
                  figures={"rows": got["rows"], "planted rows": planted["rows"]})
    rows = got["rows"]
    text = ", ".join(f"n = {r['n']}: {r['ratio low']:.3f}" for r in rows)
    if got["fault"] is not None:
        line = got["fault"].line
        return Verdict(status="fails", evidence=f"the search stopped: {line}"
                       + (f" (rows before: {text})" if rows else ""),
                       counterexample=line, **common)
    status, why = ratio_trend_status(rows, bound)
    ev = f"worst proven ratio by size: {text}; {why}"
    if status == "fails":
        inst = got["instance"]
        mine = run_guarded(inst, policy, limits, label=label).schedule
        return Verdict(status="fails", evidence=ev, counterexample=(
            f"{describe(inst)}: {label} has total latency {mine.total_latency} (checked), "
            f"more than {bound:g} x a checked schedule"), **common)
    if status == "supported" and power["found"] < POWER_MIN * power["of"]:
        return Verdict(status="inconclusive", evidence=ev + "; but the same search saw no "
                       "rising ratio for the planted longest-first", decide="a search that "
                       "tells the planted policy's rising ratio apart", **common)
    decide = "" if status == "supported" else (
        "a family whose ratio provably grows without bound, or a proof of a constant; larger "
        "searches only sharpen the trend")
    return Verdict(status=status, evidence=ev, decide=decide, **common)


def scorecard(policy, quick: bool = True, *, seed: int = 0, budget: Budget | None = None,
              limits: Limits | None = None, ratio_bound: float = RATIO_BOUND,
              workers: int = 1, label: str | None = None) -> Scorecard:
    """Grade ``policy(state) -> Decision`` on every item of :data:`ITEMS`.

    ``policy`` is a callable or a policy spec (``FILE.py:FUNC``, ``package.module:FUNC`` or a
    registered name, :func:`~kvtheory.scorecard.load_policy`); with ``workers > 1`` the parts
    run on local processes (a spec travels to them; a callable must pickle).  The planted
    counterparts' runs are cached under ``$KVTHEORY_CACHE`` (the policy's never are: its code
    is not in the cache key).

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> tiny = Budget(seeds=8, sizes=(6, 10), family_sizes=(2,), ratio_max_n=3, ratio_restarts=1,
    ...               ratio_steps=1, trend=((8, 16), (10, 20), (12, 24)), trend_steps=0,
    ...               trend_restarts=1, search_evals=10, final_evals=10)
    >>> card = scorecard(mc_sf, budget=tiny)
    >>> card["valid"].status, card["never-idles"].status
    ('supported', 'supported')
    """
    t0 = time.perf_counter()
    budget = budget or (QUICK if quick else FULL)
    limits = limits or Limits(seconds=1.0 if quick else 5.0)
    if isinstance(policy, str):
        from kvtheory.scorecard._load import load_policy
        fn, name = load_policy(policy)
    else:
        fn, name = policy, getattr(policy, "__name__", repr(policy))
    label = label or name
    target = policy if (isinstance(policy, str) or workers == 1) else fn
    seeds = range(budget.seeds)
    own = [dict(part="sample", target=target, seed=s, budget=budget, limits=limits,
                label=label) for s in seeds]
    own.append(dict(part="ratio", target=target, seed=seed, budget=budget, limits=limits,
                    label=label))
    planted = [dict(part=f"power {k}", target=PLANTED[k][1], seed=s, budget=budget,
                    limits=limits, label=k) for k in ("valid", "never-idles") for s in seeds]
    planted.append(dict(part="ratio", target=PLANTED["ratio"][1], seed=seed, budget=budget,
                        limits=limits, label="longest-first"))
    mine = run_cells(_cell, own, workers=workers, cache=False, progress=False).values
    theirs = run_cells(_cell, planted, workers=workers, progress=False).values
    runs = [r for part in mine[:-1] for r in part]
    pv = theirs[:budget.seeds]
    pi = theirs[budget.seeds:2 * budget.seeds]
    power_valid = _power("valid", sum(any(f for f, _ in r) for r in pv), budget.seeds)
    power_idle = _power("never-idles", sum(any(i for _, i in r) for r in pi), budget.seeds)
    searched = f"{len(runs)} runs: {budget.describe()}; seeds 0..{budget.seeds - 1}"
    el = time.perf_counter() - t0
    items = (_grade_sample("valid", fn, runs, power_valid, limits, label, searched, quick, el),
             _grade_sample("never-idles", fn, runs, power_idle, limits, label, searched,
                           quick, el),
             _grade_ratio(fn, mine[-1], theirs[-1], ratio_bound, limits, label,
                          f"{budget.describe()}; seed {seed}", quick, el))
    return Scorecard(label, items, quick, time.perf_counter() - t0,
                     {"seconds per decision": limits.seconds, "stall rounds": limits.stall,
                      "livelock rounds": limits.livelock, "text": limits.describe()})
