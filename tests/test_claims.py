"""The claim registry: one test per claim of the MC-SF/optimum chapters (test name = claim ID),
the verdict objects, the registry's integrity, the ``claims``/``verify`` commands, and the
agreement of ``verify --quick`` with the book's rendered registry page."""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import numpy as np
import pytest
from nbclient import NotebookClient

from kvtheory.claims import (CLAIMS, STATUS, Claim, ClaimCheck, Reading, Verdict, claim,
                             claims_table, grade, verify)
from kvtheory.claims import mcsf, optimum
from kvtheory import Instance, POLICIES
from kvtheory.engines.simulator import state_cycle

ROOT = Path(__file__).resolve().parents[1]


def test_clm_ip_exact():
    rep = optimum.check_ip_exact(np.random.default_rng(11), trials=60)
    assert rep.holds, rep.summary


def test_clm_peak_rows():
    rep = optimum.check_peak_rows_exhaustive(3, (3, 4, 5, 6), 4)
    assert rep.holds and rep.details["feasible"] > 30_000, rep.summary
    assert optimum.check_peak_bound(np.random.default_rng(21), trials=15).holds


def test_peak_rows_have_teeth():
    """Some infeasible start vectors of the same family violate a peak row: the check can fail."""
    from kvtheory.optimum.bounds import peak_row_slack
    from kvtheory.model.schedule import Schedule
    inst = optimum.Instance.from_arrays([0, 0], [2, 2], [3, 3], memory=6)   # peaks 5 + 5 > 6
    assert peak_row_slack(inst, Schedule.from_starts(inst, [0, 1])) < 0


def test_clm_mcsf_feasible():
    rep = mcsf.check_mcsf_feasible(np.random.default_rng(12), trials=150)
    assert rep.holds, rep.summary


def test_clm_mcsf_feasible_has_power_against_under_predictions():
    """The same runs with predictions down to o/2 (not covered by the claim) find evictions."""
    v = mcsf._feasible(True)[0]
    assert v.status == "supported" and v.power["of"] == 5 and v.power["found"] >= 4
    assert not mcsf.check_mcsf_feasible(np.random.default_rng(1200), trials=30, low=0.5).holds
    # were the planted sampler the claim's own (no under-prediction), the power would be 0
    same = mcsf.power_of(lambda low, s: mcsf.check_mcsf_feasible(np.random.default_rng(s),
                                                                 trials=30, low=low),
                         1.0, mcsf.FEASIBLE_SEEDS[:5], lambda r: not r.holds, label="none")
    assert same["found"] == 0


def test_clm_peak_points():
    rep = mcsf.check_peak_points(np.random.default_rng(13), trials=80)
    assert rep.holds and rep.details["decisions"] > 500, rep.summary


def test_clm_no_policy_beats_opt():
    rep = optimum.check_no_policy_beats_opt(np.random.default_rng(14), trials=15)
    assert rep.holds, rep.summary
    # livelocked runs are counted in the figures and the text, not hidden behind "all valid"
    w = rep.worst
    assert w["runs"] == 15 * len(POLICIES) == w["livelocked runs"] + w["checked schedules"]
    assert w["livelocked runs"] == sum(rep.details["livelocks"].values()) > 0
    assert f"{w['livelocked runs']} of {w['runs']} runs livelocked" in rep.summary


def test_clm_clear_all_livelock():
    rep = mcsf.check_clear_all_livelock(np.random.default_rng(15), trials=40)
    assert rep.holds, rep.summary
    rates = rep.details["livelock_rate"]
    assert rates["mc-sf"] == rates["vllm"] == rates["alpha-0.2-beta-0.1"] == 0
    # the proof: the whole state repeats (worked out by hand: both start at 0, overflow and
    # are cleared, and the run comes back to "both waiting, both cleared d rounds ago")
    witness = Instance.from_arrays([0, 0], [1, 1], [5, 5], memory=8)
    for name in POLICIES:
        cycle = state_cycle(witness, POLICIES[name])
        assert (cycle is not None) == name.endswith("-greedy"), name


def test_clm_clear_all_livelock_alpha_classes():
    """Proved for every alpha <= 1/2 (one alpha per class of equal behaviour); alpha > 1/2
    finishes the witness, so the statement says alpha <= 1/2, not 'every alpha'."""
    rep = mcsf.check_livelock_alphas()
    assert rep.holds and rep.cases == 9
    assert rep.details["finishes"] == [0.625, 0.75, 0.875, 0.9375]
    for a in (0.1, 0.2, 0.25, 0.3, 0.5):                  # registered alphas and the edge
        assert mcsf.alpha_classes()[int(8 * (1 - a) + 1e-9)] <= 0.5
    v = grade("clm_clear_all_livelock", mcsf._LIVE, rep, searched="s")
    assert v.status == "proved"
    assert "alpha <= 1/2" in mcsf.CLAIMS[2].statement


def test_clm_clear_all_livelock_fails_names_the_configuration(monkeypatch):
    """Injected evidence: a witness that fits both requests finishes under every alpha; the
    failing verdict names the configuration and shows the re-checked schedule."""
    monkeypatch.setattr(mcsf, "WITNESS", ((0, 0), (1, 1), (2, 2), 8))
    rep = mcsf.check_livelock_alphas({"a": 0.25, "b": 0.6})
    assert not rep.holds and rep.counterexample["alpha"] == 0.25
    v = grade("clm_clear_all_livelock", mcsf._LIVE, rep, searched="s")
    assert v.status == "fails" and "0.25" in v.counterexample and "alpha = 0.25" in v.evidence


def test_clm_mcsf_runtime():
    rep = mcsf.check_mcsf_runtime(np.random.default_rng(16), memories=(64, 128, 256))
    assert rep.cases == 3 and all(r["rounds"] > 0 for r in rep.details["rows"])
    assert rep.holds, rep.summary        # per-round time grows no faster than M^2


# --------------------------------------------------------------------------- verdict objects
def test_verdict_validation():
    with pytest.raises(ValueError, match="status must be one of"):
        Verdict("clm_x", "r", "holds", "e", "s")
    with pytest.raises(ValueError, match="counterexample"):
        Verdict("clm_x", "r", "fails", "e", "s")
    with pytest.raises(ValueError, match="what would decide"):
        Verdict("clm_x", "r", "inconclusive", "e", "s")
    with pytest.raises(ValueError, match="seconds"):
        Verdict("clm_x", "r", "supported", "e", "s", seconds=-1.0)
    row = Verdict("clm_x", "r", "supported", "e", "s", figures={"a": np.float64(1.5)}).row()
    assert json.loads(json.dumps(row))["figures"] == {"a": 1.5}


def test_grade_maps_methods_to_statuses():
    ok = ClaimCheck("clm_x", True, 3, {}, "fine")
    bad = ClaimCheck("clm_x", False, 3, {"n": 2}, "broken", counterexample="two requests")
    assert grade("clm_x", Reading("a", "b", "exhaustive"), ok, searched="s").status == "proved"
    assert grade("clm_x", Reading("a", "b", "symbolic"), ok, searched="s").status == "proved"
    assert grade("clm_x", Reading("a", "b", "sample"), ok, searched="s").status == "supported"
    v = grade("clm_x", Reading("a", "b", "measured"), bad, searched="s", quick=True)
    assert (v.status, v.counterexample, v.full_status) == ("fails", "two requests", True)
    assert grade("clm_x", Reading("a", "b"), ok, searched="s", quick=True).full_status is False


def test_grade_never_fails_without_a_counterexample():
    """A check that did not pass but shows no counterexample object (a time-out, an error, a
    trend not seen) is inconclusive, and says so; a counterexample that does not re-verify too."""
    timeout = ClaimCheck("clm_x", False, 3, {"n": 4}, "optimum not proven (time-out)")
    for method in ("exhaustive", "symbolic", "sample", "measured"):
        v = grade("clm_x", Reading("a", "b", method), timeout, searched="s")
        assert v.status == "inconclusive" and v.counterexample is None
        assert "no counterexample object" in v.evidence and "counterexample" in v.decide
    bad = ClaimCheck("clm_x", False, 3, {}, "broken", counterexample={"ratio": 0.5})
    assert grade("clm_x", Reading("a", "b"), bad, searched="s",
                 reverify=lambda ce: ce["ratio"] < 1).status == "fails"
    v = grade("clm_x", Reading("a", "b"), bad, searched="s", reverify=lambda ce: False)
    assert v.status == "inconclusive" and "did not re-verify" in v.evidence


def test_claim_validation():
    r = (Reading("a", "b"),)
    with pytest.raises(ValueError, match="clm_word_word"):
        Claim("bad id", "t", "s", "-", "ours", "book/model", r, lambda q: (), "t")
    with pytest.raises(ValueError, match="provenance"):
        Claim("clm_a", "t", "s", "-", "mine", "book/model", r, lambda q: (), "t")
    with pytest.raises(ValueError, match="unique"):
        Claim("clm_a", "t", "s", "-", "ours", "book/model", r + r, lambda q: (), "t")


# --------------------------------------------------------------------------- registry
@pytest.mark.parametrize("c", CLAIMS, ids=[c.id for c in CLAIMS])
def test_registry_pointers_exist(c):
    chapter = ROOT / f"{c.chapter}.md"
    assert chapter.exists(), f"{c.id}: chapter {chapter} missing"
    text = chapter.read_text()
    assert f":label: {c.label}" in text, f"{c.id}: label {c.label} not in {chapter}"
    path, _, func = c.test.partition("::")
    assert re.search(rf"def {func}\(", (ROOT / path).read_text()), f"{c.id}: test {c.test} missing"
    assert func == "test_" + c.id, "the test carries the claim ID"
    assert c.statement and c.readings


def test_registry_ids_unique_and_library_independent():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids)) and claim(ids[0]) is CLAIMS[0]
    assert [r["id"] for r in claims_table()] == ids
    for path in (ROOT / "kvtheory").glob("*.py"):        # the library never imports claims
        assert "claims" not in re.findall(r"^from \.(\w+)|^import kvtheory\.(\w+)",
                                          path.read_text(), flags=re.M).__str__(), path


def _cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "kvtheory", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def test_cli_claims_json_lists_definitions():
    res = _cli("claims", "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    assert {"id", "statement", "provenance", "versions", "readings"} <= set(rows[0])


def test_cli_verify_unknown_id_is_one_line_exit_2():
    res = _cli("verify", "clm_bogus")
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip().count("\n") == 0 and "clm_bogus" in res.stderr


def test_cli_verify_one_claim_json():
    res = _cli("verify", "clm_kv_capacity", "--format", "json", "--no-progress")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["id"], r["reading"]) for r in rows] == [("clm_kv_capacity", "fits"),
                                                      ("clm_kv_capacity", "standard accounting")]
    # 16,492 x 320 KiB = 5.40 GB fit on two A100s, but no standard accounting gives 16,492
    assert [r["status"] for r in rows] == ["proved", "fails"]
    assert "50,859" in rows[1]["counterexample"]


def _page_verdicts(nb) -> dict:
    """(id, reading) -> (status, evidence) from the HTML tables of an executed notebook."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            page = out.get("data", {}).get("text/html", "")
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S):
                cells = [html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", c)).strip()
                         for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
                for k in range(len(cells) - 3):
                    if cells[k].startswith("clm_") and cells[k + 2] in STATUS:
                        found[(cells[k], cells[k + 1])] = (cells[k + 2], cells[k + 3])
    return found


def test_verify_quick_agrees_with_the_rendered_claims_page():
    """Done-when of the registry issue: ``verify --quick`` (live) = the book's registry page."""
    res = _cli("verify", "--quick", "--format", "json", "--no-progress", timeout=1200)
    assert res.returncode == 0, res.stderr[-2000:]
    rows = json.loads(res.stdout)
    assert {r["id"] for r in rows} == {c.id for c in CLAIMS}
    assert all(r["status"] in STATUS for r in rows)
    nb = jupytext.read(ROOT / "book" / "claims.md")
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    page = _page_verdicts(nb)
    timed = {(c.id, r.name) for c in CLAIMS for r in c.readings if c.id == "clm_mcsf_runtime"}
    for r in rows:
        key = (r["id"], r["reading"])
        assert key in page, f"{key} not on the rendered claims page"
        assert page[key][0] == r["status"], (key, page[key][0], r["status"])
        if key not in timed:             # wall-clock figures differ between runs
            assert " ".join(page[key][1].split()) == " ".join(r["evidence"].split()), key


def test_cli_verify_exits_1_when_a_check_raises(monkeypatch, capsys):
    from kvtheory.claims import _run
    from kvtheory.cli import main

    def broken(cid, quick):
        raise _run.CheckFailed(cid, ZeroDivisionError("boom"))

    monkeypatch.setattr(_run, "_check_one", broken)
    assert main(["verify", "clm_kv_capacity", "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: clm_kv_capacity: the check raised ZeroDivisionError: boom"]


# --------------------------------------------------------------------------- zero evidence
def test_no_policy_beats_opt_overflowing_policy_fails_with_the_violation():
    """A policy that overflows memory is a validity violation, not a crash."""
    from kvtheory import Decision
    from kvtheory.claims import Reading, grade

    def greedy(state):                   # starts everything waiting, memory or not
        return Decision(start=state.waiting.id.tolist())
    rep = optimum.check_no_policy_beats_opt(np.random.default_rng(14), trials=15,
                                            policies={"greedy": greedy})
    assert not rep.holds and "would use" in rep.summary and "at t=" in rep.summary
    v = grade(rep.claim, Reading("every policy", "x", "sample"), rep, searched="15")
    assert v.status == "fails"
    assert "greedy" in v.counterexample and "M=" in v.counterexample and "at t=" in v.counterexample


def test_no_policy_beats_opt_with_every_run_livelocked_is_inconclusive():
    from kvtheory.claims import Reading, grade
    from kvtheory.engines.simulator import LivelockError

    def stuck(state):
        raise LivelockError("injected livelock")
    rep = optimum.check_no_policy_beats_opt(np.random.default_rng(14), trials=3,
                                            policies={"stuck": stuck})
    assert rep.holds and rep.cases == 0 and rep.worst["checked schedules"] == 0
    v = grade(rep.claim, Reading("every policy", "x", "sample"), rep, searched="3")
    assert v.status == "inconclusive" and v.decide.startswith("at least one case compared")


def test_lemma_4_7_with_every_solve_unproven_is_inconclusive(monkeypatch):
    """Every solve times out with bounds that neither verify nor refute: zero cases compared."""
    from dataclasses import replace
    from kvtheory.claims import ratio as claims_ratio
    from kvtheory.theory import lemma_searches
    from kvtheory.theory.ratio import LEMMA_4_7, lemma_4_7_bound
    real = lemma_searches.solve_optimal

    def unproven(inst, **kw):
        res = real(inst, **kw)
        b = lemma_4_7_bound(inst)       # lower bound below the lemma's, objective above it
        return replace(res, proven_optimal=False, lower_bound=b / 2,
                       objective=max(res.objective, int(b) + 1))
    monkeypatch.setattr(lemma_searches, "solve_optimal", unproven)
    run = lemma_searches.lemma_4_7_search(LEMMA_4_7, 43, trials=4, max_n=4, max_memory=12)
    assert run["cases"] == 0 and run["inconclusive"] == 4 and run["slack"] == 0.0
    v = claims_ratio.check_lemma("clm_lemma_4_7", claims_ratio._L47, True, {
        "runs": [run], "power": {"planted": "p", "found": 5, "of": 5}})
    assert v.status == "inconclusive" and "no case compared" in v.evidence


def test_ip_and_policy_readings_reach_every_status():
    """Injected runs and power through the readings' rules: supported, inconclusive, fails."""
    from kvtheory.claims import ClaimCheck
    ok_ip = ClaimCheck("clm_ip_exact", True, 12, {"difference": 0}, "ok", None, {"biggest": 9})
    bad_ip = ClaimCheck("clm_ip_exact", False, 12, {"difference": 1}, "IP differs",
                        Instance.from_arrays([0], [1], [1], memory=3))
    ok_nb = ClaimCheck("clm_no_policy_beats_opt", True, 3, {"ratio": 1.2, "policy": "mc-sf"},
                       "ok", None, {"runs": 3, "livelocked": 0})
    bad_nb = ClaimCheck("clm_no_policy_beats_opt", False, 3, {"error": "x"}, "x would use 7",
                        "M=6: (a=0, s=1, o=1); x would use 7", {"runs": 3, "livelocked": 0})
    strong, weak = ({"planted": "p", "found": k, "of": 5} for k in (4, 3))
    for check, ok, bad, cid in ((optimum.check_ip_random, ok_ip, bad_ip, "clm_ip_exact"),
                                (optimum.check_no_policy_random, ok_nb, bad_nb,
                                 "clm_no_policy_beats_opt")):
        got = [check(True, {"runs": [ok], "power": strong}).status,
               check(True, {"runs": [ok], "power": weak}).status,
               check(True, {"runs": [ok, bad], "power": strong}).status]
        assert got == ["supported", "inconclusive", "fails"], cid


def test_ip_and_policy_readings_have_power():
    """The same runs catch the planted solver (memory M + 1) and the planted over-admitting policy."""
    for check in (optimum.check_ip_random, optimum.check_no_policy_random):
        v = check(True)
        assert v.status == "supported" and v.power["found"] >= 0.8 * v.power["of"] == 4.0
        assert "M + 1" in v.power["planted"] and "planted" in v.searched


# --------------------------------------------------------------------------- power of the core readings
def test_peak_bound_reading_has_power():
    """The same runs catch the peak-row bound plus one; the true bound never exceeds the optimum."""
    from kvtheory.optimum.planted import overstated_peak_bound
    v = optimum.check_peak_bound_random(True)
    assert v.status == "supported" and v.power["of"] == 5 and v.power["found"] >= 4, v.power
    assert "plus one" in v.power["planted"] and "planted" in v.searched
    rep = optimum.check_peak_bound(np.random.default_rng(optimum.PR_SEEDS[0]),
                                   trials=optimum.PR_TRIALS, bound=overstated_peak_bound)
    assert not rep.holds and rep.worst["bound"] == rep.worst["opt"] + 1


def test_peak_points_reading_has_power():
    """Checking one round before each completion point admits too much: the comparison sees it."""
    v = mcsf._peak(True)[0]
    assert v.status == "supported" and v.power["found"] >= 4 and v.power["of"] == 5, v.power
    rep = mcsf.check_peak_points(np.random.default_rng(mcsf.PEAK_SEEDS[0]),
                                 trials=mcsf.PEAK_TRIALS, rule=mcsf.points_off_by_one)
    assert not rep.holds and len(rep.worst["points"]) > len(rep.worst["dense"])
    weak = {"planted": "p", "found": 1, "of": 5}
    ok = mcsf.ClaimCheck("clm_peak_points", True, 16, {"mismatches": 0}, "ok", None,
                         {"decisions": 9})
    assert mcsf._peak(True, {"runs": [ok], "power": weak})[0].status == "inconclusive"


def test_runtime_reading_sees_a_cubic_policy():
    """The same measurement (sampled rounds with a waiting request, exponent over M >= 128)
    sees MC-SF plus an O(M^3) product grow faster than M^2; low power is inconclusive."""
    from kvtheory.engines.policies.planted import cubic_mc_sf
    rep = mcsf.check_mcsf_runtime(np.random.default_rng(16), memories=(64, 128, 256, 512),
                                  policy=cubic_mc_sf)            # the reading's quick sizes
    assert not rep.holds and rep.worst["exponent"] > 2, rep.worst
    assert all(r["timed"] <= r["rounds"] for r in rep.details["rows"])
    ok = mcsf.ClaimCheck("clm_mcsf_runtime", True, 4, {"exponent": 0.1, "largest M": 512,
                                                       "median us at largest M": 10.0}, "ok")
    weak = {"planted": "p", "found": 1, "of": 3}
    assert mcsf._runtime(True, {"runs": [ok], "power": weak})[0].status == "inconclusive"
    strong = {"planted": "p", "found": 3, "of": 3}
    assert mcsf._runtime(True, {"runs": [ok], "power": strong})[0].status == "supported"
