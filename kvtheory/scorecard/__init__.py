"""The scorecard: any ``policy(state) -> Decision`` graded with the registry's vocabulary.

``kvtheory.scorecard(policy, quick=True)`` returns a :class:`Scorecard` whose ``items`` are
:class:`~kvtheory.claims.Verdict` records (status ``supported`` / ``fails`` / ``inconclusive``,
evidence, what was searched, the smallest counterexample, the search's power against a planted
counterpart); ``python -m kvtheory scorecard POLICY`` prints it.  This layer sits above the
claims and below the commands: nothing in the library imports it.
"""

from kvtheory.scorecard._card import ITEMS, PLANTED, Scorecard, scorecard
from kvtheory.scorecard._cli import main
from kvtheory.scorecard._guard import IDLE_RULE, Fault, Limits, run_guarded
from kvtheory.scorecard._items import FULL, QUICK, Budget
from kvtheory.scorecard._load import load_policy

__all__ = ["scorecard", "Scorecard", "ITEMS", "PLANTED", "Budget", "QUICK", "FULL", "Limits",
           "Fault", "IDLE_RULE", "run_guarded", "load_policy", "main"]
