"""Compiled vs reference paper engine, MC-SF on LMSYS-like requests at M = 16,492 in loop units (target: 10^7 requests in <= 200 units, peak RSS < 4 GB, time exponent in n <= 1.1).

One *loop unit* is the time of a plain Python ``for`` loop of 10,000,000 steps doing ``x += i``,
timed in each run's own process just before the simulation (as in ``bench_compiled.py``).
Requests: the lengths of :func:`kvtheory.model.workloads.lmsys_like_columns` and Poisson arrival
times at 50 requests per second (the overloaded rate of ``bench_scaling.py``), the draws of
:func:`kvtheory.studies.a100.lmsys_trace`, seed 0; outputs clipped to ``s + o + 1 <= M`` (the
published code's fit rule).  Each (engine, n) runs in its own process so ``peak_rss_mb`` is that
run's peak.  Engines:

* ``reference``: ``simulate_paper(..., compiled=False)`` (the Python event loop);
* ``compiled``: ``simulate_paper(...)`` (the compiled loop, the full batch log and the records);
* ``columns``: the compiled loop alone on the bare columns
  (:func:`kvtheory.engines.paper.compiled.run_paper_columns`): per-request and per-batch arrays
  out, no per-step log and no record objects, which at 10^7 requests would not fit in 4 GB.

Usage::

    python benchmarks/bench_compiled_paper.py --sizes 100000 1000000 10000000 \\
        --engines reference compiled columns --out benchmarks/results/compiled_paper.json
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compiled import _rss_mb, exponents, loop_unit  # noqa: E402


def exponents_of(rows: list[dict]) -> dict:
    """Fitted exponents of time against n per engine: wall seconds (``exponent``, as
    ``bench_compiled.py``) and CPU seconds of the process (``exponent_cpu``: robust to the
    other load on a shared machine)."""
    cpu = [{**r, "sim_seconds": r["sim_cpu_seconds"]} for r in rows if "sim_cpu_seconds" in r]
    return {"exponent": exponents(rows), "exponent_cpu": exponents(cpu)}


def columns(n: int, rate: float, memory: int, seed: int):
    """``(arrival seconds, prompt, output)``: the draws of ``lmsys_trace``, outputs clipped."""
    import numpy as np

    from kvtheory.model.workloads import lmsys_like_columns
    rng = np.random.default_rng(seed)
    _, s, o = lmsys_like_columns(rng, n, rate=rate, memory=memory)
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    return t - t[0], s, np.minimum(o, memory - 1 - s)


def _one(engine: str, n: int, rate: float, memory: int, seed: int) -> dict:
    from kvtheory.engines.paper.compiled import run_paper_columns
    from kvtheory.engines.paper.engine import simulate_paper

    a, s, o = columns(200, rate, memory, 1)
    t0 = time.perf_counter()
    simulate_paper(s, o, a, memory=memory)             # load (or compile) the numba cache
    warm = time.perf_counter() - t0
    unit = loop_unit()
    row = {"engine": engine, "policy": "mc-sf", "n": n, "rate": rate, "memory": memory,
           "seed": seed, "loop_unit_seconds": round(unit, 4), "jit_load_seconds": round(warm, 3)}
    t0 = time.perf_counter()
    a, s, o = columns(n, rate, memory, seed)
    row["build_seconds"] = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    if engine == "columns":
        out = run_paper_columns(s, o, a, memory, policy="mc-sf")
        row["sim_seconds"] = time.perf_counter() - t1
        row["sim_cpu_seconds"] = time.process_time() - c1
        status, comp, batches = out["status"], out["completion"], out["batch_end"].size
        evictions = int(out["evictions"].sum())
    else:
        run = simulate_paper(s, o, a, memory=memory, policy="mc-sf",
                             compiled=engine == "compiled")
        row["sim_seconds"] = time.perf_counter() - t1
        row["sim_cpu_seconds"] = time.process_time() - c1
        status, batches = run.status, run.log.start.size
        comp = a + [r.latency for r in run.records]
        evictions = sum(r.evictions for r in run.records)
    row["batches"] = int(batches)
    row["avg_latency_s"] = float((comp - a).mean())
    row["makespan_s"] = float(comp.max() - a[0])
    row["evictions"] = int(evictions)
    row["units"] = row["sim_seconds"] / unit
    row["peak_rss_mb"] = _rss_mb()
    row["status"] = status
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--engines", nargs="+", default=["reference", "compiled", "columns"],
                    choices=["reference", "compiled", "columns"])
    ap.add_argument("--reference-max", type=int, default=100_000,
                    help="largest n for the reference loop (it takes minutes beyond)")
    ap.add_argument("--objects-max", type=int, default=1_000_000,
                    help="largest n for simulate_paper's records and log (beyond, only the "
                         "columns engine runs: they exceed 4 GB)")
    ap.add_argument("--rate", type=float, default=50.0, help="arrivals per second")
    ap.add_argument("--memory", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    ap.add_argument("--out", default="benchmarks/results/compiled_paper.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(**json.loads(args.one))))
        return
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(out.read_text())["runs"] if out.exists() else []
    for engine in args.engines:
        for n in args.sizes:
            if (engine == "reference" and n > args.reference_max) or (
                    engine == "compiled" and n > args.objects_max):
                continue
            spec = dict(engine=engine, n=n, rate=args.rate, memory=args.memory, seed=args.seed)
            load = os.getloadavg()[0]
            try:
                proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)],
                                      capture_output=True, text=True, timeout=args.timeout)
                row = (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0
                       else {**spec, "status": "error",
                             "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]})
            except subprocess.TimeoutExpired:
                row = {**spec, "status": "timeout", "sim_seconds": args.timeout}
            row["load_before"] = round(load, 2)
            rows = [r for r in rows if (r["engine"], r["n"]) != (engine, n)]
            rows.append(row)
            rows.sort(key=lambda r: (r["engine"], r["n"]))
            result = {"machine": f"{os.cpu_count()} cores (shared)", "runs": rows,
                      **exponents_of(rows)}
            out.write_text(json.dumps(result, indent=1))
            print(f"{engine:9} n={n:>10,}  {row.get('sim_seconds', float('nan')):8.2f} s  "
                  f"{row.get('units', float('nan')):8.2f} units  "
                  f"{row.get('peak_rss_mb', float('nan')):7.0f} MB  {row['status']}",
                  flush=True)
    result = {"machine": f"{os.cpu_count()} cores (shared)", "runs": rows,
              **exponents_of(rows)}
    print(f"exponents (wall): {result['exponent']}, (cpu): {result['exponent_cpu']}")


if __name__ == "__main__":
    main()
