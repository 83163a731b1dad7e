"""Fluid-guided batching (Ao, Luo, Simchi-Levi, Wang, arXiv 2504.11320): workload, fluid
benchmark and the round engine of the stage model.

The model is described in :mod:`kvtheory.model.fluid_checker` (*the paper states* it; unit rounds
``d_0 = 1``, ``d_1 = 0`` are our choice of its constants).  It differs from the main paper's
round model (arXiv 2502.07115) in two ways that keep it out of :func:`kvtheory.simulate`:

* a resident prompt may skip rounds, keeping its cache (WAIT relies on this);
* a prompt holds ``l`` in its prefill round and ``l + s`` in its ``s``-th decode round, one
  round more than a request ``(s, o)`` of the main model (which holds ``s + 1 .. s + o``).

**Arrivals** (*the paper states*: Poisson of rate ``lambda_j`` per type): in every round
``t < T`` a Poisson(``lambda_j``) number of type-``j`` prompts arrives and may be processed from
round ``t`` on.

**Fluid benchmark** (*the paper states*, arXiv 2504.11320, section "Fluid model and
equilibrium", current revision): ``n_j*`` prompts of type ``j`` at each of its ``l'_j + 1``
stages, ``n_j* = lambda_j (d_0 + d_1 M*)``, memory
``M* = sum_j n_j* (l'_j + 1)(l_j + l'_j / 2)``, throughput ``sum_j lambda_j l'_j`` decode tokens
per unit time.  (An earlier revision of the paper's source counts ``l'_j + 1`` tokens per prompt;
we use the current one.)

**Measures over a horizon T** (ours, from the paper's definitions): throughput = decode tokens
of prompts completed by ``T``, over ``T``; latency = mean time in system of the prompts that
arrived before ``T``, a prompt still in the system at ``T`` counting ``T - a_i`` (censored), so
that a growing backlog shows as growing latency.

Policies live in :mod:`kvtheory.engines.fluid_policies`; :func:`simulate_stages` runs one.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from kvtheory.model.validation import as_fraction, as_int, check_generator
from kvtheory.model.fluid_checker import StageInstance, StageSchedule

__all__ = ["StageWorkload", "StageState", "StageDecision", "StagePolicyError",
           "sample_stage_instance", "fluid_equilibrium", "wait_thresholds",
           "threshold_condition", "simulate_stages", "stage_metrics", "rate_samples",
           "fit_slope", "completions_per_round", "gap_table"]


@dataclass(frozen=True)
class StageWorkload:
    """Prompt types ``(l, l', lambda)``, memory ``C`` and what the scheduler may see.

    Examples
    --------
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)       # the paper's FCFS example
    >>> w.total_rate, w.reveal_types
    (4.0, True)
    >>> StageWorkload(((1, 1, 0.0),), memory=12)
    Traceback (most recent call last):
    ...
    ValueError: rate must lie in (0.0, inf], got 0.0

    Attributes
    ----------
    types : tuple of (l, l', rate)
        Prefill length, decode length and arrival rate (prompts per round) of each type.
    memory : int
        KV-cache capacity ``C``.
    reveal_types : bool
        Workload option: whether policies see each prompt's type and decode length (WAIT and
        MC-SF need it; Nested WAIT and FCFS do not).  When ``False``, :class:`StageState` hides
        ``output`` and ``kind`` and pools all prompts into one queue per stage.
    d0, d1 : float
        Batch-time constants, used only by the fluid formulas (the engine's rounds are unit).
    """

    types: tuple
    memory: int
    reveal_types: bool = True
    d0: float = 1.0
    d1: float = 0.0

    def __post_init__(self):
        C = as_int(self.memory, name="memory", minimum=2)
        types = tuple((as_int(l, name="l", minimum=1), as_int(o, name="l'", minimum=1),
                       as_fraction(r, name="rate", low=0.0, high=math.inf, low_open=True))
                      for l, o, r in self.types)
        if not types:
            raise ValueError("need at least one prompt type, got none")
        for l, o, _ in types:
            if l + o > C:
                raise ValueError(f"type (l={l}, l'={o}) can never complete: {l + o} > C = {C}")
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "memory", C)

    @property
    def total_rate(self) -> float:
        """Sum of the arrival rates."""
        return float(sum(r for _, _, r in self.types))


@dataclass(frozen=True)
class StageState:
    """What a policy sees at the start of round ``t`` (after that round's arrivals).

    Attributes
    ----------
    t, memory : int
    used : int
        Memory the residents hold now.
    queues : dict
        ``(cls, stage) -> list of ids`` waiting to be processed at ``stage`` (stage 0: not yet
        prefilled, in arrival order; later stages: residents, in order of reaching the stage).
        ``cls`` is the type index when types are revealed, else 0.  Read-only: do not mutate.
    prompt, arrival, held, admitted : sequence
        Per prompt: ``l``, arrival round, memory held now, round of the current attempt's
        prefill (``-1`` if not resident).
    output, kind : sequence or None
        Per prompt decode length and type index, ``None`` unless the workload reveals types.
    workload : StageWorkload
    """

    t: int
    memory: int
    used: int
    queues: dict
    prompt: Sequence[int]
    arrival: Sequence[int]
    held: Sequence[int]
    admitted: Sequence[int]
    output: Sequence[int] | None
    kind: Sequence[int] | None
    workload: StageWorkload

    def next_stage(self, i: int) -> int:
        """Stage prompt ``i`` is at (0 when not resident).

        Prefill ``l`` is known, so a resident holding ``h`` processed its stage ``h - l``
        last.
        """
        return self.held[i] - self.prompt[i] + 1 if self.admitted[i] >= 0 else 0


@dataclass(frozen=True)
class StageDecision:
    """A policy's answer: ids to process this round, ids to evict first.

    Examples
    --------
    >>> StageDecision(batch=[2, 0]).batch
    (2, 0)
    """

    batch: Sequence[int] = ()
    evict: Sequence[int] = ()

    def __post_init__(self):
        object.__setattr__(self, "batch", tuple(map(int, self.batch)))
        object.__setattr__(self, "evict", tuple(map(int, self.evict)))


class StagePolicyError(RuntimeError):
    """A policy processed a prompt that is not waiting, or let memory exceed ``C``."""


def sample_stage_instance(workload: StageWorkload, horizon: int,
                          rng: np.random.Generator) -> StageInstance:
    """Poisson arrivals of rounds ``0 .. horizon-1``, per type.

    Examples
    --------
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)
    >>> inst = sample_stage_instance(w, 500, np.random.default_rng(0))
    >>> 1800 < inst.n < 2200, int(inst.arrival.max()) < 500
    (True, True)
    """
    rng = check_generator(rng)
    horizon = as_int(horizon, name="horizon", minimum=1)
    counts = rng.poisson([r for _, _, r in workload.types], size=(horizon, len(workload.types)))
    t_idx, k_idx = np.nonzero(counts)
    reps = counts[t_idx, k_idx]
    arrival = np.repeat(t_idx, reps)
    kind = np.repeat(k_idx, reps)
    l = np.array([x[0] for x in workload.types], dtype=np.int64)[kind]
    o = np.array([x[1] for x in workload.types], dtype=np.int64)[kind]
    return StageInstance.from_arrays(arrival, l, o, workload.memory, kind=kind)


def fluid_equilibrium(workload: StageWorkload) -> dict:
    """The fluid benchmark: ``n_j*`` per stage, memory ``M*``, throughput ``sum lambda_j l'_j``.

    arXiv 2504.11320 (current revision, section "Fluid model and equilibrium"):
    ``n_j* = d_0 lambda_j / (1 - d_1 rho)`` with ``rho = sum_j lambda_j (l'_j+1)(l_j+l'_j/2)``,
    ``M* = d_0 rho / (1 - d_1 rho)``; unstable when ``d_1 rho >= 1`` (single type:
    ``lambda_j d_1 (l'_j + 1)(l_j + l'_j / 2) >= 1``).

    Examples
    --------
    >>> fe = fluid_equilibrium(StageWorkload(((1, 1, 4.0),), memory=12))
    >>> fe["n_star"], fe["memory"], fe["throughput"], fe["fits"]
    ([4.0], 12.0, 4.0, True)
    >>> fluid_equilibrium(StageWorkload(((1, 1, 4.0),), 12, d1=0.1))["stable"]
    False
    """
    rho = sum(r * (o + 1) * (l + o / 2) for l, o, r in workload.types)
    stable = workload.d1 * rho < 1
    scale = workload.d0 / (1 - workload.d1 * rho) if stable else math.inf
    M = scale * rho
    return {"n_star": [float(scale * r) for _, _, r in workload.types], "memory": float(M),
            "iteration_time": float(scale), "stable": bool(stable),
            "throughput": float(sum(r * o for _, o, r in workload.types)),
            "fits": bool(stable and M <= workload.memory + 1e-9)}


def threshold_condition(workload: StageWorkload, thresholds: Sequence[int]) -> dict:
    """WAIT's threshold conditions (arXiv 2504.11320, eq. "wait_thresholds", current revision).

    ``Delta T = d_0 + d_1 M^pi <= n_j / lambda_j`` for every type, with
    ``M^pi = sum_j n_j (l'_j + 1)(l_j + l'_j / 2)`` and ``M* <= M^pi <= C``.  ``case`` is
    ``"strict"`` when every type has slack, ``"equality"`` when some type has none, ``"violated"``
    otherwise.

    Examples
    --------
    >>> w = StageWorkload(((1, 1, 4.0),), memory=15)
    >>> threshold_condition(w, [4])["case"], threshold_condition(w, [5])["case"]
    ('equality', 'strict')
    >>> threshold_condition(w, [5])["M_pi"], threshold_condition(w, [6])["fits"]
    (15.0, False)
    """
    n = [as_int(x, name="threshold", minimum=1) for x in thresholds]
    if len(n) != len(workload.types):
        raise ValueError(f"need one threshold per type ({len(workload.types)}), got {len(n)}")
    Mpi = float(sum(nj * (o + 1) * (l + o / 2) for nj, (l, o, _) in zip(n, workload.types)))
    dT = workload.d0 + workload.d1 * Mpi
    slack = [nj / r - dT for nj, (_, _, r) in zip(n, workload.types)]
    eps = 1e-12
    case = ("violated" if min(slack) < -eps else "strict" if min(slack) > eps else "equality")
    fe = fluid_equilibrium(workload)
    return {"case": case, "M_pi": Mpi, "delta_T": float(dT), "slack": slack,
            "fits": Mpi <= workload.memory, "covers_fluid": Mpi >= fe["memory"] - 1e-9}


def wait_thresholds(workload: StageWorkload, slack: int = 0) -> tuple[int, ...]:
    """Smallest integer thresholds with ``Delta T <= n_j / lambda_j``, plus ``slack`` (ours).

    With ``d_1 = 0``: ``n_j = ceil(d_0 lambda_j) + slack``.

    Examples
    --------
    >>> wait_thresholds(StageWorkload(((1, 1, 4.0), (2, 3, 1.5)), memory=40))
    (4, 2)
    """
    if workload.d1 != 0:
        raise ValueError(f"closed-form thresholds need d1 = 0, got d1 = {workload.d1}")
    return tuple(math.ceil(workload.d0 * r - 1e-12) + int(slack) for _, _, r in workload.types)


# --------------------------------------------------------------------------- the engine
def simulate_stages(inst: StageInstance, policy: Callable[[StageState], StageDecision],
                    rounds: int, workload: StageWorkload, *, name: str | None = None
                    ) -> StageSchedule:
    """Run ``policy`` for ``rounds`` rounds of the stage model; return the schedule.

    Check the result with :func:`kvtheory.model.fluid_checker.check_stage_schedule`.

    Examples
    --------
    >>> from kvtheory.engines.fluid_policies import STAGE_POLICIES
    >>> from kvtheory.model.fluid_checker import check_stage_schedule
    >>> w = StageWorkload(((1, 1, 2.0),), memory=6)
    >>> inst = StageInstance.from_arrays([0, 0, 1, 2, 2], [1] * 5, [1] * 5, memory=6)
    >>> sched = simulate_stages(inst, STAGE_POLICIES["wait"], 4, w)
    >>> [len(b) for b in sched.batches]   # threshold 2: type served only when 2 wait to prefill
    [2, 0, 4, 0]
    >>> check_stage_schedule(inst, sched).completion.tolist()   # 2 and 3 wait, resident
    [3, 3, -1, -1, -1]
    """
    rounds = as_int(rounds, name="rounds", minimum=0)
    reveal = workload.reveal_types
    n = inst.n
    l = inst.prompt.tolist()
    out = inst.output.tolist()
    arr = inst.arrival.tolist()
    cls = inst.kind.tolist() if reveal else [0] * n
    held = [0] * n
    admitted = [-1] * n
    nxt = [0] * n
    done = [False] * n
    queues: dict = {}
    order = sorted(range(n), key=lambda i: (arr[i], i))
    pos, used = 0, 0
    batches, evictions = [], []
    label = name or getattr(policy, "name", None) or getattr(policy, "__name__", "policy")
    for t in range(rounds):
        while pos < n and arr[order[pos]] <= t:
            i = order[pos]
            queues.setdefault((cls[i], 0), []).append(i)
            pos += 1
        state = StageState(t, inst.memory, used, queues, l, arr, held, admitted,
                           out if reveal else None, cls if reveal else None, workload)
        dec = policy(state)
        for i in dec.evict:
            if not 0 <= i < n or admitted[i] < 0 or done[i]:
                raise StagePolicyError(f"round {t}: {label} evicted {i}, which is not resident")
            q = queues[(cls[i], nxt[i])]
            q.remove(i)
            used -= held[i]
            held[i], admitted[i], nxt[i] = 0, -1, 0
            q0 = queues.setdefault((cls[i], 0), [])
            bisect.insort(q0, i, key=lambda j: (arr[j], j))
        picked: dict = {}
        for i in dec.batch:
            if not 0 <= i < n or done[i] or arr[i] > t:
                raise StagePolicyError(f"round {t}: {label} processed {i}, which is not waiting")
            picked.setdefault((cls[i], nxt[i]), set()).add(i)
        if sum(len(v) for v in picked.values()) != len(dec.batch):
            raise StagePolicyError(f"round {t}: {label} put a prompt twice in one batch")
        for key, ids in picked.items():
            q = queues.get(key, [])
            if len(ids) == len(q):
                if ids != set(q):
                    raise StagePolicyError(f"round {t}: {label} processed a prompt not waiting")
                queues[key] = []
            elif set(q[:len(ids)]) == ids:              # the usual case: a prefix
                queues[key] = q[len(ids):]
            else:
                keep = [i for i in q if i not in ids]
                if len(keep) != len(q) - len(ids):
                    raise StagePolicyError(f"round {t}: {label} processed a prompt not waiting")
                queues[key] = keep
        new_used = used
        for i in dec.batch:
            new_used += l[i] + nxt[i] - held[i]
        if new_used > inst.memory:
            raise StagePolicyError(f"round {t}: {label} needs memory {new_used} > "
                                   f"C = {inst.memory}")
        rec = []
        for i in dec.batch:
            s = nxt[i]
            rec.append((i, s))
            if s == 0:
                admitted[i] = t
            if s == out[i]:
                done[i] = True
                new_used -= l[i] + s
                held[i], nxt[i] = 0, -1
            else:
                held[i] = l[i] + s
                nxt[i] = s + 1
                queues.setdefault((cls[i], s + 1), []).append(i)
        used = new_used
        batches.append(tuple(rec))
        evictions.append(tuple(dec.evict))
    return StageSchedule(tuple(batches), tuple(evictions), label)


def stage_metrics(inst: StageInstance, completion: np.ndarray, horizon: int) -> dict:
    """Throughput and censored latency over ``[0, horizon)`` from per-prompt completions.

    Examples
    --------
    >>> inst = StageInstance.from_arrays([0, 0, 1], [1, 1, 1], [1, 1, 1], memory=6)
    >>> stage_metrics(inst, np.array([2, 2, -1]), 4)    # 2 tokens in 4 rounds; (2+2+3)/3
    {'throughput': 0.5, 'latency': 2.3333333333333335, 'completed': 2, 'arrived': 3}
    """
    horizon = as_int(horizon, name="horizon", minimum=1)
    c = np.asarray(completion, dtype=np.int64)
    arrived = inst.arrival < horizon
    finished = (c >= 0) & (c <= horizon)
    tokens = int(inst.output[finished].sum())
    end = np.where(finished, c, horizon)
    lat = float((end - inst.arrival)[arrived].mean()) if arrived.any() else 0.0
    return {"throughput": tokens / horizon, "latency": lat, "completed": int(finished.sum()),
            "arrived": int(arrived.sum())}


def rate_samples(workload: StageWorkload, policy: Callable, horizons: Sequence[int],
                 paths: int, rng: np.random.Generator, *, check: int = 0) -> list[dict]:
    """Throughput gap to the fluid benchmark and latency, per path, over horizons ``T``.

    One row per (``T``, path): ``gap``, ``gap_fluid``, ``latency``, ``evictions``.
    ``gap_fluid = throughput* - throughput``; ``gap`` = (decode tokens arrived before ``T`` minus
    decode tokens completed by ``T``) / ``T``, which has the same expectation (arrivals bring
    ``sum lambda_j l'_j`` tokens per round on average) and a much smaller variance, so it is
    the one we fit.  The first ``check`` paths of each horizon are verified by the independent
    checker.

    Examples
    --------
    >>> from kvtheory.engines.fluid_policies import STAGE_POLICIES
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)
    >>> rows = rate_samples(w, STAGE_POLICIES["wait"], [50], 2, np.random.default_rng(0),
    ...                     check=1)
    >>> len(rows), sorted(rows[0])
    (2, ['T', 'evictions', 'gap', 'gap_fluid', 'latency', 'path'])
    """
    from kvtheory.model.fluid_checker import check_stage_schedule
    rng = check_generator(rng)
    target = fluid_equilibrium(workload)["throughput"]
    rows = []
    for T in horizons:
        for k in range(as_int(paths, name="paths", minimum=1)):
            inst = sample_stage_instance(workload, T, rng)
            sched = simulate_stages(inst, policy, T, workload)
            if k < check:
                comp = check_stage_schedule(inst, sched).completion
            else:
                comp = _completions(inst, sched)
            m = stage_metrics(inst, comp, T)
            offered = int(inst.output[inst.arrival < T].sum()) / T
            rows.append({"T": int(T), "path": k, "gap": offered - m["throughput"],
                         "gap_fluid": target - m["throughput"], "latency": m["latency"],
                         "evictions": sum(len(e) for e in sched.evictions)})
    return rows


def completions_per_round(inst: StageInstance, sched: StageSchedule) -> list[int]:
    """Number of prompts completing in each round of ``sched`` (read off the batches).

    Examples
    --------
    >>> inst = StageInstance.from_arrays([0, 0], [1, 1], [1, 1], memory=4)
    >>> completions_per_round(inst, StageSchedule((((0, 0), (1, 0)), ((0, 1), (1, 1))),
    ...                                           ((), ())))
    [0, 2]
    """
    return [sum(1 for i, s in batch if s == inst.output[i]) for batch in sched.batches]


def gap_table(runs: Sequence[tuple[str, Callable, StageWorkload]], horizons: Sequence[int],
              paths: int, rng: np.random.Generator) -> list[dict]:
    """Mean throughput loss (share of ``throughput*``), latency and evictions per policy and ``T``.

    ``runs`` holds ``(label, policy, workload)``; each label gets the same number of paths
    (drawn in turn from ``rng``), the first of each checked independently.

    Examples
    --------
    >>> from kvtheory.engines.fluid_policies import STAGE_POLICIES
    >>> w = StageWorkload(((1, 1, 4.0),), memory=12)
    >>> rows = gap_table([("wait", STAGE_POLICIES["wait"], w)], [50], 2,
    ...                  np.random.default_rng(0))
    >>> sorted(rows[0])
    ['T', 'evictions', 'latency', 'loss', 'policy']
    """
    out = []
    for label, pol, w in runs:
        target = fluid_equilibrium(w)["throughput"]
        for T in horizons:
            rs = rate_samples(w, pol, [T], paths, rng, check=1)
            out.append({"policy": label, "T": int(T),
                        "loss": float(np.mean([r["gap_fluid"] for r in rs]) / target),
                        "latency": float(np.mean([r["latency"] for r in rs])),
                        "evictions": float(np.mean([r["evictions"] for r in rs]))})
    return out


def _completions(inst: StageInstance, sched: StageSchedule) -> np.ndarray:
    """Completion rounds read off a schedule (no checking)."""
    c = np.full(inst.n, -1, dtype=np.int64)
    out = inst.output
    for t, batch in enumerate(sched.batches):
        for i, s in batch:
            if s == out[i]:
                c[i] = t + 1
    return c


def fit_slope(rows: Sequence[dict], key: str, rng: np.random.Generator, *,
              boot: int = 400, floor: float = 1e-9) -> dict:
    """Slope of ``log(mean key)`` against ``log T``, with a 95 % bootstrap interval over paths.

    Each bootstrap replicate resamples the paths of every horizon with replacement and refits
    the least-squares line through the logs of the per-horizon means (means below ``floor``
    are clipped to it).

    Examples
    --------
    >>> rows = [{"T": T, "path": k, "g": 3.0 / T * (1 + 0.01 * k)} for T in (10, 100, 1000)
    ...         for k in range(5)]
    >>> fit = fit_slope(rows, "g", np.random.default_rng(0), boot=50)
    >>> round(fit["slope"], 3), fit["lo"] <= fit["slope"] <= fit["hi"]
    (-1.0, True)
    """
    rng = check_generator(rng)
    Ts = sorted({r["T"] for r in rows})
    if len(Ts) < 2:
        raise ValueError(f"need at least two horizons, got {Ts}")
    data = [np.array([r[key] for r in rows if r["T"] == T], dtype=float) for T in Ts]
    x = np.log(np.array(Ts, dtype=float))

    def slope(means):
        return float(np.polyfit(x, np.log(np.maximum(means, floor)), 1)[0])

    means = np.array([d.mean() for d in data])
    reps = np.empty(boot)
    for b in range(boot):
        reps[b] = slope(np.array([d[rng.integers(0, d.size, d.size)].mean() for d in data]))
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return {"slope": slope(means), "lo": float(lo), "hi": float(hi), "T": Ts,
            "means": [float(m) for m in means],
            "se": [float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
                   for d in data]}
