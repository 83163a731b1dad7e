"""The paper engine under the published code's rules (the default), computed by hand: the
projection that counts a request at its completion point as holding s + o + 1, and one event at
a time (a batch's end before a simultaneous arrival; an idle engine starts on each arrival)."""

import json

import pytest

from kvtheory.cli import main
from kvtheory.engines.paper.engine import check_paper_run, fit_extra, simulate_paper


def ms(x):
    return round(x * 1000, 4)


def prompts(run):
    return [sorted(run.log.prompt_req[run.log.prompt_batch == b].tolist())
            for b in range(run.log.start.size)]


def test_two_simultaneous_arrivals_by_hand():
    # both at 0, (s, o) = (2, 2), (1, 1), M = 10.  Batch 0: r0's prompt alone (the idle engine
    # starts on the first arrival event): 44.6 + 0.52 + 0.378*2 = 45.876 ms.  Batch 1: r0's
    # token (context 1) and r1's prompt: 44.6 + 0.52*2 + 0.0027 + 0.378 = 46.0207 -> 91.8967.
    # Batch 2: tokens of r0 (context 2) and r1 (context 1): 44.6 + 1.04 + 0.0081 = 45.6481 ->
    # 137.5448 ms; both complete.
    run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10)
    check_paper_run(run)
    assert prompts(run) == [[0], [1], []]
    assert [ms(x) for x in run.log.end] == pytest.approx([45.876, 91.8967, 137.5448])
    assert [ms(r.completion_time) for r in run.records] == pytest.approx([137.5448, 137.5448])
    assert run.log.memory_after.tolist() == [3, 6, 0]
    assert (run.memory_timing, run.event_order) == ("code", "code")


def test_batch_end_before_a_simultaneous_arrival():
    # r0 (1, 1) at 0; its prompt batch ends at 45.498 ms, exactly when r1 (1, 1) arrives.
    end = (44.6 + 0.52 + 0.378) / 1000
    code = simulate_paper([1, 1], [1, 1], [0.0, end], memory=10)
    exact = simulate_paper([1, 1], [1, 1], [0.0, end], memory=10, event_order="exact")
    for run in (code, exact):
        check_paper_run(run)
    # code: batch 1 = r0's token (context 1) only, 45.1227 -> 90.6207; then r1's prompt
    # 45.498 -> 136.1187 and its token 45.1227 -> 181.2414 ms
    assert prompts(code) == [[0], [], [1], []]
    assert [ms(r.completion_time) for r in code.records] == pytest.approx([90.6207, 181.2414])
    # exact: r1 joins batch 1 (44.6 + 1.04 + 0.0027 + 0.378 = 46.0207 -> 91.5187), its token
    # follows (45.1227 -> 136.6414 ms)
    assert prompts(exact) == [[0], [1], []]
    assert [ms(r.completion_time) for r in exact.records] == pytest.approx([91.5187, 136.6414])


def test_memory_timing_changes_admission():
    # M = 5, both at 0 (ours: both join the decision): r1 (1, 1) first (shorter), then r0
    # (1, 2).  Exact: r1 holds 2 after batch 1; r0 2 and 3 after batches 1, 2: peak 4 <= 5,
    # both admitted.  Code: r1 is counted at its completion too (3 after batch 2), r0 at 3
    # there: 6 > 5, r0 waits for the next batch.
    kw = dict(memory=5, event_order="exact")
    exact = simulate_paper([1, 1], [2, 1], [0.0, 0.0], memory_timing="exact", **kw)
    code = simulate_paper([1, 1], [2, 1], [0.0, 0.0], **kw)
    for run in (exact, code):
        check_paper_run(run)
    assert prompts(exact)[0] == [0, 1] and prompts(code)[:2] == [[1], [0]]
    # exact: 46.396 (both prompts), 45.6454 -> 92.0414 (r1 done), 45.1254 -> 137.1668
    assert [ms(r.completion_time) for r in exact.records] == pytest.approx([137.1668, 92.0414])
    # code: 45.498 (r1's prompt); 46.0207 -> 91.5187 (r1's token, r0's prompt; r1 done);
    # 45.1227 -> 136.6414; 45.1254 -> 181.7668 (r0 done)
    assert [ms(r.completion_time) for r in code.records] == pytest.approx([181.7668, 91.5187])


def test_three_requests_by_hand():
    # M = 6: r0 (2, 3), r1 (1, 1) at 0, r2 (1, 1) at 10 ms.  Batch 0: r0's prompt alone,
    # 45.876 ms.  Batches 1-3: r0's tokens (contexts 1, 2, 3): 45.1227, 45.1254, 45.1281 ms.
    # r1 stays out: the code's projection holds r0 at 4, 5, 6 after the next 1, 2, 3 batches and
    # r1 at 2, 3 after 1, 2 (its completion point counted): 5 + 3 = 8 > 6; later 5 + 2 = 7 and
    # 6 + 2 = 8.  Batch 4, empty engine: r1, r2 (2, 3 each; peak 6): 44.6 + 1.04 + 0.756 =
    # 46.396 ms; batch 5 their tokens: 45.6454 ms.
    run = simulate_paper([2, 1, 1], [3, 1, 1], [0.0, 0.0, 0.01], memory=6)
    check_paper_run(run)
    assert [ms(x) for x in run.log.end] == pytest.approx(
        [45.876, 90.9987, 136.1241, 181.2522, 227.6482, 273.2936])
    assert run.log.memory_after.tolist() == [3, 4, 5, 0, 4, 0]
    assert prompts(run) == [[0], [], [], [], [1, 2], []]
    assert [ms(r.completion_time) for r in run.records] == pytest.approx(
        [181.2522, 273.2936, 273.2936])


def test_fit_rule_follows_the_timing():
    assert fit_extra() == 1 and fit_extra("exact") == 0
    simulate_paper([2], [8], [0.0], memory=10, memory_timing="exact")          # s + o = M
    with pytest.raises(ValueError, match=r"s\+o\+1=11 > M=10"):
        simulate_paper([2], [8], [0.0], memory=10)
    with pytest.raises(ValueError, match=r"s\+prediction\+1=12 > M=10"):
        simulate_paper([2], [7], [0.0], memory=10, prediction=[9])
    for bad in ({"memory_timing": "late"}, {"event_order": "fifo"}):
        with pytest.raises(ValueError, match="must be one of code, exact"):
            simulate_paper([1], [1], [0.0], memory=10, **bad)


def test_cli_rules_and_fit(tmp_path, capsys):
    p = tmp_path / "t.csv"
    p.write_text("arrival_time,prompt,output\n0,2,2\n0,1,1\n")
    argv = ["simulate", "--trace", str(p), "--engine", "paper", "--format", "json"]
    assert main([*argv, "--memory", "4"]) == 2                  # s + o + 1 = 5 > 4
    assert "1 of 2 requests can never fit in M=4 (the largest needs s+o+1=5" in \
        capsys.readouterr().err
    assert main([*argv, "--memory", "4", "--memory-timing", "exact"]) == 0
    capsys.readouterr()
    assert main([*argv, "--memory", "10"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["makespan_s"] == pytest.approx(0.1375448)
    assert row["avg_latency_s"] == pytest.approx(0.1375448)      # both complete together
    assert main(["simulate", "--trace", str(p), "--memory", "9", "--engine", "timed",
                 "--event-order", "exact"]) == 2
    assert "--event-order applies to --engine paper only" in capsys.readouterr().err


def test_generated_workload_fits_the_code_rule(capsys):
    # lengths are clipped so that s + o + 1 <= M under the paper engine's default rule
    assert main(["simulate", "--workload", "lmsys", "--n", "300", "--memory", "40",
                 "--engine", "paper", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["n"] == 300 and row["status"] == "ok"
