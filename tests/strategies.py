"""Hypothesis strategies for small random instances."""

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
