"""Sweeps and capacity: the grid, rows equal to ``simulate``'s, local processes and a dask
cluster equal to a sequential run, Parquet/CSV output, the bisection, one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from kvtheory.cli import main
from kvtheory.engines.serving_metrics import COMMON_KEYS
from kvtheory.studies import capacity as cap
from kvtheory.studies.sweep import CELL_KEYS, run_sweep_cell, sweep, sweep_cells

#: A small LMSYS-like workload in the round engine: 300 requests, M = 2000, 0.05 per round.
SMALL = dict(workload="lmsys", n=300, rate=0.05, memory=[2000])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KVTHEORY_CACHE", str(tmp_path / "cache"))


def _comparable(df: pd.DataFrame) -> list[dict]:
    return df.drop(columns=[c for c in ("sim_seconds",) if c in df]).to_dict("records")


def test_grid_has_every_cell_once(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("arrival_time,prompt,output\n0.0,5,3\n")
    b.write_text("arrival_time,prompt,output\n0.0,5,4\n")
    cells = sweep_cells("mc-sf,vllm", memory=[1000, 2000], scales=[0.5, 1, 2], seeds=3,
                        traces=[str(a), str(b)], engine="timed", head=100)
    assert len(cells) == 2 * 2 * 3 * 3 * 2
    keys = {(c["source"], c["policy"], c["memory"], c["scale"], c["seed"]) for c in cells}
    assert len(keys) == len(cells)
    assert {c["engine"] for c in cells} == {"timed"} and {c["head"] for c in cells} == {100}
    assert sweep_cells("mc-sf", seeds=[4, 7], workload="lmsys")[1]["seed"] == 7


@pytest.mark.parametrize("kwargs, match", [
    (dict(traces=["a.csv"], workload="lmsys"), "one of the two"),
    (dict(), "one of the two"),
    (dict(workload="lmsys", engine="fast"), "engine must be one of"),
    (dict(workload="lmsys", scales=[1, -2]), "scale must be positive"),
    (dict(workload="lmsys", head=5), "head applies to trace files"),
])
def test_grid_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep_cells(kwargs.pop("policies", "mc-sf"), **kwargs)


def test_small_sweep_equals_simulate_per_cell(capsys):
    """2 policies x 2 scales x 2 seeds: each row is ``simulate --format json``'s row for the
    same requests (scale c: the workload at c times the rate)."""
    df = sweep(sweep_cells("mc-sf,vllm", scales=[1, 2], seeds=2, **SMALL), progress=False)
    assert len(df) == 8 and list(df.columns[:4]) == list(CELL_KEYS)
    assert set(COMMON_KEYS) <= set(df.columns)
    for row in df.to_dict("records"):
        argv = ["simulate", "--workload", "lmsys", "--n", "300", "--memory", "2000",
                "--rate", str(0.05 * row["scale"]), "--seed", str(row["seed"]),
                "--policy", row["policy"], "--format", "json"]
        assert main(argv) == 0
        (want,) = json.loads(capsys.readouterr().out)
        got = {k: (None if isinstance(v, float) and math.isnan(v) else v)
               for k, v in row.items()}
        assert {k: got[k] for k in want} == want
    assert (df.groupby("policy")["n"].min() == 300).all()


def test_scale_divides_the_arrival_times_of_a_trace(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_time,prompt,output\n0,10,5\n2,10,5\n4,10,5\n")
    one = run_sweep_cell(policy="mc-sf", memory=100, scale=1.0, seed=0, source=str(path),
                         engine="round", round_seconds=1.0)
    two = run_sweep_cell(policy="mc-sf", memory=100, scale=2.0, seed=0, source=str(path),
                         engine="round", round_seconds=1.0)
    # no queueing: every latency is o = 5; the makespan is the last arrival + 5
    assert one["average_latency"] == two["average_latency"] == 5.0
    assert (one["makespan"], two["makespan"]) == (9, 7)


def test_local_workers_equal_sequential():
    cells = sweep_cells("mc-sf,vllm", scales=[1, 4], **SMALL)
    seq = sweep(cells, cache=False, progress=False)
    par = sweep(cells, workers=2, cache=False, progress=False)
    assert _comparable(par) == _comparable(seq)


def test_dask_local_cluster_gives_the_same_rows():
    distributed = pytest.importorskip("distributed")
    cells = sweep_cells("mc-sf", scales=[1, 4], seeds=2, **SMALL)
    seq = sweep(cells, cache=False, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        on_dask = sweep(cells, dask=cluster.scheduler_address, cache=False, progress=False)
    assert _comparable(on_dask) == _comparable(seq)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_writes_one_row_per_cell(tmp_path, capsys, suffix):
    out = tmp_path / f"rows{suffix}"
    argv = ["sweep", "--workload", "lmsys", "--n", "200", "--rate", "0.05", "--memory", "2000",
            "--policy", "mc-sf,vllm", "--scale", "1", "2", "--seeds", "2", "--out", str(out),
            "--no-progress", "--format", "json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    df = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert len(df) == len(printed) == 8
    assert sorted(set(zip(df["policy"], df["scale"], df["seed"]))) == sorted(
        (p, c, s) for p in ("mc-sf", "vllm") for c in (1.0, 2.0) for s in (0, 1))
    assert np.allclose(df["average_latency"], [r["average_latency"] for r in printed])


def test_cli_trace_head_timed(capsys):
    argv = ["sweep", "--trace", "book/data/azure_llm_2023_conv.csv.gz", "--head", "150",
            "--engine", "timed", "--scale", "0.5", "--no-progress", "--format", "json"]
    assert main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["n"] == 150 and row["status"] == "ok" and row["p99_ttft_s"] > 0


# ----------------------------------------------------------------- capacity
def test_capacity_bisection_on_a_real_case():
    """MC-SF on the small workload, SLO average latency <= 120 rounds: the capacity holds,
    the next step above fails, and the two are within the tolerance."""
    df = cap.capacity("mc-sf", "average_latency=120", low=0.5, high=8, tol=0.25,
                      memory=2000, workload="lmsys", n=300, rate=0.05, progress=False)
    (row,) = df.to_dict("records")
    assert row["status"] == "bisected" and 0 < row["scale_above"] - row["capacity"] <= 0.25
    at = run_sweep_cell(policy="mc-sf", memory=2000, scale=row["capacity"], seed=0,
                        source="lmsys", n=300, rate=0.05)
    above = run_sweep_cell(policy="mc-sf", memory=2000, scale=row["scale_above"], seed=0,
                           source="lmsys", n=300, rate=0.05)
    assert at["average_latency"] == row["metric_at_capacity"] <= 120
    assert above["average_latency"] == row["metric_above"] > 120
    ev = df.attrs["evaluations"]
    assert len(ev) == row["evaluations"] and ev["slo_holds"].sum() >= 1


def _fake_cell(*, policy, scale, seed, **_):
    """A monotone fake: latency 10 * scale (+ seed / 10), so the SLO <= 25 holds below 2.5."""
    return {"policy": policy, "scale": scale, "seed": seed, "p99_latency_s": 10 * scale + seed / 10}


def test_capacity_bisection_exact_on_a_monotone_fake(monkeypatch):
    monkeypatch.setattr(cap, "run_sweep_cell", _fake_cell)
    df = cap.capacity("mc-sf,vllm", "p99_latency_s=25s", low=1, high=4, tol=0.01, seeds=3,
                      workload="lmsys", engine="timed", cache=False, progress=False)
    for row in df.to_dict("records"):
        # seed k: capacity (25 - k / 10) / 10, found to within tol from below
        truth = np.array([(25 - k / 10) / 10 for k in range(3)])
        assert row["capacity_max"] <= truth.max() and row["capacity_min"] > truth.min() - 0.01
        assert abs(row["capacity"] - truth.mean()) <= 0.01
        assert 0 < row["scale_above"] - row["capacity"] <= 0.01
        assert row["evaluations"] == 3 * (2 + math.ceil(math.log2(3 / 0.01)))
        assert row["ci95"] > 0 and row["status"] == "bisected"
    edge = cap.capacity("mc-sf", "p99_latency_s=25", low=3, high=4, tol=0.1,
                        workload="lmsys", engine="timed", cache=False, progress=False)
    assert edge["status"][0] == "fails at low" and math.isnan(edge["capacity"][0])
    top = cap.capacity("mc-sf", "p99_latency_s=25", low=1, high=2, tol=0.1,
                       workload="lmsys", engine="timed", cache=False, progress=False)
    assert top["status"][0] == "holds at high" and top["capacity"][0] == 2.0


@pytest.mark.parametrize("extra, match", [
    (["--slo", "ttft_p42=2s"], "unknown SLO metric"),
    (["--slo", "p99_ttft_s<2"], "--slo must read METRIC=VALUE"),
    (["--slo", "p99_ttft_s=2s", "--low", "2", "--high", "1"], "low must be below high"),
    (["--slo", "p99_ttft_s=2s", "--tol", "0"], "tol must be a positive"),
    (["--slo", "p99_latency=3s"], None),
])
def test_capacity_bad_input_one_line(capsys, extra, match):
    engine = ["--engine", "round"] if extra[1].startswith("p99_latency=") else ["--engine", "timed"]
    assert main(["capacity", "--workload", "lmsys", "--n", "10", *engine, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert match is None or match in err[0]


@pytest.mark.parametrize("argv", [
    ["sweep", "--workload", "lmsys", "--policy", "nope"],
    ["sweep", "--workload", "lmsys", "--scale", "0"],
    ["sweep", "--trace", "no/such/file.csv", "--engine", "timed"],
    ["sweep", "--workload", "lmsys", "--out", "rows.txt"],
    ["sweep", "--workload", "lmsys", "--engine", "warp"],
    ["sweep"],
])
def test_sweep_bad_input_one_line(capsys, argv):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_a_trace_changed_after_its_cells_were_made_is_an_error(tmp_path):
    """Cells are cached by their arguments: a trace's cells carry its content's fingerprint."""
    p = tmp_path / "t.csv"
    p.write_text("arrival_time,prompt,output\n0.0,5,3\n1.0,4,2\n")
    cells = sweep_cells("mc-sf", memory=[100], traces=[str(p)], engine="timed")
    assert len({c["fingerprint"] for c in cells}) == 1
    p.write_text("arrival_time,prompt,output\n0.0,5,3\n1.0,4,9\n")
    assert sweep_cells("mc-sf", memory=[100], traces=[str(p)],
                       engine="timed")[0]["fingerprint"] != cells[0]["fingerprint"]
    with pytest.raises(ValueError, match="changed since the sweep's cells were made"):
        run_sweep_cell(**cells[0])


# ===================================================================== the columns path
def _noisy(rng, s, o, cap):
    """Predictions off by up to 50% either way, each within ``cap - s`` (so every request fits)."""
    p = np.maximum(1, np.round(o * rng.uniform(0.5, 1.5, o.size))).astype(np.int64)
    return np.minimum(p, cap - s)


def _round_requests(noisy, seed, n=3000, rate=0.3, memory=2000):
    from kvtheory.model.workloads import lmsys_like
    inst = lmsys_like(np.random.default_rng(seed), n, rate=rate, memory=memory)
    if noisy:
        inst = inst.with_predictions(_noisy(np.random.default_rng(seed + 100), inst.prompt,
                                            inst.output, memory))
    return inst


def _paper_requests(noisy, seed, n=2000, rate=40.0, memory=2000):
    import dataclasses
    from kvtheory.studies.a100 import lmsys_trace
    tr = lmsys_trace(np.random.default_rng(seed), n, rate=rate, memory=memory - 1)
    if noisy:
        tr = dataclasses.replace(tr, prediction=_noisy(np.random.default_rng(seed + 100),
                                                       tr.prompt, tr.output, memory - 1))
    return tr


def _assert_same_figures(full: dict, fast: dict):
    assert set(full) == set(fast)
    for k, want in full.items():
        got = fast[k]
        if isinstance(want, float) and not isinstance(got, bool):
            assert isinstance(got, float) and math.isclose(got, want, rel_tol=1e-12,
                                                           abs_tol=0.0), (k, got, want)
        else:
            assert got == want and type(got) is type(want), (k, got, want)


@pytest.mark.parametrize("engine", ["round", "paper"])
@pytest.mark.parametrize("policy", ["mc-sf", "vllm"])
@pytest.mark.parametrize("noisy", [False, True])
def test_columns_figures_equal_the_full_path_key_by_key(engine, policy, noisy):
    """LMSYS-like workloads, exact and noisy predictions (evictions): the columns path
    (threshold lowered to 0) gives the full path's keys and values (floats to 1e-12)."""
    from kvtheory.studies.sweep import _figures
    evicted = 0
    for seed in (0, 1):
        req = (_round_requests if engine == "round" else _paper_requests)(noisy, seed)
        full = _figures(req, policy, engine, 2000, seed, threshold=10**9)
        fast = _figures(req, policy, engine, 2000, seed, threshold=0)
        assert full["status"] == "ok" and full["n"] == req.n
        _assert_same_figures(full, fast)
        evicted += full["evictions"]
    # the noisy cases exercise evictions (under-predictions overflow); exact ones have none
    # under MC-SF
    if noisy:
        assert evicted > 0
    elif policy == "mc-sf":
        assert evicted == 0


@pytest.mark.parametrize("engine,rate", [("round", 0.3), ("paper", 40.0)])
def test_columns_cell_equals_the_full_cell_and_runs_above_the_threshold(monkeypatch, engine,
                                                                         rate):
    """A whole sweep cell (the workload built as columns too) above a lowered threshold: the
    same row as the full path, computed by the columns path (spied), and simulate is not
    called; at the threshold the full path runs."""
    from kvtheory.engines import simulator
    from kvtheory.engines.paper import engine as paper_engine
    from kvtheory.studies import sweep_columns
    cell = dict(policy="mc-sf", memory=2000, scale=1.0, seed=3, source="lmsys", engine=engine,
                n=1500, rate=rate)
    full = run_sweep_cell(**cell)
    calls = []
    name = "round_figures" if engine == "round" else "paper_figures"
    real = getattr(sweep_columns, name)
    monkeypatch.setattr(sweep_columns, name, lambda *a, **k: calls.append(1) or real(*a, **k))

    def refuse(*a, **k):
        raise AssertionError("the full path ran")

    monkeypatch.setattr(simulator, "simulate", refuse)
    monkeypatch.setattr(paper_engine, "simulate_paper", refuse)
    fast = run_sweep_cell(**cell, columns_above=1499)
    assert calls == [1]
    full.pop("sim_seconds", None)
    fast.pop("sim_seconds", None)
    assert list(fast) == list(full)
    _assert_same_figures(full, fast)
    with pytest.raises(AssertionError, match="the full path ran"):
        run_sweep_cell(**cell, columns_above=1500)
    assert calls == [1]


def test_columns_round_error_status_falls_back_to_the_full_path(monkeypatch):
    """When the compiled loop reports an error status, the cell reruns the full path (the
    reference engine, which raises or reports exactly): here the row is the full path's."""
    from kvtheory.engines import compiled
    cell = dict(policy="mc-sf", memory=2000, scale=1.0, seed=5, source="lmsys", n=400, rate=0.3)
    full = run_sweep_cell(**cell)
    empty = np.zeros(0, dtype=np.int64)
    monkeypatch.setattr(compiled, "run_columns",
                        lambda *a, **k: (1, empty, empty, empty, empty))
    assert run_sweep_cell(**cell, columns_above=0) == full
