"""Llama2-70B on A100s: timed workloads, energy accounting and the real-data replication.

The paper's real-data experiment (v4/v5, second-hand) runs 10,000 LMSYS-Chat-1M
conversations through every scheduler on Llama2-70B served by 2 x A100 with KV capacity
``M = 16,492`` tokens, Poisson arrivals at ``lambda = 50`` and ``lambda = 10`` requests per
second, and batch times from the Vidur simulator.  This module rebuilds that experiment from
the pieces of :mod:`kvtheory.hardware.calibration` (batch time, power) and :func:`kvtheory.simulate_timed`:

* :func:`lmsys_trace` -- LMSYS-like lengths (:func:`kvtheory.model.workloads.lmsys_like`) with Poisson
  arrival *times* in seconds, as a :class:`kvtheory.model.traces.Trace`;
* :func:`noisy_predictions` -- the prediction-error model of the study;
* :class:`BatchTimer` -- the calibrated batch time as the callable ``simulate_timed`` wants;
* :func:`batch_composition`, :func:`energy_report` -- per-round batches recomputed from a
  :class:`kvtheory.TimedSchedule`'s records and the energy they draw;
* :func:`run_replication` -- every policy at both rates plus the prediction-error study, in a
  process pool; ``python -m kvtheory a100`` runs it at full size;
* the chapter's figures.  The claims it informs are checked in :mod:`kvtheory.claims.a100`.

Units: seconds, tokens, joules, watts.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from kvtheory.model.cells import run_cells
from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.hardware.batchtime import BatchTimeModel, batch_time_model
from kvtheory.hardware.calibration import (A100_80GB, DEFAULT_POWER, PAPER_KV_CAPACITY, PowerModel,
                                           kv_capacity_tokens, reserve_for_kv_capacity,
                                           vidur_kv_capacity_tokens)
from kvtheory.model.checker import check_schedule
from kvtheory.hardware.energy import (BatchComposition, EnergyReport, batch_composition,  # noqa: F401
                     batch_durations, energy_report, latency_slope)
from kvtheory.engines.policies import BASE_POLICIES, POLICIES, make_policy, mc_benchmark, mc_sf
from kvtheory.engines.simulator import LivelockError, simulate_timed
from kvtheory.model.traces import Trace
from kvtheory.model.workloads import LMSYS_STATS, lmsys_like

__all__ = [
    "PAPER_REAL", "RATES", "ERRORS", "POWER_SWEEP", "lmsys_trace", "length_match",
    "noisy_predictions", "BatchTimer", "batch_timer", "BatchComposition", "batch_composition",
    "EnergyReport", "batch_durations", "energy_report", "latency_slope", "run_timed", "ReplicationResult",
    "run_replication", "replication_table", "paper_comparison", "energy_table",
    "prediction_table", "kv_capacity_readings", "trace_table", "main",
]

#: The paper's reported real-data figures (v4/v5, second-hand): average
#: latency of MC-SF and MC-Benchmark (unit and arrival rate not stated), the rates and sizes.
PAPER_REAL = {"mcsf_latency": 32.11, "mc_benchmark_latency": 46.47, "n": 10_000,
              "rates": (50.0, 10.0), "memory": PAPER_KV_CAPACITY}
#: Arrival rates of the paper's high- and low-demand settings, requests per second.
RATES = (50.0, 10.0)
#: Prediction errors of the paper's study.
ERRORS = (0.2, 0.5, 0.8)
#: Power assumptions swept in the chapter (watts per GPU; see :class:`PowerModel`).  All ours.
POWER_SWEEP: Mapping[str, PowerModel] = {
    "default": DEFAULT_POWER,
    "flat (busy = 400 W)": PowerModel(idle_watts=60.0, decode_watts=400.0, prefill_watts=400.0),
    "light decode (200 W)": PowerModel(decode_watts=200.0),
    "proportional": PowerModel(idle_watts=60.0, decode_watts=60.0, prefill_watts=400.0,
                               saturation_tokens=2048.0),
    "no idle power": PowerModel(idle_watts=0.0),
}


# ===================================================================== workloads
def lmsys_trace(rng: np.random.Generator, n: int, *, rate: float,
                memory: int = PAPER_KV_CAPACITY) -> Trace:
    """LMSYS-like requests with Poisson arrival times in seconds (continuous time).

    Lengths are those of :func:`kvtheory.model.workloads.lmsys_like` (lognormals matched to the
    reported prompt mean/median 40.62/11 and output 85.32/45, clipped so ``s + o <= M``); arrival
    times are the partial sums of exponential gaps with mean ``1 / rate`` seconds, shifted so the
    first request arrives at 0.  Both draws come from ``rng``.

    Examples
    --------
    >>> import numpy as np
    >>> tr = lmsys_trace(np.random.default_rng(0), 5_000, rate=50)
    >>> tr.n, float(tr.arrival_time[0]), 90 < tr.duration < 110   # about n / rate seconds
    (5000, 0.0, True)
    >>> lmsys_trace(np.random.default_rng(0), 10, rate=0)
    Traceback (most recent call last):
    ...
    ValueError: rate must lie in (0.0, inf], got 0.0

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of requests.
    rate : float
        Poisson arrival rate, requests per second.
    memory : int
        KV capacity ``M`` used for the clipping (default 16,492).

    Returns
    -------
    Trace
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    rate = as_fraction(rate, name="rate", low=0.0, high=math.inf, low_open=True)
    inst = lmsys_like(rng, n, rate=rate, memory=memory)        # lengths (its rounds are unused)
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    return Trace(t - t[0], inst.prompt, inst.output, name=f"lmsys-like {rate:g}/s")


def length_match(trace: Trace) -> list[dict]:
    """Generated length statistics beside the paper's reported LMSYS sample (words as tokens).

    Examples
    --------
    >>> import numpy as np
    >>> rows = length_match(lmsys_trace(np.random.default_rng(0), 20_000, rate=50))
    >>> [r["statistic"] for r in rows]
    ['prompt mean', 'prompt median', 'output mean', 'output median']
    >>> all(abs(r["relative_difference"]) < 0.1 for r in rows)
    True
    """
    got = {"prompt mean": float(trace.prompt.mean()),
           "prompt median": float(np.median(trace.prompt)),
           "output mean": float(trace.output.mean()),
           "output median": float(np.median(trace.output))}
    paper = {"prompt mean": LMSYS_STATS["prompt_mean"],
             "prompt median": LMSYS_STATS["prompt_median"],
             "output mean": LMSYS_STATS["output_mean"],
             "output median": LMSYS_STATS["output_median"]}
    return [{"statistic": k, "paper": paper[k], "generated": got[k],
             "relative_difference": (got[k] - paper[k]) / paper[k]} for k in got]


def noisy_predictions(rng: np.random.Generator, prompt: Sequence[int], output: Sequence[int],
                      memory: int, error: float) -> np.ndarray:
    """Predicted outputs ``õ = round(o * U[1 - e, 1 + e])`` clipped to ``[1, M - s]``.

    The noise model of our prediction-error study (the paper's is not known):
    independent multiplicative uniform errors of relative size ``error``, so predictions are
    as often too short as too long; the clip keeps every request admissible.

    Examples
    --------
    >>> import numpy as np
    >>> noisy_predictions(np.random.default_rng(0), [1, 1], [10, 10], 100, 0.0).tolist()
    [10, 10]
    >>> p = noisy_predictions(np.random.default_rng(0), [1] * 1000, [100] * 1000, 1000, 0.5)
    >>> 50 <= int(p.min()) and int(p.max()) <= 150
    True
    >>> noisy_predictions(np.random.default_rng(0), [1], [10], 100, 1.5)
    Traceback (most recent call last):
    ...
    ValueError: error must lie in [0.0, 1.0], got 1.5

    Returns
    -------
    numpy.ndarray of int64
    """
    rng = check_generator(rng)
    e = as_fraction(error, name="error")
    s = np.asarray(prompt, dtype=np.int64)
    o = np.asarray(output, dtype=np.int64)
    M = as_int(memory, name="memory", minimum=2)
    return np.clip(np.rint(o * rng.uniform(1 - e, 1 + e, size=o.size)), 1,
                   M - s).astype(np.int64)


# ===================================================================== batch time
@dataclass(frozen=True)
class BatchTimer:
    """The calibrated batch time as the callable :func:`kvtheory.simulate_timed` needs.

    ``simulate_timed`` passes ``(prefill_tokens, decode_requests, decode_kv_tokens)`` but not
    the sum of squared prompt lengths that prefill attention costs.  We estimate it as
    ``prefill_tokens * square_factor`` clipped to ``[P, P**2]``, with ``square_factor =
    E[s**2] / E[s]`` of the workload (exact in expectation for a batch of independently drawn
    prompts).  The same timer is used to time the simulation and to account energy.

    Examples
    --------
    >>> timer = BatchTimer(batch_time_model(tp=2), square_factor=500.0)
    >>> round(timer(0, 1, 1), 4)                 # a lone decode step
    0.0564
    >>> timer(1000, 0, 0) < batch_time_model(tp=2).time(1000, 0, 0)   # less than one prompt
    True
    >>> BatchTimer(batch_time_model(), square_factor=0.5)
    Traceback (most recent call last):
    ...
    ValueError: square_factor must be >= 1 (E[s^2]/E[s] of prompts >= 1), got 0.5

    Attributes
    ----------
    model : BatchTimeModel
    square_factor : float
    """

    model: BatchTimeModel
    square_factor: float = 1.0

    def __post_init__(self):
        if not isinstance(self.model, BatchTimeModel):
            raise ValueError(f"model must be a BatchTimeModel, got {type(self.model).__name__}")
        f = float(self.square_factor)
        if not (math.isfinite(f) and f >= 1):
            raise ValueError(f"square_factor must be >= 1 (E[s^2]/E[s] of prompts >= 1), "
                             f"got {self.square_factor}")
        object.__setattr__(self, "square_factor", f)

    def square_sum(self, prefill_tokens: int) -> int:
        """The estimated sum of squared prompt lengths of a batch of ``prefill_tokens``."""
        P = int(prefill_tokens)
        return min(P * P, max(P, int(round(P * self.square_factor))))

    def __call__(self, prefill_tokens: int, decode_requests: int, decode_kv_tokens: int) -> float:
        return self.model.time(prefill_tokens, decode_requests, decode_kv_tokens,
                               self.square_sum(prefill_tokens))


def batch_timer(prompt: Sequence[int], tp: int = 2, network: str = "pairwise_nvlink",
                **assumptions) -> BatchTimer:
    """A :class:`BatchTimer` for a workload with these prompt lengths.

    Examples
    --------
    >>> timer = batch_timer([10, 10, 10])
    >>> timer.square_factor, timer.model.tp
    (10.0, 2)
    """
    s = np.asarray(prompt, dtype=float)
    if s.size == 0 or (s < 1).any():
        raise ValueError("prompt must hold at least one length, all >= 1")
    return BatchTimer(batch_time_model(tp, network, **assumptions),
                      float((s * s).mean() / s.mean()))


# ===================================================================== one run
def _policy(name, reserve: float):
    if callable(name) and not reserve:               # any policy(state) -> Decision
        return name
    if isinstance(name, str) and name == "longest-first":    # planted (a check's power)
        from kvtheory.engines.policies.planted import longest_first
        return make_policy(longest_first, f"longest-first(reserve={reserve:g})" if reserve
                           else "longest-first", reserve=float(reserve))
    if reserve:
        funcs = {"mc-sf": mc_sf, "mc-benchmark": mc_benchmark}
        if name not in funcs:
            raise ValueError(f"a reserve applies to mc-sf and mc-benchmark only, got {name!r}")
        return make_policy(funcs[name], f"{name}(reserve={reserve:g})", reserve=reserve)
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    return POLICIES[name]


def run_timed(trace: Trace, policy, *, memory: int = PAPER_KV_CAPACITY,
              timer: BatchTimer | None = None, prediction: Sequence[int] | None = None,
              reserve: float = 0.0, power_models: Mapping[str, PowerModel] | None = None,
              n_gpus: int = 2, bins: int = 40, progress: bool = False,
              with_schedule: bool = False) -> tuple:
    """Run one registered policy on a trace in continuous time; check it; measure everything.

    The schedule goes through :func:`kvtheory.check_schedule`.  A policy that livelocks gets a
    row with ``status = "livelock"`` and no figures.

    Examples
    --------
    >>> import numpy as np
    >>> tr = lmsys_trace(np.random.default_rng(0), 200, rate=10)
    >>> row, curve = run_timed(tr, "mc-sf")
    >>> row["status"], row["n"], row["evictions"], row["avg_latency_s"] > 0
    ('ok', 200, 0, True)

    Parameters
    ----------
    trace : Trace
        Prompt and output lengths must be >= 1.
    policy : str or callable
        A key of :data:`kvtheory.POLICIES`, ``"longest-first"`` (the planted
        :func:`kvtheory.engines.policies.planted.longest_first`; a reserve applies to it too),
        or any ``policy(state) -> Decision`` (labelled by its ``__name__``).
    memory : int
    timer : BatchTimer, optional
        Default :func:`batch_timer` of the trace's prompts (TP 2, pairwise NVLink).
    prediction : sequence of int, optional
        Predicted outputs shown to the scheduler (default exact).
    reserve : float
        MC-SF / MC-Benchmark admission reserve (fraction of ``M``).
    power_models : mapping of str to PowerModel, optional
        Energy is reported under each (default ``{"default": DEFAULT_POWER}``).
    n_gpus : int
    bins : int
        Arrival-time bins of the latency-over-time curve.
    progress : bool
        Show a tqdm bar of completed requests.
    with_schedule : bool
        Also return the :class:`~kvtheory.simulator.TimedSchedule` (``None`` on livelock).

    Returns
    -------
    (dict, dict) or (dict, dict, TimedSchedule)
        A tidy row of figures and the curve ``{"time": [...], "latency": [...]}`` (mean
        latency per arrival-time bin).
    """
    timer = batch_timer(trace.prompt) if timer is None else timer
    power_models = {"default": DEFAULT_POWER} if power_models is None else dict(power_models)
    pol = _policy(policy, reserve)
    label = policy if isinstance(policy, str) else getattr(policy, "__name__", "policy")
    row = {"policy": label, "reserve": float(reserve), "n": trace.n}
    t0 = time.perf_counter()
    try:
        res = simulate_timed(trace.prompt, trace.output, trace.arrival_time, memory, pol, timer,
                             prediction=prediction, name=label, progress=progress)
    except LivelockError:
        row.update(status="livelock", sim_seconds=time.perf_counter() - t0)
        return (row, {"time": [], "latency": []}) + ((None,) if with_schedule else ())
    sim = time.perf_counter() - t0
    check_schedule(res.schedule.instance, res.schedule)
    lat, arr = res.latency, res.arrival_time
    span = float(res.completion_time.max() - arr.min())
    comp = batch_composition(res)
    dur = batch_durations(res, timer, comp)
    energies = {k: energy_report(res, timer, power=pm, n_gpus=n_gpus, composition=comp,
                                 durations=dur) for k, pm in power_models.items()}
    e = energies[next(iter(energies))]
    row.update(
        status="ok", avg_latency_s=float(lat.mean()), p50_latency_s=float(np.median(lat)),
        p95_latency_s=float(np.percentile(lat, 95)), avg_ttft_s=float(res.ttft.mean()),
        latency_slope=latency_slope(res), throughput_req_s=trace.n / span,
        output_tok_s=float(trace.output.sum()) / span, makespan_s=span,
        busy_s=e.busy_seconds, evictions=res.schedule.evictions,
        tokens_recomputed=res.schedule.tokens_recomputed, rounds=comp.rounds,
        mean_batch_tokens=float(comp.tokens[1:].mean()), energy_kj=e.joules / 1e3,
        energy_per_request_j=e.per_request, energy_per_token_j=e.per_output_token,
        energy_kj_by_power={k: v.joules / 1e3 for k, v in energies.items()},
        sim_seconds=sim)
    edges = np.linspace(arr.min(), arr.max() + 1e-9, as_int(bins, name="bins", minimum=1) + 1)
    idx = np.clip(np.searchsorted(edges, arr, side="right") - 1, 0, bins - 1)
    cnt = np.bincount(idx, minlength=bins)
    mean = np.bincount(idx, weights=lat, minlength=bins) / np.maximum(cnt, 1)
    keep = cnt > 0
    curve = {"time": ((edges[:-1] + edges[1:]) / 2)[keep].tolist(),
             "latency": mean[keep].tolist()}
    return (row, curve, res) if with_schedule else (row, curve)


# ===================================================================== the replication
@dataclass(frozen=True)
class _Task:
    rate: float
    trace_seed: int
    policy: str
    reserve: float = 0.0
    error: float | None = None
    prediction_seed: int | None = None


@dataclass(frozen=True)
class _Setup:
    n: int
    memory: int
    tp: int
    network: str
    power_models: tuple


def _work(args) -> tuple[dict, dict]:
    setup, task = args
    trace = lmsys_trace(np.random.default_rng(task.trace_seed), setup.n, rate=task.rate,
                        memory=setup.memory)
    pred = None
    if task.error is not None:
        pred = noisy_predictions(np.random.default_rng(task.prediction_seed), trace.prompt,
                                 trace.output, setup.memory, task.error)
    timer = batch_timer(trace.prompt, setup.tp, setup.network)
    row, curve = run_timed(trace, task.policy, memory=setup.memory, timer=timer,
                           prediction=pred, reserve=task.reserve,
                           power_models=dict(setup.power_models), n_gpus=setup.tp)
    row = {"rate": task.rate, "error": task.error, **row}
    return row, curve


@dataclass(frozen=True)
class ReplicationResult:
    """Everything :func:`run_replication` measured.

    Attributes
    ----------
    rows : tuple of dict
        One tidy row per (rate, policy) with ``error = None`` (exact predictions), and one per
        (rate, error, policy) of the prediction-error study.
    curves : dict
        ``(rate, error, policy) -> {"time": [...], "latency": [...]}``.
    config : dict
        ``n, memory, rates, errors, reserve, tp, network, workers, power_models``.
    wall_seconds : float
        Wall-clock time of the whole run.
    """

    rows: tuple
    curves: dict = field(repr=False)
    config: dict
    wall_seconds: float
    setup: object = field(default=None, repr=False, compare=False)
    tasks: tuple = field(default=(), repr=False, compare=False)

    def main_rows(self, rate: float | None = None) -> list[dict]:
        """Rows with exact predictions (optionally of one rate)."""
        return [r for r in self.rows if r["error"] is None
                and (rate is None or r["rate"] == rate)]

    def error_rows(self) -> list[dict]:
        """Rows of the prediction-error study."""
        return [r for r in self.rows if r["error"] is not None]

    def row(self, rate: float, policy: str, error: float | None = None) -> dict:
        """The row of one run."""
        for r in self.rows:
            if r["rate"] == rate and r["policy"] == policy and r["error"] == error:
                return r
        raise KeyError(f"no run rate={rate}, policy={policy!r}, error={error}")

    def rerun(self, policy: str, rate: float, error: float | None = None,
              reserve: float | None = None) -> dict:
        """Run ``policy`` in the place of MC-SF on the same trace (and predictions) as one run.

        The trace, the batch timer, the power models and, for ``error`` not ``None``, the
        noisy predictions and the reserve are those of MC-SF's run at ``(rate, error)``:
        ``policy`` (e.g. the planted ``"longest-first"``) is measured exactly as MC-SF was.
        ``reserve`` overrides the run's reserve (e.g. MC-SF holding half the memory back).

        Examples
        --------
        >>> import numpy as np
        >>> res = run_replication(np.random.default_rng(0), 150, rates=(10.0,), errors=(),
        ...                       policies=("mc-sf", "vllm"), workers=1)
        >>> res.rerun("mc-sf", 10.0)["avg_latency_s"] == res.row(10.0, "mc-sf")["avg_latency_s"]
        True
        >>> res.rerun("longest-first", 10.0)["policy"]
        'longest-first'
        """
        from dataclasses import replace
        task = next((t for t in self.tasks if t.rate == rate and t.error == error
                     and t.policy == "mc-sf"), None)
        if task is None or self.setup is None:
            raise KeyError(f"no MC-SF run at rate={rate}, error={error} to rerun")
        task = replace(task, policy=policy)
        if reserve is not None:
            task = replace(task, reserve=float(reserve))
        return _work((self.setup, task))[0]


def run_replication(rng: np.random.Generator, n: int = 10_000, *,
                    rates: Sequence[float] = RATES, memory: int = PAPER_KV_CAPACITY,
                    policies: Sequence[str] | None = None, errors: Sequence[float] = ERRORS,
                    reserve: float = 0.1, error_policies: Sequence[str] = ("mc-sf",
                                                                           "mc-benchmark"),
                    power_models: Mapping[str, PowerModel] | None = None, tp: int = 2,
                    network: str = "pairwise_nvlink",
                    workers: int | None = None, dask=None, cache: bool = False,
                    progress: bool = False) -> ReplicationResult:
    """The paper's real-data experiment: every policy at every rate, plus prediction errors.

    For each rate one LMSYS-like trace (:func:`lmsys_trace`) is shared by all policies (common
    random numbers); each policy runs in continuous time with the calibrated batch time
    (:func:`batch_timer`, TP ``tp``) and ``M = memory``; every schedule is checked; latency,
    throughput, evictions and energy (under every power model) are measured.  The
    prediction-error study runs ``error_policies`` with ``reserve`` and noisy predictions
    (:func:`noisy_predictions`, one draw per rate and error shared by those policies).  The
    runs are cells of the one executor, :func:`kvtheory.model.cells.run_cells`: spread over
    ``workers`` processes (default: the number of CPUs; 1 runs in this process) or a dask
    scheduler (``dask``), each run stored on disk with ``cache=True`` (an interrupted run
    resumes; ``wall_seconds`` then counts only the runs computed).

    Examples
    --------
    >>> import numpy as np
    >>> res = run_replication(np.random.default_rng(0), 150, rates=(10.0,), errors=(0.5,),
    ...                       policies=("mc-sf", "vllm"), workers=1)
    >>> [(r["policy"], r["error"]) for r in res.rows]
    [('mc-sf', None), ('vllm', None), ('mc-sf', 0.5), ('mc-benchmark', 0.5)]

    Returns
    -------
    ReplicationResult
    """
    rng = check_generator(rng)
    n = as_int(n, name="n", minimum=1)
    names = tuple(BASE_POLICIES) if policies is None else tuple(policies)
    for name in (*names, *error_policies):
        _policy(name, 0.0)
    power_models = dict(POWER_SWEEP if power_models is None else power_models)
    setup = _Setup(n, as_int(memory, name="memory", minimum=2), tp, network,
                   tuple(power_models.items()))
    tasks = []
    for rate in rates:
        seed = int(rng.integers(2**63))
        tasks += [_Task(float(rate), seed, name) for name in names]
        for e in errors:
            pseed = int(rng.integers(2**63))
            tasks += [_Task(float(rate), seed, name, float(reserve), float(e), pseed)
                      for name in error_policies]
    workers = (os.cpu_count() or 1) if workers is None else as_int(workers, name="workers",
                                                                      minimum=1)
    t0 = time.perf_counter()
    # slowest first (high rate, clear-all policies that may livelock), results in task order
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].rate,
                                                     "greedy" not in tasks[i].policy))
    run = run_cells(_work, [{"args": (setup, tasks[i])} for i in order],
                    workers=min(workers, max(len(tasks), 1)), dask=dask, cache=cache,
                    progress=progress, desc="a100")
    done = dict(zip(order, run.values))
    out = [done[i] for i in range(len(tasks))]
    wall = time.perf_counter() - t0
    rows = tuple(r for r, _ in out)
    curves = {(t.rate, t.error, t.policy): c for t, (_, c) in zip(tasks, out)}
    config = {"n": n, "memory": setup.memory, "rates": tuple(float(r) for r in rates),
              "errors": tuple(float(e) for e in errors), "reserve": float(reserve), "tp": tp,
              "network": network, "workers": workers, "power_models": tuple(power_models),
              "computed": run.computed, "loaded": run.loaded}
    return ReplicationResult(rows, curves, config, wall, setup, tuple(tasks))


# ===================================================================== tables
_MAIN_COLUMNS = ("rate", "policy", "status", "avg_latency_s", "p95_latency_s", "avg_ttft_s",
                 "latency_slope", "throughput_req_s", "evictions", "energy_kj",
                 "energy_per_token_j")


def replication_table(result: ReplicationResult, columns: Sequence[str] = _MAIN_COLUMNS,
                      rate: float | None = None) -> list[dict]:
    """The main table: one row per (rate, policy) with exact predictions, chosen columns.

    Livelocked runs show ``"livelock"`` and empty figures.
    """
    return [{c: r.get(c, "") for c in columns} for r in result.main_rows(rate)]


def paper_comparison(result: ReplicationResult) -> list[dict]:
    """MC-SF against MC-Benchmark per rate, beside the paper's reported 32.11 vs 46.47.

    ``reduction`` is ``1 - MC-SF / MC-Benchmark`` average latency (the paper's: 30.9 %).
    """
    paper = 1 - PAPER_REAL["mcsf_latency"] / PAPER_REAL["mc_benchmark_latency"]
    rows = [{"setting": "paper (unit, rate unclear)", "mcsf": PAPER_REAL["mcsf_latency"],
             "mc_benchmark": PAPER_REAL["mc_benchmark_latency"], "reduction": paper,
             "mcsf_best": "yes (both rates)"}]
    for rate in result.config["rates"]:
        a = result.row(rate, "mc-sf")
        b = result.row(rate, "mc-benchmark")
        others = [r for r in result.main_rows(rate) if r["policy"] != "mc-sf"]
        best = all(r["status"] == "livelock" or a["avg_latency_s"] < r["avg_latency_s"]
                   for r in others)
        rows.append({"setting": f"ours, {rate:g}/s (seconds)", "mcsf": a["avg_latency_s"],
                     "mc_benchmark": b["avg_latency_s"],
                     "reduction": 1 - a["avg_latency_s"] / b["avg_latency_s"],
                     "mcsf_best": "yes" if best else "no"})
    return rows


def energy_table(result: ReplicationResult) -> list[dict]:
    """Energy (kJ) of every policy under every power model, MC-SF's rank (1 = least) and margin.

    One row per (rate, power model); livelocked policies are left out of the ranking.
    ``least_other`` is the finished policy other than MC-SF with the least energy and
    ``margin = 1 - mcsf_kj / least_other_kj`` (> 0: MC-SF uses less); both are ``None`` when
    MC-SF or every other policy livelocked.  The one place these margins are computed.
    """
    out = []
    for rate in result.config["rates"]:
        ok = [r for r in result.main_rows(rate) if r["status"] == "ok"]
        for pm in result.config["power_models"]:
            vals = {r["policy"]: r["energy_kj_by_power"][pm] for r in ok}
            ranked = sorted(vals, key=vals.get)
            others = {k: v for k, v in vals.items() if k != "mc-sf"}
            least = min(others, key=others.get) if others else None
            margin = (1 - vals["mc-sf"] / others[least]
                      if least is not None and "mc-sf" in vals else None)
            out.append({"rate": rate, "power": pm, "mcsf_kj": vals.get("mc-sf", math.nan),
                        "best": ranked[0], "best_kj": vals[ranked[0]],
                        "mcsf_rank": ranked.index("mc-sf") + 1 if "mc-sf" in vals else None,
                        "of": len(ranked), "least_other": least,
                        "least_other_kj": others[least] if least is not None else None,
                        "margin": margin})
    return out


def prediction_table(result: ReplicationResult) -> list[dict]:
    """Prediction-error study: MC-SF and MC-Benchmark with reserve, vLLM (no predictions)."""
    out = []
    for rate in result.config["rates"]:
        v = result.row(rate, "vllm") if any(r["policy"] == "vllm"
                                            for r in result.main_rows(rate)) else None
        for e in result.config["errors"]:
            row = {"rate": rate, "error": e}
            for r in result.error_rows():
                if r["rate"] == rate and r["error"] == e:
                    row[f"{r['policy']}_s"] = r.get("avg_latency_s", math.nan)
                    row[f"{r['policy']}_evictions"] = r.get("evictions", "")
            if v is not None:
                row["vllm_s"] = v.get("avg_latency_s", math.nan)
            out.append(row)
    return out


# ===================================================================== claim checks
def kv_capacity_readings() -> list[dict]:
    """``M`` for Llama2-70B on 2 x A100-80GB under the standard memory accountings.

    Examples
    --------
    >>> rows = kv_capacity_readings()
    >>> [r["tokens"] for r in rows][:3]
    [103287, 50859, 54067]
    """
    reserve = reserve_for_kv_capacity()
    rows = [
        ("no reserve (weights only)", kv_capacity_tokens()),
        ("vLLM gpu_memory_utilization 0.9", kv_capacity_tokens(reserve_fraction=0.1)),
        ("Vidur memory planner (10 % margin)", vidur_kv_capacity_tokens(2)),
        ("decimal 80 GB, 0.9 utilisation",
         kv_capacity_tokens(gpu=_decimal_a100(), reserve_fraction=0.1)),
        ("fp8 KV cache, vLLM 0.9", kv_capacity_tokens(reserve_fraction=0.1, kv_dtype_bytes=1)),
        (f"reserve {reserve / 1e9:.2f} GB per GPU (solved)",
         kv_capacity_tokens(reserve_bytes=reserve)),
    ]
    return [{"reading": k, "tokens": int(v), "ratio_to_paper": v / PAPER_KV_CAPACITY}
            for k, v in rows]


def _decimal_a100():
    from kvtheory.hardware.calibration import GPUSpec
    g = A100_80GB
    return GPUSpec("A100 (80e9 B)", 80 * 10**9, g.hbm_bandwidth, g.peak_flops, g.tdp_watts)


# ===================================================================== figures
def trace_table(trace: Trace, policies: Sequence[str] | None = None, *,
                memory: int = PAPER_KV_CAPACITY) -> list[dict]:
    """Every policy (default: every registered one) on one trace in seconds, timed on 2 x A100.

    Each policy runs through :func:`run_timed` (calibrated batch time, checked schedule) under
    the default power model; one row per policy with the main table's columns but the rate.

    Parameters
    ----------
    trace : Trace
        In seconds, prompt and output lengths >= 1 (e.g. a loaded Azure trace).
    policies : sequence of str, optional
        Keys of :data:`kvtheory.POLICIES` (default every base policy).
    memory : int
        KV capacity ``M`` (default 16,492).

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import numpy as np
    >>> rows = trace_table(lmsys_trace(np.random.default_rng(0), 100, rate=10),
    ...                    ("mc-sf", "vllm"))
    >>> [(r["policy"], r["status"]) for r in rows]
    [('mc-sf', 'ok'), ('vllm', 'ok')]
    """
    names = tuple(BASE_POLICIES) if policies is None else tuple(policies)
    rows = [run_timed(trace, name, memory=memory, power_models={"default": DEFAULT_POWER})[0]
            for name in names]
    return [{c: r.get(c, "") for c in _MAIN_COLUMNS if c != "rate"} for r in rows]


# ===================================================================== command line
def main(argv: Sequence[str] | None = None) -> ReplicationResult:
    """``kvtheory a100``: the full replication, printed as tables.

    Options: ``--n`` (10000), ``--seed`` (0), ``--workers`` (CPUs), ``--dask ADDRESS`` (an
    existing dask scheduler instead), ``--no-cache`` (recompute every run; by default each run
    is stored on disk, so an interrupted replication resumes), ``--no-progress``, ``--rates 50 10``,
    ``--trace FILE`` (a trace in seconds in any format :func:`kvtheory.model.traces.load_trace`
    recognises, e.g. the Azure LLM inference trace: runs every policy on it instead of the
    generated one and prints its table, :func:`trace_table`).
    """
    import argparse

    from kvtheory.model.tables import format_table
    from kvtheory.model.traces import load_trace

    ap = argparse.ArgumentParser(prog="kvtheory a100",
                                 description="Real-data replication on Llama2-70B / 2 x A100")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None,
                    help="local processes (default: one per CPU)")
    ap.add_argument("--dask", metavar="ADDRESS", default=None,
                    help="run on an existing dask.distributed scheduler (bind it to 127.0.0.1 "
                         "or secure it with TLS: it runs what it is sent)")
    ap.add_argument("--no-cache", action="store_true",
                    help="recompute every run (default: runs stored on disk are loaded)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    ap.add_argument("--trace", default=None)
    args = ap.parse_args(argv)
    if args.trace:
        tr = load_trace(args.trace)
        if tr.unit != "s":
            raise ValueError(f"{args.trace} gives arrivals in rounds; kvtheory a100 needs "
                             f"arrival times in seconds")
        tr = tr.select((tr.prompt > 0) & (tr.output > 0))
        print(format_table(trace_table(tr)))
        return None
    res = run_replication(np.random.default_rng(args.seed), args.n, rates=args.rates,
                          workers=args.workers, dask=args.dask, cache=not args.no_cache,
                          progress=False if args.no_progress else None)
    where = f"dask {args.dask}" if args.dask else f"workers = {res.config['workers']}"
    print(f"n = {args.n}, M = {res.config['memory']}, seed = {args.seed}, {where}, "
          f"wall time {res.wall_seconds:.1f} s ({res.config['computed']} runs computed, "
          f"{res.config['loaded']} loaded from the cache)\n")
    print(format_table(replication_table(res)), "\n")
    print(format_table(paper_comparison(res)), "\n")
    print(format_table(energy_table(res)), "\n")
    print(format_table(prediction_table(res)), "\n")
    print("verdicts: python -m kvtheory verify clm_kv_capacity clm_real_latency "
          "clm_real_energy clm_prediction_error")
    return res
