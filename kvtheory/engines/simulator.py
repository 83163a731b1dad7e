"""The round-based simulation engine.

A *policy* is a plain function ``policy(state) -> Decision`` (Ciw's disciplines): it sees a
:class:`State` (what a real scheduler knows at decision time ``t``: the waiting and running
requests with their prompt sizes and *predicted* output lengths, and the memory the running
requests will hold in the next round) and returns which waiting requests to start now and which
running requests to evict.  Any user function of that shape is a valid policy.

Timeline of decision time ``t`` (the project's convention, book chapter *The model*):

1. requests whose last round was ``t`` (``start + o == t``) complete and free their memory;
2. requests with ``arrival <= t`` join the waiting queue;
3. the policy decides; evicted requests lose their progress (recorded as an aborted attempt
   ``(start, t)``) and rejoin the waiting queue from decision time ``t + 1`` on;
4. started requests are processed from round ``t + 1``; the engine verifies that the memory of
   round ``t + 1`` is at most ``M`` and raises :class:`PolicyError` otherwise.

When the running requests alone would overflow round ``t + 1`` (possible only when output
lengths are under-predicted, or for policies that admit on current usage), ``state.overflow``
is positive and the policy must evict: every policy in :mod:`kvtheory.engines.policies` has an eviction
rule for this case, so that memory is always accounted truthfully.

Cost: a round costs what happens in it plus what the policy reads, not the length of
the waiting queue.  Waiting requests sit in incrementally sorted views that policies walk
lazily with :meth:`State.waiting_in_order`; the column views ``state.waiting`` and
``state.running`` are built only when a policy reads them; the predicted memory of the running
requests and the next round's memory are kept up to date as requests start and finish.
"""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from kvtheory.engines.queues import PredictedProfile, WaitingQueue
from kvtheory.model.validation import as_int
from kvtheory.model.instance import Instance
from kvtheory.model.schedule import TimedSchedule, Schedule

__all__ = ["Jobs", "State", "Decision", "Policy", "PolicyError", "LivelockError", "simulate",
           "simulate_timed", "state_cycle", "TimedSchedule"]


class PolicyError(RuntimeError):
    """A policy returned an impossible decision, or stopped making progress."""


class LivelockError(PolicyError):
    """Requests kept running but none completed: evictions keep destroying all progress.

    This is a property of the policy on that instance, not a bug of the engine: for example
    alpha-protection greedy readmits the same requests after clearing the cache, and they
    overflow again before any of them finishes.  ``cycle`` is ``(t1, t2)`` when the engine saw
    the whole state of decision time ``t1`` again at ``t2`` (``simulate(..., detect_cycles=True)``:
    an exact proof of livelock for a deterministic policy), ``None`` after the time-out.
    """

    def __init__(self, message: str, cycle: tuple[int, int] | None = None):
        super().__init__(message)
        self.cycle = cycle


@dataclass(frozen=True)
class Jobs:
    """Column view of a set of requests (all arrays aligned, read-only).

    Attributes
    ----------
    id : ndarray
        Request ids.
    arrival, prompt, prediction : ndarray
        Arrival round ``a_i`` (for :func:`simulate_timed`: the round in which the request
        joined the queue), ``s_i`` and the predicted output length ``õ_i`` (never the true ``o_i``).
    start : ndarray
        Decision time of the current attempt for running requests; ``-1`` for waiting ones.
    evicted_at : ndarray
        Decision time of the request's last eviction, ``-1`` if never evicted.
    produced : ndarray or None
        Most output tokens any aborted attempt of the request produced (0 if never evicted):
        such a request is known to need at least ``produced + 1`` tokens.  ``None`` when the
        view was built by hand without it (policies read ``None`` as all zeros).
    """

    id: np.ndarray
    arrival: np.ndarray
    prompt: np.ndarray
    prediction: np.ndarray
    start: np.ndarray
    evicted_at: np.ndarray
    produced: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class State:
    """What the scheduler knows at decision time ``t``.

    Attributes
    ----------
    t : int
        Decision time; requests started now are processed from round ``t + 1``.
    memory : int
        Capacity ``M``.
    waiting : Jobs
        Arrived, not running, not finished; ordered by ``(arrival, id)``.
    running : Jobs
        Running requests, ordered by ``(start, id)`` (oldest attempt first).
    usage_next : int
        Memory the running requests will hold in round ``t + 1``:
        ``sum(s + t + 1 - start)``.  Known to a real scheduler (it is the KV cache in use plus one
        token per running request).
    """

    t: int
    memory: int
    waiting: Jobs
    running: Jobs
    usage_next: int

    @property
    def overflow(self) -> int:
        """How far ``usage_next`` exceeds ``M`` (0 if it fits): the amount to evict."""
        return max(0, self.usage_next - self.memory)

    def waiting_in_order(self, by: str = "arrival") -> Iterator[tuple[int, int, int]]:
        """Waiting requests as ``(id, prompt, prediction)`` tuples in the order ``by``, lazily.

        ``"arrival"``: ``(arrival, id)``, the order of :attr:`waiting`; ``"prediction"``:
        ``(prediction, arrival, id)``; ``"requeue"``: ``(max(arrival, evicted_at), id)``;
        ``"volume"``: ``(s õ + õ(õ+1)/2, arrival, id)``; ``"bound"``:
        ``(max(õ, produced + 1), arrival, id)``, yielding that bound in place of ``õ``.  In the
        engines the queue is kept sorted incrementally, so a policy that reads only the first
        few requests pays for those few, not for the length of the queue.

        Examples
        --------
        >>> import numpy as np
        >>> a = lambda *x: np.array(x, dtype=np.int64)
        >>> w = Jobs(id=a(4, 7), arrival=a(0, 1), prompt=a(2, 1), prediction=a(5, 3),
        ...          start=a(-1, -1), evicted_at=a(-1, -1))
        >>> st = State(t=1, memory=10, waiting=w, running=Jobs(*(a() for _ in range(6))),
        ...            usage_next=0)
        >>> list(st.waiting_in_order("prediction"))
        [(7, 1, 3), (4, 2, 5)]
        """
        w = self.waiting
        if by == "arrival":
            pos = range(len(w))
        elif by == "prediction":
            pos = np.argsort(w.prediction, kind="stable")
        elif by == "requeue":
            pos = np.lexsort((w.id, np.maximum(w.arrival, w.evicted_at)))
        elif by == "volume":
            vol = w.prompt * w.prediction + w.prediction * (w.prediction + 1) // 2
            pos = np.argsort(vol, kind="stable")
        elif by == "bound":
            made = np.zeros(len(w), np.int64) if w.produced is None else w.produced
            bound = np.maximum(w.prediction, made + 1)
            pos = np.argsort(bound, kind="stable")
            return ((int(w.id[j]), int(w.prompt[j]), int(bound[j])) for j in pos)
        else:
            raise ValueError(f"order must be one of ('arrival', 'prediction', 'requeue', "
                             f"'volume', 'bound'), got {by!r}")
        return ((int(w.id[j]), int(w.prompt[j]), int(w.prediction[j])) for j in pos)


@dataclass(frozen=True)
class Decision:
    """A policy's answer: ids to start now and ids to evict now.

    Examples
    --------
    >>> Decision(start=[3, 1]).start
    (3, 1)
    >>> Decision().evict
    ()
    """

    start: Sequence[int] = ()
    evict: Sequence[int] = ()

    def __post_init__(self):
        object.__setattr__(self, "start", tuple(map(int, self.start)))
        object.__setattr__(self, "evict", tuple(map(int, self.evict)))


Policy = Callable[[State], Decision]


def _policy_name(policy) -> str:
    name = getattr(policy, "name", None) or getattr(policy, "__name__", None)
    if name is None and hasattr(policy, "func"):          # functools.partial
        name = getattr(policy.func, "__name__", repr(policy))
    return name or repr(policy)


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def simulate(instance: Instance, policy: Policy, *, name: str | None = None,
             max_rounds: int | None = None, stall_limit: int | None = None,
             livelock_limit: int | None = None, detect_cycles: bool = False,
             progress: bool = False, compiled: bool | None = None) -> Schedule:
    """Run ``policy`` on ``instance`` round by round and return the resulting schedule.

    Examples
    --------
    >>> from kvtheory import Instance, simulate, check_schedule
    >>> from kvtheory.engines.policies import mc_sf
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> sched = simulate(inst, mc_sf)
    >>> [r.start for r in sched.records], sched.total_latency
    ([1, 0, 0], 8)
    >>> check_schedule(inst, sched).peak_memory <= 5
    True

    Parameters
    ----------
    instance : Instance
    policy : callable
        ``policy(state: State) -> Decision``.
    name : str, optional
        Label stored in the schedule (default: the policy's ``name`` or ``__name__``).
    max_rounds : int, optional
        Safety limit on decision times (default ``max(a) + 100 * (sum(o) + n) + 1000``).
    stall_limit : int, optional
        Raise :class:`PolicyError` if requests wait, nothing runs and nothing starts for this many
        consecutive rounds after the last arrival (default ``sum(o) + 1000``).
    livelock_limit : int, optional
        Raise :class:`LivelockError` if requests run for this many consecutive rounds without any
        completing (default ``4 * max(o) + 10``; a request that is not evicted completes within
        ``max(o)`` rounds of its start).
    detect_cycles : bool
        Also raise :class:`LivelockError` (with ``cycle = (t1, t2)``) as soon as the whole state a
        policy sees repeats after the last arrival: the waiting requests with the time since their
        last eviction and the running requests with their progress, relative to ``t``.  A
        deterministic policy (a function of that state) then repeats the same decisions forever,
        so this is an exact argument, not a time-out.  Costs O(n) per round; off by default.
    progress : bool
        Show a tqdm progress bar over completed requests (the compiled loop fills it at the end).
    compiled : bool, optional
        ``None`` (default): run the built-in rules that :mod:`kvtheory.engines.compiled`
        implements (MC-SF, MC-Benchmark, SVF, vLLM-style, A_max) in the compiled round loop,
        which returns the same schedule, and everything else here.  ``False``: always this
        Python engine.  ``True``: require the compiled loop (``ValueError`` otherwise).
        ``detect_cycles=True`` always runs here.

    Returns
    -------
    Schedule
        Not yet checked: pass it to :func:`kvtheory.check_schedule`.

    Raises
    ------
    PolicyError
        If the policy starts a request that is not waiting, evicts one that is not running,
        makes round ``t + 1`` overflow, or stalls.
    ValueError
        If ``compiled=True`` and the policy (or ``detect_cycles``) is not compiled.
    """
    if not isinstance(instance, Instance):
        raise ValueError(f"instance must be an Instance, got {type(instance).__name__}")
    label = name if name is not None else _policy_name(policy)
    if compiled is not False:
        from kvtheory.engines.compiled import compiled_rule, run_compiled
        rule = None if detect_cycles else compiled_rule(policy)
        if rule is None and compiled:
            raise ValueError(f"compiled=True needs a compiled built-in rule without "
                             f"detect_cycles, got policy {label!r}"
                             f"{' with detect_cycles=True' if detect_cycles else ''}")
        if rule is not None and instance.n:
            attempts = run_compiled(instance, *rule, max_rounds=max_rounds,
                                    stall_limit=stall_limit, livelock_limit=livelock_limit)
            if attempts is not None:        # None: the reference below raises the exact error
                with tqdm(total=instance.n, disable=not progress, desc=f"simulate {label}",
                          unit="req") as bar:
                    bar.update(instance.n)
                return Schedule.from_attempts(instance, attempts, policy=label)
    if instance.n == 0:
        return Schedule(instance, (), label)
    attempts, _, _ = _run(instance, policy, label, max_rounds=max_rounds, stall_limit=stall_limit,
                          livelock_limit=livelock_limit, detect_cycles=detect_cycles,
                          progress=progress)
    return Schedule.from_attempts(instance, attempts, policy=label)


def state_cycle(instance: Instance, policy: Policy) -> tuple[int, int] | None:
    """Decision times ``(t1, t2)`` at which the run's whole state repeats, or None if it finishes.

    The engine's exact livelock test (``simulate(..., detect_cycles=True)``); ``None`` also when
    the engine's time-out fires before any state repeats.

    Examples
    --------
    >>> from kvtheory import Instance
    >>> from kvtheory.engines.policies import POLICIES, mc_sf
    >>> state_cycle(Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8),
    ...             POLICIES["alpha-0.2-greedy"])
    (1, 5)
    >>> state_cycle(Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8), mc_sf) is None
    True
    """
    try:
        simulate(instance, policy, detect_cycles=True)
    except LivelockError as e:
        return e.cycle
    return None


def simulate_timed(prompt: Sequence[int], output: Sequence[int], arrival_time: Sequence[float],
                   memory: int, policy: Policy, batch_time: Callable[[int, int, int], float], *,
                   prediction: Sequence[int] | None = None, name: str | None = None,
                   progress: bool = False, **limits) -> TimedSchedule:
    """Continuous-time simulation: arrivals in seconds, each round lasts ``batch_time(...)``.

    The same engine as :func:`simulate`; after each decision the batch of the next round is
    timed by ``batch_time(prefill_tokens, decode_requests, decode_kv_tokens)`` where
    ``prefill_tokens`` sums the prompts of the requests started now (a restarted request
    recomputes its prompt), ``decode_requests`` counts the other running requests and
    ``decode_kv_tokens`` sums their current KV lengths ``s + (t - start)``.  A request joins the
    queue at the first decision taken at or after its arrival time; an idle engine waits for the
    next arrival; a round in which nothing runs takes ``batch_time(0, 0, 0)``.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> res = simulate_timed([1, 1], [2, 1], [0.0, 0.25], memory=4, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 0.1 + 0.01 * p)
    >>> [round(float(x), 3) for x in res.latency]
    [0.21, 0.11]
    >>> [r.arrival for r in res.schedule.records]    # joined at decision rounds 0 and 2
    [0, 2]
    """
    if not callable(batch_time):
        raise ValueError(f"batch_time must be callable as batch_time(prefill, decode, kv), "
                         f"got {batch_time!r}")
    times = np.asarray(arrival_time, dtype=float)
    if times.ndim != 1 or times.size != len(prompt) or len(output) != len(prompt):
        raise ValueError(f"prompt, output and arrival_time must have equal lengths, got "
                         f"{len(prompt)}, {len(output)}, {np.size(times)}")
    if not np.isfinite(times).all() or (times < 0).any():
        bad = int(np.flatnonzero(~np.isfinite(times) | (times < 0))[0])
        raise ValueError(f"request {bad}: arrival_time must be finite and >= 0, got {times[bad]}")
    placeholder = Instance.from_arrays(np.zeros(times.size, dtype=np.int64), prompt, output,
                                       memory, prediction=prediction)
    label = name if name is not None else _policy_name(policy)
    if placeholder.n == 0:
        return TimedSchedule(Schedule(placeholder, (), label), times, np.zeros(1))
    attempts, joined, round_end = _run(placeholder, policy, label, times=times,
                                       batch_time=batch_time, progress=progress, **limits)
    derived = Instance.from_arrays(joined, placeholder.prompt, placeholder.output, memory,
                                   prediction=prediction, name="timed")
    return TimedSchedule(Schedule.from_attempts(derived, attempts, policy=label), times,
                         np.asarray(round_end, dtype=float))


class _LiveState(State):
    """The state the engines hand to policies: ``waiting`` and ``running`` are built on demand.

    ``waiting_in_order`` reads the engine's incrementally sorted queue; the column views
    (:class:`Jobs`) cost ``O(queue)`` and are built only if the policy reads them.  If a policy
    keeps a reference to the state, the engine materialises it before moving on
    (:meth:`_freeze`), so a kept state never changes.
    """

    def __init__(self, t: int, memory: int, usage_next: int, engine: "_Engine"):
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "memory", memory)
        object.__setattr__(self, "usage_next", usage_next)
        object.__setattr__(self, "_engine", engine)

    @property
    def waiting(self) -> Jobs:
        jobs = self.__dict__.get("_waiting")
        if jobs is None:
            e = self._engine
            ids = e.queue.ids()
            jobs = self.__dict__["_waiting"] = Jobs(
                _ro(ids), _ro(e.joined[ids]), _ro(e.prompt[ids]), _ro(e.pred[ids]),
                _ro(np.full(ids.size, -1, np.int64)), _ro(e.evicted_at[ids]),
                _ro(e.produced[ids]))
        return jobs

    @property
    def running(self) -> Jobs:
        jobs = self.__dict__.get("_running")
        if jobs is None:
            e = self._engine
            ids = np.fromiter(e.running, dtype=np.int64, count=len(e.running))
            jobs = self.__dict__["_running"] = Jobs(
                _ro(ids), _ro(e.joined[ids]), _ro(e.prompt[ids]), _ro(e.pred[ids]),
                _ro(e.start_of[ids]), _ro(e.evicted_at[ids]), _ro(e.produced[ids]))
        return jobs

    def waiting_in_order(self, by: str = "arrival") -> Iterator[tuple[int, int, int]]:
        if "_waiting" in self.__dict__:
            return State.waiting_in_order(self, by)
        return self._engine.queue.iter(by)

    def _window(self, h: int) -> np.ndarray | None:
        """Predicted memory of rounds ``t+1 .. t+h`` from the engine's incremental profile."""
        if "_frozen" in self.__dict__:
            return None
        return self._engine.profile.window(self.t, h)

    def _freeze(self) -> None:
        self.waiting, self.running         # noqa: B018  (build and keep both views)
        self.__dict__["_frozen"] = True


class _Engine:
    """Mutable bookkeeping of one run of :func:`_run` (the queue, the running set, arrays)."""

    def __init__(self, instance: Instance, arrival: np.ndarray):
        n = instance.n
        self.prompt, self.output, self.pred = instance.prompt, instance.output, instance.prediction
        self.order = np.lexsort((np.arange(n), arrival))   # arrival order, ties by id
        rank = np.empty(n, dtype=np.int64)
        rank[self.order] = np.arange(n)
        self.start_of = np.full(n, -1, dtype=np.int64)
        self.evicted_at = np.full(n, -1, dtype=np.int64)
        self.joined = np.full(n, -1, dtype=np.int64)
        self.produced = np.zeros(n, dtype=np.int64)         # most tokens of an aborted attempt
        self.queue = WaitingQueue(rank.tolist(), self.order.tolist(), self.prompt.tolist(),
                                  self.pred.tolist(), self.joined, self.evicted_at,
                                  self.produced)
        self.running: dict[int, None] = {}                  # ids in (start, id) order
        self.profile = PredictedProfile(int(self.pred.max()))


def _run(instance: Instance, policy: Policy, label: str, *, times: np.ndarray | None = None,
         batch_time: Callable | None = None, max_rounds: int | None = None,
         stall_limit: int | None = None, livelock_limit: int | None = None,
         detect_cycles: bool = False, progress: bool = False):
    """The engine shared by :func:`simulate` and :func:`simulate_timed`.

    Untimed: arrivals are ``instance.arrival`` (rounds) and every round lasts one unit.  Timed:
    arrivals are ``times`` (seconds), ``now`` advances by ``batch_time`` per round, and the
    round in which each request joined the queue is returned in ``joined``.

    Per round the cost is that of the completions, arrivals, starts and evictions of the round
    plus what the policy reads: waiting requests sit in incrementally sorted views
    (:mod:`kvtheory.engines.queues`), completions in per-round buckets, and the next round's memory
    ``sum(s - start) + (t + 1) * running`` is kept as a running sum.
    """
    if not callable(policy):
        raise ValueError(f"policy must be callable as policy(state) -> Decision, got {policy!r}")
    n, M = instance.n, instance.memory
    timed = times is not None
    arrival = times if timed else instance.arrival
    total_o = int(instance.output.sum())
    max_rounds = ((0 if timed else int(arrival.max())) + 100 * (total_o + n) + 1000
                  if max_rounds is None else as_int(max_rounds, name="max_rounds", minimum=1))
    stall_limit = (total_o + 1000 if stall_limit is None
                   else as_int(stall_limit, name="stall_limit", minimum=1))
    livelock_limit = (4 * int(instance.output.max()) + 10 if livelock_limit is None
                      else as_int(livelock_limit, name="livelock_limit", minimum=1))

    eng = _Engine(instance, arrival)
    probe = object()
    unshared = sys.getrefcount(probe)                     # references of an object nobody kept
    queue, running, profile = eng.queue, eng.running, eng.profile
    pred_l = eng.queue.prediction
    order, joined, start_of, evicted_at = eng.order, eng.joined, eng.start_of, eng.evicted_at
    prompt_l, output_l = eng.queue.prompt, instance.output.tolist()
    sorted_arrival = arrival[order].tolist()
    next_arr = 0
    attempts: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    finishing: dict[int, list[int]] = {}                 # round -> ids predicted to complete
    sum_sp = 0                                            # sum of (s - start) over running
    done = 0
    stalled = 0
    busy_without_completion = 0
    now = sorted_arrival[0]                               # the clock (== t when untimed)
    t = 0 if timed else int(now)
    round_end = [float(now)] if timed else None
    seen: dict = {}                                       # state key -> decision time
    bar = tqdm(total=n, disable=not progress, desc=f"simulate {label}", unit="req", delay=2.0)
    try:
        while done < n:
            if t > max_rounds:
                raise PolicyError(f"policy {label!r} exceeded max_rounds={max_rounds} "
                                  f"with {n - done} requests unfinished")
            # 1. completions
            fin = finishing.pop(t, None)
            if fin:
                k = 0
                for i in fin:
                    p = int(start_of[i])
                    if i in running and p + output_l[i] == t:
                        attempts[i].append((p, t))
                        del running[i]
                        sum_sp -= prompt_l[i] - p
                        profile.remove(p, prompt_l[i], pred_l[i])
                        k += 1
                if k:
                    done += k
                    if progress:
                        bar.update(k)
                    busy_without_completion = 0
            # 2. arrivals
            if next_arr < n and sorted_arrival[next_arr] <= now:
                hi = bisect.bisect_right(sorted_arrival, now, next_arr)
                new = order[next_arr:hi]
                next_arr = hi
                joined[new] = t
                queue.add(new.tolist())
            if done == n:
                break
            if not len(queue) and not running:              # idle: jump to the next arrival
                now = sorted_arrival[next_arr]
                if not timed:
                    t = int(now)
                continue
            # 3. decide
            profile.advance(t)
            state = _LiveState(t, M, sum_sp + (t + 1) * len(running), eng)
            if detect_cycles and next_arr >= n:
                w, r = state.waiting, state.running
                key = (tuple(zip(w.id.tolist(), np.where(w.evicted_at >= 0, t - w.evicted_at,
                                                         -1).tolist())),
                       tuple(zip(r.id.tolist(), (t - r.start).tolist())))
                if key in seen:
                    raise LivelockError(f"policy {label!r}: the state of decision time "
                                        f"{seen[key]} repeats at {t} (livelock)", (seen[key], t))
                seen[key] = t
            decision = policy(state)
            if sys.getrefcount(state) > unshared:           # the policy kept the state
                state._freeze()
            del state
            if not isinstance(decision, Decision):
                raise PolicyError(f"policy {label!r} returned {type(decision).__name__}, "
                                  f"expected a Decision")
            ev, st = decision.evict, decision.start
            if ev:
                if len(set(ev)) != len(ev) or not all(i in running for i in ev):
                    bad = sorted(i for i in set(ev) if i not in running)
                    raise PolicyError(f"policy {label!r} at t={t}: evicts requests that are not "
                                      f"running (or twice): {bad or list(ev)}")
                for i in ev:
                    p = int(start_of[i])
                    attempts[i].append((p, t))
                    start_of[i] = -1
                    evicted_at[i] = t
                    eng.produced[i] = max(int(eng.produced[i]), t - p)
                    del running[i]
                    sum_sp -= prompt_l[i] - p
                    profile.remove(p, prompt_l[i], pred_l[i])
            if st:
                if len(set(st)) != len(st) or not all(i in queue for i in st):
                    bad = sorted(i for i in set(st) if i not in queue)
                    raise PolicyError(f"policy {label!r} at t={t}: starts requests that are not "
                                      f"waiting (or twice): {bad or list(st)}")
                queue.remove(st)
            if ev:
                queue.add(ev)
            # 4. the next round must fit
            prefill = sum(prompt_l[i] for i in st)
            after = sum_sp + (t + 1) * len(running) + prefill + len(st)
            if after > M:
                raise PolicyError(
                    f"policy {label!r} at t={t}: round {t + 1} would use {after} > M={M} "
                    f"(running requests would overflow; the policy must evict)")
            if timed:                                      # 5. time the batch of round t + 1
                now = now + float(batch_time(int(prefill), len(running),
                                             int(sum_sp + t * len(running))))
                round_end.append(now)
            for i in sorted(st):
                running[i] = None
                start_of[i] = t
                sum_sp += prompt_l[i] - t
                profile.add(t, prompt_l[i], pred_l[i])
                finishing.setdefault(t + output_l[i], []).append(i)
            if not running and next_arr >= n:
                stalled += 1
                if stalled > stall_limit:
                    raise PolicyError(f"policy {label!r} started nothing for {stall_limit} rounds "
                                      f"while {len(queue)} requests waited and none ran")
            else:
                stalled = 0
            if running:
                busy_without_completion += 1
                if busy_without_completion > livelock_limit:
                    raise LivelockError(
                        f"policy {label!r}: no request completed in {livelock_limit} rounds up to "
                        f"t={t} although requests were running (evictions keep destroying "
                        f"progress: livelock)")
            t += 1
            if not timed:
                now = t
    finally:
        bar.close()
    if timed:
        return attempts, joined, np.asarray(round_end, dtype=float)
    return attempts, joined, None
