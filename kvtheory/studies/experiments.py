"""Small experiment drivers used by the book's chapters (so notebooks hold no loops of logic).

Every function returns tidy rows (a list of dicts of plain Python numbers).
"""

from __future__ import annotations

import time
from typing import Callable, Mapping, Sequence

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import POLICIES
from kvtheory.engines.simulator import Decision, LivelockError, State, simulate
from kvtheory.model.workloads import random_instance

__all__ = ["decision_trace", "compare_policies", "solve_time_table"]


def decision_trace(instance: Instance, policy: Callable[[State], Decision]) -> list[dict]:
    """One row per decision time: who waited, who ran, what the policy started and evicted.

    Examples
    --------
    >>> from kvtheory import Instance, mc_sf
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> for row in decision_trace(inst, mc_sf)[:2]:
    ...     print(row["t"], row["waiting"], row["started"], row["usage_next"])
    0 [0, 1, 2] [1, 2] 0
    1 [0] [0] 3
    """
    rows = []

    def spy(state):
        dec = policy(state)
        rows.append({"t": state.t, "waiting": state.waiting.id.tolist(),
                     "running": state.running.id.tolist(), "usage_next": state.usage_next,
                     "started": list(dec.start), "evicted": list(dec.evict)})
        return dec

    simulate(instance, spy)
    return rows


def compare_policies(instance: Instance, policies: Mapping[str, Callable] | None = None, *,
                     optimum: bool = True, time_limit: float | None = 60.0) -> list[dict]:
    """Run policies on one instance; every schedule is checked; ratio to the optimum if asked.

    A policy that livelocks (see :class:`kvtheory.LivelockError`) gets a row with
    ``total_latency = None``.

    Examples
    --------
    >>> from kvtheory import Instance
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> [(r["policy"], r["total_latency"], r["ratio"]) for r in compare_policies(inst)][:2]
    [('optimal', 8, 1.0), ('mc-sf', 8, 1.0)]
    """
    policies = POLICIES if policies is None else policies
    rows = []
    opt = None
    if optimum:
        res = solve_optimal(instance, time_limit=time_limit)
        check_schedule(instance, res.schedule)
        opt = res.objective
        rows.append({"policy": "optimal", "total_latency": opt, "ratio": 1.0, "evictions": 0,
                     "makespan": res.schedule.makespan, "proven": res.proven_optimal})
    for name, pol in policies.items():
        try:
            s = simulate(instance, pol, name=name)
        except LivelockError:
            rows.append({"policy": name, "total_latency": None, "ratio": None,
                         "evictions": None, "makespan": None, "proven": None})
            continue
        check_schedule(instance, s)
        rows.append({"policy": name, "total_latency": s.total_latency,
                     "ratio": round(s.total_latency / opt, 4) if opt else None,
                     "evictions": s.evictions, "makespan": s.makespan, "proven": None})
    return rows


def solve_time_table(rng: np.random.Generator, sizes: Sequence[int], *, trials: int = 3,
                     memory: int = 12, max_output: int = 6, max_arrival: int = 0,
                     time_limit: float = 30.0) -> list[dict]:
    """Solve time of the exact integer program against the number of requests.

    Examples
    --------
    >>> rows = solve_time_table(np.random.default_rng(0), [2, 3], trials=1)
    >>> [r["n"] for r in rows], all(r["proven"] for r in rows)
    ([2, 3], True)
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    rows = []
    for n in sizes:
        for _ in range(trials):
            inst = random_instance(rng, int(n), memory, max_prompt=3, max_output=max_output,
                                   max_arrival=max_arrival)
            t0 = time.perf_counter()
            res = solve_optimal(inst, time_limit=time_limit)
            rows.append({"n": int(n), "seconds": time.perf_counter() - t0,
                         "variables": res.n_variables, "proven": res.proven_optimal,
                         "gap": res.gap})
    return rows
