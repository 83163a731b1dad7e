"""Peak memory of loading 10^5-10^7-row CSV and JSON-lines traces; target: the reader's working memory does not grow.

What it measures: for each format and size, a random trace ``arrival,prompt,output`` (rounds;
seed 0, made with numpy and written in chunks of 10^6 rows, so writing never holds the whole
file; JSON lines: one object ``{"arrival": a, "prompt": p, "output": o}`` a line) is loaded by
:func:`kvtheory.load_trace` in a fresh Python process, which reports its peak resident memory
(``VmHWM`` of ``/proc/self/status``, reset when the process starts since a child inherits its
parent's) before and after the call.  The returned :class:`~kvtheory.Trace` itself is O(n):
four 8-byte arrays (arrival, prompt, output and each request's file line), 32 bytes a row,
305 MiB at 10^7 rows.  Reported per size: the file size, the baseline (interpreter, imports
and a warm-up load of a one-row file of the same format), the peak, the result's bytes, and
``peak - baseline - result``: the reader's own working memory.

Target: the reader's working memory does not grow with n: a bounded working set (a chunk of
text, its parsed frame, one block of checks) plus at most one O(n) transient (here the integer
arrival column while the float one is made).

Run::

    python benchmarks/bench_csv_memory.py [--formats csv jsonl] [--sizes 100000 1000000 10000000] [--format json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WRITE_ROWS = 10**6
CHILD = """
import json, sys, time
from pathlib import Path

def hwm_kb():
    # VmHWM, the peak resident set; reset first: a child inherits the parent's ru_maxrss
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import kvtheory
src = Path(sys.argv[1])                       # load pandas, pyarrow and the reader first
warm = src.with_name("warm" + src.suffix)
warm.write_text("arrival,prompt,output\\n0,1,1\\n" if src.suffix == ".csv"
                else '{"arrival": 0, "prompt": 1, "output": 1}\\n')
kvtheory.load_trace(warm)
Path("/proc/self/clear_refs").write_text("5")
base = hwm_kb()
t0 = time.perf_counter()
tr = kvtheory.load_trace(sys.argv[1])
wall = time.perf_counter() - t0
peak = hwm_kb()
result = sum(a.nbytes for a in (tr.arrival_time, tr.prompt, tr.output, tr.origin))
print(json.dumps({"n": tr.n, "base_kb": base, "peak_kb": peak, "result_bytes": result,
                  "wall_s": wall, "prompt_sum": int(tr.prompt.sum())}))
"""


def write_trace(path: Path, rows: int, seed: int = 0) -> int:
    """A random rounds trace of ``rows`` requests, written in chunks; returns the prompt sum.

    CSV if ``path`` ends in ``.csv``, else JSON lines.
    """
    rng = np.random.default_rng(seed)
    total, start = 0, 0
    csv = path.suffix == ".csv"
    with path.open("w") as f:
        if csv:
            f.write("arrival,prompt,output\n")
        while start < rows:
            k = min(WRITE_ROWS, rows - start)
            arrival = start // 50 + np.sort(rng.integers(0, WRITE_ROWS // 50, k))
            prompt = rng.integers(1, 4097, k)
            output = rng.integers(1, 1025, k)
            fmt = "%d,%d,%d" if csv else '{"arrival": %d, "prompt": %d, "output": %d}'
            np.savetxt(f, np.column_stack([arrival, prompt, output]), fmt=fmt)
            total += int(prompt.sum())
            start += k
    return total


def measure(rows: int, directory: Path, fmt: str = "csv") -> dict:
    path = directory / f"trace_{rows}.{fmt}"
    total = write_trace(path, rows)
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out)
    assert r["n"] == rows and r["prompt_sum"] == total
    mb = 1024.0                                   # VmHWM is in KiB
    row = {"format": fmt, "rows": rows, "file_mb": path.stat().st_size / 1e6,
           "baseline_mb": r["base_kb"] / mb, "peak_mb": r["peak_kb"] / mb,
           "result_mb": r["result_bytes"] / 2**20, "wall_s": r["wall_s"]}
    row["reader_mb"] = row["peak_mb"] - row["baseline_mb"] - row["result_mb"]
    row["reader_bytes_per_row"] = row["reader_mb"] * 2**20 / rows
    path.unlink()
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", nargs="+", choices=("csv", "jsonl"), default=["csv"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    ap.add_argument("--format", choices=("table", "json"), default="table")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    results = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for fmt, rows in ((f, n) for f in args.formats for n in args.sizes):
            results.append(measure(rows, Path(d), fmt))
            if args.format == "table":
                r = results[-1]
                print(f"{fmt:5s} {rows:>10,d} rows  file {r['file_mb']:7.1f} MB  peak {r['peak_mb']:7.1f}"
                      f" MB  baseline {r['baseline_mb']:6.1f} MB  result {r['result_mb']:6.1f} MB"
                      f"  reader {r['reader_mb']:6.1f} MB ({r['reader_bytes_per_row']:.0f} B/row)"
                      f"  {r['wall_s']:.1f} s", flush=True)
    command = ["python", "benchmarks/bench_csv_memory.py",
               *(sys.argv[1:] if argv is None else argv)]
    doc = {"benchmark": "csv_memory", "command": " ".join(command), "results": results,
           "python": sys.version.split()[0],
           "total_s": time.perf_counter() - t0,
           "note": "peak_mb: VmHWM (peak RSS) of a fresh process that loads the trace; result_mb: the "
                   "returned arrays (arrival, prompt, output, origin: 32 bytes a row); "
                   "reader_mb = peak - baseline - result"}
    text = json.dumps(doc, indent=2)
    if args.format == "json":
        print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
