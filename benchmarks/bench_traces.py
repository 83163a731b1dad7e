"""Loading speed of :func:`kvtheory.model.traces.load_trace` on 10^6-row traces in every format.

What it measures: the wall and CPU seconds of one ``load_trace`` call (reading, checking every
cell, sorting by time) on a trace of ``--rows`` requests (default 10^6) with user column names
and millisecond arrival times (``columns=..., time_unit="ms"``, plus one unused string column),
written as JSON lines, gzipped JSON lines, Parquet, CSV and gzipped CSV; and the peak resident
memory of the process after all loads.  The trace is random (seed 0): Poisson arrivals at 50
per second, prompts 1-4096 and outputs 1-1024 tokens, uniform.

Target: a 10^6-row JSON-lines or Parquet trace loads in a few seconds (under 5 s wall on one
core of a 2-core machine).

Run::

    python benchmarks/bench_traces.py [--rows 1000000] [--out benchmarks/results/traces.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kvtheory.model.traces import load_trace

FORMATS = ("jsonl", "jsonl.gz", "parquet", "csv", "csv.gz")
COLUMNS = "arrival=ts_ms,prompt=input_tokens,output=output_tokens"


def make_frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """A random trace with the user's column names (times in milliseconds since the epoch)."""
    t = 1.7e12 + np.cumsum(rng.exponential(1000.0 / 50.0, rows))
    return pd.DataFrame({"ts_ms": np.round(t, 3), "input_tokens": rng.integers(1, 4097, rows),
                         "output_tokens": rng.integers(1, 1025, rows),
                         "user": np.char.add("u", rng.integers(0, 1000, rows).astype(str))})


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif ".jsonl" in path.name:
        frame.to_json(path, orient="records", lines=True,
                      compression="gzip" if path.suffix == ".gz" else None)
    else:
        frame.to_csv(path, index=False, compression="gzip" if path.suffix == ".gz" else None)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = ap.parse_args(argv)
    frame = make_frame(args.rows, np.random.default_rng(0))
    results = []
    with tempfile.TemporaryDirectory() as d:
        for fmt in args.formats:
            path = write(frame, Path(d) / f"trace.{fmt}")
            w0, c0 = time.perf_counter(), time.process_time()
            tr = load_trace(path, columns=COLUMNS, time_unit="ms")
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            assert tr.n == args.rows and int(tr.prompt.sum()) == int(frame.input_tokens.sum())
            row = {"format": fmt, "rows": args.rows, "mb": path.stat().st_size / 1e6,
                   "wall_s": wall, "cpu_s": cpu}
            results.append(row)
            print(f"{fmt:9s} {row['mb']:7.1f} MB  {wall:6.2f} s wall  {cpu:6.2f} s CPU",
                  flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (whole process, the frame and writers included)")
    if args.out:
        args.out.write_text(json.dumps({"results": results, "peak_rss_mb": rss,
                                        "python": sys.version.split()[0]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
