"""Per-request tables of a run and the figures serving simulators report, derived from them.

Every engine's result becomes one tidy table, one row per request (:data:`REQUEST_COLUMNS`),
in the engine's time unit (rounds for :func:`kvtheory.simulate`, seconds for
:func:`kvtheory.simulate_timed` and :func:`kvtheory.engines.paper.engine.simulate_paper`);
:func:`serving_figures` derives every aggregate from that table (none is kept as a counter):

* latency ``c_i - a_i``: mean and the 50th, 90th and 99th percentiles (numpy's linear
  interpolation between order statistics);
* time to first token (TTFT) ``f_i - a_i``, where ``f_i`` is when the request's first output
  token exists: mean and 99th percentile;
* time per output token (TPOT): ``(c_i - f_i) / k_i`` over the ``k_i`` token steps after the
  first token (``o_i - 1`` in the round and timed engines, where the first round yields the
  first token; ``o_i`` in the paper's engine, whose prompt step precedes ``o_i`` token steps),
  averaged over the requests with ``k_i >= 1``;
* throughput: output tokens of all requests divided by the time from the first arrival to the
  last completion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REQUEST_COLUMNS", "SERVING_KEYS", "COMMON_KEYS", "requests_round", "requests_timed",
           "requests_paper", "serving_figures"]

#: Columns of a per-request table (``first_token``: when the first output token exists).
REQUEST_COLUMNS = ("id", "arrival", "start", "first_token", "completion", "latency",
                   "evictions")
#: Serving figures in seconds (:func:`serving_figures` with ``unit="s"``).
SERVING_KEYS = ("avg_latency_s", "p50_latency_s", "p90_latency_s", "p99_latency_s", "avg_ttft_s",
                "p99_ttft_s", "avg_tpot_s", "throughput_tok_s")
#: Keys every ``simulate --format json`` object (and every sweep row) holds, null where they do
#: not apply.
COMMON_KEYS = ("policy", "engine", "status", "n", "dropped", "memory", *SERVING_KEYS,
               "makespan_s", "evictions", "energy_j")


def _frame(arrival, start, first, completion, evictions, output, after_first) -> pd.DataFrame:
    arrival = np.asarray(arrival, dtype=float)
    completion = np.asarray(completion, dtype=float)
    return pd.DataFrame({"id": np.arange(arrival.size), "arrival": arrival,
                         "start": np.asarray(start, dtype=float),
                         "first_token": np.asarray(first, dtype=float),
                         "completion": completion, "latency": completion - arrival,
                         "evictions": np.asarray(evictions, dtype=np.int64),
                         "output": np.asarray(output, dtype=np.int64),
                         "steps_after_first": np.asarray(after_first, dtype=np.int64)})


def requests_round(schedule) -> pd.DataFrame:
    """One row per request of a round-model :class:`~kvtheory.model.schedule.Schedule` (rounds).

    ``start`` is the decision round ``p_i`` of the completed attempt and ``first_token`` the
    round ``first_start + 1`` in which the first attempt produced its first token.

    Examples
    --------
    >>> from kvtheory import Instance
    >>> from kvtheory.model.schedule import Schedule
    >>> inst = Instance.from_arrays([0, 1], [1, 1], [3, 2], memory=9)
    >>> requests_round(Schedule.from_starts(inst, [0, 2]))[["first_token", "latency"]].values.tolist()
    [[1.0, 3.0], [3.0, 3.0]]
    """
    r = schedule.records
    return _frame([x.arrival for x in r], [x.start for x in r], [x.first_start + 1 for x in r],
                  [x.completion for x in r], [x.evictions for x in r], [x.output for x in r],
                  [x.output - 1 for x in r])


def requests_timed(timed) -> pd.DataFrame:
    """One row per request of a :class:`~kvtheory.engines.simulator.TimedSchedule` (seconds).

    ``start`` is the clock of the decision that started the completed attempt.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> from kvtheory.engines.simulator import simulate_timed
    >>> res = simulate_timed([1, 1], [2, 1], [0.0, 0.25], memory=4, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 0.1 + 0.01 * p)
    >>> requests_timed(res)["latency"].round(3).tolist()
    [0.21, 0.11]
    """
    r = timed.schedule.records
    ends = np.asarray(timed.round_end, dtype=float)
    start = ends[np.array([x.start for x in r], dtype=np.int64)]
    return _frame(timed.arrival_time, start, timed.first_token_time, timed.completion_time,
                  [x.evictions for x in r], [x.output for x in r], [x.output - 1 for x in r])


def requests_paper(run) -> pd.DataFrame:
    """One row per request of a paper-engine :class:`~kvtheory.engines.paper.engine.PaperRun` (seconds).

    ``start`` and ``first_token`` are the start and end of the prompt batch of the completed
    attempt; ``nan`` for a request that never completed.

    Examples
    --------
    >>> from kvtheory.engines.paper.engine import simulate_paper
    >>> run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    >>> t = requests_paper(run)
    >>> (t["first_token"] * 1000).round(4).tolist(), (t["completion"] * 1000).round(4).tolist()
    ([45.876, 91.8967], [137.5448, 137.5448])
    """
    r = run.records
    return _frame([x.arrival_time for x in r], [x.start_time for x in r],
                  [x.first_token_time for x in r], [x.completion_time for x in r],
                  [x.evictions for x in r], [x.output for x in r], [x.output for x in r])


def _float(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def serving_figures(table: pd.DataFrame, *, unit: str = "s") -> dict:
    """Latency mean and percentiles, TTFT, TPOT and throughput of a per-request table.

    Keys end in ``_s`` when ``unit="s"``; in rounds (``unit="round"``) they carry no suffix and
    throughput is per round.  ``None`` where a figure is undefined (an unfinished request, no
    request with a token after its first).

    Examples
    --------
    Two requests: arrivals 0 and 1, first tokens at 2 and 2, completions at 4 and 3, outputs
    3 and 2, so 2 and 1 token steps after the first token (TPOT 1 and 1):

    >>> t = _frame([0, 1], [1, 1], [2, 2], [4, 3], [0, 0], [3, 2], [2, 1])
    >>> f = serving_figures(t)
    >>> f["avg_latency_s"], f["p50_latency_s"], f["avg_ttft_s"], f["avg_tpot_s"]
    (3.0, 3.0, 1.5, 1.0)
    >>> f["throughput_tok_s"]             # 5 tokens from time 0 to time 4
    1.25
    """
    sfx = "_s" if unit == "s" else ""
    lat = table["latency"].to_numpy(dtype=float)
    keys = ("avg_latency", "p50_latency", "p90_latency", "p99_latency", "avg_ttft", "p99_ttft",
            "avg_tpot", "throughput_tok")
    if not lat.size or not np.isfinite(lat).all():
        return {k + sfx: None for k in keys}
    ttft = (table["first_token"] - table["arrival"]).to_numpy(dtype=float)
    k = table["steps_after_first"].to_numpy()
    tail = (table["completion"] - table["first_token"]).to_numpy(dtype=float)
    tpot = tail[k >= 1] / k[k >= 1]
    span = float(table["completion"].max() - table["arrival"].min())
    p50, p90, p99 = np.percentile(lat, [50, 90, 99])
    values = (lat.mean(), p50, p90, p99, ttft.mean(), np.percentile(ttft, 99),
              tpot.mean() if tpot.size else None,
              float(table["output"].sum()) / span if span > 0 else None)
    return {k + sfx: _float(v) for k, v in zip(keys, values)}
