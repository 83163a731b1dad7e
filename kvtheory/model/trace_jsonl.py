"""JSON-lines trace files read in blocks of whole lines, so peak memory does not grow with the file.

Used by :mod:`kvtheory.model.trace_read`, which wraps the results in its ``Table``.  The file
(plain or gzip) is read as :mod:`kvtheory.model.trace_csv` reads CSV: blocks of
:data:`~kvtheory.model.trace_csv.READ_BYTES` decompressed bytes cut at the last newline, blank
lines dropped, every other line keeping its 1-based number.  :func:`jsonl_fast` hands each
block to pyarrow's JSON reader and turns it at once into compact typed columns of the used
columns (the same :class:`~kvtheory.model.trace_csv.Columns` as CSV); it gives up (returns
``None``) at anything unusual.  :func:`jsonl_careful` then reads the file again, line by line
with the standard ``json`` module, and names the first offending line.  Like the careful CSV
reader, it keeps the used values as Python objects, so it is meant for malformed files.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from kvtheory.model.trace_csv import Columns, compact, first_line, line_bound, pieces

KIND = "a JSON lines file"


class JNum(str):
    """A JSON number kept as its literal text (so a message shows exactly what the file says)."""


def show(value) -> str:
    """A cell as a message shows it: strings quoted, JSON numbers and typed values as written."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, JNum):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (np.integer, int)):
        return str(int(value))
    if isinstance(value, (np.floating, float)):
        return repr(float(value))
    return repr(value)


def json_object(path, line_no: int, line: str) -> dict:
    """The JSON object on one line (numbers kept as :class:`JNum`); anything else raises."""
    try:
        obj = json.loads(line, parse_float=JNum, parse_int=JNum, parse_constant=JNum)
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = getattr(exc, "msg", "nested too deeply")
        col = getattr(exc, "colno", None)
        where = f" at character {col}" if col else ""
        raise ValueError(f"{path} line {line_no}: not valid JSON ({msg}{where}); expected one "
                         f"object per line") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} line {line_no}: expected a JSON object, got {show(obj)}")
    return obj


def jsonl_header(path: Path, gz: bool) -> tuple[list[str], int]:
    """The fields of the first object and its line number; an empty file or an array raises."""
    first, number = first_line(path, gz, KIND, "expected JSON lines (one object per line)")
    if first.lstrip().startswith("["):
        raise ValueError(f"{path} line {number}: a JSON array; expected JSON lines (one object "
                         f"per line, no enclosing brackets)")
    return list(json_object(path, number, first)), number


# ===================================================================== the fast reader
def jsonl_fast(path: Path, gz: bool, header: Sequence[str], cols: Sequence[str],
               strict: bool) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Compact typed columns ``cols`` and the line of each row, or ``None`` if anything is odd.

    Odd: a block pyarrow cannot read, a missing or null value, other fields than the first
    line's (``strict``), a value that is not a number, a string or a timestamp, a string that
    is not a number (or not a datetime, in a column whose first row holds one).
    """
    import pyarrow as pa
    import pyarrow.json as pj
    acc = Columns(line_bound(path, gz))
    kinds: dict[str, str] = {}
    for lines, nums in pieces(path, gz, KIND):
        data = "\n".join(lines).encode("utf-8")
        del lines
        try:
            tab = pj.read_json(io.BytesIO(data),
                               read_options=pj.ReadOptions(block_size=len(data) + 1))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            return None
        del data
        names = tab.column_names
        if tab.num_rows != nums.size or (strict and not set(names) <= set(header)) \
                or any(c not in names for c in cols):
            return None
        values = {}
        for c in cols:
            values[c] = _arrow_compact(tab.column(c), kinds, c)
            if values[c] is None:
                return None
        del tab
        acc.add(values, nums)
    if not acc.n:
        return None
    return acc.frame([c for c in cols if kinds[c] == "time"])


def _arrow_compact(col, kinds: dict, name: str) -> np.ndarray | None:
    """A block of a pyarrow column as numbers or int64 nanoseconds (see :func:`compact`)."""
    import pyarrow as pa
    t = col.type
    if col.null_count:
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return compact(pd.Series(col.to_numpy()), kinds, name)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return compact(pd.Series(col.to_pylist(), dtype=object), kinds, name)
    if pa.types.is_timestamp(t):
        if kinds.setdefault(name, "time") != "time":
            return None
        stamps = pd.to_datetime(col.to_pandas(), utc=True)
        return stamps.astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    return None


# ===================================================================== the careful reader
def jsonl_careful(path: Path, gz: bool, header: Sequence[str], cols: Sequence[str],
                  strict: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Every used value as a Python object (strings stripped), and each row's line.

    The first line that is not a JSON object, has a field the first line lacks (``strict``)
    or lacks a used field raises, naming its line.
    """
    known = set(header)
    values: dict[str, list] = {c: [] for c in cols}
    where = []
    for lines, nums in pieces(path, gz, KIND):
        for line, k in zip(lines, nums.tolist()):
            obj = json_object(path, k, line)
            if strict:
                extra = [key for key in obj if key not in known]
                if extra:
                    raise ValueError(f"{path} line {k}: unknown field(s) {', '.join(extra)}; "
                                     f"expected the fields of the first line, {','.join(header)}")
            for c in cols:
                if c not in obj:
                    raise ValueError(f"{path} line {k}: missing field {c!r}")
                v = obj[c]
                values[c].append(v.strip() if isinstance(v, str) and not isinstance(v, JNum)
                                 else v)
        where.append(nums)
    cells = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in values.items()})
    return cells, np.concatenate(where) if where else np.zeros(0, dtype=np.int64)
