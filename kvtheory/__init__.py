"""kvtheory: online LLM inference scheduling under KV-cache constraints, verified.

A tested implementation of the model, algorithms, exact optimum and claims of Jaillet, Jiang,
Podimata, Zhou et al., *Online Scheduling for LLM Inference with KV Cache Constraints*
(arXiv 2502.07115).
"""

from kvtheory.model.checker import CheckReport, ScheduleError, check_schedule, is_valid_schedule
from kvtheory.model.instance import Instance, Request
from kvtheory.engines.policies import (POLICIES, PAPER_BENCHMARKS, admit_future_feasible,
                       alpha_protection_beta_clearing,
                       alpha_protection_greedy, make_policy, mc_benchmark, mc_sf,
                       predicted_memory, vllm_style)
from kvtheory.model.schedule import RequestRecord, Schedule
from kvtheory.engines.simulator import (Decision, Jobs, LivelockError, PolicyError, State, TimedSchedule,
                        simulate, simulate_timed)

__version__ = "0.1.0"

#: Names served on first use, so that ``import kvtheory`` stays fast (the solver and the local
#: search load scipy.optimize, highspy and numba).
_LAZY = {"solve_optimal": "kvtheory.optimum.exact", "OptimalResult": "kvtheory.optimum.exact",
         "improve_schedule": "kvtheory.optimum.search",
         "volume_lower_bound": "kvtheory.optimum.search",
         "peak_lower_bound": "kvtheory.optimum.bounds", "load_trace": "kvtheory.model.traces",
         "random_instance": "kvtheory.model.workloads"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "scorecard":                 # the callable subpackage: kvtheory.scorecard(policy)
        import importlib
        return importlib.import_module("kvtheory.scorecard")
    raise AttributeError(f"module 'kvtheory' has no attribute {name!r}")


__all__ = [
    "Request", "Instance", "RequestRecord", "Schedule",
    "CheckReport", "ScheduleError", "check_schedule", "is_valid_schedule",
    "Jobs", "State", "Decision", "PolicyError", "LivelockError", "simulate", "simulate_timed",
    "TimedSchedule",
    "mc_sf", "mc_benchmark", "alpha_protection_greedy", "alpha_protection_beta_clearing",
    "vllm_style", "predicted_memory", "admit_future_feasible", "make_policy", "POLICIES",
    "PAPER_BENCHMARKS", *_LAZY,
]
