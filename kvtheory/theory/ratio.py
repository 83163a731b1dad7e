"""MC-SF's constant competitive ratio under conditions (v4/v5, second-hand).

The paper proves that MC-SF is O(1)-competitive when

(a) every request arrives at round 0, (b) every prompt has the same size ``s``,
(c) ``M >= 2 max_i (s + õ_i)`` and (d) predictions satisfy ``o_i <= õ_i <= alpha o_i``.

With exact predictions the proof has three pieces (second-hand).  Write ``n_o`` for the number
of requests with output ``o`` and ``vol_o = s o + o (o + 1) / 2`` for the memory-time area of one
of them, and

``A = sum_o n_o sum_{o' <= o} n_{o'} vol_{o'}``  and  ``B = sum_o n_o o = sum_i o_i``.

* Lemma 4.4 (``clm_lemma_4_4``): ``MC-SF <= 1536 A / M + 24 B``.
* Lemma 4.5 (``clm_lemma_4_5``): the requests with output in ``[2^l, 2^{l+1})`` are all processed
  within ``192 / M * sum_{o in group} n_o vol_o + 5 max_{o in group} o`` rounds.
* Lemma 4.7 (``clm_lemma_4_7``): ``OPT >= A / (6 M) + B / 6``.
* Hence ``MC-SF / OPT <= 1536 * 6 = 9216`` (``clm_mcsf_ratio``).

This module computes these quantities, checks each inequality on random instances that satisfy
the conditions (against the exact optimum of :func:`kvtheory.optimum.exact.solve_optimal`, or against
its proven lower bound when a solve is not finished), searches adversarially for the worst
MC-SF/OPT ratio, and builds instance families that show what happens when a condition is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import mc_sf
from kvtheory.model.schedule import Schedule
from kvtheory.engines.simulator import simulate

__all__ = ["RATIO_BOUND", "LEMMA_4_4", "LEMMA_4_5", "LEMMA_4_7", "CONDITIONS", "volume",
           "lemma_terms", "lemma_4_4_bound", "lemma_4_7_bound", "group_spans", "ratio_conditions",
           "ratio_instance", "mcsf_opt_ratio", 
            "SearchResult", "adversarial_search",
           "dropped_condition_instance", "dropped_condition_table", "dropped_d_schedule",
           "dropped_d_derivation"]

#: Constants of the lemmas (v4/v5, second-hand).
LEMMA_4_4 = {"area": 1536, "length": 24}
LEMMA_4_5 = {"area": 192, "length": 5}
LEMMA_4_7 = {"area": 6, "length": 6}            # OPT >= A/(6M) + B/6
#: The final ratio bound ``1536 * 6``.
RATIO_BOUND = LEMMA_4_4["area"] * LEMMA_4_7["area"]
#: The four conditions of the theorem, by letter.
CONDITIONS = {"a": "all requests arrive at round 0",
              "b": "all prompts have the same size",
              "c": "M >= 2 max(s + õ)",
              "d": "o <= õ <= alpha * o"}


# --------------------------------------------------------------------------- the quantities
def volume(prompt: int, output: int) -> int:
    """Memory-time area ``vol_o = s o + o (o + 1) / 2`` of one request.

    Examples
    --------
    >>> volume(2, 3)          # holds 3, 4, 5 in its three rounds
    12
    >>> volume(1, 1)
    2
    """
    s = as_int(prompt, name="prompt", minimum=0)
    o = as_int(output, name="output", minimum=0)
    return s * o + o * (o + 1) // 2


def lemma_terms(instance: Instance) -> dict:
    """The two sums of the lemmas: ``A`` (area term) and ``B`` (length term).

    ``A = sum_o n_o sum_{o' <= o} n_{o'} vol_{o'}`` and ``B = sum_i o_i``, with true outputs and
    each request's own prompt (under condition (b) all prompts are equal).  Equivalently, with
    requests sorted by output, ``A`` is the sum over requests ``i`` of the total volume of the
    requests whose output is at most ``o_i`` (``i`` included).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [1, 1, 2], memory=8)
    >>> lemma_terms(inst)          # vol_1 = 2, vol_2 = 5: A = 2*(2*2) + 1*(4 + 5)
    {'A': 17, 'B': 4, 'M': 8}
    """
    o, vol = instance.output, instance.volume
    # cumulative volume of all requests with output <= o_i, for each i
    order = np.argsort(o, kind="stable")
    so, sv = o[order], vol[order]
    csum = np.cumsum(sv)
    last = np.searchsorted(so, so, side="right") - 1         # last index with the same output
    A = int(csum[last].sum()) if instance.n else 0
    return {"A": A, "B": int(o.sum()), "M": int(instance.memory)}


def lemma_4_4_bound(instance: Instance) -> float:
    """Lemma 4.4 (claim ``clm_lemma_4_4``): ``MC-SF <= 1536 A / M + 24 B``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [1, 1, 2], memory=8)
    >>> lemma_4_4_bound(inst)      # 1536*17/8 + 24*4
    3360.0
    """
    t = lemma_terms(instance)
    return LEMMA_4_4["area"] * t["A"] / t["M"] + LEMMA_4_4["length"] * t["B"]


def lemma_4_7_bound(instance: Instance) -> float:
    """Lemma 4.7 (claim ``clm_lemma_4_7``): ``OPT >= A / (6 M) + B / 6``.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [1, 1, 2], memory=8)
    >>> round(lemma_4_7_bound(inst), 4)          # 17/48 + 4/6; OPT is 4 here
    1.0208
    """
    t = lemma_terms(instance)
    return t["A"] / (LEMMA_4_7["area"] * t["M"]) + t["B"] / LEMMA_4_7["length"]


def group_spans(schedule: Schedule, constants: dict | None = None) -> list[dict]:
    """Lemma 4.5 (claim ``clm_lemma_4_5``): span of each power-of-two output group vs its bound.

    Group ``l`` holds the requests with output in ``[2^l, 2^{l+1})``.  Its **span** (our reading
    of "the rounds between processing its first and last request") is the number of rounds from
    the first round in which any of its requests is processed to the last such round, both
    included: ``max_i c_i - min_i p_i`` over the group (a request started at ``p`` is first
    processed in round ``p + 1``).  This is the largest of the plausible readings (the distance
    between the first and last *start* is smaller), so a bound that holds for it holds for all.
    The bound is ``192 / M * sum_{i in group} vol_i + 5 max_{i in group} o_i`` (other constants
    ``{"area": a, "length": b}`` through ``constants``).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [1, 2, 3], memory=12)
    >>> rows = group_spans(simulate(inst, mc_sf))
    >>> [(r["group"], r["n"], r["span"]) for r in rows]   # outputs {1} and {2, 3}
    [(0, 1, 1), (1, 2, 3)]
    """
    inst = schedule.instance
    o = inst.output
    starts = np.array([r.first_start for r in schedule.records], dtype=np.int64)
    comps = np.array([r.completion for r in schedule.records], dtype=np.int64)
    vol = inst.volume
    level = np.floor(np.log2(o)).astype(np.int64)
    c = LEMMA_4_5 if constants is None else constants
    rows = []
    for l in np.unique(level):
        g = level == l
        span = int(comps[g].max() - starts[g].min())
        bound = c["area"] * float(vol[g].sum()) / inst.memory + c["length"] * int(o[g].max())
        rows.append({"group": int(l), "outputs": f"[{2 ** int(l)}, {2 ** (int(l) + 1)})",
                     "n": int(g.sum()), "span": span, "start_span": int(starts[g].max() - starts[g].min()),
                     "bound": bound, "slack": span / bound})
    return rows


def ratio_conditions(instance: Instance, alpha: float | None = None) -> dict:
    """Which of the theorem's conditions (a)-(d) the instance satisfies.

    Condition (d) is ``o <= õ`` when ``alpha`` is ``None`` and ``o <= õ <= alpha o`` otherwise.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [2, 2], [1, 3], memory=10)
    >>> ratio_conditions(inst)
    {'a': True, 'b': True, 'c': True, 'd': True}
    >>> ratio_conditions(inst.with_predictions([3, 3]), alpha=2)   # 3 > 2 * 1
    {'a': True, 'b': True, 'c': True, 'd': False}
    """
    if instance.n == 0:
        return {k: True for k in CONDITIONS}
    o, p = instance.output, instance.prediction
    d = bool((p >= o).all())
    if alpha is not None:
        d = d and bool((p <= as_fraction(alpha, name="alpha", low=1.0, high=math.inf) * o).all())
    return {"a": bool((instance.arrival == 0).all()),
            "b": bool((instance.prompt == instance.prompt[0]).all()),
            "c": bool(instance.memory >= 2 * int((instance.prompt + p).max())),
            "d": d}


def ratio_instance(rng: np.random.Generator, n: int, memory: int, *, prompt: int | None = None,
                   alpha: float = 1.0) -> Instance:
    """Random instance satisfying conditions (a)-(d): all at 0, equal prompts, ``M >= 2 max(s+õ)``.

    ``s ~ U{1..3}`` (or ``prompt``), ``o ~ U{1..M//2 - s}``, and with ``alpha > 1`` predictions
    ``õ = min(floor(o U[1, alpha]), M//2 - s)``, so ``o <= õ <= alpha o``.

    Examples
    --------
    >>> inst = ratio_instance(np.random.default_rng(0), 6, 20, alpha=2.0)
    >>> ratio_conditions(inst, alpha=2.0)
    {'a': True, 'b': True, 'c': True, 'd': True}
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    M = as_int(memory, name="memory", minimum=4)
    alpha = as_fraction(alpha, name="alpha", low=1.0, high=math.inf)
    s = int(rng.integers(1, min(3, M // 2 - 1) + 1)) if prompt is None else as_int(prompt, name="prompt", minimum=1)
    cap = M // 2 - s
    if cap < 1:
        raise ValueError(f"prompt {s} leaves no output length with M >= 2(s + o) for M={M}")
    o = rng.integers(1, cap + 1, size=n)
    pred = None
    if alpha > 1.0:
        pred = np.minimum(np.floor(o * rng.uniform(1.0, alpha, size=n)), cap).astype(np.int64)
        pred = np.maximum(pred, o)
    return Instance.from_arrays(np.zeros(n, dtype=np.int64), [s] * n, o, M, prediction=pred)


def mcsf_opt_ratio(instance: Instance, *, time_limit: float | None = 30.0) -> dict:
    """MC-SF's total latency against the optimum (both schedules checked).

    Returns plain numbers: ``mcsf``, ``opt`` (best schedule found), ``lower_bound`` (proven),
    ``proven``, ``ratio`` (MC-SF / best found: a lower bound on the true ratio unless proven)
    and ``ratio_upper`` (MC-SF / proven lower bound: an upper bound on the true ratio).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> r = mcsf_opt_ratio(inst)
    >>> r["mcsf"], r["opt"], r["ratio"], r["proven"]
    (8, 8, 1.0, True)
    """
    sched = simulate(instance, mc_sf)
    check_schedule(instance, sched)
    res = solve_optimal(instance, time_limit=time_limit)
    check_schedule(instance, res.schedule)
    lb = max(float(res.lower_bound), float(instance.output.sum()))   # every latency >= o_i
    return {"mcsf": int(sched.total_latency), "opt": int(res.objective),
            "lower_bound": lb, "proven": bool(res.proven_optimal),
            "ratio": sched.total_latency / res.objective,
            "ratio_upper": sched.total_latency / (res.objective if res.proven_optimal else lb),
            "schedule": sched}


# --------------------------------------------------------------------------- check functions
# --------------------------------------------------------------------------- adversarial search
@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`adversarial_search`.

    Attributes
    ----------
    instance : Instance
        The worst instance found.
    ratio : float
        Its MC-SF / OPT ratio (OPT proven).
    mcsf, opt : int
        The two total latencies.
    evaluations : int
        Instances whose ratio was computed (proven optima only).
    drop : tuple of str
        Conditions that were *not* enforced (letters of :data:`CONDITIONS`).
    history : tuple of float
        Best ratio after each evaluation.
    """

    instance: Instance
    ratio: float
    mcsf: int
    opt: int
    evaluations: int
    drop: tuple = ()
    history: tuple = field(default=(), repr=False)


def _repair(a, s, o, p, M, drop, alpha, max_arrival, max_memory):
    """Project a candidate onto the set allowed by the enforced conditions."""
    M = int(np.clip(M, 6, max_memory))
    s = np.clip(s, 1, M // 2 - 1 if "c" not in drop else M - 1)
    if "b" not in drop:
        s = np.full_like(s, s[0])
    a = np.zeros_like(a) if "a" not in drop else np.clip(a, 0, max_arrival)
    cap = (M // 2 - s) if "c" not in drop else (M - s)
    o = np.clip(o, 1, cap)
    if "d" in drop:
        p = np.clip(p, 1, cap)
    else:
        p = np.clip(p, o, np.minimum(np.floor(alpha * o), cap)).astype(np.int64)
    return a, s, o, p, M


def _mutate(rng, a, s, o, p, M, drop, max_n, max_arrival):
    a, s, o, p = a.copy(), s.copy(), o.copy(), p.copy()
    move = int(rng.integers(0, 8))
    n = o.size
    i = int(rng.integers(0, n))
    if move == 0:
        o[i] += int(rng.choice([-3, -2, -1, 1, 2, 3]))
    elif move == 1:
        o[i] = int(rng.integers(1, M))
    elif move == 2 and n < max_n:                                   # duplicate a request
        a, s, o, p = (np.append(x, x[i]) for x in (a, s, o, p))
    elif move == 3 and n > 1:
        a, s, o, p = (np.delete(x, i) for x in (a, s, o, p))
    elif move == 4:
        s[i] += int(rng.choice([-1, 1]))
        if "b" not in drop:
            s[:] = s[i]
    elif move == 5:
        M += int(rng.choice([-2, -1, 1, 2]))
    elif move == 6:
        p[i] = int(rng.integers(1, M)) if "d" in drop else p[i] + int(rng.choice([-1, 1]))
    elif move == 7 and "a" in drop:
        a[i] = int(rng.integers(0, max_arrival + 1))
    return a, s, o, p, M


def adversarial_search(rng: np.random.Generator, *, restarts: int = 4, steps: int = 40,
                       max_n: int = 7, max_memory: int = 20, alpha: float = 1.0,
                       drop: Iterable[str] = (), max_arrival: int = 6,
                       time_limit: float = 10.0) -> SearchResult:
    """Search for the worst MC-SF / OPT ratio: random restarts plus local moves (hill climbing).

    Each restart draws an instance satisfying the enforced conditions, then tries ``steps``
    random moves (change one output, resample it, duplicate or delete a request, change the
    prompt size, the memory, a prediction, or an arrival when (a) is dropped); a move is kept if
    the ratio does not decrease.  Every candidate is projected back onto the conditions that are
    enforced; ``drop`` lists the conditions (letters of :data:`CONDITIONS`) that are not.  The
    ratio uses the exact optimum (candidates whose solve is not proven are skipped).

    Examples
    --------
    >>> res = adversarial_search(np.random.default_rng(0), restarts=1, steps=5, max_n=4)
    >>> res.ratio >= 1.0, all(ratio_conditions(res.instance).values())
    (True, True)
    """
    rng = check_generator(rng)
    restarts = as_int(restarts, name="restarts", minimum=1)
    steps = as_int(steps, name="steps", minimum=0)
    alpha = as_fraction(alpha, name="alpha", low=1.0, high=math.inf)
    drop = tuple(sorted(set(drop)))
    unknown = set(drop) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"drop must contain letters of {sorted(CONDITIONS)}, got {sorted(unknown)}")
    best, history, evals = None, [], 0

    def evaluate(a, s, o, p, M):
        nonlocal evals
        has_pred = alpha > 1 or "d" in drop
        inst = Instance.from_arrays(a, s, o, M, prediction=p if has_pred else None)
        r = mcsf_opt_ratio(inst, time_limit=time_limit)
        if not r["proven"]:
            return None
        evals += 1
        return inst, r

    for _ in range(restarts):
        n = int(rng.integers(2, max_n + 1))
        M = int(rng.integers(8, max_memory + 1))
        a = rng.integers(0, max_arrival + 1, size=n)
        s = rng.integers(1, 4, size=n)
        o = rng.integers(1, M, size=n)
        p = np.ceil(o * rng.uniform(1.0, max(alpha, 1.0), size=n)).astype(np.int64)
        if "d" in drop:
            p = rng.integers(1, M, size=n)
        cur = _repair(a, s, o, p, M, drop, alpha, max_arrival, max_memory)
        got = evaluate(*cur)
        if got is None:
            continue
        cur_ratio = got[1]["ratio"]
        if best is None or cur_ratio > best[1]["ratio"]:
            best = got
        history.append(best[1]["ratio"])
        for _ in range(steps):
            cand = _repair(*_mutate(rng, *cur, drop, max_n, max_arrival), drop, alpha,
                           max_arrival, max_memory)
            got = evaluate(*cand)
            if got is None:
                continue
            if got[1]["ratio"] >= cur_ratio:
                cur, cur_ratio = cand, got[1]["ratio"]
                if cur_ratio > best[1]["ratio"]:
                    best = got
            history.append(best[1]["ratio"])
    if best is None:
        raise RuntimeError("no candidate had a proven optimum; raise time_limit")
    inst, r = best
    return SearchResult(inst, float(r["ratio"]), r["mcsf"], r["opt"], evals, drop, tuple(history))


# --------------------------------------------------------------------------- dropped conditions
def dropped_condition_instance(condition: str, k: int) -> Instance:
    """A family of instances that violates exactly one condition, indexed by a size ``k >= 1``.

    * ``"a"`` (arrivals): prompt ``s = 2k``, two long requests (``o = k``) at round 0 and ``2k``
      short ones (``o = 1``) at round 1; ``M = 2(s + k)``.  MC-SF starts both long requests at
      once, which leaves no room for a short one until they finish.
    * ``"b"`` (prompts): ``2k`` requests ``(s = 3k, o = 1)`` and ``2k`` requests ``(s = 1, o = 2)``,
      ``M = 2(3k + 1)``.  Shortest-first runs the big-prompt ones first, two per round.
    * ``"c"`` (memory): ``k + 1`` requests with ``s = 1``: ``k`` short (``o = 1``) and one long
      with ``s + o = M = 2k + 2``.
    * ``"d"`` (predictions): ``s = 1``, two long requests (``o = õ = 2k``) and ``2k + 1`` short
      ones (``o = 1``) predicted as long (``õ = 2k``, so ``õ / o`` is unbounded); ``M = 2(1 + 2k)``.

    Examples
    --------
    >>> inst = dropped_condition_instance("d", 2)
    >>> inst.n, inst.memory, ratio_conditions(inst, alpha=2)
    (7, 10, {'a': True, 'b': True, 'c': True, 'd': False})
    """
    k = as_int(k, name="k", minimum=1)
    if condition == "a":
        s, L = 2 * k, k
        return Instance.from_arrays([0, 0] + [1] * (2 * k), [s] * (2 + 2 * k),
                                    [L, L] + [1] * (2 * k), 2 * (s + L), name=f"drop (a), k={k}")
    if condition == "b":
        S = 3 * k
        return Instance.from_arrays([0] * (4 * k), [S] * (2 * k) + [1] * (2 * k),
                                    [1] * (2 * k) + [2] * (2 * k), 2 * (S + 1),
                                    name=f"drop (b), k={k}")
    if condition == "c":
        M = 2 * k + 2
        return Instance.from_arrays([0] * (k + 1), [1] * (k + 1), [1] * k + [M - 1], M,
                                    name=f"drop (c), k={k}")
    if condition == "d":
        L = 2 * k
        n_short = 2 * k + 1
        return Instance.from_arrays([0] * (2 + n_short), [1] * (2 + n_short),
                                    [L, L] + [1] * n_short, 2 * (1 + L),
                                    prediction=[L] * (2 + n_short), name=f"drop (d), k={k}")
    raise ValueError(f"condition must be one of {sorted(CONDITIONS)}, got {condition!r}")


def dropped_condition_table(sizes: Iterable[int] = (1, 2, 3, 4), *,
                            time_limit: float = 30.0) -> list[dict]:
    """MC-SF / OPT on each dropped-condition family of :func:`dropped_condition_instance`.

    One row per (condition, size) with the exact optimum (``proven`` says whether the solve
    finished) and which conditions hold.

    Examples
    --------
    >>> rows = dropped_condition_table([1])
    >>> [(r["dropped"], r["ratio"] >= 1) for r in rows]
    [('a', True), ('b', True), ('c', True), ('d', True)]
    """
    rows = []
    for cond in sorted(CONDITIONS):
        for k in sizes:
            inst = dropped_condition_instance(cond, k)
            r = mcsf_opt_ratio(inst, time_limit=time_limit)
            held = ratio_conditions(inst, alpha=2.0)
            rows.append({"dropped": cond, "k": int(k), "n": inst.n, "M": inst.memory,
                         "mcsf": r["mcsf"], "opt": r["opt"], "proven": r["proven"],
                         "ratio": round(r["ratio"], 4),
                         "violated": "".join(c for c, ok in held.items() if not ok)})
    return rows



def dropped_d_schedule(k: int) -> Schedule:
    """An explicit schedule of family (d) with total latency ``6k + 3``, so ``OPT <= 6k + 3``.

    On :func:`dropped_condition_instance` ``("d", k)`` it starts the ``2k + 1`` short requests
    at round 0 (each holds ``s + 1 = 2``: together ``2(2k + 1) = M``, latency 1 each) and both
    long requests at round 1 (together ``2(1 + j) <= 2(1 + 2k) = M`` in their ``j``-th round,
    latency ``2k + 1`` each).  Pass it to :func:`kvtheory.model.checker.check_schedule`.

    Examples
    --------
    >>> sched = dropped_d_schedule(3)
    >>> check_schedule(dropped_condition_instance("d", 3), sched).total_latency   # 6k + 3
    21
    """
    k = as_int(k, name="k", minimum=1)
    inst = dropped_condition_instance("d", k)
    return Schedule.from_starts(inst, [1, 1] + [0] * (2 * k + 1), policy="shorts first")


def dropped_d_derivation() -> dict:
    """MC-SF and OPT on family (d) in closed form (sympy, asserts inside): the ratio is unbounded.

    On :func:`dropped_condition_instance` ``("d", k)`` every request is predicted to need
    ``õ = 2k`` tokens, so its predicted peak is ``s + õ = 2k + 1 = M / 2``: MC-SF runs two at a
    time.  Ties go by arrival, then id, so it starts the two long requests at round 0 (latency
    ``2k`` each) and then the short ones in pairs, one pair per round from round ``2k`` on (each
    actually finishes after one round); the last one runs alone at round ``3k``.  Hence

    ``MC-SF(k) = 2 (2k) + sum_{i=0}^{k-1} 2 (2k + i + 1) + (3k + 1) = 5k^2 + 8k + 1``,

    while :func:`dropped_d_schedule` gives ``OPT(k) <= 6k + 3`` and every request waits at least
    its output, ``OPT(k) >= sum o_i = 6k + 1``.  So ``MC-SF / OPT >= (5k^2 + 8k + 1)/(6k + 3)``,
    which tends to infinity (like ``5k/6``): dropping condition (d) leaves no constant ratio.
    The MC-SF closed form is a description of the policy's run; a caller checks it against
    :func:`kvtheory.engines.simulator.simulate` for small ``k``.

    Returns
    -------
    dict
        Symbol ``k`` and expressions ``mcsf``, ``opt_upper``, ``opt_lower``, ``ratio_lower``
        (``mcsf / opt_upper``), ``ratio_upper`` (``mcsf / opt_lower``) and ``slope`` (the limit
        of ``ratio_lower / k``).

    Examples
    --------
    >>> d = dropped_d_derivation()
    >>> str(d["mcsf"]), str(d["opt_upper"]), str(d["slope"])
    ('5*k**2 + 8*k + 1', '6*k + 3', '5/6')
    """
    import sympy as sp
    k, i = sp.symbols("k i", positive=True, integer=True)
    longs = 2 * (2 * k)                                          # both start at 0, o = 2k
    pairs = sp.summation(2 * (2 * k + i + 1), (i, 0, k - 1))     # pair i starts at 2k + i
    last = 3 * k + 1                                             # the (2k+1)-th short, alone
    mcsf = sp.expand(longs + pairs + last)
    assert sp.expand(mcsf - (5 * k**2 + 8 * k + 1)) == 0
    opt_upper = (2 * k + 1) * 1 + 2 * (2 * k + 1)                # dropped_d_schedule
    opt_lower = 2 * (2 * k) + (2 * k + 1) * 1                    # latency >= output
    assert sp.expand(opt_upper - (6 * k + 3)) == 0 and sp.expand(opt_lower - (6 * k + 1)) == 0
    ratio_lower = mcsf / opt_upper
    assert sp.limit(ratio_lower, k, sp.oo) == sp.oo
    slope = sp.limit(ratio_lower / k, k, sp.oo)
    assert slope == sp.Rational(5, 6)
    # the ratio bound increases in k: its derivative is 2(5k^2 + 5k + 3) / (3 (2k + 1)^2) > 0
    slope_k = 2 * (5 * k**2 + 5 * k + 3) / (3 * (2 * k + 1)**2)
    assert sp.simplify(sp.diff(ratio_lower, k) - slope_k) == 0
    return {"k": k, "mcsf": mcsf, "opt_upper": sp.expand(opt_upper),
            "opt_lower": sp.expand(opt_lower), "ratio_lower": ratio_lower,
            "ratio_upper": mcsf / sp.expand(opt_lower), "slope": slope}
