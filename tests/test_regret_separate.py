"""Separate batching (version 2's stochastic model, our reconstruction): checker, optimum, MDP."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory import Instance
from kvtheory.claims.regret import check_separate_regret
from kvtheory.theory.regret import ArrivalModel, sample_instance
from kvtheory.theory.regret_separate import (SEPARATE_TYPES, SeparateSchedule, brute_force_optimum,
                                      check_separate, decode_first, hindsight_optimum,
                                      lp_policy, prefill_first, simulate_separate)
from kvtheory.studies.regret_study import bayes_policy, separate_regret_rows

TWO = Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=6)


# --------------------------------------------------------------------------- the checker
def test_checker_hand_values():
    assert check_separate(TWO, SeparateSchedule("PPDD", (0, 1))) == 4 + 3
    assert check_separate(TWO, SeparateSchedule("PDDPDD", (0, 3))) == 3 + 5
    one = Instance.from_arrays([0], [2], [3], memory=5)
    assert check_separate(one, SeparateSchedule("PDDD", (0,))) == 4
    assert check_separate(one, SeparateSchedule("PDPDD", (0,))) == 5      # stalled one round


@pytest.mark.parametrize("sched, msg", [
    (SeparateSchedule("DPDD", (0, 1)), "not a prompt round"),              # prefill in a D round
    (SeparateSchedule("PPDD", (0, 0)), "before its arrival"),
    (SeparateSchedule("PPD", (0, 1)), "only 1 of its 2 token rounds"),
    (SeparateSchedule("PPDD", (0,)), "one prefill round per request"),
    (SeparateSchedule("PPDD", (0, 7)), "not a prompt round"),
])
def test_checker_rejects(sched, msg):
    with pytest.raises(ValueError, match=msg):
        check_separate(TWO, sched)


def test_checker_memory():
    inst = Instance.from_arrays([0, 0], [1, 1], [2, 2], memory=4)
    with pytest.raises(ValueError, match=r"memory 6 > M=4 in round 2"):
        check_separate(inst, SeparateSchedule("PDD", (0, 0)))             # 3 + 3 at the end
    with pytest.raises(ValueError, match=r"memory 5 > M=4 in round 3"):
        check_separate(inst, SeparateSchedule("PDPDD", (0, 2)))


# --------------------------------------------------------------------------- the optimum
def test_optimum_hand_worked():
    # two (1, 2) requests at 0, M = 4: they can never overlap at a token round (3 + 2 > 4),
    # so the best is serial: P D D P D D, latencies 3 and 6
    inst = Instance.from_arrays([0, 0], [1, 1], [2, 2], memory=4)
    assert brute_force_optimum(inst) == 9
    r = hindsight_optimum(inst)
    assert (r.value, r.lower, r.exact) == (9, 9, True)
    assert check_separate(inst, r.schedule) == 9
    # with M = 6 both run together: P D D, latencies 3 + 3
    assert hindsight_optimum(Instance.from_arrays([0, 0], [1, 1], [2, 2], memory=6)).value == 6


tiny = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 2)),
                min_size=1, max_size=3)


@settings(max_examples=40, deadline=None)
@given(reqs=tiny, slack=st.integers(0, 3))
def test_dp_equals_brute_force(reqs, slack):
    a, s, o = zip(*reqs)
    inst = Instance.from_arrays(a, s, o, memory=max(x + y for x, y in zip(s, o)) + slack)
    r = hindsight_optimum(inst)
    assert r.exact and r.value == r.lower == brute_force_optimum(inst)
    assert check_separate(inst, r.schedule) == r.value


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), rate=st.sampled_from([0.3, 0.6, 0.9]))
def test_policies_valid_and_never_beat_optimum(seed, rate):
    m = ArrivalModel(rate, types=SEPARATE_TYPES, memory=8, process="bernoulli")
    inst = sample_instance(m, 12, np.random.default_rng(seed))
    if inst.n == 0:
        return
    opt = hindsight_optimum(inst, types=m.types)
    for pol in (prefill_first, decode_first, lp_policy(m)):
        cost = check_separate(inst, simulate_separate(inst, pol, types=m.types))
        assert cost >= opt.value


def test_bracket_is_ordered_and_contains_optimum():
    m = ArrivalModel(0.7, types=SEPARATE_TYPES, memory=10, process="bernoulli")
    inst = sample_instance(m, 30, np.random.default_rng(5))
    exact = hindsight_optimum(inst, types=m.types)
    cut = hindsight_optimum(inst, types=m.types, max_states=20)
    assert exact.exact and not cut.exact
    assert cut.lower <= exact.value <= cut.value
    assert check_separate(inst, cut.schedule) == cut.value


def test_infeasible_policy_is_caught():
    with pytest.raises(ValueError, match="infeasible"):
        simulate_separate(TWO, lambda state: tuple(n + 1 for n in state.waiting))


# --------------------------------------------------------------------------- best online policy
def test_bayes_value_hand_worked():
    # type (1, 1), M large, Bernoulli(1/2), T = 2: one arrival (prob 1/2) costs 2; arrivals in
    # both rounds (prob 1/4) cost 5 whatever is done (e.g. P P D: 3 + 2)
    m = ArrivalModel(0.5, types=((1, 1, 1.0),), memory=6, process="bernoulli")
    assert bayes_policy(m, 2).value == pytest.approx(0.5 * 2 + 0.25 * 5)
    with pytest.raises(ValueError, match="Bernoulli"):
        bayes_policy(ArrivalModel(0.5, types=((1, 1, 1.0),), memory=6), 2)


def test_bayes_policy_simulated_mean_and_lower_bound():
    m = ArrivalModel(0.4, types=SEPARATE_TYPES, memory=8, process="bernoulli")
    pol = bayes_policy(m, 8)
    rng = np.random.default_rng(7)
    costs, pf = [], []
    for _ in range(300):
        inst = sample_instance(m, 8, rng)
        if inst.n == 0:
            costs.append(0), pf.append(0)
            continue
        costs.append(check_separate(inst, simulate_separate(inst, pol, types=m.types, horizon=8)))
        pf.append(check_separate(inst, simulate_separate(inst, prefill_first, types=m.types)))
    c = np.array(costs, float)
    assert abs(c.mean() - pol.value) < 3 * c.std() / np.sqrt(c.size)
    assert pol.value <= np.mean(pf) + 3 * np.std(pf) / np.sqrt(len(pf))


def test_regret_rows_bracket():
    m = ArrivalModel(0.5, types=SEPARATE_TYPES, memory=8, process="bernoulli")
    rows = separate_regret_rows(m, [10], 6, np.random.default_rng(3), bayes_max_T=10,
                                max_states=50)
    for r in rows:
        assert r["band_lo"] <= r["regret_lo"] <= r["regret_hi"] <= r["band_hi"]
        assert r["regret_hi"] >= 0


def test_clm_constant_regret_separate():
    rep = check_separate_regret(np.random.default_rng(0), bayes_horizons=(10, 20),
                                bayes_seeds=60, horizons=(), seeds=2)     # the quick run
    g = rep.details["grows"]["best online (MDP)"]
    assert g["grows"] and not rep.holds, rep.summary
    assert g["last"][0] > 0


def test_separate_rule_sees_a_planted_serial_policy():
    """The serial policy (one request at a time) on the same paths: its regret band rises."""
    from kvtheory.claims.regret import serial_separate
    rep = check_separate_regret(np.random.default_rng(0), bayes_horizons=(10, 20),
                                bayes_seeds=20, horizons=(), seeds=2,
                                planted={"serial": lambda model, T: serial_separate})
    p = rep.details["planted"]["serial"]
    assert p["grows"] and p["last"][1] > p["first"][1], p
    assert all(r["policy"] != "serial" for r in rep.details["rows"])
