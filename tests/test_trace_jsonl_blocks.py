"""JSON-lines traces are read in blocks of whole lines: the same trace for every block size, a
malformed value in a later block still named by its line, and no read of the whole file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow.json as pj
import pytest

from kvtheory.model import trace_csv, trace_jsonl
from kvtheory.model.traces import load_trace
from trace_files import ReadSpy, arrays, write

MAP = "arrival=t,prompt=p,output=o"
BLOCKS = (3, 64, 256, 1 << 22)


def lines_of(n: int, *, blank_every: int = 0) -> list[str]:
    """``n`` objects ``t, p, o, user`` (times in ms, unsorted), blank lines sprinkled."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        out.append(json.dumps({"t": int(rng.integers(0, 10**6)), "p": i % 97 + 1,
                               "o": i % 13 + 1, "user": f"u{i % 5}"}))
        if blank_every and i % blank_every == 0:
            out.append("  " if i % 2 else "")
    return out


def load(monkeypatch, path, read_bytes, **kwargs):
    monkeypatch.setattr(trace_csv, "READ_BYTES", read_bytes)
    return load_trace(path, **kwargs)


def message(monkeypatch, path, read_bytes, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load(monkeypatch, path, read_bytes, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("name", ["j.jsonl", "j.jsonl.gz"])
def test_same_trace_for_every_block_size(tmp_path, monkeypatch, name):
    lines = lines_of(60, blank_every=9)
    lines[4] = lines[4].replace('"p": ', '"p": " ', 1).replace(', "o"', ' ", "o"', 1)  # " 5 "
    p = write(tmp_path / name, lines, bom=True)
    got = [arrays(load(monkeypatch, p, b, columns=MAP, time_unit="ms")) for b in BLOCKS]
    assert all(g == got[0] for g in got)
    tr = load(monkeypatch, p, 64, columns=MAP, time_unit="ms")
    rows = [json.loads(s) for s in lines if s.strip()]
    assert tr.n == 60 and sorted(tr.prompt.tolist()) == sorted(int(r["p"]) for r in rows)
    first = int(np.argmin(tr.arrival_time))            # line numbers count every blank line
    assert json.loads(lines[tr.origin[first] - 1])["t"] == min(r["t"] for r in rows)


BAD_LATE = [  # (line to replace (1-based), its new text, the message)
    (91, '{"t": 5, "p": "x", "o": 1, "user": "u"}',
     "line 91: column 'p' must be an integer, got 'x'"),
    (91, '{"t": 5, "p": -3, "o": 1, "user": "u"}',
     r"line 91: column 'p' must be >= 0, got -3 \(negative\)"),
    (91, '{"t": 5, "p": 1, "user": "u"}', "line 91: missing field 'o'"),
    (91, '{"t": 5, "p": 1, "o": null, "user": "u"}',
     "line 91: column 'o' must be an integer, got null"),
    (91, '{"t": 5, "p": 1, "o": 1, "user": "u"', "line 91: not valid JSON"),
    (91, "[5, 1, 1]", r"line 91: expected a JSON object, got \['5', '1', '1'\]"),
]


@pytest.mark.parametrize("line, text, want", BAD_LATE)
@pytest.mark.parametrize("name", ["b.jsonl", "b.jsonl.gz"])
def test_malformed_value_in_a_later_block(tmp_path, monkeypatch, name, line, text, want):
    lines = lines_of(100)
    lines[line - 1] = text
    p = write(tmp_path / name, lines)
    got = {message(monkeypatch, p, b, columns=MAP) for b in BLOCKS}
    assert len(got) == 1, got                           # one message for every block size
    msg = got.pop()
    assert re.search(want, msg), msg
    assert msg.startswith(f"{p} line {line}:")


def test_pyarrow_sees_one_block_at_a_time(tmp_path, monkeypatch):
    """Every pyarrow call gets one block of whole lines (fails if the file is parsed whole),
    and the file is read in blocks of READ_BYTES bytes."""
    seen, reads = [], []
    real_read_json, real_open = pj.read_json, trace_csv.gzip.open

    def spy_read_json(buf, *args, **kwargs):
        data = buf.getvalue()
        seen.append((len(data), data.count(b"\n") + 1))
        return real_read_json(buf, *args, **kwargs)

    monkeypatch.setattr(pj, "read_json", spy_read_json)
    monkeypatch.setattr(trace_csv.gzip, "open", lambda *a, **k: ReadSpy(real_open(*a, **k), reads))
    lines = lines_of(100, blank_every=11)
    p = write(tmp_path / "big.jsonl.gz", lines)
    tr = load(monkeypatch, p, 256, columns=MAP, time_unit="ms")
    assert tr.n == 100
    longest = max(len(s) for s in lines) + 1
    assert seen and max(n for n, _ in seen) <= 256 + longest and len(seen) >= 10
    assert sum(k for _, k in seen) == 100                    # every object parsed once
    assert reads and all(n == 256 for n in reads) and len(reads) >= 8
    seen.clear()
    lines[90] = '{"t": 5, "p": "x", "o": 1, "user": "u"}'
    p = write(tmp_path / "bad.jsonl.gz", lines)
    with pytest.raises(ValueError, match=r"line 91: column 'p' must be an integer, got 'x'"):
        load(monkeypatch, p, 256, columns=MAP)
    assert seen and max(n for n, _ in seen) <= 256 + longest


def test_utf8_error_names_the_byte_of_the_file(tmp_path, monkeypatch):
    p = write(tmp_path / "u.jsonl", lines_of(30), bom=True)
    data = p.read_bytes()
    at = data.index(b"\n", 200) + 1
    p.write_bytes(data[:at] + b"\xff" + data[at:])
    for b in BLOCKS:
        assert message(monkeypatch, p, b, columns=MAP).endswith(
            f"u.jsonl is not UTF-8 text (invalid start byte at byte {at - 3}); expected a JSON "
            f"lines file")


def test_reader_module_reads_no_whole_file():
    """The JSON-lines reader never reads a file whole (no read_bytes / read_text / read())."""
    source = Path(trace_jsonl.__file__).read_text()
    assert not re.search(r"read_bytes|read_text|\.read\(\)", source)
