"""A sweep cell's figures from bare columns: the compiled loops without per-request objects.

A sweep cell at ten million requests cannot go through :func:`kvtheory.simulate` or
:func:`~kvtheory.engines.paper.engine.simulate_paper`: both build one Python object per request
(a :class:`~kvtheory.model.schedule.RequestRecord` or a
:class:`~kvtheory.engines.paper.rules.PaperRecord`), which at 10^7 requests exceeds 4 GB.
When the policy runs on a compiled loop and the cell has more than :data:`COLUMNS_THRESHOLD`
requests, :mod:`kvtheory.studies.sweep` computes the cell's figures here instead, from the
columns that :func:`~kvtheory.engines.compiled.run_columns` (round engine) and
:func:`~kvtheory.engines.paper.compiled.run_paper_columns` (paper engine) return, with numpy.

The figures are **the same** as the full path's: the same keys and the same values
(:meth:`Schedule.summary <kvtheory.model.schedule.Schedule.summary>` or
:meth:`PaperRun.summary <kvtheory.engines.paper.rules.PaperRun.summary>`, then
:func:`~kvtheory.engines.serving_metrics.serving_figures` of the per-request table), computed
in the same order of operations.  **The checker does not run on this path**
(:func:`kvtheory.check_schedule` and
:func:`~kvtheory.engines.paper.engine.check_paper_run` need the records and the batch log
this path exists to avoid); the guarantee is the compiled loops' equality to the reference
engines and the key-by-key equality of these figures to the full path's, tested in
``tests/test_sweep.py`` with the threshold lowered.  A round-engine run that the compiled loop
cannot finish (overflow, stall, livelock: status not OK) returns None, and the caller reruns
the full path, which raises or reports exactly as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COLUMNS_THRESHOLD", "uses_columns", "round_figures", "paper_figures"]

#: A cell with more requests than this (and a compiled policy) runs on the columns path; at or
#: below it the full path runs, so every smaller cell's result is what it was.
COLUMNS_THRESHOLD = 200_000


def uses_columns(policy: str, engine: str, n: int, threshold: int = COLUMNS_THRESHOLD) -> bool:
    """Whether a cell of ``n`` requests runs on the columns path.

    Examples
    --------
    >>> uses_columns("mc-sf", "round", 300_000), uses_columns("mc-sf", "round", 200_000)
    (True, False)
    >>> uses_columns("sorted-f", "round", 10**7), uses_columns("mc-sf", "timed", 10**7)
    (False, False)
    >>> uses_columns("vllm", "paper", 10, threshold=5)
    True

    Parameters
    ----------
    policy : str
        A policy name of ``engine``'s registry.
    engine : {"round", "timed", "paper"}
    n : int
        The cell's number of requests.
    threshold : int
        The columns path runs above it.

    Returns
    -------
    bool
        ``n > threshold`` and the policy runs on the engine's compiled loop (the timed engine
        has no columns path).
    """
    if n <= threshold:
        return False
    if engine == "round":
        from kvtheory.engines.compiled import compiled_rule
        from kvtheory.engines.policies import POLICIES
        return policy in POLICIES and compiled_rule(POLICIES[policy]) is not None
    if engine == "paper":
        from kvtheory.engines.paper.compiled import is_compiled
        from kvtheory.engines.paper.rules import paper_policy
        return is_compiled(paper_policy(policy).kind)
    return False


def _serving(arrival, first, completion, output, after_first, unit: str) -> dict:
    """:func:`~kvtheory.engines.serving_metrics.serving_figures` of the columns it reads."""
    from kvtheory.engines.serving_metrics import serving_figures
    arrival = np.asarray(arrival, dtype=float)
    completion = np.asarray(completion, dtype=float)
    table = pd.DataFrame({"arrival": arrival, "first_token": np.asarray(first, dtype=float),
                          "completion": completion, "latency": completion - arrival,
                          "output": np.asarray(output, dtype=np.int64),
                          "steps_after_first": np.asarray(after_first, dtype=np.int64)},
                         copy=False)
    return serving_figures(table, unit=unit)


def _peak_memory(prompt, att_id, att_start, att_stop, makespan: int) -> int:
    """:meth:`Schedule.peak_memory` from every attempt ``(start, stop)`` of request ``att_id``."""
    if makespan <= 0:
        return 0
    keep = att_stop > att_start
    p, q, s = att_start[keep], att_stop[keep], prompt[att_id[keep]]
    offset = np.zeros(makespan + 2, dtype=np.int64)
    count = np.zeros(makespan + 2, dtype=np.int64)
    np.add.at(offset, p + 1, s - p)
    np.add.at(offset, q + 1, -(s - p))
    np.add.at(count, p + 1, 1)
    np.add.at(count, q + 1, -1)
    t = np.arange(makespan + 1, dtype=np.int64)
    return int((np.cumsum(offset)[: makespan + 1] + t * np.cumsum(count)[: makespan + 1]).max())


def round_figures(arrival, prompt, output, prediction, memory: int, policy: str) -> dict | None:
    """A round-engine cell's figures (``summary``, status, serving figures in rounds), or None.

    The dict of :func:`kvtheory.studies.sweep` 's full path for a policy that
    :func:`kvtheory.simulate` runs compiled; None when the compiled loop stops with an error
    status (rerun the full path).  The columns are taken as valid (``s + o <= M``).

    Examples
    --------
    >>> f = round_figures([0, 0, 0], [1, 1, 1], [4, 1, 2], [4, 1, 2], 5, "mc-sf")
    >>> f["total_latency"], f["makespan"], f["peak_memory"], f["p50_latency"]
    (8, 5, 5, 2.0)

    Parameters
    ----------
    arrival, prompt, output, prediction : array_like of int
        The requests' columns (rounds, tokens).
    memory : int
        The KV capacity ``M``.
    policy : str
        A registry name whose policy :func:`~kvtheory.engines.compiled.compiled_rule` compiles.

    Returns
    -------
    dict or None
        The keys of ``Schedule.summary``, ``status``, and the serving figures in rounds.
    """
    from kvtheory.engines._compiled_core import OK
    from kvtheory.engines.compiled import compiled_rule, run_columns
    from kvtheory.engines.policies import POLICIES
    arrival, prompt, output, prediction = (np.ascontiguousarray(x, dtype=np.int64)
                                           for x in (arrival, prompt, output, prediction))
    n = arrival.size
    rule = compiled_rule(POLICIES[policy])
    status, start, ev_id, ev_start, ev_stop = run_columns(arrival, prompt, output, prediction,
                                                          memory, *rule)
    if status != OK:
        return None
    ev_id, ev_start, ev_stop = (np.asarray(x, dtype=np.int64) for x in (ev_id, ev_start, ev_stop))
    start = np.asarray(start, dtype=np.int64)
    completion = start + output
    evictions = np.bincount(ev_id, minlength=n)
    first_start = start.copy()
    if ev_id.size:                      # the first aborted attempt of each evicted request
        ids, where = np.unique(ev_id, return_index=True)
        first_start[ids] = ev_start[where]
    latency = completion - arrival
    total = int(latency.sum())
    makespan = int(completion.max()) if n else 0
    peak = _peak_memory(prompt, np.concatenate([ev_id, np.arange(n, dtype=np.int64)]),
                        np.concatenate([ev_start, start]), np.concatenate([ev_stop, completion]),
                        makespan)
    fig = {"policy": policy, "n": n, "memory": int(memory), "total_latency": total,
           "average_latency": float(total / n) if n else 0.0, "makespan": makespan,
           "peak_memory": peak, "evictions": int(ev_id.size),
           "tokens_recomputed": int((ev_stop - ev_start).sum()), "status": "ok"}
    fig.update(_serving(arrival, first_start + 1, completion, output, output - 1, "round"))
    return fig


def paper_figures(prompt, output, arrival_time, prediction, memory: int, policy: str,
                  seed: int) -> dict:
    """A paper-engine cell's figures (``PaperRun.summary`` and, if ok, the serving figures).

    The dict of :func:`kvtheory.studies.sweep` 's full path (the paper's batch time, the
    default power model on 2 GPUs, the cell's ``default_rng(seed)``).  The columns are taken
    as valid (sorted arrivals, every request fits).

    Examples
    --------
    >>> f = paper_figures([2, 1], [2, 1], [0.0, 0.0], [2, 1], 10, "mc-sf", 0)
    >>> f["status"], f["batches"], round(f["avg_latency_s"] * 1000, 4)
    ('ok', 3, 137.5448)

    Parameters
    ----------
    prompt, output : array_like of int
    arrival_time : array_like of float
        Seconds, sorted.
    prediction : array_like of int
        The predicted outputs the policy sees.
    memory : int
        The KV capacity ``M``.
    policy : str
        A paper-engine policy name of a compiled kind.
    seed : int
        Seeds the generator of the random rules, as the full path does.

    Returns
    -------
    dict
        The keys of ``PaperRun.summary`` and, when the run completed, the serving figures in
        seconds.
    """
    from kvtheory.engines.paper.compiled import run_paper_columns
    from kvtheory.engines.paper.rules import paper_policy
    from kvtheory.hardware.calibration import DEFAULT_POWER, batch_energy
    s, o, p = (np.asarray(x, dtype=np.int64) for x in (prompt, output, prediction))
    a = np.asarray(arrival_time, dtype=float)
    M = int(memory)
    out = run_paper_columns(s, o, a, M, policy=policy, prediction=p,
                            rng=np.random.default_rng(seed))
    comp, first, start = out["completion"], out["first_token"], out["start"]
    # energy as simulate_paper computes it (power=DEFAULT_POWER, n_gpus=2)
    dur = out["batch_end"] - out["batch_start"]
    tokens = out["prefill_tokens"] + out["n_token"]
    uniq, inv = np.unique(tokens, return_inverse=True)
    jps = np.array([batch_energy(int(u), 0, 1.0, n_gpus=2, power=DEFAULT_POWER) for u in uniq])
    busy_j = float(np.dot(dur, jps[inv])) if dur.size else 0.0
    end = float(np.nanmax(comp)) if np.isfinite(comp).any() else float(a[0])
    idle_s = max(0.0, end - float(a[0]) - float(dur.sum()))
    energy = busy_j + float(batch_energy(0, 0, idle_s, n_gpus=2, power=DEFAULT_POWER))
    batches, overflows = int(out["batch_start"].size), int((out["memory_after"] > M).sum())
    del dur, tokens, uniq, inv           # the per-batch arrays are done with: free them
    for key in ("batch_start", "batch_end", "prefill_tokens", "context_sum", "kv_tokens",
                "memory_after", "n_prompt", "n_token"):
        out.pop(key, None)
    # PaperRun.summary
    lat = comp - a
    done = np.isfinite(lat)
    ok = out["status"] == "ok"
    first_arrival = float(a.min())
    last = float(comp[done].max()) if done.any() else first_arrival
    fig = {"policy": paper_policy(policy).name, "n": int(s.size), "completed": int(done.sum()),
           "avg_latency_s": float(lat.mean()) if ok else None,
           "p95_latency_s": float(np.percentile(lat, 95)) if ok else None,
           "makespan_s": float(last - first_arrival) if ok else None,
           "evictions": int(out["evictions"].sum()), "lost_steps": int(out["lost"].sum()),
           "batches": batches, "overflows": overflows,
           "energy_j": energy, "status": out["status"], "reason": out["reason"]}
    if ok:
        fig.update(_serving(a, first, comp, o, o, "s"))
    return fig
