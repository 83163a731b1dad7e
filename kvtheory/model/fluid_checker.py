"""The stage model of fluid-guided batching, and its independent checker.

The model of Ao, Luo, Simchi-Levi and Wang (arXiv 2504.11320, section "Model"; *the paper
states*), in unit rounds (batch time ``d_0 + d_1 * KV`` with ``d_0 = 1``, ``d_1 = 0``):

* a prompt ``i`` has prefill length ``l_i`` and decode length ``l'_i``; it needs one prefill
  iteration (*stage 0*) and then ``l'_i`` decode iterations (*stages* ``1 .. l'_i``);
* processed at stage ``s`` in round ``t``, it holds ``l_i + s`` units of KV cache during round
  ``t``; it completes at ``t + 1`` after stage ``l'_i`` and frees its cache;
* a *resident* prompt (prefilled, not complete) need not be in every batch: it then waits and
  keeps the cache of its last processed stage, which still counts against memory;
* in every round the memory of all residents is at most ``C``;
* an *eviction* at the start of a round frees a resident's cache; the prompt loses its progress
  and restarts from stage 0 (last-in-first-out eviction is a policy's choice, not the model's).

This module holds the instance and schedule objects and :func:`check_stage_schedule`, written
apart from the simulator (:mod:`kvtheory.engines.fluid`) so that it can catch the simulator's mistakes:
it replays a schedule with plain per-prompt bookkeeping and recomputes every round's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kvtheory.model.validation import as_int

__all__ = ["StageInstance", "StageSchedule", "StageReport", "StageScheduleError",
           "check_stage_schedule"]


class StageScheduleError(ValueError):
    """A stage schedule breaks the model (wrong stage, early start, memory above ``C``)."""


@dataclass(frozen=True)
class StageInstance:
    """Prompts of the stage model: arrival round, prefill ``l``, decode ``l'`` and type index.

    Examples
    --------
    >>> inst = StageInstance.from_arrays([0, 0], [1, 1], [1, 2], memory=6)
    >>> inst.n, inst.memory
    (2, 6)
    >>> StageInstance.from_arrays([0], [3], [4], memory=6)
    Traceback (most recent call last):
    ...
    ValueError: prompt 0 can never complete: l + l' = 7 > C = 6
    """

    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    kind: np.ndarray
    memory: int

    @classmethod
    def from_arrays(cls, arrival, prompt, output, memory: int, kind=None) -> "StageInstance":
        """Build and validate (integers, ``l >= 1``, ``l' >= 1``, ``l + l' <= C``)."""
        a = np.asarray(arrival, dtype=np.int64)
        p = np.asarray(prompt, dtype=np.int64)
        o = np.asarray(output, dtype=np.int64)
        k = np.zeros_like(a) if kind is None else np.asarray(kind, dtype=np.int64)
        C = as_int(memory, name="memory", minimum=2)
        if not a.shape == p.shape == o.shape == k.shape or a.ndim != 1:
            raise ValueError(f"arrays must be 1-d of one length, got shapes {a.shape}, "
                             f"{p.shape}, {o.shape}, {k.shape}")
        for i in range(a.size):
            if a[i] < 0 or p[i] < 1 or o[i] < 1:
                raise ValueError(f"prompt {i}: expected arrival >= 0, l >= 1, l' >= 1, found "
                                 f"({a[i]}, {p[i]}, {o[i]})")
            if p[i] + o[i] > C:
                raise ValueError(f"prompt {i} can never complete: l + l' = {p[i] + o[i]} > "
                                 f"C = {C}")
        for x in (a, p, o, k):
            x.flags.writeable = False
        return cls(a, p, o, k, C)

    @property
    def n(self) -> int:
        """Number of prompts."""
        return int(self.arrival.size)


@dataclass(frozen=True)
class StageSchedule:
    """What a policy did, round by round.

    Attributes
    ----------
    batches : tuple of tuple of (id, stage)
        ``batches[t]``: the prompts processed in round ``t`` and the stage each is at.
    evictions : tuple of tuple of int
        ``evictions[t]``: the residents evicted at the start of round ``t``.
    policy : str
    """

    batches: tuple
    evictions: tuple
    policy: str = ""

    @property
    def rounds(self) -> int:
        """Number of rounds recorded."""
        return len(self.batches)


@dataclass(frozen=True)
class StageReport:
    """What :func:`check_stage_schedule` found: per-prompt completion and per-round memory.

    Attributes
    ----------
    completion : ndarray
        Round at which each prompt completed (``-1``: not within the schedule).
    memory : ndarray
        Memory held by the residents in each round.
    evictions : int
        Number of evictions.
    rounds : int
    """

    completion: np.ndarray
    memory: np.ndarray
    evictions: int
    rounds: int

    @property
    def peak_memory(self) -> int:
        """Largest memory of any round (0 for an empty schedule)."""
        return int(self.memory.max()) if self.memory.size else 0


def check_stage_schedule(inst: StageInstance, sched: StageSchedule) -> StageReport:
    """Replay ``sched`` on ``inst`` and verify the stage model; raise on any violation.

    Examples
    --------
    >>> inst = StageInstance.from_arrays([0, 0], [1, 1], [1, 1], memory=4)
    >>> ok = StageSchedule((((0, 0), (1, 0)), ((0, 1), (1, 1))), ((), ()))
    >>> rep = check_stage_schedule(inst, ok)        # prefill both (1+1), decode both (2+2)
    >>> rep.completion.tolist(), rep.memory.tolist()
    ([2, 2], [2, 4])
    >>> bad = StageSchedule((((0, 0),), ((0, 1), (1, 0))), ((), ()))
    >>> check_stage_schedule(StageInstance.from_arrays([0, 0], [1, 1], [1, 1], memory=2), bad)
    Traceback (most recent call last):
    ...
    kvtheory.model.fluid_checker.StageScheduleError: round 1: memory 3 > C = 2
    """
    if len(sched.evictions) != len(sched.batches):
        raise StageScheduleError(f"need one eviction list per round: {len(sched.batches)} "
                                 f"rounds, {len(sched.evictions)} eviction lists")
    n = inst.n
    nxt = [0] * n            # next stage to process
    last = [-1] * n          # last processed stage of the current attempt (-1: not resident)
    done = [-1] * n
    resident: set = set()
    mem = np.zeros(len(sched.batches), dtype=np.int64)
    ev = 0
    for t, (batch, evict) in enumerate(zip(sched.batches, sched.evictions)):
        for i in evict:
            if not 0 <= i < n or last[i] < 0 or done[i] >= 0:
                raise StageScheduleError(f"round {t}: prompt {i} evicted but not resident")
            nxt[i], last[i] = 0, -1
            resident.discard(i)
            ev += 1
        seen = set()
        for i, s in batch:
            if not 0 <= i < n:
                raise StageScheduleError(f"round {t}: no prompt {i}")
            if i in seen:
                raise StageScheduleError(f"round {t}: prompt {i} twice in one batch")
            seen.add(i)
            if done[i] >= 0:
                raise StageScheduleError(f"round {t}: prompt {i} already completed")
            if inst.arrival[i] > t:
                raise StageScheduleError(f"round {t}: prompt {i} processed before its arrival "
                                         f"{int(inst.arrival[i])}")
            if s != nxt[i]:
                raise StageScheduleError(f"round {t}: prompt {i} at stage {s}, expected "
                                         f"stage {nxt[i]}")
            last[i] = s
            nxt[i] = s + 1
            resident.add(i)
        used = sum(int(inst.prompt[i]) + last[i] for i in resident)
        if used > inst.memory:
            raise StageScheduleError(f"round {t}: memory {used} > C = {inst.memory}")
        mem[t] = used
        for i, s in batch:
            if s == int(inst.output[i]):
                done[i] = t + 1
                resident.discard(i)
    return StageReport(np.array(done, dtype=np.int64), mem, ev, len(sched.batches))
