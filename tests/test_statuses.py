"""Every reading declares the statuses its check can return, and a test reaches each of them.

:data:`REACHES` maps every declared ``(claim, reading, status)`` of the registry to the test
that reaches it (small fixtures or injected evidence); :func:`test_every_declared_status_is_reached`
asserts the table covers every declared pair and that each named test exists.  Readings whose
status comes from :func:`kvtheory.claims.grade` are reached through ``grade`` with injected
evidence (:func:`test_graded_reading_reaches`); readings with their own rule are reached
through that rule, below or in the claim's test file.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kvtheory.claims import CLAIMS, ClaimCheck, Verdict, claim, grade
from kvtheory.claims import _run, successors_a

ROOT = Path(__file__).resolve().parents[1]
HERE = "tests/test_statuses.py"

#: Readings not yet covered here.  The set may only shrink; it is empty.
PENDING: set = set()

#: Readings whose status is computed by ``grade`` from a ClaimCheck (the statuses listed are
#: reached through ``grade`` with injected evidence).
GRADED = {
    ("clm_ip_exact", "every tiny instance"),
    ("clm_peak_rows", "every tiny schedule"), ("clm_peak_rows", "the bound below the optimum"),
    ("clm_mcsf_feasible", "o <= õ <= 2o"), ("clm_peak_points", "±50% prediction noise"),
    ("clm_clear_all_livelock", "witness"), ("clm_mcsf_runtime", "median decision time"),
    ("clm_lb_deterministic", "non-preemptive"), ("clm_lb_randomized", "non-preemptive"),
    ("clm_kv_capacity", "fits"), ("clm_kv_capacity", "standard accounting"),
    ("clm_identical_exact", "identical requests"),
    ("clm_fluid_benchmark", "symbolic"), ("clm_wait_no_overflow", "sampled paths"),
}


def _reading(cid, name):
    return next(r for r in claim(cid).readings if r.name == name)


def _graded_pairs():
    out = []
    for cid, name in sorted(GRADED):
        for st in _reading(cid, name).statuses:
            if (cid, name, st) not in CUSTOM:
                out.append((cid, name, st))
    return out


# (claim, reading, status) -> test, for the readings with their own rule
CUSTOM = {
    ("clm_mcsf_runtime", "median decision time", "inconclusive"):
        f"{HERE}::test_runtime_without_a_fit_is_inconclusive",
    ("clm_clear_all_livelock", "witness", "proved"):
        "tests/test_claims.py::test_clm_clear_all_livelock_alpha_classes",
    ("clm_clear_all_livelock", "witness", "fails"):
        "tests/test_claims.py::test_clm_clear_all_livelock_fails_names_the_configuration",
    ("clm_lb_deterministic", "non-preemptive", "fails"):
        "tests/test_lower_bounds.py::test_lb_deterministic_fails_only_with_a_reverified_counterexample",
    ("clm_lb_deterministic", "non-preemptive", "inconclusive"):
        "tests/test_lower_bounds.py::test_lb_deterministic_error_is_inconclusive_not_fails",
    ("clm_lb_randomized", "non-preemptive", "inconclusive"):
        "tests/test_lower_bounds.py::test_lb_randomized_failure_is_inconclusive",
    ("clm_kv_capacity", "fits", "proved"):
        "tests/test_a100.py::test_clm_kv_capacity_statuses_follow_the_figures",
    ("clm_kv_capacity", "fits", "fails"):
        "tests/test_a100.py::test_clm_kv_capacity_statuses_follow_the_figures",
    ("clm_kv_capacity", "standard accounting", "proved"):
        "tests/test_a100.py::test_clm_kv_capacity_statuses_follow_the_figures",
    ("clm_kv_capacity", "standard accounting", "fails"):
        "tests/test_a100.py::test_clm_kv_capacity_statuses_follow_the_figures",
}
for _m in ("model1", "model2"):
    for _st in ("supported", "fails", "inconclusive"):
        CUSTOM[(f"clm_synthetic_{_m}", "generator as described", _st)] = \
            f"{HERE}::test_synthetic_described_reaches"
        CUSTOM[(f"clm_synthetic_{_m}", "as the published code measures it", _st)] = \
            f"{HERE}::test_synthetic_code_reading_reaches"
for _cid in ("clm_real_latency", "clm_real_energy", "clm_prediction_error"):
    for _r in claim(_cid).readings:
        for _st in ("supported", "fails", "inconclusive"):
            CUSTOM[(_cid, _r.name, _st)] = f"{HERE}::test_margin_readings_reach"
for _r in claim("clm_constant_regret").readings:
    for _st in ("supported", "inconclusive"):
        CUSTOM[("clm_constant_regret", _r.name, _st)] = f"{HERE}::test_regret_readings_reach"
CUSTOM.update({
    ("clm_semionline_optimal", "MC-SF is the algorithm", "proved"):
        f"{HERE}::test_semionline_readings_reach",
    ("clm_semionline_optimal", "MC-SF is the algorithm", "fails"):
        f"{HERE}::test_semionline_readings_reach",
    ("clm_semionline_optimal", "arbitrary", "proved"):
        "tests/test_semionline.py::test_semionline_hardness_is_conditional_never_fails",
})
for _x in ("equal-prompt-2M", "equal-prompt", "arbitrary"):
    for _st in ("supported", "inconclusive"):
        CUSTOM[("clm_semionline_optimal", _x, _st)] = f"{HERE}::test_semionline_readings_reach"

# readings with their own rule, reached in their claims' test files
for _r in ("preemptive (evict and recompute)",):
    for _cid in ("clm_lb_deterministic", "clm_lb_randomized"):
        for _st in ("proved", "fails", "inconclusive"):
            CUSTOM[(_cid, _r, _st)] = \
                "tests/test_lower_bounds.py::test_pre_status_rule_reaches_every_status"
for _st in ("supported", "inconclusive", "fails"):
    CUSTOM[("clm_mcsf_ratio", "conditions (a)-(d), worst ratio as n grows", _st)] = \
        "tests/test_ratio.py::test_clm_mcsf_ratio_trend_reaches_every_status"
for _cid in ("clm_lemma_4_4", "clm_lemma_4_5", "clm_lemma_4_7"):
    for _st in ("supported", "fails", "inconclusive"):
        CUSTOM[(_cid, "exact predictions", _st)] = \
            "tests/test_ratio.py::test_lemma_readings_reach_every_status"
for _cid, _name in (("clm_ip_exact", "random small instances"),
                   ("clm_no_policy_beats_opt", "every policy")):
    for _st in ("supported", "fails", "inconclusive"):
        CUSTOM[(_cid, _name, _st)] = \
            "tests/test_claims.py::test_ip_and_policy_readings_reach_every_status"
for (_cid, _name), _sts in successors_a.DECLARED.items():
    for _st in _sts:
        CUSTOM[(_cid, _name, _st)] = \
            "tests/test_successors_a.py::test_every_declared_status_is_reached_by_this_file"
_SUCC_B = {"clm_wait_rates": "tests/test_fluid.py::test_clm_wait_rates",
           "clm_fcfs_gap": "tests/test_fluid.py::test_clm_fcfs_gap",
           "clm_nested_wait": "tests/test_fluid.py::test_clm_nested_wait",
           "clm_budget_stability": "tests/test_token_budget.py::test_clm_budget_stability",
           "clm_budget_kmax": "tests/test_token_budget.py::test_clm_budget_kmax",
           "clm_budget_mcsf": "tests/test_token_budget.py::test_clm_budget_mcsf"}
for _cid, _test in _SUCC_B.items():
    for _r in claim(_cid).readings:
        for _st in _r.statuses:
            CUSTOM[(_cid, _r.name, _st)] = _test

REACHES = {**{p: f"{HERE}::test_graded_reading_reaches" for p in _graded_pairs()}, **CUSTOM}


# --------------------------------------------------------------------------- the table
def test_every_declared_status_is_reached():
    declared = {(c.id, r.name, st) for c in CLAIMS for r in c.readings
                if (c.id, r.name) not in PENDING for st in r.statuses}
    assert set(REACHES) == declared, (sorted(declared - set(REACHES)),
                                      sorted(set(REACHES) - declared))
    for node in set(REACHES.values()):
        path, _, func = node.partition("::")
        assert re.search(rf"^def {func}\(", (ROOT / path).read_text(), flags=re.M), node
    readings = {(c.id, r.name) for c in CLAIMS for r in c.readings}
    assert PENDING <= readings and len(PENDING) <= 2


def test_declarations_are_well_formed():
    for c in CLAIMS:
        for r in c.readings:
            assert r.statuses and len(set(r.statuses)) == len(r.statuses), (c.id, r.name)
            if len(r.statuses) == 1:        # one status decides nothing unless it is a proof
                assert r.statuses == ("inconclusive",) or (
                    r.statuses == ("proved",) and r.method in ("exhaustive", "symbolic"))


def test_verify_refuses_an_undeclared_status(monkeypatch):
    c = claim("clm_kv_capacity")
    fake = lambda quick: tuple(Verdict(c.id, r.name, "supported", "e", "s")   # noqa: E731
                               for r in c.readings)
    from dataclasses import replace
    from kvtheory.claims import registry
    monkeypatch.setattr(registry, "claim", lambda cid: replace(c, check=fake))
    with pytest.raises(_run.CheckFailed, match="does not declare"):
        _run._check_one(c.id, True)


def test_current_statuses_are_declared():
    """Registry-wide: every reading's current (quick) status is one it declares.  ``verify``
    refuses an undeclared status, so this also runs every check once (cached by code key).
    Power: every sample/measured verdict reports it or is listed in POWER_PENDING, and none
    listed there reports it (so the list only shrinks)."""
    from kvtheory.claims import POWER_PENDING, verify
    got = verify(quick=True, cache=True, workers=2)
    declared = {(c.id, r.name): r.statuses for c in CLAIMS for r in c.readings}
    assert {(v.claim, v.reading) for v in got} == set(declared)
    for v in got:
        assert v.status in declared[(v.claim, v.reading)], (v.claim, v.reading, v.status)
    method = {(c.id, r.name): r.method for c in CLAIMS for r in c.readings}
    for v in got:
        key = (v.claim, v.reading)
        if method[key] in ("sample", "measured"):
            assert (v.power is not None) != (key in POWER_PENDING), key
            assert v.row()["power"] == v.power
        else:
            assert v.power is None, key


def test_power_pending_lists_only_sample_and_measured_readings():
    from kvtheory.claims import POWER_PENDING
    method = {(c.id, r.name): r.method for c in CLAIMS for r in c.readings}
    assert POWER_PENDING <= set(method)
    assert {method[k] for k in POWER_PENDING} <= {"sample", "measured"}
    assert ("clm_sortedf_ratio", "our Sorted-F rule") not in POWER_PENDING


def test_grade_with_power():
    """Power below POWER_MIN turns a passed search inconclusive; enough power supports it;
    power on a proof is refused; zero cases compared is inconclusive whatever the power."""
    from kvtheory.claims import POWER_MIN, Reading
    ok = ClaimCheck("clm_x", True, 4, {}, "no ratio above 48")
    r = Reading("s", "random", "sample")
    low = {"planted": "idler", "found": 7, "of": 10}
    assert 7 / 10 < POWER_MIN
    v = grade("clm_x", r, ok, searched="4", power=low)
    assert v.status == "inconclusive" and "7 of 10" in v.evidence and "idler" in v.decide
    assert v.row()["power"] == low
    assert grade("clm_x", r, ok, searched="4", power={**low, "found": 8}).status == "supported"
    assert grade("clm_x", r, ok, searched="4").status == "supported"      # pending: as before
    bad = ClaimCheck("clm_x", False, 4, {}, "49 > 48", counterexample="M=2: ...")
    assert grade("clm_x", r, bad, searched="4", power=low).status == "fails"
    none = ClaimCheck("clm_x", True, 0, {}, "every solve timed out")
    assert grade("clm_x", r, none, searched="0", power={**low, "found": 10}).status == \
        "inconclusive"
    with pytest.raises(ValueError, match="power is for sample and measured"):
        grade("clm_x", Reading("p", "all", "exhaustive"), ok, searched="4", power=low)
    with pytest.raises(ValueError, match="power must be"):
        Verdict("clm_x", "s", "supported", "e", "s", power={"planted": "x", "found": 2, "of": 1})


# --------------------------------------------------------------------------- graded readings
@pytest.mark.parametrize("cid,name,status", _graded_pairs(),
                         ids=[f"{a}|{b}|{c}" for a, b, c in _graded_pairs()])
def test_graded_reading_reaches(cid, name, status):
    """Injected evidence through ``grade``: a pass, a counterexample, a failure without one."""
    r = _reading(cid, name)
    rep = {"proved": ClaimCheck(cid, True, 1, {}, "ok"),
           "supported": ClaimCheck(cid, True, 1, {}, "ok"),
           "fails": ClaimCheck(cid, False, 1, {}, "bad", counterexample={"n": 1}),
           "inconclusive": ClaimCheck(cid, False, 1, {}, "time-out")}[status]
    assert grade(cid, r, rep, searched="injected").status == status


def test_runtime_without_a_fit_is_inconclusive(monkeypatch):
    from kvtheory.claims import mcsf
    monkeypatch.setattr(mcsf, "check_mcsf_runtime", lambda rng, memories, policy: ClaimCheck(
        "clm_mcsf_runtime", False, 2, {"exponent": 2.7}, "median time grows like M^2.70"))
    (v,) = mcsf._runtime(True)
    assert v.status == "inconclusive" and v.decide


# --------------------------------------------------------------------------- synthetic
def _summary(model, **kw):
    row = {"policy": "mc-sf", "trials": 4, "proven": 4, "mean": 1.0, "ci_low": 1.0,
           "ci_high": 1.0, "ci_high_upper": 1.0, "mean_upper": 1.0, "worst": 1.0,
           "optimal": 4, "beaten": 0}
    return {**row, **kw}


@pytest.mark.parametrize("model", ["model1", "model2"])
def test_synthetic_described_reaches(monkeypatch, model):
    from kvtheory.claims import synthetic as cs
    m = cs.PAPER_FIGURES[model]["mean"]
    cases = {"supported": _summary(model, mean=m, ci_low=m - 0.01, ci_high=m + 0.01),
             "fails": _summary(model, mean=m + 0.1, ci_low=m + 0.05, ci_high=m + 0.15,
                               ci_high_upper=m + 0.15),
             "inconclusive": _summary(model, proven=1, mean=m + 0.1, ci_low=m - 0.05,
                                      ci_high=m + 0.15, ci_high_upper=m + 0.3)}
    planted = _summary(model, policy="longest-first", mean=m + 0.3, ci_low=m + 0.2,
                       ci_high=m + 0.4, ci_high_upper=m + 0.5)
    for status, row in cases.items():
        def fake(*args, row=row):
            return ClaimCheck(f"clm_synthetic_{model}", False, 4, {}, "injected", None,
                              {"verdict": cs.verdict(row, model), "summary": [row],
                               "rows": [], "planted": planted,
                               "planted_verdict": cs.verdict(planted, model),
                               "power": {"planted": "p", "found": 1, "of": 1}})
        monkeypatch.setattr(cs, "_check", fake)
        (v,) = cs._synthetic(model)(True)
        assert v.status == status, (model, status)
        if status == "fails":
            assert "lies below" in v.counterexample


@pytest.mark.parametrize("model", ["model1", "model2"])
def test_synthetic_code_reading_reaches(monkeypatch, model):
    from kvtheory.claims import synthetic as cs
    from kvtheory.studies import code_reading
    m = cs.PAPER_FIGURES[model]["mean"]
    base = pd.DataFrame({"mcsf": [100, 100], "incumbent": [100, 100], "best_known": [95, 95],
                         "improved": [False, False], "proven": [True, True],
                         "dual_gap": [0.0, 0.0]})
    cases = {"supported": base.assign(ratio=[m, m]),
             "fails": base.assign(ratio=[m + 0.2, m + 0.2]),
             "inconclusive": base.assign(ratio=[m, m], proven=[True, False])}
    planted = base.assign(ratio=[m + 0.3, m + 0.3])       # proven and far off: graded 'fails'
    for status, df in cases.items():
        monkeypatch.setattr(code_reading, "code_reading_trials",
                            lambda *a, df=df, **k: planted if k.get("policy") == "longest-first"
                            else df)
        v = cs._code_reading(model, True)
        assert v.status == status, (model, status)


# --------------------------------------------------------------------------- A100 margins
def test_margin_readings_reach():
    """Injected per-seed margins through the margin rule, for every rate reading."""
    from kvtheory.claims import a100 as ca
    groups = {"clm_real_latency": (ca._LAT, ca._LAT_P), "clm_real_energy": (ca._EN, ca._EN_P),
              "clm_prediction_error": (ca._PE, ca._PE_P)}
    margins = {"supported": [0.10, 0.12, 0.11], "fails": [-0.10, -0.08, -0.12],
               "inconclusive": [0.10, -0.10, 0.02]}
    for cid, dicts in groups.items():
        assert {r.name for d in dicts for r in d.values()} == {r.name for r in
                                                               claim(cid).readings}
        for readings in dicts:
            for status, ms in margins.items():
                got = ca._margin_verdicts(cid, readings, (0, 1, 2), 2_000, True,
                                          lambda rate, ms=ms: list(zip((0, 1, 2), ms)), "wins",
                                          lambda rate: [(0, -0.3), (1, -0.2), (2, -0.4)])
                assert {v.status for v in got} == {status}, (cid, status)
                assert {(v.power["found"], v.power["of"]) for v in got} == {(3, 3)}


# --------------------------------------------------------------------------- regret
def test_regret_readings_reach(monkeypatch):
    """Injected regret figures through the readings' rules (full horizons)."""
    from kvtheory.claims import regret as cr

    def fake_constant(bounded):
        def check(rng, **kw):
            rows = [{"policy": p, "T": T, "regret_opt": (1.0 if bounded and p == "mc-sf"
                                                         else T / 5), "ci95": 0.2,
                     "samples": 8} for p in ("mc-sf", "fluid") for T in kw["small_horizons"]]
            exps = {"mc-sf @ 0.5": 0.1 if bounded else 1.0, "mc-sf @ 0.9": 0.1 if bounded
                    else 1.3}
            # the planted one-at-a-time policy grows in both cases (the rule must see it)
            grown = [{"policy": cr.PLANTED, "T": T, "regret_opt": T / 2, "ci95": 0.2,
                      "samples": 8} for T in kw["small_horizons"]]
            return ClaimCheck("clm_constant_regret", bounded, 1, {}, "injected", None,
                              {"exponent": exps, "fluid_rows": [], "hindsight_rows": rows,
                               "planted hindsight rows": grown,
                               "planted exponent": {f"{cr.PLANTED} @ 0.5": 1.0}})
        return check

    def fake_separate(grows):
        def check(rng, **kw):
            g = {"grows": grows, "T": (20, 40), "first": (0.1, 0.3),
                 "last": (0.5, 0.9) if grows else (0.1, 0.3)}
            up = {"grows": True, "T": (20, 40), "first": (0.1, 0.3), "last": (0.5, 0.9)}
            return ClaimCheck("clm_constant_regret", not grows, 1, {}, "injected", None,
                              {"grows": {"best online (MDP)": g, "lp re-solve": g},
                               "model": "injected", "rows": [], "planted": {cr.PLANTED: up}})
        return check

    for status, flat in (("supported", True), ("inconclusive", False)):
        monkeypatch.setattr(cr, "check_constant_regret", fake_constant(flat))
        monkeypatch.setattr(cr, "check_separate_regret", fake_separate(not flat))
        got = cr._regret(False)
        assert [v.reading for v in got] == [r.name for r in claim("clm_constant_regret").readings]
        assert {v.status for v in got} == {status}, [(v.reading, v.status) for v in got]


# --------------------------------------------------------------------------- semi-online
def test_semionline_readings_reach(monkeypatch):
    """Family sizes as fixtures: one request per instance (every rule exact: MC-SF proved,
    the rule readings supported) and small families (MC-SF fails, no rule exact)."""
    from kvtheory.claims import semionline as cso
    real = cso.check_semionline_optimal
    names = ("MC-SF is the algorithm", "equal-prompt-2M", "equal-prompt", "arbitrary")

    def run(sizes, hard):
        monkeypatch.setattr(cso, "check_semionline_optimal", lambda rng, sizes_=None, **kw:
                            real(rng, sizes=sizes, random_trials=2, random_n=1))
        monkeypatch.setattr(cso, "_hardness", lambda quick: {
            "holds": hard, "instances": 1, "yes": 1, "no": 0, "searched": "injected"})
        return {v.reading: v.status for v in cso._semionline(True)}

    one = {"equal-prompt-2M": (1, 2, 6), "equal-prompt": (1, 2, 4), "arbitrary": (1, 2, 4)}
    assert run(one, False) == dict(zip(names, ("proved", "supported", "supported",
                                               "supported")))
    small = {"equal-prompt-2M": (5, 4, 10), "equal-prompt": (4, 3, 5), "arbitrary": (3, 3, 4)}
    assert run(small, False) == dict(zip(names, ("fails", "inconclusive", "inconclusive",
                                                 "inconclusive")))
