"""The peak-row lower bound: the Lemma on real schedules, validity, and the priced relaxation."""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import linprog

from kvtheory import Instance
from kvtheory.optimum.bounds import peak_lower_bound, peak_row_slack
from kvtheory.model.checker import check_schedule
from kvtheory.optimum.exact import brute_force_optimal, optimal_horizon
from kvtheory.engines.policies import POLICIES
from kvtheory.model.schedule import Schedule
from kvtheory.optimum.search import improve_schedule, serial_schedule, volume_lower_bound
from kvtheory.engines.simulator import LivelockError, simulate
from kvtheory.model.workloads import paper_model1

from strategies import instances

# n <= 5 with outputs up to 5 can need a few million start vectors (about 2.5 s at 10 million)
BRUTE_LEAVES = 10_000_000


def _full_lp(inst, upper):
    """The time-indexed relaxation built densely, independently of kvtheory.optimum.bounds."""
    H, latest = optimal_horizon(inst, upper)
    cols = [(j, k) for j in range(inst.n) for k in range(int(inst.arrival[j]), int(latest[j]) + 1)]
    A_eq = np.zeros((inst.n, len(cols)))
    A_ub = np.zeros((H, len(cols)))
    cost = np.zeros(len(cols))
    for c, (j, k) in enumerate(cols):
        s, o = int(inst.prompt[j]), int(inst.output[j])
        A_eq[j, c] = 1
        cost[c] = k + o - int(inst.arrival[j])
        for tau in range(k + 1, k + o + 1):          # holds s + tau - k in round tau
            A_ub[tau - 1, c] = s + tau - k
    res = linprog(cost, A_ub=A_ub, b_ub=np.full(H, inst.memory), A_eq=A_eq, b_eq=np.ones(inst.n),
                  bounds=(0, 1), method="highs")
    return res.fun


@settings(max_examples=40, deadline=None)
@given(instances(max_n=5, max_memory=9, max_arrival=3))
def test_peak_rows_hold_on_every_feasible_schedule(inst):
    """The Lemma: every checked schedule without evictions satisfies every peak row."""
    scheds = [brute_force_optimal(inst, max_leaves=BRUTE_LEAVES)]
    for name, pol in POLICIES.items():
        try:
            sc = simulate(inst, pol, name=name)
        except LivelockError:
            continue
        if not any(r.evictions for r in sc.records):
            scheds.append(sc)
    rng = np.random.default_rng(0)
    scheds += [serial_schedule(inst, rng.permutation(inst.n)) for _ in range(3)]
    for sc in scheds:
        check_schedule(inst, sc, preemptive=False)
        assert peak_row_slack(inst, sc) >= 0


def test_peak_rows_reject_an_overfull_pair():
    # peaks 6 and 6 with M = 10: together in their last round they need 12
    inst = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=10)
    assert peak_row_slack(inst, Schedule.from_starts(inst, [0, 0])) == -1
    assert peak_row_slack(inst, Schedule.from_starts(inst, [0, 4])) >= 0   # overlap 1 round: 6+2


@settings(max_examples=40, deadline=None)
@given(instances(max_n=5, max_memory=9, max_arrival=3))
def test_bound_is_below_the_brute_force_optimum(inst):
    opt = brute_force_optimal(inst, max_leaves=BRUTE_LEAVES).total_latency
    res = peak_lower_bound(inst)
    assert max(volume_lower_bound(inst), int(inst.output.sum())) <= res.bound <= opt <= res.upper
    assert res.proven_optimal == (res.bound == res.upper)


@settings(max_examples=15, deadline=None)
@given(instances(max_n=5, max_memory=9, max_arrival=3))
def test_priced_relaxation_equals_the_full_one(inst):
    """Column generation prices the relaxation out: its value is the dense LP's."""
    res = peak_lower_bound(inst, rounds=0)
    if np.isfinite(res.lp_bound):
        assert res.lp_bound == pytest.approx(_full_lp(inst, res.upper), abs=1e-6)


def test_peak_rows_close_the_gap_of_two_full_peaks():
    # two requests peak at M = 6 (1 + 5 and 3 + 3): in their last rounds nothing else fits
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 3], [2, 5, 3], memory=6)
    assert brute_force_optimal(inst).total_latency == 15
    assert _full_lp(inst, 25) < 13.5                    # the plain relaxation shares the peaks
    assert peak_lower_bound(inst).bound == 15
    assert peak_lower_bound(inst, brute_force_optimal(inst)).proven_optimal


def test_paper_size_bound_beats_the_area_bound():
    inst = paper_model1(np.random.default_rng(1), n=25)
    found = improve_schedule(inst, np.random.default_rng(0), evaluations=5000)
    res = peak_lower_bound(inst, found.schedule, time_limit=20)
    # measured: area 1012, relaxation 1113, with peak rows about 1250, search 1512
    assert res.volume < res.lp_bound < res.cut_bound <= res.bound <= found.total_latency
    assert res.bound >= 1.15 * res.volume and res.rounds >= 1 and res.cuts > 0


def test_validation():
    inst = Instance.from_arrays([0], [1], [2], memory=4)
    with pytest.raises(ValueError, match="rounds"):
        peak_lower_bound(inst, rounds=-1)
    bad = Schedule.from_starts(Instance.from_arrays([0, 0], [1, 1], [3, 3], memory=4), [0, 0])
    with pytest.raises(ValueError):
        peak_lower_bound(Instance.from_arrays([0, 0], [1, 1], [3, 3], memory=4), bad)


@settings(max_examples=25, deadline=None)
@given(instances(max_n=5, max_memory=9, max_arrival=3))
def test_prove_optimal_matches_exhaustive_search(inst):
    from kvtheory.optimum.bounds import prove_optimal
    opt = brute_force_optimal(inst, max_leaves=BRUTE_LEAVES).total_latency
    res = prove_optimal(inst, time_limit=30, bound_time=10)
    check_schedule(inst, res.schedule, preemptive=False)
    assert res.proven_optimal and res.objective == opt == res.lower_bound
