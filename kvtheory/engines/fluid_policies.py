"""Policies of the stage model (:mod:`kvtheory.engines.fluid`): WAIT, Nested WAIT, FCFS, MC-SF.

Every policy is a plain function ``policy(state: StageState) -> StageDecision``;
:data:`STAGE_POLICIES` maps names to them.  They do not fit the round engine
(:func:`kvtheory.simulate`): WAIT and Nested WAIT let residents skip rounds, which that engine's
model forbids, so they run through :func:`kvtheory.engines.fluid.simulate_stages` instead.

* ``wait`` (arXiv 2504.11320, Algorithm "WAIT"; *the paper states* the rule): type ``j`` is
  eligible when at least ``n_j`` of its prompts wait at stage 0; the batch takes
  ``min(n_j, waiting)`` prompts of every eligible type at every stage ``0 .. l'_j``; otherwise
  the server idles.  Needs revealed types.
* ``nested-wait`` (same paper, Algorithm "Nested WAIT" and its full event-driven version with
  memory repair, read in the authors' LaTeX source; *the paper states* the rule, the default
  thresholds are *ours*): output lengths unknown, common prefill ``l``; segments between the
  sorted possible decode lengths; the largest prefix of segments whose entry queues hold at
  least their thresholds is served, ``min(n_k, waiting)`` per stage; memory repair as below.
* ``fcfs`` (*our reconstruction* of the paper's FCFS example): every resident advances every
  round; then waiting prompts are admitted in arrival order while the round's memory fits
  (no look-ahead); when the residents alone would not fit, the latest admitted are evicted
  first (LIFO) and restart.
* ``mc-sf`` (arXiv 2502.07115's MC-SF, here in the stage model, *ours*): every resident
  advances every round; waiting prompts are admitted shortest decode first while the future
  peak of residents plus admitted fits ``C``; stop at the first that does not.  Needs types.

When a batch would exceed ``C``: Nested WAIT applies the authors' memory repair
(:func:`repair_boundary`: residents waiting at a segment boundary are evicted, most recently
admitted first); FCFS (and Nested WAIT once no boundary prompt is left) uses :func:`fit_lifo`,
which evicts the most recently admitted residents until the round fits.
"""

from __future__ import annotations

import heapq
import math
from functools import partial
from typing import Sequence

from kvtheory.engines.fluid import StageDecision, StageState, wait_thresholds

__all__ = ["wait", "nested_wait", "fcfs_stage", "mc_sf_stage", "fit_lifo", "repair_boundary",
           "nested_memory", "nested_thresholds", "threshold_fit", "policy_comparison",
           "STAGE_POLICIES", "make_stage_policy"]


def _need_types(state: StageState, who: str) -> None:
    if state.output is None:
        raise ValueError(f"{who} needs the prompts' types: set reveal_types=True in the "
                         f"StageWorkload (found reveal_types=False)")


def _memory_after(state: StageState, batch: Sequence[int], evicted: set) -> int:
    """Memory of the round if ``batch`` is processed after evicting ``evicted``."""
    used = state.used - sum(state.held[i] for i in evicted)
    for i in batch:
        used += state.prompt[i] + state.next_stage(i) - state.held[i]
    return used


def fit_lifo(state: StageState, batch: Sequence[int]) -> StageDecision:
    """``batch``, after evicting the latest-admitted residents until the round fits ``C``.

    An evicted prompt leaves the batch (it restarts from stage 0 in a later round); prompts of
    the batch at stage 0 are dropped, latest arrival first, once no resident is left to evict.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 1.0),), memory=3)
    >>> st = StageState(5, 3, 1, {(0, 1): [0], (0, 0): [1, 2]}, [1, 1, 1], [0, 4, 5],
    ...                 [1, 0, 0], [4, -1, -1], None, None, w)
    >>> fit_lifo(st, [0, 1, 2])         # 0 decodes (2) + 1 prefill (1) = 3; drop 2
    StageDecision(batch=(0, 1), evict=())
    """
    batch = list(batch)
    evicted: set = set()
    residents = sorted((i for q in state.queues.values() for i in q if state.admitted[i] >= 0),
                       key=lambda i: (state.admitted[i], i), reverse=True)
    k = 0
    while _memory_after(state, batch, evicted) > state.memory:
        fresh = [i for i in batch if state.admitted[i] < 0]
        if fresh:
            drop = max(fresh, key=lambda i: (state.arrival[i], i))
            batch.remove(drop)
            continue
        if k >= len(residents):
            break
        v = residents[k]
        k += 1
        evicted.add(v)
        if v in batch:
            batch.remove(v)
    return StageDecision(batch, sorted(evicted))


def wait(state: StageState, *, thresholds: Sequence[int] | None = None) -> StageDecision:
    """WAIT: serve type ``j`` only when ``n_j`` of its prompts wait for prefill.

    With thresholds meeting ``M^pi <= C`` no stage of type ``j`` ever holds more than ``n_j``
    prompts, so memory stays at most ``M^pi`` and WAIT never evicts (claim
    ``clm_wait_no_overflow``).  Default thresholds: :func:`kvtheory.engines.fluid.wait_thresholds`.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 2.0),), memory=6)
    >>> st = StageState(0, 6, 0, {(0, 0): [0, 1, 2]}, [1] * 3, [0] * 3, [0] * 3, [-1] * 3,
    ...                 [1] * 3, [0] * 3, w)
    >>> wait(st).batch                   # threshold ceil(2.0) = 2
    (0, 1)
    """
    _need_types(state, "wait")
    w = state.workload
    n = tuple(thresholds) if thresholds is not None else wait_thresholds(w)
    batch = []
    for j, (_, lo, _) in enumerate(w.types):
        if len(state.queues.get((j, 0), ())) < n[j]:
            continue
        for s in range(lo + 1):
            batch.extend(state.queues.get((j, s), ())[:n[j]])
    return fit_lifo(state, batch)


def nested_thresholds(workload, margin: int = 1) -> tuple[int, ...]:
    """Thresholds meeting Nested WAIT's drift conditions with ``d_1 = 0`` (ours).

    arXiv 2504.11320 (eq. "nested_wait_thresholds"): ``Delta T < n_1 / sum lambda`` and
    ``p_k < n_k / n_{k-1} < 1``.  We take ``n_1 = floor(d_0 Lambda) + margin`` and
    ``n_k = floor(p_k n_{k-1}) + 1`` (kept below ``n_{k-1}`` when possible).

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> nested_thresholds(StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=40))
    (5, 2)
    """
    lengths = sorted({o for _, o, _ in workload.types})
    rate = {o: sum(r for _, oo, r in workload.types if oo == o) for o in lengths}
    n = [math.floor(workload.d0 * workload.total_rate) + int(margin)]
    for k in range(1, len(lengths)):
        p = sum(rate[o] for o in lengths[k:]) / sum(rate[o] for o in lengths[k - 1:])
        n.append(max(1, min(math.floor(p * n[-1]) + 1, max(n[-1] - 1, 1))))
    return tuple(n)


def nested_memory(workload, thresholds: Sequence[int]) -> float:
    """``M^pi`` of Nested WAIT: the memory of full segments, ``sum_k n_k sum_{s in S_k} (l + s)``.

    Segment 1 holds stages ``0 .. L_1``, segment ``k`` stages ``L_{k-1} + 1 .. L_k``, at most
    ``n_k`` prompts each, and a prompt at stage ``s`` holds ``l + s``.  Nested WAIT's
    thresholds fit the memory when ``M^pi <= C`` (resident prompts waiting between segments
    come on top: the authors' memory repair evicts them).

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=15, reveal_types=False)
    >>> nested_memory(w, (5, 2))            # 5 (1 + 2) + 2 * 3
    21.0
    """
    l = workload.types[0][0]
    lengths = sorted({o for _, o, _ in workload.types})
    if len(thresholds) != len(lengths):
        raise ValueError(f"need one threshold per decode length ({len(lengths)}), got "
                         f"{len(thresholds)}")
    total, lo = 0, 0
    for n, hi in zip(thresholds, lengths):
        total += n * sum(l + s for s in range(lo, hi + 1))
        lo = hi + 1
    return float(total)


def repair_boundary(state: StageState, batch: Sequence[int], lengths: Sequence[int]
                    ) -> StageDecision:
    """The authors' memory repair of Nested WAIT, then :func:`fit_lifo` if that is not enough.

    While the round would exceed ``C``, evict the most recently admitted resident that waits,
    unselected, at a segment boundary (it has processed ``L_{k-1}`` tokens for some
    ``k >= 2``); it returns to the first queue and loses its cache and progress
    (arXiv 2504.11320, algorithm "Full Event-Driven Implementation of Nested WAIT", in the
    authors' LaTeX source; the rule is theirs, this code ours).  Their text stops there; when no
    boundary prompt is left and the round still does not fit, :func:`fit_lifo` (ours) ends it.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 1.0), (1, 2, 1.0)), memory=5, reveal_types=False)
    >>> st = StageState(3, 5, 4, {(0, 0): [2], (0, 2): [0, 1]}, [1] * 3, [0, 0, 1],
    ...                 [2, 2, 0], [0, 1, -1], None, None, w)
    >>> repair_boundary(st, [2, 0], [1, 2])   # 1 waits at the boundary, admitted last: evicted
    StageDecision(batch=(2, 0), evict=(1,))
    """
    batch = list(batch)
    chosen = set(batch)
    stages = {L + 1 for L in lengths[:-1]}
    waiting = sorted((i for (_, s), ids in state.queues.items() if s in stages for i in ids
                      if i not in chosen and state.admitted[i] >= 0),
                     key=lambda i: (state.admitted[i], i), reverse=True)
    evicted: list = []
    for v in waiting:
        if _memory_after(state, batch, set(evicted)) <= state.memory:
            break
        evicted.append(v)
    if _memory_after(state, batch, set(evicted)) <= state.memory:
        return StageDecision(batch, sorted(evicted))
    rest = fit_lifo(_without(state, evicted), batch)
    return StageDecision(rest.batch, sorted(set(evicted) | set(rest.evict)))


def _without(state: StageState, evicted: Sequence[int]) -> StageState:
    """``state`` as if ``evicted`` had left (their memory freed, no longer resident)."""
    if not evicted:
        return state
    gone = set(evicted)
    queues = {k: [i for i in ids if i not in gone] for k, ids in state.queues.items()}
    held = list(state.held)
    admitted = list(state.admitted)
    used = state.used
    for i in gone:
        used -= held[i]
        held[i], admitted[i] = 0, -1
    return StageState(state.t, state.memory, used, queues, state.prompt, state.arrival, held,
                      admitted, state.output, state.kind, state.workload)


def nested_wait(state: StageState, *, thresholds: Sequence[int] | None = None) -> StageDecision:
    """Nested WAIT: serve the longest prefix of segments whose entry queues meet thresholds.

    Segment 1 covers stages ``0 .. L_1`` (entry: stage 0); segment ``k`` covers stages
    ``L_{k-1} + 1 .. L_k`` (entry: prompts that survived ``L_{k-1}`` tokens), where
    ``L_1 < ... < L_m`` are the possible decode lengths.  It reads only each prompt's stage.
    When the round would exceed ``C``, the authors' memory repair (:func:`repair_boundary`)
    evicts boundary prompts, most recently admitted first.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 1.0), (1, 2, 1.0)), memory=20, reveal_types=False)
    >>> st = StageState(0, 20, 0, {(0, 0): [0, 1, 2, 3]}, [1] * 4, [0] * 4, [0] * 4,
    ...                 [-1] * 4, None, None, w)
    >>> nested_wait(st).batch            # thresholds (3, 2): segment 1 only, 3 prefills
    (0, 1, 2)
    """
    w = state.workload
    if len({l for l, _, _ in w.types}) != 1:
        raise ValueError(f"nested-wait needs one common prefill length, found "
                         f"{sorted({l for l, _, _ in w.types})}")
    lengths = sorted({o for _, o, _ in w.types})
    n = tuple(thresholds) if thresholds is not None else nested_thresholds(w)
    q = {}
    for (_, s), ids in state.queues.items():
        q.setdefault(s, []).extend(ids)
    if state.output is not None:                 # pooled view even if types are revealed
        for s in q:
            q[s].sort(key=lambda i: (state.admitted[i], i) if s else (state.arrival[i], i))
    batch = []
    lo = 0
    for k, hi in enumerate(lengths):
        entry = q.get(lo, [])
        if len(entry) < n[k]:
            break
        for s in range(lo, hi + 1):
            batch.extend(q.get(s, [])[:n[k]])
        lo = hi + 1
    return repair_boundary(state, batch, lengths)


def fcfs_stage(state: StageState) -> StageDecision:
    """FCFS (our reconstruction): all residents advance; admit in arrival order while it fits.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)
    >>> st = StageState(0, 12, 0, {(0, 0): list(range(13))}, [1] * 13, [0] * 13, [0] * 13,
    ...                 [-1] * 13, None, None, w)
    >>> len(fcfs_stage(st).batch)        # 12 prefills fit this round (no look-ahead)
    12
    """
    residents = [i for (_, s), ids in state.queues.items() if s > 0 for i in ids]
    dec = fit_lifo(state, residents)
    batch, evicted = list(dec.batch), set(dec.evict)
    used = _memory_after(state, batch, evicted)
    key = lambda i: (state.arrival[i], i)           # noqa: E731  (queues are in this order)
    waiting = heapq.merge(*(ids for (_, s), ids in state.queues.items() if s == 0), key=key)
    for i in waiting:
        if used + state.prompt[i] > state.memory:
            break
        used += state.prompt[i]
        batch.append(i)
    return StageDecision(batch, sorted(evicted))


def mc_sf_stage(state: StageState) -> StageDecision:
    """MC-SF in the stage model: residents advance; admit shortest first while the peak fits.

    A resident at next stage ``s`` holds ``l + s + k`` in round ``t + k`` until its stage
    ``l'``; a prompt admitted now holds ``l + k``.  Only completion rounds can be peaks.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)
    >>> st = StageState(0, 12, 0, {(0, 0): list(range(9))}, [1] * 9, [0] * 9, [0] * 9,
    ...                 [-1] * 9, [1] * 9, [0] * 9, w)
    >>> len(mc_sf_stage(st).batch)       # 6 prompts peak at 6 * 2 = 12 next round
    6
    """
    _need_types(state, "mc-sf")
    out, l = state.output, state.prompt
    run = [(l[i] + state.next_stage(i), out[i] - state.next_stage(i))
           for (_, s), ids in state.queues.items() if s > 0 for i in ids]
    batch = [i for (_, s), ids in state.queues.items() if s > 0 for i in ids]
    key = lambda i: (out[i], state.arrival[i], i)   # noqa: E731
    stage0 = [ids for (_, s), ids in state.queues.items() if s == 0]
    if len({out[i] for ids in stage0 for i in ids[:1]} | {None}) > len(stage0):
        waiting = heapq.merge(*stage0, key=key)      # one decode length per queue (types known)
    else:
        waiting = sorted((i for ids in stage0 for i in ids), key=key)
    for i in waiting:
        trial = run + [(l[i], out[i])]
        ends = sorted({k for _, k in trial})
        peak = max(sum(h + k for h, r in trial if r >= k) for k in ends)
        if peak > state.memory:
            break
        run = trial
        batch.append(i)
    return StageDecision(batch)


def make_stage_policy(func, name: str, **params):
    """``func`` with ``params`` bound and a ``name`` (for tables).

    Examples
    --------
    >>> make_stage_policy(wait, "wait(n=5)", thresholds=(5,)).name
    'wait(n=5)'
    """
    pol = partial(func, **params)
    pol.name = name
    pol.__name__ = name
    return pol


#: The registry of stage-model policies (run them with :func:`kvtheory.engines.fluid.simulate_stages`).
STAGE_POLICIES = {"wait": wait, "nested-wait": nested_wait, "fcfs": fcfs_stage,
                  "mc-sf": mc_sf_stage}


def threshold_fit(name: str, workload) -> dict:
    """Whether a threshold policy's default thresholds fit the memory: ``M^pi <= C``.

    For ``wait`` (:func:`~kvtheory.engines.fluid.wait_thresholds`) and ``nested-wait``
    (:func:`nested_thresholds`, :func:`nested_memory`); other policies have no thresholds
    (``M_pi`` is ``None`` and ``fits`` is ``None``).  Both theorems of arXiv 2504.11320 assume
    ``M^pi <= C``; a run with ``fits = False`` is outside them.

    Examples
    --------
    >>> from kvtheory.engines.fluid import StageWorkload
    >>> w = StageWorkload(((1, 1, 3.0), (1, 2, 1.0)), memory=15, reveal_types=False)
    >>> threshold_fit("nested-wait", w)
    {'thresholds': (5, 2), 'M_pi': 21.0, 'fits': False}
    >>> threshold_fit("fcfs", w)["fits"] is None
    True
    """
    from kvtheory.engines.fluid import threshold_condition
    if name == "wait":
        n = wait_thresholds(workload)
        mpi = threshold_condition(workload, n)["M_pi"]
    elif name == "nested-wait":
        n = nested_thresholds(workload)
        mpi = nested_memory(workload, n)
    else:
        return {"thresholds": None, "M_pi": None, "fits": None}
    return {"thresholds": tuple(n), "M_pi": float(mpi), "fits": bool(mpi <= workload.memory)}


def policy_comparison(types, memories: Sequence[int], horizons: Sequence[int], paths: int,
                      rng) -> list[dict]:
    """Loss, latency and evictions of the four stage policies at several ``C``, with ``M^pi``.

    One row per (policy, ``C``, ``T``) from :func:`kvtheory.engines.fluid.gap_table`; WAIT and
    MC-SF see the types, FCFS and Nested WAIT do not.  Each row says whether the policy's
    thresholds fit the memory (:func:`threshold_fit`): ``"no (M^pi = 21 > C)"`` marks a run
    outside the theorems' precondition.

    Examples
    --------
    >>> import numpy as np
    >>> rows = policy_comparison(((1, 1, 3.0), (1, 2, 1.0)), [15], [50], 1,
    ...                          np.random.default_rng(0))
    >>> sorted({(r["policy"], r["M^pi <= C"]) for r in rows})[2]
    ('nested-wait (C=15)', 'no (M^pi = 21 > C)')
    """
    from kvtheory.engines.fluid import StageWorkload, gap_table
    runs, fit = [], {}
    for C in memories:
        for name in ("wait", "mc-sf", "fcfs", "nested-wait"):
            w = StageWorkload(types, memory=C, reveal_types=name in ("wait", "mc-sf"))
            label = f"{name} (C={C})"
            f = threshold_fit(name, w)
            fit[label] = ("-" if f["fits"] is None else "yes" if f["fits"] else
                          f"no (M^pi = {f['M_pi']:g} > C)")
            runs.append((label, STAGE_POLICIES[name], w))
    return [{**r, "M^pi <= C": fit[r["policy"]]} for r in gap_table(runs, horizons, paths, rng)]
