"""Strong NP-hardness of the semi-online reading with arbitrary prompts: a 3-PARTITION reduction.

The reading (our reconstruction of v2's "semi-online" model, see the semi-online chapter): every
request arrives at round 0, prompt sizes are arbitrary, and here every output is ``o_i = 1``.
Under the project's convention a request started at decision time ``p`` is processed in round
``p + 1`` only, holding ``s_i + 1`` memory, and completes at ``p + 1``.  So a round is a *bin*
of capacity ``M`` holding items of size ``s_i + 1``, and the total latency is
``sum_t t * (number of requests processed in round t)``.

**The reduction** (our construction).  A 3-PARTITION instance is ``3m`` positive integers
``a_1, ..., a_3m`` with ``sum a_j = m B`` and ``B/4 < a_j < B/2``; it is a *yes* instance iff the
integers split into ``m`` triples each summing to ``B``.  Map it to the scheduling instance

* ``3m`` requests, request ``j`` with arrival 0, prompt ``s_j = a_j - 1``, output 1;
* memory ``M = B``;
* threshold ``K = 3 m (m + 1) / 2``.

*Claim:* the minimum total latency equals ``K`` iff the 3-PARTITION instance is a yes instance
(and exceeds ``K`` otherwise).

*Proof.*  Each item has size ``a_j > B/4``, so a round holds at most 3 requests.  With ``3m``
requests and at most 3 per round, sorting the requests by round shows the ``k``-th request
(``k = 1..3m``) completes no earlier than round ``ceil(k/3)``, so every schedule costs at least
``sum_k ceil(k/3) = 3 (1 + ... + m) = K``, with equality iff rounds ``1..m`` each hold exactly 3
requests.  In that case the ``m`` rounds hold total size ``m B`` with each round at most ``B``, so
each round sums to exactly ``B``: a 3-partition.  Conversely a 3-partition, one triple per round
``1..m``, is a feasible schedule of cost ``K``.  QED.

The map is computed in linear time, and the numbers of the scheduling instance are bounded by
those of the 3-PARTITION instance.  3-PARTITION is NP-complete in the strong sense (Garey and
Johnson 1979), so deciding whether the optimum is at most ``K`` is strongly NP-hard: no algorithm
polynomial in ``n`` and ``M`` (even pseudo-polynomial) computes the optimum of this reading
unless P = NP.  The equal-prompt readings are not covered (with equal prompts and ``o_i = 1``
the problem is trivial: fill each round with ``floor(M / (s + 1))`` requests).

This module builds the instances, decides 3-PARTITION by brute force, and checks the claim
against the exact optimum (:func:`kvtheory.theory.semionline.exact_optimum_at_zero`, a dynamic program
independent of the reduction, optionally also :func:`kvtheory.optimum.exact.solve_optimal`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations_with_replacement

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance

__all__ = [
    "ThreePartition",
    "check_reduction",
    "is_three_partition",
    "random_three_partition",
    "reduction_instance",
    "reduction_rows",
    "reduction_table",
    "three_partition_family",
    "three_partition_instance",
    "threshold",
    "verify_reduction",
]


@dataclass(frozen=True)
class ThreePartition:
    """A 3-PARTITION instance: ``3m`` integers in ``(B/4, B/2)`` summing to ``m B``.

    Attributes
    ----------
    values : tuple of int
        The ``3m`` integers, sorted.
    bound : int
        ``B``, the target sum of every triple.
    """

    values: tuple[int, ...]
    bound: int

    @property
    def m(self) -> int:
        """Number of triples."""
        return len(self.values) // 3


def three_partition_instance(values: Sequence[int], bound: int) -> ThreePartition:
    """Validate and build a :class:`ThreePartition` (the single place inputs are checked).

    Examples
    --------
    >>> three_partition_instance([5, 4, 4], 13).values
    (4, 4, 5)
    >>> three_partition_instance([3, 4, 6], 13)
    Traceback (most recent call last):
    ...
    ValueError: 3-PARTITION values must lie strictly between B/4 = 3.25 and B/2 = 6.5, got 3
    """
    B = as_int(bound, name="B", minimum=1)
    vals = tuple(sorted(as_int(v, name="value", minimum=1) for v in values))
    if not vals or len(vals) % 3:
        raise ValueError(f"3-PARTITION needs 3m values with m >= 1, got {len(vals)}")
    for v in vals:
        if not B < 4 * v < 2 * B:
            raise ValueError(f"3-PARTITION values must lie strictly between B/4 = {B / 4:g} and "
                             f"B/2 = {B / 2:g}, got {v}")
    m = len(vals) // 3
    if sum(vals) != m * B:
        raise ValueError(f"3-PARTITION values must sum to m*B = {m * B}, got {sum(vals)}")
    return ThreePartition(vals, B)


def reduction_instance(tp: ThreePartition) -> Instance:
    """The scheduling instance of the reduction: prompts ``a_j - 1``, outputs 1, ``M = B``.

    Examples
    --------
    >>> inst = reduction_instance(three_partition_instance([4, 4, 5], 13))
    >>> inst.prompt.tolist(), inst.output.tolist(), inst.memory
    ([3, 3, 4], [1, 1, 1], 13)
    """
    vals = tp.values
    return Instance.from_arrays([0] * len(vals), [v - 1 for v in vals], [1] * len(vals),
                                memory=tp.bound, name=f"3-PARTITION B={tp.bound} {list(vals)}")


def threshold(m: int) -> int:
    """``K = 3 m (m + 1) / 2``: the least total latency of ``3m`` requests, at most 3 per round.

    Examples
    --------
    >>> threshold(1), threshold(2), threshold(3)
    (3, 9, 18)
    """
    m = as_int(m, name="m", minimum=0)
    return 3 * m * (m + 1) // 2


def is_three_partition(tp: ThreePartition) -> bool:
    """Decide 3-PARTITION by brute force (memoised search over the remaining multiset).

    Examples
    --------
    >>> is_three_partition(three_partition_instance([4, 4, 5, 4, 4, 5], 13))
    True
    >>> is_three_partition(three_partition_instance([4, 4, 4, 4, 4, 6], 13))
    False
    """
    B = tp.bound

    @cache
    def solve(rest: tuple[int, ...]) -> bool:
        if not rest:
            return True
        first, others = rest[0], rest[1:]          # the smallest value joins some triple
        for j in range(len(others)):
            if j and others[j] == others[j - 1]:
                continue
            need = B - first - others[j]
            tail = others[j + 1:]
            if need in tail:
                k = tail.index(need)
                left = others[:j] + tail[:k] + tail[k + 1:]
                if solve(left):
                    return True
        return False

    return solve(tp.values)


def three_partition_family(m: int, bounds: Iterable[int]) -> list[ThreePartition]:
    """Every 3-PARTITION instance with ``m`` triples and ``B`` in ``bounds`` (as multisets).

    Examples
    --------
    >>> [tp.values for tp in three_partition_family(1, [13])]     # values in {4, 5, 6}
    [(4, 4, 5)]
    >>> [tp.values for tp in three_partition_family(2, [13])]     # six values summing to 26
    [(4, 4, 4, 4, 4, 6), (4, 4, 4, 4, 5, 5)]
    """
    m = as_int(m, name="m", minimum=1)
    out = []
    for B in bounds:
        B = as_int(B, name="B", minimum=1)
        lo, hi = B // 4 + 1, (B - 1) // 2        # strictly between B/4 and B/2
        if lo > hi:
            continue
        for combo in combinations_with_replacement(range(lo, hi + 1), 3 * m):
            if sum(combo) == m * B:
                out.append(ThreePartition(tuple(combo), B))
    return out


def random_three_partition(rng: np.random.Generator, m: int, bound: int, *,
                           yes: bool | None = None, tries: int = 10_000) -> ThreePartition:
    """A random 3-PARTITION instance; ``yes=True`` plants a partition, ``yes=False`` rejects one.

    ``yes=None`` draws ``3m`` values uniformly from ``(B/4, B/2)`` conditioned on the sum
    (rejection sampling); ``yes=True`` draws ``m`` random triples summing to ``B``.
    """
    rng = check_generator(rng)
    m = as_int(m, name="m", minimum=1)
    B = as_int(bound, name="B", minimum=5)
    lo, hi = B // 4 + 1, (B - 1) // 2
    for _ in range(tries):
        if yes:
            vals = []
            for _ in range(m):
                a = int(rng.integers(lo, hi + 1))
                b = int(rng.integers(lo, hi + 1))
                c = B - a - b
                if not lo <= c <= hi:
                    break
                vals += [a, b, c]
            if len(vals) != 3 * m:
                continue
        else:
            vals = rng.integers(lo, hi + 1, size=3 * m).tolist()
            if sum(vals) != m * B:
                continue
        tp = ThreePartition(tuple(sorted(int(v) for v in vals)), B)
        if yes is False and is_three_partition(tp):
            continue
        return tp
    raise ValueError(f"no instance found in {tries} tries (m={m}, B={B}, yes={yes})")


def _optimum(inst: Instance, method: str) -> int:
    if method == "dp":
        from kvtheory.theory.semionline import exact_optimum_at_zero
        res = exact_optimum_at_zero(inst)
        sched = res.schedule(inst)
        obj = res.objective
    elif method == "ip":
        from kvtheory.optimum.exact import solve_optimal
        res = solve_optimal(inst)
        if not res.proven_optimal:
            raise ValueError(f"integer program not proven optimal on {inst.name}")
        sched, obj = res.schedule, res.objective
    else:
        raise ValueError(f"method must be 'dp' or 'ip', got {method!r}")
    rep = check_schedule(inst, sched, preemptive=False)
    if rep.total_latency != obj:
        raise AssertionError(f"solver objective {obj} != checked latency {rep.total_latency}")
    return int(obj)


def verify_reduction(family: Iterable[ThreePartition], *, method: str = "dp") -> dict:
    """Check the reduction on every instance: optimum ``== K`` iff 3-PARTITION says yes.

    Examples
    --------
    >>> rep = verify_reduction(three_partition_family(2, range(5, 16)))
    >>> rep["agree"] == rep["instances"], rep["yes"] > 0, rep["no"] > 0
    (True, True, True)

    Parameters
    ----------
    family : iterable of ThreePartition
    method : {"dp", "ip"}
        ``"dp"``: :func:`~kvtheory.theory.semionline.exact_optimum_at_zero`; ``"ip"``:
        :func:`~kvtheory.optimum.exact.solve_optimal`.  Every optimal schedule is checked.

    Returns
    -------
    dict
        ``instances``, ``yes``, ``no``, ``agree`` (instances where ``OPT == K`` matches the
        brute-force answer), ``disagree`` (list of the failing instances' values and ``B``),
        ``min_excess_no`` (least ``OPT - K`` over no instances, ``None`` if none), ``method``.
    """
    n = yes = agree = 0
    bad, excess = [], []
    for tp in family:
        inst = reduction_instance(tp)
        K = threshold(tp.m)
        opt = _optimum(inst, method)
        if opt < K:
            raise AssertionError(f"optimum {opt} below the proven lower bound {K} on {tp}")
        answer = is_three_partition(tp)
        n += 1
        yes += answer
        if answer == (opt == K):
            agree += 1
        else:
            bad.append((tp.values, tp.bound))
        if not answer:
            excess.append(opt - K)
    return {"instances": n, "yes": yes, "no": n - yes, "agree": agree, "disagree": bad,
            "min_excess_no": min(excess) if excess else None, "method": method}


def reduction_rows(cases: Sequence[tuple[int, Iterable[int]]], *, method: str = "dp") -> list[dict]:
    """One row per ``(m, bounds)``: the exhaustive family's counts from :func:`verify_reduction`.

    Examples
    --------
    >>> reduction_rows([(1, range(5, 12))])[0]["agree"]   # B = 6, 7, 9, 10, 11 (twice): 6
    6
    """
    rows = []
    for m, bounds in cases:
        bounds = list(bounds)
        rep = verify_reduction(three_partition_family(m, bounds), method=method)
        rows.append({"m": m, "B": f"{min(bounds)}..{max(bounds)}", "instances": rep["instances"],
                     "yes": rep["yes"], "no": rep["no"], "agree": rep["agree"],
                     "min OPT - K (no)": rep["min_excess_no"], "method": method})
    return rows


def reduction_table(family: Iterable[ThreePartition]) -> list[dict]:
    """One row per instance: ``m``, ``B``, the values, brute-force answer, ``OPT``, ``K``.

    Examples
    --------
    >>> [(r["yes"], r["OPT - K"]) for r in reduction_table(three_partition_family(2, [13]))]
    [(False, 1), (True, 0)]
    """
    rows = []
    for tp in family:
        opt = _optimum(reduction_instance(tp), "dp")
        K = threshold(tp.m)
        rows.append({"m": tp.m, "B": tp.bound, "values": " ".join(map(str, tp.values)),
                     "yes": is_three_partition(tp), "OPT": opt, "K": K, "OPT - K": opt - K})
    return rows


def check_reduction(*, quick: bool = True, seed: int = 2025) -> dict:
    """One check for the registry: the reduction on exhaustive families plus random instances.

    ``quick``: ``m <= 3`` with ``B`` up to 24/18 and 8 random instances; otherwise ``m <= 4``
    with larger ``B`` and 24 random instances (``m`` up to 6).  ``holds`` is ``True`` iff the
    optimum equals ``K`` exactly on the yes instances, on every instance.

    Examples
    --------
    >>> rep = check_reduction()
    >>> rep["holds"], rep["instances"] == rep["agree"]
    (True, True)
    """
    cases = ([(1, range(5, 25)), (2, range(5, 25)), (3, range(5, 19))] if quick else
             [(1, range(5, 40)), (2, range(5, 31)), (3, range(5, 22)), (4, range(5, 16))])
    rng = np.random.default_rng(seed)
    sizes = [(3, 25), (4, 29)] if quick else [(3, 25), (4, 29), (5, 33), (6, 37)]
    reps = 2 if quick else 3
    fam = [random_three_partition(rng, m, B, yes=y) for m, B in sizes for y in (True, False)
           for _ in range(reps)]
    parts = [verify_reduction(three_partition_family(m, b)) for m, b in cases]
    parts.append(verify_reduction(fam))
    out = {k: sum(p[k] for p in parts) for k in ("instances", "yes", "no", "agree")}
    out["disagree"] = [d for p in parts for d in p["disagree"]]
    out["holds"] = out["agree"] == out["instances"] and not out["disagree"]
    out["searched"] = (f"every 3-PARTITION instance with (m, B) in "
                       f"{[(m, f'{min(b)}..{max(b)}') for m, b in cases]} and {len(fam)} random "
                       f"ones (seed {seed}, m up to {max(m for m, _ in sizes)}); exact optimum by "
                       f"dynamic program, schedules checked, 3-PARTITION by brute force")
    return out
