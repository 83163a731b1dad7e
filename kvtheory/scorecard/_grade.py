"""Grading the items *lower bounds*, *synthetic*, *traces*, *predictions* and *decision time*.

The last four are measurements, not bounds; each is graded against a stated rule so that it
speaks the registry's vocabulary:

``synthetic``
    the policy's mean ratio to the best checked schedule known (a lower bound on its ratio to
    the optimum) is within :data:`TOL` of MC-SF's on the same trials, on each arrival model
    (``supported``), or it is not (``fails``: the model, the figures and the trial where it
    loses most to MC-SF).  Power: the same trials, comparison and tolerance flag the planted
    longest-first on ``found`` of the two models; below 0.8 the item is ``inconclusive``.
``traces``
    the policy's mean latency on each trace (A100-timed engine) is within :data:`TOL` of
    MC-SF's; power: longest-first flagged on ``found`` of the traces.
``predictions``
    with ±50 % noisy predictions, the policy's mean latency on each trace is within
    :data:`TOL` of MC-SF's under the same predictions; power as for *traces*.
``decision time``
    the p99 wall time per decision is at most a tenth of the per-decision limit and no decision
    exceeds the limit (a measurement, not a search: no power).

A policy that stops a run gets the item ``fails`` with the guard's one line.
"""

from __future__ import annotations

import numpy as np

from kvtheory.claims._core import POWER_MIN, Verdict
from kvtheory.scorecard._bounds import worst_family_status

__all__ = ["TOL", "grade_lower_bounds", "grade_synthetic", "grade_traces",
           "grade_predictions", "grade_decision"]

#: Tolerance of the measurement rules: within 5 % of MC-SF (or better).
TOL = 0.05
_LONGEST = "longest predicted output first (worse than MC-SF on latency)"


def _low_power(status: str, power: dict) -> str:
    if status == "supported" and power["found"] < POWER_MIN * power["of"]:
        return "inconclusive"
    return status


def _common(item, reading, searched, quick, seconds, power=None, figures=None):
    return dict(claim=item, reading=reading, searched=searched, quick=quick, seconds=seconds,
                full_status=not quick, power=power, figures=figures or {})


def grade_lower_bounds(rows: dict, planted: dict, bound: float, searched: str, quick: bool,
                       seconds: float) -> Verdict:
    """The item *lower bounds* from :func:`~kvtheory.scorecard._bounds.lower_bound_rows` of the
    policy and of the planted target (MC-SF, whose ratio provably grows on both families).

    Examples
    --------
    >>> grow = [{"n": n, "ratio low": n / 2, "bound": n / 3} for n in (4, 8, 16)]
    >>> flat = [{"n": n, "ratio low": 1.0, "bound": n / 3} for n in (4, 8, 16)]
    >>> pl = {"adversary": grow, "prompts": grow, "fault": None}
    >>> grade_lower_bounds({"adversary": flat, "prompts": flat, "fault": None}, pl, 100, "",
    ...                    True, 1.0).status
    'supported'
    """
    reading = ("the deterministic adversary (n + 1 requests, M = n(n + 1)) against its closed-"
               "form optimum, and the heterogeneous-prompt family (M = 3m) against the smalls-"
               f"first schedule, as they grow; the ratio held to {bound:g} by the trend rule")
    p_status = worst_family_status(planted, bound)[0] if not planted["fault"] else "fails"
    power = {"planted": "MC-SF (its ratio provably grows like sqrt M on both families)",
             "found": int(p_status != "supported"), "of": 1}
    figs = {"adversary": rows["adversary"], "prompts": rows["prompts"]}
    c = _common("lower-bounds", reading, searched, quick, seconds, power, figs)
    text = "; ".join(
        f"{fam}: " + ", ".join(f"n={r['n']}: {r['ratio low']:.3g} (bound {r['bound']:.3g})"
                               for r in rows[fam])
        for fam in ("adversary", "prompts") if rows[fam])
    if rows["fault"] is not None:
        return Verdict(status="fails", evidence=f"a run stopped: {rows['fault'].line}"
                       + (f" (before: {text})" if text else ""),
                       counterexample=rows["fault"].line, **c)
    status, why, fam = worst_family_status(rows, bound)
    ev = f"ratio by size ({text}); {fam}: {why}"
    if status == "fails":
        r = max(rows[fam], key=lambda r: r["ratio low"])
        return Verdict(status="fails", evidence=ev, counterexample=(
            f"{fam} member n={r['n']} (M={r['M']}): total latency {r['policy']} against "
            f"{r['reference']} (checked), ratio {r['ratio low']:.4g} > {bound:g}"), **c)
    status = _low_power(status, power)
    decide = "" if status == "supported" else (
        "a member past the bound (the adversary's ratio of a deterministic non-preemptive "
        "policy passes it near n = 2.7 x bound) or a proof of a constant")
    return Verdict(status=status, evidence=ev, decide=decide, **c)


def _synthetic_means(refs, mine):
    by = {}
    for ref, got in zip(refs, mine):
        best = min(ref["best"], got["latency"])
        by.setdefault(ref["model"], []).append(
            (got["latency"] / best, ref["mc-sf"] / best, got["latency"] / ref["lower"], ref, got))
    return by


def grade_synthetic(refs: list, mine: list, planted: list, searched: str, quick: bool,
                    seconds: float) -> Verdict:
    """The item *synthetic* from the trials' references (:func:`synthetic_reference`) and the
    policy's and the planted policy's latencies (:func:`synthetic_trial`), in the same order.

    Examples
    --------
    >>> ref = {"model": "model1", "trial": 0, "n": 5, "M": 9, "mc-sf": 10, "best": 10,
    ...        "lower": 9.0}
    >>> ok, bad = {"latency": 10, "fault": None}, {"latency": 20, "fault": None}
    >>> grade_synthetic([ref], [ok], [bad], "", True, 1.0).status   # planted flagged: power 1/1
    'supported'
    >>> grade_synthetic([ref], [ok], [ok], "", True, 1.0).status    # planted not flagged: 0/1
    'inconclusive'
    >>> grade_synthetic([ref], [bad], [bad], "", True, 1.0).status
    'fails'
    """
    reading = ("the paper's synthetic study, arrival models 1 (all at round 0) and 2 (Poisson "
               "arrivals): mean and worst ratio to the best checked schedule known (a lower "
               "bound on the ratio to the optimum) and to a proven lower bound (an upper "
               f"bound), beside MC-SF on the same trials; rule: mean within {TOL:.0%} of MC-SF's")
    models = sorted({r["model"] for r in refs})
    stopped = {r["model"] for r, p in zip(refs, planted) if p["fault"] is not None}
    means = _synthetic_means(*zip(*[(r, p) for r, p in zip(refs, planted)
                                    if p["fault"] is None])) if len(stopped) < len(models) else {}
    found = sum(m in stopped or np.mean([a for a, *_ in means[m]])
                > (1 + TOL) * np.mean([b for _, b, *_ in means[m]]) for m in models)
    power = {"planted": _LONGEST, "found": int(found), "of": len(models)}
    bad = [g for g in mine if g["fault"] is not None]
    if bad:
        line = bad[0]["fault"].line
        return Verdict(status="fails", evidence=f"{len(bad)} of {len(mine)} trials stopped: "
                       f"{line}", counterexample=line,
                       **_common("synthetic", reading, searched, quick, seconds, power))
    figs, parts, worse = {}, [], []
    for model, v in sorted(_synthetic_means(refs, mine).items()):
        lo, mc, up = (np.array([x[k] for x in v]) for k in range(3))
        figs[model] = {"trials": len(v), "mean": float(lo.mean()), "worst": float(lo.max()),
                       "mean upper": float(up.mean()), "mc-sf mean": float(mc.mean()),
                       "mc-sf worst": float(mc.max())}
        parts.append(f"{model}: mean {lo.mean():.3f} (upper {up.mean():.3f}), worst "
                     f"{lo.max():.3f}; MC-SF mean {mc.mean():.3f}, worst {mc.max():.3f}")
        if lo.mean() > (1 + TOL) * mc.mean():
            a, b, _, ref, got = max(v, key=lambda x: x[0] / x[1])
            worse.append(f"{model}: mean {lo.mean():.3f} > {1 + TOL:g} x MC-SF's "
                         f"{mc.mean():.3f}; e.g. trial {ref['trial']} (n={ref['n']}, "
                         f"M={ref['M']}): {got['latency']} against MC-SF's {ref['mc-sf']} "
                         f"(both checked)")
    c = _common("synthetic", reading, searched, quick, seconds, power, figs)
    ev = "; ".join(parts)
    if worse:
        return Verdict(status="fails", evidence=ev, counterexample="; ".join(worse), **c)
    status = _low_power("supported", power)
    return Verdict(status=status, evidence=ev, decide="" if status == "supported" else
                   "more trials, or trials on which the planted policy's loss shows", **c)


def _trace_cmp(item, mine, mcsf, planted, reading, searched, quick, seconds, extra=None):
    found = sum(p["status"] != "ok" or p["mean latency (s)"] > (1 + TOL) * m["mean latency (s)"]
                for p, m in zip(planted, mcsf))
    power = {"planted": _LONGEST, "found": int(found), "of": len(mcsf)}
    figs = {"policy": [{k: v for k, v in r.items() if k != "fault"} for r in mine],
            "mc-sf": mcsf, **(extra or {})}
    c = _common(item, reading, searched, quick, seconds, power, figs)
    bad = [r for r in mine if r["fault"] is not None]
    if bad:
        line = bad[0]["fault"].line
        return Verdict(status="fails", evidence=f"the run on {bad[0]['trace']} stopped: {line}",
                       counterexample=line, **c)
    parts, worse = [], []
    for r, m in zip(mine, mcsf):
        parts.append(f"{r['trace']} (n={r['n']}): mean {r['mean latency (s)']:.2f} s, p99 "
                     f"{r['p99 latency (s)']:.2f} s, TTFT {r['mean TTFT (s)']:.2f} s, "
                     f"{r['throughput (req/s)']:.2f} req/s, {r['energy (kJ)']:.0f} kJ, "
                     f"{r['evictions']} evictions; MC-SF mean {m['mean latency (s)']:.2f} s")
        if r["mean latency (s)"] > (1 + TOL) * m["mean latency (s)"]:
            worse.append(f"{r['trace']}: mean latency {r['mean latency (s)']:.3f} s > "
                         f"{1 + TOL:g} x MC-SF's {m['mean latency (s)']:.3f} s")
    ev = "; ".join(parts)
    if worse:
        return Verdict(status="fails", evidence=ev, counterexample="; ".join(worse), **c)
    status = _low_power("supported", power)
    return Verdict(status=status, evidence=ev, decide="" if status == "supported" else
                   "more requests (a heavier load) on which the planted policy's loss shows",
                   **c)


def grade_traces(mine: list, mcsf: list, vllm: list, paper: list, planted: list, searched: str,
                 quick: bool, seconds: float) -> Verdict:
    """The item *traces* from :func:`trace_run` rows (policy, MC-SF, vLLM-style, planted) and
    :func:`paper_engine_run` rows, one per trace in the same order.

    Examples
    --------
    >>> r = {"trace": "t", "n": 9, "status": "ok", "fault": None, "mean latency (s)": 1.0,
    ...      "p99 latency (s)": 2.0, "mean TTFT (s)": 0.1, "throughput (req/s)": 1.0,
    ...      "energy (kJ)": 1.0, "evictions": 0}
    >>> slow = dict(r, **{"mean latency (s)": 2.0})
    >>> grade_traces([r], [r], [r], [], [slow], "", True, 1.0).status
    'supported'
    >>> grade_traces([slow], [r], [r], [], [slow], "", True, 1.0).status
    'fails'
    """
    reading = ("the shipped Azure LLM inference traces (2023, released with Splitwise), first "
               "requests, on the A100-timed engine (M = 16,492): mean and p99 latency, TTFT, "
               "throughput, energy, beside MC-SF and the vLLM-style rule (and both on the "
               "paper's engine, which runs only its own rules); rule: mean latency within "
               f"{TOL:.0%} of MC-SF's on each trace")
    v = _trace_cmp("traces", mine, mcsf, planted, reading, searched, quick, seconds,
                   {"vllm": vllm, "paper engine": paper})
    beside = [f"{r['trace']}: vLLM-style mean {r['mean latency (s)']:.2f} s, p99 "
              f"{r['p99 latency (s)']:.2f} s" for r in vllm if r.get("status") == "ok"]
    beside += [f"{r['trace']}, paper's engine: {r['policy']} mean {r['mean latency (s)']:.2f} s"
               for r in paper]
    from dataclasses import replace
    return replace(v, evidence=v.evidence + ("; " + "; ".join(beside) if beside else ""))


def grade_predictions(mine: list, exact: list, mcsf: list, planted: list, searched: str,
                      quick: bool, seconds: float) -> Verdict:
    """The item *predictions*: :func:`trace_run` rows with ±50 % noise (policy, MC-SF,
    planted) and the policy's exact-prediction rows (for the latency change).

    Examples
    --------
    >>> r = {"trace": "t", "n": 9, "status": "ok", "fault": None, "mean latency (s)": 1.0,
    ...      "p99 latency (s)": 2.0, "mean TTFT (s)": 0.1, "throughput (req/s)": 1.0,
    ...      "energy (kJ)": 1.0, "evictions": 3}
    >>> grade_predictions([r], [r], [r], [r], "", True, 1.0).status
    'inconclusive'
    """
    reading = ("the traces of the item traces with predictions round(o U[0.5, 1.5]): latency "
               "change against exact predictions, evictions (each one an overflow the engine "
               "resolved), beside MC-SF under the same predictions; rule: mean latency within "
               f"{TOL:.0%} of MC-SF's on each trace")
    v = _trace_cmp("predictions", mine, mcsf, planted, reading, searched, quick, seconds)
    if any(r["fault"] for r in mine + exact):
        return v
    change = [f"{r['trace']}: {100 * (r['mean latency (s)'] / e['mean latency (s)'] - 1):+.1f} %"
              f" latency, {r['evictions']} evictions (MC-SF {m['evictions']})"
              for r, e, m in zip(mine, exact, mcsf)]
    from dataclasses import replace
    return replace(v, evidence="; ".join(change) + "; " + v.evidence)


def grade_decision(mine: dict, mcsf: dict, limit: float, searched: str, quick: bool,
                   seconds: float) -> Verdict:
    """The item *decision time* from :func:`decision_times` of the policy and of MC-SF.

    Examples
    --------
    >>> r = {"n": 9, "M": 16492, "decisions": 9, "median (ms)": 0.1, "p99 (ms)": 0.2,
    ...      "max (ms)": 0.3, "fault": None}
    >>> grade_decision(r, r, 1.0, "", True, 1.0).status
    'supported'
    >>> grade_decision(dict(r, **{"p99 (ms)": 200.0}), r, 1.0, "", True, 1.0).status
    'fails'
    """
    cap = 100 * limit                                  # a tenth of the limit, in ms
    reading = (f"LMSYS-like requests at 50 per second, M = 16,492, A100-timed engine; wall time "
               f"of each decision; rule: p99 at most {cap:g} ms (a tenth of the {limit:g} s "
               f"limit) and none over the limit (a measurement, not a search: no power)")
    c = _common("decision-time", reading, searched, quick, seconds,
                figures={"policy": {k: v for k, v in mine.items() if k != "fault"},
                         "mc-sf": {k: v for k, v in mcsf.items() if k != "fault"}})
    if mine["fault"] is not None:
        return Verdict(status="fails", evidence=f"the run stopped: {mine['fault'].line}",
                       counterexample=mine["fault"].line, **c)
    ev = (f"{mine['decisions']} decisions on {mine['n']} requests: median "
          f"{mine['median (ms)']:.3g} ms, p99 {mine['p99 (ms)']:.3g} ms, max "
          f"{mine['max (ms)']:.3g} ms; MC-SF median {mcsf['median (ms)']:.3g} ms, p99 "
          f"{mcsf['p99 (ms)']:.3g} ms")
    if mine["p99 (ms)"] > cap:
        return Verdict(status="fails", evidence=ev, counterexample=(
            f"p99 decision time {mine['p99 (ms)']:.3g} ms > {cap:g} ms"), **c)
    return Verdict(status="supported", evidence=ev, **c)
