"""CSV trace files read in chunks of lines, so peak memory does not grow with the file's text.

Used by :mod:`kvtheory.model.trace_read`, which wraps the results in its ``Table``.  The file
(plain or gzip) is read in blocks of bytes, decoded and cut into lines; blank lines are
dropped and every other line keeps its 1-based number.  The data lines go to pandas' C parser
:data:`CHUNK_ROWS` at a time (a chunk is extended while it holds an odd number of ``"``, so a
quoted field never straddles two chunks).  Each chunk is converted at once to compact typed
columns (``float64``/``int64`` numbers, ``datetime64[ns]`` datetimes) of the used columns
only and written into arrays allocated once (:class:`Columns`, sized by a first pass that
counts the file's lines); the text, the other columns and the parsed frame of a chunk are
dropped before the next.  Whether a column holds datetimes is decided by its first data row.
The JSON-lines reader (:mod:`kvtheory.model.trace_jsonl`) shares the block reader and
:class:`Columns`.

:func:`csv_fast` gives up (returns ``None``) at anything unusual; :func:`csv_careful` then
reads the file again, chunk by chunk, with every cell a string and names the first offending
line.  The careful reader keeps the used cells as Python strings (memory proportional to the
file), so it is meant for malformed files; it stops keeping them once a problem is found.
Line numbers assume no quoted field spans two lines (such a field is an error).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
import zlib
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

TS = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?"
                r"\s*(Z|[+-]\d{2}:?\d{2})?")
TS_HELP = "expected YYYY-MM-DD HH:MM:SS[.fraction][timezone]"
#: Data lines handed to pandas at a time (a chunk may be longer to close a quoted field).
CHUNK_ROWS = 1 << 16
#: Bytes read from the (decompressed) file at a time.
READ_BYTES = 1 << 21
_BOM = b"\xef\xbb\xbf"
_BLANK = re.compile(r"(?m)^[^\S\n]*$")

Chunk = tuple[list[str], np.ndarray]          # non-blank lines and their 1-based numbers


# ===================================================================== lines of the file
def _blocks(path: Path, gz: bool) -> Iterator[bytes]:
    """The (decompressed) bytes of the file, :data:`READ_BYTES` at a time; ``b""`` ends it."""
    with (gzip.open if gz else open)(path, "rb") as f:
        while True:
            try:
                block = f.read(READ_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                raise ValueError(f"{path} is not a readable gzip file ({exc})") from None
            yield block
            if not block:
                return


def line_bound(path: Path, gz: bool) -> int:
    """An upper bound on the number of lines of the file (its newlines plus one)."""
    return 1 + sum(block.count(b"\n") for block in _blocks(path, gz))


def pieces(path: Path, gz: bool, kind: str = "a CSV file") -> Iterator[Chunk]:
    """The non-blank lines of the file, a block of bytes at a time, with their numbers.

    ``kind`` names the expected format in the message for text that is not UTF-8.
    """
    offset, number, rest, start = 0, 1, b"", True
    for block in _blocks(path, gz):
        data = rest + block
        if start and (len(data) >= len(_BOM) or not block):
            start = False
            if data.startswith(_BOM):
                data = data[len(_BOM):]
        elif start:                             # fewer than 3 bytes so far: read on
            rest = data
            continue
        cut = data.rfind(b"\n") + 1 if block else len(data)
        piece, rest = data[:cut], data[cut:]
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte "
                             f"{offset + exc.start}); expected {kind}") from None
        offset += len(piece)
        if text:
            body = text[:-1] if text.endswith("\n") else text
            lines = body.split("\n")
            if _BLANK.search(body) is None:
                nums = np.arange(number, number + len(lines), dtype=np.int64)
            else:
                keep = [i for i, s in enumerate(lines) if s.strip()]
                lines = [lines[i] for i in keep]
                nums = number + np.array(keep, dtype=np.int64)
            number += body.count("\n") + 1
            if lines:
                yield lines, nums


class Columns:
    """Typed columns filled chunk by chunk into arrays allocated once, for at most ``bound`` rows.

    Each column takes the dtype of its first chunk (``int64`` for integers, else ``float64``;
    a later float chunk turns an integer column into floats, once).  Pages past the rows
    written are never touched, so an over-estimate of ``bound`` costs no resident memory.
    """

    def __init__(self, bound: int):
        self.bound, self.n = int(bound), 0
        self.data: dict[str, np.ndarray] = {}
        self.lines = np.empty(self.bound, dtype=np.int64)

    def add(self, values: dict[str, np.ndarray], nums: np.ndarray) -> None:
        """Append one chunk: an array per column and the chunk's line numbers."""
        n, k = self.n, nums.size
        if n + k > self.bound:                  # not reached with a true bound: double
            self.bound = max(2 * self.bound, n + k)
            self.lines = _moved(self.lines, n, self.bound, np.int64)
            self.data = {c: _moved(a, n, self.bound, a.dtype) for c, a in self.data.items()}
        for c, v in values.items():
            kind = np.int64 if v.dtype.kind == "i" else np.float64
            buf = self.data.get(c)
            if buf is None:
                buf = self.data[c] = np.empty(self.bound, dtype=kind)
            elif buf.dtype == np.int64 and kind is np.float64:
                buf = self.data[c] = _moved(buf, n, self.bound, np.float64)
            buf[n:n + k] = v
        self.lines[n:n + k] = nums
        self.n = n + k

    def frame(self, times: Sequence[str] = ()) -> tuple[pd.DataFrame, np.ndarray]:
        """The columns written (``times``: int64 nanoseconds, shown as ``datetime64[ns]``)."""
        n = self.n
        cells = {c: a[:n].view("M8[ns]") if c in times else a[:n] for c, a in self.data.items()}
        return pd.DataFrame(cells, copy=False), self.lines[:n]


def _moved(a: np.ndarray, n: int, size: int, dtype) -> np.ndarray:
    out = np.empty(size, dtype=dtype)
    out[:n] = a[:n]
    return out


def first_line(path: Path, gz: bool, kind: str, empty: str) -> tuple[str, int]:
    """The file's first non-blank line and its number; an empty file raises ``empty``."""
    chunks = pieces(path, gz, kind)
    try:
        lines, nums = next(chunks)
    except StopIteration:
        raise ValueError(f"{path} is empty: {empty}") from None
    finally:
        chunks.close()
    return lines[0], int(nums[0])


def csv_header(path: Path, gz: bool, expected: str) -> tuple[list[str], int]:
    """The header (stripped names) and its line number; an empty file raises."""
    line, number = first_line(path, gz, "a CSV file", f"expected a header line {expected}")
    first = pd.read_csv(io.StringIO(line), header=None, nrows=1, dtype=str,
                        keep_default_na=False)
    return [c.strip() for c in first.iloc[0]], number


def _chunks(path: Path, gz: bool) -> Iterator[Chunk]:
    """The data lines (after the header) in chunks of about :data:`CHUNK_ROWS` lines."""
    rows = max(1, int(CHUNK_ROWS))
    lines: list[str] = []
    nums = np.zeros(0, dtype=np.int64)
    header = True
    for new, new_nums in pieces(path, gz):
        if header:                              # the first non-blank line is the header
            new, new_nums, header = new[1:], new_nums[1:], False
        lines += new
        nums = np.concatenate([nums, new_nums])
        while len(lines) >= rows:
            k = _closed(lines, rows)
            if k is None:                       # a quote is open: wait for more lines
                break
            yield lines[:k], nums[:k]
            del lines[:k]
            nums = nums[k:]
    while lines:
        k = _closed(lines, min(rows, len(lines))) or len(lines)
        yield lines[:k], nums[:k]
        del lines[:k]
        nums = nums[k:]


def _closed(lines: list[str], k: int) -> int | None:
    """The least ``j >= k`` such that ``lines[:j]`` holds an even number of ``"``."""
    odd = sum(s.count('"') for s in lines[:k]) % 2
    while odd:
        if k >= len(lines):
            return None
        odd ^= lines[k].count('"') % 2
        k += 1
    return k


def _read(text: str, header: Sequence[str], **options) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a too-long first row: pandas would warn
        return pd.read_csv(io.StringIO(text), header=None, names=list(header),
                           index_col=False, **options)


# ===================================================================== the fast reader
def csv_fast(path: Path, gz: bool, header: Sequence[str], cols: Sequence[str],
             strict: bool) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Compact typed columns ``cols`` and the line of each row, or ``None`` if anything is odd.

    Odd: a row of the wrong length, an empty cell (in any column if ``strict``), a quoted
    field over several lines, a cell that is not a number (or not a datetime, in a column
    whose first row holds one), no data rows.
    """
    acc = Columns(line_bound(path, gz))
    kinds: dict[str, str] = {}
    for lines, nums in _chunks(path, gz):
        try:
            raw = _read("\n".join(lines), header, skipinitialspace=True,
                        keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, Warning):
            return None
        used = raw if strict else raw[list(cols)]
        if len(raw) != nums.size or used.isna().to_numpy().any():
            return None
        values = {}
        for c in cols:
            values[c] = compact(raw[c], kinds, c)
            if values[c] is None:
                return None
        del raw, used
        acc.add(values, nums)
    if not acc.n:
        return None
    return acc.frame([c for c in cols if kinds[c] == "time"])


def compact(col: pd.Series, kinds: dict, name: str) -> np.ndarray | None:
    """A chunk of a column as float/int numbers or int64 nanoseconds (``kinds[name]``)."""
    typed = col.dtype.kind in "iuf"
    if name not in kinds:                       # the first row decides, as for every format
        first = None if typed else str(col.iloc[0]).strip()
        kinds[name] = "time" if first is not None and TS.fullmatch(first) else "number"
    if col.dtype.kind == "b":
        return None
    if kinds[name] == "number":
        if typed:
            return col.to_numpy()
        text = col.astype(object).map(lambda v: str(v).strip())
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    if typed:
        return None
    text = col.astype(object).map(lambda v: str(v).strip())
    good = text.map(lambda v: TS.fullmatch(v) is not None)
    stamps = pd.to_datetime(text.where(good.to_numpy(dtype=bool)), format="ISO8601", utc=True,
                            errors="coerce")
    if stamps.isna().any():
        return None
    return stamps.astype("datetime64[ns, UTC]").astype("int64").to_numpy()


# ===================================================================== the careful reader
def csv_careful(path: Path, gz: bool, header: Sequence[str], cols: Sequence[str],
                strict: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Every used cell as a stripped string, and each row's line; problems raise by line.

    In the order of a whole-file read: a row with too many fields (anywhere), a quoted field
    over several lines, no data rows, then the first short row (``strict``) or empty used
    cell.  Rows whose cells are all empty count as blank.
    """
    width = f"expected {len(header)} fields ({','.join(header)})"
    parts: dict[str, list] = {c: [] for c in cols}
    where: list[np.ndarray] = []
    spans, problem = False, None
    for lines, nums in _chunks(path, gz):
        try:
            raw = _read("\n".join(lines), header, dtype=str, keep_default_na=False)
        except pd.errors.ParserWarning:         # pandas would drop the extra fields: name them
            k, found = _too_long(lines, nums, len(header))
            raise ValueError(f"{path} line {k}: {width}, found {found}") from None
        except pd.errors.ParserError as exc:
            m = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
            if m is None or not 0 < int(m[1]) <= nums.size:
                raise ValueError(f"{path}: {_whole_file(str(exc), nums)}") from None
            raise ValueError(f"{path} line {nums[int(m[1]) - 1]}: {width}, found "
                             f"{m[2]}") from None
        if len(raw) != nums.size:
            spans = True
        if spans or problem is not None:        # keep looking for a row of the wrong length
            continue
        cells = raw.astype(object).apply(lambda col: col.map(lambda v: str(v).strip()))
        filled = (cells != "").to_numpy()
        keep = filled.any(axis=1)               # rows of empty cells count as blank
        filled, nums = filled[keep], nums[keep]
        if strict:
            short = np.flatnonzero(~filled[:, -1])
            if short.size:
                i = int(short[0])
                n = int(np.flatnonzero(filled[i])[-1]) + 1
                problem = f"{path} line {nums[i]}: {width}, found {n} non-empty"
        else:
            used = filled[:, [list(header).index(c) for c in cols]]
            empty = np.flatnonzero(~used.all(axis=1))
            if empty.size:
                i = int(empty[0])
                c = cols[int(np.argmin(used[i]))]
                problem = (f"{path} line {nums[i]}: column {c!r} is empty (or the row has "
                           f"fewer fields than the {len(header)} of the header)")
        for c in cols:
            parts[c].append(cells[c].to_numpy()[keep])
        where.append(nums)
    if spans:
        raise ValueError(f"{path}: a quoted field spans several lines; expected one request "
                         f"per line")
    if not sum(w.size for w in where):
        raise ValueError(f"{path}: no data rows after the header; expected at least one request")
    if problem is not None:
        raise ValueError(problem)
    cells = pd.DataFrame({c: np.concatenate(parts[c]) for c in cols}, dtype=object)
    return cells, np.concatenate(where)


def _whole_file(message: str, nums: np.ndarray) -> str:
    """pandas' message on one line, a chunk's row (0-based) made the file's (0-based) line."""
    def row(m: re.Match) -> str:
        r = int(m[2])
        return f"{m[1]}{nums[r] - 1 if r < nums.size else r}"
    return re.sub(r"(starting at row )(\d+)", row, " ".join(message.split()))


def _too_long(lines: list[str], nums: np.ndarray, width: int) -> tuple[int, int]:
    """The first row with more than ``width`` fields: its first line and its field count."""
    reader = csv.reader(lines)
    start = 0
    for row in reader:
        if len(row) > width:
            return int(nums[start]), len(row)
        start = reader.line_num
    return int(nums[0]), width + 1              # not reached: pandas saw such a row
