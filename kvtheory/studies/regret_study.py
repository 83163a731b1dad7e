"""Regret under separate batching: the best online policy (an MDP) and the measurements.

The model, checker, hindsight optimum and policies are in :mod:`kvtheory.theory.regret_separate`.
The best *online* policy is the solution of a Markov decision process (:func:`bayes_policy`,
Bernoulli arrivals): its expected cost ``V*(T)`` bounds every online policy's, so ``V*(T) -
E[OPT(T)]`` is a lower bound on the expected regret of every policy (claim
``clm_constant_regret``, our reconstruction).
"""

from __future__ import annotations

import math
import sys
from typing import Callable, Mapping, Sequence

import numpy as np

from kvtheory.model.stats import t_halfwidth
from kvtheory.model.validation import as_int, check_generator
from kvtheory.theory.regret import ArrivalModel, sample_instance
from kvtheory.theory.regret_separate import (SEPARATE_TYPES, SepState, _admissions, _admit, _advance,  # noqa: F401
                              _machine, check_separate, decode_first, hindsight_optimum,
                              lp_policy, prefill_first, simulate_separate)

__all__ = ["bayes_policy", "separate_regret_rows", "SEPARATE_POLICIES"]


# --------------------------------------------------------------------------- best online policy
def bayes_policy(model: ArrivalModel, horizon: int) -> Callable:
    """The best online policy for Bernoulli arrivals over ``horizon`` rounds (an MDP).

    Backward induction over (round, waiting counts, running counts) with the same actions as
    :func:`hindsight_optimum`; after the horizon the remaining requests are drained optimally.
    The policy's attribute ``value`` is its expected total latency ``V*(T)``, a lower bound
    on the expected total latency of *every* online policy.

    Examples
    --------
    >>> m = ArrivalModel(0.5, types=((1, 1, 1.0),), memory=4, process="bernoulli")
    >>> bayes_policy(m, 1).value        # one request w.p. 1/2: prefill, one token: 2 rounds
    1.0
    """
    if model.process != "bernoulli":
        raise ValueError(f"the exact MDP needs Bernoulli arrivals, got {model.process!r}")
    T = as_int(horizon, name="horizon", minimum=1)
    types = tuple((s, o) for s, o, _ in model.types)
    M, K = model.memory, len(types)
    _, C, nxt, first = _machine(types, M)
    outcomes = [(1.0 - model.rate, (0,) * K)] + [
        (model.rate * p, tuple(int(j == k) for j in range(K))) for k, (_, _, p) in
        enumerate(model.types)]
    memo: dict = {}
    cache: dict = {}

    def moves(t, w, run):
        acts = [None] if any(run) else []
        for x in _admissions(w, run, C, first, M, zero=t < T - 1 or not any(run) and t < T,
                             cache=cache):
            acts.append(x)
        for x in acts:
            yield x, ((w, _advance(run, nxt)) if x is None else
                      (tuple(a - b for a, b in zip(w, x)), _admit(run, x, first)))

    def q(t, w, run):                # cost from round t on, arrivals of round t included
        key = (t, w, run)
        if key not in memo:
            N = sum(w) + sum(run)
            if N == 0 and t >= T:
                memo[key] = (0.0, None)
            else:
                memo[key] = min(((N + value(t + 1, *ns), i, x)
                                 for i, (x, ns) in enumerate(moves(t, w, run))),
                                key=lambda v: (v[0], v[1]))[::2]
        return memo[key][0]

    def value(t, w, run):            # before the arrivals of round t
        if t >= T:
            return q(t, w, run)
        return sum(p * q(t, tuple(a + b for a, b in zip(w, d)), run) for p, d in outcomes
                   if p > 0)

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        v0 = value(0, (0,) * K, (0,) * C.shape[0])
    finally:
        sys.setrecursionlimit(old)

    def bayes(state: SepState):
        if state.types != types:
            raise ValueError(f"policy built for types {types}, state has {state.types}")
        q(state.t, state.waiting, state.running)
        return memo[(state.t, state.waiting, state.running)][1]

    bayes.value = float(v0)
    bayes.name = "best online (MDP)"
    return bayes


# --------------------------------------------------------------------------- measurements
#: Named policy factories ``(model, T) -> policy``.
SEPARATE_POLICIES: Mapping[str, Callable] = {
    "prefill-first": lambda model, T: prefill_first,
    "decode-first": lambda model, T: decode_first,
    "lp re-solve": lambda model, T: lp_policy(model),
}


def separate_regret_rows(model: ArrivalModel, horizons: Sequence[int], seeds: int,
                         rng: np.random.Generator, *, policies: Mapping[str, Callable] | None = None,
                         bayes_max_T: int = 0, max_states: int = 20000) -> list[dict]:
    """Regret against the hindsight optimum, bracketed, per horizon ``T`` and policy.

    For each ``T`` it draws ``seeds`` sample paths, computes the hindsight optimum (or its
    bracket ``lower <= OPT <= value``), runs every policy (each schedule checked) and reports
    the mean regret bracket ``[regret_lo, regret_hi]`` = mean of ``[cost - value, cost -
    lower]`` with a 95 % band (``band_lo`` below the lower end, ``band_hi`` above the upper
    end).  With ``T <= bayes_max_T`` (Bernoulli arrivals) it adds the best online policy
    (:func:`bayes_policy`, simulated on the same paths): its expected regret ``V*(T) -
    E[OPT]`` is a lower bound on the expected regret of *every* online policy.

    Examples
    --------
    >>> m = ArrivalModel(0.3, types=SEPARATE_TYPES, memory=10, process="bernoulli")
    >>> rows = separate_regret_rows(m, [6], 4, np.random.default_rng(0), bayes_max_T=6)
    >>> [r["policy"] for r in rows][-1]
    'best online (MDP)'
    >>> all(r["regret_lo"] <= r["regret_hi"] for r in rows)
    True
    """
    rng = check_generator(rng)
    seeds = as_int(seeds, name="seeds", minimum=2)
    policies = dict(SEPARATE_POLICIES if policies is None else policies)
    rows = []
    for T in horizons:
        T = as_int(T, name="horizon", minimum=1)
        pols = {name: f(model, T) for name, f in policies.items()}
        vstar = None
        if T <= bayes_max_T:
            pols["best online (MDP)"] = bayes_policy(model, T)
            vstar = pols["best online (MDP)"].value
        hi_opt, lo_opt, exact = [], [], 0
        costs: dict = {name: [] for name in pols}
        for _ in range(seeds):
            inst = sample_instance(model, T, rng)
            if inst.n == 0:
                hi_opt.append(0), lo_opt.append(0)
                exact += 1
                for name in pols:
                    costs[name].append(0)
                continue
            opt = hindsight_optimum(inst, types=model.types, max_states=max_states)
            hi_opt.append(opt.value), lo_opt.append(opt.lower)
            exact += opt.exact
            for name, pol in pols.items():
                c = check_separate(inst, simulate_separate(inst, pol, types=model.types,
                                                           horizon=T))
                if c < opt.lower:
                    raise RuntimeError(f"{name} beats the hindsight optimum on {inst}: a bug")
                costs[name].append(c)
        hi, lo = np.array(hi_opt, float), np.array(lo_opt, float)
        base = {"T": T, "samples": seeds, "exact": exact / seeds, "opt": float(hi.mean())}
        for name, cs in costs.items():
            c = np.array(cs, float)
            rows.append({**base, "policy": name, "regret_lo": float((c - hi).mean()),
                         "regret_hi": float((c - lo).mean()),
                         "band_lo": float((c - hi).mean() - t_halfwidth(c - hi)),
                         "band_hi": float((c - lo).mean() + t_halfwidth(c - lo)),
                         "vstar": vstar if name == "best online (MDP)" else None})
    return rows
