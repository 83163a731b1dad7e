"""Schedules: tidy per-request records and the figures derived from them.

Every aggregate (total latency, makespan, peak memory, the memory profile) is computed from
the records, never kept as a separate counter (Ciw's ``DataRecord`` style).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from kvtheory.model.validation import as_int
from kvtheory.model.instance import Instance

__all__ = ["RequestRecord", "Schedule", "TimedSchedule"]


@dataclass(frozen=True)
class RequestRecord:
    """What happened to one request.

    Attributes
    ----------
    id : int
        Position of the request in its instance.
    arrival, prompt, output : int
        The request's fields ``a_i, s_i, o_i``.
    prediction : int
        The predicted output length the scheduler saw (``output`` if exact).
    first_start : int
        Decision time of the first attempt (the first output token is produced in round
        ``first_start + 1``).
    start : int
        Decision time ``p_i`` of the final, completed attempt.
    completion : int
        ``c_i = start + output``.
    latency : int
        End-to-end latency ``c_i - a_i``.
    evictions : int
        Number of aborted attempts (the request was evicted and its progress lost).
    tokens_recomputed : int
        Output tokens produced by aborted attempts and therefore computed again.
    attempts : tuple of (int, int)
        Every attempt as ``(start, stop)``: processed in rounds ``start+1 .. stop``.  The last
        attempt has ``stop == completion``.
    """

    id: int
    arrival: int
    prompt: int
    output: int
    prediction: int
    first_start: int
    start: int
    completion: int
    latency: int
    evictions: int
    tokens_recomputed: int
    attempts: tuple[tuple[int, int], ...] = field(repr=False)

    @property
    def waiting(self) -> int:
        """Rounds spent not producing useful output: ``latency - output``."""
        return self.latency - self.output


def _record(instance: Instance, i: int, attempts: Sequence[tuple[int, int]]) -> RequestRecord:
    r = instance.requests[i]
    attempts = tuple((int(p), int(q)) for p, q in attempts)
    start, completion = attempts[-1]
    return RequestRecord(
        id=i, arrival=r.arrival, prompt=r.prompt, output=r.output, prediction=r.predicted,
        first_start=attempts[0][0], start=start, completion=completion,
        latency=completion - r.arrival, evictions=len(attempts) - 1,
        tokens_recomputed=sum(q - p for p, q in attempts[:-1]), attempts=attempts)


@dataclass(frozen=True)
class Schedule:
    """A complete schedule of an instance: one :class:`RequestRecord` per request.

    Construct it with :meth:`from_starts` (non-preemptive schedules) or
    :meth:`from_attempts`; validity is *not* assumed: pass it to
    :func:`kvtheory.check_schedule`.

    Examples
    --------
    >>> from kvtheory import Instance
    >>> inst = Instance.from_arrays([0, 0], [2, 1], [3, 1], memory=6)
    >>> sched = Schedule.from_starts(inst, [0, 0])
    >>> sched.total_latency, sched.makespan, sched.peak_memory
    (4, 3, 5)
    >>> sched.memory_profile().tolist()     # rounds 0, 1, 2, 3
    [0, 5, 4, 5]

    Attributes
    ----------
    instance : Instance
    records : tuple of RequestRecord
        In request-id order.
    policy : str
        Name of whatever produced the schedule.
    """

    instance: Instance
    records: tuple[RequestRecord, ...]
    policy: str = ""

    @classmethod
    def from_starts(cls, instance: Instance, starts: Sequence[int], policy: str = "") -> "Schedule":
        """Non-preemptive schedule in which request ``i`` starts at decision time ``starts[i]``."""
        if len(starts) != instance.n:
            raise ValueError(f"need one start per request: expected {instance.n}, got {len(starts)}")
        recs = []
        for i, p in enumerate(starts):
            p = as_int(p, name="start", where=f"request {i}")
            recs.append(_record(instance, i, [(p, p + instance.requests[i].output)]))
        return cls(instance, tuple(recs), policy)

    @classmethod
    def from_attempts(cls, instance: Instance, attempts: Sequence[Sequence[tuple[int, int]]],
                      policy: str = "") -> "Schedule":
        """Schedule from each request's list of ``(start, stop)`` attempts (last one completes)."""
        if len(attempts) != instance.n:
            raise ValueError(
                f"need attempts for every request: expected {instance.n}, got {len(attempts)}")
        recs = []
        for i, att in enumerate(attempts):
            if len(att) == 0:
                raise ValueError(f"request {i} has no attempt")
            recs.append(_record(instance, i, att))
        return cls(instance, tuple(recs), policy)

    # ---------------------------------------------------------------- derived figures
    @property
    def n(self) -> int:
        return len(self.records)

    @cached_property
    def latencies(self) -> np.ndarray:
        """Per-request latencies ``c_i - a_i`` (``int64``)."""
        return np.array([r.latency for r in self.records], dtype=np.int64)

    @property
    def total_latency(self) -> int:
        """Total end-to-end latency ``sum_i (c_i - a_i)``: the objective."""
        return int(self.latencies.sum())

    @property
    def average_latency(self) -> float:
        """``total_latency / n``."""
        return float(self.total_latency / self.n) if self.n else 0.0

    @property
    def makespan(self) -> int:
        """Last completion round."""
        return max((r.completion for r in self.records), default=0)

    @property
    def evictions(self) -> int:
        """Total number of evictions over all requests."""
        return sum(r.evictions for r in self.records)

    @property
    def tokens_recomputed(self) -> int:
        """Total output tokens lost to evictions."""
        return sum(r.tokens_recomputed for r in self.records)

    def memory_profile(self) -> np.ndarray:
        """Memory in use in each round ``0 .. makespan`` (index = round).

        Attempt ``(p, q)`` of a request with prompt ``s`` contributes ``s + (t - p)`` in each
        round ``t = p+1 .. q``.
        """
        T = self.makespan
        if T <= 0:
            return np.zeros(1, dtype=np.int64)
        starts, stops, prompts = [], [], []
        for r in self.records:
            for p, q in r.attempts:
                if q > p:
                    starts.append(p)
                    stops.append(q)
                    prompts.append(r.prompt)
        p = np.asarray(starts, dtype=np.int64)
        q = np.asarray(stops, dtype=np.int64)
        s = np.asarray(prompts, dtype=np.int64)
        # memory(t) = sum over covering attempts of (s - p) + t * (number covering)
        offset = np.zeros(T + 2, dtype=np.int64)
        count = np.zeros(T + 2, dtype=np.int64)
        np.add.at(offset, p + 1, s - p)
        np.add.at(offset, q + 1, -(s - p))
        np.add.at(count, p + 1, 1)
        np.add.at(count, q + 1, -1)
        t = np.arange(T + 1, dtype=np.int64)
        return np.cumsum(offset)[: T + 1] + t * np.cumsum(count)[: T + 1]

    @property
    def peak_memory(self) -> int:
        """Largest memory in use in any round."""
        return int(self.memory_profile().max())

    def rows(self) -> list[dict]:
        """The records as a list of plain dicts (tidy: one row per request, no attempts).

        Examples
        --------
        >>> from kvtheory import Instance
        >>> inst = Instance.from_arrays([1], [2], [3], memory=6)
        >>> Schedule.from_starts(inst, [2]).rows()[0]["latency"]
        4
        """
        out = []
        for r in self.records:
            d = asdict(r)
            d.pop("attempts")
            out.append(d)
        return out

    def summary(self) -> dict:
        """Headline figures of the schedule as a dict of plain Python numbers.

        Examples
        --------
        >>> from kvtheory import Instance
        >>> inst = Instance.from_arrays([0, 0], [1, 1], [1, 2], memory=5)
        >>> Schedule.from_starts(inst, [0, 0], policy="demo").summary()["total_latency"]
        3
        """
        return {"policy": self.policy, "n": self.n, "memory": self.instance.memory,
                "total_latency": self.total_latency, "average_latency": self.average_latency,
                "makespan": self.makespan, "peak_memory": self.peak_memory,
                "evictions": self.evictions, "tokens_recomputed": self.tokens_recomputed}

    def __repr__(self) -> str:
        name = f" {self.policy!r}" if self.policy else ""
        return (f"<Schedule{name}: n={self.n}, total_latency={self.total_latency}, "
                f"makespan={self.makespan}, evictions={self.evictions}>")


@dataclass(frozen=True)
class TimedSchedule:
    """Result of :func:`kvtheory.simulate_timed`: a round schedule plus the wall clock of every round.

    Attributes
    ----------
    schedule : Schedule
        Records over the *derived* round instance, whose arrival of request ``i`` is the decision
        round in which it joined the queue; it passes :func:`kvtheory.check_schedule`.
    arrival_time : ndarray
        Arrival of each request in seconds.
    round_end : ndarray
        ``round_end[r]`` is the clock (seconds) when round ``r`` finished (``round_end[0]``: the
        first arrival).  A decision at ``t`` is taken at ``round_end[t]``, or at the next arrival
        if the engine was idle.
    """

    schedule: Schedule
    arrival_time: np.ndarray
    round_end: np.ndarray

    @property
    def first_token_time(self) -> np.ndarray:
        """Clock when each request's first output token was produced (first attempt)."""
        return self.round_end[np.array([r.first_start + 1 for r in self.schedule.records])]

    @property
    def completion_time(self) -> np.ndarray:
        """Clock when each request completed."""
        return self.round_end[np.array([r.completion for r in self.schedule.records])]

    @property
    def latency(self) -> np.ndarray:
        """End-to-end latency in seconds: completion time minus arrival time."""
        return self.completion_time - self.arrival_time

    @property
    def ttft(self) -> np.ndarray:
        """Time to first token in seconds."""
        return self.first_token_time - self.arrival_time
