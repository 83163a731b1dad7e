"""The published code's two engine rules, switched on one at a time (the paper-setup chapter).

The paper engine (:func:`kvtheory.engines.paper.engine.simulate_paper`) follows *the paper's
published code* by default in two choices where our first reconstruction differed:

* ``memory_timing``: MC-SF's projection counts each request at its own completion point as
  holding ``s + o + 1`` (``"code"``) rather than freeing it there (``"exact"``, ours);
* ``event_order``: one event at a time, a batch's end before a simultaneous arrival and an idle
  engine starting on each arrival (``"code"``), rather than every arrival up to the decision
  time joining it (``"exact"``, ours).

:func:`rules_effect` runs a trace under all four combinations and :func:`rules_table` puts the
average latencies and MC-SF's reduction against MC-Benchmark side by side; :func:`rules_shifts`
sums up what each rule moves, for prose.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
from kvtheory.hardware.calibration import PAPER_KV_CAPACITY
from kvtheory.model.traces import Trace

__all__ = ["RULES", "rules_effect", "rules_table", "rules_shifts"]

#: ``(memory_timing, event_order)``: ours, each published rule alone, both (the default).
RULES = (("exact", "exact"), ("code", "exact"), ("exact", "code"), ("code", "code"))


def rules_effect(trace: Trace, *, memory: int = PAPER_KV_CAPACITY,
                 policies: Sequence[str] = ("mc-sf", "mc-benchmark"),
                 rules: Sequence[tuple[str, str]] = RULES, seed: int = 0):
    """One checked paper-engine run per rule combination and policy, as a tidy DataFrame.

    Examples
    --------
    Two requests at time 0, ``M = 10`` (the engine's docstring computes both runs by hand):

    >>> tr = Trace([0.0, 0.0], [2, 1], [2, 1])
    >>> df = rules_effect(tr, memory=10, policies=("mc-sf",),
    ...                   rules=(("exact", "exact"), ("code", "code")))
    >>> [round(x * 1000, 4) for x in df["makespan_s"]]
    [137.5448, 137.5448]
    >>> [round(x * 1000, 4) for x in df["avg_latency_s"]]     # (137.5448 + 92.4194) / 2; both
    [114.9821, 137.5448]

    Columns: ``memory_timing``, ``event_order``, ``policy``, ``status``, ``avg_latency_s``,
    ``p99_latency_s``, ``makespan_s``, ``batches``, ``evictions``.
    """
    import pandas as pd
    rows = []
    for timing, order in rules:
        for policy in policies:
            run = simulate_paper(trace.prompt, trace.output, trace.arrival_time, memory=memory,
                                 policy=policy, prediction=trace.prediction,
                                 rng=np.random.default_rng(seed), memory_timing=timing,
                                 event_order=order)
            check_paper_run(run)
            sm = run.summary()
            lat = np.array([r.latency for r in run.records])
            rows.append({"memory_timing": timing, "event_order": order, "policy": policy,
                         "status": sm["status"], "avg_latency_s": sm["avg_latency_s"],
                         "p99_latency_s": float(np.percentile(lat, 99))
                         if sm["status"] == "ok" else None,
                         "makespan_s": sm["makespan_s"], "batches": sm["batches"],
                         "evictions": sm["evictions"]})
    return pd.DataFrame(rows)


def rules_table(df):
    """Average latency per policy (columns) and rule combination (rows), with MC-SF's reduction
    ``1 - MC-SF / MC-Benchmark`` in per cent where both ran.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"memory_timing": ["code"] * 2, "event_order": ["code"] * 2,
    ...                    "policy": ["mc-sf", "mc-benchmark"], "avg_latency_s": [30.0, 40.0]})
    >>> float(rules_table(df)["reduction_%"].iloc[0])
    25.0
    """
    tab = df.pivot_table(index=["memory_timing", "event_order"], columns="policy",
                         values="avg_latency_s", sort=False)
    if {"mc-sf", "mc-benchmark"} <= set(tab.columns):
        tab["reduction_%"] = 100 * (1 - tab["mc-sf"] / tab["mc-benchmark"])
    tab.columns.name = None
    return tab.round(3)


def rules_shifts(df) -> dict[str, float]:
    """What each published rule alone does to the average latencies of :func:`rules_effect`.

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`rules_effect`'s output, holding at least the rows ``("exact", "exact")`` and
        ``("code", "exact")``; the event-order shift uses every pair of rows that differ only
        in the event order.

    Returns
    -------
    dict of str to float
        ``timing_pct_<policy>`` (``-`` in a policy's name becomes ``_``): the code's memory
        timing against ours, event order ours, as ``100 (code / exact - 1)`` per cent;
        ``order_s``: the largest absolute change in seconds that the event order makes to any
        policy's average at either memory timing (0 if no pair is present).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"memory_timing": ["exact", "code", "exact", "code"],
    ...                    "event_order": ["exact", "exact", "code", "code"],
    ...                    "policy": ["mc-sf"] * 4, "avg_latency_s": [40.0, 39.0, 40.5, 39.0]})
    >>> rules_shifts(df)
    {'timing_pct_mc_sf': -2.5, 'order_s': 0.5}
    """
    avg = df.set_index(["memory_timing", "event_order", "policy"])["avg_latency_s"]
    out = {}
    for policy in dict.fromkeys(df["policy"]):
        ratio = avg[("code", "exact", policy)] / avg[("exact", "exact", policy)]
        out[f"timing_pct_{policy.replace('-', '_')}"] = round(float(100 * (ratio - 1)), 12)
    pairs = [abs(avg[(t, "code", p)] - avg[(t, "exact", p)])
             for t, _, p in avg.index if (t, "code", p) in avg and (t, "exact", p) in avg]
    out["order_s"] = float(max(pairs, default=0.0))
    return out
