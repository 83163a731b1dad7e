"""The scorecard's searches, each a function of its target policy, and the budgets they run at.

* :func:`sample_runs`: random instances (arrivals, heterogeneous prompts, exact or ±50 % noisy
  predictions, tight or loose memory) and the book's adversarial families, each run through
  :func:`~kvtheory.scorecard._guard.run_guarded`: the search of the items *valid* and *never
  idles*;
* :func:`ratio_rows`: the worst ratio to the exact optimum at small ``n`` (random instances and
  a hill climb, :func:`~kvtheory.theory.successors.worst_ratio_search`) and the worst proven
  ratio as ``n`` doubles (:func:`~kvtheory.theory.ratio_search.worst_ratio_at_size`): the
  search of the item *ratio to the optimum*.

The same functions, at the same budget and seeds, are pointed at the planted counterparts
(:mod:`kvtheory.engines.policies.planted`) to measure their power.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kvtheory.engines.simulator import PolicyError
from kvtheory.model.instance import Instance
from kvtheory.scorecard._guard import Fault, Limits, _Stop, run_guarded
from kvtheory.theory.lower_bounds import adversarial_instance
from kvtheory.theory.ratio import dropped_condition_instance
from kvtheory.theory.ratio_search import worst_ratio_at_size
from kvtheory.theory.successors import worst_ratio_search

__all__ = ["Budget", "QUICK", "FULL", "sample_instance", "families", "sample_runs",
           "shrink", "ratio_rows"]


@dataclass(frozen=True)
class Budget:
    """Sizes, seeds and search budgets of one scorecard.

    Attributes
    ----------
    seeds : int
        Seeds of the random sample (each seed draws one instance per size in ``sizes``).
    sizes : tuple of int
        Numbers of requests of the random sample.
    family_sizes : tuple of int
        Sizes ``k`` of the book's adversarial families.
    ratio_max_n, ratio_restarts, ratio_steps : int
        The climb against the exact optimum: instances with ``n <= ratio_max_n``.
    trend : tuple of (int, int)
        The ``(n, M)`` of the growth search, doubling.
    trend_restarts, trend_steps, search_evals, final_evals : int
        Its restarts, moves per restart and the local-search budgets of the best schedule known.
    lb_ns, lb_ms : tuple of int
        Sizes of the deterministic adversary (``n``) and of the heterogeneous-prompt family
        (``m``, ``M = 3m``) of the item *lower bounds*.
    synth_trials, synth_evals : int
        Trials per arrival model of the item *synthetic* and the local search's orders per
        trial (the best schedule known).
    synth_size : tuple of (str, int)
        Size keywords of the models (``n`` for model 1, ``horizon`` for model 2, ``memory``);
        empty: the paper's distributions (n or horizon in 40..60, M in 30..50).
    trace_n : int
        First requests of each trace (items *traces* and *predictions*).
    decision_n : int
        Requests of the item *decision time*.

    Examples
    --------
    >>> QUICK.seeds, FULL.seeds
    (40, 200)
    """

    seeds: int = 40
    sizes: tuple = (3, 6, 10, 16)
    family_sizes: tuple = (2, 3, 4)
    ratio_max_n: int = 5
    ratio_restarts: int = 2
    ratio_steps: int = 6
    trend: tuple = ((8, 16), (16, 32), (32, 64), (64, 128))
    trend_restarts: int = 2
    trend_steps: int = 10
    search_evals: int = 300
    final_evals: int = 3000
    lb_ns: tuple = (4, 8, 16, 32)
    lb_ms: tuple = (4, 16, 64, 256)
    synth_trials: int = 4
    synth_evals: int = 500
    synth_size: tuple = ()
    trace_n: int = 500
    decision_n: int = 2000

    def describe(self) -> str:
        """One line stating the budget."""
        return (f"{self.seeds} seeds x n in {list(self.sizes)}; families k in "
                f"{list(self.family_sizes)}; ratio: n <= {self.ratio_max_n}, "
                f"{self.ratio_restarts} x {self.ratio_steps} moves; growth at (n, M) in "
                f"{[tuple(x) for x in self.trend]}, {self.trend_restarts} x "
                f"{self.trend_steps} moves")


QUICK = Budget()
FULL = Budget(seeds=200, sizes=(3, 6, 10, 16, 24), family_sizes=(2, 3, 4, 6), ratio_max_n=6,
              ratio_restarts=4, ratio_steps=20,
              trend=((8, 16), (16, 32), (32, 64), (64, 128), (128, 256)),
              trend_restarts=3, trend_steps=30, search_evals=300, final_evals=5000,
              lb_ns=(4, 8, 16, 32, 64, 128), lb_ms=(4, 16, 64, 256, 1024), synth_trials=20,
              synth_evals=4000, trace_n=2000, decision_n=10_000)


def sample_instance(rng: np.random.Generator, n: int, *, tight: bool, noisy: bool) -> Instance:
    """A random instance: arrivals in ``0..n``, prompts and outputs in ``1..8``.

    Predictions are exact, or (``noisy``) ``round(o u)`` with ``u`` uniform in ``[0.5, 1.5]``
    (at least 1).  ``M`` is the largest ``s + max(o, õ)`` (``tight``: so every request fits
    alone, and often only one at a time) or that plus a third of their sum (loose).

    Examples
    --------
    >>> inst = sample_instance(np.random.default_rng(0), 4, tight=True, noisy=False)
    >>> inst.n, inst.memory == int((inst.prompt + inst.output).max())
    (4, True)
    """
    a = rng.integers(0, n + 1, size=n)
    s = rng.integers(1, 9, size=n)
    o = rng.integers(1, 9, size=n)
    p = o.copy()
    if noisy:
        p = np.maximum(1, np.rint(o * rng.uniform(0.5, 1.5, size=n))).astype(np.int64)
    need = s + np.maximum(o, p)
    M = int(need.max()) + (0 if tight else int(need.sum()) // 3)
    kind = f"{'tight' if tight else 'loose'}, {'noisy' if noisy else 'exact'}"
    return Instance.from_arrays(a, s, o, M, prediction=p, name=f"random n={n} ({kind})")


def families(sizes) -> list[Instance]:
    """The book's adversarial families at sizes ``k``: the lower-bound instance of
    :func:`~kvtheory.theory.lower_bounds.adversarial_instance` (``n = k + 1``, releases 0, 1
    and ``k``) and the four dropped-condition families of
    :func:`~kvtheory.theory.ratio.dropped_condition_instance`.

    Examples
    --------
    >>> len(families((2,)))
    7
    """
    out = []
    for k in sizes:
        k = int(k)
        out += [adversarial_instance(k + 1, r) for r in sorted({0, 1, k})]
        out += [dropped_condition_instance(c, k) for c in "abcd"]
    return out


def sample_runs(policy, seed: int, budget: Budget = QUICK, limits: Limits = Limits(), *,
                label: str = "the policy", stop_early: bool = False) -> list[tuple]:
    """``(instance, run)`` for every instance of seed ``seed`` (one per size, the variant
    tight/loose x exact/noisy cycling with the seed), and for ``seed == 0`` the families too.

    ``stop_early``: stop at the first run with a fault or an idle round (power runs).

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> runs = sample_runs(mc_sf, 1, Budget(sizes=(3,), family_sizes=()))
    >>> [(inst.n, run.fault, run.idle) for inst, run in runs]
    [(3, None, None)]
    """
    rng = np.random.default_rng([seed, 2025])
    tight, noisy = seed % 2 == 0, (seed // 2) % 2 == 1
    insts = [sample_instance(rng, n, tight=tight, noisy=noisy) for n in budget.sizes]
    if seed == 0:
        insts += families(budget.family_sizes)
    out = []
    for inst in insts:
        run = run_guarded(inst, policy, limits, label=label)
        out.append((inst, run))
        if stop_early and (run.fault or run.idle):
            break
    return out


def shrink(instance: Instance, fails) -> Instance:
    """The instance with requests dropped one at a time while ``fails(instance)`` stays true.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 5, 1], [1, 1, 1], memory=6)
    >>> shrink(inst, lambda i: int(i.prompt.max()) >= 5).n
    1
    """
    cur = instance
    i = 0
    while i < cur.n and cur.n > 1:
        keep = [j for j in range(cur.n) if j != i]
        sub = Instance.from_arrays(cur.arrival[keep], cur.prompt[keep], cur.output[keep],
                                   cur.memory, prediction=cur.prediction[keep], name=cur.name)
        if fails(sub):
            cur = sub
        else:
            i += 1
    return cur


def _first_row_fault(err) -> Fault:
    if isinstance(err, _Stop):
        return err.fault
    return Fault("engine", None, None, " ".join(str(err).split()))


def ratio_rows(policy, seed: int, budget: Budget = QUICK, limits: Limits = Limits(), *,
               label: str = "the policy") -> dict:
    """The worst ratios the ratio item's search finds for ``policy`` (seeded by ``seed``).

    Returns ``{"rows": [...], "fault": Fault or None, "instance": Instance or None}``: the
    first row is the climb against the exact optimum (``n <= ratio_max_n``, all requests at 0,
    heterogeneous prompts; its ``ratio low`` is exact), the others the growth search under
    conditions (a)-(d) (``ratio low``: the policy over the best checked schedule known, a
    proven lower bound on the ratio).  A policy that stops a run gives its fault and no more
    rows.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> out = ratio_rows(mc_sf, 0, Budget(ratio_max_n=3, ratio_restarts=1, ratio_steps=1,
    ...                                   trend=((8, 16),), trend_steps=0, search_evals=10,
    ...                                   final_evals=10))
    >>> [r["n"] for r in out["rows"]], out["fault"] is None
    ([3, 8], True)
    """
    from kvtheory.scorecard._guard import _Guard
    guard = _Guard(policy, limits, label)
    rows, worst = [], None
    try:
        out = worst_ratio_search(np.random.default_rng([seed, 7]), guard,
                                 restarts=budget.ratio_restarts, steps=budget.ratio_steps,
                                 max_n=budget.ratio_max_n, max_memory=14, time_limit=30.0)
        rows.append({"n": budget.ratio_max_n, "M": "<= 14", "ratio low": round(out.ratio, 4),
                     "ratio high": round(out.ratio, 4), "against": "exact optimum"})
        worst = (out.ratio, out.instance)
        for k, (n, M) in enumerate(budget.trend):
            res = worst_ratio_at_size(np.random.default_rng([seed, 8, k]), n, M,
                                      restarts=budget.trend_restarts,
                                      steps=budget.trend_steps,
                                      search_evals=budget.search_evals,
                                      final_evals=budget.final_evals, policy=guard)
            rows.append({"n": n, "M": M, "ratio low": round(res.ratio_low, 4),
                         "ratio high": round(res.ratio_high, 4), "against": "best known"})
            if res.ratio_low > worst[0]:
                worst = (res.ratio_low, res.instance)
    except PolicyError as err:
        return {"rows": rows, "fault": _first_row_fault(err), "instance": None}
    return {"rows": rows, "fault": None, "instance": worst[1]}
