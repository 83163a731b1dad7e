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

``lower-bounds``
    the ratio on the deterministic adversary and the heterogeneous-prompt family as they grow,
    beside the bound the adversary forces, by the same trend rule; power: MC-SF, whose ratio
    provably grows on both (:mod:`kvtheory.scorecard._bounds`).
``synthetic``, ``traces``, ``predictions``, ``decision-time``
    measurements graded against stated rules (within 5 % of MC-SF; p99 decision time under a
    tenth of the limit), with power against longest-first where the rule compares
    (:mod:`kvtheory.scorecard._grade`, :mod:`kvtheory.scorecard._practice`).

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
from kvtheory.engines.policies import mc_sf
from kvtheory.engines.policies.planted import admit_all, idle_on_odd_rounds
from kvtheory.scorecard import _practice
from kvtheory.scorecard._bounds import lower_bound_rows
from kvtheory.scorecard._grade import (grade_decision, grade_lower_bounds, grade_predictions,
                                       grade_synthetic, grade_traces)
from kvtheory.theory.ratio import RATIO_BOUND

__all__ = ["Scorecard", "scorecard", "ITEMS", "PLANTED"]

#: The items, in order: key -> title.
ITEMS = {"valid": "every schedule is valid",
         "never-idles": "never idles while a request fits",
         "ratio": "ratio to the optimum",
         "lower-bounds": "the lower-bound families as they grow",
         "synthetic": "the paper's synthetic study",
         "traces": "real traces",
         "predictions": "±50 % noisy predictions",
         "decision-time": "decision time"}
#: The planted counterpart of each search item, pointed at by the same search to measure its
#: power (the measurement items compare with MC-SF; their planted policy is longest-first).
PLANTED = {"valid": ("admits every waiting request whatever the memory", admit_all),
           "never-idles": ("MC-SF that idles at odd rounds", idle_on_odd_rounds),
           "ratio": ("longest predicted output first", longest_first),
           "lower-bounds": ("MC-SF (its ratio provably grows like sqrt M on both families)",
                            mc_sf),
           "synthetic": ("longest predicted output first", longest_first),
           "traces": ("longest predicted output first", longest_first),
           "predictions": ("longest predicted output first", longest_first)}
#: The models of the item *synthetic* and the size keywords each accepts.
_MODEL_KEYS = {"model1": ("n", "memory"), "model2": ("horizon", "memory", "rate")}


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
    >>> card.frame().loc["valid", "power"]
    '-'
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

    def frame(self):
        """A pandas table: one row per item (status, power, evidence), indexed by item."""
        import pandas as pd
        return pd.DataFrame([{"item": v.claim, "status": v.status,
                              "power": f"{v.power['found']}/{v.power['of']}" if v.power else "-",
                              "evidence": v.evidence} for v in self.items]).set_index("item")

    def dumps(self) -> str:
        """:meth:`to_json` as text."""
        return json.dumps(self.to_json(), indent=1)


def _policy_of(target):
    if isinstance(target, str):
        from kvtheory.scorecard._load import load_policy
        return load_policy(target)[0]
    return target


def _cell(part: str, target, seed: int, budget: Budget, limits: Limits, label: str,
          key: str | None = None, **kw):
    """One unit of work (module level, so :func:`run_cells` can send it to a process).

    ``key`` names the policy's code (a spec or a hash of its source) in the result cache."""
    policy = _policy_of(target)
    if part == "sample":
        return sample_runs(policy, seed, budget, limits, label=label)
    if part == "ratio":
        return ratio_rows(policy, seed, budget, limits, label=label)
    if part in ("power valid", "power never-idles"):
        runs = sample_runs(policy, seed, budget, limits, label=label, stop_early=True)
        return [(run.fault is not None, run.idle is not None) for _, run in runs]
    if part == "bounds":
        return lower_bound_rows(policy, budget.lb_ns, budget.lb_ms, limits, label=label)
    if part == "synthetic":
        return _practice.synthetic_trial(policy, kw["model"], kw["trial"], budget.synth_trials,
                                         _size(kw["model"], budget), limits, label=label)
    if part == "synthetic reference":
        return _practice.synthetic_reference(kw["model"], kw["trial"], budget.synth_trials,
                                             budget.synth_evals, _size(kw["model"], budget))
    if part == "trace":
        return _practice.trace_run(policy, kw["trace"], budget.trace_n, kw.get("error"),
                                   limits, label=label)
    if part == "paper engine":
        return _practice.paper_engine_run(target, kw["trace"], budget.trace_n)
    if part == "decision":
        return _practice.decision_times(policy, budget.decision_n, limits, label=label)
    raise ValueError(f"unknown part {part!r}")


def _size(model: str, budget: Budget) -> tuple:
    return tuple((k, v) for k, v in budget.synth_size if k in _MODEL_KEYS[model])


def policy_key(policy) -> str | None:
    """A name of the policy's code for the result cache, or ``None`` (not cached).

    A registered name or a spec inside ``kvtheory`` is its own key (the cache's code key
    covers the package); any other spec or callable is keyed by a hash of its source text
    (:func:`inspect.getsource`; state a closure captures is not in it).

    Examples
    --------
    >>> policy_key("mc-sf"), policy_key(lambda s: s)[:7]
    ('mc-sf', 'source ')
    >>> policy_key(print) is None
    True
    """
    import hashlib
    import inspect
    from kvtheory.engines.policies import POLICIES
    from kvtheory.model.cache import _hex16
    if isinstance(policy, str):
        if policy in POLICIES or policy.startswith("kvtheory"):
            return policy
        policy = _policy_of(policy)
    try:
        text = inspect.getsource(policy)
    except (TypeError, OSError):
        return None
    who = f"{getattr(policy, '__module__', '')}.{getattr(policy, '__qualname__', '')}"
    return "source " + _hex16(hashlib.sha256((who + "\n" + text).encode()))


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


def _item_path(item: str, key: str, options: tuple):
    import hashlib
    import pickle
    from kvtheory.model.cache import _hex16, cache_dir, code_key
    h = _hex16(hashlib.sha256(pickle.dumps((item, key, options))))
    return cache_dir() / code_key() / "scorecard" / f"{item}-{h}.pkl"


def _cells(items, target, seed: int, budget: Budget, limits: Limits, label: str) -> tuple:
    """The policy's cells and the planted and reference cells of ``items``: ``(own, planted)``,
    each a dict item -> list of cells."""
    base = dict(seed=seed, budget=budget, limits=limits)
    own, ref = {}, {}

    def mine(part, **kw):
        return dict(part=part, target=target, label=label, **{**base, **kw})

    def theirs(part, tgt, lab, **kw):
        return dict(part=part, target=tgt, label=lab, **{**base, **kw})

    seeds = range(budget.seeds)
    trials = [(m, k) for m in _MODEL_KEYS for k in range(budget.synth_trials)]
    traces = list(_practice.TRACES)
    for item in items:
        if item in ("valid", "never-idles"):
            own["sample"] = [mine("sample", seed=s) for s in seeds]
            ref[item] = [theirs(f"power {item}", PLANTED[item][1], item, seed=s) for s in seeds]
        elif item == "ratio":
            own[item] = [mine("ratio")]
            ref[item] = [theirs("ratio", PLANTED["ratio"][1], "longest-first")]
        elif item == "lower-bounds":
            own[item] = [mine("bounds")]
            ref[item] = [theirs("bounds", PLANTED[item][1], "planted")]
        elif item == "synthetic":
            own[item] = [mine("synthetic", model=m, trial=k) for m, k in trials]
            ref[item] = ([theirs("synthetic reference", None, "", model=m, trial=k)
                          for m, k in trials]
                         + [theirs("synthetic", PLANTED[item][1], "planted", model=m, trial=k)
                            for m, k in trials])
        elif item in ("traces", "predictions"):
            err = None if item == "traces" else 0.5
            own[item] = [mine("trace", trace=t, error=err) for t in traces]
            if item == "predictions":
                own[item] += [mine("trace", trace=t) for t in traces]
            ref[item] = [theirs("trace", p, lab, trace=t, error=err) for p, lab in
                         ((mc_sf, "MC-SF"), (PLANTED[item][1], "planted")) for t in traces]
            if item == "traces":
                ref[item] += [theirs("trace", "vllm", "vllm", trace=t) for t in traces]
                ref[item] += [theirs("paper engine", p, p, trace=t) for p in ("mc-sf", "vllm")
                              for t in traces]
        elif item == "decision-time":
            own[item] = [mine("decision")]
            ref[item] = [theirs("decision", mc_sf, "MC-SF")]
    return own, ref


def _grade(item, got, ref, fn, budget, limits, ratio_bound, label, seed, quick, el):
    """The verdict of one item from its cells' results (``got``: the policy's, ``ref``: the
    planted and reference ones)."""
    searched = f"{budget.describe()}"
    if item in ("valid", "never-idles"):
        runs = [r for part in got for r in part]
        idx = 0 if item == "valid" else 1
        power = _power(item, sum(any(x[idx] for x in r) for r in ref), budget.seeds)
        return _grade_sample(item, fn, runs, power, limits, label,
                             f"{len(runs)} runs: {searched}; seeds 0..{budget.seeds - 1}",
                             quick, el)
    if item == "ratio":
        return _grade_ratio(fn, got[0], ref[0], ratio_bound, limits, label,
                            f"{searched}; seed {seed}", quick, el)
    if item == "lower-bounds":
        return grade_lower_bounds(got[0], ref[0], ratio_bound,
                                  f"adversary n in {list(budget.lb_ns)} (closed-form optimum); "
                                  f"prompt family m in {list(budget.lb_ms)}", quick, el)
    if item == "synthetic":
        t = len(got)
        return grade_synthetic(ref[:t], got, ref[t:],
                               f"{budget.synth_trials} trials per model (the registry's seeds), "
                               f"{budget.synth_evals} orders of local search per trial; sizes "
                               f"{dict(budget.synth_size) or 'as the paper'}", quick, el)
    k = len(_practice.TRACES)
    what = f"first {budget.trace_n} requests of {', '.join(_practice.TRACES)}"
    if item == "traces":
        return grade_traces(got, ref[:k], ref[2 * k:3 * k], ref[3 * k:], ref[k:2 * k], what,
                            quick, el)
    if item == "predictions":
        return grade_predictions(got[:k], got[k:], ref[:k], ref[k:2 * k],
                                 what + "; predictions seeded per trace", quick, el)
    if item == "decision-time":
        return grade_decision(got[0], ref[0], limits.seconds,
                              f"{budget.decision_n} requests (the issue's size is 10,000)",
                              quick, el)
    raise ValueError(f"unknown item {item!r}")


def _run_unique(groups: dict, workers: int, cache: bool) -> list:
    """Every cell of ``groups`` (in order), each distinct cell computed once (items share
    runs: the exact-prediction traces serve *traces* and *predictions*)."""
    cells = [c for cs in groups.values() for c in cs]
    keys = [tuple(sorted(c.items())) for c in cells]
    unique = list(dict.fromkeys(keys))
    values = run_cells(_cell, [dict(k) for k in unique], workers=workers, cache=cache,
                       progress=False).values
    got = dict(zip(unique, values))
    return [got[k] for k in keys]


def scorecard(policy, quick: bool = True, *, seed: int = 0, budget: Budget | None = None,
              limits: Limits | None = None, ratio_bound: float = RATIO_BOUND,
              workers: int = 1, label: str | None = None, items=None,
              cache: bool = True) -> Scorecard:
    """Grade ``policy(state) -> Decision`` on every item of :data:`ITEMS`.

    ``policy`` is a callable or a policy spec (``FILE.py:FUNC``, ``package.module:FUNC`` or a
    registered name, :func:`~kvtheory.scorecard.load_policy`); with ``workers > 1`` the parts
    of every item run together on local processes (:func:`kvtheory.model.cells.run_cells`; a
    spec travels to them, a callable must pickle).  ``items``: a subset of :data:`ITEMS`
    (default all).  The planted and reference runs are cached under ``$KVTHEORY_CACHE``; with
    ``cache`` each item's verdict is too, keyed by the code, the policy's code
    (:func:`policy_key`; a policy without one is never cached) and the options, so a second
    identical call computes nothing.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> tiny = Budget(seeds=8, sizes=(6, 10), family_sizes=(2,), ratio_max_n=3, ratio_restarts=1,
    ...               ratio_steps=1, trend=((8, 16), (10, 20), (12, 24)), trend_steps=0,
    ...               trend_restarts=1, search_evals=10, final_evals=10)
    >>> card = scorecard(mc_sf, budget=tiny, items=("valid", "never-idles"), cache=False)
    >>> card["valid"].status, card["never-idles"].status
    ('supported', 'supported')
    """
    t0 = time.perf_counter()
    budget = budget or (QUICK if quick else FULL)
    limits = limits or Limits(seconds=1.0 if quick else 5.0)
    items = list(ITEMS) if items is None else list(items)
    unknown = [i for i in items if i not in ITEMS]
    if unknown:
        raise ValueError(f"unknown items {unknown}; known: {list(ITEMS)}")
    if isinstance(policy, str):
        from kvtheory.scorecard._load import load_policy
        fn, name = load_policy(policy)
    else:
        fn, name = policy, getattr(policy, "__name__", repr(policy))
    label = label or name
    target = policy if (isinstance(policy, str) or workers == 1) else fn
    key = policy_key(policy) if cache else None
    options = (quick, seed, budget, limits, ratio_bound, label)
    done = {}
    if key is not None:
        from kvtheory.model.cache import load_result
        for item in items:
            hit, v = load_result(_item_path(item, key, options))
            if hit:
                done[item] = v
    todo = [i for i in items if i not in done]
    own, ref = _cells(todo, target, seed, budget, limits, label)
    mine = _run_unique(own, workers, cache=False)
    theirs = _run_unique(ref, workers, cache=True)
    got, pos = {}, 0
    for k, cs in own.items():
        got[k], pos = mine[pos:pos + len(cs)], pos + len(cs)
    refs, pos = {}, 0
    for k, cs in ref.items():
        refs[k], pos = theirs[pos:pos + len(cs)], pos + len(cs)
    el = time.perf_counter() - t0
    for item in todo:
        mine_i = got["sample"] if item in ("valid", "never-idles") else got[item]
        v = _grade(item, mine_i, refs[item], fn, budget, limits, ratio_bound, label, seed,
                   quick, el)
        done[item] = v
        if key is not None:
            from kvtheory.model.cache import store_result
            store_result(_item_path(item, key, options), v)
    return Scorecard(label, tuple(done[i] for i in items), quick, time.perf_counter() - t0,
                     {"seconds per decision": limits.seconds, "stall rounds": limits.stall,
                      "livelock rounds": limits.livelock, "text": limits.describe()})
