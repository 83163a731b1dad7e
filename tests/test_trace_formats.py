"""Trace files in every format (CSV, JSON lines, Parquet, gzip), any columns, time units, the
oversized-request rule, per-request output and serving figures; hostile files never crash."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import re
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kvtheory.cli import COMMON_KEYS, PER_REQUEST_COLUMNS, main
from kvtheory.engines.serving_metrics import requests_paper, serving_figures
from kvtheory.model.traces import MAX_TOKENS, load_trace, parse_columns

FORMATS = ("csv", "csv.gz", "jsonl", "jsonl.gz", "parquet")
# one hand-written trace: (time in ms, prompt, output, a column nobody uses), unsorted
ROWS = [(1500, 8, 2, "b"), (1000, 5, 3, "a"), (1500, 9, 1, "c")]
NAMES = ("t_ms", "in", "out", "user")
MAP = "arrival=t_ms,prompt=in,output=out"


def write_rows(path: Path, names, rows, *, bom=False, blank=False) -> Path:
    """Write rows (cells as Python values; None = absent) in the format of path's suffix."""
    kind = path.name.replace(".gz", "").rsplit(".", 1)[1]
    if kind == "parquet":
        cols = {n: [r[j] if j < len(r) else None for r in rows] for j, n in enumerate(names)}
        pq.write_table(pa.table(cols), path)
        return path
    if kind == "csv":
        lines = [",".join(names)] + [",".join("" if v is None else str(v) for v in r)
                                     for r in rows]
    else:
        lines = [json.dumps({n: v for n, v in zip(names, r) if v is not None}) for r in rows]
    if blank:
        lines = [lines[0], ""] + lines[1:] + ["  "]
    data = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    raw = data.encode()
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)
    return path


# ----------------------------------------------------------------- every format, same trace
@pytest.mark.parametrize("fmt", FORMATS)
def test_same_trace_in_every_format(tmp_path, fmt):
    p = write_rows(tmp_path / f"t.{fmt}", NAMES, ROWS, bom=fmt != "parquet",
                   blank=fmt != "parquet")
    tr = load_trace(p, columns=MAP, time_unit="ms")
    # sorted stably by time, relative to the first (1000 ms): 0, 0.5, 0.5 s
    assert tr.arrival_time.tolist() == [0.0, 0.5, 0.5] and tr.unit == "s"
    assert tr.prompt.tolist() == [5, 8, 9] and tr.output.tolist() == [3, 2, 1]
    # CSV: header, blank line, rows; JSON lines: row, blank line, rows; Parquet: rows
    lines = {"csv": [4, 3, 5], "jsonl": [3, 1, 4], "parquet": [2, 1, 3]}[fmt.split(".")[0]]
    assert tr.origin.tolist() == lines and tr.origin_word == ("row" if fmt == "parquet"
                                                              else "line")


@pytest.mark.parametrize("unit, want", [("s", [0.0, 500.0, 500.0]), ("ms", [0.0, 0.5, 0.5]),
                                        ("us", [0.0, 0.0005, 0.0005])])
def test_time_units(tmp_path, unit, want):
    tr = load_trace(write_rows(tmp_path / "t.jsonl", NAMES, ROWS), columns=MAP, time_unit=unit)
    assert tr.arrival_time.tolist() == pytest.approx(want, abs=1e-12)


def test_time_unit_round_and_prediction(tmp_path):
    p = write_rows(tmp_path / "t.csv", ("r", "s", "o", "pred"), [(7, 2, 3, 4), (5, 1, 1, 1)])
    tr = load_trace(p, columns={"arrival": "r", "prompt": "s", "output": "o",
                                "prediction": "pred"}, time_unit="round")
    assert tr.unit == "round" and tr.arrival_time.tolist() == [0.0, 2.0]
    assert tr.prediction.tolist() == [1, 4]
    with pytest.raises(ValueError, match="line 2: column 'r' must be an integer, got '1.5'"):
        load_trace(write_rows(tmp_path / "u.csv", ("r", "s", "o"), [(1.5, 1, 1)]),
                   columns="arrival=r,prompt=s,output=o", time_unit="round")


@pytest.mark.parametrize("fmt", FORMATS)
def test_datetimes_recognised(tmp_path, fmt):
    stamps = ["2024-05-10 00:00:01.5", "2024-05-10T00:00:00Z", "2024-05-10 02:00:03+02:00"]
    rows = [(t, 10, 2) for t in stamps]
    if fmt == "parquet":
        rows = [(pd.Timestamp(t).tz_convert(None) if pd.Timestamp(t).tzinfo else
                 pd.Timestamp(t), 10, 2) for t in stamps]
    tr = load_trace(write_rows(tmp_path / f"d.{fmt}", ("when", "p", "o"), rows),
                    columns="arrival=when,prompt=p,output=o")
    assert tr.arrival_time.tolist() == [0.0, 1.5, 3.0]
    with pytest.raises(ValueError, match="time unit 'ms' applies to numeric arrival columns; "
                                         "column 'when' holds datetimes"):
        load_trace(tmp_path / f"d.{fmt}", columns="arrival=when,prompt=p,output=o",
                   time_unit="ms")


@pytest.mark.parametrize("fmt", FORMATS)
def test_recognised_headers_in_every_format(tmp_path, fmt):
    p = write_rows(tmp_path / f"s.{fmt}", ("arrived_at", "num_prefill_tokens",
                                           "num_decode_tokens"), [(2.0, 4, 1), (1.5, 3, 2)])
    tr = load_trace(p)
    assert tr.arrival_time.tolist() == [0.0, 0.5] and tr.prompt.tolist() == [3, 4]
    p = write_rows(tmp_path / f"r.{fmt}", ("arrival", "prompt", "output"), [(0, 1, 2)])
    assert load_trace(p).unit == "round"
    # the seconds format with another time unit
    p = write_rows(tmp_path / f"m.{fmt}", ("arrival_time", "prompt", "output"),
                   [(0, 1, 1), (250, 1, 1)])
    assert load_trace(p, time_unit="ms").arrival_time.tolist() == [0.0, 0.25]


def test_parse_columns_errors():
    assert parse_columns("arrival=a,prompt=b,output=c,prediction=d")["prediction"] == "d"
    for bad, msg in [("arrival=a,prompt=b", "missing role.s. output"),
                     ("arrival=a,prompt=b,output=c,when=d", "unknown role 'when'"),
                     ("arrival=a,arrival=b,prompt=b,output=c", "role 'arrival' given twice"),
                     ("arrival:a", "expected arrival=NAME"), ("arrival=,prompt=b,output=c",
                                                               "needs a column name")]:
        with pytest.raises(ValueError, match=msg):
            parse_columns(bad)


# ----------------------------------------------------------------- malformed, by format
BAD = [  # (format, names, rows, kwargs, message)
    ("csv", NAMES, [(1, 2, 3, "a"), (1, 2)], {}, r"line 3: column 'out' is empty"),
    ("csv", NAMES, [(1, 2, 3, "a"), (1, 2, 3, "a", 9)], {}, r"line 3: expected 4 fields"),
    ("jsonl", NAMES, [(1, 2, 3, "a"), (1, 2)], {}, "line 2: missing field 'out'"),
    ("parquet", NAMES, [(1, 2, 3, "a"), (1, 2)], {}, "row 2: column 'out' must be an integer, "
                                                     "got null"),
    ("csv", NAMES, [(1, 10**20, 3, "a")], {}, f"line 2: column 'in' must be <= {MAX_TOKENS}, "
                                              f"got '100000000000000000000'"),
    ("jsonl", NAMES, [(1, 10**20, 3, "a")], {}, f"line 1: column 'in' must be <= {MAX_TOKENS}, "
                                                f"got 100000000000000000000"),
    ("parquet", NAMES, [(1, 2**62, 3, "a")], {}, f"row 1: column 'in' must be <= {MAX_TOKENS}, "
                                                 f"got {2**62}"),
    ("csv", NAMES, [(1, -10**20, 3, "a")], {}, "got '-100000000000000000000' .negative."),
    ("csv", NAMES, [(1, 2, 3, "a"), ("nan", 2, 3, "a")], {}, "line 3: column 't_ms' must be a "
                                                              "finite number, got 'nan'"),
    ("csv", NAMES, [(1, 2, 3, "a"), ("-inf", 2, 3, "a")], {}, "got '-inf'"),
    ("jsonl", NAMES, [(1, 2, 3, "a"), (float("inf"), 2, 3, "a")], {}, "line 2: .* got Infinity"),
    ("parquet", NAMES, [(1.0, 2, 3, "a"), (float("nan"), 2, 3, "a")], {}, "row 2: .* got nan"),
    ("csv", NAMES, [(1, 2, 3, "a"), ("2024-01-01 00:00:00", 2, 3, "a")], {},
     "line 3: column 't_ms' must be a finite number .the first row holds a number, so every "
     "row must., got the datetime '2024-01-01 00:00:00'"),
    ("jsonl", NAMES, [("2024-01-01 00:00:00", 2, 3, "a"), (12, 2, 3, "a")], {},
     "line 2: unparsable timestamp 12: .* .the first row holds a datetime"),
    ("csv", NAMES, [(1e300, 2, 3, "a"), (0, 2, 3, "a")], {"time_unit": "ms"},
     "line 2: column 't_ms' puts this request 1e.297 s after the first; at most 1e.09"),
    ("jsonl", NAMES, [(1, True, 3, "a")], {}, "line 1: column 'in' must be an integer, got true"),
    ("csv", NAMES, [(1, 2.5, 3, "a")], {}, "line 2: column 'in' must be an integer, got '2.5'"),
]


@pytest.mark.parametrize("fmt, names, rows, kwargs, message", BAD)
def test_malformed_rows(tmp_path, fmt, names, rows, kwargs, message):
    for suffix in ((fmt, fmt + ".gz") if fmt != "parquet" else (fmt,)):
        p = write_rows(tmp_path / f"bad.{suffix}", names, rows)
        with pytest.raises(ValueError, match=message):
            load_trace(p, columns=MAP, **kwargs)


@pytest.mark.parametrize("name, data, message", [
    ("e.csv", b"", "is empty: expected a header line"),
    ("e.csv.gz", gzip.compress(b"\n\n"), "is empty"),
    ("e.jsonl", b"\n  \n", "is empty: expected JSON lines"),
    ("e.jsonl.gz", gzip.compress(b""), "is empty"),
    ("a.jsonl", b'[{"t_ms": 1}]\n', "line 1: a JSON array; expected JSON lines"),
    ("b.jsonl", b'{"t_ms": 1, "in": 2, "out": 3}\nnot json\n', "line 2: not valid JSON"),
    ("c.jsonl", b'{"t_ms": 1, "in": 2, "out": 3}{"t_ms": 1}\n', "line 1: not valid JSON"),
    ("d.jsonl", b'{"t_ms": 1, "in": 2, "out": 3}\n7\n', "line 2: expected a JSON object, got 7"),
    ("x.csv.gz", b"plain text", "is not a readable gzip file"),
    ("x.parquet", b"", "is not a readable Parquet file"),
    ("x.parquet.gz", b"", "gzip-compressed Parquet is not supported"),
    ("u.csv", b"t_ms,in,out\n\xff,1,1\n", "is not UTF-8 text"),
])
def test_malformed_files(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=message):
        load_trace(tmp_path / name, columns=MAP)


def test_missing_mapped_column_and_empty_parquet(tmp_path):
    p = write_rows(tmp_path / "t.csv", NAMES, ROWS)
    with pytest.raises(ValueError, match=r"line 1: no column 'tm' \(arrival\); the file has "
                                         "columns t_ms, in, out, user"):
        load_trace(p, columns="arrival=tm,prompt=in,output=out")
    pq.write_table(pa.table({"t_ms": pa.array([], pa.float64()), "in": pa.array([], pa.int64()),
                             "out": pa.array([], pa.int64())}), tmp_path / "e.parquet")
    with pytest.raises(ValueError, match="no data rows"):
        load_trace(tmp_path / "e.parquet", columns=MAP)
    with pytest.raises(ValueError, match="time_unit must be one of s, ms, us, round"):
        load_trace(p, columns=MAP, time_unit="h")


# ----------------------------------------------------------------- the command line
def cli(*argv):
    """Run ``simulate`` in-process: (status, stdout, stderr, warnings)."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        code = main(["simulate", *map(str, argv)])
    return code, out.getvalue(), err.getvalue(), caught


USER = [(1000, 100, 20, "a"), (1250, 5000, 10, "b"), (1500, 50, 30, "c"), (1600, 4000, 1, "d")]


@pytest.mark.parametrize("engine", ["round", "timed", "paper"])
def test_done_when_jsonl_ms_oversized(tmp_path, engine):
    """Own column names, millisecond times, two oversized requests: gzipped or not, the same."""
    results = []
    for name in ("u.jsonl", "u.jsonl.gz"):
        p = write_rows(tmp_path / name, NAMES, USER)
        base = ["--trace", p, "--memory", 1000, "--columns", MAP, "--time-unit", "ms",
                "--engine", engine, "--round-seconds", 0.05, "--format", "json"]
        code, out, err, caught = cli(*base)
        assert code == 2 and out == "" and not caught
        need = "s+o+1=5011" if engine == "paper" else "s+o=5010"   # the published code's rule
        assert err == (f"error: 2 of 4 requests can never fit in M=1000 (the largest needs "
                       f"{need}, request 1 (line 2)); pass --memory {need[-4:]} or more, or "
                       f"--oversized drop to drop them\n")
        code, out, err, caught = cli(*base, "--oversized", "drop")
        assert code == 0 and err == "" and not caught
        (row,) = json.loads(out)
        assert row["n"] == 2 and row["dropped"] == 2 and set(COMMON_KEYS) <= set(row)
        row.pop("sim_seconds", None)                          # wall time of the run
        results.append(row)
    assert results[0] == results[1]


def test_per_request_file_by_hand(tmp_path):
    # trace_two.csv, paper engine, our exact rules: completions 137.5448 and 92.4194 ms (hand
    # computation in test_cli.test_paper_engine_two_requests_by_hand); both start at 0; the prompt batch
    # (B 2, P 3) ends at 46.774 ms: the first token of both.
    two = Path(__file__).parent / "data" / "trace_two.csv"
    f = tmp_path / "req.csv"
    code, out, err, _ = cli("--trace", two, "--memory", 100, "--engine", "paper",
                            "--format", "json", "--per-request", f, "--memory-timing", "exact",
                            "--event-order", "exact")
    assert code == 0 and err == ""
    (row,) = json.loads(out)
    table = pd.read_csv(f)
    assert tuple(table.columns) == PER_REQUEST_COLUMNS
    assert table["line"].tolist() == [2, 3] and table["evictions"].tolist() == [0, 0]
    assert (table["completion"] * 1000).round(4).tolist() == [137.5448, 92.4194]
    assert (table["first_token"] * 1000).round(4).tolist() == [46.774, 46.774]
    assert row["dropped"] == 0
    assert row["p50_latency_s"] == pytest.approx((0.1375448 + 0.0924194) / 2)
    assert row["avg_ttft_s"] == pytest.approx(0.046774) == row["p99_ttft_s"]
    # TPOT: request 0, 2 token steps after 46.774 ms: (137.5448 - 46.774) / 2; request 1,
    # one step: 92.4194 - 46.774; throughput: 3 output tokens in 137.5448 ms
    want = ((137.5448 - 46.774) / 2 + (92.4194 - 46.774)) / 2 / 1000
    assert row["avg_tpot_s"] == pytest.approx(want)
    assert row["throughput_tok_s"] == pytest.approx(3 / 0.1375448)


def test_round_engine_figures_by_hand(tmp_path):
    # trace_rounds.csv, M = 6, MC-SF (test_cli.test_round_engine_json_by_hand): starts 0, 2, 1,
    # latencies 2, 5, 1; first tokens in rounds 1, 3, 2 (TTFT 1, 3, 1).
    rounds = Path(__file__).parent / "data" / "trace_rounds.csv"
    f = tmp_path / "r.csv"
    code, out, _, _ = cli("--trace", rounds, "--memory", 6, "--format", "json",
                          "--per-request", f)
    (row,) = json.loads(out)
    assert code == 0 and row["p50_latency"] == 2.0 and row["avg_ttft"] == pytest.approx(5 / 3)
    assert row["avg_latency_s"] is None and row["dropped"] == 0
    assert pd.read_csv(f)["latency"].tolist() == [2, 5, 1]


def test_serving_figures_undefined():
    from kvtheory.engines.paper.engine import simulate_paper
    run = simulate_paper([2], [1], [0.0], memory=10)
    f = serving_figures(requests_paper(run))
    assert f["throughput_tok_s"] > 0 and f["avg_tpot_s"] is not None
    t = requests_paper(run).assign(latency=math.nan)
    assert set(serving_figures(t).values()) == {None}


def test_zero_tokens_and_all_dropped(tmp_path):
    p = write_rows(tmp_path / "z.csv", NAMES, [(0, 5, 0, "a"), (1, 5, 1, "b")])
    code, _, err, _ = cli("--trace", p, "--memory", 100, "--columns", MAP, "--engine", "paper")
    assert code == 2 and "1 of 2 requests have prompt or output 0 (the first: request 0 " \
                          "(line 2))" in err
    p = write_rows(tmp_path / "big.csv", NAMES, [(0, 500, 1, "a")])
    code, _, err, _ = cli("--trace", p, "--memory", 100, "--columns", MAP, "--engine", "paper",
                          "--oversized", "drop")
    assert code == 2 and "all of them" in err and err.count("\n") == 1


# ----------------------------------------------------------------- hostile files (hypothesis)
NUMBERS = st.one_of(st.integers(0, 40), st.integers(-3, 10**25),
                    st.floats(allow_nan=True, allow_infinity=True), st.just(2.5))
CELLS = st.one_of(NUMBERS, st.sampled_from(["", "abc", "2024-01-01 00:00:00", "1e400", " 7 ",
                                            "nan", "-inf", "2024-13-01 00:00:00"]))
ROW = st.lists(CELLS, min_size=2, max_size=4)       # fewer or more fields than the header (3)


def hostile_file(path: Path, rows, bom: bool, blank: bool, names) -> Path:
    if path.suffix == ".parquet":                    # typed columns: numbers or strings
        cols = {}
        for j, n in enumerate(names):
            vals = [r[j] if j < len(r) else None for r in rows]
            nums = all(v is None or (isinstance(v, (int, float)) and abs(v) < 2**62)
                       for v in vals)
            ints = nums and all(v is None or isinstance(v, int) for v in vals)
            cols[n] = (pa.array(vals, pa.int64()) if ints else
                       pa.array([None if v is None else float(v) for v in vals], pa.float64())
                       if nums else pa.array([None if v is None else str(v) for v in vals]))
        pq.write_table(pa.table(cols), path)
        return path
    if ".csv" in path.name:
        lines = [",".join(names)] + [",".join(str(v) for v in r) for r in rows]
    else:
        lines = [json.dumps(dict(zip(names + ("x",), r))) for r in rows]
    if blank:
        lines.insert(1, "")
    raw = (("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)
    return path


@pytest.mark.parametrize("engine", ["round", "timed", "paper"])
@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=0, max_size=4), bom=st.booleans(), blank=st.booleans(),
       unit=st.sampled_from([None, "s", "ms"]), drop=st.booleans(),
       memory=st.sampled_from([30, 80, 10**9]), mapped=st.booleans())
def test_hostile_files_never_crash(tmp_path, fmt, engine, rows, bom, blank, unit, drop, memory,
                                   mapped):
    """One line and exit 2, or a run in which every row is counted; never a traceback, a
    warning, or an overflowed number in the message.  Own columns or the seconds format."""
    names = ("t", "p", "o") if mapped else ("arrival_time", "prompt", "output")
    p = hostile_file(tmp_path / f"h.{fmt}", rows, bom, blank, names)
    argv = ["--trace", p, "--memory", memory, "--engine", engine, "--round-seconds", 0.5,
            "--format", "json"]
    argv += ["--columns", "arrival=t,prompt=p,output=o"] if mapped else []
    argv += ["--time-unit", unit] if unit else []
    argv += ["--oversized", "drop"] if drop else []
    code, out, err, caught = cli(*argv)
    assert not caught, [str(w.message) for w in caught]          # no warning escapes
    assert "Traceback" not in err
    if code == 2:
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1
        cells = [str(v) for r in rows for v in r]
        if not any(c.strip().startswith("-") for c in cells):
            assert not re.search(r"got -\d", err), err          # no overflowed value shown
    else:
        assert code == 0 and err == ""
        for row in json.loads(out):                             # nothing vanished silently
            assert row["n"] + row["dropped"] == len(rows)
