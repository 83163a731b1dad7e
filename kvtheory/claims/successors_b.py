"""Claims of two successor papers, tested in their own models.

* Ao, Luo, Simchi-Levi, Wang, *Optimizing LLM inference: fluid-guided online scheduling with
  memory constraints*, arXiv 2504.11320 (read in the authors' LaTeX source, current revision):
  the fluid benchmark, WAIT's rates, WAIT's memory safety, the FCFS example, Nested WAIT.
  Chapter ``book/succ_fluid``.
* Li, Dai, Peng, *Throughput-optimal scheduling algorithms for LLM inference and AI agents*,
  arXiv 2504.07347 (known second-hand): work-conserving stability, non-work-conserving
  instability, the section 6 counterexample with a cap on requests per batch, and where MC-SF
  sits.  Chapter ``book/succ_throughput``.

The searches and their rules live in :mod:`kvtheory.claims.successors_b_searches` (re-exported
here), their power in :mod:`kvtheory.claims.successors_b_power`.
"""

from __future__ import annotations

import numpy as np

from kvtheory.claims._core import Claim, ClaimCheck, Reading, Verdict, grade, with_statuses
from kvtheory.claims.successors_b_power import (budget_power, fcfs_power, gate, kmax_power,
                                                mcsf_power, nested_power, no_overflow_power,
                                                power_seeds, rates_power)
from kvtheory.claims.successors_b_searches import *  # noqa: F401,F403
from kvtheory.claims.successors_b_searches import (CASES, KMAX_PAIR, STATED, TOL, _summ,
                                                   budget_stability, check_wait_no_overflow,
                                                   combine, fcfs_example, fcfs_statuses,
                                                   grade_budget, grade_rate, kmax_status,
                                                   mcsf_rule, mcsf_status, nested_gap_fit,
                                                   nested_status, wait_rate_fits)
from kvtheory.claims.successors_b_searches import __all__ as _searches_all
from kvtheory.engines.fluid import StageWorkload, fluid_equilibrium
from kvtheory.engines.token_budget import (BUDGET_POLICIES, WORK_CONSERVING, BudgetConfig,
                                           capacity, stability_rows, vertex_c)
from kvtheory.theory.fluid import budget_derivation, fluid_derivation

__all__ = ["CLAIMS", "check_fluid", *_searches_all]

ARXIV_FLUID = "arXiv 2504.11320"
ARXIV_BUDGET = "arXiv 2504.07347"


def _rates(quick):
    kw = (dict(horizons=(100, 200, 400, 800), paths=30, boot=300) if quick else
          dict(horizons=(100, 200, 400, 800, 1600, 3200), paths=200, boot=1000))
    out = wait_rate_fits(np.random.default_rng(0), **kw)
    powers = rates_power(quick, kw, STATED)
    seeds = power_seeds(quick)
    searched = (f"l = l' = 1, lambda = 4 (Poisson per round), unit rounds; T in "
                f"{list(kw['horizons'])} x {kw['paths']} paths, {kw['boot']} bootstrap "
                f"replicates; first path of each T checked independently; seed 0; power: the "
                f"same search at seeds {seeds[0]}..{seeds[-1]} against the planted WAIT")
    verdicts = []
    for (case, key), stated in STATED.items():
        f = out["fits"][f"{case}/{key}"]
        C, n = CASES[case]
        below = f["hi"] < stated
        text = (f"C = {C}, n = {n}: {key} slope {f['slope']:.3f} (95 % [{f['lo']:.3f}, "
                f"{f['hi']:.3f}]) against the stated exponent {stated:g}"
                + (" (the whole interval lies below it: growth slower than the O() bound "
                   "allows, which the bound permits)" if below else "")
                + "; means " + ", ".join(f"{m:.4g}" for m in f["means"]))
        status, text, decide = gate(
            grade_rate(f, stated), text,
            "longer horizons and more paths, or a proof: a measured slope above the stated "
            "exponent over finite T cannot refute an asymptotic O()", powers[(case, key)])
        verdicts.append(Verdict(
            "clm_wait_rates", f"{case}: {key}", status, text, searched,
            figures={k: f[k] for k in ("slope", "lo", "hi", "means", "T")},
            decide="" if status == "supported" else decide,
            quick=quick, full_status=not quick, power=powers[(case, key)]))
    return tuple(verdicts)


def check_fluid() -> ClaimCheck:
    """Claim ``clm_fluid_benchmark``: the fluid formulas, derived in sympy (asserts inside).

    Examples
    --------
    >>> check_fluid().holds
    True
    """
    d = fluid_derivation()
    num = fluid_equilibrium(StageWorkload(((1, 1, 4.0),), memory=12))
    holds = num["memory"] == d["fcfs_example_memory"] and num["throughput"] == 4.0
    return ClaimCheck("clm_fluid_benchmark", holds, 1,
                      {"M_star": str(d["M_star"]), "fcfs_example_memory": num["memory"]},
                      "sympy: per-type memory n (l'+1)(l + l'/2), flow balance gives n* = d0 "
                      "lambda / (1 - d1 lambda (l'+1)(l+l'/2)), throughput = lambda l', M* -> "
                      "infinity as d1 rho -> 1; the FCFS example has M* = 12, throughput* = 4")


def _fluid(quick):
    rep = check_fluid()
    return (grade("clm_fluid_benchmark", _FL_SYM, rep, searched="symbolic (sympy), all "
                  "l, l', lambda, d0, d1 > 0; two types for M*", quick=quick,
                  full_status=True),)


def _no_overflow(quick):
    paths, horizon = (5, 300) if quick else (50, 2000)
    rep = check_wait_no_overflow(np.random.default_rng(0), paths=paths, horizon=horizon)
    seeds = power_seeds(quick)
    return (grade("clm_wait_no_overflow", _NO_OV, rep, quick=quick,
                  power=no_overflow_power(quick, paths, horizon),
                  searched=f"3 workloads (one, two types; thresholds ceil(lambda)), {paths} "
                           f"paths x {horizon} rounds each, seed 0; power: the same search at "
                           f"seeds {seeds[0]}..{seeds[-1]} with thresholds ceil(lambda) + 1 "
                           f"(M^pi > C, planted)"),)


def _fcfs(quick):
    kw = dict(horizons=(300, 1200), paths=6) if quick else dict(horizons=(1000, 4000),
                                                                  paths=40)
    out = fcfs_example(np.random.default_rng(0), **kw)
    seeds = power_seeds(quick)
    searched = (f"l = l' = 1, C = 12, lambda = 4, unit rounds; T in {kw['horizons']} x "
                f"{kw['paths']} paths; first path of each checked independently; seed 0; "
                f"power: the same runs at seeds {seeds[0]}..{seeds[-1]} with WAIT (planted)")
    T1, T2 = kw["horizons"]
    f1, f2 = out["loss"]["fcfs"][T1], out["loss"]["fcfs"][T2]
    m2 = out["loss"]["mc-sf"][T2]
    st = fcfs_statuses(out["loss"], T1, T2)
    power = fcfs_power(quick, kw)
    texts = {
        "size": ("the example's size",
                 f"FCFS (our reconstruction) loses {100 * f2[0]:.1f} % of throughput* at T = "
                 f"{T2} (95 % [{100 * f2[1]:.1f}, {100 * f2[2]:.1f}]), {f2[3]:.0f} evictions "
                 f"per path; the paper says about 12.5-25 %", out["loss"],
                 "the paper's exact FCFS rule (admission order and eviction order)"),
        "persists": ("gap does not vanish",
                     f"FCFS loss {100 * f1[0]:.1f} % at T = {T1}, {100 * f2[0]:.1f} % at T = "
                     f"{T2} (lower 95 % ends {100 * f1[1]:.1f}, {100 * f2[1]:.1f} %)",
                     {"fcfs": out["loss"]["fcfs"]}, "longer horizons"),
        "mcsf": ("MC-SF in the same example",
                 f"MC-SF (exact lengths, look-ahead, never evicts) loses {100 * m2[0]:.1f} % at "
                 f"T = {T2} (95 % [{100 * m2[1]:.1f}, {100 * m2[2]:.1f}]): greedy admission "
                 f"alternates 6 and 0 prefills per round", {"mc-sf": out["loss"]["mc-sf"]},
                 "longer horizons")}
    verdicts = []
    for k, (name, text, figures, decide) in texts.items():
        status, text, decide = gate(st[k], text, decide, power[k])
        verdicts.append(Verdict("clm_fcfs_gap", name, status, text, searched, figures=figures,
                                decide="" if status == "supported" else decide, quick=quick,
                                full_status=not quick, power=power[k]))
    return tuple(verdicts)


def _nested(quick):
    kw = (dict(horizons=(100, 400, 1600), paths=10) if quick else
          dict(horizons=(100, 400, 1600, 6400), paths=60))
    f = nested_gap_fit(np.random.default_rng(0), **kw)
    ok = nested_status(f) == "supported"
    power = nested_power(quick, kw)
    status, text, decide = gate(
        "supported" if ok else "inconclusive",
        f"Nested WAIT (the authors' rule, their memory repair), thresholds {f['thresholds']} "
        f"(ours, meeting the drift conditions), C = 24 (M^pi = {f['M_pi']:g} plus a buffer of "
        f"{24 - f['M_pi']:g}): gap slope {f['slope']:.3f} (95 % [{f['lo']:.3f}, "
        f"{f['hi']:.3f}]), {f['evictions']} evictions", "" if ok else "longer horizons", power)
    return (Verdict("clm_nested_wait", "two decode lengths, unknown", status, text,
                    f"l = 1; l' = 1 at rate 3, l' = 2 at rate 1, lengths hidden; C = 24; T in "
                    f"{list(kw['horizons'])} x {kw['paths']} paths, 300 bootstrap replicates; "
                    f"seed 0",
                    figures={k: f[k] for k in ("slope", "lo", "hi", "means", "T")},
                    decide=decide, quick=quick, full_status=not quick, power=power),)


# --------------------------------------------------------------------------- token budget
def _budget(quick, parts=("below", "above", "non_wc")):
    paths = 4 if quick else 12
    horizon = {"below": 120_000.0, "above": 60_000.0, "non_wc": 120_000.0} if quick else \
        {"below": 240_000.0, "above": 240_000.0, "non_wc": 240_000.0}
    out = {}
    for k, part in enumerate(parts):
        out.update(budget_stability(np.random.default_rng(k), horizon=horizon[part],
                                    paths=paths, parts=(part,)))
    base = (f"b_max = 512, CodeLlama-34B clock (11.28 + 35.47 ceil(b/128) ms), Poisson "
            f"arrivals, {paths} paths, slope of unprocessed tokens over the second half; "
            f"seeds 0, 1, 2 for the parts")
    verdicts = []
    for name, key, pols, expect, what in (
            ("work-conserving below capacity", "below", WORK_CONSERVING, "bounded",
             "100 + 100 tokens, load 0.9"),
            ("every scheduler above capacity", "above", tuple(BUDGET_POLICIES), "fluid",
             "100 + 100 tokens, load 1.1"),
            ("non-work-conserving below capacity", "non_wc", ("fastertransformer", "vllm"),
             "grows", "129 + 112 tokens, load 0.85")):
        if key not in out:
            continue
        summ = {p: _summ(out[key], p) for p in pols}
        st = {p: grade_budget(s, expect=expect) for p, s in summ.items()}
        status = combine(st.values())
        text = "; ".join(f"{p}: slope {s['mean']:.3f} tokens/ms (95 % [{s['lo']:.3f}, "
                         f"{s['hi']:.3f}]), fluid {s['fluid']:.3f}"
                         + (f", excess over the realised fluid rate {s['excess']:.3f}"
                            if expect == "fluid" else "") for p, s in summ.items())
        bad = [p for p, v in st.items() if v == "fails"]
        seed = list(parts).index(key)
        power = budget_power(quick, key, horizon[key], paths, seed)
        status, text, decide = gate(
            status, text,
            "longer horizons and more paths (the backlog slope is noisy near the boundary)",
            power)
        pseeds = power_seeds(quick, seed)
        verdicts.append(Verdict(
            "clm_budget_stability", name, status, text,
            f"{what}, horizon {horizon[key] / 1000:g} s; {base}; power: the same search at "
            f"seeds {pseeds[0]}..{pseeds[-1]} against {power['planted']} (planted)",
            figures=summ,
            counterexample=(f"{bad}: backlog grows at load 0.9 ({what}, seed 0)"
                            if bad else None),
            decide="" if status != "inconclusive" else decide,
            quick=quick, full_status=not quick, power=power))
    return tuple(verdicts)


def _stability(quick):
    return _budget(quick)


def _mcsf(quick):
    horizon, paths = (60_000.0, 4) if quick else (240_000.0, 12)
    cfg = BudgetConfig(512)
    rows = stability_rows(["mc-sf-budget"], cfg, 100, 100, [1.1], horizon, paths,
                          np.random.default_rng(1))
    s = _summ(rows, "mc-sf-budget")
    cap = capacity(cfg)
    served_hi = s["offered"] - s["lo"]
    status = mcsf_status(served_hi, cap)
    power = mcsf_power(quick, horizon, paths, mcsf_rule)
    status, _, decide = gate(status, "", "longer horizons", power)
    return (Verdict(
        "clm_budget_mcsf", "MC-SF on a token budget, overloaded", status,
        f"MC-SF (whole prefills, shortest first, stop at first misfit) serves at most "
        f"{served_hi:.3f} tokens/ms under load 1.1 (95 % upper end of offered minus backlog "
        f"growth), capacity {cap:.3f}: {100 * (1 - served_hi / cap):.1f} % below",
        f"100 + 100 tokens, load 1.1, b_max = 512, CodeLlama-34B clock, Poisson arrivals, "
        f"horizon {horizon / 1000:g} s x {paths} paths; seed 1; power: the same search at seeds "
        f"{power_seeds(quick, 1)[0]}..{power_seeds(quick, 1)[-1]} against {power['planted']} "
        f"(planted)",
        figures=s, decide="" if status == "supported" else decide, quick=quick,
        full_status=not quick, power=power),)


def _kmax(quick):
    horizon, others = (560_000.0, 140_000.0) if quick else (1_120_000.0, 280_000.0)
    rows = vertex_c(KMAX_PAIR, horizon=horizon) + vertex_c(
        (("orca", 128), ("fastertransformer", 128), ("vllm", 128), ("mc-sf-budget", 128),
         ("mc-sf-budget", 1024)), horizon=others)
    sym = budget_derivation()
    by = {(r["policy"], r["b_max"]): r for r in rows}
    s128, s1024 = by[("sarathi", 128)], by[("sarathi", 1024)]
    power = kmax_power(horizon)
    text = (f"Sarathi b_max = 1024 (work-conserving, capacity {s1024['capacity']:.3f} > offered "
            f"{s1024['offered']:.3f} tokens/ms) grows by {s1024['growth_second_half']} tokens "
            f"over the second half; Sarathi b_max = 128 by {s128['growth_second_half']} (last "
            f"batch {s128['last_batch']} prefill/decode tokens); offered = capacity(128) "
            f"exactly (sympy: {sym['offered_vertex_c']})")
    status, text, decide = gate(kmax_status(rows), text, "a longer horizon", power)
    return (Verdict("clm_budget_kmax", "vertex C, k_max = 100", status, text,
                    f"deterministic arrivals every 467.5 ms, 290 + 990 tokens, k_max = 100; "
                    f"Sarathi-128 and -1024 over {horizon / 1000:g} s (shorter, the uncapped "
                    f"Sarathi-1024 is still filling up and grows too), the others (shown, not "
                    f"graded) over {others / 1000:g} s: "
                    + ", ".join(f"{r['policy']}-{r['b_max']}" for r in rows[2:])
                    + f"; power: the same run (deterministic: one) against {power['planted']} "
                      f"(planted)",
                    figures={f"{r['policy']}-{r['b_max']}": r["growth_second_half"]
                             for r in rows},
                    decide="" if status == "supported" else decide, quick=quick,
                    full_status=not quick, power=power),)


# --------------------------------------------------------------------------- the claims
_FL_SYM = Reading("symbolic", "sympy over positive symbols: per-type memory, flow balance, "
                  "throughput identity, two-type M*, limit d1 rho -> 1", "symbolic")
_NO_OV = Reading("sampled paths", "WAIT with thresholds ceil(lambda_j) and M^pi <= C, unit "
                 "rounds, Poisson arrivals; every schedule checked independently", "sample")
_RATES = tuple(Reading(f"{case}: {key}", f"l = l' = 1, lambda = 4, C = {CASES[case][0]}, "
                       f"n = {CASES[case][1]}; slope of the mean {key} against T, stated "
                       f"exponent {stated:g}, rule: 95 % upper end <= exponent + {TOL}",
                       "measured") for (case, key), stated in STATED.items())
_FCFS = (Reading("the example's size", "l = l' = 1, C = 12, lambda = 4; FCFS admits in arrival "
                 "order while the round fits, evicts LIFO (our reconstruction)", "measured"),
         Reading("gap does not vanish", "the same; loss at two horizons", "measured"),
         Reading("MC-SF in the same example", "MC-SF in the stage model, same workload",
                 "measured"))

CLAIMS = (
    Claim("clm_fluid_benchmark", "Fluid benchmark of fluid-guided batching",
          f"({ARXIV_FLUID}, section 'Fluid model and equilibrium') In the fluid equilibrium "
          "type j keeps n_j* = d0 lambda_j / (1 - d1 rho) prompts at each of its l'_j + 1 "
          "stages, memory M* = d0 rho / (1 - d1 rho) with rho = sum lambda_j (l'_j + 1)(l_j + "
          "l'_j/2), throughput* = sum lambda_j l'_j.", "current revision", "paper",
          "book/succ_fluid", (_FL_SYM,), _fluid,
          "tests/test_fluid.py::test_clm_fluid_benchmark", source="2504.11320"),
    Claim("clm_wait_rates", "WAIT's throughput gap and latency rates",
          f"({ARXIV_FLUID}, Theorem 'wait_heavy_traffic') With thresholds meeting Delta T <= "
          "n_j / lambda_j and M* <= M^pi <= C, the throughput gap is O((zeta T)^-1/2) and "
          "latency O((zeta T)^1/2); with strict inequality for every type, O(1/(zeta T)) and "
          "O(1).", "current revision", "paper", "book/succ_fluid", _RATES, _rates,
          "tests/test_fluid.py::test_clm_wait_rates", source="2504.11320"),
    Claim("clm_wait_no_overflow", "WAIT never evicts when M^pi <= C",
          f"({ARXIV_FLUID}, section on WAIT: the threshold rule prevents eviction) Under WAIT "
          "with M^pi <= C no stage of type j ever holds more than n_j prompts, memory stays "
          "<= M^pi and nothing is evicted.", "current revision", "ours", "book/succ_fluid",
          (_NO_OV,), _no_overflow, "tests/test_fluid.py::test_clm_wait_no_overflow", source="2504.11320"),
    Claim("clm_fcfs_gap", "FCFS loses a constant fraction of throughput at C = M*",
          f"({ARXIV_FLUID}, Proposition 'lower_bound_FCFS' and Example 'FCFS cascade') At "
          "C = M* FCFS has throughput gap Omega(1); with l = l' = 1, C = 12, lambda = 4 it "
          "completes about 3 to 3.5 prompts per round instead of 4.", "current revision",
          "paper", "book/succ_fluid", _FCFS, _fcfs, "tests/test_fluid.py::test_clm_fcfs_gap", source="2504.11320"),
    Claim("clm_nested_wait", "Nested WAIT approaches the fluid throughput",
          f"({ARXIV_FLUID}, Theorem 'nested_wait_heavy_traffic') With thresholds meeting the "
          "drift conditions and a logarithmic memory buffer, Nested WAIT's throughput gap "
          "vanishes as T grows, without knowing output lengths.", "current revision", "paper",
          "book/succ_fluid", (Reading("two decode lengths, unknown", "l = 1, l' in {1, 2} at "
                                      "rates 3 and 1, C = 24, thresholds (5, 2), M^pi = 21 "
                                      "<= C; the authors' rule with its memory repair; the "
                                      "95 % upper end of the gap's slope against T at most "
                                      "-1/4", "measured"),), _nested,
          "tests/test_fluid.py::test_clm_nested_wait", source="2504.11320"),
    Claim("clm_budget_stability", "Work-conserving schedulers are throughput-optimal",
          f"({ARXIV_BUDGET}, main theorem, second-hand) No scheduler serves more than b_max / "
          "t(b_max) tokens per unit time; every work-conserving scheduler is stable when "
          "lambda (m_p + m_d) < b_max / t(b_max); FasterTransformer-like and vLLM-like "
          "schedulers (not work-conserving) can be unstable below it.", "all", "second-hand",
          "book/succ_throughput",
          (Reading("work-conserving below capacity", "Sarathi-like and Orca-like, load 0.9",
                   "measured"),
           Reading("every scheduler above capacity", "all five schedulers, load 1.1: backlog "
                   "grows at least at the fluid rate", "measured"),
           Reading("non-work-conserving below capacity", "FasterTransformer-like and "
                   "vLLM-like, 129 + 112 tokens, load 0.85", "measured")), _stability,
          "tests/test_token_budget.py::test_clm_budget_stability", source="2504.07347"),
    Claim("clm_budget_kmax", "A cap on requests per batch breaks throughput optimality",
          f"({ARXIV_BUDGET}, section 6, second-hand) With at most k_max requests per batch a "
          "work-conserving scheduler can be unstable below b_max / t(b_max): batch time 11.28 "
          "+ 35.47 ceil(b/128) ms, one request every 467.5 ms with 290 prefill and 990 decode "
          "tokens (v3 section 6.2, point C, with b_max = 128; b_0 divides b_max, Assumption 1 "
          "of section 3.1).", "v2-v3", "second-hand", "book/succ_throughput",
          (Reading("vertex C, k_max = 100", "Sarathi-like with b_max 128 and 1024 (and the "
                   "other schedulers), deterministic arrivals", "measured"),), _kmax,
          "tests/test_token_budget.py::test_clm_budget_kmax", source="2504.07347"),
    Claim("clm_budget_mcsf", "MC-SF on a token budget is not throughput-optimal",
          "(ours; MC-SF of arXiv 2502.07115 in the model of arXiv 2504.07347) MC-SF's rule "
          "carried to the token budget (keep every decode, admit whole "
          "prefills shortest first, stop at the first misfit) does not fill the budget and "
          "serves fewer than b_max / t(b_max) tokens per unit time under overload.", "-",
          "ours", "book/succ_throughput",
          (Reading("MC-SF on a token budget, overloaded", "100 + 100 tokens, load 1.1, "
                   "b_max = 512", "measured"),), _mcsf,
          "tests/test_token_budget.py::test_clm_budget_mcsf", source="2504.07347"),
)

#: The statuses each reading's rule can return (readings graded by ``grade`` keep its default).
STATUSES = {
    **{("clm_wait_rates", r.name): ("supported", "inconclusive") for r in _RATES},
    **{("clm_fcfs_gap", r.name): ("supported", "inconclusive") for r in _FCFS},
    ("clm_nested_wait", "two decode lengths, unknown"): ("supported", "inconclusive"),
    ("clm_budget_stability", "work-conserving below capacity"): ("supported", "fails",
                                                                 "inconclusive"),
    ("clm_budget_stability", "every scheduler above capacity"): ("supported", "inconclusive"),
    ("clm_budget_stability", "non-work-conserving below capacity"): ("supported",
                                                                     "inconclusive"),
    ("clm_budget_kmax", "vertex C, k_max = 100"): ("supported", "inconclusive"),
    ("clm_budget_mcsf", "MC-SF on a token budget, overloaded"): ("supported", "inconclusive"),
}
CLAIMS = with_statuses(CLAIMS, STATUSES)
