"""Independent replay of a paper-engine run (private; public as
:func:`kvtheory.engines.paper.engine.check_paper_run`).

The replay reads only the requests (arrival, prompt, output) and the batch log, and rebuilds
every step count, memory level, completion time and eviction from them, with its own copy of
the batch-time formula.  It shares no code with the event loop.
"""

from __future__ import annotations

import numba
import numpy as np

from kvtheory.engines.paper.rules import PaperRun, PaperRunError, paper_policy


@numba.njit(cache=True)
def _formula_seconds(steps, context_sum, prefill_tokens):
    # the paper's published code's formula, written out again on purpose
    mean = context_sum / steps
    return ((0.0027 * mean + 0.52) * steps + 44.6 + 0.378 * prefill_tokens) / 1000.0


def _grouped(batch: np.ndarray, req: np.ndarray, nb: int):
    """Requests sorted by batch and offsets ``off`` (batch b = ``req[off[b]:off[b+1]]``)."""
    if batch.size and ((batch < 0).any() or (batch >= nb).any()):
        raise PaperRunError("a logged step or eviction names a batch that does not exist")
    order = np.argsort(batch, kind="stable")
    off = np.searchsorted(batch[order], np.arange(nb + 1)).astype(np.int64)
    return req[order].astype(np.int64), off, order


_MESSAGES = {
    1: "starts before the previous batch ended or has no duration",
    2: "the engine idled and the gap does not end at an arrival",
    3: "empty batch",
    4: "a request takes two steps in one batch",
    5: "a prefill-first batch mixes prompt and token steps",
    6: "more steps than the batch cap",
    7: "a prompt step of a request that has not arrived, is running or has completed",
    8: "a token step of a request that is not running",
    9: "a running request is missing from the batch",
    10: "logged prompt tokens, contexts or KV reads differ from the replay",
    11: "its duration differs from the paper's formula",
    12: "logged memory after the batch differs from the replay",
    13: "memory exceeds M after the batch, which the policy promises never to happen",
    14: "an eviction of a request that is not running (or twice)",
    15: "an eviction before the batch ended",
    16: "memory exceeds M after the overflow rule ran",
}


@numba.njit(cache=True)
def _replay(a, s, o, M, start, end, P_log, ctx_log, kv_log, mem_log, preq, poff, treq, toff,
            ereq, eoff, etime, prefill_first, cap, all_ready, paper_time, promises, alpha_waits,
            overflow_rule, last_ok, done, completion, first, begin, evictions, lost):
    n = a.size
    nb = start.size
    running = np.zeros(n, dtype=np.bool_)
    stamp = np.full(n, -1, dtype=np.int64)
    n_running = 0
    mem = 0
    ready_at = -np.inf
    tol = 1e-9 * max(1.0, end[nb - 1] if nb else 1.0)
    for b in range(nb):
        st = start[b]
        en = end[b]
        if st < ready_at - tol or not en > st:
            return 1, b, 0
        gap = st - ready_at
        if b > 0 and gap > tol:
            j = np.searchsorted(a, st - tol)
            at_arrival = j < n and a[j] <= st + tol
            if not at_arrival and not (alpha_waits and abs(gap - round(gap)) < 1e-6):
                return 2, b, 0
        np_ = poff[b + 1] - poff[b]
        nt = toff[b + 1] - toff[b]
        if np_ + nt == 0:
            return 3, b, 0
        if prefill_first and np_ > 0 and nt > 0:
            return 5, b, 0
        if cap > 0 and np_ + nt > cap:
            return 6, b, 0
        if all_ready and not (prefill_first and np_ > 0) and nt != n_running:
            return 9, b, 0
        P = 0
        ctx = 0
        kv = 0
        for x in range(poff[b], poff[b + 1]):
            i = preq[x]
            if stamp[i] == b:
                return 4, b, i
            stamp[i] = b
            if a[i] > st + tol or running[i] or not np.isnan(completion[i]):
                return 7, b, i
            P += s[i]
        for x in range(toff[b], toff[b + 1]):
            i = treq[x]
            if stamp[i] == b:
                return 4, b, i
            stamp[i] = b
            if not running[i]:
                return 8, b, i
            ctx += done[i]
            kv += s[i] + done[i]
        if P != P_log[b] or ctx != ctx_log[b] or kv != kv_log[b]:
            return 10, b, 0
        if paper_time:
            want = _formula_seconds(np_ + nt, ctx, P)
            if abs((en - st) - want) > 1e-9 * max(1.0, en):
                return 11, b, 0
        for x in range(toff[b], toff[b + 1]):
            i = treq[x]
            done[i] += 1
            if done[i] == o[i] + 1:
                completion[i] = en
                running[i] = False
                n_running -= 1
                mem -= s[i] + o[i]
            else:
                mem += 1
        for x in range(poff[b], poff[b + 1]):
            i = preq[x]
            done[i] = 1
            running[i] = True
            n_running += 1
            begin[i] = st
            first[i] = en
            mem += s[i] + 1
        if mem != mem_log[b]:
            return 12, b, mem
        if promises and mem > M:
            return 13, b, mem
        ready_at = en
        for x in range(eoff[b], eoff[b + 1]):
            i = ereq[x]
            if not running[i]:
                return 14, b, i
            if etime[x] < en - tol:
                return 15, b, i
            lost[i] += done[i]
            evictions[i] += 1
            mem -= s[i] + done[i]
            done[i] = 0
            running[i] = False
            n_running -= 1
            ready_at = max(ready_at, etime[x])
        if overflow_rule and mem > M and (b < nb - 1 or last_ok):
            return 16, b, mem
    return 0, -1, 0


def check_paper_run(run: PaperRun) -> None:
    """Replay ``run``; raise :class:`PaperRunError` (a ``ValueError``) on the first violation.

    Checks: batches do not overlap and last exactly their batch time (paper time model);
    an idle gap ends at an arrival (or, for alpha/beta rules, lasts whole 1-s waits); prompt
    steps only for arrived requests that are not running; token steps only for running
    requests, each the next step of its attempt; logged prompt tokens, context sums, KV reads
    and memory after every batch equal the replayed ones; memory ``<= M`` after every batch when
    the policy promises it (MC-SF / MC-Benchmark uncapped with predictions ``>= outputs``,
    vLLM); uncapped MC rules put every running request in every token batch; a prefill-first
    batch never mixes; evictions hit running requests, their lost steps are counted, overflow
    rules bring memory back to ``<= M``; every request completes (status ``"ok"``) or the run
    says why; the records agree with the replay.
    """
    if not isinstance(run, PaperRun):
        raise PaperRunError(f"expected a PaperRun, got {type(run).__name__}")
    pol = paper_policy(run.policy)
    log, M = run.log, run.memory
    recs = run.records
    n = len(recs)
    if [r.id for r in recs] != list(range(n)):
        raise PaperRunError("records must be ordered by id 0..n-1")
    a = np.array([r.arrival_time for r in recs], dtype=float)
    s = np.array([r.prompt for r in recs], dtype=np.int64)
    o = np.array([r.output for r in recs], dtype=np.int64)
    nb = log.start.size
    preq, poff, _ = _grouped(log.prompt_batch, log.prompt_req, nb)
    treq, toff, _ = _grouped(log.token_batch, log.token_req, nb)
    ereq, eoff, eorder = _grouped(log.evict_after, log.evict_req, nb)
    done = np.zeros(n, dtype=np.int64)
    completion = np.full(n, np.nan)
    first = np.full(n, np.nan)
    start = np.full(n, np.nan)
    evictions = np.zeros(n, dtype=np.int64)
    lost = np.zeros(n, dtype=np.int64)
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)
    i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)
    code, b, value = _replay(
        a, s, o, M, f64(log.start), f64(log.end), i64(log.prefill_tokens),
        i64(log.context_sum), i64(log.kv_tokens), i64(log.memory_after), preq, poff, treq, toff,
        ereq, eoff, f64(log.evict_time[eorder]), run.batching == "prefill-first",
        0 if run.batch_cap is None else int(run.batch_cap),
        pol.kind in ("mc-sf", "mc-benchmark") and run.batch_cap is None,
        run.time_model == "paper", bool(run.promises_memory), pol.kind == "alpha",
        pol.kind != "vllm", run.status == "ok", done, completion, first, start, evictions, lost)
    if code:
        raise PaperRunError(f"batch {b} (t={float(log.start[b]):.6g}): {_MESSAGES[code]} "
                            f"({value})")
    tol = 1e-9 * max(1.0, float(log.end[-1]) if nb else 1.0)
    total = int(log.prompt_req.size + log.token_req.size)
    if total != int((o + 1)[np.isfinite(completion)].sum() + lost.sum() + done[np.isnan(completion)].sum()):
        raise PaperRunError(f"{total} logged steps != completed steps + lost steps + steps "
                            f"in progress")
    if run.status == "ok" and not np.isfinite(completion).all():
        raise PaperRunError(f"status 'ok' but {int(np.isnan(completion).sum())} requests never "
                            f"completed")
    if run.status != "ok" and not run.reason:
        raise PaperRunError(f"status {run.status!r} without a reason")
    got = {"completion_time": completion, "first_token_time": first, "start_time": start}
    for name, arr in got.items():
        rec = np.array([getattr(r, name) for r in recs], dtype=float)
        if not np.allclose(rec, arr, rtol=0, atol=tol, equal_nan=True):
            raise PaperRunError(f"records: {name} differs from the replay")
    lat = np.array([r.latency for r in recs], dtype=float)
    if not np.allclose(lat, completion - a, rtol=0, atol=tol, equal_nan=True):
        raise PaperRunError("records: latency != completion - arrival")
    if [r.evictions for r in recs] != evictions.tolist() or [r.lost_steps for r in
                                                             recs] != lost.tolist():
        raise PaperRunError("records: evictions or lost steps differ from the replay")
