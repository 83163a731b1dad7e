"""Lower bounds (claims clm_lb_deterministic and clm_lb_randomized): the adversary, the closed
forms against exhaustive search and the integer program, and the zero-sum game."""

import math
from itertools import product

import numpy as np
import pytest

from kvtheory import POLICIES, Schedule, is_valid_schedule, mc_sf, simulate
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.simulator import Decision
from kvtheory.claims.lower_bounds import check_lb_deterministic, check_lb_randomized
from kvtheory.theory.lower_bounds import (adaptive_adversary, adversarial_instance, adversary_ratio,
                                          alg_cost, best_start, cost_ratio, delayed,
                                          deterministic_bound, long_request, opt_cost,
                                          start_alone_at, worst_release)
from kvtheory.theory.lower_bounds_game import (game_matrix, pure_value, solve_game,
                                               yao_analytic_bound, yao_bound)


# ----------------------------------------------------------------------------- the claims
def test_clm_lb_deterministic():
    rep = check_lb_deterministic(ns=(3, 4, 6, 8, 12))
    assert rep.holds, rep.summary
    per_n = rep.details["per_n"]
    # the best pure strategy meets the bound exactly; registered policies pay about n/2
    for row in per_n:
        assert row["min ratio"] == pytest.approx(row["bound"])
        assert row["registry min ratio"] >= row["n"] / 2 - 1e-9
        assert row["preemptive"] == 0
    assert per_n[-1]["min ratio"] > 0.35 * per_n[-1]["n"]


def test_clm_lb_randomized():
    rep = check_lb_randomized(ns=(3, 4, 6, 8, 12, 16, 24), validate=(2, 3))
    assert rep.holds, rep.summary
    vals = [row["value"] for row in rep.details["per_n"]]
    assert all(b > a for a, b in zip(vals, vals[1:]))
    for row in rep.details["per_n"]:                      # randomization helps, but not enough
        assert row["analytic bound"] <= row["yao bound"] <= row["value"] < row["deterministic"]


def test_lb_limits_are_derived_symbolically():
    """The asymptotic statements come from sympy (closed form and limit), not from finite n."""
    import sympy as sp
    from kvtheory.theory.lower_bounds_limits import deterministic_limit, randomized_limit
    d, r = deterministic_limit(), randomized_limit()
    assert d.limit == sp.oo and d.slope == sp.Rational(1, 3)
    assert r.limit == sp.oo and r.slope > 0
    for n in (2, 3, 5, 8, 13, 64, 257):          # lower bounds on the exact figures
        assert d.at(n) <= deterministic_bound(n) + 1e-12
        assert r.at(n) <= yao_analytic_bound(n) + 1e-12
        assert d.at(n) == pytest.approx((n * n + 2 * n - 2) / (3 * n))


def _raises(state):
    raise ValueError("this policy is broken")


def test_lb_deterministic_error_is_inconclusive_not_fails():
    from kvtheory.claims import grade
    from kvtheory.claims.lower_bounds import _NONPRE
    rep = check_lb_deterministic(ns=(3,), policies={"broken": _raises, "mc-sf": mc_sf})
    assert not rep.holds and rep.counterexample is None
    assert any("raised" in p for p in rep.details["problems"])
    v = grade("clm_lb_deterministic", _NONPRE, rep, searched="n = 3")
    assert v.status == "inconclusive" and v.decide


def test_lb_deterministic_fails_only_with_a_reverified_counterexample(monkeypatch):
    """Injected evidence: a bound above every ratio makes every run a counterexample, which is
    re-verified (fresh simulation, checker, exact optimum) and shown."""
    from kvtheory.claims import grade, lower_bounds as lb
    from kvtheory.claims.lower_bounds import _NONPRE
    monkeypatch.setattr(lb, "deterministic_bound", lambda n: 100.0)
    rep = check_lb_deterministic(ns=(3,), policies={"mc-sf": mc_sf})
    assert not rep.holds and rep.counterexample["policy"] == "mc-sf"
    assert rep.counterexample["ratio"] < rep.counterexample["bound"] == 100.0
    v = grade("clm_lb_deterministic", _NONPRE, rep, searched="n = 3")
    assert v.status == "fails" and "mc-sf" in v.counterexample


def test_lb_randomized_failure_is_inconclusive(monkeypatch):
    from kvtheory.claims import grade, lower_bounds as lb
    from kvtheory.claims.lower_bounds import _RAND
    monkeypatch.setattr(lb, "yao_bound", lambda n: 1e6)      # injected: value below "Yao"
    rep = check_lb_randomized(ns=(3, 4), validate=())
    assert not rep.holds and rep.counterexample is None
    assert grade("clm_lb_randomized", _RAND, rep, searched="s").status == "inconclusive"


# ----------------------------------------------------------------------------- closed forms
def _brute(n, release, start=None):
    """Least total latency over all start vectors (L's start fixed to ``start`` if given)."""
    inst = adversarial_instance(n, release)
    r = 0 if release is None else release
    H = r + 2 * n + 2 + (start or 0)
    l_starts = [start] if start is not None else range(0, H + 1)
    best = math.inf
    for ls in l_starts:
        for shorts in product(range(r, H + 1), repeat=inst.n - 1):
            if list(shorts) != sorted(shorts):        # shorts are interchangeable
                continue
            sched = Schedule.from_starts(inst, [ls, *shorts])
            if sched.total_latency < best and is_valid_schedule(inst, sched):
                best = sched.total_latency
    return best


@pytest.mark.parametrize("n", [2, 3])
def test_opt_closed_form_is_exhaustive_optimum(n):
    for r in [None, *range(0, 2 * n + 2)]:
        assert opt_cost(n, r) == _brute(n, r), (n, r)


@pytest.mark.parametrize("n", [2, 3])
def test_alg_cost_is_least_cost_given_start(n):
    for r in range(1, 2 * n + 1):
        for d in range(0, 2 * n + 1):
            if d < r:
                assert alg_cost(n, d, r) == _brute(n, r, start=d), (n, d, r)
            else:                                      # L not started when the shorts arrive
                best = min(_brute(n, r, start=s) for s in range(r, r + n + 2))
                assert alg_cost(n, d, r) == best, (n, d, r)


@pytest.mark.parametrize("n", [2, 4, 7, 10])
def test_opt_closed_form_matches_integer_program(n):
    for r in [None, 0, 1, n // 2, n - 1, n, n + 1, 3 * n]:
        res = solve_optimal(adversarial_instance(n, r))
        assert res.proven_optimal and res.objective == opt_cost(n, r)


def test_no_short_fits_beside_long():
    for n in range(2, 30):
        M = n * (n + 1)
        assert all(n * n + j + (n + 1) > M for j in range(1, n + 1))
        assert n * n + n == M and n * (n + 1) == M


def test_worst_release_is_the_best_answer():
    for n in (3, 5, 9):
        for d in range(0, 3 * n):
            every = [cost_ratio(n, d, r) for r in range(d + 1, d + 4 * n)] + [cost_ratio(n, d, None)]
            assert adversary_ratio(n, d) == pytest.approx(max(every))
            assert worst_release(n, d) is None or worst_release(n, d) > d


def test_deterministic_bound_grows_linearly():
    b = [deterministic_bound(n) for n in range(2, 200)]
    assert all(y > x for x, y in zip(b, b[1:]))
    assert 0.36 < deterministic_bound(199) / 199 < 0.38
    assert deterministic_bound(64) == adversary_ratio(64, best_start(64))


# ----------------------------------------------------------------------------- the adversary
@pytest.mark.parametrize("name", list(POLICIES))
def test_adversary_against_every_registered_policy(name):
    n = 6
    run = adaptive_adversary(POLICIES[name], n)
    assert run.proven_optimal and run.opt == run.opt_closed_form
    assert not run.preemptive
    assert run.ratio >= run.derived - 1e-12 >= deterministic_bound(n) - 1e-12
    assert run.schedule is not None and is_valid_schedule(run.instance, run.schedule)


@pytest.mark.parametrize("wait", [0, 1, 2, 3, 4, 5, 6, 7, 12, 29, 30, 36, 37, 80])
def test_adversary_against_a_waiting_user_policy(wait):
    n = 6                                   # max_wait = 36
    run = adaptive_adversary(delayed(mc_sf, wait), n)
    assert run.start == (wait if wait <= n * n else None)
    assert run.ratio >= deterministic_bound(n) - 1e-12
    if wait <= n * n:                       # MC-SF afterwards answers optimally
        assert run.ratio == pytest.approx(adversary_ratio(n, wait))
        assert run.ratio == pytest.approx(run.derived)
    else:                                   # shorts at 37; waiting beyond them costs more
        assert run.release == n * n + 1 and run.ratio >= run.derived
        assert (run.ratio > run.derived) == (wait > n * n + 1)
    assert is_valid_schedule(run.instance, run.schedule)


def test_adversary_against_a_policy_that_never_starts():
    run = adaptive_adversary(lambda state: Decision(), 4, max_wait=10)
    assert run.start is None and run.release == 11 and math.isinf(run.ratio)
    assert run.derived == pytest.approx((2 * 4 + 11 + 1) / 8)


def test_adversary_rejects_a_policy_that_is_not_deterministic():
    calls = []

    def moody(state):                       # starts L at once in the first simulation only
        if state.t == 0:
            calls.append(1)
        return mc_sf(state) if len(calls) == 1 or state.t >= 3 else Decision()

    with pytest.raises(ValueError, match="not deterministic"):
        adaptive_adversary(moody, 5)


def test_adversary_flags_preemption():
    def evict_for_company(state):
        if len(state.running) and len(state.waiting):
            return Decision(evict=state.running.id.tolist(), start=state.waiting.id.tolist())
        return mc_sf(state)

    run = adaptive_adversary(evict_for_company, 8)
    assert run.preemptive and run.ratio == 1.0
    assert is_valid_schedule(run.instance, run.schedule)


def test_start_alone_at_realises_the_game():
    n, R = 4, 10
    A = game_matrix(n, R)
    for i, r in enumerate([*range(1, R + 1), None]):
        for d in range(R + 1):
            pol = start_alone_at(d if r is None else min(d, r))
            got = simulate(adversarial_instance(n, r), pol).total_latency / opt_cost(n, r)
            assert got == pytest.approx(A[i, d]), (r, d)


def test_validation():
    with pytest.raises(ValueError, match="n must be >= 2"):
        long_request(1)
    with pytest.raises(ValueError, match="release must be >= 0"):
        adversarial_instance(3, -1)
    with pytest.raises(ValueError, match="start must be >= 0"):
        alg_cost(3, -2, 1)
    with pytest.raises(ValueError, match="n must be an integer"):
        opt_cost(2.5, 1)


# ----------------------------------------------------------------------------- the game
def test_game_certificates_and_exactness():
    g = solve_game(12)
    assert g.exact and g.support_max < g.max_release
    assert g.lower == pytest.approx(g.value, rel=1e-8) and g.upper == pytest.approx(g.value, rel=1e-8)
    assert g.algorithm_mix.sum() == pytest.approx(1) and g.adversary_mix.sum() == pytest.approx(1)
    # a bigger family does not change an exact value
    assert solve_game(12, max_release=2 * g.max_release, grow=False).value == pytest.approx(g.value)


def test_game_value_grows_with_the_family():
    small = solve_game(16, max_release=20, grow=False)
    assert not small.exact
    assert small.value < solve_game(16).value
    assert small.pure_value == pytest.approx(pure_value(16, 20))


def test_pure_value_equals_deterministic_bound():
    for n in (2, 3, 5, 8, 13, 20):
        assert pure_value(n, n * n) == pytest.approx(deterministic_bound(n))


def test_yao_bounds():
    for n in (2, 3, 6, 10, 24, 50, 97, 150):
        assert yao_bound(n) >= yao_analytic_bound(n) - 1e-12
    assert yao_analytic_bound(6000) > 15                    # grows like sqrt(n) / 4.9
    assert yao_bound(20) <= solve_game(20).value + 1e-9


# ----------------------------------------------------------------------------- preemptive readings
def test_pre_status_rule_reaches_every_status():
    from kvtheory.claims.lower_bounds import _pre_status
    assert _pre_status() == "inconclusive"
    assert _pre_status(lower_bound_proof="symbolic limit over all algorithms") == "proved"
    assert _pre_status(constant_ratio_algorithm="rule X with ratio <= 3") == "fails"
    with pytest.raises(ValueError, match="contradicts"):
        _pre_status(lower_bound_proof="x", constant_ratio_algorithm="y")


def test_pre_verdict_reports_the_exact_game():
    from kvtheory.claims.lower_bounds import _PRE, _pre_verdict
    v = _pre_verdict("clm_lb_deterministic", _PRE, (4, 8), True)
    assert v.status == "inconclusive" and v.decide
    # the fully adaptive game: 16/13 at n = P = 4 is the largest of the quick sizes
    assert v.figures["max_game_value"] == "16/13" and v.figures["max_game"] == [4, 4]
    assert "16/13" in v.evidence
