"""CSV traces are read in chunks of lines: the same trace and the same messages for every chunk
size, a malformed cell in a later chunk still named by its line, and no read of the whole file."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kvtheory.model import trace_csv
from kvtheory.model.traces import load_trace
from trace_files import ReadSpy, arrays, write

MAP = "arrival=t,prompt=p,output=o"
SIZES = (1, 7, trace_csv.CHUNK_ROWS)


def lines_of(n: int, *, blank_every: int = 0) -> list[str]:
    """Header and ``n`` rows ``t,p,o,user`` (times in ms, unsorted), blank lines sprinkled."""
    rng = np.random.default_rng(3)
    out = ["t,p,o,user"]
    for i in range(n):
        out.append(f"{int(rng.integers(0, 10**6))},{i % 97 + 1},{i % 13 + 1},u{i % 5}")
        if blank_every and i % blank_every == 0:
            out.append("  " if i % 2 else "")
    return out


def load(monkeypatch, path, rows, *, read_bytes=None, **kwargs):
    monkeypatch.setattr(trace_csv, "CHUNK_ROWS", rows)
    if read_bytes is not None:
        monkeypatch.setattr(trace_csv, "READ_BYTES", read_bytes)
    return load_trace(path, **kwargs)


def message(monkeypatch, path, rows, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load(monkeypatch, path, rows, **kwargs)
    return str(info.value)


# ----------------------------------------------------------------- the same trace
@pytest.mark.parametrize("name", ["c.csv", "c.csv.gz"])
def test_same_trace_for_every_chunk_size(tmp_path, monkeypatch, name):
    lines = lines_of(60, blank_every=9)
    lines[5] = lines[5].replace(",u", ',"u, quoted"', 1)       # a quoted field with a comma
    lines[12] = " " + lines[12].replace(",", " , ", 1)         # spaces around a cell
    p = write(tmp_path / name, lines, bom=True)
    got = [arrays(load(monkeypatch, p, rows, read_bytes=b, columns=MAP, time_unit="ms"))
           for rows in SIZES for b in (3, 64, 1 << 22)]
    assert all(g == got[0] for g in got)
    tr = load(monkeypatch, p, 7, columns=MAP, time_unit="ms")
    frame = pd.read_csv(p, skipinitialspace=True)
    assert tr.n == 60 and sorted(tr.prompt.tolist()) == sorted(frame["p"].tolist())
    # line numbers count the BOM-prefixed header and every blank line
    first = int(np.argmin(tr.arrival_time))
    assert lines[tr.origin[first] - 1].startswith(str(int(frame["t"].min())))


def test_same_datetimes_for_every_chunk_size(tmp_path, monkeypatch):
    stamps = [f"2024-05-10 00:{m:02d}:{s:02d}.{s * 1234567:07d}"[:27]
              for m in range(3) for s in range(0, 60, 7)]
    lines = ["TIMESTAMP,ContextTokens,GeneratedTokens"] + [
        f"{t}{'Z' if i % 3 else ''},{i + 1},{i % 4 + 1}" for i, t in enumerate(stamps)]
    p = write(tmp_path / "az.csv", lines[:1] + lines[:0:-1])        # newest first
    got = [arrays(load(monkeypatch, p, rows)) for rows in SIZES]
    assert got[0] == got[1] == got[2]
    assert got[0][0] == sorted(got[0][0]) and got[0][0][0] == 0.0
    assert got[0][1][:2] == [1, 2] and got[0][3][:2] == [len(lines), len(lines) - 1]


def test_numbers_as_text_in_a_later_chunk(tmp_path, monkeypatch):
    """A chunk whose column pandas reads as text (here ' 5 ') still gives the same numbers."""
    lines = ["arrival_time,prompt,output"] + [f"{i},{i + 1},2" for i in range(20)]
    lines[17] = "16, 17 ,2"
    p = write(tmp_path / "s.csv", lines)
    got = [arrays(load(monkeypatch, p, rows)) for rows in SIZES]
    assert got[0] == got[1] == got[2] and got[0][1][16] == 17


# ----------------------------------------------------------------- the same messages
BAD_LATE = [  # (line to replace (1-based), its new text, the message)
    (41, "5,x,1,u", "line 41: column 'p' must be an integer, got 'x'"),
    (41, "5,-3,1,u", r"line 41: column 'p' must be >= 0, got -3 \(negative\)"),
    (41, "5,1,,u", "line 41: column 'o' is empty"),
    (41, "5,1,1,u,9", r"line 41: expected 4 fields \(t,p,o,user\), found 5"),
    (41, "nan,1,1,u", "line 41: column 't' must be a finite number, got 'nan'"),
    (41, "2024-01-01 00:00:00,1,1,u", "line 41: column 't' must be a finite number .the first "
                                       "row holds a number, so every row must., got the datetime"),
    (41, '5,"1', "line 41: expected 4 fields|quoted field spans several lines|EOF inside"),
]


@pytest.mark.parametrize("line, text, want", BAD_LATE)
@pytest.mark.parametrize("name", ["b.csv", "b.csv.gz"])
def test_malformed_cell_in_a_later_chunk(tmp_path, monkeypatch, name, line, text, want):
    lines = lines_of(50)
    lines[line - 1] = text
    p = write(tmp_path / name, lines)
    got = {message(monkeypatch, p, rows, read_bytes=b, columns=MAP)
           for rows in SIZES for b in (5, 1 << 22)}
    assert len(got) == 1, got                           # one message for every chunk size
    assert re.search(want, got.pop())


def test_first_row_of_a_chunk_too_long(tmp_path, monkeypatch):
    """With 7 rows a chunk, line 16 opens the third chunk: pandas warns there, not errs."""
    lines = lines_of(30)
    lines[15] = "1,2,3,u,extra,more"
    p = write(tmp_path / "w.csv", lines)
    for rows in SIZES:
        assert message(monkeypatch, p, rows, columns=MAP).endswith(
            "w.csv line 16: expected 4 fields (t,p,o,user), found 6")


def test_whole_file_order_of_problems(tmp_path, monkeypatch):
    """An empty cell early and a too-long row late: the too-long row is named (as a read of
    the whole file would), however far apart the chunks."""
    lines = lines_of(40)
    lines[3] = "5,1,,u"
    lines[35] = "5,1,1,u,9"
    p = write(tmp_path / "o.csv", lines)
    for rows in SIZES:
        assert "line 36: expected 4 fields" in message(monkeypatch, p, rows, columns=MAP)


def test_quoted_field_across_chunks(tmp_path, monkeypatch):
    lines = lines_of(20)
    lines[6], lines[7] = '5,1,1,"u', 'v"'                  # one field over lines 7 and 8
    p = write(tmp_path / "q.csv", lines)
    for rows in SIZES:
        assert message(monkeypatch, p, rows, columns=MAP).endswith(
            "q.csv: a quoted field spans several lines; expected one request per line")


def test_datetime_then_number_in_a_later_chunk(tmp_path, monkeypatch):
    lines = ["when,p,o"] + [f"2024-01-01 00:00:{s:02d},1,1" for s in range(30)]
    lines[25] = "12,1,1"
    p = write(tmp_path / "d.csv", lines)
    for rows in SIZES:
        assert message(monkeypatch, p, rows, columns="arrival=when,prompt=p,output=o").endswith(
            "d.csv line 26: unparsable timestamp '12': expected YYYY-MM-DD HH:MM:SS[.fraction]"
            "[timezone] (the first row holds a datetime, so every row must)")


def test_utf8_error_names_the_byte_of_the_file(tmp_path, monkeypatch):
    lines = lines_of(30)
    p = write(tmp_path / "u.csv", lines, bom=True)
    data = p.read_bytes()
    at = data.index(b"\n", 200) + 1
    p.write_bytes(data[:at] + b"\xff" + data[at:])
    for b in (3, 64, 1 << 22):
        assert message(monkeypatch, p, 7, read_bytes=b, columns=MAP).endswith(
            f"u.csv is not UTF-8 text (invalid start byte at byte {at - 3}); expected a CSV file")


# ----------------------------------------------------------------- never the whole file
def test_pandas_sees_one_chunk_at_a_time(tmp_path, monkeypatch):
    """Every pandas call gets at most 7 data lines (fails if the file is parsed whole), and
    the file is read in blocks of READ_BYTES bytes."""
    seen, reads = [], []
    real_read_csv, real_open = pd.read_csv, trace_csv.gzip.open

    def spy_read_csv(buf, *args, **kwargs):
        seen.append(buf.getvalue().count("\n") + 1)
        return real_read_csv(buf, *args, **kwargs)

    monkeypatch.setattr(trace_csv.pd, "read_csv", spy_read_csv)
    monkeypatch.setattr(trace_csv.gzip, "open", lambda *a, **k: ReadSpy(real_open(*a, **k), reads))
    p = write(tmp_path / "big.csv.gz", lines_of(100, blank_every=11))
    tr = load(monkeypatch, p, 7, read_bytes=256, columns=MAP, time_unit="ms")
    assert tr.n == 100
    assert max(seen) <= 7 and len(seen) >= 1 + 100 // 7      # the header, then the chunks
    assert reads and all(n == 256 for n in reads) and len(reads) >= 8
    seen.clear()
    p = write(tmp_path / "bad.csv.gz", lines_of(100)[:90] + ["5,x,1,u"])
    with pytest.raises(ValueError, match="line 91: column 'p' must be an integer, got 'x'"):
        load(monkeypatch, p, 7, columns=MAP)
    assert max(seen) <= 7                                     # the careful re-read as well
