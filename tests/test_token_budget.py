"""Token-budget batching (arXiv 2504.07347): schedulers, replay check, stability, claims."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory.claims.successors_b import (budget_stability, combine, grade_budget,
                                          kmax_status, mcsf_status)
from kvtheory.theory.fluid import budget_derivation
from kvtheory.engines.token_budget import (BUDGET_POLICIES, WORK_CONSERVING, BatchClock, BudgetConfig,
                                   BudgetRun, capacity, check_budget_run, simulate_budget,
                                   vertex_c)

UNIT = BatchClock(0.0, 1.0, 1 << 30)          # every batch takes 1 ms


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), b=st.integers(4, 40),
       k=st.one_of(st.none(), st.integers(1, 6)), name=st.sampled_from(sorted(BUDGET_POLICIES)))
def test_every_scheduler_passes_replay(seed, b, k, name):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 15))
    arr = np.sort(rng.uniform(0, 30, n))
    P = rng.integers(0, b + 1, n).tolist()       # prefills that fit the budget whole
    D = rng.integers(1, 6, n).tolist()
    cfg = BudgetConfig(b, k_max=k, clock=BatchClock(1.0, 2.0, 8))
    run = simulate_budget(arr, P, D, BUDGET_POLICIES[name], cfg, 1e6)
    check_budget_run(arr, P, D, run, cfg)
    assert np.isfinite(run.completion).all()      # everything finishes eventually


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), name=st.sampled_from(WORK_CONSERVING))
def test_work_conserving_fills_the_budget(seed, name):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    P, D = rng.integers(0, 30, n).tolist(), rng.integers(1, 6, n).tolist()
    cfg = BudgetConfig(16, clock=UNIT)
    run = simulate_budget(np.zeros(n), P, D, BUDGET_POLICIES[name], cfg, 1e6)
    p, d = list(P), list(D)
    for _, _, alloc in run.batches:
        available = sum(p) + sum(1 for x, y in zip(p, d) if x == 0 and y > 0)
        assert sum(x + y for _, x, y in alloc) == min(16, available)
        for i, x, y in alloc:
            p[i] -= x
            d[i] -= y


def test_non_mixing_schedulers_never_mix():
    rng = np.random.default_rng(0)
    arr = np.sort(rng.uniform(0, 200, 60))
    for name in ("fastertransformer", "vllm"):
        run = simulate_budget(arr, [7] * 60, [5] * 60, BUDGET_POLICIES[name],
                              BudgetConfig(20, clock=UNIT), 1e6)
        for _, _, alloc in run.batches:
            kinds = {x > 0 for _, x, _ in alloc}
            assert len(kinds) == 1
            assert all(x in (0, 7) for _, x, _ in alloc)      # whole prefills only


def test_sarathi_by_hand():
    # b_max = 4; A decodes 2 tokens, B needs 3 prefill + 1 decode, both at time 0
    run = simulate_budget([0, 0], [0, 3], [2, 1], BUDGET_POLICIES["sarathi"],
                          BudgetConfig(4, clock=UNIT), 100)
    assert [b[2] for b in run.batches] == [((0, 0, 1), (1, 3, 0)), ((0, 0, 1), (1, 0, 1))]
    assert run.completion.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("mutate, match", [
    (lambda b: [(b[0][0], b[0][1], ((1, 0, 1),))] + b[1:], "decodes before"),
    (lambda b: [(b[0][0], 5.0, b[0][2])] + b[1:], "duration"),
    (lambda b: [(b[0][0], b[0][1], b[0][2] + ((0, 0, 1),) * 0 + ((1, 2, 0),))] + b[1:],
     "over-served|tokens"),
])
def test_replay_rejects_bad_runs(mutate, match):
    cfg = BudgetConfig(4, clock=UNIT)
    run = simulate_budget([0, 0], [0, 3], [2, 1], BUDGET_POLICIES["sarathi"], cfg, 100)
    bad = BudgetRun(tuple(mutate(list(run.batches))), run.completion, run.times,
                    run.backlog, run.in_system)
    with pytest.raises(ValueError, match=match):
        check_budget_run([0, 0], [0, 3], [2, 1], bad, cfg)


def test_capacity_by_hand():
    assert abs(capacity(BudgetConfig(512)) - 512 / (11.28 + 4 * 35.47)) < 1e-12
    d = budget_derivation()
    assert d["offered_vertex_c"] == d["capacity_128"]


def test_vertex_c_reproduced():
    rows = {(r["policy"], r["b_max"]): r for r in vertex_c(horizon=100_000)}
    assert rows[("sarathi", 128)]["last_batch"] == (29, 99)      # locks onto vertex C
    assert rows[("sarathi", 1024)]["growth_second_half"] > 15_000
    assert rows[("fastertransformer", 128)]["batches"] == 0      # 290 never fits 128 whole
    assert rows[("vllm", 128)]["batches"] == 0


def test_clm_budget_stability():
    out = budget_stability(np.random.default_rng(1), horizon=60_000, paths=2)
    slope = {(k, r["policy"]): r["slope"] for k, rows in out.items() for r in rows}
    assert slope[("non_wc", "fastertransformer")] > 1.0           # far from bounded
    assert abs(slope[("below", "sarathi")]) < 0.3
    s = {"lo": -0.1, "hi": 0.1, "offered": 3.0, "fluid": 0.0, "excess_hi": 0.0}
    assert grade_budget(s, expect="bounded") == "supported"
    assert grade_budget({**s, "lo": 0.3, "hi": 0.5}, expect="bounded") == "fails"
    assert grade_budget({**s, "lo": 0.0, "hi": 0.5}, expect="bounded") == "inconclusive"
    assert grade_budget({**s, "lo": 0.3}, expect="grows") == "supported"
    assert grade_budget(s, expect="grows") == "inconclusive"
    assert grade_budget(s, expect="fluid") == "supported"
    assert grade_budget({**s, "excess_hi": -1.0}, expect="fluid") == "inconclusive"
    assert combine(["supported", "fails"]) == "fails"
    assert combine(["supported", "inconclusive"]) == "inconclusive"
    assert combine(["supported", "supported"]) == "supported"


def test_clm_budget_kmax():
    rows = vertex_c((("sarathi", 128), ("sarathi", 1024)), horizon=100_000)
    assert kmax_status(rows) == "supported"
    flat = [{**r, "growth_second_half": 100} for r in rows]
    assert kmax_status(flat) == "inconclusive"


def test_clm_budget_mcsf():
    out = budget_stability(np.random.default_rng(2), horizon=40_000, paths=2,
                           parts=("above",))["above"]
    mc = np.mean([r["slope"] for r in out if r["policy"] == "mc-sf-budget"])
    sa = np.mean([r["slope"] for r in out if r["policy"] == "sarathi"])
    assert mc > sa + 0.2                          # MC-SF drains visibly slower under overload
    cap = capacity(BudgetConfig(512))
    assert mcsf_status(0.8 * cap, cap) == "supported"
    assert mcsf_status(cap, cap) == "inconclusive"


# --------------------------------------------------------------------------- capacity and power
@settings(max_examples=60, deadline=None)
@given(b_max=st.integers(1, 1100), b0=st.sampled_from([64, 128, 256]))
def test_capacity_is_the_largest_rate_of_any_batch(b_max, b0):
    """capacity() is max_b b / t(b), which is b_max / t(b_max) only when b0 divides b_max."""
    cfg = BudgetConfig(b_max, clock=BatchClock(11.28, 35.47, b0))
    best = max(b / cfg.clock.time(b) for b in range(1, b_max + 1))
    assert capacity(cfg) == pytest.approx(best, rel=1e-12)
    if b_max % b0 == 0:
        assert capacity(cfg) == pytest.approx(b_max / cfg.clock.time(b_max), rel=1e-12)


def test_capacity_of_a_budget_that_is_not_a_multiple_of_b0():
    cfg = BudgetConfig(130)
    assert capacity(cfg) == pytest.approx(128 / 46.75)
    assert capacity(cfg) > 130 / cfg.clock.time(130) + 1.0


def test_above_capacity_search_catches_a_planted_faster_clock():
    """The engine enforces the capacity by construction; a planted clock that serves faster
    than the stated one must be caught by the same search (4 paths of 60 s, seeds 1-3)."""
    from kvtheory.claims.successors_b_power import budget_power
    assert budget_power(True, "above", 60_000, 4, 1)["found"] == 3


def test_below_and_non_wc_searches_catch_their_planted_counterparts():
    from kvtheory.claims.successors_b_power import budget_power
    assert budget_power(True, "below", 40_000, 3, 0)["found"] == 3
    assert budget_power(True, "non_wc", 40_000, 3, 2)["found"] == 3


def test_kmax_search_tells_the_capped_run_from_the_uncapped_one():
    """Uncapped Sarathi-1024 is stable but still filling up at 140 s: the rule passes it there
    (no power) and refuses it at 560 s, the horizon the reading now uses."""
    pair = (("sarathi", 128), ("sarathi", 1024))
    assert kmax_status(vertex_c(pair, horizon=140_000, k_max=None)) == "supported"
    from kvtheory.claims.successors_b_power import kmax_power
    assert kmax_power(560_000)["found"] == 1


def test_mcsf_search_catches_a_scheduler_that_fills_the_budget():
    from kvtheory.claims.successors_b import mcsf_rule
    from kvtheory.claims.successors_b_power import mcsf_power
    assert mcsf_power(True, 30_000, 3, mcsf_rule)["found"] == 3
