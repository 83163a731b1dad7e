"""The paper engine's speed on 10,000 LMSYS-like requests with M = 16,492 (target: under a minute on one core).

Times :func:`kvtheory.engines.paper.engine.simulate_paper` (goal for MC-SF: under 2 s) and the
independent replay :func:`kvtheory.engines.paper.engine.check_paper_run`, best of ``--repeat`` runs.
Usage: ``python benchmarks/bench_paper_engine.py [--n N] [--rate R] [--policy P ...]``.
"""

import argparse
import time

import numpy as np

from kvtheory.studies.a100 import lmsys_trace
from kvtheory.engines.paper.engine import check_paper_run, simulate_paper


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=50.0, help="arrivals per second")
    ap.add_argument("--memory", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policy", nargs="+", default=["mc-sf", "mc-benchmark", "vllm"])
    args = ap.parse_args()
    tr = lmsys_trace(np.random.default_rng(args.seed), args.n, rate=args.rate,
                     memory=args.memory)
    print(f"{args.n} LMSYS-like requests at {args.rate:g}/s, seed {args.seed}, "
          f"M = {args.memory}")
    for policy in args.policy:
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=args.memory,
                                 policy=policy, rng=np.random.default_rng(1))
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        check_paper_run(run)
        check = time.perf_counter() - t0
        sm = run.summary()
        print(f"{policy:20s} simulate {best:6.2f} s (best of {args.repeat})  check {check:5.2f} s"
              f"  batches {sm['batches']:6d}  avg latency {sm['avg_latency_s']} s")


if __name__ == "__main__":
    main()
