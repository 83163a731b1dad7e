"""Reading trace files into named columns (the public face is :mod:`kvtheory.model.traces`).

Three formats, chosen by the file name: CSV (any name not listed below), JSON lines
(``.jsonl``, ``.ndjson``, ``.json``: one object per line) and Parquet (``.parquet``, ``.pq``);
CSV and JSON lines may be gzip-compressed (``.gz`` appended).  Every file is read by pandas'
or pyarrow's C readers: CSV in chunks of lines (:mod:`kvtheory.model.trace_csv`) and JSON
lines in blocks of whole lines (:mod:`kvtheory.model.trace_jsonl`), each turned at once into
compact typed columns of only the columns used, and Parquet in record batches of only the
columns used.  Column checks go :data:`BLOCK` values at a time and return the typed columns
without copies where the dtype is already right.  When a fast reader fails or a column
check rejects a value, a careful reader (pandas with every cell a string, chunk by chunk; the
standard ``json`` module line by line; the Parquet values as Python objects) reads the file
again to name the first offending line (text formats) or row (Parquet) and column.  Nothing
here guesses: a malformed file raises a ``ValueError`` of one line.

A leading UTF-8 byte-order mark is ignored; blank lines are ignored in the text formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from kvtheory.model.trace_csv import TS, TS_HELP, csv_careful, csv_fast, csv_header
from kvtheory.model.trace_jsonl import JNum, jsonl_careful, jsonl_fast, jsonl_header, show

#: The largest token count (prompt, output, prediction) a trace may hold: sums over 10^6
#: requests stay far inside int64 and every count is exact as a float.
MAX_TOKENS = 10**9
#: Values checked at a time, so a check's temporaries do not grow with the file.
BLOCK = 1 << 16
_NAT = np.datetime64("NaT", "ns").view(np.int64)
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def file_format(path: Path) -> tuple[str, bool]:
    """``(format, gzipped)`` of a trace file from its name."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    if base.endswith(_PARQUET_SUFFIXES):
        if gz:
            raise ValueError(f"{path}: gzip-compressed Parquet is not supported (Parquet files "
                             f"compress internally); expected {path.name[:-3]}")
        return "parquet", False
    return ("jsonl" if base.endswith(_JSON_SUFFIXES) else "csv"), gz


# ===================================================================== the table of cells
@dataclass(frozen=True)
class Table:
    """Cells of the used columns (typed, or Python objects / strings), one location per row."""

    path: Path
    cells: pd.DataFrame
    lines: np.ndarray
    word: str = "line"
    careful: Callable[[], "Table"] | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return int(len(self.cells))

    def where(self, row: int) -> str:
        return f"{self.path} {self.word} {int(self.lines[row])}"

    def fail(self, row: int, message: str):
        raise ValueError(f"{self.where(row)}: {message}")

    def _typed(self, column: str) -> bool:
        return self.cells[column].dtype.kind in "iuf"

    def _again(self) -> "Table | None":
        return None if self.careful is None else self.careful()

    def is_datetime(self, column: str) -> bool:
        """Whether ``column`` holds datetimes: a timestamp type, or a first cell that is one."""
        col = self.cells[column]
        if col.dtype.kind == "M":
            return True
        if col.dtype.kind in "iufb" or not len(col):
            return False
        first = col.iloc[0]
        return isinstance(first, str) and not isinstance(first, JNum) \
            and TS.fullmatch(first.strip()) is not None

    def numbers(self, column: str, *, integer: bool, minimum: float | None = 0,
                maximum: float | None = None, hint: str = "") -> np.ndarray:
        """Column as int64 (``integer``) or float; the first bad cell raises naming its row.

        Integers must lie in ``[minimum, maximum or MAX_TOKENS]``; floats must be finite and
        within ``[minimum, maximum]`` where given.
        """
        top = MAX_TOKENS if integer and maximum is None else maximum
        col = self.cells[column]
        if col.dtype.kind == "M" and self.careful is not None:    # CSV: the cells as text
            return self.careful().numbers(column, integer=integer, minimum=minimum,
                                          maximum=maximum, hint=hint)
        if col.dtype.kind in "iuf":
            values = col.to_numpy()
            if self._all_ok(values, integer, minimum, top):
                want = np.int64 if integer else np.float64
                if values.dtype.kind == "i" or not integer:
                    return values.astype(want, copy=False)
                return values.astype(float, copy=False).astype(np.int64)
            again = self._again()
            if again is not None:
                return again.numbers(column, integer=integer, minimum=minimum, maximum=maximum,
                                     hint=hint)
            col = pd.Series(col.to_numpy(dtype=object))
        bad_type = col.map(lambda v: v is None or isinstance(v, (bool, np.bool_, dict, list)))
        if col.dtype.kind == "M":
            bad_type = pd.Series(True, index=col.index)
        num = pd.to_numeric(col.where(~bad_type.to_numpy(dtype=bool), "x"),
                            errors="coerce").to_numpy(dtype=float)
        ok = self._ok(num, integer, minimum, top)
        if not ok.all():
            i = int(np.argmin(ok))
            self.fail(i, self._why(column, col.iloc[i], num[i], integer, minimum, top, hint))
        return num.astype(np.int64) if integer else num

    @classmethod
    def _all_ok(cls, values, integer, minimum, top) -> bool:
        """Whether every value passes :meth:`_ok`, checked :data:`BLOCK` values at a time."""
        for start in range(0, values.size, BLOCK):
            num = values[start:start + BLOCK].astype(float, copy=False)
            if not cls._ok(num, integer, minimum, top).all():
                return False
        return True

    @staticmethod
    def _ok(num, integer, minimum, top) -> np.ndarray:
        ok = np.isfinite(num)
        with np.errstate(invalid="ignore"):
            if integer:
                ok &= num == np.floor(num)
            if minimum is not None:
                ok &= num >= minimum
            if top is not None:
                ok &= num <= top
        return ok

    @staticmethod
    def _why(column, cell, value, integer, minimum, top, hint) -> str:
        what = "an integer" if integer else ("a finite number" if minimum is None
                                             else f"a finite number >= {minimum:g}")
        text = show(cell)
        if isinstance(cell, str) and not isinstance(cell, JNum) and TS.fullmatch(cell.strip()):
            return f"column {column!r} must be {what}{hint}, got the datetime {text}"
        if not np.isfinite(value) or (integer and value != np.floor(value)):
            return f"column {column!r} must be {what}, got {text}"
        if minimum is not None and value < minimum:
            if not integer:
                return f"column {column!r} must be {what}, got {text}"
            tail = f" ({'negative' if value < 0 else 'too small'})"
            shown = str(int(value)) if abs(value) <= 2**53 else text
            return f"column {column!r} must be >= {minimum:g}, got {shown}{tail}"
        limit = f"{int(top)}" if integer else f"{top:g}"
        return f"column {column!r} must be <= {limit}, got {text}"

    def datetimes(self, column: str, *, hint: str = "") -> np.ndarray:
        """Column as int64 nanoseconds since the epoch (naive times are UTC)."""
        col = self.cells[column]
        if col.dtype == np.dtype("M8[ns]"):    # naive nanoseconds (UTC): no copy if no NaT
            ns = col.to_numpy().view(np.int64)
            if not any((ns[i:i + BLOCK] == _NAT).any() for i in range(0, ns.size, BLOCK)):
                return ns
        if col.dtype.kind == "M":
            stamps = pd.to_datetime(col, utc=True)
            if stamps.isna().any():
                self.fail(int(np.argmax(stamps.isna().to_numpy())),
                          f"column {column!r} has no timestamp (null){hint}")
            return stamps.astype("datetime64[ns, UTC]").astype("int64").to_numpy()
        if col.dtype.kind in "iufb":
            again = self._again()
            if again is not None:
                return again.datetimes(column, hint=hint)
            self.fail(0, f"unparsable timestamp {show(col.iloc[0])}: {TS_HELP}{hint}")
        text = col.map(lambda v: v.strip() if isinstance(v, str) and not isinstance(v, JNum)
                       else None)
        good = text.map(lambda v: isinstance(v, str) and TS.fullmatch(v) is not None)
        stamps = pd.to_datetime(text.where(good.to_numpy(dtype=bool)), format="ISO8601",
                                utc=True, errors="coerce")
        if stamps.isna().any():
            i = int(np.argmax(stamps.isna().to_numpy()))
            cell = col.iloc[i]
            number = _numeric(cell)
            self.fail(i, f"unparsable timestamp {show(cell)}: {TS_HELP}{hint if number else ''}")
        return stamps.astype("datetime64[ns, UTC]").astype("int64").to_numpy()


def _numeric(cell) -> bool:
    """Whether a cell holds a number (typed, a JSON number or numeric text)."""
    if isinstance(cell, (bool, np.bool_)) or cell is None:
        return False
    if isinstance(cell, (int, float, np.number)):
        return True
    try:
        float(cell)
    except (TypeError, ValueError):
        return False
    return True


# ===================================================================== sources
@dataclass(frozen=True)
class Source:
    """An opened trace file: its format, its column names and a reader of chosen columns."""

    path: Path
    format: str
    header: list[str]
    header_line: int | None
    reader: Callable[[Sequence[str], bool], Table] = field(repr=False)

    @property
    def at(self) -> str:
        """Where the header is, for messages (``"path line 1"``, or ``"path"`` for Parquet)."""
        return f"{self.path} line {self.header_line}" if self.header_line else f"{self.path}"

    def table(self, columns: Sequence[str], *, strict: bool) -> Table:
        """The used ``columns``; ``strict``: every field of every row must be present."""
        return self.reader(list(columns), strict)


def open_source(path, expected: str) -> Source:
    """Open ``path`` (any supported format); ``expected`` describes the header for messages."""
    path = Path(path)
    kind, gz = file_format(path)
    if kind == "parquet":
        return _parquet_source(path)
    if kind == "csv":
        header, line = csv_header(path, gz, expected)
        return Source(path, "csv", header, line,
                      lambda cols, strict: _csv_table(path, gz, header, list(cols), strict))
    header, line = jsonl_header(path, gz)
    return Source(path, "jsonl", header, line,
                  lambda cols, strict: _jsonl_table(path, gz, header, list(cols), strict))


def check_header(source: Source) -> None:
    """Duplicate column names are an error in every format."""
    h = source.header
    dup = sorted({c for c in h if h.count(c) > 1})
    if dup:
        raise ValueError(f"{source.at}: duplicate column(s) {', '.join(dup)}")


# ----------------------------------------------------------------- CSV
def _csv_table(path: Path, gz: bool, header: list[str], cols, strict) -> Table:
    """The used columns of a CSV file, read in chunks (:mod:`kvtheory.model.trace_csv`)."""
    def careful() -> Table:
        return Table(path, *csv_careful(path, gz, header, cols, strict))
    fast = csv_fast(path, gz, header, cols, strict)
    return careful() if fast is None else Table(path, *fast, careful=careful)


# ----------------------------------------------------------------- JSON lines
def _jsonl_table(path: Path, gz: bool, header: list[str], cols, strict) -> Table:
    """The used columns of a JSON-lines file, read in blocks (:mod:`kvtheory.model.trace_jsonl`)."""
    def careful() -> Table:
        return Table(path, *jsonl_careful(path, gz, header, cols, strict))
    fast = jsonl_fast(path, gz, header, cols, strict)
    return careful() if fast is None else Table(path, *fast, careful=careful)


# ----------------------------------------------------------------- Parquet
def _parquet_source(path: Path) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable Parquet file "
                         f"({' '.join(str(exc).split())})") from None
    header = list(pf.schema_arrow.names)
    if pf.metadata.num_rows == 0:
        raise ValueError(f"{path}: no data rows; expected at least one request")
    return Source(path, "parquet", header, None,
                  lambda cols, strict: _parquet_table(pf, path, cols))


def _parquet_table(pf, path: Path, cols) -> Table:
    import pyarrow as pa
    chunks = {c: [] for c in cols}
    try:
        for batch in pf.iter_batches(batch_size=1 << 18, columns=list(cols)):
            for c in cols:
                chunks[c].append(batch.column(c))
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path} is not a readable Parquet file "
                         f"({' '.join(str(exc).split())})") from None
    arrays = {c: pa.chunked_array(v) if v else pa.chunked_array([], pf.schema_arrow.field(c).type)
              for c, v in chunks.items()}
    n = len(next(iter(arrays.values())))
    rows = np.arange(1, n + 1)

    def careful() -> Table:                 # Python values (None for null); times stay typed
        return Table(path, pd.DataFrame({c: a.to_pandas() if pa.types.is_timestamp(a.type)
                                         else pd.Series(a.to_pylist(), dtype=object)
                                         for c, a in arrays.items()}), rows, "row")
    cells = {}
    for c, a in arrays.items():
        t = a.type
        if (a.null_count and not pa.types.is_timestamp(t)) or not (pa.types.is_integer(t) or pa.types.is_floating(t)
                                or pa.types.is_timestamp(t) or pa.types.is_string(t)
                                or pa.types.is_large_string(t)):
            return careful()
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            cells[c] = pd.Series(a.to_pylist(), dtype=object).map(str.strip)
        elif pa.types.is_timestamp(t):
            cells[c] = a.to_pandas()
        else:
            cells[c] = pd.Series(a.to_numpy())
    return Table(path, pd.DataFrame(cells), rows, "row", careful=careful)
