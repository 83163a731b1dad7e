"""Running an untrusted policy: every decision checked, timed and watched for idling.

:func:`run_guarded` runs a policy on an instance in the Python engine through a wrapper that,
around each call ``policy(state)``:

* catches any exception the policy raises;
* measures the call's wall time and stops the run when it exceeds ``limits.seconds`` (on Unix,
  in the main thread, a timer also interrupts a call that never returns);
* checks the answer before the engine sees it: a :class:`~kvtheory.engines.simulator.Decision`,
  ids that are waiting (start) or running (evict), each once, and round ``t + 1`` within ``M``;
* records the first *idle round* (:data:`IDLE_RULE`).

The guard stops a policy that leaves requests waiting with nothing running for ``limits.stall``
decisions in a row (in every engine the scorecard uses); the engine's own livelock limit
(``limits.livelock``) stops one that runs requests but completes none.  A stopped run gives a :class:`Fault`: one line naming what the
policy did, the round and the request.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

from kvtheory.engines.simulator import Decision, LivelockError, PolicyError, simulate
from kvtheory.model.checker import ScheduleError, check_schedule
from kvtheory.model.instance import Instance

__all__ = ["Limits", "Fault", "Idle", "Run", "run_guarded", "IDLE_RULE"]

#: The definition of an idle round used by the scorecard.
IDLE_RULE = ("an idle round: at decision time t requests wait, none runs in round t + 1 (none "
             "running after the evictions, none started) and some waiting request fits alone "
             "for its whole predicted run (s + õ <= M)")


@dataclass(frozen=True)
class Limits:
    """What a policy may do before its run is stopped.

    Attributes
    ----------
    seconds : float
        Wall time allowed per decision.
    stall : int
        Decisions in a row at which requests wait, none runs and none starts.
    livelock : int
        Rounds in which requests run but none completes.

    Examples
    --------
    >>> Limits().seconds
    1.0
    """

    seconds: float = 1.0
    stall: int = 50
    livelock: int = 200

    def describe(self) -> str:
        """One line stating the limits."""
        return (f"{self.seconds:g} s per decision, {self.stall} rounds with nothing running or "
                f"started, {self.livelock} rounds without a completion")


@dataclass(frozen=True)
class Fault:
    """Why a run stopped: ``kind`` (``raised``, ``slow``, ``not a Decision``, ``bad id``,
    ``memory``, ``stall``, ``livelock``, ``invalid schedule``), the round ``t``, the request
    concerned (``None`` if none) and one line."""

    kind: str
    t: int | None
    request: int | None
    line: str


@dataclass(frozen=True)
class Idle:
    """The first idle round of a run: decision time ``t``, a waiting request that fits alone."""

    t: int
    request: int
    prompt: int
    prediction: int
    memory: int

    def line(self) -> str:
        return (f"at t={self.t} nothing ran or started while request {self.request} waited "
                f"(s={self.prompt}, õ={self.prediction}, s + õ <= M={self.memory})")


@dataclass(frozen=True)
class Run:
    """The outcome of :func:`run_guarded`: a checked schedule or a fault; the first idle round."""

    schedule: object
    fault: Fault | None
    idle: Idle | None


class _Stop(PolicyError):
    def __init__(self, fault: Fault):
        super().__init__(fault.line)
        self.fault = fault


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


class _Guard:
    """The wrapper of one run (mutable, private to :func:`run_guarded`)."""

    def __init__(self, policy, limits: Limits, label: str):
        self.policy, self.limits, self.label = policy, limits, label
        self.name = self.__name__ = label          # the engines' error messages name it
        self.idle: Idle | None = None
        self.stalled = 0               # consecutive decisions that left waiting requests idle
        self.timer = (hasattr(signal, "setitimer")
                      and threading.current_thread() is threading.main_thread())

    def stop(self, kind, t, request, what):
        who = "" if request is None else f", request {request}"
        raise _Stop(Fault(kind, t, request, f"{self.label} {what} (t={t}{who})"))

    def call(self, state):
        lim = self.limits.seconds
        old = None
        if self.timer:
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, lim + 0.05)
        t0 = time.perf_counter()
        try:
            return self.policy(state), time.perf_counter() - t0
        except _Timeout:
            self.stop("slow", state.t, None, f"took more than {lim:g} s for one decision "
                                             f"(interrupted)")
        except (Exception, SystemExit) as exc:        # noqa: BLE001  (any error is reported)
            text = " ".join(str(exc).split())[:160]
            self.stop("raised", state.t, None, f"raised {type(exc).__name__}: {text}")
        finally:
            if self.timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)

    def __call__(self, state):
        t, M = state.t, state.memory
        w, r = state.waiting, state.running
        dec, dt = self.call(state)
        if dt > self.limits.seconds:
            self.stop("slow", t, None, f"took {dt:.3g} s for one decision (limit "
                                       f"{self.limits.seconds:g} s)")
        if not isinstance(dec, Decision):
            self.stop("not a Decision", t, None, f"returned {type(dec).__name__}, not a Decision")
        waiting = dict(zip(w.id.tolist(), zip(w.prompt.tolist(), w.prediction.tolist())))
        running = dict(zip(r.id.tolist(), (r.prompt + t + 1 - r.start).tolist()))
        for i in dec.start:
            if i not in waiting:
                self.stop("bad id", t, i, "started a request that is not waiting"
                          + (" (it is running)" if i in running else ""))
        for i in dec.evict:
            if i not in running:
                self.stop("bad id", t, i, "evicted a request that is not running")
        for ids, what in ((dec.start, "started"), (dec.evict, "evicted")):
            if len(set(ids)) != len(ids):
                i = next(i for i in ids if ids.count(i) > 1)
                self.stop("bad id", t, i, f"{what} the same request twice")
        after = (state.usage_next - sum(running[i] for i in dec.evict)
                 + sum(waiting[i][0] + 1 for i in dec.start))
        if after > M and dec.start:
            self.stop("memory", t, dec.start[-1], f"exceeded memory: round {t + 1} would hold "
                                                  f"{after} > M={M}")
        if after > M:
            kept = [i for i in running if i not in dec.evict]
            self.stop("memory", t, kept[-1], f"exceeded memory: kept the running requests "
                                             f"although round {t + 1} would hold {after} > M={M} "
                                             f"(it must evict)")
        if waiting and not dec.start and len(dec.evict) == len(running):
            self.stalled += 1
            if self.stalled >= self.limits.stall:
                self.stop("stall", t, None, f"started nothing for {self.limits.stall} rounds "
                                            f"while requests waited and none ran")
        else:
            self.stalled = 0
        if (self.idle is None and not dec.start and len(dec.evict) == len(running)
                and waiting):
            fits = [(i, s, p) for i, (s, p) in waiting.items() if s + p <= M]
            if fits:
                self.idle = Idle(t, *fits[0], M)
        return dec


def run_guarded(instance: Instance, policy, limits: Limits = Limits(), *,
                label: str = "the policy") -> Run:
    """Run ``policy`` on ``instance`` under ``limits``; a checked schedule or a :class:`Fault`.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [1, 2], memory=3)
    >>> run = run_guarded(inst, mc_sf)
    >>> run.fault is None, run.idle is None, run.schedule.total_latency
    (True, True, 4)
    >>> greedy = lambda state: Decision(start=[i for i, _, _ in state.waiting_in_order()])
    >>> run_guarded(inst, greedy).fault.line
    'the policy exceeded memory: round 1 would hold 4 > M=3 (t=0, request 1)'
    """
    guard = _Guard(policy, limits, label)
    try:
        sched = simulate(instance, guard, name=label, compiled=False, stall_limit=limits.stall,
                         livelock_limit=limits.livelock)
    except _Stop as stop:
        return Run(None, stop.fault, guard.idle)
    except LivelockError as err:
        return Run(None, Fault("livelock", _round(err), None, f"{label}: {err}"), guard.idle)
    except PolicyError as err:
        kind = "stall" if "started nothing" in str(err) else "engine"
        return Run(None, Fault(kind, _round(err), None, f"{label}: {err}"), guard.idle)
    try:
        check_schedule(instance, sched)
    except ScheduleError as err:
        return Run(None, Fault("invalid schedule", None, None, f"{label}: {err}"), guard.idle)
    return Run(sched, None, guard.idle)


def _round(err) -> int | None:
    import re
    m = re.search(r"t=(\d+)", str(err))
    return int(m.group(1)) if m else None
