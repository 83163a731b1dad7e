"""The numba-compiled round loop behind :mod:`kvtheory.engines.compiled` (private).

Data structures (all flat ``int64`` arrays, so the loop compiles with ``@njit(cache=True)``):

* the waiting queue is a hierarchical bitset over the *slots* of a static order (a request's
  slot is its position in the rule's waiting order, which never changes for the compiled
  rules): insert, delete and "next member at or after" cost ``O(log_32 n)``;
* the running requests of the "latest-arrival" victim order sit in a second bitset over
  arrival ranks (walked downwards with "previous member");
* the running requests of the "newest" victim order sit in an append-only list in
  ``(start, id)`` order with stale entries skipped and compacted;
* completions sit in per-round buckets (doubly linked lists over a ring of ``max(o) + 2``
  rounds) so an eviction unlinks its request in ``O(1)``;
* the predicted memory of the running requests in rounds ``t + 1, ...`` is the ring of
  :class:`kvtheory.engines.queues.PredictedProfile`, ported operation for operation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# status codes of the loop (anything but OK makes the caller rerun the reference engine,
# which raises the exact error)
OK, MAX_ROUNDS, OVERFLOW, STALL, LIVELOCK = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------- bitset
@njit(cache=True)
def _ctz(m):
    c = 0
    if (m & 0xFFFF) == 0:
        c += 16
        m >>= 16
    if (m & 0xFF) == 0:
        c += 8
        m >>= 8
    if (m & 0xF) == 0:
        c += 4
        m >>= 4
    if (m & 0x3) == 0:
        c += 2
        m >>= 2
    if (m & 0x1) == 0:
        c += 1
    return c


@njit(cache=True)
def _hib(m):
    c = 0
    if m >= 65536:
        c += 16
        m >>= 16
    if m >= 256:
        c += 8
        m >>= 8
    if m >= 16:
        c += 4
        m >>= 4
    if m >= 4:
        c += 2
        m >>= 2
    if m >= 2:
        c += 1
    return c


@njit(cache=True)
def _bs_add(bits, off, x):
    for lv in range(off.size):
        w = x >> 5
        old = bits[off[lv] + w]
        bits[off[lv] + w] = old | (1 << (x & 31))
        if old != 0:
            return
        x = w


@njit(cache=True)
def _bs_del(bits, off, x):
    for lv in range(off.size):
        w = x >> 5
        v = bits[off[lv] + w] & ~(1 << (x & 31))
        bits[off[lv] + w] = v
        if v != 0:
            return
        x = w


@njit(cache=True)
def _bs_next(bits, off, size, x):
    """Smallest member ``>= x``, or -1."""
    lv = 0
    while lv < off.size:
        w = x >> 5
        if w >= size[lv]:
            return -1
        m = bits[off[lv] + w] >> (x & 31)
        if m != 0:
            x += _ctz(m)
            while lv > 0:
                lv -= 1
                x = (x << 5) + _ctz(bits[off[lv] + x])
            return x
        x = w + 1
        lv += 1
    return -1


@njit(cache=True)
def _bs_prev(bits, off, x):
    """Largest member ``<= x``, or -1."""
    lv = 0
    while lv < off.size:
        if x < 0:
            return -1
        w = x >> 5
        m = bits[off[lv] + w] & ((2 << (x & 31)) - 1)
        if m != 0:
            x = (w << 5) + _hib(m)
            while lv > 0:
                lv -= 1
                x = (x << 5) + _hib(bits[off[lv] + x])
            return x
        x = w - 1
        lv += 1
    return -1


# --------------------------------------------------------------------------- profile
# pst = [ring, late_a, late_c, z]: PredictedProfile's scalars
@njit(cache=True)
def _pf_add(P, A, C, pst, p, s, o):
    L = P.size
    for k in range(1, o + 1):
        P[(p + k) % L] += s + k
    j = (p + o) % L
    A[j] += s - p
    C[j] += 1
    pst[0] += 1


@njit(cache=True)
def _pf_remove(P, A, C, pst, p, s, o):
    L = P.size
    e = p + o
    if e > pst[3]:
        k0 = max(pst[3] - p, 0)
        for k in range(k0 + 1, o + 1):
            P[(p + k) % L] -= s + k
        j = e % L
        A[j] -= s - p
        C[j] -= 1
        pst[0] -= 1
    else:
        pst[1] -= s - p
        pst[2] -= 1


@njit(cache=True)
def _pf_advance(P, A, C, pst, t):
    L = P.size
    if pst[0]:
        for tau in range(pst[3] + 1, min(t + 1, pst[3] + 1 + L)):
            j = tau % L
            P[j] = 0
            c = C[j]
            if c:
                pst[1] += A[j]
                pst[2] += c
                pst[0] -= c
                A[j] = 0
                C[j] = 0
    pst[3] = t


@njit(cache=True)
def _fits(P, pst, t, s, o, capacity):
    """MC-SF's check: predicted memory + ``s + k`` in round ``t + k`` <= capacity, k = 1..o."""
    L = P.size
    first = P[(t + 1) % L] + pst[1] + (t + 1) * pst[2] + 1
    if first + s > capacity:
        return False
    for k in range(2, o + 1):
        if P[(t + k) % L] + k + s > capacity:
            return False
    return True


@njit(cache=True)
def _grow(a, need):
    if need <= a.size:
        return a
    b = np.empty(max(need, 2 * a.size), dtype=np.int64)
    b[:a.size] = a
    return b


# --------------------------------------------------------------------------- the loop
@njit(cache=True)
def round_loop(sorted_arrival, order, slot_of, id_at, rank, prompt, output, pred, M,
               admission, victim, capacity, limit, max_rounds, stall_limit, livelock_limit):
    """Run one compiled rule; see :func:`kvtheory.engines.compiled.run_compiled`.

    ``order``: ids in ``(arrival, id)`` order (``sorted_arrival`` their arrivals); ``slot_of`` /
    ``id_at``: the rule's static waiting order; ``rank``: position in ``(arrival, id)`` order.
    ``admission`` 0: future-feasible walk under ``capacity``, stop at the first failure, after
    evicting (MC-SF, MC-Benchmark, SVF); 1: next-round prefix under ``limit``, nothing on an
    overflow round (vLLM-style).  ``victim`` 0: newest start first (ties: larger id); 1: latest
    arrival first (ties: larger id).

    Returns ``(status, t, start, ev_id, ev_start, ev_stop, n_aborted)``: the final start of
    every request (completion = start + output) and the aborted attempts in the order they
    were aborted.
    """
    n = prompt.size
    maxo = 1
    maxp = 1
    for i in range(n):
        maxo = max(maxo, output[i])
        maxp = max(maxp, pred[i])
    # waiting queue and (for victim 1) running-by-rank bitsets
    woff, wsize = _levels(n)
    wbits = np.zeros(wsize.sum(), dtype=np.int64)
    rbits = np.zeros(wsize.sum() if victim == 1 else 1, dtype=np.int64)
    # running list in (start, id) order for victim 0
    rl_id = np.empty(1024, dtype=np.int64)
    rl_st = np.empty(1024, dtype=np.int64)
    rl_n = 0
    rl_lo = 0
    # completion buckets
    R = maxo + 2
    head = np.full(R, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    prv = np.full(n, -1, dtype=np.int64)
    # predicted profile
    L = 2 * maxp + 4
    P = np.zeros(L, dtype=np.int64)
    A = np.zeros(L, dtype=np.int64)
    C = np.zeros(L, dtype=np.int64)
    pst = np.zeros(4, dtype=np.int64)
    pst[3] = -1
    start_of = np.full(n, -1, dtype=np.int64)
    running = np.zeros(n, dtype=np.uint8)
    ev_id = np.empty(64, dtype=np.int64)
    ev_start = np.empty(64, dtype=np.int64)
    ev_stop = np.empty(64, dtype=np.int64)
    n_ab = 0
    chosen = np.empty(64, dtype=np.int64)
    victims = np.empty(64, dtype=np.int64)
    sum_sp = 0
    nrun = 0
    nwait = 0
    done = 0
    next_arr = 0
    stalled = 0
    busy = 0
    t = sorted_arrival[0]
    while done < n:
        if t > max_rounds:
            return MAX_ROUNDS, t, start_of, ev_id, ev_start, ev_stop, n_ab
        # 1. completions (every request in this bucket completes now)
        b = t % R
        i = head[b]
        if i != -1:
            while i != -1:
                j = nxt[i]
                p = start_of[i]
                nrun -= 1
                running[i] = 0
                sum_sp -= prompt[i] - p
                _pf_remove(P, A, C, pst, p, prompt[i], pred[i])
                if victim == 1:
                    _bs_del(rbits, woff, rank[i])
                nxt[i] = -1
                prv[i] = -1
                done += 1
                i = j
            head[b] = -1
            busy = 0
        # 2. arrivals
        while next_arr < n and sorted_arrival[next_arr] <= t:
            _bs_add(wbits, woff, slot_of[order[next_arr]])
            nwait += 1
            next_arr += 1
        if done == n:
            break
        if nwait == 0 and nrun == 0:
            t = sorted_arrival[next_arr]
            continue
        # 3. decide
        _pf_advance(P, A, C, pst, t)
        usage = sum_sp + (t + 1) * nrun
        nv = 0
        if usage > M:                       # evict: victims until freed >= overflow
            need = usage - M
            freed = 0
            if victim == 0:
                k = rl_n - 1
                while freed < need and k >= rl_lo:
                    i = rl_id[k]
                    if running[i] and start_of[i] == rl_st[k]:
                        victims = _grow(victims, nv + 1)
                        victims[nv] = i
                        nv += 1
                        freed += prompt[i] + t + 1 - rl_st[k]
                    k -= 1
            else:
                r = _bs_prev(rbits, woff, n - 1)
                while freed < need and r >= 0:
                    i = order[r]
                    victims = _grow(victims, nv + 1)
                    victims[nv] = i
                    nv += 1
                    freed += prompt[i] + t + 1 - start_of[i]
                    r = _bs_prev(rbits, woff, r - 1)
            for v in range(nv):
                i = victims[v]
                p = start_of[i]
                n_ab += 1
                ev_id = _grow(ev_id, n_ab)
                ev_start = _grow(ev_start, n_ab)
                ev_stop = _grow(ev_stop, n_ab)
                ev_id[n_ab - 1] = i
                ev_start[n_ab - 1] = p
                ev_stop[n_ab - 1] = t
                nrun -= 1
                running[i] = 0
                sum_sp -= prompt[i] - p
                _pf_remove(P, A, C, pst, p, prompt[i], pred[i])
                if victim == 1:
                    _bs_del(rbits, woff, rank[i])
                # unlink from its completion bucket
                if prv[i] >= 0:
                    nxt[prv[i]] = nxt[i]
                else:
                    head[(p + output[i]) % R] = nxt[i]
                if nxt[i] >= 0:
                    prv[nxt[i]] = prv[i]
                nxt[i] = -1
                prv[i] = -1
                start_of[i] = -1
        nc = 0
        prefill = 0
        if admission == 0:                  # future-feasible walk, stop at the first failure
            x = _bs_next(wbits, woff, wsize, 0)
            while x >= 0:
                i = id_at[x]
                if not _fits(P, pst, t, prompt[i], pred[i], capacity):
                    break
                _pf_add(P, A, C, pst, t, prompt[i], pred[i])
                chosen = _grow(chosen, nc + 1)
                chosen[nc] = i
                nc += 1
                x = _bs_next(wbits, woff, wsize, x + 1)
        elif nv == 0:                       # next-round FCFS prefix under the limit
            used = usage
            x = _bs_next(wbits, woff, wsize, 0)
            while x >= 0:
                i = id_at[x]
                used += prompt[i] + 1
                if used > limit:
                    if nc == 0 and nrun == 0:
                        chosen[0] = i
                        nc = 1
                        _pf_add(P, A, C, pst, t, prompt[i], pred[i])
                    break
                _pf_add(P, A, C, pst, t, prompt[i], pred[i])
                chosen = _grow(chosen, nc + 1)
                chosen[nc] = i
                nc += 1
                x = _bs_next(wbits, woff, wsize, x + 1)
        for v in range(nc):
            i = chosen[v]
            _bs_del(wbits, woff, slot_of[i])
            prefill += prompt[i]
        nwait -= nc
        for v in range(nv):                 # evicted requests wait again from t + 1
            _bs_add(wbits, woff, slot_of[victims[v]])
        nwait += nv
        # 4. the next round must fit
        if sum_sp + (t + 1) * nrun + prefill + nc > M:
            return OVERFLOW, t, start_of, ev_id, ev_start, ev_stop, n_ab
        if nc:
            srt = np.sort(chosen[:nc])
            if rl_n + nc > rl_id.size:      # compact the running list (drop stale entries)
                m = 0
                for k in range(rl_lo, rl_n):
                    i = rl_id[k]
                    if running[i] and start_of[i] == rl_st[k]:
                        rl_id[m] = i
                        rl_st[m] = rl_st[k]
                        m += 1
                rl_lo = 0
                rl_n = m
                if rl_n + nc > rl_id.size // 2:
                    rl_id = _grow(rl_id, 2 * (rl_n + nc))
                    rl_st = _grow(rl_st, 2 * (rl_n + nc))
            for v in range(nc):
                i = srt[v]
                start_of[i] = t
                running[i] = 1
                sum_sp += prompt[i] - t
                nrun += 1
                if victim == 0:
                    rl_id[rl_n] = i
                    rl_st[rl_n] = t
                    rl_n += 1
                else:
                    _bs_add(rbits, woff, rank[i])
                b = (t + output[i]) % R
                nxt[i] = head[b]
                prv[i] = -1
                if head[b] >= 0:
                    prv[head[b]] = i
                head[b] = i
        while rl_n > rl_lo and not (running[rl_id[rl_n - 1]]
                                    and start_of[rl_id[rl_n - 1]] == rl_st[rl_n - 1]):
            rl_n -= 1                        # stale tail entries
        while rl_lo < rl_n and not (running[rl_id[rl_lo]]
                                    and start_of[rl_id[rl_lo]] == rl_st[rl_lo]):
            rl_lo += 1                       # stale head entries (completed oldest)
        if nrun == 0 and next_arr >= n:
            stalled += 1
            if stalled > stall_limit:
                return STALL, t, start_of, ev_id, ev_start, ev_stop, n_ab
        else:
            stalled = 0
        if nrun:
            busy += 1
            if busy > livelock_limit:
                return LIVELOCK, t, start_of, ev_id, ev_start, ev_stop, n_ab
        t += 1
    return OK, t, start_of, ev_id, ev_start, ev_stop, n_ab


@njit(cache=True)
def _levels(n):
    nl = 0
    m = max(n, 1)
    while True:
        m = (m + 31) // 32
        nl += 1
        if m == 1:
            break
    size = np.empty(nl, dtype=np.int64)
    off = np.empty(nl, dtype=np.int64)
    m = max(n, 1)
    acc = 0
    for lv in range(nl):
        m = (m + 31) // 32
        size[lv] = m
        off[lv] = acc
        acc += m
    return off, size
