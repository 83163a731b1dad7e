"""Bracket the optimum at the paper's size with the peak-row bound (target: a bracket width of at most 0.05 on the mean ratio).

Runs the first ``--trials`` trials of each model of :mod:`kvtheory.studies.replication` (the same seeds
as the 200-trial run) with ``bound="peak"`` and writes the tidy rows to
``book/data/bracket_<model>.json``, which the synthetic chapter reads.

    python benchmarks/bracket_run.py --trials 20 --bound-time 60 --workers 2
"""

import argparse
import json
import time
from pathlib import Path

from kvtheory.studies.replication import run_trials, trial_specs

ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int, default=20)
ap.add_argument("--bound-time", type=float, default=60.0)
ap.add_argument("--workers", type=int, default=2)
ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "book" / "data"))
args = ap.parse_args()
for model in ("model1", "model2"):
    t0 = time.perf_counter()
    specs = trial_specs(model, args.trials, 0, policies=["mc-sf", "mc-benchmark", "vllm"],
                        bound="peak", bound_time=args.bound_time)
    rows = run_trials(specs, max_workers=args.workers)
    meta = {"model": model, "trials": args.trials, "seed": 0, "bound_time": args.bound_time,
            "search_evals": specs[0].search_evals, "workers": args.workers,
            "wall_seconds": round(time.perf_counter() - t0, 1),
            "command": f"python benchmarks/bracket_run.py --trials {args.trials} "
                       f"--bound-time {args.bound_time:g} --workers {args.workers}"}
    Path(args.out, f"bracket_{model}.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                                  indent=1))
    print(model, meta["wall_seconds"], "s")
