"""The scorecard: any ``policy(state) -> Decision`` graded with the registry's vocabulary.

The package itself is callable: ``kvtheory.scorecard(policy, quick=True)`` is
:func:`kvtheory.scorecard.scorecard`.

``kvtheory.scorecard(policy, quick=True)`` returns a :class:`Scorecard` whose ``items`` are
:class:`~kvtheory.claims.Verdict` records (status ``supported`` / ``fails`` / ``inconclusive``,
evidence, what was searched, the smallest counterexample, the search's power against a planted
counterpart); ``python -m kvtheory scorecard POLICY`` prints it.  This layer sits above the
claims and below the commands: nothing in the library imports it.
"""

import sys
import types

from kvtheory.scorecard._board import LIGHT, leaderboard, style_leaderboard
from kvtheory.scorecard._card import ITEMS, PLANTED, Scorecard, policy_key, scorecard
from kvtheory.scorecard._cli import main
from kvtheory.scorecard._guard import IDLE_RULE, Fault, Limits, run_guarded
from kvtheory.scorecard._items import FULL, QUICK, Budget
from kvtheory.scorecard._load import load_policy

__all__ = ["scorecard", "Scorecard", "ITEMS", "PLANTED", "Budget", "QUICK", "FULL", "LIGHT",
           "Limits", "Fault", "IDLE_RULE", "run_guarded", "load_policy", "policy_key",
           "leaderboard", "style_leaderboard", "main"]


class _CallableModule(types.ModuleType):
    """The package's type: calling ``kvtheory.scorecard(...)`` calls :func:`scorecard`."""

    def __call__(self, policy, quick: bool = True, **kw):
        """:func:`scorecard` ``(policy, quick, **kw)``."""
        return scorecard(policy, quick, **kw)


sys.modules[__name__].__class__ = _CallableModule
