"""The successors' claims in our round model: heterogeneous prompts, volumes, constants.

* arXiv 2508.06133 (Wang, Ye, Zhou): with heterogeneous prompts shortest-first (MC-SF among
  them) has a ratio growing like ``sqrt(M)`` even when all requests arrive at 0 (second-hand).
  Their instance family was not available to us; :func:`prompt_family` is our reconstruction,
  with exact closed forms (:func:`prompt_family_costs`) and a sympy limit
  (:func:`prompt_family_derivation`).
* arXiv 2606.22327 (Kong, Qi, Ye, Zhou): the volume lower bound :func:`svf_volume_bound` and the
  bound ``SVF <= (1 + 2/(1 - alpha)) OPT`` (:func:`svf_ratio_bound`).
* arXiv 2601.22996 (Feng, Yang, Zhang): the quoted constants :data:`NONCLAIRVOYANT_CONSTANTS`.

:func:`worst_ratio_search` is a seeded random-restart hill climb over all-at-0 instances with
heterogeneous prompts, scoring any policy against the exact optimum.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterator

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import mc_sf
from kvtheory.model.schedule import Schedule
from kvtheory.optimum.search import volume_lower_bound  # noqa: F401  (named in svf_volume_bound's example)
from kvtheory.engines.simulator import simulate

__all__ = ["prompt_family", "prompt_family_costs", "prompt_family_schedule",
           "prompt_family_derivation", "prompt_family_row", "OPTIMAL_C", "batch_instance",
           "SearchOutcome", "worst_ratio_search", "svf_volume_bound", "svf_ratio_bound",
           "batch_instances", "NONCLAIRVOYANT_CONSTANTS", "MCSF_PROOF_CONSTANT",
           "family_size_beating", "svf_sample", "fluid_total"]

#: k = c sqrt(M) big requests maximise the family's limit ratio at c = 2/sqrt(3).
OPTIMAL_C = 2 / math.sqrt(3)
#: MC-SF's proof constant (arXiv 2502.07115 v4/v5, second-hand): 1536 * 6.
MCSF_PROOF_CONSTANT = 1536 * 6
#: Constants quoted in the abstract of arXiv 2601.22996 v1 (the paper states them).
NONCLAIRVOYANT_CONSTANTS = {"GSA, general": 61.92, "GSA, large memory": 32.0,
                            "GBA, general": 10.67, "GBA, large memory": 6.75,
                            "previous best (MC-SF)": float(MCSF_PROOF_CONSTANT)}


# --------------------------------------------------------------------------- paper 1 family
def prompt_family(m: int, k: int) -> Instance:
    """Our reconstruction of a family where shortest-first pays ``~sqrt(M)`` times too much.

    ``M = 3m``; ``k`` *big* requests ``(s = M - 2, o = 1)`` and ``m`` *small* ones
    ``(s = 1, o = 2)``, all at round 0.  A big one fills the cache alone (two never fit, and no
    small fits beside one); the ``m`` smalls fit together exactly (peak ``3m = M``).  MC-SF runs
    the bigs first (shorter output), one per round, so every small waits ``k`` rounds.

    Examples
    --------
    >>> inst = prompt_family(2, 3)
    >>> inst.memory, inst.prompt.tolist(), inst.output.tolist()
    (6, [4, 4, 4, 1, 1], [1, 1, 1, 2, 2])
    >>> prompt_family(1, 1)
    Traceback (most recent call last):
    ...
    ValueError: m must be >= 2, got 1
    """
    m = as_int(m, name="m", minimum=2)
    k = as_int(k, name="k", minimum=0)
    M = 3 * m
    return Instance.from_arrays([0] * (k + m), [M - 2] * k + [1] * m, [1] * k + [2] * m, M,
                                name=f"prompt family m={m}, k={k}")


def prompt_family_costs(m: int, k: int) -> dict:
    """Closed forms on :func:`prompt_family`: MC-SF's total latency and a feasible schedule's.

    MC-SF: big ``j`` completes at ``j`` (``j = 1..k``), then all smalls at ``k + 2``:
    ``k(k+1)/2 + m(k+2)``.  *Smalls first* (:func:`prompt_family_schedule`): smalls complete at
    2, big ``j`` at ``j + 2``: ``2m + k(k+1)/2 + 2k``; so ``OPT <=`` that.

    Examples
    --------
    >>> prompt_family_costs(2, 3)
    {'mcsf': 16, 'smalls_first': 16}
    >>> prompt_family_costs(10, 5)
    {'mcsf': 85, 'smalls_first': 45}
    """
    return {"mcsf": k * (k + 1) // 2 + m * (k + 2),
            "smalls_first": 2 * m + k * (k + 1) // 2 + 2 * k}


def prompt_family_schedule(m: int, k: int) -> Schedule:
    """The *smalls first* schedule of :func:`prompt_family` (smalls at 0, big ``j`` at ``j+1``).

    Examples
    --------
    >>> from kvtheory import check_schedule
    >>> s = prompt_family_schedule(3, 2)
    >>> s.total_latency, check_schedule(prompt_family(3, 2), s).peak_memory
    (13, 9)
    """
    inst = prompt_family(m, k)
    att = [[(j + 2, j + 3)] for j in range(k)] + [[(0, 2)] for _ in range(m)]
    return Schedule.from_attempts(inst, att, policy="smalls first")


def prompt_family_derivation() -> dict:
    """Sympy: on :func:`prompt_family` with ``m = M/3``, ``k = c sqrt(M)``, MC-SF / OPT >= ~sqrt(M).

    The ratio of the two closed forms of :func:`prompt_family_costs` divided by ``sqrt(M)``
    tends to ``2c / (4 + 3c^2)`` as ``M -> oo``; it is largest at ``c = 2/sqrt(3)``, where it is
    ``1/(2 sqrt(3)) ~ 0.2887``.  Since ``OPT <= smalls_first``, MC-SF's competitive ratio is
    ``Omega(sqrt(M))`` with every request at round 0 (claim ``clm_mcsf_prompts``).  Ends in
    assertions.

    Examples
    --------
    >>> d = prompt_family_derivation()
    >>> d["limit"], d["best_c"], d["best_limit"]
    ('2*c/(3*c**2 + 4)', '2*sqrt(3)/3', 'sqrt(3)/6')
    """
    import sympy as sp
    M, c, m, k = sp.symbols("M c m k", positive=True)
    mcsf = k * (k + 1) / 2 + m * (k + 2)
    alt = 2 * m + k * (k + 1) / 2 + 2 * k
    assert sp.expand(mcsf - alt - k * (m - 2)) == 0              # the difference is k (m - 2)
    ratio = (mcsf / alt).subs({m: M / 3, k: c * sp.sqrt(M)})
    lim = sp.simplify(sp.limit(ratio / sp.sqrt(M), M, sp.oo))
    assert sp.simplify(lim - 2 * c / (4 + 3 * c ** 2)) == 0
    best = [x for x in sp.solve(sp.diff(lim, c), c) if x.is_positive]
    assert len(best) == 1 and sp.simplify(best[0] - 2 / sp.sqrt(3)) == 0
    top = sp.nsimplify(sp.simplify(lim.subs(c, best[0])))
    assert sp.simplify(top - 1 / (2 * sp.sqrt(3))) == 0 and top > 0
    return {"mcsf": str(mcsf), "smalls_first": str(alt), "limit": str(lim),
            "best_c": str(sp.nsimplify(best[0])), "best_limit": str(top)}


def prompt_family_row(m: int, *, c: float = OPTIMAL_C, exact: bool = False,
                      time_limit: float = 20.0) -> dict:
    """One member (``M = 3m``, ``k = round(c sqrt(M))``): simulated and closed-form figures.

    MC-SF is simulated and checked against its closed form; ``exact=True`` adds the exact
    optimum (small ``m`` only).

    Examples
    --------
    >>> r = prompt_family_row(4, exact=True)
    >>> r["M"], r["k"], r["mcsf"], r["closed_form_ok"], r["opt"]
    (12, 4, 34, True, 26)
    """
    m = as_int(m, name="m", minimum=2)
    M = 3 * m
    k = max(1, round(c * math.sqrt(M)))
    inst = prompt_family(m, k)
    sched = simulate(inst, mc_sf)
    check_schedule(inst, sched)
    alt = prompt_family_schedule(m, k)
    check_schedule(inst, alt)
    cf = prompt_family_costs(m, k)
    row = {"m": m, "M": M, "k": k, "n": inst.n, "mcsf": int(sched.total_latency),
           "smalls_first": int(alt.total_latency),
           "closed_form_ok": (sched.total_latency == cf["mcsf"]
                              and alt.total_latency == cf["smalls_first"]),
           "ratio_vs_smalls_first": sched.total_latency / alt.total_latency}
    row["over_sqrtM"] = row["ratio_vs_smalls_first"] / math.sqrt(M)
    if exact:
        res = solve_optimal(inst, time_limit=time_limit)
        row.update(opt=int(res.objective), proven=bool(res.proven_optimal),
                   ratio_vs_opt=sched.total_latency / res.objective)
    return row


def family_size_beating(constant: float, *, c: float = OPTIMAL_C, start: int = 2) -> dict:
    """A family member whose MC-SF / smalls-first ratio exceeds ``constant`` (closed forms).

    Doubling, then bisection on ``m`` for the first member past ``constant``; the ratio grows
    like ``sqrt(M)`` but rounding ``k`` makes it not exactly monotone, so the member returned is
    the first one the bisection meets, checked to exceed ``constant``.

    Examples
    --------
    >>> r = family_size_beating(2.0)
    >>> r["ratio"] > 2.0, r["M"]
    (True, 36)
    """
    def ratio(m):
        k = max(1, round(c * math.sqrt(3 * m)))
        cf = prompt_family_costs(m, k)
        return cf["mcsf"] / cf["smalls_first"], k

    lo = as_int(start, name="start", minimum=2)
    if ratio(lo)[0] > constant:
        hi = lo
    else:
        hi = 2 * lo
        while ratio(hi)[0] <= constant:
            lo, hi = hi, 2 * hi
        while hi - lo > 1:                       # ratio(lo) <= constant < ratio(hi)
            mid = (lo + hi) // 2
            if ratio(mid)[0] > constant:
                hi = mid
            else:
                lo = mid
    r, k = ratio(hi)
    assert r > constant
    return {"m": hi, "M": 3 * hi, "k": k, "ratio": r}


# --------------------------------------------------------------------------- instances
def batch_instance(rng: np.random.Generator, n: int, memory: int, *,
                   max_peak: int | None = None) -> Instance:
    """Random all-at-0 instance with heterogeneous prompts: ``s + o <= max_peak`` (default M).

    ``s ~ U{1..P-1}``, ``o ~ U{1..P-s}`` with ``P = max_peak``.

    Examples
    --------
    >>> inst = batch_instance(np.random.default_rng(0), 5, 12, max_peak=6)
    >>> int((inst.prompt + inst.output).max()) <= 6, int(inst.arrival.max())
    (True, 0)
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    M = as_int(memory, name="memory", minimum=2)
    P = M if max_peak is None else as_int(max_peak, name="max_peak", minimum=2)
    if P > M:
        raise ValueError(f"max_peak must be <= memory, found {P} > {M}")
    s = rng.integers(1, P, size=n)
    o = np.array([int(rng.integers(1, P - si + 1)) for si in s], dtype=np.int64)
    return Instance.from_arrays(np.zeros(n, dtype=np.int64), s, o, M)


def batch_instances(max_n: int, max_memory: int) -> Iterator[Instance]:
    """Every all-at-0 instance with ``n <= max_n`` and ``M <= max_memory`` (up to order).

    Examples
    --------
    >>> sum(1 for _ in batch_instances(1, 3))       # M=2: (1,1); M=3: (1,1), (1,2), (2,1)
    4
    """
    for M in range(2, as_int(max_memory, name="max_memory", minimum=2) + 1):
        kinds = [(s, o) for s in range(1, M) for o in range(1, M - s + 1)]
        for n in range(1, as_int(max_n, name="max_n", minimum=1) + 1):
            for combo in itertools.combinations_with_replacement(kinds, n):
                yield Instance.from_arrays([0] * n, [x[0] for x in combo],
                                           [x[1] for x in combo], M)


# --------------------------------------------------------------------------- paper 5
def fluid_total(volumes, memory):
    """Total completion time of ``volumes`` served in this order by one resource of ``memory``
    units of area per round: the sum of the order's prefix sums over ``memory``.

    The relaxation behind the volume bound of arXiv 2606.22327 (all requests at round 0).
    Works on numbers and on sympy symbols.

    Examples
    --------
    >>> from fractions import Fraction
    >>> fluid_total([2, 3, 5], Fraction(10))        # (2 + 5 + 10) / 10
    Fraction(17, 10)
    >>> fluid_total([], 4)
    0
    """
    total, prefix = 0, 0
    for v in volumes:
        prefix = prefix + v
        total = total + prefix
    return total / memory if volumes else 0


def svf_volume_bound(instance: Instance) -> Fraction:
    """The volume lower bound of arXiv 2606.22327 (second-hand), as an exact fraction.

    ``(1/M) sum_j sum_{i <= j} vol_(i)`` with volumes ``vol_i = s_i o_i + o_i(o_i+1)/2`` sorted
    increasingly.  Stated for all requests at round 0.  It is the fluid part of our
    :func:`kvtheory.optimum.search.volume_lower_bound` (Schrage's rule with no release dates), which in
    addition rounds up and takes the maximum with ``sum o_i``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [3, 3], [5, 5], memory=8)
    >>> svf_volume_bound(inst), volume_lower_bound(inst)      # (30 + 60) / 8, rounded up
    (Fraction(45, 4), 12)
    """
    vol = sorted(int(v) for v in instance.volume)
    return Fraction(sum(itertools.accumulate(vol)), instance.memory)


def svf_ratio_bound(instance: Instance) -> float:
    """``1 + 2/(1 - alpha)`` with ``alpha = max_i (s_i + o_i) / M`` (arXiv 2606.22327, 2nd-hand).

    ``inf`` when some request's peak is ``M`` (the bound says nothing then).

    Examples
    --------
    >>> svf_ratio_bound(Instance.from_arrays([0, 0], [1, 1], [2, 3], memory=8))   # alpha = 1/2
    5.0
    >>> svf_ratio_bound(Instance.from_arrays([0], [1], [3], memory=4))
    inf
    """
    alpha = Fraction(int((instance.prompt + instance.output).max()), instance.memory)
    return math.inf if alpha >= 1 else float(1 + 2 / (1 - alpha))


# --------------------------------------------------------------------------- search
@dataclass(frozen=True)
class SearchOutcome:
    """Result of :func:`worst_ratio_search`: the highest score and its instance.

    ``score`` is ``policy / OPT`` divided by the reference (1 unless ``reference`` is given),
    ``ratio`` the plain ``policy / OPT``.
    """

    instance: Instance
    score: float
    ratio: float
    policy_cost: int
    opt: int
    evaluations: int
    history: tuple = field(default=(), repr=False)


def _mutate(rng, s, o, M, max_n, P):
    s, o = s.copy(), o.copy()
    move, i = int(rng.integers(0, 6)), int(rng.integers(0, s.size))
    if move == 0:
        o[i] += int(rng.choice([-2, -1, 1, 2]))
    elif move == 1:
        s[i] += int(rng.choice([-2, -1, 1, 2]))
    elif move == 2 and s.size < max_n:
        s, o = np.append(s, s[i]), np.append(o, o[i])
    elif move == 3 and s.size > 1:
        s, o = np.delete(s, i), np.delete(o, i)
    elif move == 4:
        s[i] = int(rng.integers(1, P))
    else:
        o[i] = int(rng.integers(1, P))
    s = np.clip(s, 1, P - 1)
    return s, np.clip(o, 1, P - s), M


def worst_ratio_search(rng: np.random.Generator, policy: Callable, *, restarts: int = 3,
                       steps: int = 20, max_n: int = 6, max_memory: int = 14,
                       min_memory: int = 4, peak_fraction: float | None = None,
                       reference: Callable[[Instance], float] | None = None,
                       time_limit: float = 10.0) -> SearchOutcome:
    """Hill-climb over all-at-0 instances with heterogeneous prompts for a high policy / OPT.

    Each restart draws :func:`batch_instance` (``n`` in 2..max_n, ``M`` in
    min_memory..max_memory, peaks ``<= peak_fraction * M`` if given), then tries ``steps``
    moves (change a prompt or an output by 1-2 or resample it, duplicate or delete a request);
    a move is kept if the score does not drop.  The score is ``policy / OPT`` (exact optimum;
    unproven solves are skipped), divided by ``reference(instance)`` if given.  Every schedule
    is checked.

    Examples
    --------
    >>> out = worst_ratio_search(np.random.default_rng(0), mc_sf, restarts=1, steps=3, max_n=4,
    ...                          max_memory=8)
    >>> out.ratio >= 1.0, out.evaluations
    (True, 4)
    """
    rng = check_generator(rng)
    restarts = as_int(restarts, name="restarts", minimum=1)
    steps = as_int(steps, name="steps", minimum=0)
    best, evals, history = None, 0, []

    def evaluate(s, o, M):
        nonlocal evals
        inst = Instance.from_arrays(np.zeros(s.size, dtype=np.int64), s, o, M)
        sched = simulate(inst, policy)
        check_schedule(inst, sched)
        res = solve_optimal(inst, time_limit=time_limit)
        if not res.proven_optimal:
            return None
        check_schedule(inst, res.schedule)
        evals += 1
        ratio = sched.total_latency / res.objective
        ref = 1.0 if reference is None else float(reference(inst))
        return (ratio / ref, ratio, inst, int(sched.total_latency), int(res.objective))

    for _ in range(restarts):
        M = int(rng.integers(min_memory, max_memory + 1))
        P = M if peak_fraction is None else max(2, math.floor(peak_fraction * M))
        inst = batch_instance(rng, int(rng.integers(2, max_n + 1)), M, max_peak=P)
        cur = (inst.prompt.copy(), inst.output.copy(), M)
        got = evaluate(*cur)
        if got is None:
            continue
        score = got[0]
        best = got if best is None or got[0] > best[0] else best
        history.append(best[0])
        for _ in range(steps):
            cand = _mutate(rng, *cur, max_n, P)
            g = evaluate(*cand)
            if g is not None and g[0] >= score:
                cur, score = cand, g[0]
                best = g if g[0] > best[0] else best
            history.append(best[0])
    if best is None:
        raise RuntimeError("no candidate had a proven optimum; raise time_limit")
    return SearchOutcome(best[2], float(best[0]), float(best[1]), best[3], best[4], evals,
                         tuple(history))


def svf_sample(rng: np.random.Generator, trials: int = 40, *, max_n: int = 6,
               max_memory: int = 14, time_limit: float = 10.0) -> list[dict]:
    """SVF / OPT and ``alpha`` on random all-at-0 instances (proven optima only), for a figure.

    Each instance draws its largest allowed peak uniformly in ``2..M``, so ``alpha`` spreads.

    Examples
    --------
    >>> from kvtheory.engines.policies.successors import svf
    >>> rows = svf_sample(np.random.default_rng(0), 3)
    >>> all(r["ratio"] >= 1 for r in rows)
    True
    """
    from kvtheory.engines.policies.successors import svf
    rng = check_generator(rng)
    rows = []
    for _ in range(as_int(trials, name="trials", minimum=1)):
        M = int(rng.integers(4, max_memory + 1))
        inst = batch_instance(rng, int(rng.integers(2, max_n + 1)), M,
                              max_peak=int(rng.integers(2, M + 1)))      # spread alpha
        sched = simulate(inst, svf)
        check_schedule(inst, sched)
        res = solve_optimal(inst, time_limit=time_limit)
        if res.proven_optimal:
            peak = int((inst.prompt + inst.output).max())
            rows.append({"alpha": peak / inst.memory, "ratio": sched.total_latency / res.objective,
                         "n": inst.n, "M": inst.memory})
    return rows
