"""The local search and the area lower bound that bracket the optimum at paper size."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory import Instance, Schedule, check_schedule
from kvtheory.optimum.exact import brute_force_optimal, solve_optimal
from kvtheory.optimum.search import improve_schedule, serial_schedule, volume_lower_bound
from kvtheory.model.workloads import paper_model1, paper_model2

from strategies import instances


def _naive_serial(inst, order):
    """Plain-Python serial rule: earliest start that fits beside the requests placed so far."""
    use = {}
    starts = [None] * inst.n
    for i in order:
        r = inst.requests[i]
        p = r.arrival
        while any(use.get(p + j, 0) + r.prompt + j > inst.memory for j in range(1, r.output + 1)):
            p += 1
        for j in range(1, r.output + 1):
            use[p + j] = use.get(p + j, 0) + r.prompt + j
        starts[i] = p
    return starts


@st.composite
def wide_instances(draw):
    """Prompts up to 5 and outputs up to M - s, as in the paper's generator (larger skips)."""
    M = draw(st.integers(6, 24))
    n = draw(st.integers(1, 8))
    s = [draw(st.integers(1, 5)) for _ in range(n)]
    o = [draw(st.integers(1, M - si)) for si in s]
    a = [draw(st.integers(0, 6)) for _ in range(n)]
    return Instance.from_arrays(a, s, o, M)


@settings(max_examples=150, deadline=None)
@given(st.one_of(instances(max_n=7, max_memory=12), wide_instances()),
       st.randoms(use_true_random=False))
def test_serial_schedule_matches_the_naive_rule_and_is_feasible(inst, rnd):
    order = list(range(inst.n))
    rnd.shuffle(order)
    sched = serial_schedule(inst, order)
    check_schedule(inst, sched, preemptive=False)
    assert [r.start for r in sched.records] == _naive_serial(inst, order)


@settings(max_examples=60, deadline=None)
@given(instances(max_n=4, max_memory=8, max_arrival=3))
def test_bounds_bracket_the_brute_force_optimum(inst):
    opt = brute_force_optimal(inst).total_latency
    assert int(inst.output.sum()) <= volume_lower_bound(inst) <= opt
    res = improve_schedule(inst, np.random.default_rng(0), evaluations=300)
    check_schedule(inst, res.schedule, preemptive=False)
    assert res.total_latency >= opt
    assert res.total_latency <= res.initial_latency


@pytest.mark.parametrize("model,size", [(paper_model1, {"n": 7, "memory": 12}),
                                        (paper_model2, {"horizon": 5, "memory": 12})])
def test_search_never_beats_and_usually_reaches_the_proven_optimum(model, size):
    reached = 0
    for seed in range(8):
        inst = model(np.random.default_rng(seed), **size)
        opt = solve_optimal(inst, time_limit=60)
        assert opt.proven_optimal
        res = improve_schedule(inst, np.random.default_rng(seed), evaluations=3000)
        assert res.total_latency >= opt.objective
        reached += res.total_latency == opt.objective
    assert reached >= 6, reached


def test_search_is_reproducible_and_never_worse_than_its_start():
    inst = paper_model1(np.random.default_rng(4), n=30, memory=35)
    r1 = improve_schedule(inst, np.random.default_rng(9), evaluations=4000)
    r2 = improve_schedule(inst, np.random.default_rng(9), evaluations=4000)
    assert r1.total_latency == r2.total_latency
    assert [x.start for x in r1.schedule.records] == [x.start for x in r2.schedule.records]
    assert r1.evaluations == 4000
    again = improve_schedule(inst, np.random.default_rng(1), start=r1.schedule, evaluations=500)
    assert again.initial_latency == r1.total_latency >= again.total_latency


def test_paper_size_search_beats_mcsf_and_is_checked():
    """Our finding, in miniature: at the paper's size MC-SF is beaten by a few thousand orders."""
    inst = paper_model1(np.random.default_rng(0))
    res = improve_schedule(inst, np.random.default_rng(0), evaluations=3000)
    check_schedule(inst, res.schedule, preemptive=False)
    assert res.improved and res.initial_latency / res.total_latency > 1.01


@settings(max_examples=40, deadline=None)
@given(wide_instances(), st.integers(0, 2**32 - 1))
def test_search_state_matches_a_full_decode(inst, seed):
    """The compiled search replays unchanged prefixes; its state must equal a fresh decode."""
    from kvtheory.optimum.search import _arrays, _decode, _search
    if inst.n < 2:
        return
    rng = np.random.default_rng(seed)
    a, s, o, H = _arrays(inst)
    order = rng.permutation(inst.n).astype(np.int64)
    moves = 200
    cost, best_starts, _ = _search(order, a, s, o, inst.memory, H, rng.integers(0, 2, moves),
                                   rng.integers(0, inst.n, moves), rng.integers(0, inst.n, moves))
    starts = np.empty(inst.n, dtype=np.int64)
    assert _decode(order, a, s, o, inst.memory, np.zeros(H + 2, dtype=np.int64), starts, 0) == cost
    assert [r.start for r in serial_schedule(inst, order).records] == starts.tolist()
    # the best starts returned are a feasible schedule of exactly that cost
    assert int((best_starts + o - a).sum()) == cost
    check_schedule(inst, Schedule.from_starts(inst, best_starts.tolist()), preemptive=False)


def test_lower_bound_on_a_hand_instance():
    # two requests (s=3, o=5) need area 30 each; with M = 8 the fluid completions are 3.75, 7.5
    inst = Instance.from_arrays([0, 0], [3, 3], [5, 5], memory=8)
    assert volume_lower_bound(inst) == 12
    # the real optimum runs them one after the other (16 > 8 at the peak): 5 + 10 = 15
    assert brute_force_optimal(inst).total_latency == 15
    # arrivals: one request at round 10 alone costs its output length
    assert volume_lower_bound(Instance.from_arrays([10], [1], [4], memory=5)) == 4


def test_validation():
    inst = Instance.from_arrays([0, 0], [1, 1], [1, 2], memory=5)
    with pytest.raises(ValueError, match="permutation"):
        serial_schedule(inst, [0, 2])
    with pytest.raises(ValueError, match="permutation"):
        serial_schedule(inst, [0.0, 1.0])
    with pytest.raises(TypeError, match="Generator"):
        improve_schedule(inst, 42)
    with pytest.raises(ValueError, match="evaluations"):
        improve_schedule(inst, np.random.default_rng(0), evaluations=-1)
    empty = Instance.from_arrays([], [], [], memory=5)
    assert serial_schedule(empty, []).total_latency == 0
    assert volume_lower_bound(empty) == 0
