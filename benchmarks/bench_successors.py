"""Time per decision of the successors' policies beside MC-SF, on LMSYS-like requests.

Runs each policy on the same instance (A_max on predictions u = 2 o, A_min on l = ceil(o/4),
the others exact), checks every schedule, and prints the median and mean time of one policy
call.  Usage: ``python benchmarks/bench_successors.py [--n N] [--rate R] [--seed S]``.
"""

import argparse
import time

import numpy as np

from kvtheory import check_schedule, simulate
from kvtheory.engines.policies import POLICIES
from kvtheory.model.workloads import lmsys_like


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000)
    ap.add_argument("--rate", type=float, default=50.0, help="arrivals per round")
    ap.add_argument("--memory", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    inst = lmsys_like(np.random.default_rng(args.seed), args.n, rate=args.rate, memory=args.memory)
    o, s, M = inst.output, inst.prompt, inst.memory
    upper = np.maximum(o, np.minimum(2 * o, M - s))
    lower = np.maximum(1, -(-o // 4))
    cases = (("mc-sf", inst), ("svf", inst), ("sorted-f", inst),
             ("a-max", inst.with_predictions(upper)), ("a-min", inst.with_predictions(lower)))
    for name, case in cases:
        times = []

        def timed(state, pol=POLICIES[name]):
            t0 = time.perf_counter()
            d = pol(state)
            times.append(time.perf_counter() - t0)
            return d
        t0 = time.perf_counter()
        sched = simulate(case, timed, name=name)
        wall = time.perf_counter() - t0
        check_schedule(case, sched)
        print(f"{name:9s} decisions {len(times):6d}  median {1e6 * np.median(times):8.0f} us  "
              f"mean {1e6 * np.mean(times):8.0f} us  wall {wall:6.2f} s  "
              f"total latency {sched.total_latency}  evictions {sched.evictions}")


if __name__ == "__main__":
    main()
