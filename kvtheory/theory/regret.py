"""Version 2's stochastic claim: constant regret under stochastic arrivals (our reconstruction).

Version 2's abstract states that in the fully online model with *stochastic* arrivals an
efficient algorithm has *constant regret*.  The model and benchmark are not available, so this
module reconstructs them (claim ``clm_constant_regret``):

* **Arrivals**: in each round ``t = 0, ..., T-1`` a Poisson(``rate``) (or Bernoulli(``rate``))
  number of requests arrives, each of type ``k`` with probability ``p_k``; type ``k`` has
  prompt ``s_k`` and output ``o_k`` (known on arrival).
* **Fluid benchmark**: the deterministic steady state that admits type ``k`` at rate
  ``rate * p_k`` per round, with no waiting.  By Little's law ``rate p_k o_k`` requests of type
  ``k`` are in service and they hold ``rate p_k vol_k`` memory, ``vol_k = s_k o_k +
  o_k (o_k + 1) / 2``; it is feasible iff the load ``rate * sum_k p_k vol_k / M <= 1``.
  Its total latency over ``T`` rounds of arrivals is ``rate T sum_k p_k o_k``.
* **Regret** of a policy: ``E[TEL(policy)] - rate T sum_k p_k o_k``.  Per sample path we use
  ``TEL - sum_i o_i`` (the total waiting time), which has the same expectation and a smaller
  variance.  For small ``T`` we also measure regret against the hindsight optimum of each
  sample (:func:`kvtheory.optimum.exact.solve_optimal`).

The fluid-guided policy :func:`fluid_guided` admits shortest first with MC-SF's future check,
but keeps at most ``ceil(rate p_k o_k + threshold)`` requests of type ``k`` in service, which
is the fluid admission rate ``rate p_k`` (a request of type ``k`` is in service for ``o_k``
rounds) plus a burst allowance.

Full-size run: ``python -m kvtheory tables regret`` (long: tens of minutes, mostly the unstable loads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from kvtheory.model.stats import t_halfwidth
from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.model.checker import check_schedule
from kvtheory.model.instance import Instance
from kvtheory.optimum.exact import solve_optimal
from kvtheory.engines.policies import admit_future_feasible, make_policy, mc_sf  # noqa: F401  (doctests)
from kvtheory.theory.ratio import volume
from kvtheory.engines.simulator import Decision, State, simulate

__all__ = ["ArrivalModel", "sample_instance", "fluid_benchmark", "fluid_guided",
           "fluid_policy", "regret_samples", "regret_table", "growth_exponent",
           "hindsight_regret_table", 
           "waiting_lower_bound", "DEFAULT_TYPES"]

#: Default request types ``(s, o, p)``: 70 % short (1, 2), 30 % long (3, 8) (ours).
DEFAULT_TYPES = ((1, 2, 0.7), (3, 8, 0.3))


@dataclass(frozen=True)
class ArrivalModel:
    """i.i.d. arrivals per round with a finite type distribution (our reconstruction).

    Examples
    --------
    >>> m = ArrivalModel.at_load(0.5, memory=40)
    >>> round(m.rate, 4), round(m.load, 4)
    (0.9302, 0.5)
    >>> ArrivalModel(rate=1.0, types=((1, 2, 0.5), (3, 8, 0.4)), memory=40)
    Traceback (most recent call last):
    ...
    ValueError: type probabilities must sum to 1, got 0.9

    Attributes
    ----------
    rate : float
        Expected arrivals per round ``lambda``.
    types : tuple of (s, o, p)
        Prompt, output and probability of each type.
    memory : int
        KV-cache capacity ``M``.
    process : {"poisson", "bernoulli"}
        Arrivals per round: Poisson(rate), or Bernoulli(rate) (at most one; needs rate <= 1).
    """

    rate: float
    types: tuple[tuple[int, int, float], ...] = DEFAULT_TYPES
    memory: int = 40
    process: str = "poisson"

    def __post_init__(self):
        rate = as_fraction(self.rate, name="rate", low=0.0, high=math.inf, low_open=True)
        M = as_int(self.memory, name="memory", minimum=2)
        types = tuple((as_int(s, name="prompt", minimum=1), as_int(o, name="output", minimum=1),
                       as_fraction(p, name="probability", low=0.0, low_open=True))
                      for s, o, p in self.types)
        if not types:
            raise ValueError("need at least one request type")
        total = sum(p for _, _, p in types)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"type probabilities must sum to 1, got {total:g}")
        for s, o, _ in types:
            if s + o > M:
                raise ValueError(f"type (s={s}, o={o}) can never fit: s+o={s + o} > M={M}")
        if self.process not in ("poisson", "bernoulli"):
            raise ValueError(f"process must be 'poisson' or 'bernoulli', got {self.process!r}")
        if self.process == "bernoulli" and rate > 1:
            raise ValueError(f"a Bernoulli process needs rate <= 1, got {rate}")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "memory", M)
        object.__setattr__(self, "types", types)

    @classmethod
    def at_load(cls, load: float, *, types=DEFAULT_TYPES, memory: int = 40,
                process: str = "poisson") -> "ArrivalModel":
        """The model whose fluid load ``rate * sum p vol / M`` equals ``load``."""
        load = as_fraction(load, name="load", low=0.0, high=math.inf, low_open=True)
        mean_vol = sum(p * volume(s, o) for s, o, p in types)
        return cls(load * memory / mean_vol, types, memory, process)

    @property
    def volumes(self) -> tuple[int, ...]:
        """Memory-time area ``vol_k = s_k o_k + o_k (o_k + 1) / 2`` of each type."""
        return tuple(volume(s, o) for s, o, _ in self.types)

    @property
    def load(self) -> float:
        """Fluid load ``rate * sum_k p_k vol_k / M`` (the fluid is feasible iff ``<= 1``)."""
        return float(self.rate * sum(p * v for (_, _, p), v in zip(self.types, self.volumes))
                     / self.memory)


def sample_instance(model: ArrivalModel, horizon: int, rng: np.random.Generator) -> Instance:
    """Arrivals of rounds ``0 .. horizon-1`` drawn from ``model``.

    Examples
    --------
    >>> inst = sample_instance(ArrivalModel(1.0), 50, np.random.default_rng(0))
    >>> 30 < inst.n < 70, int(inst.arrival.max()) < 50
    (True, True)
    """
    rng = check_generator(rng)
    horizon = as_int(horizon, name="horizon", minimum=1)
    if model.process == "poisson":
        counts = rng.poisson(model.rate, size=horizon)
    else:
        counts = (rng.random(horizon) < model.rate).astype(np.int64)
    arrival = np.repeat(np.arange(horizon), counts)
    probs = np.array([p for _, _, p in model.types])
    k = rng.choice(len(model.types), size=arrival.size, p=probs / probs.sum())
    s = np.array([t[0] for t in model.types], dtype=np.int64)[k]
    o = np.array([t[1] for t in model.types], dtype=np.int64)[k]
    return Instance.from_arrays(arrival, s, o, model.memory, name=f"stochastic T={horizon}")


def fluid_benchmark(model: ArrivalModel, horizon: int) -> dict:
    """The fluid (LP) steady state and its total latency over ``horizon`` rounds of arrivals.

    Examples
    --------
    >>> fb = fluid_benchmark(ArrivalModel(1.0), 100)
    >>> fb["latency_per_request"], fb["total_latency"], fb["in_service"]
    (3.8, 380.0, [1.4, 2.4])
    >>> fb["memory"], fb["feasible"]                 # 0.7*5 + 0.3*60 = 21.5 <= 40
    (21.5, True)
    """
    horizon = as_int(horizon, name="horizon", minimum=1)
    lat = sum(p * o for _, o, p in model.types)
    return {"rate": model.rate, "load": model.load, "feasible": model.load <= 1.0,
            "latency_per_request": float(lat),
            "total_latency": float(model.rate * horizon * lat),
            "in_service": [float(model.rate * p * o) for _, o, p in model.types],
            "memory": float(model.rate * sum(p * v for (_, _, p), v
                                             in zip(model.types, model.volumes)))}


# --------------------------------------------------------------------------- the policy
def fluid_guided(state: State, *, targets: Sequence[tuple[int, int, float]] = (),
                 threshold: float = 1.0) -> Decision:
    """Fluid-guided admission: shortest first, MC-SF's check, per-type caps from the fluid.

    A waiting request of type ``(s, o)`` is admitted only if fewer than
    ``ceil(target + threshold)`` requests of that type would be in service, where ``target``
    is its fluid in-service count ``rate p o`` from ``targets`` (types not listed: 0), and if
    running + admitted fit every future round (MC-SF's check); a request that fails is
    skipped.  With exact predictions it never overflows.  Ours (the reconstruction of
    claim ``clm_constant_regret``).

    Examples
    --------
    >>> from kvtheory import Instance, simulate
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [2, 2, 2], memory=20)
    >>> pol = make_policy(fluid_guided, targets=[(1, 2, 1.0)], threshold=0.5)
    >>> [r.start for r in simulate(inst, pol).records]     # at most ceil(1.5) = 2 in service
    [0, 0, 2]

    Parameters
    ----------
    targets : sequence of (s, o, in_service)
        Fluid in-service count of each type (see :func:`fluid_benchmark`).
    threshold : float >= 0
        Burst allowance above the fluid count.
    """
    threshold = as_fraction(threshold, name="threshold", low=0.0, high=math.inf)
    w = state.waiting
    if not len(w):
        return Decision()
    caps = {(int(s), int(o)): math.ceil(float(x) + threshold - 1e-12) for s, o, x in targets}
    run = state.running
    busy: dict = {}
    for s, o in zip(run.prompt.tolist(), run.prediction.tolist()):
        busy[(s, o)] = busy.get((s, o), 0) + 1
    kind = {int(i): (int(s), int(o)) for i, s, o in zip(w.id, w.prompt, w.prediction)}

    def below_cap(j: int, chosen: list) -> bool:
        typ = kind[int(w.id[j])]
        in_service = busy.get(typ, 0) + sum(kind[i] == typ for i in chosen)
        cap = caps.get(typ, math.ceil(threshold - 1e-12))
        return in_service < max(cap, 1 if not len(run) and not chosen else 0)

    order = np.argsort(w.prediction, kind="stable")
    return Decision(start=admit_future_feasible(state, order, stop_at_first=False,
                                                allow=below_cap))


def fluid_policy(model: ArrivalModel, threshold: float = 1.0) -> Callable:
    """:func:`fluid_guided` with the targets of ``model`` (a named policy).

    Examples
    --------
    >>> fluid_policy(ArrivalModel(1.0), threshold=2).name
    'fluid(theta=2)'
    """
    fb = fluid_benchmark(model, 1)
    targets = tuple((s, o, x) for (s, o, _), x in zip(model.types, fb["in_service"]))
    return make_policy(fluid_guided, f"fluid(theta={threshold:g})", targets=targets,
                       threshold=threshold)


# --------------------------------------------------------------------------- measurements
def waiting_lower_bound(model: ArrivalModel, horizon: int) -> float:
    """A lower bound on the expected total waiting of *every* policy: ``T E[(A - K)^+]``.

    ``A`` is the number of arrivals in one round and ``K = floor(M / (s_min + 1))`` the most
    requests that can be processed in one round (each holds at least ``s + 1``).  If more than
    ``K`` requests arrive in a round, at least ``A - K`` of them cannot start in it and wait at
    least one round.  The bound is linear in ``T`` and positive for Poisson arrivals, so no
    policy has bounded regret against the fluid benchmark (ours).

    Examples
    --------
    >>> waiting_lower_bound(ArrivalModel(0.5, memory=40, process="bernoulli"), 100)
    0.0
    >>> waiting_lower_bound(ArrivalModel(3.0, types=((1, 1, 1.0),), memory=4), 10) > 0
    True
    """
    horizon = as_int(horizon, name="horizon", minimum=1)
    K = model.memory // (min(s for s, _, _ in model.types) + 1)
    if model.process == "bernoulli":
        return 0.0 if K >= 1 else float(horizon * model.rate)
    # E[(A-K)^+] = E[A] - K + sum_{a<K} (K - a) P(A = a)
    lam = model.rate
    pmf, acc = math.exp(-lam), 0.0
    for a in range(K):
        acc += (K - a) * pmf
        pmf *= lam / (a + 1)
    return float(horizon * max(0.0, lam - K + acc))


def regret_samples(model: ArrivalModel, policy: Callable, horizon: int, seeds: int,
                   rng: np.random.Generator, *, check: bool = False) -> np.ndarray:
    """Per-sample regret against the fluid benchmark: total waiting ``TEL - sum o_i``.

    Examples
    --------
    >>> r = regret_samples(ArrivalModel.at_load(0.5), mc_sf, 20, 3, np.random.default_rng(0))
    >>> r.shape, bool((r >= 0).all())
    ((3,), True)
    """
    rng = check_generator(rng)
    seeds = as_int(seeds, name="seeds", minimum=1)
    out = np.empty(seeds)
    for k in range(seeds):
        inst = sample_instance(model, horizon, rng)
        if inst.n == 0:
            out[k] = 0.0
            continue
        sched = simulate(inst, policy)
        if check:
            check_schedule(inst, sched)
        out[k] = sched.total_latency - int(inst.output.sum())
    return out


def regret_table(model: ArrivalModel, policies: Mapping[str, Callable], horizons: Sequence[int],
                 seeds: int, rng: np.random.Generator, *, check: bool = False) -> list[dict]:
    """Mean regret vs the fluid benchmark with a 95 % band, per policy and horizon ``T``.

    Examples
    --------
    >>> rows = regret_table(ArrivalModel.at_load(0.5), {"mc-sf": mc_sf}, [10, 20], 3,
    ...                     np.random.default_rng(0))
    >>> [(r["policy"], r["T"]) for r in rows]
    [('mc-sf', 10), ('mc-sf', 20)]
    """
    rng = check_generator(rng)
    rows = []
    for name, pol in policies.items():
        for T in horizons:
            r = regret_samples(model, pol, T, seeds, rng, check=check)
            rows.append({"policy": name, "load": round(model.load, 3), "T": int(T),
                         "seeds": int(seeds), "regret": float(r.mean()), "ci95": t_halfwidth(r),
                         "regret_per_round": float(r.mean() / T),
                         "fluid_total": fluid_benchmark(model, T)["total_latency"]})
    return rows


def growth_exponent(rows: Sequence[dict], policy: str, *, key: str = "regret",
                    min_T: int = 0) -> float:
    """Least-squares slope of ``log(regret)`` against ``log(T)`` for one policy.

    About 0: bounded; 0.5: like sqrt(T); 1: linear; (log T growth shows a slope that
    falls towards 0 as ``T`` grows).

    Examples
    --------
    >>> rows = [{"policy": "a", "T": T, "regret": 3.0 * T} for T in (10, 100, 1000)]
    >>> round(growth_exponent(rows, "a"), 6)
    1.0
    """
    pts = [(r["T"], r[key]) for r in rows if r["policy"] == policy and r["T"] >= min_T]
    pts = [(T, v) for T, v in pts if v > 0]
    if len(pts) < 2:
        raise ValueError(f"need at least two horizons with positive {key} for {policy!r}")
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def hindsight_regret_table(model: ArrivalModel, policies: Mapping[str, Callable],
                           horizons: Sequence[int], seeds: int, rng: np.random.Generator, *,
                           time_limit: float = 20.0) -> list[dict]:
    """Regret against the hindsight optimum of each sample (small ``T`` only: it solves the IP).

    Samples whose optimum is not proven within ``time_limit`` are dropped (counted in
    ``unproven``).

    Examples
    --------
    >>> rows = hindsight_regret_table(ArrivalModel.at_load(0.5), {"mc-sf": mc_sf}, [5], 2,
    ...                               np.random.default_rng(0))
    >>> rows[0]["regret_opt"] >= 0, rows[0]["unproven"]
    (True, 0)
    """
    rng = check_generator(rng)
    seeds = as_int(seeds, name="seeds", minimum=1)
    rows = []
    for T in horizons:
        gaps = {name: [] for name in policies}
        opt_wait, unproven = [], 0
        for _ in range(seeds):
            inst = sample_instance(model, T, rng)
            if inst.n == 0:
                for name in policies:
                    gaps[name].append(0.0)
                opt_wait.append(0.0)
                continue
            opt = solve_optimal(inst, time_limit=time_limit)
            if not opt.proven_optimal:
                unproven += 1
                continue
            check_schedule(inst, opt.schedule)
            opt_wait.append(opt.objective - int(inst.output.sum()))
            for name, pol in policies.items():
                sched = simulate(inst, pol)
                check_schedule(inst, sched)
                if sched.total_latency < opt.objective:
                    raise RuntimeError(f"{name} beats the optimum on {inst}: a bug")
                gaps[name].append(sched.total_latency - opt.objective)
        ow = np.array(opt_wait)
        for name in policies:
            g = np.array(gaps[name])
            rows.append({"policy": name, "load": round(model.load, 3), "T": int(T),
                         "samples": int(g.size), "unproven": unproven,
                         "regret_opt": float(g.mean()), "ci95": t_halfwidth(g),
                         "opt_regret_fluid": float(ow.mean())})
    return rows

