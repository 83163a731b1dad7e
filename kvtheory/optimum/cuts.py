"""Valid inequalities for the time-indexed program of :mod:`kvtheory.optimum.exact` (private).

Variables are ``x[v]`` = number of requests of group ``var_g[v]`` started at ``var_k[v]``
(identical requests are merged into groups).  In round ``t`` a request of group ``g`` started
at ``k`` is running iff ``1 <= t - k <= o_g`` and then holds ``u = s_g + t - k`` memory.  The
proofs of validity are in the docstring of :mod:`kvtheory.optimum.exact` (families A and B).
"""

from __future__ import annotations

import numpy as np


def usage_mass(x, var_g, var_k, gs, go, ng, H, M):
    """``F[g, t-1, v]`` = LP mass of group ``g`` running in round ``t`` with usage ``>= v``."""
    X = np.zeros((ng, H + 2))
    np.add.at(X, (var_g, var_k + 1), x)
    X = np.cumsum(X, axis=1)                        # X[g, k+1] = sum_{k' <= k} x[g, k']
    ts = np.arange(1, H + 1)[None, :]
    G = np.arange(ng)[:, None]

    def cum(k):
        return X[G, np.clip(k, -1, H) + 1]

    F = np.zeros((ng, H, M + 2))
    lo = cum(ts - go[:, None] - 1)
    for v in range(1, M + 2):
        hi = cum(ts - np.maximum(1, v - gs[:, None]))   # age >= v - s, age >= 1
        F[:, :, v] = np.where((v <= gs + go)[:, None], hi - lo, 0.0)
    return F


def separate(x, var_g, var_k, gs, go, gcount, H, M, tol=1e-6):
    """Most violated cut of each family per round: list of ``(kind, t, threshold, group)``."""
    ng = gs.size
    F = usage_mass(x, var_g, var_k, gs, go, ng, H, M)
    tot = F.sum(axis=0)                             # (H, M+2)
    cuts = []
    v = np.arange(1, M + 1)
    viol_a = tot[:, 1:M + 1] - (M // v)[None, :]
    best_v = np.argmax(viol_a, axis=1)
    for t0 in np.nonzero(viol_a[np.arange(H), best_v] > tol)[0]:
        cuts.append(("A", int(t0) + 1, int(best_v[t0]) + 1, -1))
    single = np.nonzero(gcount == 1)[0]
    if single.size:
        th = np.arange(1, (M + 1) // 2 + 1)
        Fi = F[single][:, :, th]                    # (n1, H, nθ)
        Fo = tot[None, :, M + 1 - th] - F[single][:, :, M + 1 - th]
        lhs = Fi + Fo - 1.0
        flat = lhs.transpose(1, 0, 2).reshape(H, -1)
        arg = np.argmax(flat, axis=1)
        for t0 in np.nonzero(flat[np.arange(H), arg] > tol)[0]:
            gi, ti = divmod(int(arg[t0]), th.size)
            cuts.append(("B", int(t0) + 1, int(th[ti]), int(single[gi])))
    return cuts


def cut_rows(cuts, var_g, var_k, gs, go, M):
    """Sparse (row, col) index arrays and right-hand sides of ``cuts`` (all coefficients 1)."""
    rows, cols, rhs = [], [], []
    for r, (kind, t, th, g) in enumerate(cuts):
        age = t - var_k
        u = gs[var_g] + age
        run = (age >= 1) & (age <= go[var_g])
        if kind == "A":
            mask = run & (u >= th)
            rhs.append(M // th)
        else:
            mask = run & np.where(var_g == g, u >= th, u >= M + 1 - th)
            rhs.append(1)
        c = np.nonzero(mask)[0]
        rows.append(np.full(c.size, r))
        cols.append(c)
    if not cuts:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.array(rhs, dtype=float)
