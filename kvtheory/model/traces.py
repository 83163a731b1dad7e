"""Request traces from files: the project's CSV formats, the Azure trace and Splitwise/Vidur's.

:func:`load_trace` recognises a file by its header (:data:`HEADERS`): the project CSV with
arrivals in rounds or in seconds, the Azure LLM inference trace (Patel et al., *Splitwise*,
ISCA 2024, https://github.com/Azure/AzurePublicDataset) and the processed trace Microsoft's
Vidur simulator reads (arrival in seconds); it returns a :class:`Trace`.
:func:`load_instance_csv` reads the rounds format straight into an :class:`~kvtheory.Instance`.

Files are read with pandas; every malformed cell raises a ``ValueError`` naming the file, the
line number and the column.  Line numbers assume no quoted field spans two lines.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from kvtheory.model.validation import as_int, check_fits
from kvtheory.model.instance import Instance

__all__ = ["Trace", "HEADERS", "load_trace", "load_instance_csv", "load_trace_csv",
           "load_azure_trace", "load_splitwise_trace", "parse_timestamp", "save_trace_csv"]

#: Accepted headers by format (``[...]`` marks an optional column).
HEADERS = {
    "rounds": "arrival,prompt,output[,prediction]",
    "seconds": "arrival_time,prompt,output[,prediction]",
    "azure": "TIMESTAMP,ContextTokens,GeneratedTokens",
    "splitwise": "arrived_at,num_prefill_tokens,num_decode_tokens",
}
_TS = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?"
                 r"\s*(Z|[+-]\d{2}:?\d{2})?")
_TS_HELP = "expected YYYY-MM-DD HH:MM:SS[.fraction][timezone]"


# ===================================================================== reading
@dataclass(frozen=True)
class _Table:
    """Stripped string cells of a CSV, named by its header, with the file line of each row."""

    path: Path
    cells: pd.DataFrame
    lines: np.ndarray
    careful: Callable[[], "_Table"] | None = field(default=None, compare=False, repr=False)

    def fail(self, row: int, message: str):
        raise ValueError(f"{self.path} line {int(self.lines[row])}: {message}")

    def numbers(self, column: str, *, integer: bool, minimum: int = 0) -> np.ndarray:
        """Column as int64 (``integer``) or float; the first bad cell raises naming its line."""
        text = self.cells[column]
        if self.careful is not None and text.dtype.kind in "iuf":   # typed by the fast reader
            num = text.to_numpy(dtype=float)
            ok = np.isfinite(num) & ((num == np.floor(num)) if integer else (num >= 0))
            if ok.all():
                values = num.astype(np.int64) if integer else num
                if not integer or not (values < minimum).any():
                    return values
            return self.careful().numbers(column, integer=integer, minimum=minimum)
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(num) & ((num == np.floor(num)) if integer else (num >= 0))
        if not ok.all():
            i = int(np.argmin(ok))
            self.fail(i, f"column {column!r} must be " + ("an integer" if integer else
                      "a finite number >= 0") + f", got {text.iloc[i]!r}")
        if not integer:
            return text.astype(float).to_numpy()
        values = num.astype(np.int64)
        if (values < minimum).any():
            i = int(np.argmax(values < minimum))
            self.fail(i, f"column {column!r} must be >= {minimum}, got {values[i]} "
                         f"({'negative' if values[i] < 0 else 'too small'})")
        return values


def _header(path: Path, expected: str) -> tuple[str, list[str], np.ndarray]:
    """File text, stripped header cells and the numbers of the non-blank lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         f"expected a CSV file") from None
    body = text.rstrip()
    if body and not re.search(r"(?m)^[^\S\n]*$", body):     # no blank line: 1..k, no loop
        lines = np.arange(1, body.count("\n") + 2)
    else:
        lines = np.flatnonzero([bool(s.strip()) for s in text.split("\n")]) + 1
    if lines.size == 0:
        raise ValueError(f"{path} is empty: expected a header line {expected}")
    first = pd.read_csv(io.StringIO(text), header=None, nrows=1, dtype=str,
                        keep_default_na=False)
    return text, [c.strip() for c in first.iloc[0]], lines


def _read(path, expected: str, required: Sequence[str], optional: Sequence[str] = ()) -> _Table:
    """Read a CSV of string cells; check the header, the row widths and that rows exist."""
    path = Path(path)
    text, header, lines = _header(path, expected)
    where = f"{path} line {lines[0]}"
    found = f"expected header {expected}, found {','.join(header)}"
    for problem, cols in (("missing", [c for c in required if c not in header]),
                          ("unknown", [c for c in header if c not in (*required, *optional)])):
        if cols:
            raise ValueError(f"{where}: {problem} column(s) {', '.join(cols)}; {found}")
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise ValueError(f"{where}: duplicate column(s) {', '.join(dup)}")
    width = f"expected {len(header)} fields ({','.join(header)})"
    fast = _read_typed(path, text, header, lines)
    if fast is not None:
        return fast
    return _read_strings(path, text, header, lines, width)


def _read_typed(path: Path, text: str, header: list[str], lines: np.ndarray) -> _Table | None:
    """Fast reader for clean files: typed columns straight from pandas' C parser.

    Only for files without blank lines, quotes or empty cells; anything else (and any value a
    column check rejects) goes to the careful string reader, which names the offending line.
    Memory stays proportional to the file (one typed array per column).
    """
    if '"' in text or (lines.size and lines[-1] - lines[0] + 1 != lines.size):
        return None
    try:
        raw = pd.read_csv(io.StringIO(text), header=None, skiprows=int(lines[0]), names=header,
                          index_col=False, skipinitialspace=True,
                          keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    if len(raw) != lines.size - 1 or len(raw) == 0 or raw.isna().to_numpy().any():
        return None
    for c in raw.columns:
        if raw[c].dtype.kind not in "iuf":
            raw[c] = raw[c].astype(str).str.strip()
    return _Table(path, raw, lines[1:],
                  careful=lambda: _read_strings(path, text, header, lines,
                                                f"expected {len(header)} fields "
                                                f"({','.join(header)})"))


def _read_strings(path: Path, text: str, header: list[str], lines: np.ndarray,
                  width: str) -> _Table:
    """The careful reader: every cell as a stripped string, every problem named by its line."""
    try:
        raw = pd.read_csv(io.StringIO(text), header=None, skiprows=int(lines[0]), names=header,
                          dtype=str,
                          keep_default_na=False, index_col=False)
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
        if m is None:
            raise ValueError(f"{path}: {str(exc).strip()}") from None
        raise ValueError(f"{path} line {m[1]}: {width}, found {m[2]}") from None
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame(columns=header, dtype=str)
    if len(raw) != lines.size - 1:
        raise ValueError(f"{path}: a quoted field spans several lines; expected one request "
                         f"per line")
    cells = raw.apply(lambda col: col.str.strip())
    filled = (cells != "").to_numpy()
    keep = filled.any(axis=1)                        # rows of empty cells count as blank
    table = _Table(path, cells[keep].reset_index(drop=True), lines[1:][keep])
    filled = filled[keep]
    if not filled.any():
        raise ValueError(f"{path}: no data rows after the header; expected at least one request")
    short = ~filled[:, -1]
    if short.any():
        i = int(np.argmax(short))
        n = int(np.flatnonzero(filled[i])[-1]) + 1
        table.fail(i, f"{width}, found {n} non-empty")
    return table


# ===================================================================== the Trace
@dataclass(frozen=True, eq=False)
class Trace:
    """Requests with sorted arrival times, prompt and output token counts.

    Examples
    --------
    >>> tr = Trace([0.0, 0.4, 1.5], [10, 20, 30], [5, 6, 7])
    >>> tr.n, tr.duration
    (3, 1.5)
    >>> tr.to_instance(memory=100, round_seconds=0.5).arrival.tolist()
    [0, 0, 3]
    >>> Trace([1.0, 0.0], [1, 1], [1, 1])
    Traceback (most recent call last):
    ...
    ValueError: arrival_time must be sorted (non-decreasing); first decrease at index 1: 0.0 < 1.0

    Attributes
    ----------
    arrival_time : numpy.ndarray of float
        Arrival times in ``unit``; a loaded trace in seconds starts at 0.
    prompt, output : numpy.ndarray of int
        Prompt (context) and output (generated) tokens, >= 0.
    name : str
    prediction : numpy.ndarray of int or None
        Predicted output lengths shown to a scheduler (``None``: exact).
    unit : {"s", "round"}
        ``"s"``: seconds; ``"round"``: whole rounds of the round model (the project CSV with
        an ``arrival`` column).
    """

    arrival_time: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    name: str = ""
    prediction: np.ndarray | None = None
    unit: str = "s"

    def __post_init__(self):
        if self.unit not in ("s", "round"):
            raise ValueError(f"unit must be 's' or 'round', got {self.unit!r}")
        t = np.array(self.arrival_time, dtype=float)
        names = ("prompt", "output") + (("prediction",) if self.prediction is not None else ())
        cols = {f: _counts(getattr(self, f), f) for f in names}
        sizes = [a.size for a in (t, *cols.values())]
        if t.ndim != 1 or any(a.ndim != 1 for a in cols.values()):
            raise ValueError(f"arrival_time, {', '.join(names)} must be one-dimensional")
        if len(set(sizes)) > 1:
            raise ValueError(f"arrival_time, {', '.join(names[:-1])} and {names[-1]} must have "
                             f"equal lengths, got {', '.join(map(str, sizes))}")
        if not np.all(np.isfinite(t)):
            raise ValueError("arrival_time must be finite")
        if t.size and t[0] < 0:
            raise ValueError(f"arrival_time must be >= 0, got {t[0]}")
        dec = np.flatnonzero(np.diff(t) < 0)
        if dec.size:
            i = int(dec[0]) + 1
            raise ValueError(f"arrival_time must be sorted (non-decreasing); first decrease at "
                             f"index {i}: {t[i]} < {t[i - 1]}")
        t.flags.writeable = False
        for f, arr in (("arrival_time", t), *cols.items()):
            object.__setattr__(self, f, arr)

    @property
    def n(self) -> int:
        """Number of requests."""
        return int(self.arrival_time.size)

    @property
    def duration(self) -> float:
        """Time from the first to the last arrival (0 for fewer than two requests)."""
        return float(self.arrival_time[-1] - self.arrival_time[0]) if self.n else 0.0

    def select(self, mask: Sequence[bool]) -> "Trace":
        """Sub-trace of the requests where ``mask`` is true (times unchanged).

        Examples
        --------
        >>> tr = Trace([0.0, 1.0, 2.0], [5, 0, 7], [1, 2, 0])
        >>> tr.select((tr.prompt > 0) & (tr.output > 0)).n
        1
        """
        m = np.asarray(mask, dtype=bool)
        if m.shape != (self.n,):
            raise ValueError(f"mask must have shape ({self.n},), got {m.shape}")
        pred = None if self.prediction is None else self.prediction[m]
        return Trace(self.arrival_time[m], self.prompt[m], self.output[m], self.name, pred,
                     self.unit)

    def to_seconds(self, round_seconds: float) -> "Trace":
        """The trace of a rounds file in seconds: arrival ``a`` becomes ``a * round_seconds``.

        Examples
        --------
        >>> Trace([0, 2], [1, 1], [1, 1], unit="round").to_seconds(0.5).arrival_time.tolist()
        [0.0, 1.0]
        """
        if self.unit != "round":
            raise ValueError("to_seconds applies to a trace in rounds; this one is in seconds")
        t = self.arrival_time * _positive(round_seconds)
        return Trace(t, self.prompt, self.output, self.name, self.prediction, "s")

    def to_instance(self, memory: int, round_seconds: float | None = None, *,
                    name: str | None = None) -> Instance:
        """Instance with arrival rounds ``floor(arrival_time / round_seconds)``.

        A trace in rounds keeps its rounds (``round_seconds`` must then be ``None``).  The
        quotient is rounded to 9 decimals before the floor, so a time that is a whole number
        of rounds up to floating-point error (``0.3 / 0.1``) lands in that round.

        Examples
        --------
        >>> Trace([0.0, 0.3, 0.35], [1, 1, 1], [1, 1, 1]).to_instance(4, 0.1).arrival.tolist()
        [0, 3, 3]
        >>> Trace([0.0], [1], [0]).to_instance(4, 1.0)
        Traceback (most recent call last):
        ...
        ValueError: request 0: output must be >= 1, got 0 (drop such requests first with Trace.select)

        ``round_seconds`` (> 0) is required for a trace in seconds; ``name`` defaults to the
        trace's name.
        """
        if self.unit == "round":
            if round_seconds is not None:
                raise ValueError("round_seconds applies to a trace in seconds; this one is in "
                                 "rounds")
            rounds = self.arrival_time.astype(np.int64)
        else:
            if round_seconds is None:
                raise ValueError("round_seconds is required to map a trace in seconds to rounds")
            q = self.arrival_time / _positive(round_seconds)
            rounds = np.floor(np.round(q, 9)).astype(np.int64)
        for f in ("prompt", "output"):
            bad = np.flatnonzero(getattr(self, f) < 1)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"request {i}: {f} must be >= 1, got {int(getattr(self, f)[i])} "
                                 f"(drop such requests first with Trace.select)")
        return Instance.from_arrays(rounds, self.prompt, self.output, memory,
                                    prediction=self.prediction,
                                    name=self.name if name is None else name)


def _counts(values, name: str) -> np.ndarray:
    """A read-only int64 array of token counts >= 0, or a ValueError naming ``name``."""
    raw = np.asarray(values)
    if raw.size and not (np.issubdtype(raw.dtype, np.integer)
                         or np.all(np.mod(raw.astype(float), 1) == 0)):
        raise ValueError(f"{name} must hold integers, got {raw.dtype} values")
    arr = raw.astype(np.int64)
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name} must be >= 0, got {int(arr.flat[i])} at index {i}")
    arr.flags.writeable = False
    return arr


def _positive(round_seconds) -> float:
    if isinstance(round_seconds, bool) or not isinstance(round_seconds, (int, float)) \
            or not math.isfinite(round_seconds) or round_seconds <= 0:
        raise ValueError(f"round_seconds must be a positive finite number, got "
                         f"{round_seconds!r}")
    return float(round_seconds)


# ===================================================================== loaders
def load_trace(path, *, name: str | None = None) -> Trace:
    """Read any supported trace file, recognised by its header (see :data:`HEADERS`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "v.csv").write_text("arrived_at,num_prefill_tokens,num_decode_tokens\\n"
    ...                              "0.0,374,44\\n4.314579,396,109\\n")
    >>> tr = load_trace(d / "v.csv")
    >>> tr.arrival_time.tolist(), tr.prompt.tolist(), tr.unit
    ([0.0, 4.314579], [374, 396], 's')
    >>> _ = (d / "r.csv").write_text("arrival,prompt,output\\n0,2,3\\n")
    >>> load_trace(d / "r.csv").unit
    'round'
    >>> _ = (d / "x.csv").write_text("time,in,out\\n0,1,1\\n")
    >>> load_trace(d / "x.csv")
    Traceback (most recent call last):
    ...
    ValueError: .../x.csv line 1: unrecognised header time,in,out; expected one of arrival,prompt,output[,prediction] | arrival_time,prompt,output[,prediction] | TIMESTAMP,ContextTokens,GeneratedTokens | arrived_at,num_prefill_tokens,num_decode_tokens

    The rounds CSV gives ``unit="round"`` (rows sorted stably by arrival); the other formats
    give seconds, from the first request for the Azure and Splitwise/Vidur traces.
    """
    path = Path(path)
    expected = " | ".join(HEADERS.values())
    _, header, lines = _header(path, f"(one of) {expected}")
    for key, loader in (("TIMESTAMP", load_azure_trace), ("arrived_at", load_splitwise_trace),
                        ("arrival_time", load_trace_csv), ("arrival", _load_rounds)):
        if key in header:
            return loader(path, name=name)
    raise ValueError(f"{path} line {lines[0]}: unrecognised header {','.join(header)}; "
                     f"expected one of {expected}")


def _rounds_table(path) -> tuple[_Table, dict]:
    t = _read(path, HEADERS["rounds"], ("arrival", "prompt", "output"), ("prediction",))
    return t, {c: t.numbers(c, integer=True, minimum=int(c != "arrival")) for c in t.cells}


def _load_rounds(path, *, name: str | None = None) -> Trace:
    t, cols = _rounds_table(path)
    order = np.argsort(cols["arrival"], kind="stable")
    return Trace(cols["arrival"][order], cols["prompt"][order], cols["output"][order],
                 t.path.name if name is None else name,
                 None if "prediction" not in cols else cols["prediction"][order], "round")


def load_instance_csv(path, memory: int, *, name: str | None = None) -> Instance:
    """Read a project trace CSV ``arrival,prompt,output[,prediction]`` into an Instance.

    One request per line, in file order (request ``i`` is data row ``i``); integers; ``arrival``
    in rounds (>= 0), ``prompt`` and ``output`` (and ``prediction``) >= 1.  Columns may come
    in any order.  Blank lines are ignored.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("arrival,prompt,output\\n0,2,3\\n1,1,1\\n")
    >>> inst = load_instance_csv(d / "t.csv", memory=8)
    >>> inst.n, inst.output.tolist(), inst.memory
    (2, [3, 1], 8)
    >>> _ = (d / "bad.csv").write_text("arrival,prompt,output\\n0,2,3\\n1,-1,1\\n")
    >>> load_instance_csv(d / "bad.csv", memory=8)
    Traceback (most recent call last):
    ...
    ValueError: .../bad.csv line 3: column 'prompt' must be >= 1, got -1 (negative)

    ``memory`` is the KV capacity ``M`` (a trace does not carry it); ``name`` defaults to the
    file name.  Any malformation, or a request that can never fit, raises a ``ValueError``
    naming the line.
    """
    t, cols = _rounds_table(path)
    M = as_int(memory, name="memory M", minimum=1)
    s, o, pred = cols["prompt"], cols["output"], cols.get("prediction")
    worst = np.maximum(o, o if pred is None else pred)
    bad = np.flatnonzero(s + worst > M)
    if bad.size:
        i = int(bad[0])
        try:
            check_fits(i, int(s[i]), int(o[i]), None if pred is None else int(pred[i]), M)
        except ValueError as exc:
            t.fail(i, str(exc))
    return Instance.from_arrays(cols["arrival"], s, o, M, prediction=pred,
                                name=t.path.name if name is None else name)


def load_trace_csv(path, *, name: str | None = None) -> Trace:
    """Read a timed trace ``arrival_time,prompt,output[,prediction]`` (seconds, tokens).

    The format for real request logs (for example an LMSYS-Chat-1M sample with token counts and
    arrival times) to be run in continuous time by :func:`kvtheory.simulate_timed` or
    ``python -m kvtheory a100 --trace FILE``.  Rows must be sorted by time (a trace is a log);
    columns may come in any order.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("arrival_time,prompt,output\\n0,11,45\\n0.02,40,85\\n")
    >>> tr = load_trace_csv(d / "t.csv")
    >>> tr.n, tr.arrival_time.tolist(), tr.name
    (2, [0.0, 0.02], 't.csv')
    >>> _ = (d / "bad.csv").write_text("arrival_time,prompt,output\\n0,11,45\\nsoon,1,1\\n")
    >>> load_trace_csv(d / "bad.csv")
    Traceback (most recent call last):
    ...
    ValueError: .../bad.csv line 3: column 'arrival_time' must be a finite number >= 0, got 'soon'

    Returns
    -------
    Trace
        Unsorted times raise the :class:`Trace` error naming the first decrease.
    """
    t = _read(path, HEADERS["seconds"], ("arrival_time", "prompt", "output"), ("prediction",))
    pred = t.numbers("prediction", integer=True) if "prediction" in t.cells else None
    return Trace(t.numbers("arrival_time", integer=False), t.numbers("prompt", integer=True),
                 t.numbers("output", integer=True), t.path.name if name is None else name, pred)


def load_splitwise_trace(path, *, name: str | None = None) -> Trace:
    """Read a Splitwise/Vidur processed trace ``arrived_at,num_prefill_tokens,num_decode_tokens``.

    ``arrived_at`` is in seconds; rows are sorted by time (stably) and shifted so the first
    request arrives at 0.  Token counts must be non-negative integers.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "v.csv").write_text("arrived_at,num_prefill_tokens,num_decode_tokens\\n"
    ...                              "10.5,374,44\\n10.0,396,x\\n")
    >>> load_splitwise_trace(d / "v.csv")
    Traceback (most recent call last):
    ...
    ValueError: .../v.csv line 3: column 'num_decode_tokens' must be an integer, got 'x'
    """
    cols = HEADERS["splitwise"].split(",")
    t = _read(path, HEADERS["splitwise"], cols)
    return _relative(t.numbers(cols[0], integer=False), t.numbers(cols[1], integer=True),
                     t.numbers(cols[2], integer=True), t.path.name if name is None else name)


def _relative(times, prompt, output, name) -> Trace:
    order = np.argsort(times, kind="stable")
    return Trace(times[order] - times[order[0]], prompt[order], output[order], name)


def load_azure_trace(path, *, name: str | None = None) -> Trace:
    """Read an Azure LLM inference trace (``TIMESTAMP,ContextTokens,GeneratedTokens``).

    Times become seconds relative to the earliest request; rows are sorted by time (stably:
    ties keep file order), since unsorted files are accepted.  Token counts must be
    non-negative integers.  Extra columns are an error.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "az.csv").write_text(
    ...     "TIMESTAMP,ContextTokens,GeneratedTokens\\n"
    ...     "2023-11-16 18:15:46.6805900,374,44\\n"
    ...     "2023-11-16 18:15:50.9951690,396,109\\n"
    ...     "2023-11-16 18:15:46.0000000,879,45\\n")
    >>> tr = load_azure_trace(d / "az.csv")
    >>> tr.arrival_time.tolist(), tr.prompt.tolist()
    ([0.0, 0.68059, 4.995169], [879, 374, 396])
    >>> _ = (d / "bad.csv").write_text("TIMESTAMP,ContextTokens,GeneratedTokens\\nyesterday,1,1\\n")
    >>> load_azure_trace(d / "bad.csv")
    Traceback (most recent call last):
    ...
    ValueError: .../bad.csv line 2: unparsable timestamp 'yesterday': expected YYYY-MM-DD HH:MM:SS[.fraction][timezone]
    """
    cols = HEADERS["azure"].split(",")
    t = _read(path, HEADERS["azure"], cols)
    text = t.cells["TIMESTAMP"]
    stamps = pd.to_datetime(text.where(text.str.fullmatch(_TS.pattern)), format="ISO8601",
                            utc=True, errors="coerce")
    if stamps.isna().any():
        i = int(np.argmax(stamps.isna().to_numpy()))
        t.fail(i, f"unparsable timestamp {text.iloc[i]!r}: {_TS_HELP}")
    ns = stamps.astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    order = np.argsort(ns, kind="stable")
    rel = (ns[order] - ns[order[0]]).astype(float) / 1e9
    return Trace(rel, t.numbers(cols[1], integer=True)[order],
                 t.numbers(cols[2], integer=True)[order], t.path.name if name is None else name)


def parse_timestamp(text: str) -> int:
    """Nanoseconds since the Unix epoch of an ISO-like timestamp (naive means UTC).

    Accepts ``YYYY-MM-DD HH:MM:SS[.fffffffff][Z|+HH:MM]`` (``T`` or a space between date and
    time, up to 9 fractional digits, as in the Azure traces).

    Examples
    --------
    >>> parse_timestamp("2023-11-16 18:15:46.6805900") - parse_timestamp("2023-11-16 18:15:46")
    680590000
    >>> parse_timestamp("2024-05-10 00:00:00+00:00") == parse_timestamp("2024-05-10T02:00:00+02:00")
    True
    >>> parse_timestamp("16/11/2023 18:15")
    Traceback (most recent call last):
    ...
    ValueError: unparsable timestamp '16/11/2023 18:15': expected YYYY-MM-DD HH:MM:SS[.fraction][timezone]
    """
    stamp = pd.NaT
    if _TS.fullmatch(text.strip()):
        stamp = pd.to_datetime(text.strip(), format="ISO8601", utc=True, errors="coerce")
    if pd.isna(stamp):
        raise ValueError(f"unparsable timestamp {text!r}: {_TS_HELP}")
    return int(stamp.as_unit("ns").value)


def save_trace_csv(trace: Trace, path) -> Path:
    """Write a :class:`Trace` in seconds as ``arrival_time,prompt,output[,prediction]``.

    Times are written with ``repr`` precision, so :func:`load_trace_csv` reads back exactly the
    same trace.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> tr = Trace([0.0, 0.125, 2.5], [10, 20, 30], [5, 6, 7], name="demo")
    >>> back = load_trace_csv(save_trace_csv(tr, d / "demo.csv"))
    >>> back.arrival_time.tolist() == tr.arrival_time.tolist(), back.output.tolist()
    (True, [5, 6, 7])
    """
    if not isinstance(trace, Trace):
        raise ValueError(f"trace must be a Trace, got {type(trace).__name__}")
    if trace.unit != "s":
        raise ValueError("save_trace_csv writes a trace in seconds; convert with to_seconds")
    cols = {"arrival_time": [repr(float(t)) for t in trace.arrival_time.tolist()],
            "prompt": trace.prompt, "output": trace.output}
    if trace.prediction is not None:
        cols["prediction"] = trace.prediction
    path = Path(path)
    pd.DataFrame(cols).to_csv(path, index=False)
    return path
