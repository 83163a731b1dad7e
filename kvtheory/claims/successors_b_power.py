"""Power of the readings of :mod:`kvtheory.claims.successors_b`: each search at a planted target.

Every ``measured`` or ``sample`` reading of the fluid and token-budget claims runs its own
search again, at the same sizes, budget and seeds, against a counterpart the claim does not
cover, and counts the runs in which the reading's rule sees the violation
(:func:`kvtheory.claims.power_of`):

* WAIT's rates: WAIT with threshold ``n = 3 < lambda = 4``, outside the theorem's condition
  ``Delta T <= n / lambda``: it admits at most 3 prompts a round against 4 arriving, so its
  queue grows linearly, latency grows like ``T`` and the gap stays at least ``1/4`` token a
  round (slopes 1 and 0, above every stated exponent plus the tolerance).
* WAIT never evicts: thresholds one above ``ceil(lambda_j)``, whose ``M^pi`` exceeds ``C``.
* FCFS's constant loss (and MC-SF's): WAIT with ``n = 4`` in the same example, whose gap
  vanishes (the equality case of the same theorem), so a loss that "does not vanish" is absent.
* Nested WAIT's vanishing gap: thresholds ``(3, 1)``, with ``n_1 = 3`` below the arrival rate
  4 (the drift condition fails): at most 3 admissions a round, a gap that cannot vanish.
* Token budget, work-conserving below capacity: Sarathi-like at load 1.1, above capacity,
  where no scheduler is stable.
* Token budget, above capacity: Sarathi-like served by a planted batch clock twice as fast
  per token block (``b_0 = 256``), which drains faster than ``b_max / t(b_max)`` of the stated
  clock; the search compares the backlog with the stated clock's rate, so it can differ.
* Token budget, non-work-conserving instability: Sarathi-like (work-conserving, stable below
  capacity by the theorem) on the same workload and load.
* Vertex C: Sarathi-like with ``b_max`` 128 and 1024 without the cap on requests per batch
  (work-conserving, below capacity at 1024, so stable).
* MC-SF on a token budget: Sarathi-like, which fills the budget under overload.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from kvtheory.claims._core import POWER_MIN
from kvtheory.claims._power import power_of

__all__ = ["gate", "power_seeds", "rates_power", "no_overflow_power", "fcfs_power",
           "nested_power", "budget_power", "kmax_power", "mcsf_power", "PLANTED"]

#: What each reading's power run plants (reading key -> label).
PLANTED = {
    "rates": "WAIT with n = 3 < lambda = 4 (outside Delta T <= n / lambda: unstable; its "
             "M^pi = 9 fits C = 12 and 15, so one run serves both cases)",
    "no_overflow": "WAIT with thresholds ceil(lambda_j) + 1, whose M^pi exceeds C on all three "
                   "workloads",
    "fcfs": "WAIT (n = 4) in the same example, whose gap vanishes (equality case, "
            "O(T^-1/2))",
    "nested": "Nested WAIT with thresholds (3, 1): n_1 = 3 < lambda = 4 breaks the drift "
              "condition (at most 3 admissions a round)",
    "below": "Sarathi-like at load 1.1 (above capacity: no scheduler is stable)",
    "above": "Sarathi-like on a planted clock t(b) = 11.28 + 35.47 ceil(b/256) ms (serves "
             "faster than b_max / t(b_max) of the stated clock)",
    "non_wc": "Sarathi-like (work-conserving: stable below capacity) on the same workload and "
              "load",
    "kmax": "Sarathi-like, b_max = 128 and 1024, without the cap on requests per batch "
            "(work-conserving, below capacity at 1024)",
    "mcsf": "Sarathi-like (chunked prefills fill the budget) on the same arrivals",
}


def power_seeds(quick: bool, first: int = 0) -> tuple[int, ...]:
    """The seeds of the power runs: three from ``first``, in quick and full mode alike.

    The full run's power runs are as large as its searches (longer horizons, more paths), not
    more numerous: each one repeats a whole search, and three of them already double a
    reading's cost.

    Examples
    --------
    >>> power_seeds(True), power_seeds(False, 1)
    ((0, 1, 2), (1, 2, 3))
    """
    return tuple(range(first, first + 3))


def gate(status: str, text: str, decide: str, power: Mapping) -> tuple[str, str, str]:
    """A rule's ``supported`` kept only with power at least :data:`POWER_MIN`.

    Returns ``(status, text, decide)``: a ``supported`` whose power is below the minimum
    becomes ``inconclusive`` and says so; other statuses pass unchanged.

    Examples
    --------
    >>> gate("supported", "ok", "", {"planted": "p", "found": 3, "of": 3})
    ('supported', 'ok', '')
    >>> gate("supported", "ok", "", {"planted": "p", "found": 1, "of": 3})[0]
    'inconclusive'
    """
    if status != "supported" or power["found"] >= POWER_MIN * power["of"]:
        return status, text, decide
    return ("inconclusive",
            f"{text}; but the same search could not find a planted violation at these sizes "
            f"({power['planted']}: found in {power['found']} of {power['of']} runs)",
            f"a search that finds the planted violation ({power['planted']}) in at least "
            f"{POWER_MIN:.0%} of its runs (longer horizons, more paths), and then none for the "
            f"claim's target")


def rates_power(quick: bool, kw: Mapping, stated: Mapping) -> dict:
    """Power of the four ``clm_wait_rates`` readings: the same fits for the planted WAIT.

    Returns ``{(case, key): power}``.  With ``n = 3`` neither memory binds (``M^pi = 9``), so
    the run at ``C = 12`` is the run at ``C = 15`` too.

    Examples
    --------
    >>> st = {("equality", "latency"): 0.5, ("strict", "gap"): -1.0}
    >>> p = rates_power(True, dict(horizons=(50, 100), paths=3, boot=20), st)
    >>> p[("equality", "latency")]["of"], p[("strict", "gap")]["found"]
    (3, 3)
    """
    from kvtheory.claims.successors_b_searches import TOL, grade_rate, wait_rate_fits
    fits = {}

    def search(n, seed):
        if seed not in fits:
            fits[seed] = wait_rate_fits(np.random.default_rng(seed), **kw, cases=("equality",),
                                        thresholds={"equality": (n,)})["fits"]
        return fits[seed]
    out = {}
    for (case, key), r in stated.items():
        out[(case, key)] = power_of(search, 3, power_seeds(quick),
                                    lambda f, k=key, r=r: grade_rate(f[f"equality/{k}"], r,
                                                                     tol=TOL) != "supported",
                                    label=PLANTED["rates"])
    return out


def no_overflow_power(quick: bool, paths: int, horizon: int) -> dict:
    """Power of ``clm_wait_no_overflow``: thresholds whose ``M^pi`` exceeds ``C``.

    Examples
    --------
    >>> no_overflow_power(True, 2, 60)["found"]
    3
    """
    from kvtheory.claims.successors_b_searches import check_wait_no_overflow
    from kvtheory.engines.fluid import wait_thresholds

    def search(thresholds, seed):
        return check_wait_no_overflow(np.random.default_rng(seed), paths=paths,
                                      horizon=horizon, thresholds=thresholds)
    return power_of(search, lambda w: wait_thresholds(w, slack=1), power_seeds(quick),
                    lambda rep: not rep.holds, label=PLANTED["no_overflow"])


def fcfs_power(quick: bool, kw: Mapping) -> dict:
    """Power of the three ``clm_fcfs_gap`` readings: WAIT's vanishing loss in their place.

    Returns ``{"size": power, "persists": power, "mcsf": power}``: a run finds the violation
    when the reading's rule, fed WAIT's loss, does not return ``supported``.

    Examples
    --------
    >>> fcfs_power(True, dict(horizons=(100, 400), paths=3))["persists"]["of"]
    3
    """
    from kvtheory.claims.successors_b_searches import fcfs_example, fcfs_statuses
    T1, T2 = kw["horizons"]
    runs = {}

    def search(policy, seed):
        if seed not in runs:
            loss = fcfs_example(np.random.default_rng(seed), **kw,
                                policies=(policy,))["loss"][policy]
            runs[seed] = fcfs_statuses({"fcfs": loss, "mc-sf": loss}, T1, T2)
        return runs[seed]
    return {k: power_of(search, "wait", power_seeds(quick),
                        lambda st, k=k: st[k] != "supported", label=PLANTED["fcfs"])
            for k in ("size", "persists", "mcsf")}


def nested_power(quick: bool, kw: Mapping) -> dict:
    """Power of ``clm_nested_wait``: thresholds ``(3, 1)``, whose gap cannot vanish.

    Examples
    --------
    >>> nested_power(True, dict(horizons=(100, 1600), paths=3))["found"]
    3
    """
    from kvtheory.claims.successors_b_searches import nested_gap_fit, nested_status

    def search(thresholds, seed):
        return nested_gap_fit(np.random.default_rng(seed), **kw, thresholds=thresholds)
    return power_of(search, (3, 1), power_seeds(quick),
                    lambda f: nested_status(f) != "supported", label=PLANTED["nested"])


def budget_power(quick: bool, key: str, horizon: float, paths: int, first: int) -> dict:
    """Power of a ``clm_budget_stability`` reading (``key``: below, above, non_wc).

    The search is the reading's: ``paths`` Poisson paths of ``horizon`` ms, the backlog slope's
    95 % band graded by :func:`~kvtheory.claims.successors_b.grade_budget`, combined over the
    targets; a run finds the violation when the combined status is not ``supported``.

    Examples
    --------
    >>> budget_power(True, "non_wc", 20_000, 2, 2)["found"]
    3
    """
    from kvtheory.claims.successors_b_searches import _summ, combine, grade_budget
    from kvtheory.engines.token_budget import BatchClock, BudgetConfig, stability_rows
    cfg = BudgetConfig(512)
    spec = {"below": (("sarathi",), 100, 100, 1.1, "bounded", None),
            "above": (("sarathi",), 100, 100, 1.1, "fluid",
                      BudgetConfig(512, clock=BatchClock(11.28, 35.47, 256))),
            "non_wc": (("sarathi",), 129, 112, 0.85, "grows", None)}
    pols, p, d, load, expect, engine = spec[key]

    def search(policies, seed):
        rows = stability_rows(list(policies), cfg, p, d, [load], horizon, paths,
                              np.random.default_rng(seed), engine=engine)
        return combine(grade_budget(_summ(rows, q), expect=expect) for q in policies)
    return power_of(search, pols, power_seeds(quick, first), lambda st: st != "supported",
                    label=PLANTED[key])


def kmax_power(horizon: float) -> dict:
    """Power of ``clm_budget_kmax``: the same deterministic run without the cap.

    Deterministic arrivals: one run.  At short horizons the uncapped Sarathi-1024 is still
    filling up (about 250 requests decode at once in its steady state, each for 990 batches),
    so its backlog grows too and the search cannot tell it from the capped one: at 140 s it
    grows by 25,219 tokens over the second half, at 560 s by 218.

    Examples
    --------
    >>> kmax_power(560_000)
    {'planted': 'Sarathi-like, b_max = 128 and 1024, without the cap on requests per batch (work-conserving, below capacity at 1024)', 'found': 1, 'of': 1}
    """
    from kvtheory.claims.successors_b_searches import KMAX_PAIR, kmax_status
    from kvtheory.engines.token_budget import vertex_c

    def search(k_max, seed):
        return kmax_status(vertex_c(KMAX_PAIR, horizon=horizon, k_max=k_max))
    return power_of(search, None, [0], lambda st: st != "supported", label=PLANTED["kmax"])


def mcsf_power(quick: bool, horizon: float, paths: int, rule) -> dict:
    """Power of ``clm_budget_mcsf``: Sarathi-like in MC-SF's place on the same arrivals.

    ``rule(rows, policy)`` is the reading's rule (``supported`` when the policy serves
    visibly below capacity).

    Examples
    --------
    >>> from kvtheory.claims.successors_b_searches import mcsf_rule
    >>> mcsf_power(True, 20_000, 2, mcsf_rule)["found"]
    3
    """
    from kvtheory.engines.token_budget import BudgetConfig, stability_rows

    def search(policy, seed):
        rows = stability_rows([policy], BudgetConfig(512), 100, 100, [1.1], horizon, paths,
                              np.random.default_rng(seed))
        return rule(rows, policy)
    return power_of(search, "sarathi", power_seeds(quick, 1), lambda st: st != "supported",
                    label=PLANTED["mcsf"])

