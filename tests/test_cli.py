"""The command line prints checked summaries (table or JSON) and rejects bad input in one line."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kvtheory import POLICIES
from kvtheory.cli import COMMON_KEYS, main
from kvtheory.model.tables import format_table
from kvtheory.model.traces import load_trace

DATA = Path(__file__).parent / "data"
ROUNDS, SECONDS = str(DATA / "trace_rounds.csv"), str(DATA / "trace_seconds.csv")
AZURE, SPLITWISE = str(DATA / "trace_azure.csv"), str(DATA / "trace_splitwise.csv")
TWO = str(DATA / "trace_two.csv")


def run_json(capsys, *argv):
    assert main(["simulate", *argv, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and all(set(COMMON_KEYS) <= set(r) for r in rows)
    return rows


# ----------------------------------------------------------------- tables
def test_simulate_all_policies(capsys):
    assert main(["simulate", "--workload", "model2", "--memory", "20", "--rate", "0.8",
                 "--policy", "all", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "mc-sf" in out and "vllm" in out and "alpha-0.2-beta-0.1" in out


def test_simulate_trace_file_table(capsys):
    assert main(["simulate", "--trace", ROUNDS, "--memory", "6", "--policy", "mc-sf"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "<Instance 'trace_rounds.csv': n=3, M=6>"
    header, row = out[1].split(), out[2].split()
    assert row[header.index("total_latency")] == "8"


def test_no_compile_same_table(capsys):
    """``--no-compile`` (the Python reference engine) prints what the compiled loop prints."""
    argv = ["simulate", "--workload", "model2", "--memory", "20", "--rate", "0.8", "--seed", "1",
            "--policy", "mc-sf,mc-benchmark,svf,vllm", "--format", "json"]
    assert main(argv) == 0
    compiled = capsys.readouterr().out
    assert main(argv + ["--no-compile"]) == 0
    assert capsys.readouterr().out == compiled


def test_format_table_none_as_dash():
    assert format_table([{"a": None, "b": 1.0}]).splitlines()[1].split() == ["-", "1.000"]


# ----------------------------------------------------------------- JSON, round engine
def test_round_engine_json_by_hand(capsys):
    # M = 6; requests (a, s, o, prediction) = (0,1,2,3), (0,2,3,3), (1,1,1,1).  MC-SF at 0: both
    # predict 3; together they would hold 4 + 5 = 9 > 6 in round 3, so only request 0 (lower
    # index) starts (c = 2).  At 1 request 2 (prediction 1) fits (3 + 2 = 5 in round 2), request 1
    # does not (3 + 2 + 3 = 8); at 2 request 1 starts, c = 5.  Latencies 2, 5, 1: total 8.
    rows = run_json(capsys, "--trace", ROUNDS, "--memory", "6", "--policy", "mc-sf")
    (r,) = rows
    assert (r["policy"], r["engine"], r["status"], r["n"], r["memory"]) == ("mc-sf", "round", "ok",
                                                                           3, 6)
    assert r["total_latency"] == 8 and r["average_latency"] == pytest.approx(8 / 3)
    assert r["makespan"] == 5 and r["evictions"] == 0
    assert r["avg_latency_s"] is None and r["makespan_s"] is None and r["energy_j"] is None


def test_round_engine_seconds_trace_with_round_seconds(capsys):
    # Splitwise fixture: relative times 0, 0.5, 1.75 s; 0.5-s rounds give arrivals 0, 1, 3.
    # (s, o) = (64, 16), (32, 8), (128, 4): run together they peak at 71 + 38 + 132 = 241 <= 300
    # in round 7, so MC-SF starts each on arrival and the total latency is 16 + 8 + 4 = 28.
    rows = run_json(capsys, "--trace", SPLITWISE, "--memory", "300", "--round-seconds", "0.5")
    assert rows[0]["n"] == 3 and rows[0]["status"] == "ok"
    assert rows[0]["total_latency"] == 28 and rows[0]["makespan"] == 16


# ----------------------------------------------------------------- JSON, continuous time
def test_paper_engine_two_requests_by_hand(capsys):
    # The paper's linear batch time (ms) 44.6 + 0.52 B + 0.378 P + 0.0027 K for B steps, P
    # prompt tokens, K context tokens: batch 1 both prompt steps (B 2, P 3) 46.774; batch 2 both
    # token steps (K 2) 45.6454, the o = 1 request completes at 92.4194 ms; batch 3 (K 2)
    # 45.1254, the other completes at 137.5448 ms.
    rows = run_json(capsys, "--trace", TWO, "--memory", "100", "--engine", "paper",
                    "--policy", "mc-sf,mc-benchmark", "--memory-timing", "exact",
                    "--event-order", "exact")
    assert [r["policy"] for r in rows] == ["mc-sf", "mc-benchmark"]
    for r in rows:
        assert r["engine"] == "paper" and r["status"] == "ok" and r["evictions"] == 0
        assert r["avg_latency_s"] == pytest.approx((0.1375448 + 0.0924194) / 2, abs=1e-9)
        assert r["makespan_s"] == pytest.approx(0.1375448, abs=1e-9)
        assert r["energy_j"] > 0


@pytest.mark.parametrize("path, extra", [(ROUNDS, ["--round-seconds", "0.05"]), (SECONDS, []),
                                         (AZURE, []), (SPLITWISE, [])])
def test_paper_engine_json_matches_library(capsys, path, extra):
    from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
    rows = run_json(capsys, "--trace", path, "--memory", "16492", "--engine", "paper",
                    "--policy", "mc-sf,mc-benchmark", *extra)
    tr = load_trace(path)
    if tr.unit == "round":
        tr = tr.to_seconds(0.05)
    assert len(rows) == 2
    for r in rows:
        run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=16492,
                             policy=r["policy"], prediction=tr.prediction,
                             rng=np.random.default_rng(0))
        check_paper_run(run)
        want = run.summary()
        for key in ("n", "avg_latency_s", "makespan_s", "evictions", "energy_j", "status"):
            assert r[key] == pytest.approx(want[key]), key


@pytest.mark.parametrize("path", [SECONDS, AZURE, SPLITWISE])
def test_timed_engine_json_matches_library(capsys, path):
    from kvtheory.studies.a100 import run_timed
    rows = run_json(capsys, "--trace", path, "--memory", "16492", "--engine", "timed",
                    "--policy", "mc-sf", "--policy", "vllm")
    assert [r["policy"] for r in rows] == ["mc-sf", "vllm"]
    for r in rows:
        want, _ = run_timed(load_trace(path), r["policy"], memory=16492)
        assert r["engine"] == "timed" and r["n"] == 3
        for key in ("avg_latency_s", "makespan_s", "evictions"):
            assert r[key] == pytest.approx(want[key]), key
        assert r["energy_j"] == pytest.approx(1e3 * want["energy_kj"])


def test_policy_lists_all_and_duplicates(capsys):
    rows = run_json(capsys, "--trace", ROUNDS, "--memory", "6", "--policy", "vllm,mc-sf",
                    "--policy", "vllm")
    assert [r["policy"] for r in rows] == ["vllm", "mc-sf"]
    rows = run_json(capsys, "--trace", ROUNDS, "--memory", "6", "--policy", "all")
    assert [r["policy"] for r in rows] == list(POLICIES)


def test_paper_engine_all_and_seed(capsys):
    from kvtheory.engines.paper.engine import PAPER_POLICIES
    argv = ["--workload", "lmsys", "--n", "80", "--rate", "50", "--memory", "1500",
            "--engine", "paper", "--policy", "alpha-0.2-beta-0.1"]
    first = run_json(capsys, *argv, "--seed", "3")
    assert first[0]["evictions"] > 0                           # the random resets acted
    assert first == run_json(capsys, *argv, "--seed", "3")          # same seed, same run
    assert first != run_json(capsys, *argv, "--seed", "4")
    rows = run_json(capsys, "--trace", TWO, "--memory", "100", "--engine", "paper",
                    "--policy", "all")
    assert [r["policy"] for r in rows] == list(PAPER_POLICIES)


# ----------------------------------------------------------------- opt
def test_opt_reports_ratio(capsys):
    assert main(["opt", "--n", "5", "--memory", "10", "--seed", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    header, row = out[1].split(), out[2].split()
    assert row[header.index("status")] == "optimal"
    assert float(row[header.index("mc-sf/opt")]) >= 1.0


def test_opt_json_proven(capsys):
    # trace_rounds.csv, M = 6: (a, s, o) = (0,1,2), (0,2,3), (1,1,1).  The first two cannot both
    # start at 0 (3 + 4 = 7 > 6 in round 2) and delaying either forces another delay, so every
    # schedule has total latency >= sum(o) + 2 = 8, which MC-SF attains: ratio exactly 1.
    assert main(["opt", "--trace", ROUNDS, "--memory", "6", "--format", "json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["proven_optimal"] is True and r["status"] == "optimal"
    assert r["objective"] == r["mcsf_total_latency"] == 8
    assert r["mcsf_over_opt"] == 1.0 and r["mcsf_over_opt_bracket"] == [1.0, 1.0]


def test_opt_time_limited_is_not_called_optimum(capsys):
    assert main(["opt", "--n", "40", "--seed", "1", "--time-limit", "1"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    lines = out.splitlines()
    assert len(lines) == 3 and "optimum" not in out and "HiGHS" not in out
    assert captured.err == ""                                  # no solver log on either stream
    assert "best found, not proven optimal" in lines[2]
    header = lines[1].split()
    lo, hi = lines[2].split()[header.index("mc-sf/opt") + 3].split("..")   # status is 4 words
    assert 1.0 <= float(lo) <= float(hi)


# Slack over limit + build time: HiGHS reads its clock only between steps (measured overruns
# without presolve: up to 1.7 s at n = 20-50, limit 2 s; with presolve this instance took 7.9 s).
SLACK = 2.5


def test_opt_keeps_its_time_limit(capsys):
    # paper model 1, n = 25, seed 0: not provable in 2 s (gap about 0.27 at the limit)
    t0 = time.perf_counter()
    assert main(["opt", "--n", "25", "--seed", "0", "--time-limit", "2", "--format", "json"]) == 0
    wall = time.perf_counter() - t0
    captured = capsys.readouterr()
    (r,) = json.loads(captured.out)
    assert captured.err == ""
    assert r["status"] == "best found, not proven optimal" and r["proven_optimal"] is False
    assert r["mcsf_over_opt"] is None and r["presolve"] is False and r["time_limit"] == 2.0
    assert 0 <= r["build_seconds"] <= r["seconds"]
    assert wall <= 2.0 + r["build_seconds"] + SLACK, (wall, r["build_seconds"])
    # the reported gap is the proven one: (best found - lower bound) / best found, in (0, 1)
    assert 0 < r["lower_bound"] < r["objective"]
    assert r["gap"] == pytest.approx((r["objective"] - r["lower_bound"]) / r["objective"])


# ----------------------------------------------------------------- errors: one line, exit 2
def write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


ERROR_CASES = {
    "missing file": (lambda d: ["simulate", "--trace", str(d / "nope.csv"), "--memory", "8"],
                     "cannot read"),
    "malformed cell": (lambda d: ["simulate", "--trace", write(d, "arrival,prompt,output\n"
                                                                  "0,1,1\n0,1,x\n"),
                                  "--memory", "8"], "line 3: column 'output' must be an integer"),
    "s+o > M rounds": (lambda d: ["simulate", "--trace", ROUNDS, "--memory", "4"],
                       "1 of 3 requests can never fit in M=4 (the largest needs "
                       "s+max(o,prediction)=5, request 1 (line 3)); pass --memory 5 or more, "
                       "or --oversized drop"),
    "s+o > M timed": (lambda d: ["simulate", "--trace", SECONDS, "--memory", "50",
                                 "--engine", "timed"], "can never fit"),
    "s+o > M paper": (lambda d: ["simulate", "--trace", AZURE, "--memory", "100",
                                 "--engine", "paper"], "can never fit"),
    "unknown policy": (lambda d: ["simulate", "--policy", "mc-sf,fifo"], "unknown policy 'fifo'"),
    "unknown paper policy": (lambda d: ["simulate", "--engine", "paper", "--policy",
                                        "alpha-0.1-greedy", "--n", "5"], "unknown paper-engine"),
    "trace without memory": (lambda d: ["simulate", "--trace", ROUNDS], "--trace needs --memory"),
    "wrong header": (lambda d: ["simulate", "--trace", write(d, "time,in,out\n0,1,1\n"),
                                "--memory", "8"], "unrecognised header time,in,out"),
    "empty trace": (lambda d: ["simulate", "--trace", write(d, ""), "--memory", "8"], "is empty"),
    "header only": (lambda d: ["simulate", "--trace", write(d, "arrival,prompt,output\n"),
                               "--memory", "8"], "no data rows"),
    "seconds in round model": (lambda d: ["simulate", "--trace", AZURE, "--memory", "900"],
                               "--round-seconds"),
    "rounds in timed engine": (lambda d: ["simulate", "--trace", ROUNDS, "--memory", "9",
                                          "--engine", "timed"], "--round-seconds"),
    "model1 in timed engine": (lambda d: ["simulate", "--workload", "model1", "--engine",
                                          "timed"], "--workload lmsys"),
    "bad memory": (lambda d: ["simulate", "--trace", ROUNDS, "--memory", "0"], "memory M"),
    "bad n": (lambda d: ["simulate", "--n", "0"], "--n must be >= 1"),
    "opt malformed": (lambda d: ["opt", "--trace", write(d, "arrival,prompt,output\n-1,1,1\n"),
                                 "--memory", "8"], "line 2: column 'arrival' must be >= 0"),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_bad_input_one_line_exit_2(tmp_path, capsys, case):
    argv, message = ERROR_CASES[case]
    assert main(argv(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["simulate", "--trace", "no/such/file.csv", "--memory", "8"], "cannot read no/such/file.csv"),
    (["simulate", "--trace", ROUNDS, "--memory", "2"], "can never fit"),
    (["simulate", "--engine", "warp"], "invalid choice: 'warp'"),
    (["simulate", "--memory", "x"], "invalid int value"),
])
def test_bad_input_as_a_process(argv, message):
    res = subprocess.run([sys.executable, "-m", "kvtheory", *argv], capture_output=True,
                         text=True)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ")
    assert message in res.stderr and "Traceback" not in res.stderr


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(ValueError, match="line 2"):
        main(["simulate", "--trace", write(tmp_path, "arrival,prompt,output\n0,1,x\n"),
              "--memory", "6", "--debug"])


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "kvtheory", "claims"], capture_output=True,
                         text=True, check=True)
    assert "clm_ip_exact" in res.stdout
