"""Preemption (clm_lb_deterministic, preemptive readings): the two models, the brute-force
preemptive optimum against the integer program, the fat-short adversary, the game value."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import instances

from kvtheory import Instance, check_schedule
from kvtheory.model.checker import ScheduleError
from kvtheory.optimum.exact import solve_optimal
from kvtheory.theory.preemption import (
    EVICTION_RULES,
    always_evict,
    best_response_exhaustive,
    check_resume,
    fat_short_closed_form,
    fat_short_derivation,
    fat_short_instance,
    fat_short_opt,
    fat_short_run,
    never_evict,
    preemptive_optimum,
    rent_or_buy,
    srpt_fat_short,
    threshold,
)
from kvtheory.theory.preemption_game import (
    fat_short_game_value,
    preemptive_adversary_table,
    thin_short_run,
)


def test_resume_beats_recompute_by_hand():
    # L = (0, 1, 3), short (1, 3, 1), M = 4.  Non-preemptive: L rounds 1-3, short round 4
    # (3 + 3 = 6).  Resume: L round 1 (2), short round 2 (4), L rounds 3, 4 (3, 4): 4 + 1 = 5.
    inst = Instance.from_arrays([0, 1], [1, 3], [3, 1], memory=4)
    assert check_resume(inst, [[1, 3, 4], [2]]) == 5
    res = preemptive_optimum(inst, "resume")
    assert res.objective == 5
    assert check_resume(inst, res.rounds) == 5
    rec = preemptive_optimum(inst, "recompute")
    assert rec.objective == 6
    assert check_schedule(inst, rec.schedule(inst), preemptive=True).total_latency == 6


def test_resume_checker_rejects():
    inst = Instance.from_arrays([0, 1], [1, 3], [3, 1], memory=4)
    with pytest.raises(ScheduleError, match="needs o=3"):
        check_resume(inst, [[1, 3], [2]])
    with pytest.raises(ScheduleError, match="before|<= its arrival"):
        check_resume(inst, [[1, 3, 4], [1]])


def _random_tiny(rng, n):
    M = int(rng.integers(4, 8))
    s = rng.integers(1, 3, size=n)
    o = [int(rng.integers(1, max(2, min(4, M - si + 1)))) for si in s]
    a = rng.integers(0, 3, size=n)
    return Instance.from_arrays(a.tolist(), s.tolist(), o, memory=M)


@pytest.mark.parametrize("seed", range(12))
def test_recompute_optimum_equals_nonpreemptive(seed):
    # the lemma: deleting aborted attempts never hurts, so recompute-OPT = non-preemptive OPT
    rng = np.random.default_rng(seed)
    inst = _random_tiny(rng, int(rng.integers(2, 5)))
    rec = preemptive_optimum(inst, "recompute")
    check_schedule(inst, rec.schedule(inst), preemptive=True)
    ip = solve_optimal(inst)
    assert ip.proven_optimal and rec.objective == ip.objective
    res = preemptive_optimum(inst, "resume")
    assert check_resume(inst, res.rounds) == res.objective <= rec.objective


def test_fat_short_issue_numbers():
    # the issue's instance: L = (0, 16, 4), M = 20, 16 shorts (19, 1) at 3, 7, ..., 63
    run = fat_short_run(always_evict, 16)
    assert run.instance.memory == 20 and run.instance.prompt.tolist()[:2] == [16, 19]
    assert run.instance.arrival.tolist()[1:] == [3 + 4 * i for i in range(16)]
    assert (run.alg, run.opt) == (84, 21)
    assert run.schedule.evictions == 16


def test_fat_short_opt_against_the_integer_program():
    for releases in ([1], [1, 3], [0, 2, 3], [3, 5]):
        inst = fat_short_instance(3, releases, 3)
        opt, _ = fat_short_opt(inst)
        assert solve_optimal(inst).objective == opt
        assert preemptive_optimum(inst, "recompute").objective == opt


@pytest.mark.parametrize("n,P", [(1, 2), (3, 2), (4, 3), (9, 3), (16, 4), (20, 7)])
def test_closed_form_matches_simulation(n, P):
    for k in range(n + 1):
        run = fat_short_run(threshold(k), n, P)
        assert (run.alg, run.opt) == fat_short_closed_form(n, P, k)
        assert run.ratio < k + 1 + 1e-12


def test_derivation_asserts():
    d = fat_short_derivation()
    assert str(d["limit_P_threshold"]) == "k + 1"


def test_best_response_exhaustive_small():
    for n, P in [(2, 2), (3, 3), (4, 3)]:
        rep = best_response_exhaustive(n, P)
        assert rep["ratio"] == 1.0 and rep["evictions"] == 0


def test_resume_fat_short_srpt_optimal():
    for n, P in [(2, 2), (4, 3), (3, 4)]:
        alg, opt = srpt_fat_short(n, P)
        assert alg == opt == P + 2


def test_thin_family_rules():
    # never-evict at release 1: L ends at n, each short waits until n: n + n(n - 1 + 1) = n + n^2
    # against OPT = 2n + 2; rent-or-buy evicts at r < n and is optimal (2n + r + 1)
    n = 6
    assert thin_short_run(never_evict, n, 1) == (n + n * n, 2 * n + 2)
    for r in range(1, n + 1):
        alg, opt = thin_short_run(rent_or_buy, n, r)
        assert alg == opt


def test_table_rows():
    rows = preemptive_adversary_table([16], EVICTION_RULES)
    by = {r["rule"]: r for r in rows}
    assert by["always-evict"]["fat ratio"] == 4.0
    assert by["never-evict"]["thin ratio"] == 8.0        # (16 + 256) / 34
    assert by["rent-or-buy"]["fat ratio"] == 1.0
    # best response at progress 1: 16 cycles of 2 rounds, L ends at 36: 52; OPT runs L first:
    # 4 + (4 + 3 + 2 + 1) + 12 = 26 -> ratio 2
    assert (by["rent-or-buy"]["fat best response"], by["rent-or-buy"]["at"]) == (2.0, 1)


def test_rent_or_buy_cascade_grows():
    # P = n, release at progress P/2 - 1: rent-or-buy evicts every time (1 * (P/2 + 1) > P/2 - 1)
    ratios = [fat_short_run(rent_or_buy, n, n, at=n // 2 - 1).ratio for n in (8, 16, 32, 64)]
    assert all(b > a for a, b in itertools.pairwise(ratios)) and ratios[-1] > 10


def test_two_phase_defeats_thresholds():
    from kvtheory.theory.preemption_game import two_phase_run
    for n in (3, 4, 5):
        for k in (0, 1, 2):
            r = two_phase_run(n, k, exact=True)
            assert r["alg"] == k * n + n + k + n * n          # closed form of the docstring
            assert r["opt"] == r["ub"] == (2 * n + k + 1 if k else 2 * n + 2)
    assert two_phase_run(64, 2)["ratio lower bound"] > 32


def test_game_value_by_hand_and_small():
    assert fat_short_game_value(1, 4)["value"] == 1.0
    v = fat_short_game_value(3, 3)["value"]
    assert v == pytest.approx(9 / 8)
    assert fat_short_game_value(3, 3, max_idle=1)["value"] == pytest.approx(v)


def test_clm_lb_deterministic_preemptive_evidence():
    from kvtheory.theory.preemption_game import check_preemptive_rules
    rep = check_preemptive_rules((4, 8, 16), games=((2, 3), (3, 3)))
    assert rep["every_rule_defeated"]
    # at n = 16 with P = n: threshold rules near n/2 (two-phase), rent-or-buy 3.72 (cascade)
    assert rep["worst_by_rule"]["never-evict"] == 8.0
    assert rep["worst_by_rule"]["rent-or-buy"] == pytest.approx(160 / 43)
    assert rep["max_game_value"] == pytest.approx(9 / 8)


@given(instances(max_n=3, max_memory=6, max_arrival=2))
@settings(max_examples=25, deadline=None)
def test_property_recompute_lemma_and_resume_bound(inst):
    # brute force: recompute-OPT = non-preemptive OPT (the lemma); resume-OPT <= it and >= sum o
    rec = preemptive_optimum(inst, "recompute")
    assert check_schedule(inst, rec.schedule(inst), preemptive=True).total_latency == rec.objective
    assert rec.objective == solve_optimal(inst).objective
    res = preemptive_optimum(inst, "resume")
    assert check_resume(inst, res.rounds) == res.objective
    assert int(inst.output.sum()) <= res.objective <= rec.objective
