"""MC-SF speed on 10,000 LMSYS-like requests with M = 16,492 (target: under a minute on one core).

Prints requests per second of the whole simulation and the median time of one admission
decision (one call of the policy).  Usage: ``python benchmarks/bench_mcsf.py [--n N] [--rate R]``.
"""

import argparse
import time

import numpy as np

from kvtheory import check_schedule, mc_sf, simulate
from kvtheory.model.workloads import lmsys_like


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=50.0, help="arrivals per round")
    ap.add_argument("--memory", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    inst = lmsys_like(np.random.default_rng(args.seed), args.n, rate=args.rate, memory=args.memory)
    times = []

    def timed(state):
        t0 = time.perf_counter()
        d = mc_sf(state)
        times.append(time.perf_counter() - t0)
        return d

    t0 = time.perf_counter()
    sched = simulate(inst, timed, name="mc-sf")
    wall = time.perf_counter() - t0
    check_schedule(inst, sched)
    print(f"requests            {inst.n}")
    print(f"prompt mean/median  {inst.prompt.mean():.2f} / {np.median(inst.prompt):.0f}")
    print(f"output mean/median  {inst.output.mean():.2f} / {np.median(inst.output):.0f}")
    print(f"rounds (makespan)   {sched.makespan}")
    print(f"decisions           {len(times)}")
    print(f"simulation time     {wall:.2f} s (target under 60 s: "
          f"{'met' if wall < 60 else 'MISSED'})")
    print(f"requests/second     {inst.n / wall:,.0f}")
    print(f"median decision     {1e6 * float(np.median(times)):.1f} us "
          f"(p99 {1e6 * float(np.quantile(times, 0.99)):.1f} us)")
    print(f"average latency     {sched.average_latency:.1f} rounds; peak memory "
          f"{sched.peak_memory} / {inst.memory}; checker passed")


if __name__ == "__main__":
    main()
