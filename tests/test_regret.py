"""Constant regret under stochastic arrivals (version 2, our reconstruction)."""

import math

import numpy as np
import pytest

from kvtheory import check_schedule, mc_sf, simulate
from kvtheory.claims.regret import check_constant_regret
from kvtheory.theory.regret import (ArrivalModel, fluid_benchmark,
                             fluid_policy, growth_exponent, sample_instance,
                             waiting_lower_bound)


def test_model_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        ArrivalModel(1.0, types=((1, 2, 0.5),))
    with pytest.raises(ValueError, match="never fit"):
        ArrivalModel(1.0, types=((30, 20, 1.0),), memory=40)
    with pytest.raises(ValueError, match="Bernoulli"):
        ArrivalModel(1.5, process="bernoulli")


def test_at_load_and_fluid():
    m = ArrivalModel.at_load(0.75)
    assert math.isclose(m.load, 0.75)
    fb = fluid_benchmark(m, 200)
    assert math.isclose(fb["memory"], 0.75 * m.memory)
    assert math.isclose(fb["total_latency"], m.rate * 200 * (0.7 * 2 + 0.3 * 8))


def test_sample_mean_matches_rate():
    m = ArrivalModel(1.3)
    inst = sample_instance(m, 4000, np.random.default_rng(41))
    assert abs(inst.n / 4000 - 1.3) < 0.1
    assert abs(float(inst.output.mean()) - 3.8) < 0.2


def test_fluid_policy_valid_and_caps():
    m = ArrivalModel.at_load(0.6)
    pol = fluid_policy(m, threshold=1.0)
    inst = sample_instance(m, 300, np.random.default_rng(42))
    sched = simulate(inst, pol)
    check_schedule(inst, sched)
    assert sched.evictions == 0
    caps = [math.ceil(x + 1.0) for x in fluid_benchmark(m, 1)["in_service"]]
    # in-service count of each type never exceeds its cap
    for (s, o, _), cap in zip(m.types, caps):
        starts = np.array([r.start for r in sched.records if (r.prompt, r.output) == (s, o)])
        for t in range(0, sched.makespan + 1):
            assert int(((starts < t) & (starts + o >= t)).sum()) <= cap


def test_waiting_bound_below_measured():
    m = ArrivalModel(3.0, types=((1, 1, 1.0),), memory=4)      # K = 2 starts per round
    inst = sample_instance(m, 200, np.random.default_rng(43))
    waited = simulate(inst, mc_sf).total_latency - int(inst.output.sum())
    assert waited >= 0.5 * waiting_lower_bound(m, 200) > 0


def test_growth_exponent():
    rows = [{"policy": "p", "T": T, "regret": 5.0} for T in (10, 100, 1000)]
    assert abs(growth_exponent(rows, "p")) < 1e-9


def test_clm_constant_regret():
    rep = check_constant_regret(np.random.default_rng(44), loads=(0.5, 0.9),
                                horizons=(100, 300, 1000), seeds=10, small_horizons=(10,),
                                small_seeds=3)
    assert not rep.holds, rep.summary
    exps = rep.details["exponent"]
    assert all(v > 0.6 for v in exps.values()), exps          # at least linear growth
    assert max(exps[k] for k in exps if k.endswith("@ 0.9")) > 1.2, exps   # unstable at 0.9
    assert all(r["regret_opt"] >= 0 for r in rep.details["hindsight_rows"])


def test_regret_status_rule():
    """Bounded regret is supported by a flat upper band over enough horizons, never refuted."""
    from kvtheory.claims.regret import _bands, regret_status
    assert regret_status([10, 20, 40], [True]) == "supported"
    assert regret_status([10, 20, 40], [False, True]) == "supported"     # some policy suffices
    assert regret_status([10, 20, 40], [False, False]) == "inconclusive" # a rise is no refutation
    assert regret_status([10, 20], [True]) == "inconclusive"             # too few horizons
    assert regret_status([10, 12, 14], [True]) == "inconclusive"         # too short a span
    assert regret_status([10, 20, 40], [None]) == "inconclusive"         # no band
    # noise is not flatness: a mean that rises inside a wide band is not flat
    rows = [{"policy": "p", "T": T, "regret_opt": m, "ci95": c}
            for T, m, c in ((10, 0.0, 0.0), (20, 0.0, 0.0), (40, 0.38, 0.5))]
    assert _bands(rows, "p")[2] is False
    rows[-1].update(regret_opt=0.0, ci95=0.0)
    assert _bands(rows, "p")[2] is True


def test_regret_rules_see_a_planted_growing_regret():
    """One request at a time is unstable at both loads: the exponent rule does not call it
    bounded, and against the hindsight optimum its upper band rises (the rule is not flat)."""
    from kvtheory.claims.regret import _bands
    from kvtheory.engines.policies.planted import one_at_a_time
    rep = check_constant_regret(np.random.default_rng(0), loads=(0.5, 0.9),
                                horizons=(30, 100, 300), seeds=6, small_horizons=(10, 20),
                                small_seeds=4, planted={"serial": one_at_a_time})
    pexp = rep.details["planted exponent"]
    assert set(pexp) == {"serial @ 0.5", "serial @ 0.9"} and min(pexp.values()) > 1.0, pexp
    rows = rep.details["planted hindsight rows"]
    assert [r["T"] for r in rows] == [10, 20] and _bands(rows, "serial")[2] is False
    assert all(r["policy"] != "serial" for r in rep.details["hindsight_rows"])
    assert "serial" not in str(rep.details["exponent"])
