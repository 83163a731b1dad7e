"""The independent checker rejects every kind of broken schedule (one test per violation)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given

from kvtheory import Instance, Schedule, ScheduleError, check_schedule, is_valid_schedule
from strategies import instances

INST = Instance.from_arrays([0, 1, 1], [2, 1, 1], [2, 2, 1], memory=6)
GOOD = Schedule.from_starts(INST, [0, 1, 2])


def _replace(sched, i, **changes):
    recs = list(sched.records)
    recs[i] = dataclasses.replace(recs[i], **changes)
    return Schedule(sched.instance, tuple(recs), sched.policy)


def test_good_schedule_passes():
    rep = check_schedule(INST, GOOD)
    assert rep.peak_memory == 6 and rep.total_latency == 2 + 2 + 2


def test_overflow_names_round_and_amount():
    with pytest.raises(ScheduleError, match=r"memory overflow in round 2: 8 > M=6 \(requests \[0, 1, 2\]\)"):
        check_schedule(INST, Schedule.from_starts(INST, [0, 1, 1]))


def test_start_before_arrival():
    with pytest.raises(ScheduleError, match="request 1 starts at 0, before its arrival at 1"):
        check_schedule(INST, Schedule.from_starts(INST, [0, 0, 3]))


def test_missing_request():
    sched = Schedule(INST, GOOD.records[:2])
    with pytest.raises(ScheduleError, match=r"requests missing from the schedule: \[2\]"):
        check_schedule(INST, sched)


def test_request_twice():
    sched = Schedule(INST, GOOD.records + (GOOD.records[1],))
    with pytest.raises(ScheduleError, match="request 1 appears twice"):
        check_schedule(INST, sched)


def test_unknown_id():
    sched = _replace(GOOD, 2, id=9)
    with pytest.raises(ScheduleError, match="unknown request id 9"):
        check_schedule(INST, sched)


def test_wrong_output_length():
    with pytest.raises(ScheduleError, match="final attempt runs 1 rounds, needs o=2"):
        check_schedule(INST, _replace(GOOD, 0, attempts=((0, 1),), completion=1, latency=1))


def test_inconsistent_latency():
    with pytest.raises(ScheduleError, match="record says latency=5, its attempts give 2"):
        check_schedule(INST, _replace(GOOD, 0, latency=5))


def test_field_mismatch():
    with pytest.raises(ScheduleError, match="record says prompt=3, instance says 2"):
        check_schedule(INST, _replace(GOOD, 0, prompt=3))


def test_overlapping_attempts():
    sched = Schedule.from_attempts(INST, [[(0, 1), (0, 2)], [(1, 3)], [(2, 3)]])
    with pytest.raises(ScheduleError, match="attempt 1 starts at 0 before attempt 0 stopped at 1"):
        check_schedule(INST, sched)


def test_aborted_attempt_too_long():
    sched = Schedule.from_attempts(INST, [[(0, 2), (2, 4)], [(1, 3)], [(2, 3)]])
    with pytest.raises(ScheduleError, match=r"aborted attempt 0 runs 2 rounds \(must be in \[0, 2\)\)"):
        check_schedule(INST, sched)


def test_preemption_rejected_when_not_allowed():
    sched = Schedule.from_attempts(INST, [[(0, 1), (1, 3)], [(3, 5)], [(2, 3)]])
    assert check_schedule(INST, sched).total_latency == 3 + 4 + 2
    with pytest.raises(ScheduleError, match="started 2 times in a non-preemptive schedule"):
        check_schedule(INST, sched, preemptive=False)


def test_never_started():
    sched = _replace(GOOD, 1, attempts=())
    with pytest.raises(ScheduleError, match="request 1 was never started"):
        check_schedule(INST, sched)


@given(instances(max_n=5), )
def test_checker_agrees_with_memory_profile(inst):
    """Two independent memory computations (checker loop vs vectorised profile) agree."""
    rng = np.random.default_rng(inst.n * 31 + inst.memory)
    starts = inst.arrival + rng.integers(0, 4, inst.n)
    sched = Schedule.from_starts(inst, starts.tolist())
    prof = sched.memory_profile()
    assert is_valid_schedule(inst, sched) == bool(prof.max() <= inst.memory)
    if prof.max() <= inst.memory:
        assert check_schedule(inst, sched).peak_memory == int(prof.max())
