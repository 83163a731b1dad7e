"""The compiled round loop makes exactly the reference engine's schedules.

For every compiled rule (and the parameter variants it supports), on hypothesis instances
(exact, over- and under-predicted outputs, tied arrivals and predictions, tight and loose
memory) and on thousand-request LMSYS-like instances (with noisy predictions too, so requests
are evicted), the compiled and reference schedules have the same records: every attempt
(start, stop, so every eviction and aborted attempt), completion and latency; and every
compiled schedule passes the checker.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory import Decision, Instance, check_schedule, simulate
from kvtheory.engines.compiled import compiled_rule, run_compiled
from kvtheory.engines.policies import POLICIES, make_policy, mc_benchmark, mc_sf, vllm_style
from kvtheory.engines.simulator import PolicyError
from kvtheory.model.workloads import lmsys_like

from strategies import instances

COMPILED = {
    **{k: POLICIES[k] for k in ("mc-sf", "mc-benchmark", "svf", "vllm", "a-max")},
    "mc-sf-latest-arrival": make_policy(mc_sf, victim="latest-arrival"),
    "mc-sf-reserve": make_policy(mc_sf, reserve=0.1),
    "mc-benchmark-latest-arrival": make_policy(mc_benchmark, victim="latest-arrival"),
    "vllm-newest": make_policy(vllm_style, victim="newest", watermark=0.0),
    "mc-sf-function": mc_sf,
}


def _outcome(inst, policy, compiled):
    try:
        return simulate(inst, policy, compiled=compiled)
    except PolicyError as exc:
        return f"{type(exc).__name__}: {exc}"


def assert_same(inst, policy):
    """Compiled and reference: equal records (attempts, latencies) or the same error."""
    got, ref = _outcome(inst, policy, None), _outcome(inst, policy, False)
    if isinstance(ref, str):
        assert got == ref
        return
    assert got.records == ref.records
    assert got.policy == ref.policy and got.latencies.tolist() == ref.latencies.tolist()
    check_schedule(inst, got)


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_every_variant_is_compiled(name):
    assert compiled_rule(COMPILED[name]) is not None


@pytest.mark.parametrize("name", sorted(COMPILED))
@settings(max_examples=60)
@given(data=st.data())
def test_same_schedules_small(name, data):
    kind = data.draw(st.sampled_from([None, "over", "noisy", "noisy"]))
    memory = data.draw(st.sampled_from([6, 10, 25]))          # tight to loose
    inst = data.draw(instances(max_n=10, max_memory=memory, max_arrival=data.draw(
        st.sampled_from([0, 2, 8])), predictions=kind))
    assert_same(inst, COMPILED[name])


def test_evictions_are_exercised():
    """Under-predicted outputs make the compiled MC-SF evict, as the reference does."""
    inst = Instance.from_arrays([0, 0, 0, 1], [1, 2, 1, 1], [6, 5, 4, 3], memory=12,
                                prediction=[1, 1, 2, 1])
    for name in ("mc-sf", "mc-benchmark", "svf", "vllm"):
        sched = simulate(inst, POLICIES[name])
        assert sched.evictions > 0, name
        assert_same(inst, POLICIES[name])


def _lmsys(seed, n, rate, noise):
    inst = lmsys_like(np.random.default_rng(seed), n, rate=rate, memory=2_000)
    if noise:
        rng = np.random.default_rng(seed + 1)
        o = inst.output
        pred = np.clip(np.rint(o * rng.uniform(1 - noise, 1 + noise, o.size)), 1,
                       inst.memory - inst.prompt)
        inst = inst.with_predictions(pred.astype(np.int64).tolist())
    return inst


@pytest.mark.parametrize("name", ["mc-sf", "mc-benchmark", "svf", "vllm"])
@pytest.mark.parametrize("seed,n,rate,noise", [(0, 3000, 50.0, None), (1, 2000, 0.3, None),
                                               (2, 2000, 5.0, 0.5), (3, 1500, 0.5, 0.8)])
def test_same_schedules_lmsys(name, seed, n, rate, noise):
    assert_same(_lmsys(seed, n, rate, noise), POLICIES[name])


def test_lmsys_at_paper_memory():
    inst = lmsys_like(np.random.default_rng(5), 4000, rate=50.0)       # M = 16,492
    assert_same(inst, POLICIES["mc-sf"])


def test_reference_and_user_policies_are_not_compiled(monkeypatch):
    """compiled=False and user policies use the reference; compiled=True refuses the others."""
    import kvtheory.engines.compiled as compiled
    calls = []
    real = compiled.run_compiled
    monkeypatch.setattr(compiled, "run_compiled", lambda *a, **k: calls.append(1) or real(*a, **k))
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    simulate(inst, mc_sf)
    assert calls == [1]
    simulate(inst, mc_sf, compiled=False)
    simulate(inst, lambda s: mc_sf(s))
    simulate(inst, POLICIES["sorted-f"])
    simulate(inst, mc_sf, detect_cycles=True)
    simulate(inst, make_policy(mc_benchmark, requeue="back"))
    assert calls == [1]
    with pytest.raises(ValueError, match="compiled=True needs a compiled built-in rule"):
        simulate(inst, POLICIES["sorted-f"], compiled=True)
    with pytest.raises(ValueError, match="detect_cycles"):
        simulate(inst, mc_sf, compiled=True, detect_cycles=True)
    with pytest.raises(ValueError):
        simulate(inst, lambda s: Decision(), compiled=True)


def test_errors_come_from_the_reference():
    """A limit that fires in the compiled loop raises the reference engine's exact error."""
    inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    for limit in ("max_rounds", "livelock_limit"):
        with pytest.raises(PolicyError) as a:
            simulate(inst, mc_sf, **{limit: 2})
        with pytest.raises(PolicyError) as b:
            simulate(inst, mc_sf, compiled=False, **{limit: 2})
        assert str(a.value) == str(b.value)


def test_run_compiled_rejects_unknown_rules():
    inst = Instance.from_arrays([0], [1], [1], memory=3)
    with pytest.raises(ValueError, match="rule must be one of"):
        run_compiled(inst, "sorted-f")
