"""Policies of the stage model (:mod:`kvtheory.engines.fluid`): WAIT, Nested WAIT, FCFS, MC-SF.

Every policy is a plain function ``policy(state: StageState) -> StageDecision``;
:data:`STAGE_POLICIES` maps names to them.  They do not fit the round engine
(:func:`kvtheory.simulate`): WAIT and Nested WAIT let residents skip rounds, which that engine's
model forbids, so they run through :func:`kvtheory.engines.fluid.simulate_stages` instead.

* ``wait`` (arXiv 2504.11320, Algorithm "WAIT"; *the paper states* the rule): type ``j`` is
  eligible when at least ``n_j`` of its prompts wait at stage 0; the batch takes
  ``min(n_j, waiting)`` prompts of every eligible type at every stage ``0 .. l'_j``; otherwise
  the server idles.  Needs revealed types.
* ``nested-wait`` (same paper, Algorithm "Nested WAIT"; *the paper states* the rule, the
  default thresholds are *ours*): output lengths unknown, common prefill ``l``; segments
  between the sorted possible decode lengths; the largest prefix of segments whose entry
  queues hold at least their thresholds is served, ``min(n_k, waiting)`` per stage.
* ``fcfs`` (*our reconstruction* of the paper's FCFS example): every resident advances every
  round; then waiting prompts are admitted in arrival order while the round's memory fits
  (no look-ahead); when the residents alone would not fit, the latest admitted are evicted
  first (LIFO) and restart.
* ``mc-sf`` (arXiv 2502.07115's MC-SF, here in the stage model, *ours*): every resident
  advances every round; waiting prompts are admitted shortest decode first while the future
  peak of residents plus admitted fits ``C``; stop at the first that does not.  Needs types.

When a batch would exceed ``C`` (only Nested WAIT, whose buffer can be too small, and FCFS),
:func:`fit_lifo` evicts the most recently admitted residents until it fits.
"""

from __future__ import annotations

import heapq
import math
from functools import partial
from typing import Sequence

from kvtheory.engines.fluid import StageDecision, StageState, wait_thresholds

__all__ = ["wait", "nested_wait", "fcfs_stage", "mc_sf_stage", "fit_lifo",
           "nested_thresholds", "STAGE_POLICIES", "make_stage_policy"]


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


def nested_wait(state: StageState, *, thresholds: Sequence[int] | None = None) -> StageDecision:
    """Nested WAIT: serve the longest prefix of segments whose entry queues meet thresholds.

    Segment 1 covers stages ``0 .. L_1`` (entry: stage 0); segment ``k`` covers stages
    ``L_{k-1} + 1 .. L_k`` (entry: prompts that survived ``L_{k-1}`` tokens), where
    ``L_1 < ... < L_m`` are the possible decode lengths.  It reads only each prompt's stage.

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
    return fit_lifo(state, batch)


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
