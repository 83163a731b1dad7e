"""A token-budget batch layer (Li, Dai, Peng, arXiv 2504.07347): stylised schedulers, stability.

**Model** (*second-hand*: the paper's sections 2-4 as cited by two public reproductions; the
arXiv HTML copy we could read gave the abstract only).  No KV-memory limit.  A batch holds at
most ``b_max`` tokens: a request still in prefill contributes a chunk of its remaining prefill
tokens, a request in decode contributes one decode token; optionally at most ``k_max``
requests per batch.  A batch of ``b`` tokens takes ``t(b) = c + a * ceil(b / b_0)``
milliseconds (their fit for CodeLlama-34B on one A100: ``c = 11.28``, ``a = 35.47``,
``b_0 = 128``).  Requests arrive over time; request ``i`` brings ``p_i`` prefill and ``d_i``
decode tokens.  *Our choices*: a request's decode starts in the batch after the one that
finishes its prefill; it completes at the end of the batch holding its last decode token; the
server starts a batch whenever it is idle and the policy returns a non-empty batch, and
otherwise waits for the next arrival.

**Schedulers** (the paper's four stylised ones, *second-hand*; details *ours*), all FCFS:

* ``sarathi``: decode first, then chunked prefill with the rest of the budget (mixing);
* ``orca``: chunked prefill first, then decode with the rest of the budget (mixing);
* ``fastertransformer``: decode-only batches while any request is in decode; otherwise whole
  prefills (no chunking, no mixing);
* ``vllm``: whole prefills while the first waiting prompt fits the budget; otherwise decode-only
  batches (no chunking, no mixing);
* ``mc-sf-budget`` (*ours*, where MC-SF sits): MC-SF's rule carried over to the token budget.
  Every request in decode keeps its token (MC-SF never preempts), then waiting requests are
  admitted shortest decode first, each with its *whole* prefill, while the batch fits
  ``b_max``; it stops at the first that does not fit.  (MC-SF's KV-memory check has no
  counterpart here: the budget binds on tokens per batch, not on memory held.)

The first two are *work-conserving* (they fill the budget whenever the requests present could);
the others are not.  Theorem (*second-hand*): no scheduler processes more than
``b_max / t(b_max)`` tokens per ms; every work-conserving one is stable when
``lambda (m_p + m_d) < b_max / t(b_max)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from kvtheory.model.validation import as_int, check_generator

__all__ = ["BatchClock", "CODELLAMA_A100", "BudgetConfig", "BudgetState", "BudgetRun",
           "simulate_budget", "check_budget_run", "BUDGET_POLICIES", "capacity",
           "poisson_arrivals", "backlog_slope", "stability_rows", "vertex_c", "backlog_traces"]


@dataclass(frozen=True)
class BatchClock:
    """Batch time ``t(b) = c + a * ceil(b / b_0)`` in milliseconds.

    Examples
    --------
    >>> CODELLAMA_A100.time(512), CODELLAMA_A100.time(128)
    (153.16, 46.75)
    """

    c: float
    a: float
    b0: int

    def time(self, b: int) -> float:
        """Duration of a batch of ``b >= 1`` tokens."""
        return round(self.c + self.a * math.ceil(b / self.b0), 10)


#: The paper's fit for CodeLlama-34B on one A100 (second-hand, section 2.3 as cited).
CODELLAMA_A100 = BatchClock(11.28, 35.47, 128)


@dataclass(frozen=True)
class BudgetConfig:
    """Token budget per batch, optional cap on requests per batch, and the batch clock.

    Examples
    --------
    >>> BudgetConfig(512).k_max is None
    True
    >>> BudgetConfig(0)
    Traceback (most recent call last):
    ...
    ValueError: b_max must be >= 1, got 0
    """

    b_max: int
    k_max: int | None = None
    clock: BatchClock = CODELLAMA_A100

    def __post_init__(self):
        object.__setattr__(self, "b_max", as_int(self.b_max, name="b_max", minimum=1))
        if self.k_max is not None:
            object.__setattr__(self, "k_max", as_int(self.k_max, name="k_max", minimum=1))


def capacity(config: BudgetConfig) -> float:
    """The largest token rate of any scheduler: ``max_{1 <= b <= b_max} b / t(b)`` (tokens/ms).

    With ``t(b) = c + a ceil(b / b_0)`` the rate ``b / t(b)`` rises within each block of
    ``b_0`` tokens and is largest at the last multiple of ``b_0`` not above ``b_max`` (or at
    ``b_max`` when ``b_max < b_0``).  When ``b_0`` divides ``b_max`` (the paper's assumption,
    and every configuration used here) it is the theorem's ``b_max / t(b_max)``; otherwise a
    full budget is *not* the fastest batch: ``b_max = 130`` pays a second block for 2 tokens.
    Batch-time model: arXiv 2504.07347 (v3, section 3.1, Assumption 1), as written out in the
    public serving-program description of the servingQ/serQ repository.

    Examples
    --------
    >>> round(capacity(BudgetConfig(512)), 4), round(512 / CODELLAMA_A100.time(512), 4)
    (3.3429, 3.3429)
    >>> round(capacity(BudgetConfig(130)), 4), round(130 / CODELLAMA_A100.time(130), 4)
    (2.738, 1.5811)
    """
    b0, clock = config.clock.b0, config.clock
    best = config.b_max // b0 * b0 or config.b_max
    return max(best / clock.time(best), config.b_max / clock.time(config.b_max))


@dataclass(frozen=True)
class BudgetState:
    """What a scheduler sees when the server is free: requests present, in arrival order.

    ``ids``, ``rem_p`` (prefill tokens left) and ``rem_d`` (decode tokens left) are aligned
    lists; a request is *in decode* when ``rem_p == 0``.
    """

    now: float
    ids: list
    rem_p: list
    rem_d: list
    config: BudgetConfig


def _cap(config: BudgetConfig) -> int:
    return config.k_max if config.k_max is not None else 1 << 60


def _decode(state: BudgetState, budget: int, slots: int, alloc: list) -> tuple[int, int]:
    for i, p in zip(state.ids, state.rem_p):
        if budget <= 0 or slots <= 0:
            break
        if p == 0:
            alloc.append((i, 0, 1))
            budget -= 1
            slots -= 1
    return budget, slots


def _chunks(state: BudgetState, budget: int, slots: int, alloc: list) -> tuple[int, int]:
    for i, p in zip(state.ids, state.rem_p):
        if budget <= 0 or slots <= 0:
            break
        if p > 0:
            x = min(p, budget)
            alloc.append((i, x, 0))
            budget -= x
            slots -= 1
    return budget, slots


def _whole(state: BudgetState, order, budget: int, slots: int, alloc: list) -> None:
    for j in order:
        p = state.rem_p[j]
        if p == 0:
            continue
        if p > budget or slots <= 0:
            break
        alloc.append((state.ids[j], p, 0))
        budget -= p
        slots -= 1


def sarathi(state: BudgetState) -> list:
    """Decode first, then chunked prefill (work-conserving)."""
    alloc: list = []
    b, k = _decode(state, state.config.b_max, _cap(state.config), alloc)
    _chunks(state, b, k, alloc)
    return alloc


def orca(state: BudgetState) -> list:
    """Chunked prefill first, then decode (work-conserving)."""
    alloc: list = []
    b, k = _chunks(state, state.config.b_max, _cap(state.config), alloc)
    _decode(state, b, k, alloc)
    return alloc


def fastertransformer(state: BudgetState) -> list:
    """Decode-only batches while any request decodes; else whole prefills (not mixing)."""
    alloc: list = []
    _decode(state, state.config.b_max, _cap(state.config), alloc)
    if not alloc:
        _whole(state, range(len(state.ids)), state.config.b_max, _cap(state.config), alloc)
    return alloc


def vllm(state: BudgetState) -> list:
    """Whole prefills while the first waiting prompt fits; else decode-only (not mixing)."""
    alloc: list = []
    _whole(state, range(len(state.ids)), state.config.b_max, _cap(state.config), alloc)
    if not alloc:
        _decode(state, state.config.b_max, _cap(state.config), alloc)
    return alloc


def mc_sf_budget(state: BudgetState) -> list:
    """MC-SF on a token budget (ours): keep every decode, admit shortest decode first, whole."""
    alloc: list = []
    b, k = _decode(state, state.config.b_max, _cap(state.config), alloc)
    fresh = sorted((j for j in range(len(state.ids)) if state.rem_p[j] > 0),
                   key=lambda j: (state.rem_d[j], j))
    _whole(state, fresh, b, k, alloc)
    return alloc


#: Scheduler name -> function ``scheduler(BudgetState) -> [(id, prefill tokens, decode 0/1)]``.
BUDGET_POLICIES = {"sarathi": sarathi, "orca": orca, "fastertransformer": fastertransformer,
                   "vllm": vllm, "mc-sf-budget": mc_sf_budget}
#: The schedulers that fill the budget whenever the requests present could (second-hand).
WORK_CONSERVING = ("sarathi", "orca")


@dataclass(frozen=True)
class BudgetRun:
    """One run: the batches, and the backlog seen at every batch start.

    Attributes
    ----------
    batches : tuple of (start, duration, allocation)
        ``allocation`` is a tuple of ``(id, prefill tokens, decode tokens)``.
    completion : ndarray
        Completion time of each request (``nan``: not completed by the horizon).
    times, backlog, in_system : ndarray
        At every batch start (and every idle arrival): time, unprocessed tokens present,
        requests present.
    """

    batches: tuple
    completion: np.ndarray
    times: np.ndarray
    backlog: np.ndarray
    in_system: np.ndarray


def simulate_budget(arrival: Sequence[float], prefill: Sequence[int], decode: Sequence[int],
                    policy: Callable[[BudgetState], list], config: BudgetConfig,
                    horizon: float) -> BudgetRun:
    """Event simulation of the token-budget server until time ``horizon`` (ms).

    Examples
    --------
    >>> cfg = BudgetConfig(4, clock=BatchClock(0.0, 1.0, 4))        # unit-time batches
    >>> run = simulate_budget([0, 0], [3, 2], [2, 1], sarathi, cfg, 10)
    >>> [b[2] for b in run.batches]
    [((0, 3, 0), (1, 1, 0)), ((0, 0, 1), (1, 1, 0)), ((0, 0, 1), (1, 0, 1))]
    >>> run.completion.tolist()
    [3.0, 3.0]
    """
    arr = [float(x) for x in arrival]
    p_left = [as_int(x, name="prefill", minimum=0) for x in prefill]
    d_left = [as_int(x, name="decode", minimum=1) for x in decode]
    n = len(arr)
    order = sorted(range(n), key=lambda i: (arr[i], i))
    done = np.full(n, np.nan)
    present: list = []
    pos, now = 0, 0.0
    batches, times, backlog, counts = [], [], [], []
    while now < horizon:
        while pos < n and arr[order[pos]] <= now:
            present.append(order[pos])
            pos += 1
        state = BudgetState(now, present, [p_left[i] for i in present],
                            [d_left[i] for i in present], config)
        times.append(now)
        backlog.append(sum(state.rem_p) + sum(state.rem_d))
        counts.append(len(present))
        alloc = policy(state) if present else []
        if not alloc:
            if pos >= n:
                break
            now = max(now, arr[order[pos]])
            continue
        b = _validate(state, alloc, config)
        dur = config.clock.time(b)
        end = now + dur
        for i, x, d in alloc:
            p_left[i] -= x
            d_left[i] -= d
            if d_left[i] == 0:
                done[i] = end
        present = [i for i in present if d_left[i] > 0]
        batches.append((now, dur, tuple(alloc)))
        now = end
    return BudgetRun(tuple(batches), done, np.array(times), np.array(backlog),
                     np.array(counts))


def _validate(state: BudgetState, alloc, config: BudgetConfig) -> int:
    where = {i: j for j, i in enumerate(state.ids)}
    seen, b = set(), 0
    for i, x, d in alloc:
        j = where.get(i)
        if j is None or i in seen:
            raise ValueError(f"scheduler allocated to request {i}: absent or twice")
        seen.add(i)
        if d not in (0, 1) or x < 0 or x > state.rem_p[j] or (d and state.rem_p[j] > 0) \
                or (x == 0 and d == 0):
            raise ValueError(f"request {i}: allocation ({x}, {d}) impossible with "
                             f"{state.rem_p[j]} prefill tokens left")
        b += x + d
    if b > config.b_max or (config.k_max is not None and len(alloc) > config.k_max):
        raise ValueError(f"batch of {b} tokens / {len(alloc)} requests exceeds b_max = "
                         f"{config.b_max}, k_max = {config.k_max}")
    return b


def check_budget_run(arrival, prefill, decode, run: BudgetRun, config: BudgetConfig) -> int:
    """Independent replay: budget, cap, order of phases, clock, completions; return #batches.

    Examples
    --------
    >>> cfg = BudgetConfig(4, clock=BatchClock(0.0, 1.0, 4))
    >>> run = simulate_budget([0, 0], [3, 2], [2, 1], orca, cfg, 10)
    >>> check_budget_run([0, 0], [3, 2], [2, 1], run, cfg)
    3
    """
    p = [int(x) for x in prefill]
    d = [int(x) for x in decode]
    t_free = -math.inf
    for start, dur, alloc in run.batches:
        if start < t_free - 1e-9:
            raise ValueError(f"batch at {start} starts before the previous one ends ({t_free})")
        tokens = sum(x + y for _, x, y in alloc)
        if tokens > config.b_max or (config.k_max and len(alloc) > config.k_max):
            raise ValueError(f"batch at {start}: {tokens} tokens, {len(alloc)} requests")
        if abs(dur - config.clock.time(tokens)) > 1e-9:
            raise ValueError(f"batch at {start}: duration {dur} != t({tokens})")
        for i, x, y in alloc:
            if arrival[i] > start:
                raise ValueError(f"batch at {start}: request {i} has not arrived")
            if y and p[i] > 0:
                raise ValueError(f"batch at {start}: request {i} decodes before its prefill ends")
            p[i] -= x
            d[i] -= y
            if p[i] < 0 or d[i] < 0:
                raise ValueError(f"batch at {start}: request {i} over-served")
            if d[i] == 0 and abs(run.completion[i] - (start + dur)) > 1e-9:
                raise ValueError(f"request {i}: completion {run.completion[i]} != {start + dur}")
        t_free = start + dur
    return len(run.batches)


def poisson_arrivals(rate: float, horizon: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times (rate per ms) in ``[0, horizon)``.

    Examples
    --------
    >>> a = poisson_arrivals(0.01, 100_000, np.random.default_rng(0))
    >>> 900 < a.size < 1100, bool((np.diff(a) >= 0).all())
    (True, True)
    """
    rng = check_generator(rng)
    k = rng.poisson(rate * horizon)
    return np.sort(rng.uniform(0.0, horizon, size=k))


def backlog_slope(run: BudgetRun, horizon: float, *, start: float = 0.5) -> float:
    """Least-squares growth rate of unprocessed tokens (per ms) over ``[start * horizon, horizon]``.

    The backlog is read as a step function on a grid of 200 points.

    Examples
    --------
    >>> run = BudgetRun((), np.array([]), np.array([0.0, 50.0]), np.array([0, 100]),
    ...                 np.array([0, 1]))
    >>> round(backlog_slope(run, 100.0, start=0.0), 3)     # step of 100 at 50: 1.5 in the continuum
    1.493
    """
    grid = np.linspace(start * horizon, horizon, 200)
    idx = np.searchsorted(run.times, grid, side="right") - 1
    y = np.where(idx >= 0, run.backlog[np.maximum(idx, 0)], 0)
    return float(np.polyfit(grid, y, 1)[0])


def stability_rows(policies: Sequence[str], config: BudgetConfig, prefill: int, decode: int,
                   loads: Sequence[float], horizon: float, paths: int,
                   rng: np.random.Generator, *, check: int = 1,
                   engine: BudgetConfig | None = None) -> list[dict]:
    """Backlog growth rate per policy and load (``load = lambda (p + d) / capacity``).

    ``engine`` (default ``config``) is the configuration the server actually runs on; loads,
    the fluid prediction and ``excess`` always use ``config``'s capacity, so a planted engine
    that serves faster than ``config`` allows shows up as a negative excess.

    One row per (policy, load, path) with ``slope`` (tokens per ms, second half of the
    horizon), the fluid prediction for a work-conserving server
    ``max(0, lambda (p + d) - b_max / t(b_max))``, the offered token rate, and ``excess``:
    the slope minus the same prediction with the tokens that actually arrived in the second
    half (no scheduler can have a negative excess beyond the start-up of the window).  Every path runs
    all policies on the same arrivals; the first ``check`` paths are replayed by
    :func:`check_budget_run`.

    Examples
    --------
    >>> rows = stability_rows(["sarathi"], BudgetConfig(512), 100, 100, [0.5], 5_000, 1,
    ...                       np.random.default_rng(0))
    >>> rows[0]["policy"], rows[0]["load"], rows[0]["fluid_slope"]
    ('sarathi', 0.5, 0.0)
    """
    rng = check_generator(rng)
    cap = capacity(config)
    rows = []
    for load in loads:
        lam = load * cap / (prefill + decode)
        for k in range(as_int(paths, name="paths", minimum=1)):
            arr = poisson_arrivals(lam, horizon, rng)
            P = [prefill] * arr.size
            D = [decode] * arr.size
            for name in policies:
                run = simulate_budget(arr, P, D, BUDGET_POLICIES[name], engine or config,
                                      horizon)
                if k < check:
                    check_budget_run(arr, P, D, run, engine or config)
                late = np.count_nonzero(arr >= horizon / 2) * (prefill + decode) / (horizon / 2)
                slope = backlog_slope(run, horizon)
                rows.append({"policy": name, "load": float(load), "path": k,
                             "slope": slope,
                             "fluid_slope": max(0.0, lam * (prefill + decode) - cap),
                             "excess": slope - max(0.0, late - cap),
                             "offered": lam * (prefill + decode),
                             "final_backlog": int(run.backlog[-1]) if run.backlog.size else 0})
    return rows


def vertex_c(policies: Sequence[tuple[str, int]] = (("sarathi", 128), ("sarathi", 1024),
                                                     ("orca", 128), ("fastertransformer", 128),
                                                     ("vllm", 128), ("mc-sf-budget", 128),
                                                     ("mc-sf-budget", 1024)),
             *, horizon: float = 140_000.0, k_max: int = 100, gap: float = 467.5,
             prefill: int = 290, decode: int = 990) -> list[dict]:
    """The paper's section 6 counterexample with a cap on requests per batch (*second-hand*).

    Deterministic arrivals every ``gap`` = 467.5 ms, each with 290 prefill and 990 decode
    tokens, ``k_max = 100`` requests per batch, CodeLlama-34B clock.  Per (policy, ``b_max``):
    backlog at half and full horizon, its growth over the second half, and the theorem's
    capacity ``b_max / t(b_max)`` against the offered ``1280 / 467.5`` tokens per ms.

    Examples
    --------
    >>> rows = vertex_c((("sarathi", 128),), horizon=20_000)
    >>> rows[0]["offered"] <= rows[0]["capacity"]
    True
    """
    arr = np.arange(0.0, horizon, gap)
    P, D = [prefill] * arr.size, [decode] * arr.size
    rows = []
    for name, b in policies:
        cfg = BudgetConfig(b, k_max=k_max)
        run = simulate_budget(arr, P, D, BUDGET_POLICIES[name], cfg, horizon)
        check_budget_run(arr, P, D, run, cfg)
        half = np.searchsorted(run.times, horizon / 2, side="right") - 1
        at_half = int(run.backlog[half]) if half >= 0 else 0
        last = run.batches[-10:]
        rows.append({"policy": name, "b_max": b, "k_max": k_max,
                     "capacity": capacity(cfg), "offered": (prefill + decode) / gap,
                     "batches": len(run.batches), "backlog_half": at_half,
                     "backlog_end": int(run.backlog[-1]),
                     "growth_second_half": int(run.backlog[-1]) - at_half,
                     "last_batch": (sum(x for _, x, _ in last[-1][2]),
                                    sum(y for _, _, y in last[-1][2])) if last else None})
    return rows


def backlog_traces(runs: Sequence[tuple[str, Callable, BudgetConfig]], arrival, prefill,
                   decode, horizon: float) -> dict:
    """Unprocessed tokens over time for several (label, scheduler, config) on one arrival path.

    Every run is replayed by :func:`check_budget_run`.

    Examples
    --------
    >>> tr = backlog_traces([("s", sarathi, BudgetConfig(512))], [0.0, 10.0], [100, 100],
    ...                     [5, 5], 2_000)
    >>> list(tr), int(tr["s"][1][0])       # at time 0 only the first request: 100 + 5
    (['s'], 105)
    """
    out = {}
    for label, pol, cfg in runs:
        run = simulate_budget(arrival, prefill, decode, pol, cfg, horizon)
        check_budget_run(arrival, prefill, decode, run, cfg)
        out[label] = (run.times, run.backlog)
    return out
