"""Every policy's schedule passes the checker and never beats the optimum; engine errors."""

import numpy as np
import pytest
from hypothesis import given, settings

from kvtheory import (POLICIES, Decision, Instance, LivelockError, PolicyError, check_schedule,
                      mc_sf, simulate)
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import alpha_protection_beta_clearing, make_policy, predicted_memory, vllm_style
from kvtheory.model.workloads import lmsys_like, random_instance
from strategies import instances

CLEAR_ALL = {"alpha-0.1-greedy", "alpha-0.2-greedy", "alpha-0.25-greedy", "alpha-0.3-greedy"}


@pytest.mark.parametrize("name", sorted(POLICIES))
@settings(max_examples=40)
@given(inst=instances(max_n=6, max_memory=10, max_arrival=4, predictions="noisy"))
def test_policy_schedules_are_valid_and_not_below_opt(name, inst):
    try:
        sched = simulate(inst, POLICIES[name])
    except LivelockError:
        # only the clear-the-whole-cache rule can destroy all progress (see the book)
        assert name in CLEAR_ALL
        return
    check_schedule(inst, sched)
    assert sched.total_latency >= solve_optimal(inst).objective


@settings(max_examples=60)
@given(inst=instances(max_n=8, max_memory=12, max_arrival=5, predictions="over"))
def test_mcsf_never_evicts_with_over_predictions(inst):
    sched = simulate(inst, mc_sf)
    check_schedule(inst, sched, preemptive=False)
    assert sched.evictions == 0


@settings(max_examples=40)
@given(inst=instances(max_n=8, max_memory=12, max_arrival=5))
def test_mcsf_is_optimal_or_worse_never_better(inst):
    assert simulate(inst, mc_sf).total_latency >= solve_optimal(inst).objective


def test_under_prediction_is_accounted_truthfully():
    # two requests predicted to take 1 round really take 5: they overflow and one is evicted
    inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8, prediction=[1, 1])
    sched = simulate(inst, mc_sf)
    check_schedule(inst, sched)
    assert sched.evictions == 1 and sched.records[1].tokens_recomputed == 3


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_determinism(name):
    inst = random_instance(np.random.default_rng(7), 30, 25, max_arrival=20, prediction_error=0.3)
    def run():
        try:
            return simulate(inst, POLICIES[name]).records
        except LivelockError as err:       # a livelock must be just as reproducible
            return str(err)
    assert run() == run()


def test_livelock_is_detected_for_clear_all():
    inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    with pytest.raises(LivelockError, match="no request completed"):
        simulate(inst, POLICIES["alpha-0.2-greedy"])
    # the beta-clearing and vLLM rules keep the oldest request and finish
    for pol in (alpha_protection_beta_clearing, vllm_style):
        check_schedule(inst, simulate(inst, pol))


def test_engine_rejects_bad_decisions():
    inst = Instance.from_arrays([0, 0, 5], [1, 1, 1], [2, 2, 2], memory=4)
    with pytest.raises(PolicyError, match="starts requests that are not waiting.*\\[2\\]"):
        simulate(inst, lambda s: Decision(start=[2]))
    with pytest.raises(PolicyError, match="evicts requests that are not running"):
        simulate(inst, lambda s: Decision(evict=[0]))
    with pytest.raises(PolicyError, match=r"round 1 would use 4 > M=4|round 2 would use"):
        simulate(Instance.from_arrays([0, 0], [1, 1], [2, 2], memory=5),
                 lambda s: Decision(start=s.waiting.id))
    with pytest.raises(PolicyError, match="returned list, expected a Decision"):
        simulate(inst, lambda s: [])
    with pytest.raises(PolicyError, match="started nothing for 5 rounds"):
        simulate(inst, lambda s: Decision(), stall_limit=5)


def test_simulate_validates_arguments():
    inst = Instance.from_arrays([0], [1], [1], memory=3)
    with pytest.raises(ValueError, match="instance must be an Instance"):
        simulate([(0, 1, 1)], mc_sf)
    with pytest.raises(ValueError, match="policy must be callable"):
        simulate(inst, "mc-sf")
    with pytest.raises(ValueError, match="alpha must lie in \\[0.0, 1.0\\)"):
        simulate(inst, make_policy(POLICIES["alpha-0.2-greedy"].func, alpha=1.5))
    with pytest.raises(ValueError, match="victim order must be one of"):
        simulate(Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8, prediction=[1, 1]),
                 make_policy(mc_sf, victim="oldest"))


def test_policy_waiting_deliberately_is_allowed():
    """A non-work-conserving policy (start only at t >= 3) is a valid policy."""
    inst = Instance.from_arrays([0], [1], [2], memory=3)
    sched = simulate(inst, lambda s: Decision(start=s.waiting.id if s.t >= 3 else []))
    assert sched.records[0].start == 3


@given(inst=instances(max_n=6, max_memory=12, max_arrival=3, predictions="noisy"))
def test_predicted_memory_matches_direct_sum(inst):
    """The suffix-sum forecast equals a direct per-round sum, at every decision of MC-SF."""
    def spy(state):
        f = predicted_memory(state)
        t = state.t
        for k, v in enumerate(f):
            tau = t + 1 + k
            direct = sum(s + tau - p for p, s, o in zip(state.running.start, state.running.prompt,
                                                        state.running.prediction)
                         if p < tau <= max(p + o, t + 1))
            assert v == direct
        if len(state.running):
            assert f[0] == state.usage_next
        return mc_sf(state)
    simulate(inst, spy)


def test_mcsf_valid_on_lmsys_scale():
    """10,000 LMSYS-like requests, M = 16,492: a valid schedule without evictions.  Its speed
    (target: under a minute) is measured by benchmarks/bench_mcsf.py, not asserted here."""
    inst = lmsys_like(np.random.default_rng(0), 10_000, rate=50)
    sched = simulate(inst, mc_sf)
    assert sched.evictions == 0 and sched.peak_memory <= inst.memory
    check_schedule(inst, sched)


def test_timed_simulation_matches_round_simulation_with_unit_batches():
    """With one-second batches and integer arrival times, the clock equals the round index."""
    from kvtheory import simulate_timed
    inst = random_instance(np.random.default_rng(5), 25, 20, max_arrival=15)
    for name in ("mc-sf", "vllm"):
        ref = simulate(inst, POLICIES[name])
        timed = simulate_timed(inst.prompt, inst.output, inst.arrival.astype(float), inst.memory,
                               POLICIES[name], batch_time=lambda p, d, kv: 1.0)
        check_schedule(timed.schedule.instance, timed.schedule)
        assert [r.attempts for r in timed.schedule.records] == [r.attempts for r in ref.records]
        assert np.allclose(timed.latency, ref.latencies)


def test_timed_simulation_validates_input():
    from kvtheory import simulate_timed
    with pytest.raises(ValueError, match="request 1: arrival_time must be finite and >= 0"):
        simulate_timed([1, 1], [1, 1], [0.0, -1.0], 4, mc_sf, batch_time=lambda p, d, k: 1.0)
    with pytest.raises(ValueError, match="batch_time must be callable"):
        simulate_timed([1], [1], [0.0], 4, mc_sf, batch_time=2.0)
