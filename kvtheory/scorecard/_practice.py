"""The scorecard's measurements: the paper's synthetic study, real traces, noisy predictions and
decision time, each a function of its target policy (so the planted and reference policies run
through the same code).

* :func:`synthetic_trial`: one trial of the paper's synthetic study (arrival model 1 or 2,
  :data:`kvtheory.studies.replication.MODELS`); the optimum's bracket (best checked schedule
  known, proven lower bound) comes from :func:`kvtheory.studies.replication.run_trial` (MC-SF's
  run and the local search, seeded as the registry's synthetic claims), the policy runs on the
  same instance through :func:`~kvtheory.scorecard._guard.run_guarded`;
* :func:`trace_run`: the first requests of a shipped Azure LLM inference trace (2023, the trace
  released with Splitwise) on the A100-timed engine (:func:`kvtheory.studies.a100.run_timed`),
  with exact or ±``error`` noisy predictions (:func:`kvtheory.studies.a100.noisy_predictions`);
* :func:`paper_engine_run`: the same trace on the paper's engine
  (:func:`kvtheory.engines.paper.engine.simulate_paper`), which runs only its own coded rules
  (MC-SF, the vLLM-style rule): a reference beside the policy, not a run of it;
* :func:`decision_times`: the wall time of every decision on an LMSYS-like trace at
  ``M = 16,492`` (:func:`kvtheory.studies.paper_study.study_trace`).
"""

from __future__ import annotations

import time

import numpy as np

from kvtheory.engines.simulator import LivelockError, PolicyError
from kvtheory.hardware.calibration import DEFAULT_POWER, PAPER_KV_CAPACITY
from kvtheory.scorecard._guard import Fault, Limits, _Guard, _Stop, run_guarded

__all__ = ["TRACES", "synthetic_trial", "synthetic_reference", "trace_run", "paper_engine_run",
           "decision_times"]

#: The shipped traces (paths relative to the repository's ``book/`` folder).
TRACES = {"azure-conv": "data/azure_llm_2023_conv.csv.gz",
          "azure-code": "data/azure_llm_2023_code.csv.gz"}


def _model_instance(model: str, trial: int, trials: int, size: dict):
    from kvtheory.studies.replication import MODELS, trial_specs
    spec = trial_specs(model, trials, 0, policies=["mc-sf"], **size)[trial]
    return spec, MODELS[model](np.random.default_rng(spec.seed), **size)


def synthetic_reference(model: str, trial: int, trials: int, search_evals: int,
                        size: tuple = ()) -> dict:
    """MC-SF's latency and the optimum's bracket on one trial (cached by the scorecard).

    Examples
    --------
    >>> ref = synthetic_reference("model1", 0, 1, 50, (("n", 6), ("memory", 12)))
    >>> ref["lower"] <= ref["best"] <= ref["mc-sf"]
    True
    """
    from dataclasses import replace
    from kvtheory.studies.replication import run_trial
    spec, _ = _model_instance(model, trial, trials, dict(size))
    row = run_trial(replace(spec, search_evals=search_evals))[0]
    return {"model": model, "trial": trial, "n": row["n"], "M": row["M"],
            "mc-sf": row["total_latency"], "best": row["opt"], "lower": row["lower_bound"]}


def synthetic_trial(policy, model: str, trial: int, trials: int, size: tuple = (),
                    limits: Limits = Limits(), *, label: str = "the policy") -> dict:
    """The policy's checked total latency on one trial (``None`` and a fault if it stopped).

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> out = synthetic_trial(mc_sf, "model1", 0, 1, (("n", 6), ("memory", 12)))
    >>> out["latency"] == synthetic_reference("model1", 0, 1, 0, (("n", 6), ("memory", 12)))["mc-sf"]
    True
    """
    _, inst = _model_instance(model, trial, trials, dict(size))
    run = run_guarded(inst, policy, limits, label=label)
    return {"model": model, "trial": trial,
            "latency": None if run.fault else int(run.schedule.total_latency),
            "fault": run.fault}


def _trace(key: str, n: int):
    from pathlib import Path
    from kvtheory.model.traces import load_azure_trace
    book = Path(__file__).resolve().parents[2] / "book"
    tr = load_azure_trace(book / TRACES[key])
    tr = tr.select(np.arange(tr.n) < n)
    keep = tr.prompt + tr.output <= PAPER_KV_CAPACITY            # every request fits alone
    return tr.select(keep)


def _fault_of(err, label: str) -> Fault:
    if isinstance(err, _Stop):
        return err.fault
    return Fault("livelock" if isinstance(err, LivelockError) else "engine", None, None,
                 f"{label}: {' '.join(str(err).split())}")


def trace_run(policy, key: str, n: int, error: float | None = None,
              limits: Limits = Limits(), *, label: str = "the policy") -> dict:
    """The policy on the first ``n`` requests of trace ``key`` on the A100-timed engine.

    ``error``: predictions ``round(o U[1 - e, 1 + e])`` (seeded by the trace), else exact.
    Returns the figures (mean, p99 latency, mean TTFT, throughput, energy, evictions) or a
    fault.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> r = trace_run(mc_sf, "azure-conv", 40)
    >>> r["status"], r["n"], r["mean latency (s)"] > 0, r["evictions"]
    ('ok', 40, True, 0)
    """
    from kvtheory.studies.a100 import batch_timer, noisy_predictions, run_timed
    tr = _trace(key, n)
    pred = None
    if error is not None:
        pred = noisy_predictions(np.random.default_rng([n, round(1000 * error), 28]),
                                 tr.prompt, tr.output, PAPER_KV_CAPACITY, error)
    pol = _Guard(policy, limits, label)
    try:
        row, _, res = run_timed(tr, pol, timer=batch_timer(tr.prompt), prediction=pred,
                                power_models={"default": DEFAULT_POWER}, with_schedule=True)
    except PolicyError as err:
        return {"trace": key, "n": tr.n, "error": error, "status": "stopped",
                "fault": _fault_of(err, label)}
    if row["status"] != "ok":
        return {"trace": key, "n": tr.n, "error": error, "status": row["status"],
                "fault": Fault("livelock", None, None, f"{label} livelocked on {key}")}
    return {"trace": key, "n": tr.n, "error": error, "status": "ok", "fault": None,
            "mean latency (s)": row["avg_latency_s"],
            "p99 latency (s)": float(np.percentile(res.latency, 99)),
            "mean TTFT (s)": row["avg_ttft_s"], "throughput (req/s)": row["throughput_req_s"],
            "energy (kJ)": row["energy_kj"], "evictions": int(row["evictions"]),
            "tokens recomputed": int(row["tokens_recomputed"])}


def paper_engine_run(policy: str, key: str, n: int) -> dict:
    """One of the paper engine's own rules (``"mc-sf"``, ``"vllm"``) on trace ``key``.

    Examples
    --------
    >>> r = paper_engine_run("mc-sf", "azure-conv", 40)
    >>> r["engine"], r["n"], r["mean latency (s)"] > 0
    ('paper', 40, True)
    """
    from kvtheory.engines.paper.engine import check_paper_run, simulate_paper
    tr = _trace(key, n)
    run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=PAPER_KV_CAPACITY,
                         policy=policy, rng=np.random.default_rng(0), power=DEFAULT_POWER,
                         n_gpus=2)
    check_paper_run(run)
    sm = run.summary()
    lat = np.array([r.completion_time - r.arrival_time for r in run.records])
    return {"engine": "paper", "trace": key, "policy": policy, "n": tr.n,
            "mean latency (s)": sm["avg_latency_s"], "p99 latency (s)": float(np.percentile(lat, 99)),
            "throughput (req/s)": tr.n / sm["makespan_s"], "energy (kJ)": sm["energy_j"] / 1e3,
            "evictions": int(sm["evictions"])}


class _Timing(_Guard):
    """A guard that keeps the wall time of every decision."""

    def __init__(self, *a):
        super().__init__(*a)
        self.times = []

    def call(self, state):
        dec, dt = super().call(state)
        self.times.append(dt)
        return dec, dt


def decision_times(policy, n: int, limits: Limits = Limits(), *, rate: float = 50.0,
                   label: str = "the policy") -> dict:
    """Median and p99 wall time of the policy's decisions on ``n`` LMSYS-like requests at
    ``rate`` per second, ``M = 16,492``, A100-timed engine.

    Examples
    --------
    >>> from kvtheory.engines.policies import mc_sf
    >>> r = decision_times(mc_sf, 50)
    >>> r["decisions"] > 0, r["median (ms)"] <= r["p99 (ms)"], r["fault"]
    (True, True, None)
    """
    from kvtheory.studies.a100 import batch_timer, run_timed
    from kvtheory.studies.paper_study import study_trace
    tr = study_trace(0, rate, n)
    guard = _Timing(policy, limits, label)
    fault = None
    t0 = time.perf_counter()
    try:
        row, _ = run_timed(tr, guard, timer=batch_timer(tr.prompt))
        if row["status"] != "ok":
            fault = Fault("livelock", None, None, f"{label} livelocked")
    except PolicyError as err:
        fault = _fault_of(err, label)
    ms = np.array(guard.times) * 1e3
    return {"n": n, "M": PAPER_KV_CAPACITY, "rate": rate, "decisions": int(ms.size),
            "median (ms)": float(np.median(ms)) if ms.size else None,
            "p99 (ms)": float(np.percentile(ms, 99)) if ms.size else None,
            "max (ms)": float(ms.max()) if ms.size else None,
            "run (s)": round(time.perf_counter() - t0, 2), "fault": fault}
