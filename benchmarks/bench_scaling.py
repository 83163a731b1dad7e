"""Scaling of the engines with the trace length: seconds, peak RSS, fitted exponent.

Each (engine, policy, rate, n) runs in its own Python process (so ``peak_rss_mb`` is that run's
peak) via :func:`kvtheory.studies.scaling.scaling_run`; the load average of the machine is recorded before
each run.  Rates: requests per round for the round engine (50: overloaded; 0.5: moderate, below
the ~0.7-0.9 requests per round the engine serves at M = 16,492), requests per second for the
timed and paper engines (50/s overloaded, 10/s moderate, the A100 replication's two rates).

Usage::

    python benchmarks/bench_scaling.py --sizes 10000 100000 1000000 --engines round \\
        --policies mc-sf --out benchmarks/results/scaling.json
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

RATES = {"round": (50.0, 0.5), "timed": (50.0, 10.0), "paper": (50.0, 10.0)}


def _one(spec: str) -> None:
    from kvtheory.studies.scaling import scaling_run
    print(json.dumps(scaling_run(**json.loads(spec))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    ap.add_argument("--engines", nargs="+", default=["round", "timed", "paper"])
    ap.add_argument("--policies", nargs="+", default=["mc-sf", "mc-benchmark", "vllm"])
    ap.add_argument("--rates", type=float, nargs="+", default=None,
                    help="override the per-engine rates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-check", action="store_true", help="skip the schedule checker")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    ap.add_argument("--out", default="benchmarks/results/scaling.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        return _one(args.one)
    from kvtheory.studies.scaling import exponent_table
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(out.read_text()) if out.exists() else []
    for engine in args.engines:
        for policy in args.policies:
            for rate in (args.rates or RATES[engine]):
                for n in args.sizes:
                    spec = dict(engine=engine, policy=policy, n=n, rate=rate, seed=args.seed,
                                check=not args.no_check)
                    load = os.getloadavg()[0]
                    try:
                        proc = subprocess.run([sys.executable, __file__, "--one",
                                               json.dumps(spec)], capture_output=True,
                                              text=True, timeout=args.timeout)
                        row = (json.loads(proc.stdout.strip().splitlines()[-1])
                               if proc.returncode == 0 else
                               {**spec, "status": "error",
                                "error": proc.stderr.strip().splitlines()[-1][:300]})
                    except subprocess.TimeoutExpired:
                        row = {**spec, "status": "timeout", "sim_seconds": args.timeout}
                    row["load_before"] = round(load, 2)
                    rows = [r for r in rows if any(r.get(k) != row.get(k) for k in
                                                   ("engine", "policy", "n", "rate", "seed"))]
                    rows.append(row)
                    out.write_text(json.dumps(rows, indent=1))
                    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                      for k, v in row.items()}), flush=True)
    print(exponent_table(rows).to_string(index=False))


if __name__ == "__main__":
    main()
