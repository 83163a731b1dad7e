"""Independent replay of a paper-engine run (private; public as
:func:`kvtheory.paper_engine.check_paper_run`).

The replay reads only the requests (arrival, prompt, output) and the batch log, and rebuilds
every step count, memory level, completion time and eviction from them, with its own copy of
the batch-time formula.  It shares no code with the event loop.
"""

from __future__ import annotations

import math

import numpy as np

from .paper_engine import PaperRun, PaperRunError, paper_policy


def _formula_seconds(steps: int, context_sum: int, prefill_tokens: int) -> float:
    # the paper's published code's formula, written out again on purpose
    mean = context_sum / steps
    return ((0.0027 * mean + 0.52) * steps + 44.6 + 0.378 * prefill_tokens) / 1000.0


def _by_batch(batch: np.ndarray, req: np.ndarray, nb: int) -> list[np.ndarray]:
    if batch.size and ((batch < 0).any() or (batch >= nb).any()):
        raise PaperRunError("a logged step names a batch that does not exist")
    order = np.argsort(batch, kind="stable")
    cuts = np.searchsorted(batch[order], np.arange(1, nb))
    return np.split(req[order], cuts)


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
    prompts = _by_batch(log.prompt_batch, log.prompt_req, nb)
    tokens = _by_batch(log.token_batch, log.token_req, nb)
    order = np.argsort(log.evict_after, kind="stable")
    ev_after = log.evict_after[order]
    ev_req, ev_time = log.evict_req[order], log.evict_time[order]
    if ev_after.size and ((ev_after < 0).any() or (ev_after >= nb).any()):
        raise PaperRunError("an eviction happens before the first or after the last batch")
    ev_cut = np.searchsorted(ev_after, np.arange(nb + 1))
    done = np.zeros(n, dtype=np.int64)
    completion = np.full(n, np.nan)
    first = np.full(n, np.nan)
    start = np.full(n, np.nan)
    evictions = np.zeros(n, dtype=np.int64)
    lost = np.zeros(n, dtype=np.int64)
    running = np.zeros(n, dtype=bool)
    mem = 0
    ready_at = -math.inf                  # end of the previous batch (and of its evictions)
    tol = 1e-9 * max(1.0, float(log.end[-1]) if nb else 1.0)
    all_ready = pol.kind in ("mc-sf", "mc-benchmark") and run.batch_cap is None
    for b in range(nb):
        st, en = float(log.start[b]), float(log.end[b])
        pid, tid = prompts[b], tokens[b]
        where = f"batch {b} (t={st:.6g})"
        if st < ready_at - tol or not en > st:
            raise PaperRunError(f"{where}: starts before the previous batch ended or has no "
                                f"duration")
        gap = st - ready_at
        if b and gap > tol and not np.isclose(a, st, rtol=0, atol=tol).any():
            if not (pol.kind == "alpha" and abs(gap - round(gap)) < 1e-6):
                raise PaperRunError(f"{where}: the engine idled {gap:.6g} s and the gap does "
                                    f"not end at an arrival")
        steps = pid.size + tid.size
        if not steps:
            raise PaperRunError(f"{where}: empty batch")
        if np.unique(np.concatenate([pid, tid])).size != steps:
            raise PaperRunError(f"{where}: a request takes two steps in one batch")
        if run.batching == "prefill-first" and pid.size and tid.size:
            raise PaperRunError(f"{where}: a prefill-first batch mixes prompt and token steps")
        if run.batch_cap is not None and steps > run.batch_cap:
            raise PaperRunError(f"{where}: {steps} steps exceed the batch cap {run.batch_cap}")
        if (a[pid] > st + tol).any() or running[pid].any() or np.isfinite(completion[pid]).any():
            raise PaperRunError(f"{where}: a prompt step of a request that has not arrived, is "
                                f"running or has completed")
        if not running[tid].all():
            raise PaperRunError(f"{where}: a token step of a request that is not running")
        if all_ready and not pid.size * (run.batching == "prefill-first"):
            if tid.size != int(running.sum()):
                raise PaperRunError(f"{where}: a running request is missing from the batch")
        ctx = int(done[tid].sum())
        kv = int((s[tid] + done[tid]).sum())
        P = int(s[pid].sum())
        if (P, ctx, kv) != (int(log.prefill_tokens[b]), int(log.context_sum[b]),
                            int(log.kv_tokens[b])):
            raise PaperRunError(f"{where}: logged (prompt tokens, contexts, KV) = "
                                f"{(int(log.prefill_tokens[b]), int(log.context_sum[b]), int(log.kv_tokens[b]))}"
                                f", replayed {(P, ctx, kv)}")
        if run.time_model == "paper":
            want = _formula_seconds(steps, ctx, P)
            if abs((en - st) - want) > 1e-9 * max(1.0, en):
                raise PaperRunError(f"{where}: lasted {en - st:.9g} s, the formula gives "
                                    f"{want:.9g} s")
        done[tid] += 1
        fin = tid[done[tid] == o[tid] + 1]
        mem += int(tid.size - fin.size) - int((s[fin] + o[fin]).sum())
        completion[fin] = en
        running[fin] = False
        done[pid] = 1
        running[pid] = True
        start[pid] = st
        first[pid] = en
        mem += int((s[pid] + 1).sum())
        if mem != int(log.memory_after[b]):
            raise PaperRunError(f"{where}: logged memory {int(log.memory_after[b])} after the "
                                f"batch, replayed {mem}")
        if run.promises_memory and mem > M:
            raise PaperRunError(f"{where}: memory {mem} > M={M} after the batch, which "
                                f"{run.policy} promises never to happen")
        ready_at = en
        ev = ev_req[ev_cut[b]:ev_cut[b + 1]]
        if ev.size:
            if not running[ev].all() or np.unique(ev).size != ev.size:
                raise PaperRunError(f"{where}: an eviction of a request that is not running")
            if (ev_time[ev_cut[b]:ev_cut[b + 1]] < en - tol).any():
                raise PaperRunError(f"{where}: an eviction before the batch ended")
            lost[ev] += done[ev]
            evictions[ev] += 1
            mem -= int((s[ev] + done[ev]).sum())
            done[ev] = 0
            running[ev] = False
            ready_at = max(ready_at, float(ev_time[ev_cut[b]:ev_cut[b + 1]].max()))
        if mem > M and pol.kind != "vllm" and (b < nb - 1 or run.status == "ok"):
            raise PaperRunError(f"{where}: memory {mem} > M={M} after the overflow rule ran")
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
