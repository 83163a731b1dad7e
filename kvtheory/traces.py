"""Request traces from files: the project's CSV format and the Azure LLM inference trace.

* :func:`load_instance_csv` reads ``arrival,prompt,output[,prediction]`` (integers, arrival in
  rounds) into an :class:`~kvtheory.Instance`.
* :func:`load_azure_trace` reads the Azure LLM inference trace format (``TIMESTAMP``,
  ``ContextTokens``, ``GeneratedTokens``; Patel et al., *Splitwise*, 2024,
  https://github.com/Azure/AzurePublicDataset) into a :class:`Trace` of arrival times in
  seconds, which :meth:`Trace.to_instance` maps to rounds.

Every malformed row raises a ``ValueError`` naming the file, the line number and the problem.
Only the standard :mod:`csv` module and numpy are used.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

from ._validation import as_int, check_fits
from .instance import Instance

__all__ = ["load_instance_csv", "Trace", "load_azure_trace", "parse_timestamp",
           "save_trace_csv", "load_trace_csv"]

_INSTANCE_REQUIRED = ("arrival", "prompt", "output")
_INSTANCE_OPTIONAL = ("prediction",)
_INSTANCE_MINIMUM = {"arrival": 0, "prompt": 1, "output": 1, "prediction": 1}
_AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


# ===================================================================== shared parsing helpers
def _rows(path: Path, expected: str):
    """Yield ``(line_number, header, fields)`` of a CSV file; validate header and row widths.

    The header row yields once with ``fields = None``.  Blank lines are skipped.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = None
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                yield line, header, None
                continue
            if len(fields) != len(header):
                raise ValueError(f"{path} line {line}: expected {len(header)} fields "
                                 f"({','.join(header)}), found {len(fields)}")
            yield line, header, [f.strip() for f in fields]
    if header is None:
        raise ValueError(f"{path} is empty: expected a header line {expected}")


def _parse_int(text: str, *, path, line: int, column: str, minimum: int) -> int:
    """Parse a decimal integer cell (``'12'``, also ``'12.0'``) with a bound."""
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            f = math.nan
        if not (math.isfinite(f) and f == int(f)):
            raise ValueError(f"{path} line {line}: column {column!r} must be an integer, "
                             f"got {text!r}") from None
        value = int(f)
    if value < minimum:
        what = "negative" if value < 0 else "too small"
        raise ValueError(f"{path} line {line}: column {column!r} must be >= {minimum}, got "
                         f"{value} ({what})")
    return value


def _check_header(header, required, optional, path, line, expected):
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"{path} line {line}: missing column(s) {', '.join(missing)}; "
                         f"expected header {expected}, found {','.join(header)}")
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise ValueError(f"{path} line {line}: unknown column(s) {', '.join(unknown)}; "
                         f"expected header {expected}, found {','.join(header)}")
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise ValueError(f"{path} line {line}: duplicate column(s) {', '.join(dup)}")


# ===================================================================== project CSV
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

    Parameters
    ----------
    path : str or Path
    memory : int
        KV-cache capacity ``M`` of the instance (required: a trace does not carry it).
    name : str, optional
        Instance name; default the file name.

    Returns
    -------
    Instance

    Raises
    ------
    ValueError
        Empty file, missing/unknown/duplicate column, wrong number of fields, a non-integer or
        out-of-range value, no data rows, or a request that can never fit in ``memory`` (the
        message names the line).
    """
    path = Path(path)
    expected = "arrival,prompt,output[,prediction]"
    cols: dict[str, list[int]] = {}
    lines: list[int] = []
    for line, header, fields in _rows(path, expected):
        if fields is None:
            _check_header(header, _INSTANCE_REQUIRED, _INSTANCE_OPTIONAL, path, line, expected)
            cols = {c: [] for c in header}
            continue
        for c, text in zip(header, fields):
            cols[c].append(_parse_int(text, path=path, line=line, column=c,
                                      minimum=_INSTANCE_MINIMUM[c]))
        lines.append(line)
    if not lines:
        raise ValueError(f"{path}: no data rows after the header; expected at least one request")
    pred = cols.get("prediction")
    M = as_int(memory, name="memory M", minimum=1)
    for i, line in enumerate(lines):
        try:
            check_fits(i, cols["prompt"][i], cols["output"][i],
                       None if pred is None else pred[i], M)
        except ValueError as exc:
            raise ValueError(f"{path} line {line}: {exc}") from None
    return Instance.from_arrays(cols["arrival"], cols["prompt"], cols["output"], M,
                                prediction=pred, name=path.name if name is None else name)


# ===================================================================== Azure trace
_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?"
                 r"\s*(Z|[+-]\d{2}:?\d{2})?$")


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

    Returns
    -------
    int
    """
    m = _TS.match(text.strip())
    err = (f"unparsable timestamp {text!r}: expected "
           f"YYYY-MM-DD HH:MM:SS[.fraction][timezone]")
    if m is None:
        raise ValueError(err)
    date, clock, frac, tz = m.groups()
    iso = f"{date}T{clock}"
    if tz and tz != "Z":
        iso += tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(err) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    whole = int((dt - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds())
    return whole * 1_000_000_000 + (int(frac.ljust(9, "0")) if frac else 0)


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests with arrival times in seconds (sorted), prompt and output token counts.

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
        Seconds since the first request (so ``arrival_time[0] == 0`` for a loaded trace).
    prompt, output : numpy.ndarray of int
        Prompt (context) and output (generated) tokens, >= 0.
    name : str
    """

    arrival_time: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    name: str = ""

    def __post_init__(self):
        t = np.array(self.arrival_time, dtype=float)
        cols = {}
        for f in ("prompt", "output"):
            raw = np.asarray(getattr(self, f))
            if raw.size and not (np.issubdtype(raw.dtype, np.integer)
                                 or np.all(np.mod(raw.astype(float), 1) == 0)):
                raise ValueError(f"{f} must hold integers, got {raw.dtype} values")
            cols[f] = raw.astype(np.int64)
        if not (t.ndim == cols["prompt"].ndim == cols["output"].ndim == 1):
            raise ValueError("arrival_time, prompt and output must be one-dimensional")
        if not t.size == cols["prompt"].size == cols["output"].size:
            raise ValueError(f"arrival_time, prompt and output must have equal lengths, got "
                             f"{t.size}, {cols['prompt'].size}, {cols['output'].size}")
        if not np.all(np.isfinite(t)):
            raise ValueError("arrival_time must be finite")
        if t.size and t[0] < 0:
            raise ValueError(f"arrival_time must be >= 0, got {t[0]}")
        dec = np.flatnonzero(np.diff(t) < 0)
        if dec.size:
            i = int(dec[0]) + 1
            raise ValueError(f"arrival_time must be sorted (non-decreasing); first decrease at "
                             f"index {i}: {t[i]} < {t[i - 1]}")
        for f, arr in cols.items():
            if (arr < 0).any():
                i = int(np.flatnonzero(arr < 0)[0])
                raise ValueError(f"{f} must be >= 0, got {int(arr[i])} at index {i}")
        for arr in (t, cols["prompt"], cols["output"]):
            arr.flags.writeable = False
        object.__setattr__(self, "arrival_time", t)
        object.__setattr__(self, "prompt", cols["prompt"])
        object.__setattr__(self, "output", cols["output"])

    @property
    def n(self) -> int:
        """Number of requests."""
        return int(self.arrival_time.size)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last arrival (0 for fewer than two requests)."""
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
        return Trace(self.arrival_time[m], self.prompt[m], self.output[m], self.name)

    def to_instance(self, memory: int, round_seconds: float, *,
                    name: str | None = None) -> Instance:
        """Instance whose arrival rounds are ``floor(arrival_time / round_seconds)``.

        The quotient is rounded to 9 decimals before the floor, so a time that is a whole
        number of rounds up to floating-point error (``0.3 / 0.1``) lands in that round.

        Examples
        --------
        >>> Trace([0.0, 0.3, 0.35], [1, 1, 1], [1, 1, 1]).to_instance(4, 0.1).arrival.tolist()
        [0, 3, 3]
        >>> Trace([0.0], [1], [0]).to_instance(4, 1.0)
        Traceback (most recent call last):
        ...
        ValueError: request 0: output must be >= 1, got 0 (drop such requests first with Trace.select)

        Parameters
        ----------
        memory : int
            KV-cache capacity ``M``.
        round_seconds : float
            Length of one round in seconds (> 0).
        name : str, optional
            Default: the trace's name.

        Returns
        -------
        Instance
        """
        if isinstance(round_seconds, bool) or not isinstance(round_seconds, (int, float)) \
                or not math.isfinite(round_seconds) or round_seconds <= 0:
            raise ValueError(f"round_seconds must be a positive finite number, got "
                             f"{round_seconds!r}")
        for f, minimum in (("prompt", 1), ("output", 1)):
            arr = getattr(self, f)
            bad = np.flatnonzero(arr < minimum)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"request {i}: {f} must be >= {minimum}, got {int(arr[i])} "
                                 f"(drop such requests first with Trace.select)")
        rounds = np.floor(np.round(self.arrival_time / float(round_seconds), 9)).astype(np.int64)
        return Instance.from_arrays(rounds, self.prompt, self.output, memory,
                                    name=self.name if name is None else name)


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

    Parameters
    ----------
    path : str or Path
    name : str, optional
        Default: the file name.

    Returns
    -------
    Trace
    """
    path = Path(path)
    expected = ",".join(_AZURE_COLUMNS)
    stamps: list[int] = []
    prompt: list[int] = []
    output: list[int] = []
    for line, header, fields in _rows(path, expected):
        if fields is None:
            _check_header(header, _AZURE_COLUMNS, (), path, line, expected)
            idx = {c: header.index(c) for c in _AZURE_COLUMNS}
            continue
        try:
            stamps.append(parse_timestamp(fields[idx["TIMESTAMP"]]))
        except ValueError as exc:
            raise ValueError(f"{path} line {line}: {exc}") from None
        prompt.append(_parse_int(fields[idx["ContextTokens"]], path=path, line=line,
                                 column="ContextTokens", minimum=0))
        output.append(_parse_int(fields[idx["GeneratedTokens"]], path=path, line=line,
                                 column="GeneratedTokens", minimum=0))
    if not stamps:
        raise ValueError(f"{path}: no data rows after the header; expected at least one request")
    ns = np.array(stamps, dtype=np.int64)
    order = np.argsort(ns, kind="stable")
    rel = (ns[order] - ns[order[0]]).astype(float) / 1e9
    return Trace(rel, np.array(prompt, dtype=np.int64)[order],
                 np.array(output, dtype=np.int64)[order], path.name if name is None else name)


# ===================================================================== timed trace CSV
_TIMED_COLUMNS = ("arrival_time", "prompt", "output")


def save_trace_csv(trace: Trace, path) -> Path:
    """Write a :class:`Trace` as ``arrival_time,prompt,output`` (seconds, tokens, tokens).

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

    Parameters
    ----------
    trace : Trace
    path : str or Path

    Returns
    -------
    Path
        ``path``.
    """
    if not isinstance(trace, Trace):
        raise ValueError(f"trace must be a Trace, got {type(trace).__name__}")
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(_TIMED_COLUMNS)
        for t, s, o in zip(trace.arrival_time.tolist(), trace.prompt.tolist(),
                           trace.output.tolist()):
            w.writerow((repr(float(t)), int(s), int(o)))
    return path


def load_trace_csv(path, *, name: str | None = None) -> Trace:
    """Read a timed trace ``arrival_time,prompt,output`` (seconds >= 0, integer tokens >= 0).

    The format for real request logs (for example an LMSYS-Chat-1M sample with token counts and
    arrival times) to be run in continuous time by :func:`kvtheory.simulate_timed` or
    ``python -m kvtheory.a100 --trace FILE``.  Rows must be sorted by time (a trace is a log);
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

    Parameters
    ----------
    path : str or Path
    name : str, optional
        Default: the file name.

    Returns
    -------
    Trace
        Unsorted times raise the :class:`Trace` error naming the first decrease.
    """
    path = Path(path)
    expected = ",".join(_TIMED_COLUMNS)
    times: list[float] = []
    cols: dict[str, list[int]] = {"prompt": [], "output": []}
    for line, header, fields in _rows(path, expected):
        if fields is None:
            _check_header(header, _TIMED_COLUMNS, (), path, line, expected)
            idx = {c: header.index(c) for c in _TIMED_COLUMNS}
            continue
        text = fields[idx["arrival_time"]]
        try:
            t = float(text)
        except ValueError:
            t = math.nan
        if not (math.isfinite(t) and t >= 0):
            raise ValueError(f"{path} line {line}: column 'arrival_time' must be a finite "
                             f"number >= 0, got {text!r}")
        times.append(t)
        for c in ("prompt", "output"):
            cols[c].append(_parse_int(fields[idx[c]], path=path, line=line, column=c, minimum=0))
    if not times:
        raise ValueError(f"{path}: no data rows after the header; expected at least one request")
    return Trace(np.array(times), np.array(cols["prompt"], dtype=np.int64),
                 np.array(cols["output"], dtype=np.int64), path.name if name is None else name)
