"""Regret of MC-SF and the fluid policy against the exact hindsight optimum at longer horizons.

Load 0.5 of :class:`kvtheory.theory.regret.ArrivalModel`, horizons 10 to 160, 12 samples each,
seed 2025; writes the rows of :func:`kvtheory.theory.regret.hindsight_regret_table` to
``book/data/regret_hindsight.json``, which the regret chapter reads.

    python benchmarks/regret_hindsight_run.py --seeds 12
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from kvtheory.engines.policies import mc_sf
from kvtheory.theory.regret import ArrivalModel, fluid_policy, hindsight_regret_table

ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, default=12)
ap.add_argument("--seed", type=int, default=2025)
ap.add_argument("--horizons", type=int, nargs="+", default=[10, 20, 40, 80, 160])
ap.add_argument("--time-limit", type=float, default=20.0)
ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "book" / "data"))
args = ap.parse_args()
t0 = time.perf_counter()
model = ArrivalModel.at_load(0.5)
rows = []
for T in args.horizons:         # one generator per horizon: a horizon's samples do not depend on the others
    rows += hindsight_regret_table(model, {"mc-sf": mc_sf, "fluid(theta=1)": fluid_policy(model, 1.0)},
                                   [T], args.seeds, np.random.default_rng([args.seed, T]),
                                   time_limit=args.time_limit)
    print(T, round(time.perf_counter() - t0, 1), "s", flush=True)
meta = {"load": 0.5, "horizons": args.horizons, "seeds": args.seeds, "seed": args.seed,
        "time_limit": args.time_limit, "wall_seconds": round(time.perf_counter() - t0, 1),
        "command": "python benchmarks/regret_hindsight_run.py --seeds "
                   f"{args.seeds} --seed {args.seed} --time-limit {args.time_limit:g}"}
Path(args.out, "regret_hindsight.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
