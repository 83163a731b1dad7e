"""Preemption: two models, the preemptive optimum, and the "fat short" adversary (our construction).

Two readings of "an algorithm may preempt" (our reconstruction; the paper's theory is
non-preemptive):

* ``"recompute"`` (what vLLM does): a running request may be evicted at any decision time; its
  KV cache is dropped and its progress lost; it later restarts from scratch.  Schedules are
  lists of attempts ``(p, q)`` per request and go through :func:`kvtheory.check_schedule` with
  ``preemptive=True``.
* ``"resume"``: an evicted request keeps its KV cache elsewhere at no cost and later resumes
  where it stopped; in the ``j``-th round in which it is processed it holds ``s + j``.
  Schedules are, per request, the sorted rounds in which it is processed, checked by
  :func:`check_resume` (independent plain loops).

**Lemma (ours, proved in the chapter).**  Under ``"recompute"`` the offline optimum equals the
non-preemptive optimum: deleting an aborted attempt keeps a schedule feasible (memory only
drops) and changes no completion time.  :func:`preemptive_optimum` does *not* use this: it is a
brute-force dynamic program over (round, progress vector), so the lemma is cross-checked.

**The fat-short family** (our construction).  ``L = (0, s_L, P)`` with ``M = s_L + P`` and shorts
``(r, M - 1, 1)``: a short needs the whole memory, so nothing runs beside it and the instance
is a single machine.  The adversary releases a short whenever ``L``'s current attempt has made
``P - 1`` rounds of progress, up to ``n`` times.  Against it every deterministic algorithm is
(up to idling, which only costs) a threshold rule "evict for the first ``k`` shorts, then let
``L`` finish", and (our derivation, checked symbolically and by simulation)

    ALG_k = (k + 1) P + k + 2 [k < n],     OPT_k = P + min(k + 1, n) + 1   (P >= 2),

so never-evict (``k = 0``) is optimal on the family and threshold-``k`` has ratio below
``k + 1``; always-evict (``k = n``) has ratio about ``n / 2`` when ``P = n``.  The family alone
therefore defeats no deterministic preemptive algorithm; see :func:`rent_or_buy`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from kvtheory.model.validation import as_int
from kvtheory.model.checker import ScheduleError, check_schedule
from kvtheory.model.instance import Instance
from kvtheory.model.schedule import Schedule

__all__ = [
    "EVICTION_RULES",
    "MODELS",
    "EvictionRule",
    "FatShortRun",
    "PreemptiveOptimum",
    "always_evict",
    "best_response_exhaustive",
    "check_resume",
    "fat_short_closed_form",
    "fat_short_derivation",
    "fat_short_instance",
    "fat_short_opt",
    "fat_short_run",
    "never_evict",
    "preemptive_optimum",
    "rent_or_buy",
    "srpt_fat_short",
    "threshold",
]

MODELS = ("recompute", "resume")


def _model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"preemption model must be one of {MODELS}, got {model!r}")
    return model


# --------------------------------------------------------------------------- resume checker
def check_resume(instance: Instance, rounds: Sequence[Sequence[int]]) -> int:
    """Check a resume-model schedule and return its total latency.

    ``rounds[i]`` lists the rounds in which request ``i`` is processed; in the ``j``-th of them
    it holds ``s_i + j``; it completes at its last one.

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 1], [1, 3], [2, 1], memory=4)
    >>> check_resume(inst, [[1, 3], [2]])          # request 0 paused in round 2: 3 + 1
    4
    >>> check_resume(inst, [[1, 2], [2]])
    Traceback (most recent call last):
    ...
    kvtheory.model.checker.ScheduleError: memory overflow in round 2: 7 > M=4
    """
    if len(rounds) != instance.n:
        raise ScheduleError(f"need rounds for every request: expected {instance.n}, got {len(rounds)}")
    usage: dict[int, int] = {}
    total = 0
    for i, req in enumerate(instance.requests):
        rs = [int(t) for t in rounds[i]]
        if len(rs) != req.output:
            raise ScheduleError(f"request {i} processed {len(rs)} rounds, needs o={req.output}")
        if len(set(rs)) != len(rs) or rs != sorted(rs):
            raise ScheduleError(f"request {i}: rounds must be distinct and sorted, got {rs}")
        if rs[0] <= req.arrival:
            raise ScheduleError(f"request {i} processed in round {rs[0]} <= its arrival {req.arrival}")
        for j, t in enumerate(rs, start=1):
            usage[t] = usage.get(t, 0) + req.prompt + j
        total += rs[-1] - req.arrival
    for t in sorted(usage):
        if usage[t] > instance.memory:
            raise ScheduleError(f"memory overflow in round {t}: {usage[t]} > M={instance.memory}")
    return total


# --------------------------------------------------------------------------- brute-force optimum
@dataclass(frozen=True)
class PreemptiveOptimum:
    """Result of :func:`preemptive_optimum`.

    Attributes
    ----------
    objective : int
        Minimum total latency under ``model``.
    model : str
    rounds : tuple of tuple of int
        Rounds in which each request is processed in an optimal schedule.
    states : int
        Dynamic-programming states visited.
    """

    objective: int
    model: str
    rounds: tuple[tuple[int, ...], ...]
    states: int

    def schedule(self, instance: Instance) -> Schedule:
        """Recompute model only: the optimum as attempts (maximal runs of consecutive rounds)."""
        if self.model != "recompute":
            raise ValueError("only recompute-model optima are Schedules; use check_resume")
        attempts = []
        for rs in self.rounds:
            runs, start, prev = [], rs[0], rs[0]
            for t in rs[1:]:
                if t != prev + 1:
                    runs.append((start - 1, prev))
                    start = t
                prev = t
            runs.append((start - 1, prev))
            attempts.append(runs)
        return Schedule.from_attempts(instance, attempts, policy="preemptive optimum (DP)")


def preemptive_optimum(instance: Instance, model: str = "recompute", *,
                       horizon: int | None = None, max_states: int = 2_000_000) -> PreemptiveOptimum:
    """Exact preemptive optimum by a forward dynamic program over (round, progress vector).

    In each round any subset of arrived, unfinished requests whose memory fits is processed;
    under ``"recompute"`` an unfinished request not processed loses its progress.  Every
    request arrived and unfinished at the start of round ``t`` pays 1.  Exponential: tiny
    instances only.  Default horizon ``max a + sum o`` (resume; no empty round after the last
    arrival in an optimum) or ``max a + 2 sum o`` (recompute, so the DP does not rely on the
    lemma of the module docstring).

    Examples
    --------
    >>> inst = Instance.from_arrays([0, 1], [1, 3], [3, 1], memory=4)
    >>> preemptive_optimum(inst, "resume").objective       # rounds 1, 3, 4 and 2: 4 + 1
    5
    >>> preemptive_optimum(inst, "recompute").objective    # = non-preemptive optimum, 3 + 3
    6
    """
    model = _model(model)
    n, M = instance.n, instance.memory
    a = [r.arrival for r in instance.requests]
    s = [r.prompt for r in instance.requests]
    o = [r.output for r in instance.requests]
    if n == 0:
        return PreemptiveOptimum(0, model, (), 0)
    H = horizon if horizon is not None else max(a) + (1 if model == "resume" else 2) * sum(o)
    H = as_int(H, name="horizon", minimum=1)
    start = tuple([0] * n)
    layer = {start: 0}
    parents: list[dict] = []
    visited = 0
    for t in range(1, H + 1):
        nxt: dict = {}
        par: dict = {}
        for prog, cost in layer.items():
            pay = sum(1 for i in range(n) if a[i] < t and prog[i] < o[i])
            if pay == 0 and all(prog[i] == o[i] for i in range(n)):
                continue
            elig = [i for i in range(n) if a[i] <= t - 1 and prog[i] < o[i]]
            for k in range(len(elig) + 1):
                for sub in combinations(elig, k):
                    if sum(s[i] + prog[i] + 1 for i in sub) > M:
                        continue
                    new = list(prog)
                    for i in range(n):
                        if i in sub:
                            new[i] += 1
                        elif model == "recompute" and new[i] < o[i]:
                            new[i] = 0
                    key = tuple(new)
                    c = cost + pay
                    if key not in nxt or c < nxt[key]:
                        nxt[key] = c
                        par[key] = (prog, sub)
        visited += len(nxt)
        if visited > max_states:
            raise ValueError(f"preemptive DP exceeded max_states={max_states}")
        parents.append(par)
        done = tuple(o)
        if done in layer and (done not in nxt or layer[done] < nxt[done]):   # carry it forward
            nxt[done] = layer[done]
            par[done] = None
        layer = nxt
    done = tuple(o)
    if done not in layer:
        raise ValueError(f"no schedule finishes within horizon {H}")
    best = layer[done]
    rounds: list[list[int]] = [[] for _ in range(n)]
    key = done
    for t in range(H, 0, -1):
        entry = parents[t - 1].get(key)
        if entry is None:
            continue
        prev, sub = entry
        for i in sub:
            rounds[i].append(t)
        key = prev
    rounds_t = tuple(tuple(sorted(r)) for r in rounds)
    return PreemptiveOptimum(int(best), model, rounds_t, visited)


# --------------------------------------------------------------------------- fat-short family
def _fat_params(n, P):
    n = as_int(n, name="n", minimum=1)
    P = as_int(P if P is not None else max(2, math.isqrt(n - 1) + 1), name="P", minimum=2)
    return n, P


def fat_short_instance(n: int, releases: Sequence[int], P: int | None = None) -> Instance:
    """``L = (0, n, P)``, ``M = n + P``, shorts ``(r, M - 1, 1)`` for each ``r`` in ``releases``.

    ``P`` defaults to ``ceil(sqrt(n))`` (at least 2): ``n = 16`` gives the issue's
    ``L = (0, 16, 4)``, ``M = 20``, shorts of prompt 19.

    Examples
    --------
    >>> inst = fat_short_instance(16, [3, 7])
    >>> inst.prompt.tolist(), inst.output.tolist(), inst.memory
    ([16, 19, 19], [4, 1, 1], 20)
    """
    n, P = _fat_params(n, P)
    M = n + P
    rel = [as_int(r, name="release", minimum=0) for r in releases]
    return Instance.from_arrays([0] + rel, [n] + [M - 1] * len(rel), [P] + [1] * len(rel),
                                memory=M, name=f"fat shorts n={n}, P={P}")


def fat_short_opt(instance: Instance) -> tuple[int, Schedule]:
    """Exact (non-preemptive = recompute) optimum of a fat-short instance.

    Single-machine structure: no two requests share a round (a short needs all ``M``).  For
    each start ``p`` of ``L`` the unit shorts go, in release order, into the earliest free
    round after their release (optimal for identical unit jobs); the best ``p`` wins.

    Examples
    --------
    >>> fat_short_opt(fat_short_instance(16, [3 + 4 * i for i in range(16)]))[0]   # issue: 21
    21
    """
    L = instance.requests[0]
    shorts = sorted(range(1, instance.n), key=lambda i: instance.requests[i].arrival)
    last = max([r.arrival for r in instance.requests]) + instance.n + L.output
    best = None
    for p in range(last + 1):
        busy = set(range(p + 1, p + L.output + 1))
        starts = [p] + [0] * (instance.n - 1)
        cost = p + L.output
        for i in shorts:
            t = instance.requests[i].arrival + 1
            while t in busy:
                t += 1
            busy.add(t)
            starts[i] = t - 1
            cost += t - instance.requests[i].arrival
        if best is None or cost < best[0]:
            best = (cost, starts)
    sched = Schedule.from_starts(instance, best[1], policy="fat-short optimum")
    check_schedule(instance, sched, preemptive=False)
    return int(best[0]), sched


def fat_short_closed_form(n: int, P: int, k: int) -> tuple[int, int]:
    """``(ALG_k, OPT_k)`` of the threshold-``k`` algorithm against the fat-short adversary.

    ``ALG_k = (k + 1) P + k + 2 [k < n]`` and ``OPT_k = P + min(k + 1, n) + 1`` (``P >= 2``).

    Examples
    --------
    >>> fat_short_closed_form(16, 4, 16)      # always-evict, the issue's 84 against 21
    (84, 21)
    >>> fat_short_closed_form(16, 4, 0)       # never-evict is optimal
    (6, 6)
    """
    n, P = _fat_params(n, P)
    k = min(as_int(k, name="k", minimum=0), n)
    return (k + 1) * P + k + 2 * (k < n), P + min(k + 1, n) + 1


# --------------------------------------------------------------------------- eviction rules
#: An eviction rule sees L's progress in its current attempt, its remaining rounds, the number
#: of waiting requests that cannot run beside it, and how many times L was evicted so far.
EvictionRule = Callable[[int, int, int, int], bool]


def always_evict(progress: int, remaining: int, blocked: int, evictions: int) -> bool:
    """Evict whenever something is blocked (vLLM-like).

    Examples
    --------
    >>> always_evict(3, 1, 1, 7)
    True
    """
    return blocked > 0


def never_evict(progress: int, remaining: int, blocked: int, evictions: int) -> bool:
    """Never evict (the non-preemptive algorithms).

    Examples
    --------
    >>> never_evict(0, 9, 9, 0)
    False
    """
    return False


never_evict.k = 0


def threshold(k: int) -> EvictionRule:
    """Evict for the first ``k`` times something is blocked, never afterwards.

    Examples
    --------
    >>> r = threshold(2)
    >>> r(3, 1, 1, 0), r(3, 1, 1, 1), r(3, 1, 1, 2)
    (True, True, False)
    """
    k = as_int(k, name="k", minimum=0)

    def rule(progress, remaining, blocked, evictions):
        return blocked > 0 and evictions < k

    rule.__name__ = f"threshold_{k}"
    rule.k = k
    return rule


def rent_or_buy(progress: int, remaining: int, blocked: int, evictions: int) -> bool:
    """Evict iff the blocked requests would wait longer in total than the work thrown away.

    ``blocked * remaining > progress``: keeping ``L`` delays each blocked request by the
    ``remaining`` rounds of ``L``; evicting loses ``progress`` rounds of ``L``.

    Examples
    --------
    >>> rent_or_buy(3, 1, 1, 0)     # fat short at L's last round: keep L
    False
    >>> rent_or_buy(1, 3, 4, 0)     # four thin shorts early in L's run: evict
    True
    """
    return blocked * remaining > progress


EVICTION_RULES: dict[str, EvictionRule] = {"always-evict": always_evict,
                                           "never-evict": never_evict,
                                           "threshold-1": threshold(1),
                                           "threshold-2": threshold(2),
                                           "rent-or-buy": rent_or_buy}


@dataclass(frozen=True)
class FatShortRun:
    """One run of an eviction rule against the adaptive fat-short adversary (recompute model).

    Attributes
    ----------
    schedule : Schedule
        The rule's schedule, checked with ``preemptive=True``.
    instance : Instance
        The instance the adversary built (its releases).
    alg, opt : int
        Total latency of the rule and exact optimum of that instance.
    """

    schedule: Schedule
    instance: Instance
    alg: int
    opt: int

    @property
    def ratio(self) -> float:
        """``alg / opt``."""
        return self.alg / self.opt


def fat_short_run(rule: EvictionRule, n: int, P: int | None = None, *,
                  at: int | None = None) -> FatShortRun:
    """Play ``rule`` against the adaptive fat-short adversary and score it against the optimum.

    The adversary releases a short at decision time ``d`` whenever ``L``'s current attempt has
    made ``at`` rounds of progress by ``d`` (default ``P - 1``; at most ``n`` shorts).  The online algorithm
    serves waiting shorts first when ``L`` is not running, and asks ``rule`` whether to evict
    ``L`` when a short is waiting while ``L`` runs.

    Examples
    --------
    >>> run = fat_short_run(always_evict, 16)
    >>> run.alg, run.opt
    (84, 21)
    >>> fat_short_run(never_evict, 16).ratio
    1.0
    >>> round(fat_short_run(rent_or_buy, 16, 16, at=7).ratio, 2)   # early shorts: a cascade
    3.72
    """
    n, P = _fat_params(n, P)
    at = P - 1 if at is None else as_int(at, name="at", minimum=1)
    if at >= P:
        raise ValueError(f"at must be < P={P}, got {at}")
    releases: list[int] = []
    L_attempts: list[tuple[int, int]] = []
    short_start: list[int] = []
    d, L_start, progress, evictions = 0, None, 0, 0
    queue: list[int] = []
    while True:
        if L_start is not None and progress == at and len(releases) < n:
            releases.append(d)
            queue.append(len(releases) - 1)
        if L_start is not None:
            if queue and rule(progress, P - progress, len(queue), evictions):
                L_attempts.append((L_start, d))
                L_start, progress, evictions = None, 0, evictions + 1
            else:
                progress += 1
                d += 1
                if progress == P:
                    L_attempts.append((L_start, d))
                    break
                continue
        if queue:
            queue.pop(0)
            short_start.append(d)
        else:
            L_start, progress = d, 1
        d += 1
    d_end = d
    while queue:                                  # shorts still waiting after L finished
        queue.pop(0)
        short_start.append(d_end)
        d_end += 1
    inst = fat_short_instance(n, releases, P)
    attempts = [L_attempts] + [[(p, p + 1)] for p in short_start]
    sched = Schedule.from_attempts(inst, attempts, policy=getattr(rule, "__name__", "rule"))
    rep = check_schedule(inst, sched, preemptive=True)
    opt, _ = fat_short_opt(inst)
    return FatShortRun(sched, inst, rep.total_latency, opt)


def best_response_exhaustive(n: int, P: int | None = None, *, max_idle: int = 1) -> dict:
    """Best deterministic algorithm against the fat-short adversary, by exhaustive search.

    Enumerates every action sequence (run or continue ``L``, evict it, serve a waiting short,
    idle at most ``max_idle`` times) and returns the least ratio ``ALG / OPT`` and the number of
    evictions of a best path.  A deterministic algorithm meets this adversary on exactly one
    path, so this is the value of the game restricted to the family.

    Examples
    --------
    >>> best_response_exhaustive(3, 3)["ratio"]
    1.0
    """
    n, P = _fat_params(n, P)
    best = {"ratio": math.inf, "evictions": None, "paths": 0}

    def finish(releases, cost_alg, evictions):
        inst = fat_short_instance(n, releases, P)
        opt, _ = fat_short_opt(inst)
        best["paths"] += 1
        if cost_alg / opt < best["ratio"]:
            best["ratio"], best["evictions"] = cost_alg / opt, evictions

    def rec(d, L_start, progress, L_done, queue, releases, cost, idles, evictions):
        # cost: latency already paid (rounds waited/processed so far by finished requests)
        if L_start is not None and progress == P - 1 and len(releases) < n and \
                (not releases or releases[-1] != d):
            releases = releases + [d]
            queue = queue + [d]
        if L_done and not queue:
            finish(releases, cost, evictions)
            return
        if d > 3 * (n + 1) * P + 2 * max_idle + 4:
            return
        opts = []
        if not L_done:
            opts.append("L")
        if queue:
            opts.append("short")
        if idles < max_idle:
            opts.append("idle")
        for act in opts:
            if act == "L":
                ls = L_start if L_start is not None else d
                pr = progress + 1
                if pr == P:
                    rec(d + 1, None, 0, True, queue, releases, cost + d + 1, idles, evictions)
                else:
                    rec(d + 1, ls, pr, False, queue, releases, cost, idles, evictions)
            else:
                ev = evictions + (L_start is not None)
                if act == "short":
                    rec(d + 1, None, 0, L_done, queue[1:], releases,
                        cost + d + 1 - queue[0], idles, ev)
                else:
                    rec(d + 1, None, 0, L_done, queue, releases, cost, idles + 1, ev)

    rec(0, None, 0, False, [], [], 0, 0, 0)
    return {"n": n, "P": P, **best}


def srpt_fat_short(n: int, P: int | None = None) -> tuple[int, int]:
    """Resume model: ``(SRPT cost, exact resume optimum)`` against the always-release adversary.

    With resume at no cost a fat-short instance is a single machine with preemption, where
    shortest-remaining-processing-time is optimal for total flow time (Schrage 1968);
    SRPT is online, so its ratio is 1.  The adversary releases a short whenever ``L`` has made
    ``P - 1`` rounds of progress in total; SRPT keeps ``L`` (remaining 1 <= 1), so one short is
    released.  Both numbers are computed: SRPT by simulation, the optimum by
    :func:`preemptive_optimum` (small ``n``, ``P``).

    Examples
    --------
    >>> srpt_fat_short(4, 3)
    (5, 5)
    """
    n, P = _fat_params(n, P)
    inst = fat_short_instance(n, [P - 1], P)      # SRPT's run: L at 0..P, one short at P - 1
    rounds = [list(range(1, P + 1)), [P + 1]]
    alg = check_resume(inst, rounds)
    return alg, preemptive_optimum(inst, "resume").objective


def fat_short_derivation() -> dict:
    """The closed forms of :func:`fat_short_closed_form`, derived with sympy; asserts inside.

    ``ALG_k``: ``k`` cycles of ``P`` rounds (``P - 1`` rounds of ``L``, then the short), then
    ``L``'s final ``P`` rounds; the ``k`` evicting shorts wait 0, the next one (if any) waits 1
    round.  ``OPT_k``: ``L`` in rounds ``1..P``; only the first short waits one round.

    Examples
    --------
    >>> d = fat_short_derivation()
    >>> str(d["limit_P_threshold"]), str(d["always_evict_P_eq_n"])
    ('k + 1', 'n*(n + 2)/(2*n + 1)')
    """
    import sympy as sp
    k, n, P = sp.symbols("k n P", positive=True, integer=True)
    L_completion = k * P + P
    alg_thr = L_completion + k * 1 + 2            # k < n: the (k+1)-th short waits one round
    opt_thr = P + (k + 1) + 1
    alg_all = (n + 1) * P + n                     # k = n: every short is served at release
    opt_all = P + n + 1
    for kk, PP, nn in [(0, 4, 16), (1, 4, 16), (5, 3, 9)]:
        a, o = fat_short_closed_form(nn, PP, kk)
        assert (a, o) == (int(alg_thr.subs({k: kk, P: PP})), int(opt_thr.subs({k: kk, P: PP})))
    a, o = fat_short_closed_form(16, 4, 16)
    assert (a, o) == (int(alg_all.subs({n: 16, P: 4})), int(opt_all.subs({n: 16, P: 4})))
    lim = sp.limit(alg_thr / opt_thr, P, sp.oo)
    assert sp.simplify(lim - (k + 1)) == 0
    # ratio of threshold-k is below k + 1 for every P: (k+1) OPT - ALG = k (k + 2) >= 0
    assert sp.expand((k + 1) * opt_thr - alg_thr - k * (k + 2)) == 0
    always = sp.simplify((alg_all / opt_all).subs(P, n))
    assert sp.limit(always / n, n, sp.oo) == sp.Rational(1, 2)
    return {"alg_threshold": alg_thr, "opt_threshold": opt_thr, "limit_P_threshold": lim,
            "alg_always": alg_all, "opt_always": opt_all,
            "always_evict_P_eq_n": sp.factor(always)}
