"""The event loop of :func:`kvtheory.engines.paper.engine.simulate_paper` (private).

One iteration = one decision at time ``t``: arrivals up to ``t`` join the queue, the policy
picks the batch (token steps of running requests, prompt steps of admitted requests), the batch
runs for its batch time, requests that took their last step complete, and the policy's overflow
rule runs (resets, evictions, 1-s waits).  Everything the checker needs is logged.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from tqdm import tqdm

from kvtheory.engines.paper.rules import BatchLog, _paper_ms, _Peaks

_I = np.int64
_EMPTY = np.zeros(0, dtype=_I)


def _ints(chunks) -> np.ndarray:
    return np.concatenate(chunks).astype(_I) if chunks else np.zeros(0, dtype=_I)


def _fcfs(heap, admit, budget, mem, s, limit, empty):
    """vLLM admission: arrival order while memory after the batch stays <= limit (into an
    empty engine the first request always enters)."""
    while heap and len(admit) < budget:
        i = heap[0]
        if mem + int(s[i]) + 1 <= limit or (empty and not admit):
            admit.append(heapq.heappop(heap))
            mem += int(s[i]) + 1
        else:
            break


def run_loop(pol, s, o, a, p, M, rng, cap, batching, batch_time, limit, progress, reserve,
             watermark, max_lost, memory_timing="code", event_order="code") -> dict:
    n = s.size
    late = 1 if memory_timing == "code" else 0   # projections hold s + o + 1 at completion
    one_event = event_order == "code"       # an idle engine starts on each arrival event
    kind = pol.kind
    prefill_first = batching == "prefill-first"
    done = np.zeros(n, dtype=_I)            # steps done in the current attempt
    seq = np.zeros(n, dtype=_I)             # admission counter (for "newest started")
    completion = np.full(n, np.nan)
    first_token = np.full(n, np.nan)
    start = np.full(n, np.nan)
    evictions = np.zeros(n, dtype=_I)
    lost = np.zeros(n, dtype=_I)
    if kind == "mc-sf":                     # shortest predicted first; ties arrival, index
        rank = (int(p.max()) - p) if pol.longest and n else p    # planted: longest first
        keys = (rank * n + np.arange(n)).tolist()
    else:                                   # arrival order (index order; resets keep it)
        keys = list(range(n))
    cap_mc = math.floor((1.0 - reserve) * M)
    cap_vllm = M - math.ceil(watermark * M)
    heap: list[int] = []
    nxt = 0
    running = np.zeros(0, dtype=_I)         # sorted by index (= arrival order)
    t = float(a[0])
    admitted_so_far = 0
    count = 0
    completed = 0
    L = {k: [] for k in ("start", "end", "P", "ctx", "kv", "mem", "np", "nt", "pr", "tr",
                         "ea", "er", "et")}
    status, reason = "ok", ""
    bar = tqdm(total=n, disable=not progress, desc=pol.name, leave=False, delay=2.0)

    lost_total = 0

    def evict(ids, after, when):
        nonlocal running, lost_total
        ids = np.asarray(ids, dtype=_I)
        lost[ids] += done[ids]
        lost_total += int(done[ids].sum())
        evictions[ids] += 1
        done[ids] = 0
        for i in ids.tolist():
            heapq.heappush(heap, keys[i])
        running = running[~np.isin(running, ids)]
        L["ea"].append(np.full(ids.size, after, dtype=_I))
        L["er"].append(ids)
        L["et"].append(np.full(ids.size, when))

    o1 = o + 1
    peaks = None                    # MC rules: projection kept across batches while exact
    idle = True                             # the first decision: on the first arrival
    while completed < n:
        if not one_event:                   # ours: every arrival up to now joins at once
            while nxt < n and a[nxt] <= t:
                heapq.heappush(heap, keys[nxt])
                nxt += 1
        elif idle:                          # an arrival event on an idle engine: that one
            if nxt < n and a[nxt] <= t:
                heapq.heappush(heap, keys[nxt])
                nxt += 1
        else:                               # a batch's end (or a wait) comes before an
            while nxt < n and a[nxt] < t:   # arrival at the same instant
                heapq.heappush(heap, keys[nxt])
                nxt += 1
        idle = False
        if count >= limit:
            status = "livelock"
            reason = (f"stopped after {limit} batches and waits with {n - completed} "
                      f"requests unfinished")
            break
        if lost_total > max_lost:
            status = "livelock"
            reason = (f"thrashing: evictions destroyed {lost_total} steps (limit {max_lost}) "
                      f"with {n - completed} requests unfinished")
            break
        nb = len(L["start"])
        admit: list[int] = []
        tok = running if cap is None or running.size <= cap else running[:cap]
        budget = None if cap is None else (cap if prefill_first else cap - tok.size)
        if kind in ("mc-sf", "mc-benchmark"):
            c = 1 if prefill_first else 0
            if heap and peaks is None:
                d = done[running]
                e = p[running] - d                 # outlived predictions: one more step
                peaks = _Peaks(s[running] + d, np.where(e < 0, 1, e) + late, 1 - c)
            if heap and peaks.max() <= cap_mc:
                while heap and (budget is None or len(admit) < budget):
                    i = heap[0] % n
                    b, e = int(s[i]) + c, int(p[i]) - c + late
                    ok = peaks.try_add(b, e, cap_mc)
                    if not ok and not running.size and not admit:
                        ok = peaks.try_add(b, e, M)
                    if not ok:
                        break
                    heapq.heappop(heap)
                    admit.append(i)
        elif kind == "alpha":
            if int((s[running] + done[running]).sum()) <= (1.0 - pol.alpha) * M:
                while heap and len(admit) < budget:
                    admit.append(heapq.heappop(heap))
        else:                                                   # vllm
            budget = cap - running.size

            if prefill_first:                                  # a prompt-only batch
                _fcfs(heap, admit, budget, int((s[running] + done[running]).sum()), s,
                      cap_vllm, running.size == 0)
            if not admit:
                nxt_hold = np.where(done[running] < o[running],
                                    s[running] + done[running] + 1, 0)
                mem = int(nxt_hold.sum())
                if mem > M:
                    order, held = running[::-1], nxt_hold[::-1]   # latest arrival first
                    k = 0
                    while mem > M:
                        mem -= int(held[k])
                        k += 1
                    evict(order[:k], nb - 1, t)
                    tok = running if running.size <= cap else running[:cap]
                elif not prefill_first:
                    _fcfs(heap, admit, budget, mem, s, cap_vllm, running.size == 0)
        if prefill_first and admit:
            tok = running[:0]
        if not admit and not tok.size:
            if nxt < n:
                t = max(t, float(a[nxt]))
                idle = True
                continue
            status, reason = "stalled", f"{len(heap)} waiting requests can never be admitted"
            break
        # ---- run the batch
        dt = done[tok]
        ctx = int(dt.sum())
        kv = int(s[tok].sum()) + ctx
        if admit:
            adm = np.array(admit, dtype=_I)
            P = int(s[adm].sum())
        else:
            adm, P = _EMPTY, 0
        if batch_time is None:
            dur = _paper_ms(adm.size + tok.size, ctx, P) / 1000.0
        else:
            dur = float(batch_time(P, int(tok.size), kv))
            if not (math.isfinite(dur) and dur > 0):
                raise ValueError(f"batch_time returned {dur!r}; it must be a positive number")
        end = t + dur
        dt += 1
        done[tok] = dt
        finmask = dt == o1[tok]
        fin = tok[finmask]
        L["tr"].append(tok)
        if fin.size:
            completion[fin] = end
            if peaks is not None and (p[fin] != o[fin]).any():
                peaks = None                                   # projection no longer exact
            if tok.size == running.size:
                running = running[~finmask]
            else:
                running = running[~np.isin(running, fin)]
        if adm.size:
            done[adm] = 1
            start[adm] = t
            first_token[adm] = end
            seq[adm] = np.arange(admitted_so_far, admitted_so_far + adm.size)
            admitted_so_far += adm.size
            running = np.sort(np.concatenate([running, adm]))
            L["pr"].append(adm)
        if peaks is not None:
            if tok.size and (tok.size != running.size - adm.size + fin.size
                             or (dt > p[tok]).any()):
                peaks = None                                   # some running did not advance
            elif tok.size or not prefill_first:                # a prompt-only batch: no shift
                peaks.shift()
        mem = int(s[running].sum() + done[running].sum())
        L["start"].append(t)
        L["end"].append(end)
        L["P"].append(P)
        L["ctx"].append(ctx)
        L["kv"].append(kv)
        L["mem"].append(mem)
        L["np"].append(adm.size)
        L["nt"].append(tok.size)
        completed += fin.size
        if progress:
            bar.update(fin.size)
        count += 1
        t = end
        # ---- overflow rules
        if mem > M and kind in ("mc-sf", "mc-benchmark"):      # under-prediction (ours)
            order = running[np.argsort(-seq[running])]         # newest started first
            freed = np.cumsum(s[order] + done[order])
            k = int(np.searchsorted(freed, mem - M, side="left")) + 1
            evict(order[:k], nb, t)
            peaks = None
        elif mem > M and kind == "alpha":
            while True:
                hit = running[rng.random(running.size) < pol.beta]
                if hit.size:
                    evict(hit, nb, t)
                if int((s[running] + done[running]).sum()) <= M:
                    break
                t += 1.0                                        # wait 1 s doing nothing
                count += 1
                if count >= limit:
                    break
    bar.close()
    log = BatchLog(np.array(L["start"], dtype=float), np.array(L["end"], dtype=float),
                   np.array(L["P"], dtype=_I), np.array(L["ctx"], dtype=_I),
                   np.array(L["kv"], dtype=_I), np.array(L["mem"], dtype=_I),
                   np.repeat(np.arange(len(L["np"]), dtype=_I), L["np"]), _ints(L["pr"]),
                   np.repeat(np.arange(len(L["nt"]), dtype=_I), L["nt"]), _ints(L["tr"]),
                   _ints(L["ea"]), _ints(L["er"]),
                   np.concatenate(L["et"]) if L["et"] else np.zeros(0))
    return {"log": log, "completion": completion, "first_token": first_token, "start": start,
            "evictions": evictions, "lost": lost, "status": status, "reason": reason}
