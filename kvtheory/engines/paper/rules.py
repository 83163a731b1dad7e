"""The rules and records of the published-code engine: policies, batch time, run records, memory peaks.

The data that the event loop (:mod:`kvtheory.engines.paper.loop`), the replay checker
(:mod:`kvtheory.engines.paper.check`) and the entry point (:mod:`kvtheory.engines.paper.engine`)
share; the engine's rules are described in :mod:`kvtheory.engines.paper.engine`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kvtheory.model.validation import as_fraction, as_int, check_fits

__all__ = ["DEFAULT_BATCH_CAP", "PAPER_BENCHMARK_PAIRS", "PAPER_POLICIES", "BatchLog", "PaperPolicy",
           "PaperRecord", "PaperRun", "PaperRunError", "paper_batch_time", "paper_policy"]

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
    PaperPolicy(name='alpha-0.2-beta-0.1', kind='alpha', alpha=0.2, beta=0.1, longest=False)
    >>> paper_policy("longest-first").longest        # planted, not in PAPER_POLICIES
    True
    >>> paper_policy("fifo")
    Traceback (most recent call last):
    ...
    ValueError: unknown paper-engine policy 'fifo'; known: mc-sf, mc-benchmark, alpha-A-beta-B (e.g. alpha-0.1-beta-0.1), vllm
    """

    name: str
    kind: str                  # "mc-sf", "mc-benchmark", "alpha", "vllm"
    alpha: float = 0.0
    beta: float = 0.0
    #: ``True`` only for the planted ``"longest-first"``: MC-SF's rule admitting the longest
    #: predicted output first (a policy no claim covers, for measuring a check's power; not in
    #: :data:`PAPER_POLICIES`).
    longest: bool = False


def paper_policy(name: str) -> PaperPolicy:
    """Parse a policy name of the paper engine (see :data:`PAPER_POLICIES`)."""
    if name in ("mc-sf", "mc-benchmark", "vllm"):
        return PaperPolicy(name, name)
    if name == "longest-first":
        return PaperPolicy(name, "mc-sf", longest=True)
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
    memory_timing: str = "code"      # "code" (the published projection) or "exact"
    event_order: str = "code"        # "code" (one event at a time) or "exact"

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


#: Memory timings of :func:`simulate_paper` and the tokens each adds to ``s + o`` in the fit rule.
MEMORY_TIMINGS = {"code": 1, "exact": 0}
#: Event orders of :func:`simulate_paper`.
EVENT_ORDERS = ("code", "exact")


def fit_extra(memory_timing: str = "code") -> int:
    """Tokens the fit rule adds to ``s + max(o, prediction)`` under ``memory_timing``.

    A request fits alone in the paper engine iff ``s + max(o, prediction) + fit_extra <= M``:
    the published code's projection counts a request at its own completion point as holding
    ``s + o + 1`` (``"code"``, 1); our exact timing frees it there (``"exact"``, 0).

    Examples
    --------
    >>> fit_extra("code"), fit_extra("exact")
    (1, 0)
    """
    if memory_timing not in MEMORY_TIMINGS:
        raise ValueError(f"memory_timing must be one of {', '.join(MEMORY_TIMINGS)}, got "
                         f"{memory_timing!r}")
    return MEMORY_TIMINGS[memory_timing]


def _validate(prompt, output, arrival_time, memory, prediction, memory_timing="code"):
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
    x = fit_extra(memory_timing)
    bad = np.flatnonzero((si + oi + x > M) | (si + pi + x > M))
    if bad.size:
        i = int(bad[0])
        if x == 0:
            check_fits(i, int(si[i]), int(oi[i]), int(pi[i]), M)
        worst, what = (int(oi[i]), "o") if oi[i] >= pi[i] else (int(pi[i]), "prediction")
        raise ValueError(f"request {i} can never fit: s+{what}+1={int(si[i]) + worst + 1} > "
                         f"M={M} (the published code's projection counts a request at its "
                         f"completion point; memory_timing='exact' frees it there)")
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


