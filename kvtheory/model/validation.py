"""Input validation, in one place (after scipy's ``_milp_iv``).

Every public constructor and entry point of :mod:`kvtheory` funnels its checks through the
functions here, so that every error message has the same shape: what was expected, what was
found, and which request or field it concerns.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_int(value, *, name: str, minimum: int | None = None, where: str = "") -> int:
    """Return ``value`` as a Python ``int`` or raise a ``ValueError`` naming it.

    Accepts Python and numpy integers, and floats that are exactly integral (``3.0``).
    Rejects bools, NaN, infinities, non-integral floats and anything else.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{prefix}{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            raise ValueError(f"{prefix}{name} must be an integer, got NaN")
        if math.isinf(v) or v != int(v):
            raise ValueError(f"{prefix}{name} must be an integer, got {value!r}")
        out = int(v)
    else:
        raise ValueError(f"{prefix}{name} must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{prefix}{name} must be >= {minimum}, got {out}")
    return out


def as_fraction(value, *, name: str, low: float = 0.0, high: float = 1.0,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float in the interval [low, high] (ends optionally open)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} must be a real number, got NaN")
    too_low = v <= low if low_open else v < low
    too_high = v >= high if high_open else v > high
    if too_low or too_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must lie in {lo}{low}, {high}{hi}, got {v}")
    return v


def check_request_fields(index: int, arrival, prompt, output, prediction):
    """Validate one request's fields; return them as ints (prediction may be ``None``)."""
    where = f"request {index}"
    a = as_int(arrival, name="arrival", minimum=0, where=where)
    s = as_int(prompt, name="prompt", minimum=1, where=where)
    o = as_int(output, name="output", minimum=1, where=where)
    p = None if prediction is None else as_int(prediction, name="prediction", minimum=1, where=where)
    return a, s, o, p


def check_fits(index: int, prompt: int, output: int, prediction: int | None, memory: int) -> None:
    """Raise if request ``index`` could never run in memory ``memory``."""
    if prompt + output > memory:
        raise ValueError(
            f"request {index} can never fit: s+o={prompt + output} > M={memory}")
    if prediction is not None and prompt + prediction > memory:
        raise ValueError(
            f"request {index} has prediction {prediction} with s+prediction="
            f"{prompt + prediction} > M={memory}; no scheduler could ever admit it "
            f"(clip predictions to M - s)")


def check_generator(rng) -> np.random.Generator:
    """Require a ``numpy.random.Generator`` (the only source of randomness allowed)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}")
    return rng
