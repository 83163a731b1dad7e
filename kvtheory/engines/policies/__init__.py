"""The scheduling policies: plain functions ``policy(state) -> Decision``, and their registry.

The paper's policies and the shared admission helpers (:mod:`~kvtheory.engines.policies.base`:
MC-SF, MC-Benchmark, the practice-style alpha/beta rules, a vLLM-style rule) and the successor
papers' policies as we reconstruct them (:mod:`~kvtheory.engines.policies.successors`: SVF,
Sorted-F, A_max, A_min).  :data:`POLICIES` maps every registry name to its policy; every test
that applies to "all policies" runs over it.
"""

from typing import Callable, Mapping

from kvtheory.engines.policies.base import *  # noqa: F401,F403
from kvtheory.engines.policies.base import __all__ as _base_all
from kvtheory.engines.policies.base import BASE_POLICIES
from kvtheory.engines.policies.successors import *  # noqa: F401,F403
from kvtheory.engines.policies.successors import __all__ as _successors_all
from kvtheory.engines.policies.successors import SUCCESSOR_POLICIES

#: Every registered policy by name: the paper's, then the successors'.
POLICIES: Mapping[str, Callable] = {**BASE_POLICIES, **SUCCESSOR_POLICIES}

__all__ = ["POLICIES", *_base_all, *_successors_all]
