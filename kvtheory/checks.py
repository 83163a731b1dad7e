"""Check functions: one per claim, used by its book chapter and by ``tests/``.

Each returns a :class:`ClaimCheck` with the worst case seen, so the chapter can show it and the
test can assert ``report.holds``.  Check functions of later chapters live beside their topic
(e.g. :mod:`kvtheory.lower_bounds`) and return the same report type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ._validation import as_int, check_generator
from .checker import ScheduleError, check_schedule
from .instance import Instance
from .optimal import brute_force_optimal, solve_optimal
from .policies import POLICIES, mc_sf
from .simulator import Decision, LivelockError, State, simulate
from .workloads import random_instance

__all__ = ["ClaimCheck", "check_ip_exact", "check_mcsf_feasible", "check_peak_points",
           "check_no_policy_beats_opt", "check_clear_all_livelock", "admit_at_completion_points"]


@dataclass(frozen=True)
class ClaimCheck:
    """Outcome of a claim's numerical check.

    Attributes
    ----------
    claim : str
        Claim ID (see :mod:`kvtheory.claims`).
    holds : bool
        Whether every case passed.
    cases : int
        Number of cases checked.
    worst : dict
        The worst case seen (its figures; for a failure, the counterexample).
    summary : str
        One sentence for the book.
    counterexample : Instance or None
        An instance on which the claim fails, if one was found.
    details : dict
        Further per-check figures.
    """

    claim: str
    holds: bool
    cases: int
    worst: dict
    summary: str
    counterexample: Instance | None = None
    details: Mapping = field(default_factory=dict)


def _tiny(rng, max_n, max_memory, max_arrival, prediction_error=None):
    n = int(rng.integers(1, max_n + 1))
    M = int(rng.integers(3, max_memory + 1))
    return random_instance(rng, n, M, max_prompt=2, max_output=4,
                           max_arrival=int(rng.integers(0, max_arrival + 1)),
                           prediction_error=prediction_error)


def check_ip_exact(rng: np.random.Generator, trials: int = 100, *, max_n: int = 4,
                   max_memory: int = 8, max_arrival: int = 3) -> ClaimCheck:
    """Claim ``clm_ip_exact``: the integer program's optimum equals exhaustive search.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_ip_exact(np.random.default_rng(0), trials=5)
    >>> rep.holds, rep.cases
    (True, 5)
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    worst, bad, biggest = {"difference": 0}, None, 0
    for _ in range(trials):
        inst = _tiny(rng, max_n, max_memory, max_arrival)
        res = solve_optimal(inst)
        brute = brute_force_optimal(inst)
        check_schedule(inst, res.schedule, preemptive=False)
        check_schedule(inst, brute, preemptive=False)
        diff = abs(res.objective - brute.total_latency)
        biggest = max(biggest, res.objective)
        if diff > worst["difference"] or not res.proven_optimal:
            worst = {"difference": diff, "ip": res.objective, "brute": brute.total_latency,
                     "proven": res.proven_optimal}
            bad = inst
    holds = bad is None
    return ClaimCheck("clm_ip_exact", holds, trials, worst,
                      f"IP = brute force on {trials} random instances (n <= {max_n}, "
                      f"M <= {max_memory}); largest optimum {biggest}" if holds else
                      f"IP differs from brute force: {worst}", None if holds else bad)


def check_mcsf_feasible(rng: np.random.Generator, trials: int = 200, *, alpha: float = 2.0,
                        max_n: int = 12, max_memory: int = 20, max_arrival: int = 6) -> ClaimCheck:
    """Claim ``clm_mcsf_feasible``: with ``o <= õ <= alpha*o`` MC-SF never overflows or evicts.

    Examples
    --------
    >>> import numpy as np
    >>> check_mcsf_feasible(np.random.default_rng(0), trials=20).holds
    True
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    worst, bad, peak_ratio = {"evictions": 0}, None, 0.0
    for _ in range(trials):
        inst = random_instance(rng, int(rng.integers(1, max_n + 1)),
                               int(rng.integers(4, max_memory + 1)), max_prompt=4,
                               max_arrival=int(rng.integers(0, max_arrival + 1)))
        over = np.minimum(inst.memory - inst.prompt,
                          np.ceil(inst.output * rng.uniform(1.0, alpha, inst.n))).astype(int)
        inst = inst.with_predictions(over)
        sched = simulate(inst, mc_sf)
        try:
            rep = check_schedule(inst, sched)
        except ScheduleError as err:
            worst, bad = {"error": str(err)}, inst
            break
        peak_ratio = max(peak_ratio, rep.peak_memory / inst.memory)
        if sched.evictions:
            worst, bad = {"evictions": sched.evictions}, inst
            break
    holds = bad is None
    return ClaimCheck("clm_mcsf_feasible", holds, trials, worst if not holds else
                      {"evictions": 0, "highest peak / M": round(peak_ratio, 3)},
                      f"no overflow and no eviction in {trials} runs with o <= õ <= {alpha}·o; "
                      f"highest peak memory {peak_ratio:.0%} of M" if holds else
                      f"MC-SF failed: {worst}", bad)


def admit_at_completion_points(state: State, capacity: int | None = None) -> list[int]:
    """MC-SF's admission computed by checking only predicted completion rounds.

    An independent, deliberately plain implementation of DIGEST section 3 step 3 used to test
    that checking only completion points (``p_j + õ_j``, or ``t + 1`` for a request past its
    prediction) gives the same decisions as checking every round.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.simulator import Decision
    >>> seen = []
    >>> def spy(state):
    ...     seen.append(admit_at_completion_points(state))
    ...     return Decision(start=seen[-1])
    >>> _ = simulate(Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5), spy)
    >>> seen[0]
    [1, 2]
    """
    M = state.memory if capacity is None else capacity
    t = state.t
    jobs = [(int(p), int(s), max(int(p) + int(o), t + 1))
            for p, s, o in zip(state.running.start, state.running.prompt, state.running.prediction)]
    w = state.waiting
    order = sorted(range(len(w)), key=lambda j: (int(w.prediction[j]), int(w.arrival[j]), int(w.id[j])))
    chosen = []
    for j in order:
        trial = jobs + [(t, int(w.prompt[j]), t + int(w.prediction[j]))]
        points = {end for _, _, end in trial}
        ok = all(sum(s + tau - p for p, s, end in trial if p < tau <= end) <= M for tau in points)
        if not ok:
            break
        jobs = trial
        chosen.append(int(w.id[j]))
    return chosen


def check_peak_points(rng: np.random.Generator, trials: int = 100, *, max_n: int = 15,
                      max_memory: int = 25, max_arrival: int = 8) -> ClaimCheck:
    """Claim ``clm_peak_points``: completion-point checking = every-round checking.

    Runs MC-SF (which checks every future round) on random instances with noisy predictions and
    compares each of its decisions with :func:`admit_at_completion_points`.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_peak_points(np.random.default_rng(0), trials=10)
    >>> rep.holds, rep.details["decisions"] > 10
    (True, True)
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    decisions = 0
    mismatch: dict = {}
    bad = None
    for _ in range(trials):
        inst = random_instance(rng, int(rng.integers(1, max_n + 1)),
                               int(rng.integers(4, max_memory + 1)), max_prompt=4,
                               max_arrival=int(rng.integers(0, max_arrival + 1)),
                               prediction_error=0.5)

        def compare(state):
            nonlocal decisions, mismatch
            dec = mc_sf(state)
            if not state.overflow and not mismatch:
                ref = admit_at_completion_points(state)
                decisions += 1
                if list(dec.start) != ref:
                    mismatch = {"t": state.t, "dense": list(dec.start), "points": ref}
            return dec

        simulate(inst, compare)
        if mismatch:
            bad = inst
            break
    holds = bad is None
    return ClaimCheck("clm_peak_points", holds, trials, mismatch or {"mismatches": 0},
                      f"identical admissions in {decisions} decisions on {trials} instances with "
                      f"±50% prediction noise" if holds else f"decisions differ: {mismatch}",
                      bad, {"decisions": decisions})


def check_no_policy_beats_opt(rng: np.random.Generator, trials: int = 30, *,
                              policies: Mapping | None = None, max_n: int = 7,
                              max_memory: int = 12, max_arrival: int = 4) -> ClaimCheck:
    """Claim ``clm_no_policy_beats_opt``: every policy's schedule is valid and ``>= OPT``.

    Livelocks (a policy that keeps evicting without finishing, see
    :class:`kvtheory.LivelockError`) are counted in ``details`` and are not violations.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_no_policy_beats_opt(np.random.default_rng(0), trials=3)
    >>> rep.holds, rep.worst["ratio"] >= 1
    (True, True)
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    policies = POLICIES if policies is None else policies
    worst = {"ratio": 1.0}
    livelocks = {name: 0 for name in policies}
    bad, err = None, None
    for _ in range(trials):
        inst = random_instance(rng, int(rng.integers(1, max_n + 1)),
                               int(rng.integers(3, max_memory + 1)), max_prompt=3,
                               max_arrival=int(rng.integers(0, max_arrival + 1)))
        opt = solve_optimal(inst)
        for name, pol in policies.items():
            try:
                sched = simulate(inst, pol, name=name)
            except LivelockError:
                livelocks[name] += 1
                continue
            try:
                check_schedule(inst, sched)
            except ScheduleError as e:
                bad, err = inst, f"{name}: {e}"
                break
            ratio = sched.total_latency / opt.objective
            if sched.total_latency < opt.objective:
                bad, err = inst, f"{name} beats OPT: {sched.total_latency} < {opt.objective}"
                break
            if ratio > worst["ratio"]:
                worst = {"ratio": round(ratio, 4), "policy": name, "n": inst.n, "M": inst.memory}
        if bad is not None:
            break
    holds = bad is None
    return ClaimCheck("clm_no_policy_beats_opt", holds, trials, worst if holds else {"error": err},
                      f"{len(policies)} policies on {trials} instances: all valid, none below OPT; "
                      f"worst ratio {worst['ratio']} ({worst.get('policy', '-')})" if holds else err,
                      bad, {"livelocks": livelocks})


def check_clear_all_livelock(rng: np.random.Generator, trials: int = 100, *,
                             max_n: int = 8, max_memory: int = 14,
                             max_arrival: int = 4) -> ClaimCheck:
    """Claim ``clm_clear_all_livelock`` (our finding): clearing the whole cache can livelock.

    The claim holds if every clear-all configuration livelocks on the two-request instance
    ``(0, 1, 5), (0, 1, 5)`` with ``M = 8`` (each fits alone, not both together, and after each
    clearing both are readmitted), while the beta-clearing and vLLM-style rules finish it.
    ``details`` gives, per policy, the fraction of random small instances that livelock.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_clear_all_livelock(np.random.default_rng(0), trials=5)
    >>> rep.holds, rep.worst["instance"]
    (True, '2 x (a=0, s=1, o=5), M=8')
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    minimal = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    clear_all = [n for n in POLICIES if n.endswith("-greedy")]
    others = [n for n in POLICIES if n not in clear_all]

    def livelocks(inst, name):
        try:
            check_schedule(inst, simulate(inst, POLICIES[name]))
        except LivelockError:
            return True
        return False

    holds = all(livelocks(minimal, n) for n in clear_all) and not any(
        livelocks(minimal, n) for n in others)
    counts = {n: 0 for n in POLICIES}
    for _ in range(trials):
        inst = random_instance(rng, int(rng.integers(2, max_n + 1)),
                               int(rng.integers(4, max_memory + 1)), max_prompt=3,
                               max_arrival=int(rng.integers(0, max_arrival + 1)))
        for n in POLICIES:
            counts[n] += livelocks(inst, n)
    rates = {n: round(c / trials, 3) for n, c in counts.items()}
    return ClaimCheck("clm_clear_all_livelock", holds, trials,
                      {"instance": "2 x (a=0, s=1, o=5), M=8"},
                      "every clear-all configuration livelocks on two requests that fit only one "
                      "at a time; on random small instances the livelock rate is "
                      + ", ".join(f"{n} {r:.0%}" for n, r in rates.items() if r),
                      None if holds else minimal, {"livelock_rate": rates})
