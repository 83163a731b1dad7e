"""Request traces from files: CSV, JSON lines or Parquet, the project's formats or any columns.

:func:`load_trace` reads a trace in any of three formats, chosen by the file name: CSV, JSON
lines (``.jsonl``, ``.ndjson``, ``.json``) and Parquet (``.parquet``, ``.pq``); CSV and JSON
lines may be gzipped (``.gz``).  Without ``columns`` it recognises the file by its column names
(:data:`HEADERS`): the project format with arrivals in rounds or in seconds, the Azure LLM
inference trace (Patel et al., *Splitwise*, ISCA 2024,
https://github.com/Azure/AzurePublicDataset) and the processed trace Microsoft's Vidur simulator
reads (arrival in seconds).  With ``columns={"arrival": ..., "prompt": ..., "output": ...}``
any file with those columns works; ``time_unit`` says what a numeric arrival column counts
(:data:`TIME_UNITS`), datetimes are recognised.  It returns a :class:`Trace`.
:func:`load_instance_csv` reads the rounds format straight into an :class:`~kvtheory.Instance`.

Files are read with pandas and pyarrow (:mod:`kvtheory.model.trace_read`); every malformed cell
raises a ``ValueError`` naming the file, the line (text formats) or row (Parquet) and the
column.  Line numbers assume no quoted field spans two lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from kvtheory.model.trace_columns import (_DETECT, _FORMATS, HEADERS, MAX_ARRIVAL, ROLES,
                                          TIME_UNITS, _checked, _columns, _Format, _time_unit,
                                          parse_columns)
from kvtheory.model.trace_read import MAX_TOKENS, TS as _TS, TS_HELP as _TS_HELP, Source, \
    check_header, open_source
from kvtheory.model.validation import as_int, check_fits
from kvtheory.model.instance import Instance

__all__ = ["Trace", "HEADERS", "TIME_UNITS", "ROLES", "MAX_TOKENS", "MAX_ARRIVAL", "load_trace",
           "load_instance_csv", "load_trace_csv", "load_azure_trace", "load_splitwise_trace",
           "parse_columns", "parse_timestamp", "save_trace_csv", "fit_trace"]

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
    origin : numpy.ndarray of int or None
        Where each request came from: its file line (text formats) or row (Parquet), for
        messages; ``None`` for a trace built in memory.
    origin_word : {"line", "row"}
    """

    arrival_time: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    name: str = ""
    prediction: np.ndarray | None = None
    unit: str = "s"
    origin: np.ndarray | None = None
    origin_word: str = "line"

    def __post_init__(self):
        if self.unit not in ("s", "round"):
            raise ValueError(f"unit must be 's' or 'round', got {self.unit!r}")
        t = _frozen(self.arrival_time, np.float64)
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
        dec = np.flatnonzero(t[1:] < t[:-1])
        if dec.size:
            i = int(dec[0]) + 1
            raise ValueError(f"arrival_time must be sorted (non-decreasing); first decrease at "
                             f"index {i}: {t[i]} < {t[i - 1]}")
        t.flags.writeable = False
        for f, arr in (("arrival_time", t), *cols.items()):
            object.__setattr__(self, f, arr)
        if self.origin is not None:
            where = _frozen(self.origin, np.int64)
            if where.shape != t.shape:
                raise ValueError(f"origin must have {t.size} entries, got {where.size}")
            where.flags.writeable = False
            object.__setattr__(self, "origin", where)

    def where(self, i: int) -> str:
        """``"request i"``, with its file line or row when known (for messages).

        Examples
        --------
        >>> Trace([0.0], [1], [1], origin=[7]).where(0)
        'request 0 (line 7)'
        """
        return f"request {i}" + ("" if self.origin is None else f" ({self._origin(i)})")

    def _origin(self, i: int) -> str:
        return f"{self.origin_word} {int(self.origin[i])}"

    def _like(self, **changes) -> "Trace":
        fields = dict(arrival_time=self.arrival_time, prompt=self.prompt, output=self.output,
                      name=self.name, prediction=self.prediction, unit=self.unit,
                      origin=self.origin, origin_word=self.origin_word)
        fields.update(changes)
        return Trace(**fields)

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
        return self._like(arrival_time=self.arrival_time[m], prompt=self.prompt[m],
                          output=self.output[m], prediction=pred,
                          origin=None if self.origin is None else self.origin[m])

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
        return self._like(arrival_time=t, unit="s")

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
            q = np.floor(np.round(self.arrival_time / _positive(round_seconds), 9))
            if q.size and q[-1] > MAX_ARRIVAL:
                raise ValueError(f"{self.where(q.size - 1)} arrives in round {q[-1]:.6g} with "
                                 f"round_seconds={round_seconds}; at most {MAX_ARRIVAL} rounds "
                                 f"are supported (use longer rounds)")
            rounds = q.astype(np.int64)
        for f in ("prompt", "output"):
            bad = np.flatnonzero(getattr(self, f) < 1)
            if bad.size:
                i = int(bad[0])
                at = "" if self.origin is None else f" at {self._origin(i)}"
                raise ValueError(f"request {i}: {f} must be >= 1, got "
                                 f"{int(getattr(self, f)[i])}{at} (drop such requests first "
                                 f"with Trace.select)")
        return Instance.from_arrays(rounds, self.prompt, self.output, memory,
                                    prediction=self.prediction,
                                    name=self.name if name is None else name)


def fit_trace(trace: Trace, memory: int, *, extra: int = 0, oversized: str = "error"
              ) -> tuple[Trace, int]:
    """The requests an engine can run, and how many were dropped.

    A request fits alone when ``s + max(o, prediction) + extra <= memory`` (``extra`` is the
    engine's: 0 for the round and timed engines).  Requests with a zero prompt or output are
    refused; oversized ones are refused (``oversized="error"``) or dropped (``"drop"``).

    Examples
    --------
    >>> tr = Trace([0.0, 1.0], [2, 7], [3, 3])
    >>> fit_trace(tr, 10)[1], fit_trace(tr, 11, extra=1)[1]
    (0, 0)
    >>> short, dropped = fit_trace(tr, 10, extra=1, oversized="drop")
    >>> short.n, dropped
    (1, 1)
    >>> fit_trace(tr, 10, extra=1)          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 1 of 2 requests can never fit in M=10 (the largest needs s+o+1=11, request 1); ...
    """
    if oversized not in ("error", "drop"):
        raise ValueError(f"oversized must be 'error' or 'drop', got {oversized!r}")
    s, o, M = trace.prompt, trace.output, memory
    zero = np.flatnonzero((s < 1) | (o < 1))
    if zero.size:
        raise ValueError(f"{zero.size} of {trace.n} requests have prompt or output 0 (the "
                         f"first: {trace.where(int(zero[0]))}); the engines need both >= 1: "
                         f"remove those rows")
    worst = o if trace.prediction is None else np.maximum(o, trace.prediction)
    need = s + worst + extra
    big = need > M
    if not big.any():
        return trace, 0
    i = int(np.argmax(need))
    rule = ("s+o" if trace.prediction is None else "s+max(o,prediction)") + ("+1" if extra else "")
    what = (f"{int(big.sum())} of {trace.n} requests can never fit in M={M} (the largest needs "
            f"{rule}={int(need[i])}, {trace.where(i)})")
    if oversized != "drop":
        raise ValueError(f"{what}; pass --memory {int(need[i])} or more, or --oversized drop "
                         f"to drop them")
    if big.all():
        raise ValueError(f"{what}: all of them; pass --memory {int(need[i])} or more")
    return trace.select(~big), int(big.sum())


def _frozen(values, dtype) -> np.ndarray:
    """``values`` as a read-only array of ``dtype``: a copy, unless it already is one.

    A read-only, C-contiguous array of the right dtype (as :func:`load_trace` passes) is taken
    as it is, so loading a trace makes no second copy of its columns.
    """
    arr = np.asarray(values)
    if arr.dtype != dtype or arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, dtype=dtype)
    arr.flags.writeable = False
    return arr


def _counts(values, name: str) -> np.ndarray:
    """A read-only int64 array of token counts >= 0, or a ValueError naming ``name``."""
    raw = np.asarray(values)
    if raw.size and not (np.issubdtype(raw.dtype, np.integer)
                         or np.all(np.mod(raw.astype(float), 1) == 0)):
        raise ValueError(f"{name} must hold integers, got {raw.dtype} values")
    arr = _frozen(raw, np.int64)
    if arr.size and arr.min() < 0:
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name} must be >= 0, got {int(arr.flat[i])} at index {i}")
    return arr


def _positive(round_seconds) -> float:
    if isinstance(round_seconds, bool) or not isinstance(round_seconds, (int, float)) \
            or not math.isfinite(round_seconds) or round_seconds <= 0:
        raise ValueError(f"round_seconds must be a positive finite number, got "
                         f"{round_seconds!r}")
    return float(round_seconds)


# ===================================================================== loaders
def load_trace(path, *, name: str | None = None, columns=None, time_unit: str | None = None
               ) -> Trace:
    """Read a trace file: CSV, JSON lines or Parquet (gzip for the text formats).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "v.csv").write_text("arrived_at,num_prefill_tokens,num_decode_tokens\\n"
    ...                              "0.0,374,44\\n4.314579,396,109\\n")
    >>> tr = load_trace(d / "v.csv")
    >>> tr.arrival_time.tolist(), tr.prompt.tolist(), tr.unit
    ([0.0, 4.314579], [374, 396], 's')

    Any column names, with ``columns``; here JSON lines with millisecond times:

    >>> _ = (d / "t.jsonl").write_text('{"t": 1500, "in": 8, "out": 2, "id": "a"}\\n'
    ...                                '{"t": 1000, "in": 5, "out": 3, "id": "b"}\\n')
    >>> tr = load_trace(d / "t.jsonl", columns="arrival=t,prompt=in,output=out", time_unit="ms")
    >>> tr.arrival_time.tolist(), tr.prompt.tolist(), tr.origin.tolist()
    ([0.0, 0.5], [5, 8], [2, 1])
    >>> _ = (d / "x.csv").write_text("time,in,out\\n0,1,1\\n")
    >>> load_trace(d / "x.csv")
    Traceback (most recent call last):
    ...
    ValueError: .../x.csv line 1: unrecognised header time,in,out; expected one of arrival,prompt,output[,prediction] | arrival_time,prompt,output[,prediction] | TIMESTAMP,ContextTokens,GeneratedTokens | arrived_at,num_prefill_tokens,num_decode_tokens (or name the columns)

    Parameters
    ----------
    path : str or Path
        ``.parquet``/``.pq``: Parquet; ``.jsonl``/``.ndjson``/``.json``: JSON lines (one
        object per line); anything else: CSV.  ``.gz`` after a text format: gzip.
    name : str, optional
        Default the file name.
    columns : str or mapping, optional
        The column of each role (:func:`parse_columns`).  Other columns are ignored; times
        become relative to the first request and rows are sorted by time (stably).  Without it
        the file must have one of the :data:`HEADERS` (no other columns).
    time_unit : {"s", "ms", "us", "round"}, optional
        What a numeric arrival column counts (default: ``"round"`` for the rounds format,
        seconds otherwise).  Datetime columns (``YYYY-MM-DD HH:MM:SS[.f][tz]``, or a Parquet
        timestamp) are recognised from the first row; ``time_unit`` must then be ``None``.

    Returns
    -------
    Trace
        ``unit="round"`` for arrivals in rounds, seconds otherwise; ``origin`` holds each
        request's file line (row for Parquet).  The rounds format is sorted stably; the seconds
        format must be sorted; the Azure and Splitwise/Vidur formats are sorted stably and
        start at 0.  Token counts are integers in ``[0, MAX_TOKENS]`` (``>= 1`` in the rounds
        format); arrivals at most :data:`MAX_ARRIVAL` after the first.
    """
    path = Path(path)
    unit = _time_unit(time_unit)
    if columns is not None:
        return _load_mapped(path, parse_columns(columns), unit, name)
    expected = " | ".join(HEADERS.values())
    src = open_source(path, f"(one of) {expected}")
    for key, fmt in _DETECT:
        if key in src.header:
            return _load_format(src, fmt, unit, name)
    raise ValueError(f"{src.at}: unrecognised header {','.join(src.header)}; expected one of "
                     f"{expected} (or name the columns)")


def _load_format(src: Source, key: str, time_unit, name) -> Trace:
    fmt = _FORMATS[key]
    present = _checked(src, fmt)
    roles = {r: c for r, c in fmt.roles.items() if c in present}
    return _trace(src, _columns(src, roles, fmt, time_unit, strict=True), name)


def _load_mapped(path: Path, roles: dict, time_unit, name) -> Trace:
    src = open_source(path, ",".join(roles.values()))
    check_header(src)
    missing = [f"{c!r} ({r})" for r, c in roles.items() if c not in src.header]
    if missing:
        raise ValueError(f"{src.at}: no column {', '.join(missing)}; the file has columns "
                         f"{', '.join(src.header)}")
    fmt = _Format("mapped", roles, unit="s", shift=True)
    return _trace(src, _columns(src, roles, fmt, time_unit, strict=False), name)


def _trace(src: Source, cols: dict, name) -> Trace:
    return Trace(cols["arrival"], cols["prompt"], cols["output"],
                 src.path.name if name is None else name, cols.get("prediction"),
                 cols["unit"], cols["origin"], cols["word"])


def load_instance_csv(path, memory: int, *, name: str | None = None) -> Instance:
    """Read a project trace ``arrival,prompt,output[,prediction]`` (rounds) into an Instance.

    One request per line, in file order (request ``i`` is data row ``i``); integers; ``arrival``
    in rounds (>= 0), ``prompt`` and ``output`` (and ``prediction``) >= 1.  Columns may come
    in any order.  Blank lines are ignored.  JSON lines and Parquet files with these columns
    work too (:func:`load_trace`).

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
    src = open_source(path, HEADERS["rounds"])
    fmt = _FORMATS["rounds"]
    roles = {r: c for r, c in fmt.roles.items() if c in _checked(src, fmt)}
    cols = _columns(src, roles, _Format("rounds", roles, ("prediction",), "round", "keep",
                                        token_min=1), None, strict=True)
    M = as_int(memory, name="memory M", minimum=1)
    s, o, pred = cols["prompt"], cols["output"], cols.get("prediction")
    worst = np.maximum(o, o if pred is None else pred)
    bad = np.flatnonzero(s + worst > M)
    if bad.size:
        i = int(bad[0])
        try:
            check_fits(i, int(s[i]), int(o[i]), None if pred is None else int(pred[i]), M)
        except ValueError as exc:
            raise ValueError(f"{src.path} {cols['word']} {int(cols['origin'][i])}: "
                             f"{exc}") from None
    return Instance.from_arrays(cols["arrival"], s, o, M, prediction=pred,
                                name=src.path.name if name is None else name)


def load_trace_csv(path, *, name: str | None = None) -> Trace:
    """Read a timed trace ``arrival_time,prompt,output[,prediction]`` (seconds, tokens).

    The format for real request logs (for example an LMSYS-Chat-1M sample with token counts and
    arrival times) to be run in continuous time by :func:`kvtheory.simulate_timed` or
    ``python -m kvtheory a100 --trace FILE``.  Rows must be sorted by time (a trace is a log);
    columns may come in any order.  (JSON lines and Parquet work too, despite the name.)

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
        Unsorted times raise an error naming the first line that goes back in time.
    """
    return _load_format(open_source(path, HEADERS["seconds"]), "seconds", None, name)


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
    return _load_format(open_source(path, HEADERS["splitwise"]), "splitwise", None, name)


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
    return _load_format(open_source(path, HEADERS["azure"]), "azure", None, name)


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
