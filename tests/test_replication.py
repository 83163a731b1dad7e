"""The synthetic replication: runner, executors (incl. dask.distributed), determinism, claims."""

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import math

import numpy as np
import pytest

from kvtheory.studies import replication as rp
from kvtheory.claims import synthetic as cs

SMALL1 = {"n": 5, "memory": 12}
SMALL2 = {"horizon": 3, "memory": 12}


def _assert_valid(rows):
    for r in rows:
        if r["livelock"]:
            assert r["total_latency"] is None
            continue
        assert r["ratio"] >= 1.0 - 1e-12
        assert r["ratio"] <= r["ratio_upper"] + 1e-12
        assert r["lower_bound"] <= r["opt"]
        if r["proven"]:
            assert r["ratio"] == pytest.approx(r["ratio_upper"])
            assert r["optimal"] == (r["total_latency"] == r["opt"])


def test_clm_synthetic_model1():
    with ThreadPoolExecutor(2) as ex:
        rep = cs.check_synthetic_model1(8, seed=1, executor=ex, time_limit=60, **SMALL1)
    rows = rep.details["rows"]
    _assert_valid(rows)
    mc = [r for r in rows if r["policy"] == "mc-sf"]
    assert len(mc) == 8 and all(r["proven"] for r in mc)
    s = next(x for x in rep.details["summary"] if x["policy"] == "mc-sf")
    assert s["best"] >= 1.0 and s["ci_low"] <= s["mean"] <= s["ci_high"]
    assert rep.details["verdict"] == cs.verdict(s, "model1")
    assert rep.holds == (rep.details["verdict"] == "supported")
    assert any(r["figure"].startswith("optimal") for r in rep.details["comparison"])
    # power: the planted longest-first rule on the same trials and proven optima is far off
    # the paper's mean, and the same rule says so
    p = rep.details["planted"]
    assert p["policy"] == "longest-first" and p["trials"] == 8 and p["proven"] == 8
    assert p["ci_low"] > 1.005 + 5e-4 and p["mean"] > s["mean"]
    assert rep.details["planted_verdict"] == "fails"
    assert (rep.details["power"]["found"], rep.details["power"]["of"]) == (1, 1)


def test_clm_synthetic_model2():
    with ThreadPoolExecutor(2) as ex:
        rep = cs.check_synthetic_model2(8, seed=2, executor=ex, time_limit=60, **SMALL2)
    _assert_valid(rep.details["rows"])
    s = next(x for x in rep.details["summary"] if x["policy"] == "mc-sf")
    assert s["proven"] == 8 and s["worst"] >= s["mean"] >= s["best"] >= 1.0
    assert rep.details["verdict"] == cs.verdict(s, "model2")
    # MC-Benchmark and the practice-style rules are in the same table; livelocks are counted
    pols = {x["policy"] for x in rep.details["summary"]}
    assert {"mc-benchmark", "vllm", "alpha-0.1-greedy"} <= pols


def test_verdict_logic():
    row = {"trials": 10, "proven": 10, "ci_low": 1.0, "ci_high": 1.01, "ci_high_upper": 1.01}
    assert cs.verdict(row, "model1") == "supported"              # 1.005 inside the CI
    assert cs.verdict({**row, "ci_low": 1.02, "ci_high": 1.03}, "model1") == "fails"
    unproven = {**row, "proven": 0, "ci_low": 1.0, "ci_high": 1.0, "ci_high_upper": 1.4}
    assert cs.verdict(unproven, "model1") == "inconclusive"
    assert cs.verdict({**unproven, "ci_low": 1.1}, "model2") == "fails"   # above 1.047 for sure


def test_code_reading_status_rule():
    """The code reading's status follows its figures: unproven incumbents decide nothing."""
    import pandas as pd
    df = pd.DataFrame({"ratio": [1.0, 1.004, 1.01, 1.006], "proven": [True] * 4})
    assert cs.code_reading_status(df, 1.005)[0] == "supported"
    status, ce, _ = cs.code_reading_status(df, 1.047)
    assert status == "fails" and "above" in ce and "1.0470" not in ce
    status, ce, _ = cs.code_reading_status(df.assign(ratio=[1.1, 1.12, 1.09, 1.11]), 1.005)
    assert status == "fails" and "lies below" in ce
    status, ce, decide = cs.code_reading_status(df.assign(proven=[True, True, False, True]), 1.5)
    assert status == "inconclusive" and ce is None and decide


def test_failed_mean_names_the_side_that_failed():
    row = {"trials": 10, "proven": 10, "ci_low": 1.02, "ci_high": 1.03, "ci_high_upper": 1.03}
    assert cs.verdict(row, "model1") == "fails"
    assert "lies below" in cs.mean_outside(row, 1.005)
    high = {**row, "ci_low": 1.0, "ci_high": 1.01}                  # 1.047 is above it
    assert cs.verdict(high, "model2") == "fails"
    text = cs.mean_outside(high, 1.047)
    assert "lies above" in text and "1.0100" in text and "below" not in text


def test_seeds_are_reproducible_and_prefix_stable():
    a = rp.trial_specs("model1", 5, seed=3)
    b = rp.trial_specs("model1", 8, seed=3)
    assert [s.seed.generate_state(2).tolist() for s in a] == \
           [s.seed.generate_state(2).tolist() for s in b[:5]]
    m2 = rp.trial_specs("model2", 1, seed=3)
    assert m2[0].seed.generate_state(2).tolist() != a[0].seed.generate_state(2).tolist()


def test_same_rows_on_every_executor():
    specs = rp.trial_specs("model1", 4, seed=5, policies=["mc-sf", "vllm"], **SMALL1)
    with ThreadPoolExecutor(2) as ex:
        threads = rp.run_trials(specs, ex, progress=False)
    with ProcessPoolExecutor(2) as ex:
        procs = rp.run_trials(specs, ex, progress=False)
    serial = [r for s in specs for r in rp.run_trial(s)]
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rows]
    assert strip(threads) == strip(procs) == strip(serial)


def test_default_executor_is_a_process_pool():
    specs = rp.trial_specs("model2", 2, seed=6, policies=["mc-sf"], **SMALL2)
    rows = rp.run_trials(specs, progress=True)
    assert [r["trial"] for r in rows] == [0, 1]


def test_dask_distributed_executor():
    distributed = pytest.importorskip("distributed")
    specs = rp.trial_specs("model1", 3, seed=9, policies=["mc-sf", "mc-benchmark"], **SMALL1)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        rows = rp.run_trials(specs, client.get_executor(), progress=False)
    serial = [r for s in specs for r in rp.run_trial(s)]
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rows]
    assert strip(rows) == strip(serial)
    _assert_valid(rows)


def test_validation():
    with pytest.raises(ValueError, match="unknown policies"):
        rp.trial_specs("model1", 1, policies=["nope"])
    with pytest.raises(ValueError, match="mc-sf"):
        rp.trial_specs("model1", 1, policies=["vllm"])
    with pytest.raises(ValueError, match="time_limit"):
        rp.trial_specs("model1", 1, time_limit=-1)
    with pytest.raises(ValueError, match="search_evals"):
        rp.trial_specs("model1", 1, search_evals=-5)


def test_summary_counts_livelocks():
    rows = [{"model": "model1", "policy": "alpha-0.1-greedy", "ratio": None, "ratio_upper": None,
             "proven": True, "optimal": None, "livelock": True},
            {"model": "model1", "policy": "alpha-0.1-greedy", "ratio": 1.2, "ratio_upper": 1.2,
             "proven": True, "optimal": False, "livelock": False}]
    s = rp.summarize(rows)[0]
    assert s["livelocks"] == 1 and s["mean"] == 1.2 and s["optimal"] == 0
    assert math.isnan(rp.summarize(rows[:1])[0]["mean"])


def test_paper_size_brackets_without_the_program():
    """At the paper's size the program is skipped: search above, area bound below."""
    with ThreadPoolExecutor(2) as ex:
        rep = cs.check_synthetic_model1(3, seed=0, executor=ex, time_limit=0, search_evals=3000)
    rows = rep.details["rows"]
    _assert_valid(rows)
    mc = [r for r in rows if r["policy"] == "mc-sf"]
    assert all(40 <= r["n"] <= 60 and 30 <= r["M"] <= 50 and not r["proven"] for r in mc)
    assert all(r["solve_seconds"] < 0.01 for r in mc)           # the program did not run
    # the search beats MC-SF on these trials: MC-SF is provably not optimal there
    assert all(r["beaten"] and r["ratio"] > 1.0 for r in mc)
    s = next(x for x in rep.details["summary"] if x["policy"] == "mc-sf")
    assert s["beaten"] == 3 and s["optimal"] == 0
    opt_row = next(r for r in rep.details["comparison"] if r["figure"].startswith("optimal"))
    assert opt_row["measured"].startswith("at most 0 of 3")
    assert rep.details["verdict"] == cs.verdict(s, "model1")


def test_summary_counts_beaten_and_above_worst():
    rows = [{"model": "model2", "policy": "mc-sf", "ratio": r, "ratio_upper": 2.0, "proven": False,
             "optimal": False, "beaten": r > 1, "livelock": False} for r in (1.0, 1.1, 1.3)]
    s = rp.summarize(rows)[0]
    assert s["beaten"] == 2 and s["above_paper_worst"] == 1     # only 1.3 > 1.227


@pytest.mark.parametrize("model", ["model1", "model2"])
def test_paper_size_run_refutes_the_mean(model):
    """Our finding: at the paper's size the paper's mean lies below MC-SF's CI (24 trials)."""
    check = {"model1": cs.check_synthetic_model1, "model2": cs.check_synthetic_model2}[model]
    rep = check(24, seed=0, time_limit=0, search_evals=5000)
    s = next(x for x in rep.details["summary"] if x["policy"] == "mc-sf")
    assert s["ci_low"] > rp.PAPER_FIGURES[model]["mean"]          # the reason it fails
    assert rep.details["verdict"] == "fails"


def test_json_output_has_the_bracket_per_policy(capsys):
    args = ["--trials", "2", "--model", "model1", "--n", "5", "--memory", "12", "--workers", "1",
            "--quiet", "--format", "json", "--bound", "peak", "--bound-time", "5"]
    assert rp.main(args) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    assert {o["policy"] for o in out} == set(rp.BASE_POLICIES)
    for o in out:
        assert {"policy", "mean", "mean_upper", "proven", "trials"} <= set(o)
        assert o["trials"] == 2 and 0 <= o["proven"] <= 2
        if o["mean"] is not None:
            assert 1.0 <= o["mean"] <= o["mean_upper"] + 1e-12


def test_peak_bound_never_loosens_the_bracket():
    specs = rp.trial_specs("model1", 2, seed=4, policies=["mc-sf"], n=12, memory=20,
                           search_evals=2000)
    vol = [r for s in specs for r in rp.run_trial(s)]
    peak = [r for s in rp.trial_specs("model1", 2, seed=4, policies=["mc-sf"], n=12, memory=20,
                                      search_evals=2000, bound="peak", bound_time=5)
            for r in rp.run_trial(s)]
    _assert_valid(peak)
    for v, p in zip(vol, peak):
        assert v["opt"] == p["opt"] and p["lower_bound"] >= v["lower_bound"]
    assert sum(p["lower_bound"] for p in peak) > sum(v["lower_bound"] for v in vol)


def test_cli_bad_input_is_one_line(capsys):
    assert rp.main(["--trials", "1", "--bound-time", "-1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "bound_time" in err[0]


def test_cli_runs_on_an_existing_dask_cluster(capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        args = ["--trials", "2", "--model", "model2", "--horizon", "3", "--memory", "12",
                "--quiet", "--format", "json", "--dask", cluster.scheduler_address]
        assert rp.main(args) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    assert all(o["trials"] == 2 for o in out)
    local = rp.summarize(rp.run_trials(rp.trial_specs("model2", 2, horizon=3, memory=12),
                                       max_workers=1, progress=False))
    assert [o["mean"] for o in out] == pytest.approx([s["mean"] for s in local], nan_ok=True)


@pytest.mark.parametrize("model", ["model1", "model2"])
def test_synthetic_readings_report_power_and_need_it(monkeypatch, model):
    """Both readings report power; a pass whose planted run was not caught is inconclusive."""
    import pandas as pd
    from kvtheory.claims._core import ClaimCheck
    from kvtheory.studies import code_reading
    m = cs.PAPER_FIGURES[model]["mean"]
    row = {"policy": "mc-sf", "trials": 4, "proven": 4, "mean": m, "ci_low": m - 0.01,
           "ci_high": m + 0.01, "ci_high_upper": m + 0.01, "mean_upper": m, "worst": m,
           "optimal": 2, "beaten": 2}
    for found, status in ((1, "supported"), (0, "inconclusive")):
        planted = {**row, "policy": "longest-first"}
        fake = (lambda *a, found=found, planted=planted: ClaimCheck(
            f"clm_synthetic_{model}", True, 4, {}, "injected", None,
            {"verdict": "supported", "summary": [row], "rows": [], "planted": planted,
             "planted_verdict": "fails" if found else "supported",
             "power": {"planted": "p", "found": found, "of": 1}}))
        monkeypatch.setattr(cs, "_check", fake)
        (v,) = cs._synthetic(model)(True)
        assert v.status == status and v.power["found"] == found, (found, v.status)
        assert "planted" in v.searched
    base = pd.DataFrame({"mcsf": [100, 100], "incumbent": [100, 100], "best_known": [95, 95],
                         "improved": [False, False], "proven": [True, True],
                         "dual_gap": [0.0, 0.0], "ratio": [m, m]})
    for far, status in ((0.3, "supported"), (0.0, "inconclusive")):
        monkeypatch.setattr(code_reading, "code_reading_trials",
                            lambda *a, far=far, **k: base.assign(ratio=[m + far] * 2)
                            if k.get("policy") == "longest-first" else base)
        v = cs._code_reading(model, True)
        assert v.status == status and v.power["found"] == int(far > 0), (far, v.status)
