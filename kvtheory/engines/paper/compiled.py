"""A compiled event loop for the paper engine: the reference loop's runs, to the bit.

:func:`kvtheory.engines.paper.engine.simulate_paper` runs these configurations here by default
(``compiled=None``) and on the Python reference loop (:mod:`kvtheory.engines.paper.loop`) with
``compiled=False``:

* policies ``"mc-sf"``, ``"mc-benchmark"``, ``"vllm"`` and the alpha/beta rules (their random
  resets are drawn from the caller's ``numpy.random.Generator``, whose state the compiled loop
  advances in place: the same draws in the same order, and the generator is left where the
  reference leaves it);
* both batching modes, both memory timings, both event orders, any batch cap, reserve and
  watermark, predictions above or below the outputs (evictions), livelock and stall stops;
* the paper's batch-time formula only (``batch_time=None``): a user's callable runs on the
  reference.

The run is the reference's: the same batch log, the same start, first-token and completion
times (the batch time is computed in the same order of operations, so the floats are equal),
evictions, lost steps, status and reason.  A progress bar is not shown by the compiled loop.
"""

from __future__ import annotations

import math

import numpy as np

from kvtheory.engines.paper._loop_core import (ALPHA, LIMIT, MC_BENCHMARK, MC_SF, STALLED,
                                               THRASH, VLLM, paper_loop)
from kvtheory.engines.paper.rules import DEFAULT_BATCH_CAP, BatchLog, paper_policy
from kvtheory.model.validation import check_generator

__all__ = ["COMPILED_KINDS", "is_compiled", "run_compiled_loop", "run_paper_columns"]

#: Policy kinds the compiled loop runs.
COMPILED_KINDS = {"mc-sf": MC_SF, "mc-benchmark": MC_BENCHMARK, "vllm": VLLM, "alpha": ALPHA}


def is_compiled(kind: str, batch_time=None) -> bool:
    """Whether a run of this policy kind and batch time goes to the compiled loop by default.

    Examples
    --------
    >>> is_compiled("mc-sf"), is_compiled("vllm"), is_compiled("alpha"), is_compiled("fifo")
    (True, True, True, False)
    >>> is_compiled("mc-sf", batch_time=lambda P, D, kv: 0.05)
    False
    """
    return kind in COMPILED_KINDS and batch_time is None


def _reason(code: int, n: int, completed: int, lost_total: int, waiting: int, limit: int,
            max_lost: int) -> tuple[str, str]:
    if code == LIMIT:
        return "livelock", (f"stopped after {limit} batches and waits with {n - completed} "
                            f"requests unfinished")
    if code == THRASH:
        return "livelock", (f"thrashing: evictions destroyed {lost_total} steps (limit "
                            f"{max_lost}) with {n - completed} requests unfinished")
    if code == STALLED:
        return "stalled", f"{waiting} waiting requests can never be admitted"
    return "ok", ""


def _call(kind, s, o, a, p, M, cap, batching, limit, reserve, watermark, max_lost,
          memory_timing, event_order, steps, rng=None, alpha=0.0, beta=0.0, longest=False):
    s, o, p = (np.ascontiguousarray(x, dtype=np.int64) for x in (s, o, p))
    a = np.ascontiguousarray(a, dtype=np.float64)
    n = s.size
    if kind == "mc-sf":                     # the reference's heap keys: (prediction, id)
        # (the planted longest-first rule: (-prediction, id))
        id_at = np.lexsort((np.arange(n), -p if longest else p)).astype(np.int64)
        slot_of = np.empty(n, dtype=np.int64)
        slot_of[id_at] = np.arange(n)
    else:                                   # arrival order = index order
        id_at = slot_of = np.arange(n, dtype=np.int64)
    out = paper_loop(s, o, a, p, slot_of, id_at, int(M), COMPILED_KINDS[kind],
                     -1 if cap is None else int(cap), batching == "prefill-first", int(limit),
                     int(max_lost), 1 if memory_timing == "code" else 0, event_order == "code",
                     math.floor((1.0 - reserve) * M), M - math.ceil(watermark * M), steps,
                     np.random.default_rng(0) if rng is None else rng, (1.0 - alpha) * M,
                     float(beta))
    status, reason = _reason(int(out[0]), n, int(out[1]), int(out[2]), int(out[3]), limit,
                             max_lost)
    return status, reason, out


def run_compiled_loop(kind, s, o, a, p, M, cap, batching, limit, reserve, watermark, max_lost,
                      memory_timing="code", event_order="code", *, rng=None, alpha=0.0,
                      beta=0.0, longest=False) -> dict:
    """The compiled loop with the reference loop's arguments and output (a dict with the log).

    The arguments are those of :func:`kvtheory.engines.paper.loop.run_loop` after
    :func:`~kvtheory.engines.paper.engine.simulate_paper`'s validation, with the policy's kind
    in place of the policy and without ``batch_time`` and ``progress``; the alpha/beta rules
    take ``rng``, ``alpha`` and ``beta``; ``longest`` (kind ``"mc-sf"`` only) runs the planted
    longest-first order.

    Examples
    --------
    >>> out = run_compiled_loop("mc-sf", [2, 1], [2, 1], [0.0, 0.0], [2, 1], 10, None, "mixed",
    ...                         1000, 0.0, 0.01, 100)
    >>> out["status"], [round(x * 1000, 4) for x in out["completion"].tolist()]
    ('ok', [137.5448, 137.5448])
    >>> out["log"].memory_after.tolist()
    [3, 6, 0]
    """
    status, reason, out = _call(kind, s, o, a, p, M, cap, batching, limit, reserve, watermark,
                                max_lost, memory_timing, event_order, True, rng, alpha, beta,
                                longest)
    (_, _, _, _, completion, first_token, start, evictions, lost, b_start, b_end, b_P, b_ctx,
     b_kv, b_mem, b_np, b_nt, pr, tr, ea, er, et) = out
    nb = b_start.size
    log = BatchLog(b_start, b_end, b_P, b_ctx, b_kv, b_mem,
                   np.repeat(np.arange(nb, dtype=np.int64), b_np), pr,
                   np.repeat(np.arange(nb, dtype=np.int64), b_nt), tr, ea, er, et)
    return {"log": log, "completion": completion, "first_token": first_token, "start": start,
            "evictions": evictions, "lost": lost, "status": status, "reason": reason}


def run_paper_columns(prompt, output, arrival_time, memory: int, *, policy: str = "mc-sf",
                      prediction=None, rng=None, batch_cap: int | None = None,
                      batching: str = "mixed",
                      reserve: float = 0.0, watermark: float = 0.01,
                      memory_timing: str = "code", event_order: str = "code",
                      max_batches: int | None = None,
                      max_lost_steps: int | None = None) -> dict:
    """The compiled loop on bare columns, without per-step logs or per-request objects.

    For traces too long for :func:`~kvtheory.engines.paper.engine.simulate_paper`'s records
    (ten million requests): the columns are taken as valid (sorted arrivals, integer sizes
    >= 1, every request fits).  Returns the per-request arrays ``completion``,
    ``first_token``, ``start``, ``evictions``, ``lost``, the per-batch arrays ``batch_start``,
    ``batch_end``, ``memory_after``, ``n_prompt``, ``n_token``, and ``status``, ``reason``.

    Examples
    --------
    >>> out = run_paper_columns([2, 1], [2, 1], [0.0, 0.0], 10)
    >>> out["status"], out["n_token"].tolist(), out["memory_after"].tolist()
    ('ok', [0, 1, 2], [3, 6, 0])
    """
    o = np.asarray(output, dtype=np.int64)
    p = o if prediction is None else np.asarray(prediction, dtype=np.int64)
    pol = paper_policy(policy)
    rng = check_generator(rng) if pol.kind == "alpha" else None
    if batch_cap is None and pol.kind in ("alpha", "vllm"):
        batch_cap = DEFAULT_BATCH_CAP
    steps_total = int((o + 1).sum())
    limit = 10 * steps_total + 1000 if max_batches is None else int(max_batches)
    max_lost = 5 * steps_total if max_lost_steps is None else int(max_lost_steps)
    status, reason, out = _call(pol.kind, prompt, o, arrival_time, p, int(memory), batch_cap,
                                batching, limit, reserve, watermark, max_lost, memory_timing,
                                event_order, False, rng, pol.alpha, pol.beta, pol.longest)
    keys = ("completion", "first_token", "start", "evictions", "lost", "batch_start",
            "batch_end", "prefill_tokens", "context_sum", "kv_tokens", "memory_after",
            "n_prompt", "n_token")
    res = dict(zip(keys, out[4:17]))
    res.update(status=status, reason=reason)
    return res
