"""Claims of the MC-SF chapter: feasibility, peak points, clear-all livelock, running time."""

from __future__ import annotations

import time

import numpy as np

from kvtheory.model.validation import as_int, check_generator
from kvtheory.model.checker import ScheduleError, check_schedule
from kvtheory.model.instance import Instance
from kvtheory.engines.policies import BASE_POLICIES as POLICIES, mc_sf
from kvtheory.engines.simulator import Decision, LivelockError, State, simulate, state_cycle
from kvtheory.model.workloads import random_instance
from kvtheory.claims._core import Claim, ClaimCheck, Reading, Verdict, grade
from kvtheory.claims._power import power_of

__all__ = ["CLAIMS", "check_mcsf_feasible", "check_peak_points", "points_off_by_one", "check_clear_all_livelock",
           "check_livelock_alphas", "alpha_classes",
           "check_mcsf_runtime", "admit_at_completion_points"]


def check_mcsf_feasible(rng: np.random.Generator, trials: int = 200, *, alpha: float = 2.0,
                        max_n: int = 12, max_memory: int = 20, max_arrival: int = 6,
                        low: float = 1.0) -> ClaimCheck:
    """Claim ``clm_mcsf_feasible``: with ``o <= õ <= alpha*o`` MC-SF never overflows or evicts.

    The predictions are drawn in ``[low * o, alpha * o]`` (rounded up, capped so a request fits
    alone); the claim is ``low = 1``.  With ``low < 1`` (under-predictions, which the claim does
    not cover) the same sampler is the planted counterpart that measures the search's power.

    Examples
    --------
    >>> import numpy as np
    >>> check_mcsf_feasible(np.random.default_rng(0), trials=20).holds
    True
    >>> check_mcsf_feasible(np.random.default_rng(0), trials=60, low=0.5).holds
    False
    """
    rng = check_generator(rng)
    trials = as_int(trials, name="trials", minimum=1)
    worst, bad, peak_ratio = {"evictions": 0}, None, 0.0
    for _ in range(trials):
        inst = random_instance(rng, int(rng.integers(1, max_n + 1)),
                               int(rng.integers(4, max_memory + 1)), max_prompt=4,
                               max_arrival=int(rng.integers(0, max_arrival + 1)))
        over = np.minimum(inst.memory - inst.prompt,
                          np.ceil(inst.output * rng.uniform(low, alpha, inst.n))).astype(int)
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


def admit_at_completion_points(state: State, capacity: int | None = None, *,
                               shift: int = 0) -> list[int]:
    """MC-SF's admission computed by checking only predicted completion rounds.

    An independent, deliberately plain implementation of MC-SF's admission step (Algorithm 1 of v4/v5) used to test
    that checking only completion points (``p_j + õ_j``, or ``t + 1`` for a request past its
    prediction) gives the same decisions as checking every round.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.engines.simulator import Decision
    >>> seen = []
    >>> def spy(state):
    ...     seen.append(admit_at_completion_points(state))
    ...     return Decision(start=seen[-1])
    >>> _ = simulate(Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5), spy)
    >>> seen[0]
    [1, 2]

    ``shift = -1`` is a planted off-by-one (it checks the round before each completion point,
    one unit below each request's peak) that measures :func:`check_peak_points`'s power.
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
        points = {end + shift for _, _, end in trial}
        ok = all(sum(s + tau - p for p, s, end in trial if p < tau <= end) <= M for tau in points)
        if not ok:
            break
        jobs = trial
        chosen.append(int(w.id[j]))
    return chosen


def check_peak_points(rng: np.random.Generator, trials: int = 100, *, max_n: int = 15,
                      max_memory: int = 25, max_arrival: int = 8,
                      rule=admit_at_completion_points) -> ClaimCheck:
    """Claim ``clm_peak_points``: completion-point checking = every-round checking.

    Runs MC-SF (which checks every future round) on random instances with noisy predictions and
    compares each of its decisions with ``rule(state)`` (the target, default
    :func:`admit_at_completion_points`; the planted :func:`points_off_by_one` measures the
    comparison's power).

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
                ref = rule(state)
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


def points_off_by_one(state: State) -> list[int]:
    """A planted wrong admission rule: the completion-point check one round early.

    :func:`admit_at_completion_points` with ``shift = -1``: it checks round ``p_j + õ_j - 1``
    instead of ``p_j + õ_j``, where every request holds one unit less than at its peak, so it
    admits more than every-round checking does.  No claim covers it.

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> from kvtheory.engines.simulator import Decision
    >>> seen = []
    >>> def spy(state):
    ...     seen.append((admit_at_completion_points(state), points_off_by_one(state)))
    ...     return Decision(start=seen[-1][0])
    >>> _ = simulate(Instance.from_arrays([0, 0], [1, 1], [1, 1], memory=3), spy)
    >>> seen[0]                                            # two peaks of 2 need 4 > 3
    ([0], [0, 1])
    """
    return admit_at_completion_points(state, shift=-1)


def check_clear_all_livelock(rng: np.random.Generator, trials: int = 100, *,
                             max_n: int = 8, max_memory: int = 14,
                             max_arrival: int = 4) -> ClaimCheck:
    """Claim ``clm_clear_all_livelock`` (our finding): livelocks of the registered policies.

    Informative figures for the claim (its status comes from :func:`check_livelock_alphas`,
    the exact cycle detector on the witness).  ``holds`` is true if every clear-all
    configuration livelocks on the two-request instance
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


# --------------------------------------------------------------------------- livelock as a cycle
#: The witness of ``clm_clear_all_livelock``: two requests that fit one at a time.
WITNESS = ((0, 0), (1, 1), (5, 5), 8)


def alpha_classes(memory: int = WITNESS[3]) -> dict[int, float]:
    """One alpha per class of equal alpha-protection behaviour on an instance with memory ``M``.

    :func:`kvtheory.engines.policies.alpha_protection_greedy` uses ``alpha`` only in the
    admission test ``used > (1 - alpha) M`` with an integer ``used``, which depends on ``alpha``
    only through ``k = floor((1 - alpha) M)``; so one ``alpha`` per ``k`` in ``0..M`` covers
    every ``alpha`` in ``[0, 1)``.  Returns ``{k: alpha}`` with ``alpha = 1 - k / M`` (and
    ``1 - 1 / (2M)`` for ``k = 0``).

    Examples
    --------
    >>> alpha_classes(8)[4], alpha_classes(8)[8], alpha_classes(8)[0]
    (0.5, 0.0, 0.9375)
    """
    M = as_int(memory, name="memory", minimum=1)
    return {k: (1 - k / M if k else 1 - 1 / (2 * M)) for k in range(M + 1)}


def check_livelock_alphas(alphas: dict | None = None) -> ClaimCheck:
    """Claim ``clm_clear_all_livelock``: alpha-protection greedy livelocks for every alpha <= 1/2.

    On the witness ``2 x (a=0, s=1, o=5), M = 8`` both requests are admitted together iff
    ``4 <= (1 - alpha) 8``, i.e. ``alpha <= 1/2``; they overflow in round 4, the cache is
    cleared, and the state repeats.  The check runs the exact cycle detector
    (:func:`kvtheory.engines.simulator.state_cycle`) for one ``alpha`` per class of
    :func:`alpha_classes` (default) or for the given ``{label: alpha}``: the claim holds iff
    every ``alpha <= 1/2`` cycles.  A class with ``alpha <= 1/2`` that finishes is the
    counterexample (the configuration named, its schedule re-checked by the independent
    checker).  ``details["finishes"]`` lists the ``alpha > 1/2`` that finish the witness
    (outside the claim).

    Examples
    --------
    >>> rep = check_livelock_alphas()
    >>> rep.holds, rep.cases, rep.details["finishes"]
    (True, 9, [0.625, 0.75, 0.875, 0.9375])
    """
    from kvtheory.engines.policies import alpha_protection_greedy, make_policy
    witness = Instance.from_arrays(*WITNESS[:3], memory=WITNESS[3])
    alphas = dict(alpha_classes()) if alphas is None else dict(alphas)
    cycles, bad = {}, None
    for key, a in sorted(alphas.items(), key=lambda kv: kv[1]):
        pol = make_policy(alpha_protection_greedy, alpha=a)
        cycles[a] = state_cycle(witness, pol)
        if cycles[a] is None and a <= 0.5 and bad is None:
            sched = simulate(witness, pol)
            check_schedule(witness, sched)          # it really finishes: re-checked
            bad = {"alpha": a, "instance": "2 x (a=0, s=1, o=5), M=8",
                   "finishes": f"total latency {sched.total_latency}"}
    inside = sorted(a for a in cycles if a <= 0.5)
    finishes = sorted(a for a, c in cycles.items() if c is None and a > 0.5)
    holds = bad is None
    summary = (f"every alpha <= 1/2 (classes {inside}) returns to an earlier state on the "
               f"witness; alpha {finishes} (> 1/2) finish it" if holds else
               f"alpha = {bad['alpha']} (<= 1/2) finishes the witness ({bad['finishes']})")
    return ClaimCheck("clm_clear_all_livelock", holds, len(cycles),
                      bad or {"instance": "2 x (a=0, s=1, o=5), M=8"}, summary, bad,
                      {"cycles": {a: (list(c) if c else None) for a, c in cycles.items()},
                       "finishes": finishes})


# --------------------------------------------------------------------------- running time
#: The running-time check times one round in ``M^2 / SAMPLE_STRIDE`` (rounds grow like M^2).
SAMPLE_STRIDE = 1500


def check_mcsf_runtime(rng: np.random.Generator, memories=(64, 128, 256, 512, 1024), *,
                       load: float = 1.5, policy=mc_sf) -> ClaimCheck:
    """Claim ``clm_mcsf_runtime``: MC-SF decides a round in time polynomial in ``M`` (O(M^2)).

    For each ``M``, a random instance with ``n = M`` requests (prompts 1-4, outputs up to
    ``M / 4``, arrivals spread so that the queue stays about ``load`` times what fits) is run
    under :func:`kvtheory.engines.policies.mc_sf`, and the target ``policy`` is timed on a
    sample of its rounds with a waiting request (about ``M^2 / 1500`` rounds apart, some 30
    per ``M``: rounds with nothing waiting are the engine's fixed overhead).  The fitted
    exponent ``b`` of the median seconds per decision against ``M`` (least squares on logs,
    leaving out the smallest ``M``, where fixed overhead dominates) holds the claim if
    ``b <= 2``.  Wall-clock timing: the figures depend on the machine, the exponent less so.
    ``policy`` is the target (the planted
    :func:`kvtheory.engines.policies.planted.cubic_mc_sf`, MC-SF plus an ``O(M^3)`` product,
    measures the rule's power): the same instances, the same timing.

    Examples
    --------
    >>> rep = check_mcsf_runtime(np.random.default_rng(0), memories=(32, 64))
    >>> rep.cases, sorted(rep.worst)
    (2, ['exponent', 'largest M', 'median us at largest M'])
    """
    rng = check_generator(rng)
    rows = []
    for M in memories:
        M = as_int(M, name="memory", minimum=16)
        max_out = max(2, M // 4)
        per_round = M / (2.5 + max_out / 2)             # requests finishing per round, roughly
        spread = max(1, int(M / max(per_round * load, 1e-9) / 2))
        inst = random_instance(rng, M, M, max_prompt=4, max_output=max_out, max_arrival=spread)
        times: list[float] = []
        stride = max(1, round(M * M / SAMPLE_STRIDE))
        calls = 0

        def timed(state: State) -> Decision:
            nonlocal calls
            calls += 1
            if not len(state.waiting) or calls % stride:
                return mc_sf(state)
            t0 = time.perf_counter()
            d = policy(state)
            times.append(time.perf_counter() - t0)
            return d if policy is mc_sf else mc_sf(state)

        sched = simulate(inst, timed)
        check_schedule(inst, sched)
        rows.append({"M": M, "n": inst.n, "rounds": calls, "timed": len(times),
                     "median_us": float(np.median(times) * 1e6),
                     "p90_us": float(np.percentile(times, 90) * 1e6)})
    fit = rows[1:] if len(rows) > 2 else rows       # the smallest M: mostly fixed overhead
    ms = np.log([r["M"] for r in fit])
    ts = np.log([r["median_us"] for r in fit])
    b = float(np.polyfit(ms, ts, 1)[0]) if len(fit) > 1 else float("nan")
    holds = bool(b <= 2.0)
    worst = {"exponent": round(b, 2), "largest M": rows[-1]["M"],
             "median us at largest M": round(rows[-1]["median_us"], 1)}
    return ClaimCheck("clm_mcsf_runtime", holds, len(rows), worst,
                      f"median MC-SF decision time grows like M^{b:.2f} for M in "
                      f"{[r['M'] for r in rows]} ({rows[-1]['median_us']:.0f} us per round at "
                      f"M = {rows[-1]['M']})", None, {"rows": rows})


# --------------------------------------------------------------------------- the claims
_FEAS = Reading("o <= õ <= 2o", "random instances with n <= 12, M <= 20, prompts <= 4, "
                "arrivals <= 6, predictions o <= õ <= 2o, in runs of 30 (5 quick, 20 full); "
                "every schedule checked; power: the same runs with predictions down to o/2",
                "sample")
_PEAK = Reading("±50% prediction noise", "runs of 16 random instances with n <= 15, M <= 25, "
                "prompts <= 4, predictions off by up to 50 % either way (5 runs quick, 25 full); "
                "every decision compared; power: the same runs against the check one round "
                "before each completion point (planted)", "sample")
_LIVE = Reading("witness", "2 x (a=0, s=1, o=5), M = 8, alpha-protection greedy for one alpha "
                "per class of equal behaviour (it compares integer memory with (1 - alpha) M, so "
                "only floor(8 (1 - alpha)) matters): the classes cover every alpha in [0, 1), "
                "the claim those with alpha <= 1/2; deterministic replay until the whole state "
                "repeats", "exhaustive", statuses=("proved", "fails"))
_TIME = Reading("median decision time", "random instances with n = M requests, prompts 1-4, "
                "outputs up to M/4, M = 64..512 (quick; to 2048 full), three seeds; median "
                "seconds per MC-SF decision against M, fitted exponent <= 2; power: the same "
                "runs timing MC-SF plus a deliberate O(M^3) product (planted)", "measured",
                statuses=("supported", "inconclusive"))


#: Seeds of the feasibility runs (30 instances each): 5 quick, 20 full.
FEASIBLE_SEEDS = tuple(range(1200, 1220))
#: The planted counterpart: predictions down to half the true output (the claim needs õ >= o).
FEASIBLE_PLANTED_LOW = 0.5


def _feasible(quick, seeds=None):
    seeds = FEASIBLE_SEEDS[:5] if quick and seeds is None else (seeds or FEASIBLE_SEEDS)
    reps = [check_mcsf_feasible(np.random.default_rng(s), trials=30) for s in seeds]
    bad = next((r for r in reps if not r.holds), None)
    peak = max(r.worst.get("highest peak / M", 0.0) for r in reps)
    rep = bad or ClaimCheck("clm_mcsf_feasible", True, 30 * len(seeds),
                            {"evictions": 0, "highest peak / M": peak},
                            f"no overflow and no eviction in {30 * len(seeds)} runs with "
                            f"o <= õ <= 2o; highest peak memory {peak:.0%} of M")
    power = power_of(lambda low, s: check_mcsf_feasible(np.random.default_rng(s), trials=30,
                                                        low=low),
                     FEASIBLE_PLANTED_LOW, seeds, lambda r: not r.holds,
                     label=f"the same runs with predictions down to {FEASIBLE_PLANTED_LOW:g} o "
                           "(under-predictions), an eviction or overflow found")
    return (grade("clm_mcsf_feasible", _FEAS, rep, quick=quick, power=power,
                  searched=f"{len(seeds)} runs of 30 random instances (seeds "
                           f"{seeds[0]}..{seeds[-1]}); power: the same runs with "
                           f"under-predictions"),)


#: Seeds of the completion-point runs (16 instances each): 5 quick, 25 full.
PEAK_SEEDS, PEAK_TRIALS = tuple(range(1300, 1325)), 16
PEAK_PLANTED = "the completion-point check one round early (an off-by-one in the points)"


def _peak(quick, evidence=None):
    """The runs of ``clm_peak_points`` and their power (``evidence`` replaces both)."""
    seeds = PEAK_SEEDS[:5] if quick else PEAK_SEEDS

    def run(rule, seed):
        return check_peak_points(np.random.default_rng(seed), trials=PEAK_TRIALS, rule=rule)
    ev = dict(evidence or {})
    if "runs" in ev:
        reps, power = list(ev["runs"]), ev.get("power")
    else:
        reps = [run(admit_at_completion_points, s) for s in seeds]
        power = power_of(run, points_off_by_one, seeds, lambda r: not r.holds,
                         label=PEAK_PLANTED)
    bad = next((r for r in reps if not r.holds), None)
    decisions = sum(r.details.get("decisions", 0) for r in reps)
    rep = bad or ClaimCheck("clm_peak_points", True, PEAK_TRIALS * len(reps), {"mismatches": 0},
                            f"identical admissions in {decisions} decisions on "
                            f"{PEAK_TRIALS * len(reps)} instances with ±50% prediction noise",
                            None, {"decisions": decisions})
    return (grade("clm_peak_points", _PEAK, rep, quick=quick, power=power,
                  searched=f"{len(seeds)} runs of {PEAK_TRIALS} random instances ({decisions} "
                           f"decisions; seeds {seeds[0]}..{seeds[-1]}); the same runs against "
                           f"{PEAK_PLANTED} (planted)"),)


def _livelock(quick):
    """The witness reading: graded by :func:`grade` from :func:`check_livelock_alphas`.

    The status depends only on the cycle detector on the witness (``proved`` if every alpha
    class <= 1/2 cycles, ``fails`` with the configuration that finishes otherwise); the
    livelock rates on random instances are reported, not graded.
    """
    rep = check_livelock_alphas()
    trials, seed = (40, 15) if quick else (200, 15)
    rand = check_clear_all_livelock(np.random.default_rng(seed), trials=trials)
    rates = {n: r for n, r in rand.details["livelock_rate"].items() if r}
    ev = (rep.summary + f"; the registered clear-all configurations "
          f"({', '.join(n for n in POLICIES if n.endswith('-greedy'))}) lie in these classes. "
          f"Share of {trials} random small instances (seed {seed}) on which a registered "
          f"policy livelocks (informative, not graded): "
          + (", ".join(f"{n} {r:.0%}" for n, r in rates.items()) or "none"))
    return (grade("clm_clear_all_livelock", _LIVE, rep, evidence=ev, quick=quick,
                  full_status=True,
                  searched=f"the witness under one alpha per class floor(8 (1 - alpha)) "
                           f"({rep.cases} classes), then {trials} random instances (n <= 8, "
                           f"M <= 14)",
                  figures={"cycles": rep.details["cycles"], "livelock_rate": rates}),)


#: Seeds of the running-time runs (one instance per M each).
RUNTIME_SEEDS = (16, 17, 18)
RUNTIME_PLANTED = "MC-SF plus an M x M by M x M/16 matrix product per round (O(M^3))"


def _runtime(quick, evidence=None):
    """The running-time reading: a run per seed, and the same runs timing the planted policy."""
    from kvtheory.engines.policies.planted import cubic_mc_sf
    mem = (64, 128, 256, 512) if quick else (64, 128, 256, 512, 1024, 2048)

    def run(policy, seed):
        return check_mcsf_runtime(np.random.default_rng(seed), memories=mem, policy=policy)
    ev = dict(evidence or {})
    if "runs" in ev:
        reps, power = list(ev["runs"]), ev.get("power")
    else:
        reps = [run(mc_sf, s) for s in RUNTIME_SEEDS]
        power = power_of(run, cubic_mc_sf, RUNTIME_SEEDS, lambda r: not r.holds,
                         label=RUNTIME_PLANTED + ", exponent above 2")
    worst = max(reps, key=lambda r: r.worst["exponent"])
    exps = [r.worst["exponent"] for r in reps]
    searched = (f"M in {list(mem)}, one instance each, seeds {list(RUNTIME_SEEDS)}; the same "
                f"runs timing {RUNTIME_PLANTED} (planted)")
    if all(r.holds for r in reps):
        rep = ClaimCheck("clm_mcsf_runtime", True, sum(r.cases for r in reps), worst.worst,
                         f"median MC-SF decision time grows like M^b with b = "
                         f"{', '.join(f'{b:.2f}' for b in exps)} over M in {list(mem)} "
                         f"({worst.worst['median us at largest M']:.0f} us per round at "
                         f"M = {mem[-1]}, seed with the largest b)")
        return (grade("clm_mcsf_runtime", _TIME, rep, quick=quick, full_status=not quick,
                      power=power, searched=searched),)
    return (Verdict("clm_mcsf_runtime", _TIME.name, "inconclusive",
                    f"fitted exponents {exps}, above 2 in some run: {worst.summary}", searched,
                    figures=worst.worst,
                    decide="an operation count of the admission rule (timings include the "
                           "engine's overhead and the machine's noise)", quick=quick,
                    full_status=not quick, power=power),)


CLAIMS = (
    Claim("clm_mcsf_feasible", "MC-SF never exceeds the memory when predictions are not below "
          "the true output lengths", "If every prediction satisfies õ_i >= o_i, MC-SF's schedule "
          "never holds more than M memory in any round, so it never evicts.", "v4-v5", "paper",
          "book/mcsf", (_FEAS,), _feasible, "tests/test_claims.py::test_clm_mcsf_feasible"),
    Claim("clm_peak_points", "MC-SF's future check needs only the predicted completion rounds",
          "Checking the predicted memory only at the predicted completion rounds p_j + õ_j gives "
          "the same admissions as checking every future round.", "v4-v5", "paper", "book/mcsf",
          (_PEAK,), _peak, "tests/test_claims.py::test_clm_peak_points"),
    Claim("clm_clear_all_livelock", "Clearing the whole cache on overflow can livelock",
          "Alpha-protection greedy (clear the whole KV cache on overflow, readmit FCFS) can run "
          "forever without finishing a request, for every alpha <= 1/2 (witness: two requests "
          "(0, 1, 5), M = 8; with alpha > 1/2 it admits them one at a time and finishes it).",
          "-", "ours", "book/mcsf",
          (_LIVE,), _livelock, "tests/test_claims.py::test_clm_clear_all_livelock"),
    Claim("clm_mcsf_runtime", "MC-SF runs in polynomial time, O(M^2) per round",
          "Each MC-SF decision takes time polynomial in the input; the paper states O(M^2) work "
          "per round.", "v4-v5", "second-hand", "book/mcsf", (_TIME,), _runtime,
          "tests/test_claims.py::test_clm_mcsf_runtime", machine_dependent=True),
)
