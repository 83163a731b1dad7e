"""The paper's experiment engine: event-driven continuous time, o + 1 steps, a linear batch time.

This module rebuilds the simulator of *the paper's published code* (its rules are paraphrased in
the book's chapter on the published setup; none of its code is used) so that the real-data experiments can be run
under the paper's own setup, beside our A100-calibrated round engine (:mod:`kvtheory.studies.a100`).

**Time.** Event-driven and continuous (seconds).  One batch runs at a time; requests that arrive
while a batch runs wait for the next decision; an idle engine jumps to the next arrival.

**Steps.** Request ``i`` (prompt ``s_i``, output ``o_i``) needs ``o_i + 1`` steps in ``o_i + 1``
distinct batches: one *prompt step*, then ``o_i`` *token steps*.  It completes at the end of the
batch holding its last step; latency = completion time - arrival time.

**Memory.** After a batch, a request that has done ``d`` steps of its current attempt holds
``s + d`` if ``1 <= d <= o`` and nothing once ``d = o + 1`` (it completed in that batch and its
cache is freed).  So a request holds ``s + 1`` right after its prompt step and at most ``s + o``
(after its ``o``-th step, before its last).  Memory is measured after every batch.

**Memory timing of the projection** (``memory_timing``).  ``"code"`` (default, *the paper's
published code*): MC-SF's admission check counts each request at its own completion point as
holding ``s + o + 1`` (its count of processed steps includes the prompt step), one token more
than it ever holds, so a request fits alone only if ``s + o + 1 <= M``.  ``"exact"`` (ours):
the projection frees it there, and ``s + o <= M`` is the fit rule (:func:`fit_extra`).

**Event order** (``event_order``).  ``"code"`` (default, *the paper's published code*): one
event at a time; a batch's end comes before an arrival at the same instant, and after each
event an idle engine forms a batch from what it has seen so far, so of several simultaneous
arrivals an idle engine starts with the first alone.  ``"exact"`` (ours): every arrival up to
the decision time joins the decision.

**Batch time (the paper's published code).**  In milliseconds,
``(0.0027 * mean context + 0.52) * B + 44.6 + 0.378 * P`` for a batch of ``B`` steps whose
prompt steps hold ``P`` prompt tokens; the context length of a token step is the number of steps
the request has done so far (our reading of "tokens produced so far": its memory minus ``s``),
0 for a prompt step (:func:`paper_batch_time`).  Any other model ``f(prefill_tokens,
decode_requests, decode_kv_tokens) -> seconds`` can be passed (``kvtheory.studies.a100.batch_timer``).

**Policies** (:data:`PAPER_POLICIES`): MC-SF and MC-Benchmark with projections in steps;
the six alpha-protection / beta-clearing configurations; a vLLM-style rule.  See
:func:`simulate_paper`.  Every run can be replayed by :func:`check_paper_run`
(:mod:`kvtheory.engines.paper.check`).

**Loops.**  With the paper's batch time every policy runs on a numba-compiled loop
(:mod:`kvtheory.engines.paper.compiled`), the same run to the bit as the Python reference loop
(:mod:`kvtheory.engines.paper.loop`), which runs a custom batch time and every run with
``compiled=False``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from kvtheory.engines.paper.check import check_paper_run as _check
from kvtheory.engines.paper.compiled import is_compiled, run_compiled_loop
from kvtheory.engines.paper.loop import run_loop
from kvtheory.engines.paper.rules import (DEFAULT_BATCH_CAP, EVENT_ORDERS, MEMORY_TIMINGS,
                                          PAPER_BENCHMARK_PAIRS, PAPER_POLICIES,
                                          BatchLog, PaperPolicy, PaperRecord, PaperRun,
                                          PaperRunError, _BATCHING, _validate, fit_extra,
                                          paper_batch_time, paper_policy)
from kvtheory.hardware.calibration import DEFAULT_POWER, PowerModel, batch_energy
from kvtheory.model.validation import as_fraction, as_int, check_generator

__all__ = [
    "DEFAULT_BATCH_CAP",
    "EVENT_ORDERS",
    "MEMORY_TIMINGS",
    "PAPER_BENCHMARK_PAIRS",
    "PAPER_POLICIES",
    "BatchLog",
    "PaperPolicy",
    "PaperRecord",
    "PaperRun",
    "PaperRunError",
    "check_paper_run",
    "fit_extra",
    "paper_batch_time",
    "paper_policy",
    "simulate_paper",
]

def simulate_paper(prompt: Sequence[int], output: Sequence[int], arrival_time: Sequence[float],
                   *, memory: int, policy: str = "mc-sf", prediction: Sequence[int] | None = None,
                   rng: np.random.Generator | None = None, batch_cap: int | None = None,
                   batching: str = "mixed", batch_time: Callable | None = None,
                   max_batches: int | None = None, max_lost_steps: int | None = None,
                   progress: bool = False,
                   reserve: float = 0.0, watermark: float = 0.01,
                   power: PowerModel | None = DEFAULT_POWER, n_gpus: int = 2,
                   memory_timing: str = "code", event_order: str = "code",
                   compiled: bool | None = None) -> PaperRun:
    """Run one policy on the paper's engine (continuous time, ``o + 1`` steps per request).

    Examples
    --------
    Two requests at time 0, ``M = 10``, the published code's rules.  The idle engine starts on
    the first arrival alone: batch 1 is request 0's prompt step (``B = 1``, ``P = 2``),
    44.6 + 0.52 + 0.756 = 45.876 ms.  Batch 2: request 0's first token step (context 1) and
    request 1's prompt step (``P = 1``), 44.6 + 1.04 + 0.0027 + 0.378 = 46.0207 ms.  Batch 3:
    both token steps (contexts 2, 1), 44.6 + 1.04 + 0.0081 = 45.6481 ms; both complete.

    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    >>> [round(r.completion_time * 1000, 4) for r in run.records]
    [137.5448, 137.5448]
    >>> run.log.memory_after.tolist()                   # 2 + 1; then 2 + 2 and 1 + 1
    [3, 6, 0]

    Our exact rules: batch 1 holds both prompt steps (``B = 2``, ``P = 3``): 46.774 ms; batch 2
    both token steps (contexts 1, 1): 45.6454 ms, request 1 (o = 1) completes; batch 3 request
    0's second token step (context 2): 45.1254 ms.

    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10, memory_timing="exact",
    ...                      event_order="exact")
    >>> [round(r.completion_time * 1000, 4) for r in run.records]
    [137.5448, 92.4194]
    >>> simulate_paper([2], [8], [0.0], memory=10)
    Traceback (most recent call last):
    ...
    ValueError: request 0 can never fit: s+o+1=11 > M=10 (the published code's projection counts a request at its completion point; memory_timing='exact' frees it there)

    Parameters
    ----------
    prompt, output : sequence of int
        Prompt sizes ``s >= 1`` and true output lengths ``o >= 1``, with ``s + o + 1 <= M``
        (``s + o <= M`` under ``memory_timing="exact"``; predictions likewise).
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
        * ``"longest-first"`` (planted, not in :data:`PAPER_POLICIES`) -- MC-SF's rule with the
          longest prediction first, a policy no claim covers (it measures a check's power).
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
        power between batches (our model, :func:`kvtheory.hardware.calibration.batch_energy`); ``None``
        gives ``energy_j = None``.
    n_gpus : int
    memory_timing : {"code", "exact"}
        MC-SF's projection counts a request at its completion point as holding ``s + o + 1``
        (``"code"``, the published code) or frees it there (``"exact"``, ours); also the fit
        rule (:func:`fit_extra`).
    event_order : {"code", "exact"}
        One event at a time, a batch's end before a simultaneous arrival, an idle engine
        starting on each arrival (``"code"``), or every arrival up to the decision time
        joining the decision (``"exact"``).
    compiled : bool, optional
        ``None`` (default): every policy with the paper's batch time runs on the compiled loop
        (:mod:`kvtheory.engines.paper.compiled`, the same run to the bit, the same draws from
        ``rng``, no progress bar), a custom ``batch_time`` on the Python reference loop;
        ``False``: always the reference; ``True``: the compiled loop (a ``ValueError`` with a
        custom ``batch_time``).

    Returns
    -------
    PaperRun
    """
    fit_extra(memory_timing)
    if event_order not in EVENT_ORDERS:
        raise ValueError(f"event_order must be one of {', '.join(EVENT_ORDERS)}, got "
                         f"{event_order!r}")
    s, o, a, p, M = _validate(prompt, output, arrival_time, memory, prediction, memory_timing)
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
    t0 = time.perf_counter()
    max_lost = 5 * int((o + 1).sum()) if max_lost_steps is None else as_int(
        max_lost_steps, name="max_lost_steps", minimum=0)
    use = compiled is not False and is_compiled(pol.kind, batch_time)
    if compiled and not use:
        raise ValueError("the compiled loop runs the paper's batch time only, not a custom "
                         "batch_time")
    if use:
        out = run_compiled_loop(pol.kind, s, o, a, p, M, cap_steps, batching, limit, reserve,
                                watermark, max_lost, memory_timing, event_order,
                                rng=rng if pol.kind == "alpha" else None, alpha=pol.alpha,
                                beta=pol.beta, longest=pol.longest)
    else:
        out = run_loop(pol, s, o, a, p, M, rng, cap_steps, batching, batch_time, limit,
                       progress, reserve, watermark, max_lost, memory_timing, event_order)
    sim = time.perf_counter() - t0
    log = out["log"]
    comp, first, start = out["completion"], out["first_token"], out["start"]
    cols = (a, s, o, p, start, first, comp, comp - a, out["evictions"], out["lost"])
    records = tuple(PaperRecord(i, *row) for i, row in
                    enumerate(zip(*(np.asarray(c).tolist() for c in cols))))
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
                    reserve, watermark, name, promises, energy, sim, memory_timing, event_order)


def check_paper_run(run: PaperRun) -> None:
    """Replay a :class:`PaperRun` from its batch log and raise :class:`PaperRunError` on any lie.

    Independent of the engine's loop: see :func:`kvtheory.engines.paper.check.check_paper_run`.

    Examples
    --------
    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    >>> check_paper_run(run) is None
    True
    """
    _check(run)
