"""MC-SF's constant ratio under conditions (a)-(d): lemmas 4.4, 4.5, 4.7 and the 9216 bound."""

import math

import numpy as np
import pytest

from kvtheory import Instance, check_schedule, mc_sf, simulate
from kvtheory.theory import ratio
from kvtheory.claims import ratio as claims_ratio
from kvtheory.optimum.exact import solve_optimal


def _lemma_verdict(cid):
    (v,) = next(c for c in claims_ratio.CLAIMS if c.id == cid).check(True)
    return v


def test_clm_lemma_4_4():
    v = _lemma_verdict("clm_lemma_4_4")
    assert v.status == "supported", v.evidence
    assert v.power["found"] >= 0.8 * v.power["of"] and "(1, 1)" in v.power["planted"]
    head = v.figures["headline"]
    assert head["n"] >= 2 and 0 < head["slack"] < 1       # the headline is non-trivial


def test_clm_lemma_4_5():
    v = _lemma_verdict("clm_lemma_4_5")
    assert v.status == "supported", v.evidence
    assert v.power["found"] >= 0.8 * v.power["of"] and v.figures["headline"]["n"] >= 2


def test_clm_lemma_4_7():
    v = _lemma_verdict("clm_lemma_4_7")
    assert v.status == "supported", v.evidence
    assert v.power["found"] >= 0.8 * v.power["of"] and "0 solves inconclusive" in v.evidence


@pytest.mark.parametrize("cid", ["clm_lemma_4_4", "clm_lemma_4_5", "clm_lemma_4_7"])
def test_lemma_readings_reach_every_status(cid):
    """Injected runs and power through the lemma rule: supported, inconclusive, fails."""
    from kvtheory.theory.lemma_searches import lemma_draw
    reading = next(c for c in claims_ratio.CLAIMS if c.id == cid).readings[0]
    run = {"slack": 0.2, "worst": {"slack": 0.2, "n": 1}, "headline": {"slack": 0.1, "n": 3},
           "instance": None, "cases": 10}
    strong, weak = ({"planted": "(1, 1)", "found": k, "of": 5} for k in (4, 3))
    got = {claims_ratio.check_lemma(cid, reading, True, {"runs": [run], "power": p}).status
           for p in (strong, weak)}
    assert got == {"supported", "inconclusive"}
    inst = lemma_draw(np.random.default_rng(0), 3, 12)
    bad = {**run, "slack": 1.2, "worst": {"slack": 1.2}, "instance": inst}
    v = claims_ratio.check_lemma(cid, reading, True, {"runs": [run, bad], "power": weak})
    assert v.status == "fails" and v.counterexample.startswith("M=")
    assert got | {v.status} == set(reading.statuses)


def test_lemma_searches_are_functions_of_their_bound():
    """The same seeds draw the same instances; only the constants change the ratio."""
    from kvtheory.theory import lemma_searches as ls
    a = ls.lemma_4_4_search(ratio.LEMMA_4_4, 4400, trials=30)
    b = ls.lemma_4_4_search(ls.UNIT, 4400, trials=30)
    assert a["slack"] < 0.01 < 0.9 < b["slack"]
    assert a == ls.lemma_4_4_search(ratio.LEMMA_4_4, 4400, trials=30)   # deterministic
    assert a["cases"] == b["cases"] == 30


def test_clm_mcsf_ratio():
    rep = claims_ratio.check_mcsf_ratio(np.random.default_rng(44), trials=30, max_n=7, max_memory=20)
    assert rep.holds, rep.summary
    assert 1.0 <= rep.worst["ratio"] < 2.0          # far below 9216 on small instances


def test_clm_mcsf_ratio_trend_reaches_every_status():
    """The growth reading's rule: each of its three statuses from hand-made rows."""
    flat = [{"n": 8, "ratio low": 1.10}, {"n": 16, "ratio low": 1.12}, {"n": 32, "ratio low": 1.13}]
    rising = [{"n": 8, "ratio low": 1.1}, {"n": 16, "ratio low": 1.3}, {"n": 32, "ratio low": 1.6}]
    broken = flat + [{"n": 20000, "ratio low": 9300.0}]
    assert claims_ratio.ratio_trend_status(flat)[0] == "supported"
    assert claims_ratio.ratio_trend_status(rising)[0] == "inconclusive"
    assert claims_ratio.ratio_trend_status(broken)[0] == "fails"
    # one doubling is not a tail; one small fall after a sharp rise is not a flat tail, two
    # flat doublings after it are
    assert claims_ratio.ratio_trend_status(rising[:2])[0] == "inconclusive"
    assert claims_ratio.ratio_trend_status(rising + [{"n": 64, "ratio low": 1.5}])[0] == \
        "inconclusive"
    assert claims_ratio.ratio_trend_status(rising + [{"n": 64, "ratio low": 1.55},
                                                     {"n": 128, "ratio low": 1.58}])[0] == \
        "supported"


def test_clm_mcsf_ratio_growth_reading_is_bracketed_and_checked():
    from kvtheory.theory.ratio_search import worst_ratio_at_size
    res = worst_ratio_at_size(np.random.default_rng(3), 10, 20, restarts=1, steps=4,
                              search_evals=50, final_evals=300)
    assert 1.0 <= res.ratio_low <= res.ratio_high
    assert res.ratio_low <= res.trivial == 10          # the trivial bound: never above n
    assert all(ratio.ratio_conditions(res.instance).values())
    opt = solve_optimal(res.instance, time_limit=60)
    if opt.proven_optimal:                              # the bracket holds the true ratio
        assert res.lower <= opt.objective <= res.upper


def test_lemma_terms_match_definition():
    rng = np.random.default_rng(0)
    for _ in range(30):
        inst = ratio.ratio_instance(rng, int(rng.integers(1, 12)), 30)
        o, s = inst.output.tolist(), int(inst.prompt[0])
        counts = {v: o.count(v) for v in set(o)}
        A = sum(n * sum(counts[w] * ratio.volume(s, w) for w in counts if w <= v)
                for v, n in counts.items())
        t = ratio.lemma_terms(inst)
        assert t["A"] == A and t["B"] == sum(o)


def test_final_bound_follows_from_lemmas():
    # (1536 A/M + 24 B) / (A/(6M) + B/6) <= 9216 for every A, B >= 0
    rng = np.random.default_rng(1)
    for A, B, M in rng.integers(1, 10_000, size=(200, 3)):
        up = 1536 * A / M + 24 * B
        lo = A / (6 * M) + B / 6
        assert up / lo <= ratio.RATIO_BOUND + 1e-9
    assert ratio.RATIO_BOUND == 9216


def test_group_spans_reading():
    inst = Instance.from_arrays([0] * 4, [1] * 4, [2, 3, 3, 5], memory=12)
    sched = simulate(inst, mc_sf)
    rows = ratio.group_spans(sched)
    comp = {r.id: r.completion for r in sched.records}
    start = {r.id: r.start for r in sched.records}
    g1 = next(r for r in rows if r["group"] == 1)          # outputs 2, 3, 3
    assert g1["span"] == max(comp[i] for i in (0, 1, 2)) - min(start[i] for i in (0, 1, 2))
    assert g1["start_span"] <= g1["span"]


def test_conditions_and_generator():
    inst = ratio.ratio_instance(np.random.default_rng(3), 10, 24, alpha=3.0)
    assert ratio.ratio_conditions(inst, alpha=3.0) == dict.fromkeys("abcd", True)
    with pytest.raises(ValueError, match="no output length"):
        ratio.ratio_instance(np.random.default_rng(0), 3, 6, prompt=3)
    bad = Instance.from_arrays([0, 1], [1, 2], [2, 2], memory=6)
    assert ratio.ratio_conditions(bad) == {"a": False, "b": False, "c": False, "d": True}


def test_lemma_4_7_uses_the_right_direction_when_unproven():
    # a timed-out solve: OPT >= lower_bound, so bound <= lower_bound verifies the lemma
    inst = ratio.ratio_instance(np.random.default_rng(5), 6, 20)
    res = solve_optimal(inst)
    assert res.proven_optimal
    assert res.lower_bound <= res.objective
    assert ratio.lemma_4_7_bound(inst) <= res.objective


def test_adversarial_search_respects_conditions_and_is_deterministic():
    a = ratio.adversarial_search(np.random.default_rng(7), restarts=2, steps=6, max_n=5)
    b = ratio.adversarial_search(np.random.default_rng(7), restarts=2, steps=6, max_n=5)
    assert a.ratio == b.ratio and a.instance == b.instance
    assert all(ratio.ratio_conditions(a.instance).values())
    assert a.ratio == a.mcsf / a.opt >= 1.0
    opt = solve_optimal(a.instance)
    assert opt.proven_optimal and opt.objective == a.opt
    check_schedule(a.instance, simulate(a.instance, mc_sf))
    assert list(a.history) == sorted(a.history)
    with pytest.raises(ValueError, match="letters"):
        ratio.adversarial_search(np.random.default_rng(0), drop=["e"])


def test_adversarial_search_with_a_dropped_condition():
    res = ratio.adversarial_search(np.random.default_rng(8), restarts=1, steps=6, max_n=5,
                                   drop=["a"], max_arrival=3)
    cond = ratio.ratio_conditions(res.instance)
    assert cond["b"] and cond["c"] and cond["d"]


def test_dropped_prediction_condition_is_unbounded():
    rows = ratio.dropped_condition_table([2, 4, 8], time_limit=60)
    d = [r for r in rows if r["dropped"] == "d"]
    assert all(r["proven"] and r["violated"] == "d" for r in d)
    ratios = [r["ratio"] for r in d]
    assert ratios == sorted(ratios) and ratios[-1] > 5       # grows linearly in k
    for r in rows:
        assert r["ratio"] >= 1 and set(r["violated"]) <= {r["dropped"]}
    with pytest.raises(ValueError):
        ratio.dropped_condition_instance("x", 1)


def test_dropped_d_closed_forms_match_simulation_checker_and_optimum():
    d = ratio.dropped_d_derivation()
    k = d["k"]
    for kk in range(1, 11):
        inst = ratio.dropped_condition_instance("d", kk)
        # MC-SF: the two long ones, then the short ones in pairs (hand count, not the code)
        expected = 2 * 2 * kk + sum(2 * (2 * kk + i + 1) for i in range(kk)) + 3 * kk + 1
        assert simulate(inst, mc_sf).total_latency == expected == d["mcsf"].subs(k, kk)
        assert check_schedule(inst, ratio.dropped_d_schedule(kk)).total_latency == 6 * kk + 3
        assert d["opt_upper"].subs(k, kk) == 6 * kk + 3 and d["opt_lower"].subs(k, kk) == 6 * kk + 1
    for kk in (1, 2, 3):
        res = solve_optimal(ratio.dropped_condition_instance("d", kk))
        assert res.proven_optimal and res.objective == 6 * kk + 3
    assert str(d["slope"]) == "5/6"


def test_ratio_growth_rule_sees_a_growing_planted_policy():
    """One request at a time has ratio (n + 1) / 2 on n requests (0, 1, 1) with M = 2n; the
    growth search at the reading's sizes, pointed at it, is not graded a flat tail."""
    from kvtheory.engines.policies.planted import one_at_a_time
    from kvtheory.theory.ratio_search import worst_ratio_at_size
    for n in (4, 9):
        inst = Instance.from_arrays([0] * n, [1] * n, [1] * n, memory=2 * n)
        assert simulate(inst, one_at_a_time).total_latency == n * (n + 1) // 2
    rows = [worst_ratio_at_size(np.random.default_rng(claims_ratio.RATIO_SEED + k), n, M,
                                restarts=1, steps=2, search_evals=50, final_evals=200,
                                policy=one_at_a_time).row()
            for k, (n, M) in enumerate(claims_ratio.RATIO_SIZES[:3])]
    assert claims_ratio.ratio_trend_status(rows)[0] != "supported", rows


def test_lemma_4_7_area_term_against_the_svf_sum_for_identical_requests():
    """The book's derivation (SVF chapter exercise): for n identical requests, A = 2n/(n+1)
    times the SVF sum, so A/(6M) is n/(3(n+1)) <= 1/3 of the SVF bound, not a factor 2 short."""
    import sympy as sp
    n, v, M = sp.symbols("n v M", positive=True)
    A, svf = n * (n * v), v * n * (n + 1) / 2
    assert sp.simplify(A / svf - 2 * n / (n + 1)) == 0
    assert sp.simplify((A / (6 * M)) / (svf / M) - n / (3 * (n + 1))) == 0
    assert sp.limit(n / (3 * (n + 1)), n, sp.oo) == sp.Rational(1, 3)
    for k, s, o in ((1, 1, 1), (3, 2, 5), (7, 1, 4)):
        inst = Instance.from_arrays([0] * k, [s] * k, [o] * k, memory=4 * (s + o))
        vol = s * o + o * (o + 1) // 2
        svf_sum = sum(j * vol for j in range(1, k + 1))
        assert lemma_terms_A(inst) * (k + 1) == 2 * k * svf_sum
    from pathlib import Path
    text = " ".join((Path(__file__).parents[1] / "book" / "succ_volume.md").read_text().split())
    assert "which is why Lemma 4.7 divides by 6" not in text       # did not follow from 2
    assert "$2n/(n+1)$ times the SVF bound" in text and "$n/(3(n+1))$" in text


def lemma_terms_A(inst):
    return ratio.lemma_terms(inst)["A"]
