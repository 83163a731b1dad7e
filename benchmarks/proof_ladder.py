"""Where can the optimum be proven?  Model 1 at growing n: peak bound + exact program.

    python benchmarks/proof_ladder.py --sizes 8 10 12 15 --trials 3 --time-limit 120

Writes ``book/data/proof_ladder.json`` (one row per trial).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from kvtheory.optimum.bounds import prove_optimal
from kvtheory.optimum.search import improve_schedule
from kvtheory.model.workloads import paper_model1

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12, 15])
ap.add_argument("--trials", type=int, default=3)
ap.add_argument("--time-limit", type=float, default=120.0)
ap.add_argument("--bound-time", type=float, default=30.0)
ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "book" / "data"
                                     / "proof_ladder.json"))
args = ap.parse_args()
rows = []
for n in args.sizes:
    for k, ss in enumerate(np.random.SeedSequence([2026, n]).spawn(args.trials)):
        inst = paper_model1(np.random.default_rng(ss), n=n)
        t0 = time.perf_counter()
        found = improve_schedule(inst, np.random.default_rng(k), evaluations=20_000)
        res = prove_optimal(inst, found.schedule, time_limit=args.time_limit,
                            bound_time=args.bound_time)
        rows.append({"n": n, "trial": k, "M": inst.memory, "search": found.total_latency,
                     "best": res.objective, "lp": round(res.bound.lp_bound, 2),
                     "peak_bound": res.bound.bound, "lower_bound": res.lower_bound,
                     "proven": res.proven_optimal, "area": res.bound.volume,
                     "seconds": round(time.perf_counter() - t0, 1)})
        print(rows[-1], flush=True)
meta = {"command": f"python benchmarks/proof_ladder.py --sizes {' '.join(map(str, args.sizes))} "
                   f"--trials {args.trials} --time-limit {args.time_limit:g} "
                   f"--bound-time {args.bound_time:g}",
        "seeds": "SeedSequence([2026, n]).spawn(trials)"}
Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
