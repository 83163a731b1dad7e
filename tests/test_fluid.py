"""Fluid-guided batching (arXiv 2504.11320): stage model, checker, policies, claims."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory import Instance, simulate
from kvtheory.claims._core import ClaimCheck, Reading, grade
from kvtheory.claims.successors_b import (CLAIMS, check_fluid, check_wait_no_overflow,
                                          fcfs_example, fcfs_statuses, grade_rate,
                                          wait_rate_fits)
from kvtheory.engines.fluid import (StagePolicyError, StageDecision, StageWorkload,
                            fit_slope, fluid_equilibrium, rate_samples,
                            sample_stage_instance, simulate_stages, stage_metrics,
                            threshold_condition, wait_thresholds)
from kvtheory.model.fluid_checker import (StageInstance, StageSchedule, StageScheduleError,
                                    check_stage_schedule)
from kvtheory.engines.fluid_policies import STAGE_POLICIES
from kvtheory.engines.policies import mc_sf


# --------------------------------------------------------------------------- the checker
INST = StageInstance.from_arrays([0, 0, 1], [1, 2, 1], [1, 2, 1], memory=6)


def _sched(*rounds, evict=None):
    evict = evict or [()] * len(rounds)
    return StageSchedule(tuple(tuple(r) for r in rounds), tuple(tuple(e) for e in evict))


def test_checker_accepts_a_valid_schedule():
    rep = check_stage_schedule(INST, _sched([(0, 0), (1, 0)], [(0, 1), (1, 1), (2, 0)],
                                            [(1, 2), (2, 1)]))
    assert rep.completion.tolist() == [2, 3, 3]
    assert rep.memory.tolist() == [3, 6, 6]            # 1+2; 2+3+1; 4+2


@pytest.mark.parametrize("sched, match", [
    (_sched([(2, 0)]), "before its arrival"),
    (_sched([(0, 1)]), "expected stage 0"),
    (_sched([(0, 0), (0, 0)]), "twice"),
    (_sched([(1, 0)], [(1, 2)]), "expected stage 1"),
    (_sched([(0, 0)], [(0, 1)], [(0, 1)]), "already completed"),
    (_sched([(1, 0)], [(1, 1), (0, 0), (2, 0)], [(1, 2), (0, 1), (2, 1)]), "memory"),
    (_sched([(0, 0)], [], evict=[(), (1,)]), "not resident"),
    (_sched([(7, 0)]), "no prompt"),
])
def test_checker_rejects_bad_schedules(sched, match):
    with pytest.raises(StageScheduleError, match=match):
        check_stage_schedule(INST, sched)


def test_checker_eviction_restarts_progress():
    rep = check_stage_schedule(INST, _sched([(1, 0)], [(1, 1)], [(1, 0)],
                                            evict=[(), (), (1,)]))
    assert rep.evictions == 1 and rep.completion[1] == -1
    with pytest.raises(StageScheduleError, match="expected stage 0"):
        check_stage_schedule(INST, _sched([(1, 0)], [(1, 1)], [(1, 2)], evict=[(), (), (1,)]))


# --------------------------------------------------------------------------- engine + policies
@st.composite
def workloads(draw, reveal=True, common_l=False):
    k = draw(st.integers(1, 3))
    l0 = draw(st.integers(1, 3))
    types = tuple((l0 if common_l else draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                   draw(st.sampled_from([0.3, 0.7, 1.0, 1.6, 2.5]))) for _ in range(k))
    need = max(l + o for l, o, _ in types)
    C = draw(st.integers(need, need + 25))
    return StageWorkload(types, memory=C, reveal_types=reveal)


@settings(max_examples=40, deadline=None)
@given(w=workloads(), seed=st.integers(0, 10_000), name=st.sampled_from(["wait", "fcfs",
                                                                          "mc-sf"]))
def test_every_policy_schedule_passes_checker(w, seed, name):
    inst = sample_stage_instance(w, 40, np.random.default_rng(seed))
    sched = simulate_stages(inst, STAGE_POLICIES[name], 60, w)
    rep = check_stage_schedule(inst, sched)
    if name == "mc-sf":
        assert rep.evictions == 0
    if name == "wait":
        tc = threshold_condition(w, wait_thresholds(w))
        if tc["fits"]:
            assert rep.evictions == 0 and rep.peak_memory <= tc["M_pi"]


@settings(max_examples=30, deadline=None)
@given(w=workloads(reveal=False, common_l=True), seed=st.integers(0, 10_000))
def test_nested_wait_schedule_passes_checker(w, seed):
    inst = sample_stage_instance(w, 40, np.random.default_rng(seed))
    sched = simulate_stages(inst, STAGE_POLICIES["nested-wait"], 60, w)
    check_stage_schedule(inst, sched)


def test_type_knowledge_goes_through_workload_option():
    w = StageWorkload(((1, 1, 2.0),), memory=6, reveal_types=False)
    inst = sample_stage_instance(w, 5, np.random.default_rng(0))
    for name in ("wait", "mc-sf"):
        with pytest.raises(ValueError, match="reveal_types"):
            simulate_stages(inst, STAGE_POLICIES[name], 5, w)
    simulate_stages(inst, STAGE_POLICIES["fcfs"], 5, w)     # FCFS needs no types


def test_engine_rejects_bad_decisions():
    w = StageWorkload(((1, 1, 2.0),), memory=2)
    inst = StageInstance.from_arrays([0, 0, 3], [1, 1, 1], [1, 1, 1], memory=2)
    with pytest.raises(StagePolicyError, match="memory"):
        simulate_stages(inst, lambda s: StageDecision([0, 1]) if s.t == 0 else
                        StageDecision([0, 1]), 2, w)
    with pytest.raises(StagePolicyError, match="not waiting"):
        simulate_stages(inst, lambda s: StageDecision([2]), 1, w)
    with pytest.raises(StagePolicyError, match="not resident"):
        simulate_stages(inst, lambda s: StageDecision(evict=[0]), 1, w)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), C=st.integers(9, 20))
def test_mc_sf_matches_round_engine(seed, C):
    """Without skipping, the stage model is the main round model with s = l - 1, o = l' + 1,
    arrivals and completions one round later; MC-SF must agree exactly with kvtheory's."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    a = np.sort(rng.integers(0, 6, n))
    l = rng.integers(2, 4, n)
    o = rng.integers(1, 4, n)
    w = StageWorkload(tuple((int(x), int(y), 1.0) for x, y in zip(l, o)), memory=C)
    stage = StageInstance.from_arrays(a + 1, l, o, C, kind=np.arange(n))
    sched = simulate_stages(stage, STAGE_POLICIES["mc-sf"], 80, w)
    comp = check_stage_schedule(stage, sched).completion
    main = simulate(Instance.from_arrays(a, l - 1, o + 1, memory=C), mc_sf)
    assert comp.tolist() == [r.completion + 1 for r in main.records]


def test_wait_counts_never_exceed_threshold():
    w = StageWorkload(((1, 2, 2.0), (2, 1, 1.0)), memory=40)
    n = wait_thresholds(w)
    inst = sample_stage_instance(w, 300, np.random.default_rng(5))
    sched = simulate_stages(inst, STAGE_POLICIES["wait"], 300, w)
    for batch in sched.batches:
        for j, nj in enumerate(n):
            for s in range(4):
                assert sum(1 for i, st_ in batch if inst.kind[i] == j and st_ == s) <= nj


def test_fluid_and_thresholds():
    w = StageWorkload(((1, 1, 4.0),), memory=12)
    fe = fluid_equilibrium(w)
    assert fe["memory"] == 12.0 and fe["throughput"] == 4.0       # hand: 4*1 + 4*2
    assert threshold_condition(w, [4])["case"] == "equality"
    assert threshold_condition(w, [3])["case"] == "violated"
    w2 = StageWorkload(((2, 3, 1.0),), memory=40, d1=0.01)        # rho = 4 * 3.5 = 14
    assert abs(fluid_equilibrium(w2)["memory"] - 14 / 0.86) < 1e-9


def test_metrics_by_hand():
    inst = StageInstance.from_arrays([0, 1, 5], [1, 1, 1], [2, 3, 1], memory=10)
    m = stage_metrics(inst, np.array([3, 6, -1]), 6)
    assert m["throughput"] == 5 / 6                  # 2 + 3 tokens done by round 6
    assert m["latency"] == (3 + 5 + 1) / 3


def test_fit_slope_recovers_power():
    rows = [{"T": T, "path": k, "x": 2.0 * T ** 0.5 + 0.01 * k} for T in (10, 100, 1000)
            for k in range(4)]
    f = fit_slope(rows, "x", np.random.default_rng(0), boot=50)
    assert abs(f["slope"] - 0.5) < 0.01


def test_wait_beats_fcfs_in_the_example():
    w = StageWorkload(((1, 1, 4.0),), memory=12)
    rows = {name: rate_samples(w, STAGE_POLICIES[name], [600], 3, np.random.default_rng(1))
            for name in ("wait", "fcfs")}
    assert max(r["gap_fluid"] for r in rows["wait"]) < 0.4
    assert min(r["gap_fluid"] for r in rows["fcfs"]) > 0.8        # > 20 % of 4 tokens/round


# --------------------------------------------------------------------------- claims
def test_clm_fluid_benchmark():
    rep = check_fluid()
    assert rep.holds
    r = Reading("symbolic", "x", "symbolic")
    assert grade("clm_fluid_benchmark", r, rep, searched="s").status == "proved"
    bad = ClaimCheck("clm_fluid_benchmark", False, 1, {}, "x", counterexample="a formula")
    assert grade("clm_fluid_benchmark", r, bad, searched="s").status == "fails"


def test_clm_wait_rates():
    f = wait_rate_fits(np.random.default_rng(7), horizons=(100, 400, 1600), paths=20,
                       boot=200)["fits"]
    assert -0.8 < f["equality/gap"]["slope"] < -0.3
    assert 0.2 < f["equality/latency"]["slope"] < 0.7
    assert -1.2 < f["strict/gap"]["slope"] < -0.8
    assert abs(f["strict/latency"]["slope"]) < 0.1
    assert grade_rate(f["strict/gap"], -1.0) == "supported"
    assert grade_rate({"slope": 0.0, "lo": -0.1, "hi": 0.2}, -0.5) == "inconclusive"


def test_clm_wait_no_overflow():
    rep = check_wait_no_overflow(np.random.default_rng(3), paths=3, horizon=200)
    assert rep.holds and rep.worst["peak/M_pi"] <= 1.0
    r = Reading("sampled paths", "x", "sample")
    assert grade("clm_wait_no_overflow", r, rep, searched="s").status == "supported"
    bad = ClaimCheck("clm_wait_no_overflow", False, 1, {}, "x", counterexample="path 0")
    assert grade("clm_wait_no_overflow", r, bad, searched="s").status == "fails"


def test_clm_fcfs_gap():
    out = fcfs_example(np.random.default_rng(2), horizons=(200, 800), paths=3)
    loss = out["loss"]
    assert loss["fcfs"][800][0] > 0.2 and loss["fcfs"][800][3] > 0        # evictions happen
    assert loss["mc-sf"][800][0] > 0.2 and loss["mc-sf"][800][3] == 0
    assert loss["wait"][800][0] < 0.1
    assert fcfs_statuses(loss, 200, 800)["persists"] == "supported"
    fake = {"fcfs": {1: (0.05, 0.0, 0.1, 0), 2: (0.4, 0.38, 0.42, 0)},
            "mc-sf": {1: (0, 0, 0, 0), 2: (0, 0, 0, 0)}}
    assert fcfs_statuses(fake, 1, 2) == {"size": "inconclusive", "persists": "inconclusive",
                                         "mcsf": "inconclusive"}


def test_clm_nested_wait():
    w = StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=24, reveal_types=False)
    rows = rate_samples(w, STAGE_POLICIES["nested-wait"], [100, 800], 6,
                        np.random.default_rng(4), check=1)
    f = fit_slope(rows, "gap", np.random.default_rng(0), boot=100)
    # the authors' memory repair evicts boundary prompts even with M^pi = 21 <= C = 24
    assert f["slope"] < -0.5 and sum(r["evictions"] for r in rows) > 0
    from kvtheory.claims.successors_b import nested_status
    assert nested_status(f) == "supported"
    assert nested_status({"slope": -0.1, "lo": -0.2, "hi": -0.05}) == "inconclusive"


def test_claims_module_shape():
    """The same pointer checks as the registry's, for this module's claims."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    ids = [c.id for c in CLAIMS]
    assert len(set(ids)) == len(ids)
    for c in CLAIMS:
        assert "arXiv 25" in __import__("json").dumps(c.row()), c.id      # names its arXiv id
        assert f":label: {c.label}" in (root / f"{c.chapter}.md").read_text()
        path, _, func = c.test.partition("::")
        assert func == f"test_{c.id}"
        assert re.search(rf"def {func}\(", (root / path).read_text())


# --------------------------------------------------------------------------- power and preconditions
def test_wait_rates_power_catches_an_unstable_wait():
    """The rate search, pointed at WAIT with n = 3 < lambda = 4, sees the growth in every reading."""
    from kvtheory.claims.successors_b import STATED
    from kvtheory.claims.successors_b_power import rates_power
    p = rates_power(True, dict(horizons=(100, 400), paths=5, boot=50), STATED)
    assert set(p) == set(STATED)
    assert all(v["found"] == v["of"] == 3 for v in p.values()), p


def test_wait_rates_planted_run_is_the_same_at_both_memories():
    """n = 3 has M^pi = 9, below both C = 12 and C = 15: one planted run serves both cases."""
    a = wait_rate_fits(np.random.default_rng(5), horizons=(50, 100), paths=3, boot=10,
                       cases=("equality",), thresholds={"equality": (3,)})["rows"]["equality"]
    w15 = StageWorkload(((1, 1, 4.0),), memory=15)
    from kvtheory.engines.fluid_policies import make_stage_policy, wait
    b = rate_samples(w15, make_stage_policy(wait, "w", thresholds=(3,)), (50, 100), 3,
                     np.random.default_rng(5), check=1)
    assert [r["latency"] for r in a] == [r["latency"] for r in b]


def test_no_overflow_search_catches_thresholds_that_do_not_fit():
    rep = check_wait_no_overflow(np.random.default_rng(0), paths=2, horizon=100,
                                 thresholds=lambda w: wait_thresholds(w, slack=1))
    assert not rep.holds and "evictions" in rep.counterexample
    from kvtheory.claims.successors_b_power import no_overflow_power
    assert no_overflow_power(True, 2, 100)["found"] == 3


def test_fcfs_readings_reject_a_vanishing_gap():
    """WAIT (gap -> 0) in FCFS's place: every FCFS reading's rule refuses it."""
    from kvtheory.claims.successors_b_power import fcfs_power
    p = fcfs_power(True, dict(horizons=(300, 1200), paths=3))
    assert {k: v["found"] for k, v in p.items()} == {"size": 3, "persists": 3, "mcsf": 3}


def test_nested_rule_refuses_a_gap_settling_to_a_constant():
    """Thresholds (3, 1) (n_1 < lambda) keep a constant gap; the old rule 'upper end < 0'
    passed it on some seeds, the rule 'upper end <= -1/4' does not, and passes (5, 2)."""
    from kvtheory.claims.successors_b import nested_gap_fit, nested_status
    kw = dict(horizons=(100, 400, 1600), paths=10)
    for seed in (1, 2):
        f = nested_gap_fit(np.random.default_rng(seed), thresholds=(3, 1), **kw)
        assert f["means"][-1] > 1.0 and nested_status(f) == "inconclusive"
    assert nested_status(nested_gap_fit(np.random.default_rng(0), **kw)) == "supported"


def test_nested_memory_and_threshold_fit():
    from kvtheory.engines.fluid_policies import nested_memory, threshold_fit
    w = StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=15, reveal_types=False)
    assert nested_memory(w, (5, 2)) == 5 * (1 + 2) + 2 * 3
    assert threshold_fit("nested-wait", w)["fits"] is False
    assert threshold_fit("nested-wait", StageWorkload(w.types, 24, False))["fits"] is True
    assert threshold_fit("wait", StageWorkload(w.types, 15))["M_pi"] == 15.0


def test_comparison_table_marks_nested_wait_at_c15_outside_its_precondition():
    from kvtheory.engines.fluid_policies import policy_comparison
    rows = policy_comparison(((1, 1, 3.0), (1, 2, 1.0)), (15, 24), [60], 1,
                             np.random.default_rng(0))
    mark = {r["policy"]: r["M^pi <= C"] for r in rows}
    assert mark["nested-wait (C=15)"].startswith("no (M^pi = 21")
    assert mark["nested-wait (C=24)"] == "yes" and mark["wait (C=15)"] == "yes"
    assert mark["fcfs (C=15)"] == "-"


def test_nested_wait_repairs_memory_by_evicting_the_newest_boundary_prompt():
    """The authors' repair: evict the most recently admitted prompt waiting at a segment
    boundary (outside the batch), not a fresh prefill of the batch."""
    from kvtheory.engines.fluid import StageState
    from kvtheory.engines.fluid_policies import nested_wait
    w = StageWorkload(((1, 1, 1.0), (1, 2, 1.0)), memory=6, reveal_types=False)
    # prompts 0, 1 wait at the boundary (stage 2, hold 2 each, admitted at rounds 1 and 2);
    # prompts 2, 3, 4 wait for prefill; thresholds (3, 3): segment 1 only, 3 prefills;
    # 4 held + 3 prefilled = 7 > C = 6, so one boundary prompt goes: the newest, 1
    st_ = StageState(5, 6, 4, {(0, 0): [2, 3, 4], (0, 2): [0, 1]}, [1] * 5, [0, 0, 3, 4, 4],
                     [2, 2, 0, 0, 0], [1, 2, -1, -1, -1], None, None, w)
    dec = nested_wait(st_, thresholds=(3, 3))
    assert dec.batch == (2, 3, 4) and dec.evict == (1,)


def test_nested_wait_engine_run_is_valid_with_the_repair():
    w = StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=15, reveal_types=False)
    inst = sample_stage_instance(w, 150, np.random.default_rng(3))
    sched = simulate_stages(inst, STAGE_POLICIES["nested-wait"], 150, w)
    rep = check_stage_schedule(inst, sched)
    assert rep.evictions > 0 and rep.peak_memory <= 15


def test_chapter_reads_the_equality_latency_against_its_bound():
    """The equality-case latency interval lies below 1/2 at the chapter's sizes: the chapter
    must not say the slopes match the exponents, and its numbers are glued from the run."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "book" / "succ_fluid.md").read_text()
    f = wait_rate_fits(np.random.default_rng(0))["fits"]["equality/latency"]
    assert f["hi"] < 0.5                          # what the text explains
    assert "slopes match the stated exponents" not in text
    for key in ("slope", "lo", "hi"):
        assert f"{{glue:text}}`wr_equality_latency_{key}" in text
    assert "outside Nested WAIT's precondition" in text


def test_fluid_claims_do_not_claim_every_arxiv_version():
    """The fluid paper's statements are read from the authors' LaTeX, whose arXiv version is not
    known: no claim sourced there may say it holds in "all" versions."""
    fluid = [c for c in CLAIMS if getattr(c, "source", None) == "2504.11320"]
    assert len(fluid) >= 4
    assert all(c.versions == "current revision" for c in fluid), \
        [(c.id, c.versions) for c in fluid if c.versions != "current revision"]
