"""The paper's engine: hand-computed runs, admission decisions, the checker, properties."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvtheory.engines.paper.engine import (
    PAPER_POLICIES,
    PaperRunError,
    check_paper_run,
    paper_batch_time,
    paper_policy,
    simulate_paper,
)

RNG = np.random.default_rng
#: Our exact rules, under which the hand computations below were made (the published code's
#: rules, the default, are computed by hand in tests/test_paper_code_rules.py).
EXACT = {"memory_timing": "exact", "event_order": "exact"}


def ms(x):
    return round(x * 1000, 6)


def batch_prompts(run, b):
    return sorted(run.log.prompt_req[run.log.prompt_batch == b].tolist())


def batch_tokens(run, b):
    return sorted(run.log.token_req[run.log.token_batch == b].tolist())


def test_batch_time_formula_by_hand():
    # (0.0027 * mean context + 0.52) * B + 44.6 + 0.378 * P, in ms
    # prompt steps of 4 and 6 tokens and a token step of context 9: B = 3, mean context = 3
    # (0.0081 + 0.52) * 3 + 44.6 + 0.378 * 10 = 1.5843 + 44.6 + 3.78 = 49.9643 ms
    assert ms(paper_batch_time([4, 6], [0, 0, 9])) == pytest.approx(49.9643)
    with pytest.raises(ValueError, match="cannot hold"):
        paper_batch_time([1], [])


def test_mc_sf_three_requests_by_hand():
    # M = 6; r0 (a=0, s=2, o=3), r1 (a=0, s=1, o=1), r2 (a=0.01, s=1, o=1)
    run = simulate_paper([2, 1, 1], [3, 1, 1], [0.0, 0.0, 0.01], memory=6, policy="mc-sf",
                         **EXACT)
    check_paper_run(run)
    # batch 0: prompts of r1 then r0 (shortest first; peaks 2+... <= 6): B=2, P=3
    #   44.6 + 0.52*2 + 0.378*3 = 46.774 ms; memory after: (2+1) + (1+1) = 5
    # batch 1 (t=46.774 ms, r2 has arrived): tokens r0 (ctx 1), r1 (ctx 1), prompt r2:
    #   projected after it: r0 4 + r2 2 = 6 <= 6, admitted; B=3, ctx=2, P=1
    #   44.6 + 1.56 + 0.0054 + 0.378 = 46.5434 ms -> end 93.3174 ms; r1 completes
    # batch 2: tokens r0 (ctx 2), r2 (ctx 1): 44.6 + 1.04 + 0.0081 = 45.6481 -> 138.9655 ms
    # batch 3: token r0 (ctx 3): 44.6 + 0.52 + 0.0081 = 45.1281 -> 184.0936 ms
    assert batch_prompts(run, 0) == [0, 1] and batch_prompts(run, 1) == [2]
    assert [ms(r.completion_time) for r in run.records] == pytest.approx(
        [184.0936, 93.3174, 138.9655])
    assert [ms(r.latency) for r in run.records] == pytest.approx(
        [184.0936, 93.3174, 128.9655])
    assert run.log.memory_after.tolist() == [5, 6, 5, 0]
    assert run.summary()["makespan_s"] == pytest.approx(0.1840936)


def test_mc_sf_and_mc_benchmark_admission_by_hand():
    # M = 5; r0 (s=1, o=4), r1 (s=1, o=1), r2 (s=1, o=2), all at 0
    # MC-SF tries r1, r2, r0: after r1, r2 the projection is 4 after batch 1 and 3 after
    #   batch 2; adding r0 (holds 1+k for k <= 4) gives 4+2 = 6 > 5 at batch 1: stop
    # MC-Benchmark tries r0, r1, r2: r0 peaks at 1+4 = 5; r1 adds 2 at batch 1 (3+2=5);
    #   r2 would make batch 1 hold 2+2+2 = 6 > 5: stop
    sf = simulate_paper([1, 1, 1], [4, 1, 2], [0.0] * 3, memory=5, policy="mc-sf", **EXACT)
    bm = simulate_paper([1, 1, 1], [4, 1, 2], [0.0] * 3, memory=5, policy="mc-benchmark",
                        **EXACT)
    assert batch_prompts(sf, 0) == [1, 2]
    assert batch_prompts(bm, 0) == [0, 1]
    for run in (sf, bm):
        check_paper_run(run)
        assert run.log.memory_after.max() <= 5


def test_predictions_drive_mc_sf_order():
    # with predictions reversed, MC-SF starts the truly long request first
    run = simulate_paper([1, 1], [4, 1], [0.0, 0.0], memory=5, policy="mc-sf", **EXACT,
                         prediction=[1, 4])
    # predicted: r0 holds 2 after batch 1, r1 holds 1+k for k <= 4: 2+2 = 4 <= 5 after batch 1
    assert batch_prompts(run, 0) == [0, 1]
    check_paper_run(run)


def test_vllm_preempts_latest_arrival_by_hand():
    # M = 5, watermark 1% -> admission limit 5 - ceil(0.05) = 4; r0, r1 (s=1, o=3) at 0
    # batch 0: both prompts (2 + 2 = 4 <= 4): 44.6 + 1.04 + 0.756 = 46.396 ms, memory 4
    # decision 1: both would hold 3 -> 6 > 5: preempt r1 (latest arrival), lost 1 step
    # batch 1: r0 ctx 1: 45.1227; batch 2: r0 ctx 2: 45.1254 (memory 4)
    # batch 3: r0 ctx 3 (its last step frees it) + r1 prompt: 44.6 + 1.04 + 0.0081 + 0.378
    #   = 46.0261 -> r0 completes at 182.6702 ms
    # batches 4-6: r1 ctx 1, 2, 3: 45.1227 + 45.1254 + 45.1281 -> 318.0464 ms
    run = simulate_paper([1, 1], [3, 3], [0.0, 0.0], memory=5, policy="vllm", **EXACT)
    check_paper_run(run)
    assert run.log.evict_req.tolist() == [1]
    assert [r.evictions for r in run.records] == [0, 1]
    assert [r.lost_steps for r in run.records] == [0, 1]
    assert [ms(r.completion_time) for r in run.records] == pytest.approx([182.6702, 318.0464])
    assert batch_prompts(run, 3) == [1] and batch_tokens(run, 3) == [0]


def test_alpha_admits_without_memory_check_and_resets():
    # M = 6, alpha = 0.5 (threshold 3), beta = 1 (every running request resets)
    # batch 0: both admitted (memory 0 <= 3), memory after 3 + 3 = 6
    # batch 1: memory 6 > 3, no admission; tokens take both to 4 + 4 = 8 > 6: both reset
    # then the same again forever: the thrashing guard stops the run
    run = simulate_paper([2, 2], [3, 3], [0.0, 0.0], memory=6, policy="alpha-0.5-beta-1", **EXACT,
                         rng=RNG(0))
    check_paper_run(run)
    assert run.status == "livelock" and "thrashing" in run.reason
    assert run.log.memory_after[:2].tolist() == [6, 8]
    assert run.summary()["avg_latency_s"] is None


def test_alpha_batch_cap_puts_token_steps_first():
    # cap 1: batch 0 = prompt of r0; batch 1 = r0's token (cap full, r1 waits) and r0
    # completes; batch 2 = prompt of r1; batch 3 = r1's token
    run = simulate_paper([1, 1], [1, 1], [0.0, 0.0], memory=100, policy="alpha-0.1-beta-0.1",
                         rng=RNG(0), batch_cap=1)
    check_paper_run(run)
    assert [batch_prompts(run, b) for b in range(4)] == [[0], [], [1], []]
    assert [batch_tokens(run, b) for b in range(4)] == [[], [0], [], [1]]


def test_prefill_first_never_mixes():
    # r1 arrives during r0's prompt batch; MC-SF admits it and the batch is prompt-only
    run = simulate_paper([1, 1], [2, 2], [0.0, 0.01], memory=10, policy="mc-sf",
                         batching="prefill-first")
    check_paper_run(run)
    assert batch_prompts(run, 1) == [1] and batch_tokens(run, 1) == []
    assert batch_tokens(run, 2) == [0, 1]


def test_custom_batch_time_and_idle_jump():
    # one second per batch; r1 arrives at 10 s into an idle engine
    run = simulate_paper([1, 1], [2, 1], [0.0, 10.0], memory=10,
                         batch_time=lambda P, D, kv: 1.0, power=None)
    assert [r.completion_time for r in run.records] == [3.0, 12.0]
    assert run.energy_j is None and run.time_model == "<lambda>"
    check_paper_run(run)


def test_energy_by_hand():
    # one request s=1, o=1, one GPU: batch 0 (1 prompt token) then batch 1 (1 token step),
    # each 1 s; power at 1 token = 280 + 100/512 W -> 2 * 280.1953125 J
    from kvtheory.hardware.calibration import PowerModel
    run = simulate_paper([1], [1], [0.0], memory=4, batch_time=lambda P, D, kv: 1.0,
                         power=PowerModel(), n_gpus=1)
    assert run.energy_j == pytest.approx(560.390625)


def test_policy_names_and_validation():
    assert len(PAPER_POLICIES) == 9 and paper_policy("alpha-0.25-beta-0.1").alpha == 0.25
    with pytest.raises(ValueError, match="pass rng|Generator"):
        simulate_paper([1], [1], [0.0], memory=4, policy="alpha-0.1-beta-0.1")
    with pytest.raises(ValueError, match="sorted"):
        simulate_paper([1, 1], [1, 1], [1.0, 0.0], memory=4)
    with pytest.raises(ValueError, match="batching"):
        simulate_paper([1], [1], [0.0], memory=4, batching="chunked")
    with pytest.raises(ValueError, match="prediction"):
        simulate_paper([1], [1], [0.0], memory=4, prediction=[0])


@pytest.mark.parametrize("field,change", [
    ("memory_after", lambda x: x + np.eye(1, x.size, 0, dtype=x.dtype)[0]),
    ("end", lambda x: x + 1e-3),
    ("context_sum", lambda x: x + 1),
])
def test_checker_catches_corrupted_logs(field, change):
    run = simulate_paper([2, 1, 1], [3, 1, 1], [0.0, 0.0, 0.01], memory=6, **EXACT)
    bad = dataclasses.replace(run, log=dataclasses.replace(
        run.log, **{field: change(getattr(run.log, field))}))
    with pytest.raises(PaperRunError):
        check_paper_run(bad)


def test_checker_catches_missing_step_and_bad_records():
    run = simulate_paper([2, 1, 1], [3, 1, 1], [0.0, 0.0, 0.01], memory=6, **EXACT)
    log = run.log
    dropped = dataclasses.replace(log, token_batch=log.token_batch[:-1],
                                  token_req=log.token_req[:-1])
    with pytest.raises(PaperRunError):
        check_paper_run(dataclasses.replace(run, log=dropped))
    recs = list(run.records)
    recs[0] = dataclasses.replace(recs[0], latency=recs[0].latency - 0.5)
    with pytest.raises(PaperRunError, match="latency"):
        check_paper_run(dataclasses.replace(run, records=tuple(recs)))
    # an overflow that MC-SF promises never to happen
    over = dataclasses.replace(run, memory=5)
    with pytest.raises(PaperRunError, match="promises"):
        check_paper_run(over)


@st.composite
def traces(draw):
    M = draw(st.integers(4, 24))
    n = draw(st.integers(1, 8))
    s = [draw(st.integers(1, M // 2)) for _ in range(n)]
    rules = draw(st.sampled_from(({}, EXACT)))          # default: the published code's
    x = 0 if rules else 1                                 # code: s + o + 1 <= M
    o = [draw(st.integers(1, M - y - x)) for y in s]
    gaps = draw(st.lists(st.floats(0, 0.2), min_size=n, max_size=n))
    return M, s, o, np.cumsum(gaps).tolist(), rules


@given(traces(), st.sampled_from(PAPER_POLICIES), st.sampled_from(("mixed", "prefill-first")),
       st.integers(0, 2**31))
def test_every_policy_passes_the_checker(tr, policy, batching, seed):
    M, s, o, a, rules = tr
    run = simulate_paper(s, o, a, memory=M, policy=policy, rng=RNG(seed), batching=batching,
                         **rules)
    check_paper_run(run)
    if run.status == "ok":
        assert all(np.isfinite(r.completion_time) for r in run.records)


@given(traces(), st.sampled_from(("mc-sf", "mc-benchmark")),
       st.sampled_from(("mixed", "prefill-first")), st.integers(0, 3))
def test_mc_rules_never_overflow_with_predictions_at_least_outputs(tr, policy, batching, extra):
    M, s, o, a, rules = tr
    pred = [min(x + extra, M - y - (0 if rules else 1)) for x, y in zip(o, s)]
    run = simulate_paper(s, o, a, memory=M, policy=policy, prediction=pred, batching=batching,
                         **rules)
    check_paper_run(run)
    assert run.status == "ok" and run.promises_memory
    assert int(run.log.memory_after.max()) <= M and run.summary()["evictions"] == 0


@given(traces(), st.integers(0, 2**31))
def test_under_predictions_are_accounted(tr, seed):
    M, s, o, a, rules = tr
    pred = RNG(seed).integers(1, np.array(o) + 1)
    run = simulate_paper(s, o, a, memory=M, policy="mc-sf", prediction=pred, reserve=0.1,
                         **rules)
    check_paper_run(run)
    assert run.status == "ok"
