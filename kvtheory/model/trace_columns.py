"""Column roles, recognised formats and the conversion of trace columns to request arrays.

The part of :func:`kvtheory.model.traces.load_trace` between reading cells
(:mod:`kvtheory.model.trace_read`) and building a :class:`~kvtheory.model.traces.Trace`: which
column plays which role (:func:`parse_columns`, the recognised :data:`HEADERS`), what a numeric
arrival column counts (:data:`TIME_UNITS`), datetimes, bounds, and the order of the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kvtheory.model.trace_read import BLOCK, Source, check_header

__all__ = ["HEADERS", "TIME_UNITS", "ROLES", "MAX_ARRIVAL", "parse_columns"]

#: Accepted headers by format (``[...]`` marks an optional column).
HEADERS = {
    "rounds": "arrival,prompt,output[,prediction]",
    "seconds": "arrival_time,prompt,output[,prediction]",
    "azure": "TIMESTAMP,ContextTokens,GeneratedTokens",
    "splitwise": "arrived_at,num_prefill_tokens,num_decode_tokens",
}
#: What a numeric arrival column counts, and its size in seconds (``round``: rounds of the round
#: model, kept as rounds).
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "round": None}
#: The roles of ``columns``: arrival, prompt and output are required.
ROLES = ("arrival", "prompt", "output", "prediction")
#: The latest arrival a trace may hold, in seconds or rounds after the first (about 31.7 years
#: of seconds): later times would lose the precision of a batch time.
MAX_ARRIVAL = 10**9


@dataclass(frozen=True)
class _Format:
    """A recognised format: its columns by role, defaults and row order."""

    key: str
    roles: dict
    optional: tuple = ()
    unit: str | None = "s"           # default time unit; None: datetimes
    order: str = "sort"              # "sort" (stably), "check" (must be sorted), "keep"
    shift: bool = False              # times relative to the first request
    token_min: int = 0


_FORMATS = {
    "rounds": _Format("rounds", {"arrival": "arrival", "prompt": "prompt", "output": "output",
                                 "prediction": "prediction"}, ("prediction",), "round",
                      token_min=1),
    "seconds": _Format("seconds", {"arrival": "arrival_time", "prompt": "prompt",
                                   "output": "output", "prediction": "prediction"},
                       ("prediction",), order="check"),
    "azure": _Format("azure", {"arrival": "TIMESTAMP", "prompt": "ContextTokens",
                               "output": "GeneratedTokens"}, unit=None, shift=True),
    "splitwise": _Format("splitwise", {"arrival": "arrived_at", "prompt": "num_prefill_tokens",
                                       "output": "num_decode_tokens"}, shift=True),
}
_DETECT = (("TIMESTAMP", "azure"), ("arrived_at", "splitwise"), ("arrival_time", "seconds"),
           ("arrival", "rounds"))


def parse_columns(columns) -> dict:
    """The column of each role from ``"arrival=A,prompt=P,output=O[,prediction=D]"`` or a dict.

    Examples
    --------
    >>> parse_columns("arrival=ts, prompt=input_tokens,output=output_tokens")
    {'arrival': 'ts', 'prompt': 'input_tokens', 'output': 'output_tokens'}
    >>> parse_columns({"arrival": "t", "prompt": "p"})
    Traceback (most recent call last):
    ...
    ValueError: columns: missing role(s) output; expected arrival=NAME,prompt=NAME,output=NAME[,prediction=NAME]
    """
    usage = "expected arrival=NAME,prompt=NAME,output=NAME[,prediction=NAME]"
    if isinstance(columns, str):
        pairs = [p.strip() for p in columns.split(",") if p.strip()]
        if not pairs or any(p.count("=") != 1 for p in pairs):
            raise ValueError(f"columns: {usage}, got {columns!r}")
        items = [tuple(x.strip() for x in p.split("=")) for p in pairs]
    elif isinstance(columns, Mapping):
        items = [(str(k), v) for k, v in columns.items()]
    else:
        raise ValueError(f"columns must be a string or a mapping; {usage}, got "
                         f"{type(columns).__name__}")
    out: dict = {}
    for role, name in items:
        if role not in ROLES:
            raise ValueError(f"columns: unknown role {role!r}; {usage}")
        if role in out:
            raise ValueError(f"columns: role {role!r} given twice")
        if not isinstance(name, str) or not name:
            raise ValueError(f"columns: role {role!r} needs a column name, got {name!r}")
        out[role] = name
    missing = [r for r in ROLES[:3] if r not in out]
    if missing:
        raise ValueError(f"columns: missing role(s) {', '.join(missing)}; {usage}")
    return out


def _time_unit(time_unit):
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}, got {time_unit!r}")
    return time_unit


def _checked(src: Source, fmt: _Format) -> list[str]:
    """The header of a recognised format: required columns present, no others, no repeats."""
    expected = HEADERS[fmt.key]
    required = [c for r, c in fmt.roles.items() if r != "prediction"]
    allowed = list(fmt.roles.values())
    found = f"expected header {expected}, found {','.join(src.header)}"
    for problem, cols in (("missing", [c for c in required if c not in src.header]),
                          ("unknown", [c for c in src.header if c not in allowed])):
        if cols:
            raise ValueError(f"{src.at}: {problem} column(s) {', '.join(cols)}; {found}")
    check_header(src)
    return [c for c in allowed if c in src.header]


def _columns(src: Source, roles: dict, fmt: _Format, time_unit, *, strict: bool) -> dict:
    """Arrays of every role (times converted, rows ordered) plus unit, origin and word."""
    t = src.table(list(dict.fromkeys(roles.values())), strict=strict)
    acol = roles["arrival"]
    dated = t.is_datetime(acol) if fmt.unit is not None else True
    hint = "" if fmt.key != "mapped" else (
        " (the first row holds a datetime, so every row must)" if dated else "")
    if dated:
        if time_unit is not None:
            raise ValueError(f"{src.at}: time unit {time_unit!r} applies to numeric arrival "
                             f"columns; column {acol!r} holds datetimes (drop the time unit)")
        ns = t.datetimes(acol, hint=hint)
        base = int(ns.min())
        times, unit = np.empty(ns.size), "s"
        for i in range(0, ns.size, BLOCK):     # (ns - base) / 1e9 without an int64 copy
            times[i:i + BLOCK] = (ns[i:i + BLOCK] - base) / 1e9
        del ns
    else:
        unit_key = time_unit or fmt.unit
        scale = TIME_UNITS[unit_key]
        low = None if fmt.key == "mapped" else 0     # mapped times may be any real
        why = "" if fmt.key != "mapped" else (
            " (the first row holds a number, so every row must)" if not dated else "")
        if unit_key == "round":
            times = t.numbers(acol, integer=True, minimum=low, maximum=2**62, hint=why)
            unit = "round"
        else:
            times = t.numbers(acol, integer=False, minimum=low, hint=why)
            if scale != 1:
                times = times * scale
            unit = "s"
        low_time = times.min() if fmt.shift and times.size else 0
        if low_time != 0 or np.signbit(low_time):
            times = times - low_time
    span = MAX_ARRIVAL
    late = np.flatnonzero(times > span)
    if late.size:
        i = int(late[0])
        what = "rounds" if unit == "round" else "s"
        t.fail(i, f"column {acol!r} puts this request {float(times[i]):.6g} {what} after "
                  f"{'the first' if fmt.shift else 'time 0'}; at most {span:g} {what} are "
                  f"supported")
    out = {r: t.numbers(c, integer=True, minimum=fmt.token_min)
           for r, c in roles.items() if r != "arrival"}
    lines = t.lines
    if fmt.order == "sort":
        if (times[1:] < times[:-1]).any():      # already sorted: no reordered copies
            order = np.argsort(times, kind="stable")
            out = {r: v[order] for r, v in out.items()}
            times, lines = times[order], lines[order]
    elif fmt.order == "check":
        dec = np.flatnonzero(times[1:] < times[:-1])
        if dec.size:
            i = int(dec[0]) + 1
            t.fail(i, f"column {acol!r} goes back in time ({float(times[i]):g} after "
                      f"{float(times[i - 1]):g}); expected rows sorted by arrival")
    if times.dtype == np.int64 and list(roles.values()).count(acol) == 1 \
            and _writable(times):
        times = _float_in_place(times)          # rounds: no second arrival column
    for a in (times, lines, *out.values()):     # read-only: Trace takes them without a copy
        a.flags.writeable = False
    out.update(arrival=times, unit=unit, origin=lines, word=t.word)
    return out


def _writable(a: np.ndarray) -> bool:
    """Make ``a`` writeable if its memory allows (a read-only view of a pandas column of this
    read does; memory of pyarrow's does not)."""
    try:
        a.flags.writeable = True
    except ValueError:
        return False
    return True


def _float_in_place(a: np.ndarray) -> np.ndarray:
    """The int64 array ``a`` turned into float64 in its own memory, a block at a time.

    The values are those of ``a.astype(float)``; ``a`` must not be used afterwards.
    """
    out = a.view(np.float64)
    for i in range(0, a.size, BLOCK):
        out[i:i + BLOCK] = a[i:i + BLOCK]
    return out
