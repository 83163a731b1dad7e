"""Tests for kvtheory.optimum.paper_solver (the published code's optimum) and the shared-prompt reading."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from kvtheory import Instance, Schedule, check_schedule, mc_sf, simulate
from kvtheory.optimum.exact import brute_force_optimal, solve_optimal
from kvtheory.optimum.paper_solver import build_paper_program, solve_paper_program
from kvtheory.studies.code_reading import (code_reading_summary, code_reading_trials, load_runs, main,
                                           summary_table)
from kvtheory.model.workloads import paper_model1, paper_model2, random_instance


# ------------------------------------------------------------------ the program
def test_program_size_by_hand():
    # a = (0, 1), o = (2, 1): T = 1 + 3 = 4; request 0 starts 0..2 (3 columns), request 1
    # starts 1..3 (3 columns); nonzeros 3 * (1 + 2) + 3 * (1 + 1) = 15
    inst = Instance.from_arrays([0, 1], [1, 1], [2, 1], memory=4)
    T, first, cost, start, index, value = build_paper_program(inst)
    assert T == 4 and first.tolist() == [0, 3] and cost.size == 6 and start[-1] == 15
    # costs: latency k + o - a: request 0: 2, 3, 4; request 1: 1, 2, 3
    assert cost.tolist() == [2, 3, 4, 1, 2, 3]
    # column of request 1 starting at 2: start row 1, round 3 (row 2 + 3 - 1 = 4) holds s + 1 = 2
    c = 3 + 1
    assert index[start[c]:start[c + 1]].tolist() == [1, 4]
    assert value[start[c]:start[c + 1]].tolist() == [1.0, 2.0]


def test_hand_worked_optimum():
    # M = 5: request 0 (o = 4) peaks at s + o = 5, so it runs with nothing else in its last
    # round; requests 1 and 2 start at 0 (memory 2+2, then 3), request 0 at 1 (rounds 2..5:
    # 3+2 = 5, 3, 4, 5).  Latencies 5 + 1 + 2 = 8.
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    res = solve_paper_program(inst, time_limit=30)
    assert res.proven and res.objective == 8 and res.status == "Optimal"
    assert check_schedule(inst, res.schedule).total_latency == 8
    assert res.dual_gap == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_proven_optimum_matches_brute_force_and_milp(seed):
    rng = np.random.default_rng(100 + seed)
    inst = random_instance(rng, 4, 7, max_prompt=2, max_output=3, max_arrival=2)
    res = solve_paper_program(inst, time_limit=30)
    check_schedule(inst, res.schedule, preemptive=False)
    assert res.proven
    assert res.objective == brute_force_optimal(inst).total_latency
    assert res.objective == solve_optimal(inst).objective


def test_model2_small_matches_solve_optimal():
    inst = paper_model2(np.random.default_rng(4), horizon=3, memory=12, shared_prompt=True)
    res = solve_paper_program(inst, time_limit=60)
    assert res.proven and res.objective == solve_optimal(inst).objective


# ------------------------------------------------------------------ the warm start
def test_zero_time_limit_returns_mcsf():
    inst = paper_model1(np.random.default_rng(0), n=12, memory=20)
    mc = simulate(inst, mc_sf)
    res = solve_paper_program(inst, time_limit=0)
    assert res.objective == res.warm_objective == mc.total_latency
    assert not res.improved and res.status == "Not run" and math.isnan(res.dual_bound)
    assert [r.start for r in res.schedule.records] == [r.start for r in mc.records]


def test_tiny_time_limit_keeps_warm_start_at_paper_size():
    inst = paper_model1(np.random.default_rng(0))            # n = 57: a 68,657-column program
    mc = simulate(inst, mc_sf)
    res = solve_paper_program(inst, time_limit=1e-3)
    assert res.objective == mc.total_latency and not res.improved and not res.proven
    check_schedule(inst, res.schedule, preemptive=False)


def test_given_warm_start_is_honoured():
    # a bad but feasible warm start: requests one after another
    inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    serial = Schedule.from_starts(inst, [0, 4, 5])           # latencies 4 + 5 + 7 = 16
    assert solve_paper_program(inst, time_limit=0, warm_start=serial).objective == 16
    res = solve_paper_program(inst, time_limit=30, warm_start=serial)
    assert res.objective == 8 and res.improved and res.warm_objective == 16


def test_infeasible_warm_start_rejected():
    inst = Instance.from_arrays([0, 0], [2, 2], [2, 2], memory=7)
    with pytest.raises(ValueError):
        solve_paper_program(inst, time_limit=0, warm_start=Schedule.from_starts(inst, [0, 0]))


# ------------------------------------------------------------------ the shared prompt reading
def test_default_stream_unchanged():
    # values drawn with the generator before the shared_prompt keyword existed
    a = paper_model1(np.random.default_rng(0))
    assert (a.n, a.memory, a.prompt[:6].tolist(), a.output[:6].tolist()) == (
        57, 43, [3, 2, 2, 1, 1, 1], [27, 35, 29, 30, 17, 37])
    assert (int(a.prompt.sum()), int(a.output.sum())) == (171, 1225)
    b = paper_model2(np.random.default_rng(5))
    assert (b.n, b.memory, b.prompt[:6].tolist(), b.output[:6].tolist()) == (
        54, 46, [5, 5, 1, 1, 4, 3], [22, 17, 42, 27, 41, 32])
    assert b.arrival[-3:].tolist() == [39, 39, 39] and int(b.output.sum()) == 1154


@pytest.mark.parametrize("gen", [paper_model1, paper_model2])
def test_shared_prompt_draws_one_s(gen):
    seen = set()
    for seed in range(40):
        inst = gen(np.random.default_rng(seed), shared_prompt=True)
        s = set(inst.prompt.tolist())
        assert len(s) == 1
        seen |= s
        assert (inst.output >= 1).all() and (inst.output <= inst.memory - inst.prompt).all()
    assert seen == {1, 2, 3, 4, 5}


def test_shared_prompt_validation():
    with pytest.raises(ValueError, match="shared_prompt"):
        paper_model1(np.random.default_rng(0), shared_prompt="yes")


# ------------------------------------------------------------------ trials, summaries, storage
def test_trials_rows_and_replication_seeds():
    df = code_reading_trials("model1", 2, seed=0, time_limit=0, search_evals=0)
    # trial 0 of seed 0 is the book's replication trial 0: paper_model1(default_rng(child 0))
    inst = paper_model1(np.random.default_rng(np.random.SeedSequence([0, 1]).spawn(1)[0]))
    assert df.loc[0, "n"] == inst.n and df.loc[0, "M"] == inst.memory
    assert df.loc[0, "mcsf"] == simulate(inst, mc_sf).total_latency
    assert df["optimal"].all() and (df["ratio"] == 1.0).all() and not df["improved"].any()
    assert df["shared_s"].isna().all() and (df["reading"] == "per request").all()


def test_trials_shared_and_skip():
    df = code_reading_trials("model2", 3, seed=2, time_limit=0, shared_prompt=True,
                             search_evals=100, skip=[1], horizon=4, memory=15)
    assert df["trial"].tolist() == [0, 2] and (df["reading"] == "shared").all()
    assert df["shared_s"].between(1, 5).all()
    assert (df["best_known"] <= df["incumbent"]).all()
    assert (df["lower_bound"] <= df["best_known"]).all()


def test_trials_validation():
    with pytest.raises(ValueError, match="time_limit"):
        code_reading_trials("model1", 1, time_limit=-1)
    with pytest.raises(ValueError, match="shared_prompt"):
        code_reading_trials("model1", 1, shared_prompt=1)
    with pytest.raises(ValueError, match="model"):
        code_reading_trials("model3", 1)
    inst = Instance.from_arrays([0], [1], [1], memory=3)
    with pytest.raises(ValueError, match="mip_rel_gap"):
        solve_paper_program(inst, mip_rel_gap=2.0)
    with pytest.raises(ValueError, match="threads"):
        solve_paper_program(inst, threads=0)


def test_summary_by_hand():
    df = pd.DataFrame({"mcsf": [100, 110, 120, 100], "incumbent": [100, 100, 120, 100],
                       "best_known": [95, 100, 100, 100],
                       "improved": [False, True, False, False],
                       "proven": [False, False, False, True],
                       "dual_gap": [0.4, None, 0.2, 0.0]})
    s = code_reading_summary(df)
    # ratios 1, 1.1, 1, 1: mean 1.025, worst 1.1; 3 "optimal"
    assert s["trials"] == 4 and s["optimal_count"] == 3 and s["improved_count"] == 1
    assert s["mean"] == pytest.approx(1.025) and s["worst"] == pytest.approx(1.1)
    assert s["proven_count"] == 1 and s["mean_dual_gap"] == pytest.approx(0.2)
    # vs best known: 100/95, 1.1, 1.2, 1
    assert s["mean_best"] == pytest.approx((100 / 95 + 1.1 + 1.2 + 1) / 4)
    assert code_reading_summary(df.iloc[:0])["trials"] == 0


def test_main_writes_resumes_and_loads(tmp_path, capsys):
    out = tmp_path / "synthetic_code_t.json"
    argv = ["--model", "model1", "--trials", "2", "--time-limit", "0", "--n", "5", "--memory",
            "12", "--search-evals", "0", "--shared-prompt", "--out", str(out)]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert [r["trial"] for r in first["rows"]] == [0, 1] and first["meta"]["shared_prompt"]
    argv[3] = "3"
    assert main(argv) == 0                                  # resumes: only trial 2 is new
    again = json.loads(out.read_text())
    assert [r["trial"] for r in again["rows"]] == [0, 1, 2]
    assert again["rows"][:2] == first["rows"]
    df = load_runs(tmp_path)
    assert len(df) == 3 and df["command"].str.contains("--trials 3").all()
    t = summary_table(df)
    assert t.loc[0, "trials"] == 3 and t.loc[0, '"optimal"'] == 3
    with pytest.raises(SystemExit):
        main(argv[:-3] + ["--out", str(out)])              # other settings, same file
    with pytest.raises(ValueError, match="no stored runs"):
        load_runs([])
