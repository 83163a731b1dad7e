"""Workload generators: the paper's synthetic arrival models and LMSYS-like traffic.

Randomness only through a passed-in :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math

import numpy as np

from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.model.instance import Instance

__all__ = ["paper_model1", "paper_model2", "lmsys_like", "lmsys_like_columns", "LMSYS_STATS",
           "random_instance"]

#: Reported LMSYS-Chat-1M statistics of the paper's 10,000-conversation sample (v4/v5,
#: second-hand, the paper's v4/v5 experiments): words counted as tokens.
LMSYS_STATS = {"prompt_mean": 40.62, "prompt_median": 11.0,
               "output_mean": 85.32, "output_median": 45.0}


def _as_flag(value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"shared_prompt must be True or False, got {value!r}")
    return bool(value)


def _memory_and_sizes(rng, n, memory, memory_range, prompt_range, shared_prompt=False):
    M = (int(rng.integers(memory_range[0], memory_range[1] + 1)) if memory is None
         else as_int(memory, name="memory", minimum=2))
    if shared_prompt:                                   # one s for the whole instance
        s = np.full(n, int(rng.integers(prompt_range[0], prompt_range[1] + 1)), dtype=np.int64)
    else:
        s = rng.integers(prompt_range[0], prompt_range[1] + 1, size=n)
    if (s >= M).any():
        raise ValueError(f"prompt sizes up to {prompt_range[1]} leave no room for output in M={M}")
    o = rng.integers(1, M - s + 1)                      # o_i uniform on [1, M - s_i]
    return M, s, o


def paper_model1(rng: np.random.Generator, *, n: int | None = None, memory: int | None = None,
                 memory_range=(30, 50), n_range=(40, 60), prompt_range=(1, 5),
                 shared_prompt: bool = False) -> Instance:
    """Arrival model 1 of the paper's synthetic study: every request arrives at round 0.

    ``M ~ U{30..50}``, ``n ~ U{40..60}``, ``s_i ~ U{1..5}``, ``o_i ~ U{1..M - s_i}``
    (the paper's v4/v5 synthetic experiment, second-hand).  Pass ``n`` or ``memory`` to fix them.  With
    ``shared_prompt=True`` one ``s ~ U{1..5}`` is drawn for the whole instance (the reading of
    the paper's published code, whose program takes a single prompt size); the default draws
    one per request, and its random stream is unchanged by the keyword.

    Examples
    --------
    >>> import numpy as np
    >>> inst = paper_model1(np.random.default_rng(1))
    >>> 40 <= inst.n <= 60 and 30 <= inst.memory <= 50 and int(inst.arrival.max()) == 0
    True
    >>> paper_model1(np.random.default_rng(1), n=3, memory=8).n
    3
    >>> len(set(paper_model1(np.random.default_rng(1), shared_prompt=True).prompt.tolist()))
    1
    """
    rng = check_generator(rng)
    n = int(rng.integers(n_range[0], n_range[1] + 1)) if n is None else as_int(n, name="n", minimum=0)
    M, s, o = _memory_and_sizes(rng, n, memory, memory_range, prompt_range,
                                _as_flag(shared_prompt))
    return Instance.from_arrays(np.zeros(n, dtype=np.int64), s, o, M, name="paper model 1")


def paper_model2(rng: np.random.Generator, *, rate: float | None = None,
                 horizon: int | None = None, memory: int | None = None,
                 memory_range=(30, 50), rate_range=(0.5, 1.5), horizon_range=(40, 60),
                 prompt_range=(1, 5), shared_prompt: bool = False) -> Instance:
    """Arrival model 2: Poisson arrivals per round over a horizon (paper's synthetic study).

    ``rate ~ U[0.5, 1.5]`` requests per round, horizon ``~ U{40..60}`` rounds, the number of
    arrivals in each round ``t < horizon`` is Poisson(rate); sizes as in :func:`paper_model1`
    (``shared_prompt`` likewise).

    Examples
    --------
    >>> import numpy as np
    >>> inst = paper_model2(np.random.default_rng(2), rate=1.0, horizon=10, memory=20)
    >>> int(inst.arrival.max()) < 10 and inst.memory == 20
    True
    """
    rng = check_generator(rng)
    rate = (float(rng.uniform(*rate_range)) if rate is None
            else as_fraction(rate, name="rate", low=0.0, high=math.inf, low_open=True))
    horizon = (int(rng.integers(horizon_range[0], horizon_range[1] + 1)) if horizon is None
               else as_int(horizon, name="horizon", minimum=1))
    counts = rng.poisson(rate, size=horizon)
    arrival = np.repeat(np.arange(horizon), counts)
    M, s, o = _memory_and_sizes(rng, arrival.size, memory, memory_range, prompt_range,
                                _as_flag(shared_prompt))
    return Instance.from_arrays(arrival, s, o, M, name="paper model 2")


def _lognormal_params(mean: float, median: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with the given mean and median."""
    if mean <= median:
        raise ValueError(f"a lognormal needs mean > median, got mean={mean}, median={median}")
    return math.log(median), math.sqrt(2.0 * math.log(mean / median))


def lmsys_like(rng: np.random.Generator, n: int, *, rate: float, memory: int = 16_492,
               stats: dict | None = None) -> Instance:
    """LMSYS-like requests: lognormal lengths matched to the reported mean and median.

    Prompt and output lengths are ``ceil`` of lognormals whose median and mean match
    :data:`LMSYS_STATS` (prompt 11 / 40.62, output 45 / 85.32), clipped so ``s + o <= M``.
    Arrivals: a Poisson process with ``rate`` requests per round (the arrival round of each
    request is the floor of its exponential arrival time).  This distribution choice is ours.

    Examples
    --------
    >>> import numpy as np
    >>> inst = lmsys_like(np.random.default_rng(0), 20_000, rate=50)
    >>> 35 < float(inst.prompt.mean()) < 47 and 75 < float(inst.output.mean()) < 95
    True
    >>> 43 <= float(np.median(inst.output)) <= 47
    True
    """
    arrival, s, o = lmsys_like_columns(rng, n, rate=rate, memory=memory, stats=stats)
    return Instance.from_arrays(arrival, s, o, memory, name=f"lmsys-like rate={rate:g}")


def lmsys_like_columns(rng: np.random.Generator, n: int, *, rate: float, memory: int = 16_492,
                       stats: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns ``(arrival, prompt, output)`` of :func:`lmsys_like`, without the Instance.

    For traces too long to hold as request objects (the same draws as :func:`lmsys_like`).

    Examples
    --------
    >>> import numpy as np
    >>> a, s, o = lmsys_like_columns(np.random.default_rng(0), 5, rate=50)
    >>> a.tolist() == lmsys_like(np.random.default_rng(0), 5, rate=50).arrival.tolist()
    True
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=0)
    rate = as_fraction(rate, name="rate", low=0.0, high=math.inf, low_open=True)
    st = {**LMSYS_STATS, **(stats or {})}
    mu_s, sg_s = _lognormal_params(st["prompt_mean"], st["prompt_median"])
    mu_o, sg_o = _lognormal_params(st["output_mean"], st["output_median"])
    s = np.maximum(1, np.ceil(rng.lognormal(mu_s, sg_s, n))).astype(np.int64)
    o = np.maximum(1, np.ceil(rng.lognormal(mu_o, sg_o, n))).astype(np.int64)
    s = np.minimum(s, memory // 2)
    o = np.minimum(o, memory - s)
    arrival = np.floor(np.cumsum(rng.exponential(1.0 / rate, n))).astype(np.int64)
    return arrival, s, o


def random_instance(rng: np.random.Generator, n: int, memory: int, *, max_prompt: int = 3,
                    max_output: int | None = None, max_arrival: int = 0,
                    prediction_error: float | None = None) -> Instance:
    """Small uniform random instance, for tests and exercises.

    ``s ~ U{1..max_prompt}``, ``o ~ U{1..min(max_output, M - s)}``, ``a ~ U{0..max_arrival}``.
    With ``prediction_error = e``, predictions are ``round(o * U[1-e, 1+e])`` clipped to
    ``[1, M - s]``.

    Examples
    --------
    >>> import numpy as np
    >>> inst = random_instance(np.random.default_rng(0), 5, 10, max_arrival=3)
    >>> inst.n, bool((inst.prompt + inst.output <= 10).all())
    (5, True)
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=0)
    M = as_int(memory, name="memory", minimum=2)
    max_prompt = min(as_int(max_prompt, name="max_prompt", minimum=1), M - 1)
    s = rng.integers(1, max_prompt + 1, size=n)
    cap = M - s if max_output is None else np.minimum(M - s, as_int(max_output, name="max_output", minimum=1))
    o = rng.integers(1, cap + 1)
    a = rng.integers(0, as_int(max_arrival, name="max_arrival", minimum=0) + 1, size=n)
    pred = None
    if prediction_error is not None:
        e = as_fraction(prediction_error, name="prediction_error", high=1.0)
        pred = np.clip(np.rint(o * rng.uniform(1 - e, 1 + e, size=n)), 1, M - s).astype(np.int64)
    return Instance.from_arrays(a, s, o, M, prediction=pred)
