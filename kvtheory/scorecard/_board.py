"""The leaderboard: every registered policy's scorecard side by side.

:func:`leaderboard` grades each policy of :data:`kvtheory.engines.policies.POLICIES` (or a
given list) with :func:`~kvtheory.scorecard.scorecard` at one budget and returns one row per
policy: each item's status (with the search's power), and the headline figures (worst ratio
found, mean ratio on the synthetic study, mean latency on the first trace, p99 decision time).
Every card goes through the result cache, so a second call computes nothing.
:data:`LIGHT` is the lighter budget the book's chapter uses (stated in every row's ``budget``).
"""

from __future__ import annotations

from kvtheory.scorecard._card import ITEMS, scorecard
from kvtheory.scorecard._items import Budget

__all__ = ["LIGHT", "leaderboard", "style_leaderboard"]

#: A lighter budget than the quick one, for scoring many policies at once: fewer seeds and
#: sizes, smaller searches, 2 synthetic trials per model, the first 200 requests of each trace,
#: 500 requests for decision time.
LIGHT = Budget(seeds=12, sizes=(3, 6, 10), family_sizes=(2, 3), ratio_max_n=4,
               ratio_restarts=1, ratio_steps=4, trend=((8, 16), (16, 32), (32, 64)),
               trend_restarts=1, trend_steps=4, search_evals=100, final_evals=1000,
               lb_ns=(4, 8, 16), lb_ms=(4, 16, 64), synth_trials=2, synth_evals=200,
               trace_n=200, decision_n=500)

_SHORT = {"supported": "supported", "fails": "FAILS", "inconclusive": "inconclusive",
          "proved": "proved"}


def _cell(v) -> str:
    pw = f" ({v.power['found']}/{v.power['of']})" if v.power else ""
    return _SHORT[v.status] + pw


def _figure(card, item, *path):
    try:
        x = card[item].figures
        for p in path:
            x = x[p]
        return x
    except (KeyError, IndexError, TypeError, StopIteration):
        return None


def leaderboard(policies=None, *, budget: Budget = LIGHT, quick: bool = True,
                workers: int = 1):
    """One row per policy: item statuses (power in brackets) and headline figures.

    Parameters
    ----------
    policies : sequence of str or callable, optional
        Registered names, specs or callables (default: every registered policy).
    budget : Budget
        The budget of every card (default :data:`LIGHT`).
    quick : bool
        Quick limits (1 s per decision) or full ones (5 s).
    workers : int
        Local processes of each card.

    Returns
    -------
    pandas.DataFrame
        Indexed by policy.

    Examples
    --------
    >>> from kvtheory.scorecard import Budget
    >>> tiny = Budget(seeds=2, sizes=(4,), family_sizes=(), ratio_max_n=3, ratio_restarts=1,
    ...               ratio_steps=0, trend=((8, 16),), trend_restarts=1, trend_steps=0,
    ...               search_evals=5, final_evals=5, lb_ns=(4,), lb_ms=(4,), synth_trials=1,
    ...               synth_evals=5, synth_size=(("n", 5), ("horizon", 5), ("memory", 12)),
    ...               trace_n=20, decision_n=20)
    >>> board = leaderboard(["mc-sf"], budget=tiny)
    >>> board.loc["mc-sf", "synthetic"], list(board.columns)[:3]
    ('supported (2/2)', ['valid', 'never-idles', 'ratio'])
    """
    import pandas as pd
    from kvtheory.engines.policies import POLICIES
    policies = list(POLICIES) if policies is None else list(policies)
    rows = {}
    for p in policies:
        card = scorecard(p, quick=quick, budget=budget, workers=workers)
        row = {item: _cell(card[item]) for item in ITEMS}
        ratio = _figure(card, "ratio", "rows")
        row["worst ratio found"] = max(r["ratio low"] for r in ratio) if ratio else None
        syn = _figure(card, "synthetic", "model2", "mean")
        row["model 2 mean ratio"] = syn
        tr = _figure(card, "traces", "policy", 0, "mean latency (s)")
        row["azure-conv mean latency (s)"] = tr
        row["p99 decision (ms)"] = _figure(card, "decision-time", "policy", "p99 (ms)")
        rows[card.policy] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "policy"
    return df


_COLOURS = {"supported": "background-color: #d8f0d8", "FAILS": "background-color: #f6d0d0",
            "inconclusive": "background-color: #f7ecc8"}


def style_leaderboard(df):
    """The leaderboard as a pandas ``Styler``: statuses coloured, figures rounded.

    Examples
    --------
    >>> import pandas as pd
    >>> s = style_leaderboard(pd.DataFrame({"valid": ["supported (9/9)"], "x": [1.23456]}))
    >>> "#d8f0d8" in s.to_html()
    True
    """
    def colour(v):
        return _COLOURS.get(str(v).split(" ")[0], "")
    items = [c for c in df.columns if c in ITEMS]
    return (df.style.map(colour, subset=items)
            .format(precision=3, na_rep="-", subset=[c for c in df.columns if c not in items]))
