"""The compiled paper-engine loop: the reference loop's runs to the bit, for every configuration
it covers (MC-SF, MC-Benchmark, vLLM; both batchings, memory timings and event orders; caps,
reserves, watermarks; evictions; livelock stops), on hypothesis traces and the shipped Azure
traces; and the fallbacks to the reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory.engines.paper import compiled as compiled_mod
from kvtheory.engines.paper.compiled import run_paper_columns
from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
from kvtheory.engines.paper.rules import BatchLog, PaperRecord
from kvtheory.model.traces import load_trace

from strategies import paper_traces

KINDS = ("mc-sf", "mc-benchmark", "vllm")
ALPHAS = ("alpha-0.1-beta-0.1", "alpha-0.25-beta-0.5", "alpha-0-beta-1")
ALL = KINDS + ALPHAS
RNG = np.random.default_rng
DATA = Path(__file__).resolve().parents[1] / "book" / "data"


def same_bits(x, y) -> bool:
    x, y = np.asarray(x), np.asarray(y)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def assert_same_run(ref, jit):
    """Every field of two PaperRuns equal, floats bit for bit (nan included)."""
    assert (ref.status, ref.reason) == (jit.status, jit.reason)
    for f in dataclasses.fields(BatchLog):
        assert same_bits(getattr(ref.log, f.name), getattr(jit.log, f.name)), f.name
    for f in dataclasses.fields(PaperRecord):
        col_r = np.array([getattr(r, f.name) for r in ref.records])
        col_j = np.array([getattr(r, f.name) for r in jit.records])
        assert same_bits(col_r, col_j), f.name
    for name in ("policy", "memory", "batching", "batch_cap", "reserve", "watermark",
                 "time_model", "promises_memory", "memory_timing", "event_order"):
        assert getattr(ref, name) == getattr(jit, name), name
    assert same_bits(np.float64(ref.energy_j), np.float64(jit.energy_j))


def both(*args, seed=0, **kw):
    """The reference and the compiled run, each with its own generator of the same seed: equal
    runs, and both generators left in the same state."""
    r1, r2 = RNG(seed), RNG(seed)
    ref = simulate_paper(*args, compiled=False, rng=r1, **kw)
    jit = simulate_paper(*args, compiled=True, rng=r2, **kw)
    assert_same_run(ref, jit)
    check_paper_run(jit)
    assert r1.random() == r2.random()
    return ref, jit


@settings(max_examples=300, deadline=None)
@given(tr=paper_traces(), kind=st.sampled_from(ALL),
       batching=st.sampled_from(("mixed", "prefill-first")),
       cap=st.sampled_from((None, 1, 2, 3)), reserve=st.sampled_from((0.0, 0.1, 0.3)),
       watermark=st.sampled_from((0.0, 0.01, 0.2)), seed=st.integers(0, 2**31))
def test_same_run_as_the_reference(tr, kind, batching, cap, reserve, watermark, seed):
    M, s, o, a, pred, rules = tr
    both(s, o, a, memory=M, policy=kind, prediction=pred, batching=batching, batch_cap=cap,
         reserve=reserve, watermark=watermark, seed=seed, **rules)


@settings(max_examples=100, deadline=None)
@given(tr=paper_traces(), batching=st.sampled_from(("mixed", "prefill-first")),
       reserve=st.sampled_from((0.0, 0.1, 0.3)))
def test_planted_longest_first_same_run_as_the_reference(tr, batching, reserve):
    """The planted longest-first rule (a check's power) runs the same on both loops."""
    M, s, o, a, pred, rules = tr
    ref, _ = both(s, o, a, memory=M, policy="longest-first", prediction=pred,
                  batching=batching, reserve=reserve, **rules)
    assert ref.policy == "longest-first"


@settings(max_examples=60, deadline=None)
@given(tr=paper_traces(max_n=10), kind=st.sampled_from(ALL),
       batches=st.integers(1, 12), lost=st.integers(0, 4), seed=st.integers(0, 2**31))
def test_same_livelock_stops(tr, kind, batches, lost, seed):
    M, s, o, a, pred, rules = tr
    both(s, o, a, memory=M, policy=kind, prediction=pred, max_batches=batches,
         max_lost_steps=lost, seed=seed, **rules)


def test_every_outcome_is_exercised():
    """Seeded random traces reach evictions, both livelock stops and both event orders with
    simultaneous arrivals, all equal to the reference."""
    rng = np.random.default_rng(7)
    seen = set()
    for k in range(400):
        M = int(rng.integers(6, 30))
        n = int(rng.integers(2, 10))
        s = rng.integers(1, M // 2 + 1, n)
        o = np.array([rng.integers(1, M - y) for y in s])
        p = np.maximum(1, o - rng.integers(0, 4, n))             # under-predictions
        a = np.cumsum(rng.choice([0.0, 0.0, 0.05, 0.3], n))
        kind = ALL[k % 6]
        kw = {}
        if k % 7 == 0:                                           # thrashing at once
            kw["max_lost_steps"] = 0
            p = np.ones(n, dtype=int)
        if k % 11 == 0:
            kw["max_batches"] = 3
        rules = ({}, {"memory_timing": "exact", "event_order": "exact"})[(k // 12) % 2]
        cap = (None, 2)[k % 5 == 0]
        ref, _ = both(s, o, a, memory=M, policy=kind, prediction=p, batch_cap=cap, seed=k,
                      batching=("mixed", "prefill-first")[(k // 6) % 2], **kw, **rules)
        lg = ref.log
        if lg.evict_req.size:
            seen.add(("evict", kind.split("-")[0] if kind in ALPHAS else kind))
        if np.any(lg.evict_time > lg.end[lg.evict_after]):     # a reset after a 1-s wait
            seen.add(("wait", kind.split("-")[0]))
        if ref.status != "ok":
            seen.add(("stop", ref.reason.split()[0].rstrip(":")))
        if np.any(np.diff(a) == 0):
            seen.add(("ties", bool(rules)))
    assert {("evict", "mc-sf"), ("evict", "mc-benchmark"), ("evict", "vllm"),
            ("evict", "alpha"), ("wait", "alpha"),
            ("stop", "stopped"), ("stop", "thrashing"), ("ties", True), ("ties", False)} <= seen


def test_hand_computed_run():
    """The engine's documented example, by hand: 137.5448 ms for both requests."""
    run = simulate_paper([2, 1], [2, 1], [0.0, 0.0], memory=10, compiled=True)
    assert [round(r.completion_time * 1000, 4) for r in run.records] == [137.5448, 137.5448]
    assert run.log.memory_after.tolist() == [3, 6, 0]


@pytest.mark.parametrize("name", ["azure_llm_2023_conv.csv.gz", "azure_llm_2023_code.csv.gz"])
@pytest.mark.parametrize("kind,batching", [("mc-sf", "mixed"), ("mc-benchmark", "prefill-first"),
                                           ("vllm", "mixed"), ("vllm", "prefill-first"),
                                           ("alpha-0.1-beta-0.1", "mixed")])
def test_azure_traces(name, kind, batching):
    tr = load_trace(DATA / name)
    n = 2000
    s, o, a = tr.prompt[:n], tr.output[:n], tr.arrival_time[:n]
    M = 16_492
    keep = s + o + 1 <= M
    s, o, a = s[keep], o[keep], a[keep]
    ref, jit = both(s, o, a, memory=M, policy=kind, batching=batching)
    assert len(ref.records) > 1900
    assert ref.status == "ok" or kind in ALPHAS             # alpha/beta may thrash here


def test_azure_under_predictions_evict():
    tr = load_trace(DATA / "azure_llm_2023_conv.csv.gz")
    s, o, a = tr.prompt[:2000], tr.output[:2000], tr.arrival_time[:2000]
    M = 8_000
    keep = s + o + 1 <= M
    s, o, a = s[keep], o[keep], a[keep]
    ref, _ = both(s, o, a, memory=M, policy="mc-sf", prediction=np.maximum(1, o // 3),
                  event_order="exact")
    assert ref.log.evict_req.size > 0


def test_reference_runs_what_is_not_compiled(monkeypatch):
    """A user batch time goes to the reference loop and compiled=False forces it; compiled=True
    with a user batch time is an error."""
    calls = []
    real = compiled_mod.paper_loop
    monkeypatch.setattr(compiled_mod, "paper_loop", lambda *a: calls.append(1) or real(*a))
    args = ([2, 1], [2, 1], [0.0, 0.0])
    simulate_paper(*args, memory=10, batch_time=lambda P, D, kv: 0.05)
    simulate_paper(*args, memory=10, compiled=False)
    simulate_paper(*args, memory=10, policy="alpha-0.1-beta-0.1", rng=np.random.default_rng(0),
                   compiled=False)
    assert calls == []
    simulate_paper(*args, memory=10)
    simulate_paper(*args, memory=10, policy="alpha-0.1-beta-0.1", rng=np.random.default_rng(0))
    simulate_paper(*args, memory=10, rng=np.random.RandomState(0))    # unused by MC-SF
    assert calls == [1, 1, 1]
    with pytest.raises(ValueError, match="custom batch_time"):
        simulate_paper(*args, memory=10, batch_time=lambda P, D, kv: 0.05, compiled=True)


@pytest.mark.parametrize("kind", ALL)
def test_columns_match_the_run(kind):
    rng = np.random.default_rng(3)
    n, M = 300, 400
    s = rng.integers(1, 40, n)
    o = rng.integers(1, 120, n)
    a = np.cumsum(rng.exponential(0.02, n))
    p = np.maximum(1, o + rng.integers(-20, 20, n))
    run = simulate_paper(s, o, a, memory=M, policy=kind, prediction=p, compiled=False,
                         rng=RNG(1))
    col = run_paper_columns(s, o, a, M, policy=kind, prediction=p, rng=RNG(1))
    assert col["status"] == run.status
    assert same_bits(col["completion"], np.array([r.completion_time for r in run.records]))
    assert same_bits(col["batch_end"], run.log.end)
    assert same_bits(col["n_token"], run.log.n_token)
    assert same_bits(col["memory_after"], run.log.memory_after)
    with pytest.raises(ValueError, match="unknown paper-engine policy"):
        run_paper_columns(s, o, a, M, policy="fifo")


def test_cli_no_compile_runs_the_reference(capsys, monkeypatch, tmp_path):
    """``simulate --engine paper --no-compile`` runs the reference loop and prints the same
    table as the default (compiled) run."""
    from kvtheory.cli import main
    from kvtheory.engines.paper import engine as engine_mod
    calls = []
    real = engine_mod.run_loop
    monkeypatch.setattr(engine_mod, "run_loop", lambda *a: calls.append(1) or real(*a))
    tr = load_trace(DATA / "azure_llm_2023_code.csv.gz")
    path = tmp_path / "head.csv"
    path.write_text("arrival_time,prompt,output\n" + "".join(
        f"{a!r},{s},{o}\n" for a, s, o in zip(tr.arrival_time[:300].tolist(),
                                              tr.prompt[:300].tolist(), tr.output[:300].tolist())))
    argv = ["simulate", "--trace", str(path), "--memory", "16492", "--engine", "paper",
            "--policy", "mc-sf,mc-benchmark,vllm", "--format", "json"]
    assert main(argv) == 0
    compiled = capsys.readouterr().out
    assert calls == []
    assert main(argv + ["--no-compile"]) == 0
    assert capsys.readouterr().out == compiled
    assert calls == [1, 1, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_lmsys_like_at_paper_memory(kind):
    """2,000 LMSYS-like requests at 50/s and M = 16,492 with noisy predictions (evictions for
    the MC rules): the reference's run, and the checker passes."""
    from kvtheory.studies.a100 import lmsys_trace
    tr = lmsys_trace(np.random.default_rng(5), 2_000, rate=50.0)
    o = np.minimum(tr.output, 16_492 - 1 - tr.prompt)
    p = np.clip(np.round(o * np.random.default_rng(6).uniform(0.3, 1.5, o.size)), 1,
                16_492 - 1 - tr.prompt).astype(int)
    ref, _ = both(tr.prompt, o, tr.arrival_time, memory=16_492, policy=kind, prediction=p)
    assert ref.status == "ok"
