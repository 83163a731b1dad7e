"""The one executor (kvtheory.model.cells): local processes and a real dask LocalCluster,
results cached per cell, resumed after an interruption, rerun after a worker died."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cell_jobs import die_once, fail_at, square
from kvtheory.model.cells import run_cells


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KVTHEORY_CACHE", str(tmp_path / "cache"))


def _log(tmp_path) -> str:
    d = tmp_path / "log"
    d.mkdir(exist_ok=True)
    return str(d)


def _runs(log: str) -> dict[int, int]:
    """How often each cell ran (lines in its log file)."""
    return {int(p.name): len(p.read_text().splitlines()) for p in Path(log).iterdir()
            if p.name.isdigit()}


def test_local_processes_equal_a_sequential_run(tmp_path):
    log = _log(tmp_path)
    cells = [{"x": x, "log": log} for x in range(12)]
    par = run_cells(square, cells, workers=2, cache=False, progress=False)
    seq = run_cells(square, cells, workers=1, cache=False, progress=False)
    assert par.values == seq.values == [x * x for x in range(12)]
    assert par.computed == 12 and par.loaded == 0


def test_a_dead_local_worker_is_replaced_and_its_cell_rerun(tmp_path):
    log = _log(tmp_path)
    cells = [{"x": x, "log": log, "victim": 5} for x in range(10)]
    run = run_cells(die_once, cells, workers=2, progress=False)
    assert run.values == [x * x for x in range(10)]
    assert run.restarts >= 1
    assert set(_runs(log)) == set(range(10))          # every cell's result was produced
    # cached: a second run computes nothing and loads every cell once
    again = run_cells(die_once, cells, workers=2, progress=False)
    assert again.values == run.values and again.computed == 0 and again.loaded == 10


def test_a_pool_that_keeps_breaking_gives_up_with_one_line(tmp_path, monkeypatch):
    import cell_jobs
    log = _log(tmp_path)
    monkeypatch.setattr(Path, "exists", lambda self: False)   # every call of victim dies
    with pytest.raises(RuntimeError, match=r"cells left after a worker process died 2 times"):
        run_cells(cell_jobs.die_once, [{"x": x, "log": log, "victim": 1} for x in range(3)],
                  workers=2, retries=1, progress=False, cache=False)


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    log = _log(tmp_path)
    cells = [{"x": x, "log": log} for x in range(6)]
    with pytest.raises(KeyboardInterrupt):
        run_cells(fail_at, [dict(c, bad=4) for c in cells], progress=False)
    assert _runs(log) == {0: 1, 1: 1, 2: 1, 3: 1}
    run = run_cells(fail_at, [dict(c, bad=4) for c in cells][:4] +
                    [dict(c, bad=99) for c in cells][4:], progress=False)
    assert run.values == [x * x for x in range(6)]
    assert run.loaded == 4 and run.computed == 2
    assert _runs(log) == {x: 1 for x in range(6)}     # nothing ran twice


def test_a_callers_executor_runs_the_cells_and_stays_open(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    log = _log(tmp_path)
    cells = [{"x": x, "log": log} for x in range(7)]
    with ThreadPoolExecutor(3) as pool:
        run = run_cells(square, cells, executor=pool, cache=False, progress=False)
        assert pool.submit(abs, -4).result() == 4          # not shut down by run_cells
    assert run.values == [0, 1, 4, 9, 16, 25, 36] and run.computed == 7
    assert _runs(log) == {x: 1 for x in range(7)}


def test_a_broken_callers_pool_is_not_replaced(tmp_path):
    from concurrent.futures import ProcessPoolExecutor
    log = _log(tmp_path)
    cells = [{"x": x, "log": log, "victim": 0} for x in range(3)]
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(RuntimeError, match="cells left after a worker process died 1 times"):
            run_cells(die_once, cells, executor=pool, cache=False, progress=False)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield c, client


def test_dask_equals_a_sequential_run(tmp_path, cluster):
    _, client = cluster
    log = _log(tmp_path)
    cells = [{"x": x, "log": log} for x in range(8)]
    by_address = run_cells(square, cells, dask=client.scheduler.address, progress=False)
    assert by_address.values == [x * x for x in range(8)] and by_address.computed == 8
    with pytest.raises(ValueError, match="cannot reach the dask scheduler"):
        run_cells(square, [{"x": 99, "log": log}], dask="tcp://127.0.0.1:1", progress=False)


def test_dask_worker_killed_mid_sweep(tmp_path, cluster):
    """Every cell's result is there once, equal to a sequential run, after a worker dies."""
    import signal
    _, client = cluster
    log = _log(tmp_path)
    cells = [{"x": x, "log": log, "delay": 0.4} for x in range(10)]
    killed = []

    def kill_one():
        # wait until a worker holds a running cell, then SIGKILL its process (the nanny
        # starts a new one; the scheduler gives the lost cells to the workers left)
        import time
        pids = client.run(os.getpid)
        for _ in range(200):
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.02)

    import threading
    t = threading.Thread(target=kill_one)
    t.start()
    run = run_cells(square, cells, dask=client, progress=False)
    t.join()
    assert killed, "no worker was killed"
    seq = [x * x for x in range(10)]
    assert run.values == seq and run.computed == 10
    runs = _runs(log)
    assert set(runs) == set(range(10))
    # stored once each: a second run loads all ten and computes none
    again = run_cells(square, cells, dask=client, progress=False)
    assert again.values == seq and again.loaded == 10 and again.computed == 0


# ------------------------------------------------------------ the long commands on the executor
def _table(out: str) -> str:
    """A command's printed tables without the lines that hold wall-clock times."""
    return "\n".join(line for line in out.splitlines()
                     if "wall" not in line and "sim_seconds" not in line)


def test_verify_on_dask_equals_verify_in_process(cluster, capsys):
    import json
    from kvtheory.claims._run import verify
    from kvtheory.cli import main
    _, client = cluster
    here = [(v.reading, v.status, v.evidence) for v in verify(["clm_kv_capacity"], quick=True)]
    there = [(v.reading, v.status, v.evidence)
             for v in verify(["clm_kv_capacity"], quick=True, dask=client)]
    assert here == there and [s for _, s, _ in here] == ["proved", "fails"]
    assert main(["verify", "clm_kv_capacity", "--quick", "--format", "json", "--no-progress",
                 "--dask", client.scheduler.address]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["reading"], r["status"], r["evidence"]) for r in rows] == here
    assert main(["verify", "clm_kv_capacity", "--no-progress", "--dask",
                 "tcp://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err.strip() == \
        "error: cannot reach the dask scheduler at tcp://127.0.0.1:1 (within 2 s)"


def test_a100_on_dask_equals_a_local_run_and_is_cached(cluster, capsys):
    import numpy as np
    from kvtheory.studies.a100 import main, run_replication
    _, client = cluster
    kw = dict(rates=(20.0,), errors=(0.5,), policies=("mc-sf", "vllm"))
    local = run_replication(np.random.default_rng(3), 150, workers=1, **kw)
    on_dask = run_replication(np.random.default_rng(3), 150, dask=client, cache=True, **kw)
    strip = lambda res: [{k: v for k, v in r.items() if k != "sim_seconds"} for r in res.rows]
    assert strip(on_dask) == strip(local) and len(local.rows) == 4
    assert on_dask.config["computed"] == 4 and on_dask.config["loaded"] == 0
    again = run_replication(np.random.default_rng(3), 150, dask=client, cache=True, **kw)
    assert again.config["loaded"] == 4 and strip(again) == strip(local)
    args = ["--n", "120", "--rates", "20", "--no-progress"]
    main(args + ["--workers", "1", "--no-cache"])
    seq = capsys.readouterr().out
    main(args + ["--dask", client.scheduler.address])
    dist = capsys.readouterr().out
    assert "runs computed" in dist and "loaded from the cache" in dist
    assert _table(dist) == _table(seq) and "mc-sf" in _table(seq)


def test_paper_setup_on_dask_equals_a_serial_run(cluster, capsys):
    from kvtheory.studies.paper_study import latency_study, main
    _, client = cluster
    kw = dict(ks=(1,), rates=(10.0,), engines=("paper",), policies=("mc-sf", "mc-benchmark"))
    serial = latency_study(0, **kw).drop(columns="sim_seconds")
    on_dask = latency_study(0, dask=client, **kw).drop(columns="sim_seconds")
    assert on_dask.equals(serial) and list(serial["status"]) == ["ok", "ok"]
    with pytest.raises(ValueError, match="--workers must be >= 1"):
        main(["--workers", "0"])


def test_capacity_on_dask_equals_a_local_run(cluster, monkeypatch, tmp_path):
    """The same bisection, cell for cell, on a LocalCluster and in one process (no cache)."""
    from kvtheory.studies.capacity import capacity
    _, client = cluster
    kw = dict(low=0.5, high=8, tol=0.5, memory=2000, workload="lmsys", n=200, rate=0.05,
              seeds=2, cache=False, progress=False)
    local = capacity(["mc-sf", "vllm"], "average_latency=120", workers=1, **kw)
    on_dask = capacity(["mc-sf", "vllm"], "average_latency=120", dask=client, **kw)
    assert local.equals(on_dask)
    assert list(local["status"]) == ["bisected", "bisected"]
    assert (local["metric_at_capacity"] <= 120).all() and (local["metric_above"] > 120).all()
    ev_local, ev_dask = local.attrs["evaluations"], on_dask.attrs["evaluations"]
    assert ev_local.drop(columns="sim_seconds", errors="ignore").equals(
        ev_dask.drop(columns="sim_seconds", errors="ignore"))
