"""The fast engine makes exactly the decisions of the original engine.

``tests/data/simulator_reference.json.gz`` holds, for a few hundred random instances (mixed
arrivals, exact and noisy predictions, so that under-predicted requests overflow and get
evicted), the per-request attempt lists that every registered policy (and the variants below)
produced with the engine *before* the rewrite (commit c7bc664), and the error raised when a
policy livelocks.  The instances are regenerated from their seeds and checked against the
stored fields, so the fixture also guards the generator.  Re-record only on purpose:
``python tests/test_simulator_equivalence.py --record``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from kvtheory import Decision, Instance, check_schedule, simulate, simulate_timed
from kvtheory.engines.policies import (POLICIES, alpha_protection_beta_clearing, alpha_protection_greedy,
                               make_policy, mc_benchmark, mc_sf, vllm_style)
from kvtheory.engines.simulator import LivelockError, PolicyError
from kvtheory.model.workloads import random_instance

FIXTURE = Path(__file__).parent / "data" / "simulator_reference.json.gz"

VARIANTS = {
    **POLICIES,
    "mc-sf-latest-arrival": make_policy(mc_sf, victim="latest-arrival"),
    "mc-sf-reserve": make_policy(mc_sf, reserve=0.1),
    "mc-benchmark-back": make_policy(mc_benchmark, requeue="back"),
    "greedy-back": make_policy(alpha_protection_greedy, alpha=0.1, requeue="back"),
    "beta-back-arrival": make_policy(alpha_protection_beta_clearing, beta=0.3,
                                     victim="latest-arrival", requeue="back"),
    "vllm-newest-back": make_policy(vllm_style, victim="newest", requeue="back", watermark=0.0),
}
N_ROUND = 240          # round-engine instances
N_TIMED = 60           # timed-engine instances


def _instance(seed: int) -> Instance:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 25))
    memory = int(rng.integers(6, 40))
    err = [None, 0.3, 0.6][seed % 3]
    return random_instance(rng, n, memory, max_prompt=int(rng.integers(1, 6)),
                           max_arrival=int(rng.integers(0, 30)), prediction_error=err)


def _timed_case(seed: int):
    rng = np.random.default_rng(10_000 + seed)
    inst = _instance(10_000 + seed)
    times = np.round(np.sort(rng.uniform(0, 3.0, inst.n)), 3)
    return inst, times


def _batch_time(p, d, kv):
    return 0.05 + 0.001 * p + 0.002 * d + 0.0001 * kv


def _outcome(run, inst=None):
    try:
        sched = run()
        if inst is not None:
            check_schedule(inst, sched)
    except LivelockError as exc:
        return {"error": "livelock", "message": str(exc)}
    except PolicyError as exc:
        return {"error": "policy", "message": str(exc)}
    return {"attempts": [[list(a) for a in r.attempts] for r in sched.records]}


def _cases():
    for seed in range(N_ROUND):
        inst = _instance(seed)
        for name, pol in VARIANTS.items():
            yield "round", seed, name, inst, (lambda inst=inst, pol=pol: simulate(inst, pol))
    for seed in range(N_TIMED):
        inst, times = _timed_case(seed)
        pred = inst.prediction if inst.has_predictions else None
        for name, pol in VARIANTS.items():
            def run(inst=inst, pol=pol, times=times, pred=pred):
                res = simulate_timed(inst.prompt, inst.output, times, inst.memory, pol,
                                     _batch_time, prediction=pred)
                run.round_end = res.round_end
                return res.schedule
            yield "timed", seed, name, inst, run


def _record() -> None:
    out = {}
    for engine, seed, name, inst, run in _cases():
        res = _outcome(run)
        if engine == "timed" and "attempts" in res:
            res["round_end"] = [round(float(x), 9) for x in run.round_end]
        res["fields"] = [inst.arrival.tolist(), inst.prompt.tolist(), inst.output.tolist(),
                         inst.prediction.tolist(), inst.memory]
        out[f"{engine}/{seed}/{name}"] = res
    FIXTURE.parent.mkdir(exist_ok=True)
    with gzip.open(FIXTURE, "wt") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print(f"recorded {len(out)} schedules into {FIXTURE}")


@pytest.fixture(scope="module")
def reference():
    with gzip.open(FIXTURE, "rt") as fh:
        return json.load(fh)


def test_fixture_covers_evictions_and_livelocks(reference):
    """The reference set is not trivial: it has evictions, livelocks and completed schedules."""
    evicted = sum(any(len(a) > 1 for a in v["attempts"]) for v in reference.values()
                  if "attempts" in v)
    livelocks = sum(v.get("error") == "livelock" for v in reference.values())
    assert len(reference) == (N_ROUND + N_TIMED) * len(VARIANTS)
    assert evicted > 200 and livelocks > 5


@pytest.mark.parametrize("chunk", range(6))
def test_same_schedules_as_reference(reference, chunk):
    """Every policy, every instance: identical attempt lists (and errors), and checker-valid."""
    for k, (engine, seed, name, inst, run) in enumerate(_cases()):
        if k % 6 != chunk:
            continue
        key = f"{engine}/{seed}/{name}"
        ref = reference[key]
        assert ref["fields"] == [inst.arrival.tolist(), inst.prompt.tolist(),
                                 inst.output.tolist(), inst.prediction.tolist(), inst.memory], key
        got = _outcome(run, inst if engine == "round" else None)
        if "error" in ref:
            assert got == {"error": ref["error"], "message": ref["message"]}, key
            continue
        assert got.get("attempts") == ref["attempts"], key
        if engine == "timed":
            assert [round(float(x), 9) for x in run.round_end] == ref["round_end"], key


if __name__ == "__main__" and "--record" in sys.argv:
    _record()


# ------------------------------------------------------------------ the incremental structures
def test_profile_hand_example():
    """Ring profile against values worked out by hand (the predicted_memory doctest setting).

    Request 0 starts at 0 (s=2, õ=3): predicted 3, 4, 5 in rounds 1..3.  Request 1 starts at
    1 (s=1, õ=1): 2 in round 2.  At t=1 rounds 2..5 hold 4+2, 5, 0, 0.  Request 1 completes
    at 2; at t=3 request 0 has outlived its prediction and counts only in round 4 with
    s + 4 - p = 6; evicting it leaves nothing.
    """
    from kvtheory.engines.queues import PredictedProfile
    prof = PredictedProfile(max_prediction=3)
    prof.advance(0)
    prof.add(0, 2, 3)
    prof.advance(1)
    prof.add(1, 1, 1)
    assert prof.window(1, 4).tolist() == [6, 5, 0, 0]
    prof.remove(1, 1, 1)            # completes at t = 2, before the decision of round 2
    prof.advance(2)
    assert prof.window(2, 3).tolist() == [5, 0, 0]
    prof.advance(3)
    assert prof.window(3, 2).tolist() == [6, 0]
    assert prof.window(3, 20).tolist() == [6] + [0] * 19     # longer than the ring
    prof.remove(0, 2, 3)
    assert prof.window(3, 2).tolist() == [0, 0]


def _spy_orders(seen):
    from kvtheory.engines.simulator import State

    def spy(state):
        plain = State(state.t, state.memory, state.waiting, state.running, state.usage_next)
        for by in ("arrival", "prediction", "requeue"):
            seen.append((list(state.waiting_in_order(by)), list(plain.waiting_in_order(by))))
        from kvtheory.engines.policies import predicted_memory
        seen.append((predicted_memory(state, horizon=30).tolist(),
                     predicted_memory(plain, horizon=30).tolist()))
        return VARIANTS["vllm"](state)
    return spy


def test_live_views_match_plain_state():
    """The engine's sorted views and profile equal what a plain State computes from its Jobs."""
    seen = []
    for seed in range(40):
        simulate(_instance(seed), _spy_orders(seen))
    assert len(seen) > 1000
    assert all(a == b for a, b in seen)


def test_waiting_order_by_hand():
    """Three requests at 0 with predictions 4, 1, 2 and prompts 1, 1, 1 (M = 5)."""
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    seen = []

    def spy(state):
        seen.append([i for i, _, _ in state.waiting_in_order("prediction")])
        return Decision()
    with pytest.raises(PolicyError):
        simulate(inst, spy, stall_limit=1)
    assert seen[0] == [1, 2, 0]


def test_kept_states_do_not_change():
    """A policy that keeps its states sees each one as it was (the engine snapshots it)."""
    inst = Instance.from_arrays([0, 0, 1], [1, 1, 1], [2, 1, 1], memory=8)
    kept = []

    def keeper(state):
        kept.append(state)
        return VARIANTS["mc-sf"](state)
    simulate(inst, keeper)
    assert kept[0].waiting.id.tolist() == [0, 1] and kept[0].running.id.tolist() == []
    assert kept[1].running.id.tolist() == [0] and kept[1].waiting.id.tolist() == [2]   # 1 done
