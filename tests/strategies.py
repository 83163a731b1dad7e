"""Hypothesis strategies for small random instances."""

import numpy as np
from hypothesis import strategies as st

from kvtheory import Instance


@st.composite
def instances(draw, max_n=6, max_memory=10, max_arrival=4, predictions=None):
    """Small valid instances; ``predictions`` in {None, "exact", "over", "noisy"}."""
    M = draw(st.integers(3, max_memory))
    n = draw(st.integers(1, max_n))
    a, s, o, p = [], [], [], []
    for _ in range(n):
        si = draw(st.integers(1, min(3, M - 1)))
        oi = draw(st.integers(1, min(5, M - si)))
        a.append(draw(st.integers(0, max_arrival)))
        s.append(si)
        o.append(oi)
        if predictions == "over":
            p.append(draw(st.integers(oi, M - si)))
        elif predictions == "noisy":
            p.append(draw(st.integers(1, M - si)))
    return Instance.from_arrays(a, s, o, M, prediction=p if predictions in ("over", "noisy") else None)


@st.composite
def paper_traces(draw, max_n=8, max_memory=24, ties=True):
    """Small valid paper-engine traces ``(M, s, o, arrival, prediction, rules)``.

    ``rules`` is ``{}`` (the published code's memory timing and event order) or both exact;
    predictions are ``None`` (the outputs) or anything that fits (below the outputs too, so
    evictions happen); with ``ties`` about half the gaps are 0 (simultaneous arrivals).
    """
    M = draw(st.integers(4, max_memory))
    n = draw(st.integers(1, max_n))
    rules = draw(st.sampled_from(({}, {"memory_timing": "exact", "event_order": "exact"},
                                  {"memory_timing": "code", "event_order": "exact"},
                                  {"memory_timing": "exact", "event_order": "code"})))
    x = 1 if rules.get("memory_timing", "code") == "code" else 0   # code: s + o + 1 <= M
    s = [draw(st.integers(1, M // 2)) for _ in range(n)]
    o = [draw(st.integers(1, M - y - x)) for y in s]
    gap = st.one_of(st.just(0.0), st.floats(0, 0.2)) if ties else st.floats(0, 0.2)
    gaps = draw(st.lists(gap, min_size=n, max_size=n))
    arrival = [float(v) for v in np.cumsum(gaps)]
    pred = None
    if draw(st.booleans()):
        pred = [draw(st.integers(1, M - y - x)) for y in s]
    return M, s, o, arrival, pred, rules
