"""The item *lower bounds*: a policy's ratio on the book's two lower-bound families as they grow.

* the **deterministic adversary** (:func:`~kvtheory.theory.lower_bounds.adaptive_adversary`):
  one long request and ``n`` shorts released when they hurt most, ``M = n(n + 1)``; every
  deterministic non-preemptive policy has ratio at least
  :func:`~kvtheory.theory.lower_bounds.deterministic_bound` ``(n) ~ 0.366 n = Theta(sqrt M)``
  there (the optimum is the closed form :func:`~kvtheory.theory.lower_bounds.opt_cost`, the
  minimum over all non-preemptive schedules);
* the **heterogeneous-prompt family** (:func:`~kvtheory.theory.successors.prompt_family`,
  ``M = 3m``, ``k = round(c sqrt M)`` big requests): the policy's total latency over the
  *smalls first* schedule's, a checked schedule, so a proven lower bound on its ratio;
  shortest-first policies pay ``~ sqrt(M) / (2 sqrt 3)`` there.

Both rows are graded with the trend rule of the ratio item
(:func:`kvtheory.claims.ratio.ratio_trend_status`) against the scorecard's ratio bound: the
claim is that the policy's ratio stays within that bound on the families.  A deterministic
non-preemptive policy's adversary ratio provably grows (that is the lower bound), so such a
policy gets ``inconclusive`` below the size at which :func:`deterministic_bound` passes the bound
(about ``n = 2.7 x bound``), and ``fails`` with a member past the bound when the bound is low.
"""

from __future__ import annotations

import math

from kvtheory.engines.simulator import PolicyError, simulate
from kvtheory.model.checker import check_schedule
from kvtheory.scorecard._guard import Fault, Limits, _Guard, _Stop
from kvtheory.theory.lower_bounds import adaptive_adversary, deterministic_bound
from kvtheory.theory.successors import OPTIMAL_C, prompt_family, prompt_family_schedule

__all__ = ["lower_bound_rows", "worst_family_status"]


class _Recording(_Guard):
    """A guard that remembers the first fault (the adversary swallows policy errors)."""

    fault: Fault | None = None

    def stop(self, kind, t, request, what):
        try:
            super().stop(kind, t, request, what)
        except _Stop as stop:
            if self.fault is None:
                self.fault = stop.fault
            raise


def lower_bound_rows(policy, adversary_ns, prompt_ms, limits: Limits = Limits(), *,
                     label: str = "the policy") -> dict:
    """The policy's ratio on each family member: ``{"adversary": [...], "prompts": [...],
    "fault": Fault or None}``.

    Each row has ``n`` (the trend rule's size: the family parameter), ``M``, ``ratio low`` (a
    proven lower bound on the ratio; exact on the adversary), the policy's total latency and
    the reference (the optimum's closed form; the smalls-first schedule's latency), and the
    bound beside it (``deterministic bound`` on the adversary; ``sqrt(M)/(2 sqrt 3)``, the
    limit shortest-first reaches, on the prompt family).

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> out = lower_bound_rows(mc_sf, (4,), (4,))
    >>> out["adversary"][0]["ratio low"], out["prompts"][0]["ratio low"], out["fault"]
    (2.0, 1.3077, None)
    """
    guard = _Recording(policy, limits, label)
    out = {"adversary": [], "prompts": [], "fault": None}
    try:
        for n in adversary_ns:
            run = adaptive_adversary(guard, int(n), solve=False, name=label)
            if guard.fault is not None:
                break
            if run.schedule is None:               # stalled before finishing: no ratio
                out["fault"] = Fault("stall", None, None,
                                     f"{label} never finished the adversary's member n={n}")
                return out
            out["adversary"].append({
                "n": int(n), "M": run.instance.memory, "ratio low": round(run.ratio, 4),
                "policy": run.alg, "reference": run.opt, "start": run.start,
                "release": run.release, "evicts": run.preemptive,
                "bound": round(deterministic_bound(int(n)), 4)})
        for m in (prompt_ms if guard.fault is None else ()):
            M = 3 * int(m)
            k = max(1, round(OPTIMAL_C * math.sqrt(M)))
            inst = prompt_family(int(m), k)
            sched = simulate(inst, guard, name=label, compiled=False,
                             stall_limit=limits.stall, livelock_limit=limits.livelock)
            check_schedule(inst, sched)
            alt = prompt_family_schedule(int(m), k).total_latency
            out["prompts"].append({
                "n": int(m), "M": M, "k": k, "ratio low": round(sched.total_latency / alt, 4),
                "policy": int(sched.total_latency), "reference": int(alt),
                "bound": round(math.sqrt(M) / (2 * math.sqrt(3)), 4)})
    except PolicyError as err:
        if guard.fault is None:
            guard.fault = Fault("engine", None, None, f"{label}: {' '.join(str(err).split())}")
    except ValueError as err:                       # the adversary's determinism check
        out["fault"] = Fault("not deterministic", None, None,
                             f"{label}: {' '.join(str(err).split())}")
    if guard.fault is not None:
        out["fault"] = guard.fault
    return out


_ORDER = {"fails": 0, "inconclusive": 1, "supported": 2}


def worst_family_status(rows: dict, bound: float) -> tuple[str, str, str]:
    """``(status, why, family)``: the trend rule on each family, the worse of the two.

    Examples
    --------
    >>> flat = [{"n": n, "ratio low": 1.0} for n in (4, 8, 16)]
    >>> worst_family_status({"adversary": flat, "prompts": flat}, 10)[0]
    'supported'
    >>> grow = [{"n": n, "ratio low": n / 2} for n in (4, 8, 16)]
    >>> worst_family_status({"adversary": grow, "prompts": flat}, 10)[::2]
    ('inconclusive', 'adversary')
    >>> worst_family_status({"adversary": grow, "prompts": flat}, 5)[::2]
    ('fails', 'adversary')
    """
    from kvtheory.claims.ratio import ratio_trend_status
    graded = [(fam,) + ratio_trend_status(rows[fam], bound) for fam in ("adversary", "prompts")
              if rows[fam]]
    if not graded:
        return "inconclusive", "no member ran", "adversary"
    fam, status, why = min(graded, key=lambda g: _ORDER[g[1]])
    return status, why, fam
