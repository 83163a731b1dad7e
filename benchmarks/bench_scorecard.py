"""Wall time of ``scorecard(policy, quick=True)`` (target: under 3 minutes for MC-SF on 2 cores).

Each policy is graded three times in one process, starting from an empty result cache:
``cold`` computes everything (the planted and reference runs are cached by the code's hash, the
item verdicts by the policy's source too); ``policy only`` (``cache=False``) reuses the planted
and reference runs and recomputes the policy's own part; ``cached`` loads every item's verdict.

Usage::

    python benchmarks/bench_scorecard.py --policies mc-sf --out benchmarks/results/scorecard.json
"""

import argparse
import json
import os
import tempfile
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", nargs="+", default=["mc-sf"])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp(prefix="bench-scorecard-")
    from kvtheory.scorecard import scorecard
    rows = []
    for name in args.policies:
        for run in ("cold", "policy only", "cached"):
            t0 = time.perf_counter()
            card = scorecard(name, quick=True, workers=args.workers,
                             cache=run != "policy only")
            rows.append({"policy": name, "cache": run,
                         "seconds": round(time.perf_counter() - t0, 1),
                         "statuses": {v.claim: v.status for v in card.items},
                         "cpus": os.cpu_count()})
            print(json.dumps(rows[-1]))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
