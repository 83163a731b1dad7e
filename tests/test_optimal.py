"""The integer program equals brute force; its schedules pass the checker."""

import numpy as np
import pytest
from hypothesis import given, settings

from kvtheory import Instance, Schedule, check_schedule
from kvtheory.optimum.exact import brute_force_optimal, optimal_horizon, solve_optimal
from strategies import instances


@settings(max_examples=80)
@given(inst=instances(max_n=4, max_memory=8, max_arrival=3))
def test_ip_equals_brute_force(inst):
    res = solve_optimal(inst)
    brute = brute_force_optimal(inst)
    check_schedule(inst, res.schedule, preemptive=False)
    check_schedule(inst, brute, preemptive=False)
    assert res.proven_optimal and res.status == "optimal" and res.gap == 0
    assert res.objective == brute.total_latency == res.schedule.total_latency


def test_identical_requests_are_merged_exactly():
    inst = Instance.from_arrays([0] * 4, [2] * 4, [2] * 4, memory=9)
    res = solve_optimal(inst)
    assert res.proven_optimal
    assert res.objective == brute_force_optimal(inst).total_latency
    check_schedule(inst, res.schedule)


def test_upper_bound_must_be_feasible():
    inst = Instance.from_arrays([0, 0], [2, 2], [2, 2], memory=7)
    with pytest.raises(ValueError, match="memory overflow"):
        solve_optimal(inst, upper_bound=Schedule.from_starts(inst, [0, 0]))


def test_horizon_contains_the_optimum():
    inst = Instance.from_arrays([0, 2, 2], [1, 1, 2], [3, 2, 2], memory=5)
    H, latest = optimal_horizon(inst)
    opt = brute_force_optimal(inst)
    assert opt.makespan <= H
    assert all(r.start <= latest[r.id] for r in opt.records)


def test_brute_force_refuses_large_spaces():
    inst = Instance.from_arrays([0] * 8, [1] * 8, [5] * 8, memory=6)
    with pytest.raises(ValueError, match="max_leaves"):
        brute_force_optimal(inst, max_leaves=1000)


def test_time_limit_reports_gap_not_optimality():
    from kvtheory.model.workloads import paper_model1
    inst = paper_model1(np.random.default_rng(0), n=25)
    res = solve_optimal(inst, time_limit=1.0)
    check_schedule(inst, res.schedule)
    if not res.proven_optimal:
        assert res.status != "optimal" and res.lower_bound <= res.objective


def test_build_seconds_and_presolve_off():
    # three requests, M = 5 (the docstring example): optimum 8 with or without HiGHS's presolve
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    for presolve in (True, False):
        res = solve_optimal(inst, presolve=presolve, time_limit=30)
        assert res.objective == 8 and res.proven_optimal
        assert 0 <= res.build_seconds <= res.solve_time
    assert solve_optimal(Instance.from_arrays([], [], [], memory=3)).build_seconds == 0.0
