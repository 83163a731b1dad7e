"""Interval predictions (Chen, Ye, Zhou, arXiv 2508.14544): A_max and A_min against hindsight.

Model (second-hand): every request arrives at 0 with the same prompt ``s``; its output length
is only known to lie in ``[l, u]`` (``alpha = l/u``); the benchmark is hindsight shortest-first,
i.e. MC-SF with the true lengths.  A_max reads the intervals' upper ends, A_min their lower ends
(:func:`kvtheory.engines.policies.successors.interval_instances`).  Claims (second-hand): A_max's ratio
grows without bound as ``alpha -> 0`` (upper bound ``alpha^-1 (1 + alpha^-1) / 2``); A_min's is
``O(log(1/alpha))``.

:func:`interval_ratios` runs the three schedules (all checked), :func:`interval_sweep` measures
the worst ratios over instance kinds and seeds as ``u/l`` grows, and :func:`grade_growth` states
the rule that turns a measured trend into a status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.engines.policies import mc_sf
from kvtheory.engines.simulator import simulate
from kvtheory.engines.policies.successors import a_max, a_min, interval_instances

__all__ = ["KINDS", "interval_instance", "interval_ratios", "a_max_upper_bound",
           "interval_sweep", "interval_search", "clipped_upper", "Growth", "grade_growth", "amax_family",
           "amax_family_costs", "amax_family_derivation"]

#: How true lengths are drawn inside ``[l, u]``.
KINDS = ("lower", "upper", "uniform", "split")


def interval_instance(rng: np.random.Generator, n: int, ratio: int, *, lower: int = 2,
                      prompt: int = 1, kind: str = "uniform", slots: int = 4) -> tuple:
    """All-at-0 instance with equal prompts and true lengths in ``[l, u]``, ``u = ratio * l``.

    ``M = slots * (s + u)``: ``slots`` requests fit together at their upper ends.  ``kind``:
    ``"lower"`` (every ``o = l``), ``"upper"`` (every ``o = u``), ``"uniform"``
    (``o ~ U{l..u}``), ``"split"`` (each ``l`` or ``u`` with probability 1/2).

    Returns ``(instance, l, u)`` with ``l`` and ``u`` as per-request lists.

    Examples
    --------
    >>> inst, l, u = interval_instance(np.random.default_rng(0), 4, 4, kind="lower")
    >>> inst.memory, inst.output.tolist(), l[0], u[0]
    (36, [2, 2, 2, 2], 2, 8)
    >>> interval_instance(np.random.default_rng(0), 4, 4, kind="normal")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of ('lower', 'upper', 'uniform', 'split'), got 'normal'
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    r = as_int(ratio, name="ratio", minimum=1)
    l = as_int(lower, name="lower", minimum=1)
    s = as_int(prompt, name="prompt", minimum=1)
    slots = as_int(slots, name="slots", minimum=1)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    u = r * l
    if kind == "lower":
        o = np.full(n, l)
    elif kind == "upper":
        o = np.full(n, u)
    elif kind == "uniform":
        o = rng.integers(l, u + 1, size=n)
    else:
        o = np.where(rng.random(n) < 0.5, l, u)
    inst = Instance.from_arrays([0] * n, [s] * n, o, slots * (s + u),
                                name=f"interval {kind}, u/l={r}")
    return inst, [l] * n, [u] * n


def interval_ratios(instance: Instance, lower, upper) -> dict:
    """A_max, A_min and hindsight shortest-first on one instance, every schedule checked.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0, 0, 0], [1] * 4, [2, 2, 2, 2], memory=18)
    >>> r = interval_ratios(inst, [2] * 4, [8] * 4)
    >>> r["hindsight"], r["a_max"], r["a_min"], r["a_max_ratio"]
    (8, 12, 8, 1.5)
    """
    hi, lo = interval_instances(instance, lower, upper)
    out = {}
    for key, inst, pol in (("hindsight", instance, mc_sf), ("a_max", hi, a_max),
                           ("a_min", lo, a_min)):
        sched = simulate(inst, pol)
        check_schedule(inst, sched)
        out[key] = int(sched.total_latency)
        if key == "a_min":
            out["a_min_evictions"] = int(sched.evictions)
    out["a_max_ratio"] = out["a_max"] / out["hindsight"]
    out["a_min_ratio"] = out["a_min"] / out["hindsight"]
    return out


def clipped_upper(instance: Instance, upper, clip: int | None) -> list:
    """Upper ends ``min(u_i, clip * o_i)`` (``upper`` itself if ``clip`` is None).

    A planted target for the growth rule of A_max: reading these ends, A_max has
    ``u_i / o_i <= clip`` on every request, so its ratio is bounded whatever ``u/l`` is (the
    second-hand bound at ``alpha = 1/clip``: 3 for ``clip = 2``).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 0], [1, 1], [2, 5], memory=20)
    >>> clipped_upper(inst, [16, 16], 2), clipped_upper(inst, [16, 16], None)
    ([4, 10], [16, 16])
    """
    if clip is None:
        return list(upper)
    clip = as_int(clip, name="clip", minimum=1)
    return [int(min(u, clip * o)) for u, o in zip(upper, instance.output.tolist())]


def a_max_upper_bound(ratio: float) -> float:
    """Second-hand upper bound on A_max's ratio: ``alpha^-1 (1 + alpha^-1) / 2``, ``alpha = l/u``.

    Examples
    --------
    >>> a_max_upper_bound(1), a_max_upper_bound(4)
    (1.0, 10.0)
    """
    return ratio * (1 + ratio) / 2


def interval_sweep(rng: np.random.Generator, ratios=(1, 2, 4, 8, 16), *, draws: int = 2,
                   n: int | None = None, lower: int = 2, prompt: int = 1,
                   slots: int = 4, clip: int | None = None) -> list[dict]:
    """For each ``u/l`` and each kind of :data:`KINDS`, ``draws`` instances: one row each.

    ``n`` defaults to ``3 * slots * ratio`` (enough requests to fill the cache many times at the
    lower ends).  Rows hold the ratio, kind, ``n``, ``M`` and :func:`interval_ratios`.
    ``clip`` points the sweep at another target: A_max reads the upper ends
    ``min(u, clip * o)`` (:func:`clipped_upper`), same instances and seeds.

    Examples
    --------
    >>> rows = interval_sweep(np.random.default_rng(0), ratios=(1, 2), draws=1)
    >>> len(rows), {r["a_max_ratio"] for r in rows if r["u_over_l"] == 1}
    (8, {1.0})
    """
    rng = check_generator(rng)
    rows = []
    for r in ratios:
        for kind in KINDS:
            for d in range(as_int(draws, name="draws", minimum=1)):
                size = 3 * slots * r if n is None else n
                inst, l, u = interval_instance(rng, size, r, lower=lower, prompt=prompt,
                                               kind=kind, slots=slots)
                up = clipped_upper(inst, u, clip)
                rows.append({"u_over_l": int(r), "kind": kind, "draw": d, "n": inst.n,
                             "M": inst.memory, "l": l[0], "u": u[0],
                             "output": inst.output.tolist(), **interval_ratios(inst, l, up)})
    return rows


def interval_search(rng: np.random.Generator, ratio: int, *, key: str = "a_min_ratio",
                    n: int = 8, steps: int = 30, lower: int = 2, prompt: int = 1,
                    slots: int = 2, clip: int | None = None) -> dict:
    """Hill-climb the true lengths inside ``[l, u]`` for a high ``key`` (A_min's or A_max's ratio).

    Starts from a uniform draw; each step resamples one length or moves it to ``l`` or ``u``;
    keeps the move if the ratio does not drop.  ``clip``: as in :func:`interval_sweep`.

    Examples
    --------
    >>> out = interval_search(np.random.default_rng(0), 4, steps=5, n=4)
    >>> out["a_min_ratio"] >= 1.0, len(out["output"])
    (True, 4)
    """
    rng = check_generator(rng)
    inst, l, u = interval_instance(rng, n, ratio, lower=lower, prompt=prompt, kind="uniform",
                                   slots=slots)
    o = inst.output.copy()
    lo, hi = l[0], u[0]

    def score(o):
        cand = Instance.from_arrays(inst.arrival, inst.prompt, o, inst.memory)
        return interval_ratios(cand, l, clipped_upper(cand, u, clip))

    best = score(o)
    for _ in range(as_int(steps, name="steps", minimum=0)):
        o2 = o.copy()
        i = int(rng.integers(0, o.size))
        o2[i] = int(rng.choice([lo, hi, int(rng.integers(lo, hi + 1))]))
        got = score(o2)
        if got[key] >= best[key]:
            o, best = o2, got
    return {**best, "output": o.tolist(), "u_over_l": int(ratio), "M": inst.memory,
            "l": lo, "u": hi}


@dataclass(frozen=True)
class Growth:
    """A measured trend graded by :func:`grade_growth`."""

    status: str
    rule: str
    values: tuple
    normalised: tuple


def grade_growth(ratios, worst, *, shape: str) -> Growth:
    """Grade a worst-ratio sequence measured at increasing ``u/l`` (finite sizes: never proved).

    ``shape="unbounded"`` (A_max): ``supported`` if the sequence never drops by more than 2%,
    at least doubles from the first to the last ``u/l``, and still rises by >= 10% over the
    last step; else ``inconclusive``.  ``shape="log"`` (A_min, an upper bound
    ``O(log(u/l))``): normalise by ``1 + log2(u/l)``; ``supported`` if the normalised value
    rises by at most 10% over each of the last two steps (no faster-than-log growth at the
    end of the grid: a jump there is not hidden by a cap set by the first values); else
    ``inconclusive``.  A finite trend can neither prove nor refute an asymptotic claim.

    Examples
    --------
    >>> grade_growth([1, 2, 4, 8], [1.0, 1.6, 2.6, 4.5], shape="unbounded").status
    'supported'
    >>> grade_growth([1, 2, 4, 8], [1.0, 1.6, 1.7, 1.7], shape="unbounded").status
    'inconclusive'
    >>> grade_growth([1, 2, 4, 8], [1.0, 1.5, 1.8, 2.0], shape="log").status
    'supported'
    >>> grade_growth([1, 2, 4, 8], [1.0, 1.5, 3.0, 8.0], shape="log").status
    'inconclusive'
    >>> grade_growth([1, 2, 4, 8], [1.0, 1.0, 1.0, 4.3], shape="log").status    # a late jump
    'inconclusive'
    """
    r = [float(x) for x in ratios]
    w = [float(x) for x in worst]
    if len(r) != len(w) or len(r) < 3 or r != sorted(r):
        raise ValueError(f"expected >= 3 increasing u/l with one value each, found {r} and {w}")
    if shape == "unbounded":
        norm = tuple(w)
        ok = (all(b >= 0.98 * a for a, b in zip(w, w[1:])) and w[-1] >= 2 * w[0]
              and w[-1] >= 1.1 * w[-2])
        rule = ("never drops > 2%, at least doubles over the grid, still rises >= 10% over "
                "the last step")
    elif shape == "log":
        norm = tuple(x / (1 + math.log2(q)) for q, x in zip(r, w))
        ok = all(b <= 1.1 * a for a, b in zip(norm[-3:], norm[-2:]))
        rule = ("worst / (1 + log2(u/l)) rises by at most 10% over each of the last two steps "
                "of u/l")
    else:
        raise ValueError(f"shape must be 'unbounded' or 'log', got {shape!r}")
    return Growth("supported" if ok else "inconclusive", rule, tuple(w), tuple(norm))


# --------------------------------------------------------------------------- an exact family
def amax_family(ratio: int, slots: int, batches: int) -> tuple:
    """Our family on which A_max's ratio tends to ``(1 + u/l)/2``: unit requests, intervals [1, u].

    ``n = slots * batches`` requests at round 0 with ``s = 1`` and true ``o = 1 = l``; every
    interval is ``[1, u]`` with ``u = ratio``; ``M = slots (1 + u)`` (must be even).  A_max fits
    exactly ``slots`` requests at their upper ends; hindsight fits ``K = M / 2``; every batch
    lasts one round, so neither can stagger.

    Examples
    --------
    >>> inst, l, u = amax_family(3, 2, 2)
    >>> inst.n, inst.memory, u[0]
    (4, 8, 3)
    >>> amax_family(2, 1, 1)
    Traceback (most recent call last):
    ...
    ValueError: M = slots (1 + u) must be even, found 3
    """
    r = as_int(ratio, name="ratio", minimum=1)
    slots = as_int(slots, name="slots", minimum=1)
    b = as_int(batches, name="batches", minimum=1)
    M = slots * (1 + r)
    if M % 2:
        raise ValueError(f"M = slots (1 + u) must be even, found {M}")
    n = slots * b
    inst = Instance.from_arrays([0] * n, [1] * n, [1] * n, M, name=f"A_max family u={r}")
    return inst, [1] * n, [r] * n


def amax_family_costs(ratio: int, slots: int, batches: int) -> dict:
    """Closed forms on :func:`amax_family`: batches of ``slots`` (A_max) and ``K = M/2`` (hindsight).

    A batch started at ``t`` completes at ``t + 1``; ``q`` full batches of size ``K`` and a
    remainder ``r`` cost ``K q(q+1)/2 + r(q+1)``.

    Examples
    --------
    >>> amax_family_costs(3, 2, 2)          # A_max: 2 + 2 x 2; hindsight: all 4 at once
    {'a_max': 6, 'hindsight': 4}
    """
    def batched(n, K):
        q, rem = divmod(n, K)
        return K * q * (q + 1) // 2 + rem * (q + 1)
    n = slots * batches
    return {"a_max": batched(n, slots), "hindsight": batched(n, slots * (1 + ratio) // 2)}


def amax_family_derivation() -> dict:
    """Sympy: on :func:`amax_family`, A_max / hindsight -> (1 + u)/2 as batches grow; unbounded in u.

    With ``B`` batches of ``slots = c`` and hindsight batches of ``K = c(1 + u)/2`` (taking
    ``B`` a multiple of ``(1 + u)/2`` so both divide evenly), the ratio is
    ``c B(B+1) / (K B'(B'+1))`` with ``B' = cB/K``; its limit in ``B`` is ``(1 + u)/2``, which
    tends to infinity with ``u = 1/alpha`` (claim ``clm_amax_unbounded``).  Ends in assertions.

    Examples
    --------
    >>> amax_family_derivation()["limit"]
    'u/2 + 1/2'
    """
    import sympy as sp
    c, B, u = sp.symbols("c B u", positive=True)
    K = c * (1 + u) / 2
    Bh = c * B / K
    ratio = (c * B * (B + 1) / 2) / (K * Bh * (Bh + 1) / 2)
    lim = sp.simplify(sp.limit(ratio, B, sp.oo))
    assert sp.simplify(lim - (1 + u) / 2) == 0
    assert sp.limit(lim, u, sp.oo) == sp.oo
    return {"ratio": str(sp.simplify(ratio)), "limit": str(sp.expand(lim))}
