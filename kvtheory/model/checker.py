"""The independent feasibility checker: the ground truth for every schedule.

It recomputes memory round by round from the records alone, with plain Python loops, under
the project's fixed convention (book chapter *The model*): an attempt started at decision time ``p`` is
processed in rounds ``p+1, ..., q``, holding ``s + (t - p)`` units in round ``t``; a completed
attempt has ``q = p + o``.  It imports nothing from the simulator, the policies or the
solvers, and does not use :meth:`Schedule.memory_profile`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvtheory.model.instance import Instance

__all__ = ["ScheduleError", "CheckReport", "check_schedule", "is_valid_schedule"]


class ScheduleError(ValueError):
    """A schedule violates the model: the message says which rule, which request, which round."""


@dataclass(frozen=True)
class CheckReport:
    """What the checker verified.

    Attributes
    ----------
    n : int
        Requests checked.
    rounds : int
        Rounds whose memory was recomputed (``0 .. makespan``).
    peak_memory : int
        Largest memory in any round, recomputed by the checker.
    total_latency : int
        Objective recomputed from the attempts.
    """

    n: int
    rounds: int
    peak_memory: int
    total_latency: int


def check_schedule(instance: Instance, schedule, *, preemptive: bool = True) -> CheckReport:
    """Verify ``schedule`` against ``instance`` or raise :class:`ScheduleError`.

    Checks every request appears exactly once, its fields match the instance, no attempt starts
    before arrival or overlaps another, aborted attempts are shorter than the output, the final
    attempt runs exactly ``o`` rounds, the derived fields (completion, latency, evictions,
    tokens recomputed) are consistent, and memory in every round is at most ``M``.

    Examples
    --------
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([0, 0], [2, 2], [2, 2], memory=7)
    >>> check_schedule(inst, Schedule.from_starts(inst, [0, 1])).peak_memory
    7
    >>> check_schedule(inst, Schedule.from_starts(inst, [0, 0]))
    Traceback (most recent call last):
    ...
    kvtheory.model.checker.ScheduleError: memory overflow in round 2: 8 > M=7 (requests [0, 1])

    Parameters
    ----------
    instance : Instance
    schedule : Schedule
        Anything with a ``records`` sequence of :class:`RequestRecord`.
    preemptive : bool
        If ``False``, reject any request with more than one attempt.

    Returns
    -------
    CheckReport
    """
    M = instance.memory
    n = instance.n
    seen: dict[int, object] = {}
    for rec in schedule.records:
        rid = rec.id
        if not isinstance(rid, int) or not 0 <= rid < n:
            raise ScheduleError(f"record for unknown request id {rid!r} (instance has {n})")
        if rid in seen:
            raise ScheduleError(f"request {rid} appears twice in the schedule")
        seen[rid] = rec
    missing = [i for i in range(n) if i not in seen]
    if missing:
        raise ScheduleError(f"requests missing from the schedule: {missing[:10]}"
                            + (" ..." if len(missing) > 10 else ""))

    usage: dict[int, int] = {}
    who: dict[int, list[int]] = {}
    total = 0
    for i in range(n):
        req = instance.requests[i]
        rec = seen[i]
        for fld, want in (("arrival", req.arrival), ("prompt", req.prompt),
                          ("output", req.output)):
            if getattr(rec, fld) != want:
                raise ScheduleError(
                    f"request {i}: record says {fld}={getattr(rec, fld)}, instance says {want}")
        attempts = list(rec.attempts)
        if not attempts:
            raise ScheduleError(f"request {i} was never started")
        if not preemptive and len(attempts) > 1:
            raise ScheduleError(f"request {i} started {len(attempts)} times in a "
                                f"non-preemptive schedule")
        prev_stop = None
        for k, (p, q) in enumerate(attempts):
            if k == 0 and p < req.arrival:
                raise ScheduleError(
                    f"request {i} starts at {p}, before its arrival at {req.arrival}")
            if prev_stop is not None and p < prev_stop:
                raise ScheduleError(
                    f"request {i}: attempt {k} starts at {p} before attempt {k - 1} "
                    f"stopped at {prev_stop}")
            last = k == len(attempts) - 1
            length = q - p
            if last and length != req.output:
                raise ScheduleError(
                    f"request {i}: final attempt runs {length} rounds, needs o={req.output}")
            if not last and not 0 <= length < req.output:
                raise ScheduleError(
                    f"request {i}: aborted attempt {k} runs {length} rounds "
                    f"(must be in [0, {req.output}))")
            for t in range(p + 1, q + 1):
                usage[t] = usage.get(t, 0) + req.prompt + (t - p)
                who.setdefault(t, []).append(i)
            prev_stop = q
        p_last, q_last = attempts[-1]
        derived = {"start": p_last, "completion": q_last, "first_start": attempts[0][0],
                   "latency": q_last - req.arrival, "evictions": len(attempts) - 1,
                   "tokens_recomputed": sum(q - p for p, q in attempts[:-1])}
        for fld, want in derived.items():
            if getattr(rec, fld) != want:
                raise ScheduleError(
                    f"request {i}: record says {fld}={getattr(rec, fld)}, its attempts give {want}")
        total += q_last - req.arrival

    for t in sorted(usage):
        if usage[t] > M:
            raise ScheduleError(
                f"memory overflow in round {t}: {usage[t]} > M={M} (requests {sorted(who[t])})")
    return CheckReport(n=n, rounds=max(usage, default=0) + 1,
                       peak_memory=max(usage.values(), default=0), total_latency=total)


def is_valid_schedule(instance: Instance, schedule, *, preemptive: bool = True) -> bool:
    """``True`` if :func:`check_schedule` accepts the schedule, else ``False``.

    Examples
    --------
    >>> from kvtheory import Instance, Schedule
    >>> inst = Instance.from_arrays([1], [1], [1], memory=2)
    >>> is_valid_schedule(inst, Schedule.from_starts(inst, [0]))   # starts before arrival
    False
    """
    try:
        check_schedule(instance, schedule, preemptive=preemptive)
    except ScheduleError:
        return False
    return True
