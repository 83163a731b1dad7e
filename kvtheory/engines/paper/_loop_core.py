"""The numba-compiled event loop behind :mod:`kvtheory.engines.paper.compiled` (private).

A port, operation for operation, of :func:`kvtheory.engines.paper.loop.run_loop` for the kinds
``"mc-sf"``, ``"mc-benchmark"`` and ``"vllm"`` with the paper's batch-time formula:

* the waiting queue is the hierarchical bitset of :mod:`kvtheory.engines._compiled_core` over
  the slots of the static waiting order (``(prediction, id)`` for MC-SF, ``id`` otherwise: the
  reference's heap keys never change);
* the running requests are an ``int64`` array kept sorted by id (the reference's order);
* MC-SF's projection (:class:`kvtheory.engines.paper.rules._Peaks`) lives in three growable
  arrays ``K, F, C`` with the same updates;
* the batch time is evaluated in the reference's order of operations, so every float matches.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kvtheory.engines._compiled_core import _bs_add, _bs_del, _bs_next, _levels

# status codes; the caller turns them into the reference's status and reason
OK, LIMIT, THRASH, STALLED = 0, 1, 2, 3
MC_SF, MC_BENCHMARK, VLLM, ALPHA = 0, 1, 2, 3


@njit(cache=True)
def _grow(a, need):
    """``a`` with room for ``need`` entries (grown by half: the batch log of ten million
    requests has tens of millions of entries)."""
    if need <= a.size:
        return a
    b = np.empty(max(need, a.size + a.size // 2 + 16), dtype=np.int64)
    b[:a.size] = a
    return b


@njit(cache=True)
def _growf(a, need):
    if need <= a.size:
        return a
    b = np.empty(max(need, a.size + a.size // 2 + 16), dtype=np.float64)
    b[:a.size] = a
    return b


@njit(cache=True)
def _paper_ms(steps, context_sum, prefill_tokens):
    return 0.0027 * context_sum + 0.52 * steps + 44.6 + 0.378 * prefill_tokens


@njit(cache=True)
def _peaks_build(base, horizon, kmin, K, F, C):
    """``_Peaks.__init__`` into ``K, F, C`` (grown if needed); returns them and the length."""
    m = base.size
    keep = np.empty(m, dtype=np.int64)
    nk = 0
    for j in range(m):
        if horizon[j] >= kmin:
            keep[nk] = j
            nk += 1
    keep = keep[:nk]
    hz = horizon[keep]
    srt = np.argsort(hz, kind="mergesort")
    K = _grow(K, nk + 1)
    F = _grow(F, nk + 1)
    C = _grow(C, nk + 1)
    L = 0
    for q in range(nk):                      # distinct horizons, with base sums and counts
        j = keep[srt[q]]
        e = horizon[j]
        if L == 0 or K[L - 1] != e:
            K[L] = e
            F[L] = 0
            C[L] = 0
            L += 1
        F[L - 1] += base[j]
        C[L - 1] += 1
    accb = 0
    accc = 0
    for q in range(L - 1, -1, -1):           # reverse cumulative sums
        accb += F[q]
        accc += C[q]
        F[q] = accb + K[q] * accc
        C[q] = accc
    return K, F, C, L


@njit(cache=True)
def _peaks_max(F, L):
    m = 0
    for q in range(L):
        if q == 0 or F[q] > m:
            m = F[q]
    return m


@njit(cache=True)
def _peaks_shift(K, F, C, L, kmin):
    drop = 0
    for q in range(L):
        K[q] -= 1
        if K[q] < kmin:
            drop = q + 1
    if drop:
        for q in range(drop, L):
            K[q - drop] = K[q]
            F[q - drop] = F[q]
            C[q - drop] = C[q]
    return L - drop


@njit(cache=True)
def _peaks_try_add(K, F, C, L, b, e, cap):
    """``_Peaks.try_add``; ``K, F, C`` must have room for one more entry.  Returns the new
    length, or -1 if the member does not fit."""
    hi = 0
    while hi < L and K[hi] <= e:
        hi += 1
    if hi:
        m = F[0] + K[0]
        for q in range(1, hi):
            if F[q] + K[q] > m:
                m = F[q] + K[q]
        if m + b > cap:
            return -1
    present = hi > 0 and K[hi - 1] == e
    lo = hi - 1 if present else hi
    f_e = F[lo] + (e - K[lo]) * C[lo] if lo < L else 0
    if f_e + b + e > cap:
        return -1
    for q in range(hi):
        F[q] += b + K[q]
        C[q] += 1
    if present:
        return L
    c_e = C[lo] if lo < L else 0
    for q in range(L, hi, -1):
        K[q] = K[q - 1]
        F[q] = F[q - 1]
        C[q] = C[q - 1]
    K[hi] = e
    F[hi] = f_e + b + e
    C[hi] = c_e + 1
    return L + 1


@njit(cache=True)
def paper_loop(s, o, a, p, slot_of, id_at, M, kind, cap, prefill_first, limit, max_lost,
               late, one_event, cap_mc, cap_vllm, steps, rng, cap_alpha, beta):
    """Run the event loop; see :func:`kvtheory.engines.paper.compiled.run_compiled_loop`.

    ``cap`` < 0: no batch cap.  ``steps``: log every prompt and token step (the
    :class:`~kvtheory.engines.paper.rules.BatchLog`'s ``*_req`` arrays) or only the batches.
    ``rng`` (a ``numpy.random.Generator``, whose state numba advances in place: the same draws
    as the reference), ``cap_alpha = (1 - alpha) M`` and ``beta``: the alpha/beta rules.
    """
    n = s.size
    off, size = _levels(n)
    bits = np.zeros(off[-1] + size[-1], dtype=np.int64)
    nw = 0
    done = np.zeros(n, dtype=np.int64)
    seq = np.zeros(n, dtype=np.int64)
    completion = np.full(n, np.nan)
    first_token = np.full(n, np.nan)
    start = np.full(n, np.nan)
    evictions = np.zeros(n, dtype=np.int64)
    lost = np.zeros(n, dtype=np.int64)
    run = np.empty(max(16, min(n, 1024)), dtype=np.int64)
    run2 = np.empty(run.size, dtype=np.int64)
    nr = 0
    adm = np.empty(run.size, dtype=np.int64)
    # the log: batches, steps, evictions
    cb = 1024
    b_start = np.empty(cb, dtype=np.float64)
    b_end = np.empty(cb, dtype=np.float64)
    b_P = np.empty(cb, dtype=np.int64)
    b_ctx = np.empty(cb, dtype=np.int64)
    b_kv = np.empty(cb, dtype=np.int64)
    b_mem = np.empty(cb, dtype=np.int64)
    b_np = np.empty(cb, dtype=np.int64)
    b_nt = np.empty(cb, dtype=np.int64)
    nb = 0
    pr = np.empty(n if steps else 0, dtype=np.int64)
    npr = 0
    tr = np.empty(0, dtype=np.int64)
    if steps:
        tot = 0
        for i in range(n):
            tot += o[i] + 1
        tr = np.empty(tot, dtype=np.int64)
    ntr = 0
    ea = np.empty(16, dtype=np.int64)
    er = np.empty(16, dtype=np.int64)
    et = np.empty(16, dtype=np.float64)
    ne = 0
    # MC-SF's projection
    pK = np.empty(64, dtype=np.int64)
    pF = np.empty(64, dtype=np.int64)
    pC = np.empty(64, dtype=np.int64)
    pL = 0
    pvalid = False
    mc = kind == MC_SF or kind == MC_BENCHMARK
    c = 1 if prefill_first else 0
    nxt = 0
    t = a[0]
    admitted_so_far = 0
    count = 0
    completed = 0
    lost_total = 0
    idle = True
    status = OK
    while completed < n:
        if not one_event:
            while nxt < n and a[nxt] <= t:
                _bs_add(bits, off, slot_of[nxt])
                nw += 1
                nxt += 1
        elif idle:
            if nxt < n and a[nxt] <= t:
                _bs_add(bits, off, slot_of[nxt])
                nw += 1
                nxt += 1
        else:
            while nxt < n and a[nxt] < t:
                _bs_add(bits, off, slot_of[nxt])
                nw += 1
                nxt += 1
        idle = False
        if count >= limit:
            status = LIMIT
            break
        if lost_total > max_lost:
            status = THRASH
            break
        na = 0
        ntok = nr if (cap < 0 or nr <= cap) else cap
        budget = -1 if cap < 0 else (cap if prefill_first else cap - ntok)
        if mc:
            if nw and not pvalid:
                base = np.empty(nr, dtype=np.int64)
                hor = np.empty(nr, dtype=np.int64)
                for q in range(nr):
                    i = run[q]
                    base[q] = s[i] + done[i]
                    e = p[i] - done[i]
                    hor[q] = (1 if e < 0 else e) + late
                pK, pF, pC, pL = _peaks_build(base, hor, 1 - c, pK, pF, pC)
                pvalid = True
            if nw and _peaks_max(pF, pL) <= cap_mc:
                while nw and (budget < 0 or na < budget):
                    slot = _bs_next(bits, off, size, 0)
                    i = id_at[slot]
                    b = s[i] + c
                    e = p[i] - c + late
                    if pL + 1 > pK.size:
                        pK = _grow(pK, pL + 1)
                        pF = _grow(pF, pL + 1)
                        pC = _grow(pC, pL + 1)
                    r = _peaks_try_add(pK, pF, pC, pL, b, e, cap_mc)
                    if r < 0 and nr == 0 and na == 0:
                        r = _peaks_try_add(pK, pF, pC, pL, b, e, M)
                    if r < 0:
                        break
                    pL = r
                    _bs_del(bits, off, slot)
                    nw -= 1
                    if na >= adm.size:
                        adm = _grow(adm, na + 1)
                    adm[na] = i
                    na += 1
        elif kind == ALPHA:
            mem = 0
            for q in range(nr):
                mem += s[run[q]] + done[run[q]]
            if mem <= cap_alpha:
                while nw and na < budget:
                    slot = _bs_next(bits, off, size, 0)
                    _bs_del(bits, off, slot)
                    nw -= 1
                    if na >= adm.size:
                        adm = _grow(adm, na + 1)
                    adm[na] = id_at[slot]
                    na += 1
        else:
            budget = cap - nr
            if prefill_first:                           # a prompt-only batch
                mem = 0
                for q in range(nr):
                    mem += s[run[q]] + done[run[q]]
                empty = nr == 0
                while nw and na < budget:
                    slot = _bs_next(bits, off, size, 0)
                    i = id_at[slot]
                    if mem + s[i] + 1 <= cap_vllm or (empty and na == 0):
                        _bs_del(bits, off, slot)
                        nw -= 1
                        if na >= adm.size:
                            adm = _grow(adm, na + 1)
                        adm[na] = i
                        na += 1
                        mem += s[i] + 1
                    else:
                        break
            if na == 0:
                mem = 0
                for q in range(nr):
                    i = run[q]
                    if done[i] < o[i]:
                        mem += s[i] + done[i] + 1
                if mem > M:
                    k = 0
                    while mem > M:                      # latest arrival first
                        i = run[nr - 1 - k]
                        if done[i] < o[i]:
                            mem -= s[i] + done[i] + 1
                        k += 1
                    ea = _grow(ea, ne + k)
                    er = _grow(er, ne + k)
                    et = _growf(et, ne + k)
                    for q in range(k):
                        i = run[nr - 1 - q]
                        lost[i] += done[i]
                        lost_total += done[i]
                        evictions[i] += 1
                        done[i] = 0
                        _bs_add(bits, off, slot_of[i])
                        nw += 1
                        ea[ne] = nb - 1
                        er[ne] = i
                        et[ne] = t
                        ne += 1
                    nr -= k
                    ntok = nr if nr <= cap else cap
                elif not prefill_first:
                    empty = nr == 0
                    while nw and na < budget:
                        slot = _bs_next(bits, off, size, 0)
                        i = id_at[slot]
                        if mem + s[i] + 1 <= cap_vllm or (empty and na == 0):
                            _bs_del(bits, off, slot)
                            nw -= 1
                            if na >= adm.size:
                                adm = _grow(adm, na + 1)
                            adm[na] = i
                            na += 1
                            mem += s[i] + 1
                        else:
                            break
        if prefill_first and na:
            ntok = 0
        if na == 0 and ntok == 0:
            if nxt < n:
                if a[nxt] > t:
                    t = a[nxt]
                idle = True
                continue
            status = STALLED
            break
        # ---- run the batch
        ctx = 0
        sk = 0
        for q in range(ntok):
            i = run[q]
            ctx += done[i]
            sk += s[i]
        kv = sk + ctx
        P = 0
        for q in range(na):
            P += s[adm[q]]
        dur = _paper_ms(na + ntok, ctx, P) / 1000.0
        end = t + dur
        nr_old = nr
        nfin = 0
        anyfin_mis = False
        outlived = False
        if steps:
            tr = _grow(tr, ntr + ntok)
        for q in range(ntok):
            i = run[q]
            done[i] += 1
            if steps:
                tr[ntr] = i
                ntr += 1
            if done[i] > p[i]:
                outlived = True
            if done[i] == o[i] + 1:
                completion[i] = end
                nfin += 1
                if p[i] != o[i]:
                    anyfin_mis = True
        if nfin:
            if pvalid and anyfin_mis:
                pvalid = False
            w = 0
            for q in range(nr):
                i = run[q]
                if q < ntok and done[i] == o[i] + 1:
                    continue
                run[w] = i
                w += 1
            nr = w
        if na:
            if nr + na > run.size:
                run = _grow(run, nr + na)
                run2 = _grow(run2, nr + na)
            srt = np.sort(adm[:na])
            x = 0
            y = 0
            for q in range(nr + na):                    # merge: both sorted by id
                if y >= na or (x < nr and run[x] < srt[y]):
                    run2[q] = run[x]
                    x += 1
                else:
                    run2[q] = srt[y]
                    y += 1
            run, run2 = run2, run
            nr += na
            for q in range(na):
                i = adm[q]
                done[i] = 1
                start[i] = t
                first_token[i] = end
                seq[i] = admitted_so_far + q
                if steps:
                    pr = _grow(pr, npr + 1)
                    pr[npr] = i
                    npr += 1
            admitted_so_far += na
        if pvalid:
            if ntok and (ntok != nr_old or outlived):
                pvalid = False
            elif ntok or not prefill_first:
                pL = _peaks_shift(pK, pF, pC, pL, 1 - c)
        mem = 0
        for q in range(nr):
            mem += s[run[q]] + done[run[q]]
        if nb >= b_start.size:
            b_start = _growf(b_start, nb + 1)
            b_end = _growf(b_end, nb + 1)
            b_P = _grow(b_P, nb + 1)
            b_ctx = _grow(b_ctx, nb + 1)
            b_kv = _grow(b_kv, nb + 1)
            b_mem = _grow(b_mem, nb + 1)
            b_np = _grow(b_np, nb + 1)
            b_nt = _grow(b_nt, nb + 1)
        b_start[nb] = t
        b_end[nb] = end
        b_P[nb] = P
        b_ctx[nb] = ctx
        b_kv[nb] = kv
        b_mem[nb] = mem
        b_np[nb] = na
        b_nt[nb] = ntok
        nb += 1
        completed += nfin
        count += 1
        t = end
        # ---- overflow (under-predictions): evict newest started first
        if mem > M and mc:
            sq = np.empty(nr, dtype=np.int64)
            for q in range(nr):
                sq[q] = -seq[run[q]]
            order = np.argsort(sq)
            freed = 0
            k = 0
            while freed < mem - M:
                i = run[order[k]]
                freed += s[i] + done[i]
                k += 1
            ea = _grow(ea, ne + k)
            er = _grow(er, ne + k)
            et = _growf(et, ne + k)
            gone = np.zeros(nr, dtype=np.bool_)
            for q in range(k):
                gone[order[q]] = True
                i = run[order[q]]
                lost[i] += done[i]
                lost_total += done[i]
                evictions[i] += 1
                done[i] = 0
                _bs_add(bits, off, slot_of[i])
                nw += 1
                ea[ne] = nb - 1
                er[ne] = i
                et[ne] = t
                ne += 1
            w = 0
            for q in range(nr):
                if not gone[q]:
                    run[w] = run[q]
                    w += 1
            nr = w
            pvalid = False
        elif mem > M and kind == ALPHA:                         # random resets, 1-s waits
            while True:
                u = rng.random(nr)
                w = 0
                for q in range(nr):
                    i = run[q]
                    if u[q] < beta:
                        ea = _grow(ea, ne + 1)
                        er = _grow(er, ne + 1)
                        et = _growf(et, ne + 1)
                        lost[i] += done[i]
                        lost_total += done[i]
                        evictions[i] += 1
                        done[i] = 0
                        _bs_add(bits, off, slot_of[i])
                        nw += 1
                        ea[ne] = nb - 1
                        er[ne] = i
                        et[ne] = t
                        ne += 1
                    else:
                        run[w] = i
                        w += 1
                nr = w
                m2 = 0
                for q in range(nr):
                    m2 += s[run[q]] + done[run[q]]
                if m2 <= M:
                    break
                t += 1.0
                count += 1
                if count >= limit:
                    break
    return (status, completed, lost_total, nw, completion, first_token, start, evictions, lost,
            b_start[:nb], b_end[:nb], b_P[:nb], b_ctx[:nb], b_kv[:nb], b_mem[:nb], b_np[:nb],
            b_nt[:nb], pr[:npr], tr[:ntr], ea[:ne], er[:ne], et[:ne])
