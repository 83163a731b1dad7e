"""The paper's experiment engine: event-driven continuous time, o + 1 steps, a linear batch time.

This module rebuilds the simulator of *the paper's published code* (its facts are paraphrased in
the project's notes; none of its code is used) so that the real-data experiments can be run
under the paper's own setup, beside our A100-calibrated round engine (:mod:`kvtheory.a100`).

**Time.** Event-driven and continuous (seconds).  One batch runs at a time; requests that arrive
while a batch runs wait for the next decision; an idle engine jumps to the next arrival.

**Steps.** Request ``i`` (prompt ``s_i``, output ``o_i``) needs ``o_i + 1`` steps in ``o_i + 1``
distinct batches: one *prompt step*, then ``o_i`` *token steps*.  It completes at the end of the
batch holding its last step; latency = completion time - arrival time.

**Memory (our exact timing).** After a batch, a request that has done ``d`` steps of its current
attempt holds ``s + d`` if ``1 <= d <= o`` and nothing once ``d = o + 1`` (it completed in that
batch and its cache is freed).  So a request holds ``s + 1`` right after its prompt step and at
most ``s + o`` (after its ``o``-th step, before its last); ``s + o <= M`` is exactly the
condition for a request to fit alone.  Memory is measured after every batch.

**Batch time (the paper's published code).**  In milliseconds,
``(0.0027 * mean context + 0.52) * B + 44.6 + 0.378 * P`` for a batch of ``B`` steps whose
prompt steps hold ``P`` prompt tokens; the context length of a token step is the number of steps
the request has done so far (our reading of "tokens produced so far": its memory minus ``s``),
0 for a prompt step (:func:`paper_batch_time`).  Any other model ``f(prefill_tokens,
decode_requests, decode_kv_tokens) -> seconds`` can be passed (``kvtheory.a100.batch_timer``).

**Policies** (:data:`PAPER_POLICIES`): MC-SF and MC-Benchmark with projections in steps;
the six alpha-protection / beta-clearing configurations; a vLLM-style rule.  See
:func:`simulate_paper`.  Every run can be replayed by :func:`check_paper_run`
(:mod:`kvtheory._paper_check`).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_fraction, as_int, check_fits, check_generator
from .calibration import DEFAULT_POWER, PowerModel, batch_energy

__all__ = [
    "DEFAULT_BATCH_CAP",
    "PAPER_BENCHMARK_PAIRS",
    "PAPER_POLICIES",
    "BatchLog",
    "PaperPolicy",
    "PaperRecord",
    "PaperRun",
    "PaperRunError",
    "check_paper_run",
    "paper_batch_time",
    "paper_policy",
    "simulate_paper",
]

#: The (alpha, beta) pairs of the six practice-style configurations: **our reconstruction** of
#: the paper's "alpha in {0.3, 0.25, 0.2, 0.1} with clearing 0.2 / 0.1".  beta = 0.1 (the value
#: in the published copy) with every alpha, and beta = 0.2 at the two alphas below about 0.21,
#: the smallest alpha reported never to overflow, since beta only acts when memory overflows.
PAPER_BENCHMARK_PAIRS = ((0.1, 0.1), (0.2, 0.1), (0.25, 0.1), (0.3, 0.1), (0.1, 0.2), (0.2, 0.2))
#: Every policy of the paper engine, by name (``"alpha-A-beta-B"`` works for any A, B).
PAPER_POLICIES: tuple[str, ...] = ("mc-sf", "mc-benchmark",
                                   *(f"alpha-{a:g}-beta-{b:g}" for a, b in PAPER_BENCHMARK_PAIRS),
                                   "vllm")
#: Default batch cap ``B`` of the alpha/beta and vLLM rules: vLLM's default ``max_num_seqs``
#: (256).  The published code's ``B`` is not known.  MC-SF and MC-Benchmark have no cap.
DEFAULT_BATCH_CAP = 256
_ALPHA = re.compile(r"^alpha-([0-9.]+)-beta-([0-9.]+)$")
_BATCHING = ("mixed", "prefill-first")


@dataclass(frozen=True)
class PaperPolicy:
    """A parsed policy name: its kind and parameters.

    Examples
    --------
    >>> paper_policy("alpha-0.2-beta-0.1")
    PaperPolicy(name='alpha-0.2-beta-0.1', kind='alpha', alpha=0.2, beta=0.1)
    >>> paper_policy("fifo")
    Traceback (most recent call last):
    ...
    ValueError: unknown paper-engine policy 'fifo'; known: mc-sf, mc-benchmark, alpha-A-beta-B (e.g. alpha-0.1-beta-0.1), vllm
    """

    name: str
    kind: str                  # "mc-sf", "mc-benchmark", "alpha", "vllm"
    alpha: float = 0.0
    beta: float = 0.0


def paper_policy(name: str) -> PaperPolicy:
    """Parse a policy name of the paper engine (see :data:`PAPER_POLICIES`)."""
    if name in ("mc-sf", "mc-benchmark", "vllm"):
        return PaperPolicy(name, name)
    m = _ALPHA.match(str(name))
    if m:
        a = as_fraction(float(m.group(1)), name="alpha", high=1.0, high_open=True)
        b = as_fraction(float(m.group(2)), name="beta", low_open=True)
        return PaperPolicy(name, "alpha", a, b)
    raise ValueError(f"unknown paper-engine policy {name!r}; known: mc-sf, mc-benchmark, "
                     f"alpha-A-beta-B (e.g. alpha-0.1-beta-0.1), vllm")


def _paper_ms(steps: int, context_sum: int, prefill_tokens: int) -> float:
    return 0.0027 * context_sum + 0.52 * steps + 44.6 + 0.378 * prefill_tokens


def paper_batch_time(prompt_sizes_of_prompt_steps: Sequence[int],
                     context_lengths_of_all_steps: Sequence[int]) -> float:
    """The paper's batch time in seconds (its published code's linear formula, ms / 1000).

    ``((0.0027 * mean context + 0.52) * B + 44.6 + 0.378 * sum of prompt sizes) / 1000`` for a
    batch of ``B = len(context_lengths_of_all_steps)`` steps (prompt steps have context 0).

    Examples
    --------
    >>> round(paper_batch_time([10], [0]), 6)    # 0.52 + 44.6 + 0.378 * 10 = 48.9 ms
    0.0489
    >>> round(paper_batch_time([], [5, 15]), 6)  # (0.0027 * 10 + 0.52) * 2 + 44.6 = 45.694 ms
    0.045694
    >>> paper_batch_time([10, 20], [0])
    Traceback (most recent call last):
    ...
    ValueError: a batch of 1 steps cannot hold 2 prompt steps
    """
    s = [as_int(x, name="prompt size", minimum=1) for x in prompt_sizes_of_prompt_steps]
    c = [as_int(x, name="context length", minimum=0) for x in context_lengths_of_all_steps]
    if len(c) < len(s) or not c:
        raise ValueError(f"a batch of {len(c)} steps cannot hold {len(s)} prompt steps")
    return _paper_ms(len(c), sum(c), sum(s)) / 1000.0


@dataclass(frozen=True)
class PaperRecord:
    """One request's outcome (tidy row).  Times in seconds; ``nan`` when not completed.

    ``start_time`` / ``first_token_time`` are the start and end of the prompt batch of the
    final attempt; ``evictions`` counts resets and preemptions, ``lost_steps`` the steps they
    destroyed (redone later).
    """

    id: int
    arrival_time: float
    prompt: int
    output: int
    prediction: int
    start_time: float
    first_token_time: float
    completion_time: float
    latency: float
    evictions: int
    lost_steps: int


@dataclass(frozen=True)
class BatchLog:
    """Every batch, its steps and every eviction, as flat arrays (the checker's input).

    Batch ``b`` runs from ``start[b]`` to ``end[b]``; its prompt steps are the requests
    ``prompt_req[prompt_batch == b]``, its token steps ``token_req[token_batch == b]``.
    ``memory_after[b]`` is the memory right after batch ``b``; evictions with
    ``evict_after == b`` happen after it (resets, preemptions), at ``evict_time``.
    """

    start: np.ndarray
    end: np.ndarray
    prefill_tokens: np.ndarray
    context_sum: np.ndarray
    kv_tokens: np.ndarray
    memory_after: np.ndarray
    prompt_batch: np.ndarray
    prompt_req: np.ndarray
    token_batch: np.ndarray
    token_req: np.ndarray
    evict_after: np.ndarray
    evict_req: np.ndarray
    evict_time: np.ndarray

    @property
    def n_prompt(self) -> np.ndarray:
        """Prompt steps per batch."""
        return np.bincount(self.prompt_batch, minlength=self.start.size)

    @property
    def n_token(self) -> np.ndarray:
        """Token steps per batch."""
        return np.bincount(self.token_batch, minlength=self.start.size)


@dataclass(frozen=True)
class PaperRun:
    """The result of :func:`simulate_paper`: tidy records, the batch log, status and config."""

    policy: str
    memory: int
    status: str                      # "ok", "livelock", "stalled"
    reason: str
    records: tuple
    log: BatchLog = field(repr=False)
    batching: str
    batch_cap: int | None
    reserve: float
    watermark: float
    time_model: str                  # "paper" or the custom callable's name
    promises_memory: bool
    energy_j: float | None
    sim_seconds: float

    def frame(self):
        """The records as a pandas DataFrame (one row per request)."""
        import pandas as pd
        return pd.DataFrame([r.__dict__ for r in self.records])

    def summary(self) -> dict:
        """Aggregates derived from the records and the log (JSON-ready).

        ``avg_latency_s`` and ``makespan_s`` are ``None`` unless every request completed.
        """
        lat = np.array([r.latency for r in self.records])
        done = np.isfinite(lat)
        ok = self.status == "ok"
        first = min(r.arrival_time for r in self.records)
        last = max((r.completion_time for r in self.records if math.isfinite(r.completion_time)),
                   default=first)
        return {"policy": self.policy, "n": len(self.records), "completed": int(done.sum()),
                "avg_latency_s": float(lat.mean()) if ok else None,
                "p95_latency_s": float(np.percentile(lat, 95)) if ok else None,
                "makespan_s": float(last - first) if ok else None,
                "evictions": int(sum(r.evictions for r in self.records)),
                "lost_steps": int(sum(r.lost_steps for r in self.records)),
                "batches": int(self.log.start.size),
                "overflows": int((self.log.memory_after > self.memory).sum()),
                "energy_j": self.energy_j, "status": self.status, "reason": self.reason}


class PaperRunError(ValueError):
    """A paper-engine run violates its own rules (raised by :func:`check_paper_run`)."""


def _validate(prompt, output, arrival_time, memory, prediction):
    s = np.asarray(prompt)
    o = np.asarray(output)
    a = np.asarray(arrival_time, dtype=float)
    if not (s.ndim == o.ndim == a.ndim == 1) or not (s.size == o.size == a.size) or not s.size:
        raise ValueError(f"prompt, output and arrival_time must be non-empty 1-d sequences of "
                         f"equal length, got sizes {s.size}, {o.size}, {a.size}")
    M = as_int(memory, name="memory", minimum=2)
    if not np.all(np.isfinite(a)) or (a < 0).any():
        raise ValueError("arrival_time must be finite and >= 0")
    if (np.diff(a) < 0).any():
        i = int(np.flatnonzero(np.diff(a) < 0)[0]) + 1
        raise ValueError(f"arrival_time must be sorted (non-decreasing); first decrease at "
                         f"index {i}")
    p = o if prediction is None else np.asarray(prediction)
    if p.shape != o.shape:
        raise ValueError(f"prediction must have {o.size} entries, got {p.size}")
    si, oi, pi = (np.asarray(x, dtype=np.int64) for x in (s, o, p))
    for name, raw, arr in (("prompt", s, si), ("output", o, oi), ("prediction", p, pi)):
        if not np.array_equal(raw, arr) or (arr < 1).any():
            i = int(np.flatnonzero((raw != arr) | (arr < 1))[0])
            raise ValueError(f"request {i}: {name} must be an integer >= 1, got {raw[i]!r}")
    bad = np.flatnonzero((si + oi > M) | (si + pi > M))
    if bad.size:
        i = int(bad[0])
        check_fits(i, int(si[i]), int(oi[i]), int(pi[i]), M)
    return si, oi, a, pi, M


class _Peaks:
    """Projected memory of a set of requests at its peak points, in batches (MC-SF's check).

    A member with base ``b`` and horizon ``e`` holds ``b + k`` after the ``k``-th coming batch
    for ``k <= e``.  ``K`` are the distinct horizons (the projected completion points: memory
    only grows between them), ``F[m]`` the projected memory after batch ``K[m]``, ``C[m]`` how
    many members are still held there.
    """

    def __init__(self, base: np.ndarray, horizon: np.ndarray, kmin: int):
        self.kmin = kmin
        keep = horizon >= kmin
        b, e = base[keep], horizon[keep]
        self.K, inv = np.unique(e, return_inverse=True)
        bsum = np.bincount(inv, weights=b, minlength=self.K.size)
        cnt = np.bincount(inv, minlength=self.K.size)
        self.C = np.cumsum(cnt[::-1])[::-1].astype(np.int64)
        self.F = np.cumsum(bsum[::-1])[::-1].astype(np.int64) + self.K * self.C

    def max(self) -> int:
        return int(self.F.max()) if self.F.size else 0

    def shift(self) -> None:
        """Every member advanced one step: the projection after ``k`` batches is the old one
        after ``k + 1`` (members whose horizon runs out leave)."""
        K = self.K - 1
        drop = int(np.searchsorted(K, self.kmin, side="left"))
        self.K, self.F, self.C = K[drop:], self.F[drop:], self.C[drop:]

    def try_add(self, b: int, e: int, cap: int) -> bool:
        """Add a member if every peak stays ``<= cap``; return whether it was added."""
        K, F, C = self.K, self.F, self.C
        hi = int(np.searchsorted(K, e, side="right"))          # peaks K[:hi] <= e
        if hi and int((F[:hi] + K[:hi]).max()) + b > cap:
            return False
        present = hi > 0 and K[hi - 1] == e
        lo = hi - 1 if present else hi
        f_e = int(F[lo] + (e - K[lo]) * C[lo]) if lo < K.size else 0
        if f_e + b + e > cap:
            return False
        F[:hi] += b + K[:hi]
        C[:hi] += 1
        if not present:
            c_e = int(C[lo]) if lo < K.size else 0
            self.K = np.insert(K, hi, e)
            self.F = np.insert(F, hi, f_e + b + e)
            self.C = np.insert(C, hi, c_e + 1)
        return True


def simulate_paper(prompt: Sequence[int], output: Sequence[int], arrival_time: Sequence[float],
                   *, memory: int, policy: str = "mc-sf", prediction: Sequence[int] | None = None,
                   rng: np.random.Generator | None = None, batch_cap: int | None = None,
                   batching: str = "mixed", batch_time: Callable | None = None,
                   max_batches: int | None = None, max_lost_steps: int | None = None,
                   progress: bool = False,
                   reserve: float = 0.0, watermark: float = 0.01,
                   power: PowerModel | None = DEFAULT_POWER, n_gpus: int = 2) -> PaperRun:
    """Run one policy on the paper's engine (continuous time, ``o + 1`` steps per request).

    Examples
    --------
    Two requests at time 0, ``M = 10``.  Batch 1 holds both prompt steps (``B = 2``, ``P = 3``):
    44.6 + 0.52 * 2 + 0.378 * 3 = 46.774 ms.  Batch 2 holds both token steps (contexts 1, 1):
    44.6 + 1.04 + 0.0054 = 45.6454 ms; request 1 (o = 1) completes.  Batch 3: request 0's
    second token step (context 2): 44.6 + 0.52 + 0.0054 = 45.1254 ms.

    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    >>> [round(r.completion_time * 1000, 4) for r in run.records]
    [137.5448, 92.4194]
    >>> run.summary()["status"], run.log.memory_after.tolist()    # after batch: 3+2, then 4
    ('ok', [5, 4, 0])
    >>> simulate_paper([2], [9], [0.0], memory=10)
    Traceback (most recent call last):
    ...
    ValueError: request 0 can never fit: s+o=11 > M=10

    Parameters
    ----------
    prompt, output : sequence of int
        Prompt sizes ``s >= 1`` and true output lengths ``o >= 1``, with ``s + o <= M``.
    arrival_time : sequence of float
        Seconds, sorted (ties keep index order: arrival order is index order).
    memory : int
        KV capacity ``M`` in tokens.
    policy : str
        A name of :data:`PAPER_POLICIES`:

        * ``"mc-sf"`` -- every running request takes a token step in every batch; then waiting
          requests, sorted by prediction (ties: arrival, then index), are admitted one by one
          while the projected memory after every coming batch stays ``<= (1 - reserve) M``;
          stop at the first failure.  Projections are in batches: the code multiplies remaining
          steps by an average batch time, which cancels (the chapter proves it).  A request
          that has outlived its prediction (``d > õ``) is projected to hold ``s + d + 1`` after
          the coming batch and to finish in the one after (ours).  Into an empty
          engine the first candidate is admitted if it fits in ``M`` (ours: with a reserve it
          could otherwise wait forever).
        * ``"mc-benchmark"`` -- the same in arrival order.
        * ``"alpha-A-beta-B"`` -- token steps first (earliest arrival first) up to ``B =
          batch_cap``; if the current memory exceeds ``(1 - A) M`` admit nothing, otherwise
          admit waiting requests in arrival order up to ``B`` steps in all, with no memory
          check.  After each batch, while memory ``> M``: reset every running request
          independently with probability ``B`` (``rng``), losing its progress and re-queueing it
          at its original arrival position; if still over, wait 1 s doing nothing.
        * ``"vllm"`` -- preempt the latest-arrived running request (recompute) while the memory
          after the coming batch would exceed ``M`` (the engine knows which requests take their
          last step: a final step leaves no cache behind), then admit in arrival order while the
          memory after the batch stays ``<= M - ceil(watermark M)``, up to ``batch_cap`` steps.
          Never overflows.
    prediction : sequence of int, optional
        Predicted outputs used by MC-SF / MC-Benchmark (default: the true outputs).
    rng : numpy.random.Generator
        Required by the alpha/beta rules (the resets are random).
    batch_cap : int, optional
        Steps per batch (default :data:`DEFAULT_BATCH_CAP` for alpha/beta and vLLM, no cap for
        MC-SF / MC-Benchmark).
    batching : {"mixed", "prefill-first"}
        ``"prefill-first"`` (vLLM v0, Vidur's vLLM scheduler): a batch holds prompt steps or
        token steps, never both; when a policy admits, the batch is prompt-only.  MC-SF's
        projection then counts the prompt-only batch (new requests hold ``s + 1 + k``).
    batch_time : callable, optional
        ``f(prefill_tokens, decode_requests, decode_kv_tokens) -> seconds`` (``decode_kv_tokens``
        = sum of ``s + d`` over token steps); default the paper's formula.
    max_batches : int, optional
        Stop with status ``"livelock"`` after this many batches plus 1-s waits (default
        ``10 * sum(o + 1) + 1000``).
    max_lost_steps : int, optional
        Stop with status ``"livelock"`` (thrashing) once evictions have destroyed more than
        this many steps (default ``5 * sum(o + 1)``: five times the useful work; ours).
    progress : bool
        Show a tqdm bar of completed requests.
    reserve : float in [0, 1)
        MC-SF / MC-Benchmark admission reserve (the prediction-error study uses 0.1).
    watermark : float in [0, 1)
        vLLM's free-memory watermark (its default block watermark is 0.01).
    power : PowerModel or None
        Energy = sum over batches of seconds x ``n_gpus`` x ``power.watts(P + D)`` plus idle
        power between batches (our model, :func:`kvtheory.calibration.batch_energy`); ``None``
        gives ``energy_j = None``.
    n_gpus : int

    Returns
    -------
    PaperRun
    """
    s, o, a, p, M = _validate(prompt, output, arrival_time, memory, prediction)
    pol = paper_policy(policy)
    if batching not in _BATCHING:
        raise ValueError(f"batching must be one of {_BATCHING}, got {batching!r}")
    if pol.kind == "alpha":
        rng = check_generator(rng)
    reserve = as_fraction(reserve, name="reserve", high=1.0, high_open=True)
    watermark = as_fraction(watermark, name="watermark", high=1.0, high_open=True)
    if batch_cap is None and pol.kind in ("alpha", "vllm"):
        batch_cap = DEFAULT_BATCH_CAP
    cap_steps = None if batch_cap is None else as_int(batch_cap, name="batch_cap", minimum=1)
    n_gpus = as_int(n_gpus, name="n_gpus", minimum=1)
    n = s.size
    limit = 10 * int((o + 1).sum()) + 1000 if max_batches is None else as_int(
        max_batches, name="max_batches", minimum=1)
    from ._paper_loop import run_loop
    t0 = time.perf_counter()
    max_lost = 5 * int((o + 1).sum()) if max_lost_steps is None else as_int(
        max_lost_steps, name="max_lost_steps", minimum=0)
    out = run_loop(pol, s, o, a, p, M, rng, cap_steps, batching, batch_time, limit, progress,
                   reserve, watermark, max_lost)
    sim = time.perf_counter() - t0
    log = out["log"]
    comp, first, start = out["completion"], out["first_token"], out["start"]
    records = tuple(PaperRecord(i, float(a[i]), int(s[i]), int(o[i]), int(p[i]), float(start[i]),
                                float(first[i]), float(comp[i]), float(comp[i] - a[i]),
                                int(out["evictions"][i]), int(out["lost"][i]))
                    for i in range(n))
    energy = None
    if power is not None:
        dur = log.end - log.start
        tokens = log.prefill_tokens + log.n_token
        uniq, inv = np.unique(tokens, return_inverse=True)
        jps = np.array([batch_energy(int(u), 0, 1.0, n_gpus=n_gpus, power=power) for u in uniq])
        busy_j = float(np.dot(dur, jps[inv])) if dur.size else 0.0
        end = float(np.nanmax(comp)) if np.isfinite(comp).any() else float(a[0])
        idle_s = max(0.0, end - float(a[0]) - float(dur.sum()))
        energy = busy_j + float(batch_energy(0, 0, idle_s, n_gpus=n_gpus, power=power))
    promises = (pol.kind == "vllm" or (pol.kind in ("mc-sf", "mc-benchmark")
                                       and cap_steps is None and bool((p >= o).all())))
    name = "paper" if batch_time is None else getattr(batch_time, "__name__",
                                                      type(batch_time).__name__)
    return PaperRun(pol.name, M, out["status"], out["reason"], records, log, batching, cap_steps,
                    reserve, watermark, name, promises, energy, sim)


def check_paper_run(run: PaperRun) -> None:
    """Replay a :class:`PaperRun` from its batch log and raise :class:`PaperRunError` on any lie.

    Independent of the engine's loop: see :func:`kvtheory._paper_check.check_paper_run`.

    Examples
    --------
    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    >>> check_paper_run(run) is None
    True
    """
    from ._paper_check import check_paper_run as _check
    _check(run)
