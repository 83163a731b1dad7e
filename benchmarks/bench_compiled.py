"""Compiled vs reference round engine, MC-SF on LMSYS-like requests at M = 16,492 in loop units (target: 10^7 requests in <= 100 units, peak RSS < 4 GB, time exponent in n <= 1.1).

One *loop unit* is the time of a plain Python ``for`` loop of 10,000,000 steps doing ``x += i``,
timed in each run's own process just before the simulation, so the figures carry over between
machines.  Requests: :func:`kvtheory.model.workloads.lmsys_like` at 50 arrivals per round (the
overloaded rate of ``bench_scaling.py``), seed 0.  Each (engine, n) runs in its own process so
``peak_rss_mb`` is that run's peak.  Engines:

* ``reference``: ``simulate(inst, mc_sf, compiled=False)`` (the Python engine);
* ``compiled``: ``simulate(inst, mc_sf)``, timed in its two parts: ``loop_seconds`` (the
  compiled loop and the attempt lists) and ``schedule_seconds`` (building the ``Schedule``);
* ``columns``: the compiled loop alone on the bare columns
  (:func:`kvtheory.engines.compiled.run_columns`, per-request arrays out): no ``Instance`` and no
  ``Schedule`` objects, which at 10^7 requests would not fit in 4 GB.

Usage::

    python benchmarks/bench_compiled.py --sizes 10000 100000 1000000 \\
        --engines reference compiled columns --reference-max 100000 \\
        --out benchmarks/results/compiled.json
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def loop_unit() -> float:
    """Seconds of ``for i in range(10_000_000): x += i`` (best of 2)."""
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        x = 0
        for i in range(10_000_000):
            x += i
        best = min(best, time.perf_counter() - t0)
    return best


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _one(engine: str, n: int, rate: float, memory: int, seed: int) -> dict:
    import numpy as np

    from kvtheory.engines.compiled import attempts_of, run_columns, run_compiled
    from kvtheory.engines.policies import mc_sf
    from kvtheory.engines.simulator import simulate
    from kvtheory.model.schedule import Schedule
    from kvtheory.model.workloads import lmsys_like, lmsys_like_columns

    tiny = lmsys_like(np.random.default_rng(1), 50, rate=rate, memory=memory)
    t0 = time.perf_counter()
    simulate(tiny, mc_sf)                              # load (or compile) the numba cache
    warm = time.perf_counter() - t0
    unit = loop_unit()
    rng = np.random.default_rng(seed)
    row = {"engine": engine, "policy": "mc-sf", "n": n, "rate": rate, "memory": memory,
           "seed": seed, "loop_unit_seconds": round(unit, 4), "jit_load_seconds": round(warm, 3)}
    t0 = time.perf_counter()
    if engine == "columns":
        a, s, o = lmsys_like_columns(rng, n, rate=rate, memory=memory)
        row["build_seconds"] = time.perf_counter() - t0
        t1, c1 = time.perf_counter(), time.process_time()
        status, start, ev_id, _, _ = run_columns(a, s, o, o, memory, "mc-sf")
        row["sim_seconds"] = time.perf_counter() - t1
        row["sim_cpu_seconds"] = time.process_time() - c1
        assert status == 0
        row["rounds"] = int((start + o).max())
        row["avg_latency"] = float((start + o - a).mean())
        row["evictions"] = int(ev_id.size)
    else:
        inst = lmsys_like(rng, n, rate=rate, memory=memory)
        row["build_seconds"] = time.perf_counter() - t0
        t1, c1 = time.perf_counter(), time.process_time()
        if engine == "reference":
            sched = simulate(inst, mc_sf, compiled=False)
        else:                                           # simulate(inst, mc_sf), in two parts
            attempts = run_compiled(inst, "mc-sf")
            row["loop_seconds"] = time.perf_counter() - t1
            sched = Schedule.from_attempts(inst, attempts, policy="mc_sf")
            row["schedule_seconds"] = time.perf_counter() - t1 - row["loop_seconds"]
        row["sim_seconds"] = time.perf_counter() - t1
        row["sim_cpu_seconds"] = time.process_time() - c1
        row["rounds"] = sched.makespan
        row["avg_latency"] = sched.average_latency
        row["evictions"] = sched.evictions
    row["units"] = row["sim_seconds"] / unit
    row["peak_rss_mb"] = _rss_mb()
    row["status"] = "ok"
    return row


def exponents(rows: list[dict]) -> dict:
    """Least-squares slope of log(seconds) on log(n) per engine (sizes >= 10^5 if 2+ of them)."""
    import numpy as np
    out = {}
    for engine in sorted({r["engine"] for r in rows}):
        pts = sorted((r["n"], r["sim_seconds"]) for r in rows
                     if r["engine"] == engine and r.get("status") == "ok")
        big = [p for p in pts if p[0] >= 100_000]
        pts = big if len(big) >= 2 else pts
        if len(pts) >= 2:
            x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
            out[engine] = round(float(np.polyfit(x, y, 1)[0]), 3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--engines", nargs="+", default=["reference", "compiled", "columns"],
                    choices=["reference", "compiled", "columns"])
    ap.add_argument("--reference-max", type=int, default=100_000,
                    help="largest n for the reference engine (it takes minutes beyond)")
    ap.add_argument("--objects-max", type=int, default=1_000_000,
                    help="largest n for the engines that build Instance and Schedule objects "
                         "(beyond, only the columns engine runs: the objects exceed 4 GB)")
    ap.add_argument("--rate", type=float, default=50.0, help="arrivals per round")
    ap.add_argument("--memory", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per run")
    ap.add_argument("--out", default="benchmarks/results/compiled.json")
    ap.add_argument("--json", action="store_true", help="print the result rows as JSON")
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
            if engine == "reference" and n > args.reference_max:
                continue
            if engine != "columns" and n > args.objects_max:
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
                      "exponent": exponents(rows)}
            out.write_text(json.dumps(result, indent=1))
            if not args.json:
                print(f"{engine:9} n={n:>9,}  {row.get('sim_seconds', float('nan')):8.2f} s  "
                      f"{row.get('units', float('nan')):8.2f} units  "
                      f"{row.get('peak_rss_mb', float('nan')):7.0f} MB  {row['status']}",
                      flush=True)
    result = {"machine": f"{os.cpu_count()} cores (shared)", "runs": rows,
              "exponent": exponents(rows)}
    print(json.dumps(result, indent=1) if args.json else f"exponents: {result['exponent']}")


if __name__ == "__main__":
    main()
