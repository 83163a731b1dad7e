"""Batches and energy of a timed run: per-round batch composition, durations and joules.

The batches of a :class:`kvtheory.TimedSchedule` are recomputed from its per-request records
(:func:`batch_composition`); each is timed by a batch-time model (:func:`batch_durations`) and
charged a stated power (:func:`energy_report`, :class:`kvtheory.hardware.calibration.PowerModel`).  The
names are also available from :mod:`kvtheory.studies.a100`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kvtheory.model.validation import as_int
from kvtheory.hardware.calibration import DEFAULT_POWER, PowerModel, batch_energy
from kvtheory.model.schedule import TimedSchedule

__all__ = ["BatchComposition", "batch_composition", "EnergyReport", "batch_durations",
           "energy_report", "latency_slope"]


@dataclass(frozen=True)
class BatchComposition:
    """What each round's batch held, recomputed from a schedule's attempts.

    Element ``r`` describes round ``r`` (index 0 is unused and zero).  An attempt ``(p, q)``
    of a request with prompt ``s`` prefills ``s`` tokens in round ``p + 1`` and decodes one
    token in each round ``p + 2 .. q``, reading ``s + r - 1 - p`` KV tokens in round ``r``
    (the accounting of :func:`kvtheory.simulate_timed`).

    Examples
    --------
    >>> from kvtheory import mc_sf, simulate_timed
    >>> res = simulate_timed([2, 1], [3, 1], [0.0, 0.0], memory=8, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 0.1)
    >>> c = batch_composition(res)
    >>> c.prefill_tokens.tolist(), c.decode_requests.tolist(), c.decode_kv_tokens.tolist()
    ([0, 3, 0, 0], [0, 0, 1, 1], [0, 0, 3, 4])

    Attributes
    ----------
    prefill_tokens, decode_requests, decode_kv_tokens, prefill_square_sum : numpy.ndarray
    """

    prefill_tokens: np.ndarray
    decode_requests: np.ndarray
    decode_kv_tokens: np.ndarray
    prefill_square_sum: np.ndarray

    @property
    def rounds(self) -> int:
        """Number of rounds ``T`` (the arrays have ``T + 1`` entries)."""
        return int(self.prefill_tokens.size - 1)

    @property
    def tokens(self) -> np.ndarray:
        """Tokens processed per round: prefill tokens plus one per decoding request."""
        return self.prefill_tokens + self.decode_requests


def batch_composition(timed: TimedSchedule) -> BatchComposition:
    """Per-round prefill tokens, decoding requests and KV tokens read, from the records.

    Aggregates are derived from the tidy records (never kept as counters); the result is
    checked against the clock in :func:`energy_report`.  See :class:`BatchComposition`.
    """
    if not isinstance(timed, TimedSchedule):
        raise ValueError(f"timed must be a TimedSchedule, got {type(timed).__name__}")
    T = int(timed.round_end.size - 1)
    size = T + 2
    P = np.zeros(size, dtype=np.int64)
    S2 = np.zeros(size, dtype=np.int64)
    cnt = np.zeros(size, dtype=np.int64)
    base = np.zeros(size, dtype=np.int64)
    ps, qs, ss = [], [], []
    for rec in timed.schedule.records:
        for p, q in rec.attempts:
            ps.append(p)
            qs.append(q)
            ss.append(rec.prompt)
    if ps:
        p, q, s = (np.array(x, dtype=np.int64) for x in (ps, qs, ss))
        np.add.at(P, p + 1, s)
        np.add.at(S2, p + 1, s * s)
        dec = q >= p + 2                                   # attempts with decode rounds
        np.add.at(cnt, p[dec] + 2, 1)
        np.add.at(cnt, q[dec] + 1, -1)
        np.add.at(base, p[dec] + 2, s[dec] - p[dec] - 1)
        np.add.at(base, q[dec] + 1, -(s[dec] - p[dec] - 1))
    D = np.cumsum(cnt)
    K = np.cumsum(base) + np.arange(size) * D
    return BatchComposition(P[:T + 1], D[:T + 1], K[:T + 1], S2[:T + 1])


@dataclass(frozen=True)
class EnergyReport:
    """Energy of a timed run (joules), split into busy and idle, with per-unit figures.

    Examples
    --------
    >>> from kvtheory import mc_sf, simulate_timed
    >>> res = simulate_timed([1], [2], [0.0], memory=4, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 0.5)
    >>> rep = energy_report(res, lambda p, d, kv: 0.5, power=PowerModel(), n_gpus=1)
    >>> rep.busy_seconds, rep.idle_seconds   # prefill + first token, then one decode step
    (1.0, 0.0)
    >>> rep.joules                           # 2 x 0.5 s at 280 + 100 * 1/512 W, one GPU
    280.1953125

    Attributes
    ----------
    busy_seconds, idle_seconds : float
        Time running batches and time waiting for arrivals, from the first arrival to the last
        completion.
    busy_joules, idle_joules : float
    n_requests, output_tokens : int
    """

    busy_seconds: float
    idle_seconds: float
    busy_joules: float
    idle_joules: float
    n_requests: int
    output_tokens: int

    @property
    def joules(self) -> float:
        """Total energy."""
        return self.busy_joules + self.idle_joules

    @property
    def per_request(self) -> float:
        """Joules per completed request."""
        return self.joules / self.n_requests

    @property
    def per_output_token(self) -> float:
        """Joules per useful output token (recomputed tokens are not counted as output)."""
        return self.joules / self.output_tokens


def batch_durations(timed: TimedSchedule, batch_time,
                    composition: BatchComposition | None = None) -> np.ndarray:
    """Seconds of each round's batch, recomputed with ``batch_time`` and checked on the clock.

    Element ``r - 1`` is round ``r``.  Round ``r`` must end exactly its duration after its
    decision, which is the end of round ``r - 1`` or, after an idle gap, a later arrival; a
    mismatch means the composition was reconstructed wrongly and raises ``ValueError``.

    Examples
    --------
    >>> from kvtheory import mc_sf, simulate_timed
    >>> res = simulate_timed([1, 1], [1, 1], [0.0, 5.0], memory=4, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 0.5 + 0.1 * p)
    >>> batch_durations(res, lambda p, d, kv: 0.5 + 0.1 * p).tolist()   # the gap is idle
    [0.6, 0.6]
    """
    comp = batch_composition(timed) if composition is None else composition
    ends = timed.round_end
    T = comp.rounds
    dur = np.array([float(batch_time(int(comp.prefill_tokens[r]), int(comp.decode_requests[r]),
                                     int(comp.decode_kv_tokens[r]))) for r in range(1, T + 1)])
    gaps = np.diff(ends) - dur                     # idle time before each round's decision
    tol = 1e-6 * max(1.0, float(ends[-1]))
    if (gaps < -tol).any():
        r = int(np.flatnonzero(gaps < -tol)[0]) + 1
        raise ValueError(f"round {r} lasted {ends[r] - ends[r - 1]:.6g} s on the clock but its "
                         f"batch takes {dur[r - 1]:.6g} s: composition does not match the run")
    idle_at = gaps > tol
    decided_at = ends[1:] - dur
    if idle_at.any() and not np.isin(np.round(decided_at[idle_at], 6),
                                     np.round(timed.arrival_time, 6)).all():
        raise ValueError("an idle gap did not end at an arrival: composition does not match")
    return dur


def energy_report(timed: TimedSchedule, batch_time, *, power: PowerModel = DEFAULT_POWER,
                  n_gpus: int = 2, composition: BatchComposition | None = None,
                  durations: np.ndarray | None = None) -> EnergyReport:
    """Energy of a timed run: sum over rounds of batch time x GPUs x power, plus idle gaps.

    Busy energy is ``sum_r batch_energy(P_r, D_r, duration_r)``
    (:func:`kvtheory.hardware.calibration.batch_energy`, power a function of the batch's tokens
    ``P_r + D_r``), with durations from :func:`batch_durations`; between batches, from the first
    arrival to the last completion, the GPUs draw ``power.idle_watts``.  The energy model is our
    **[RECON]** (the paper's v2 energy model is not available).  (The power level is evaluated once per distinct token count,
    which gives the same sum.)

    Parameters
    ----------
    timed : TimedSchedule
    batch_time : callable
        The function the run was timed with.
    power : PowerModel
    n_gpus : int
    composition : BatchComposition, optional
        Precomputed :func:`batch_composition` of ``timed``.
    durations : numpy.ndarray, optional
        Precomputed :func:`batch_durations` (reused across power models).

    Returns
    -------
    EnergyReport
    """
    comp = batch_composition(timed) if composition is None else composition
    dur = batch_durations(timed, batch_time, comp) if durations is None else np.asarray(durations)
    n_gpus = as_int(n_gpus, name="n_gpus", minimum=1)
    if dur.shape != (comp.rounds,):
        raise ValueError(f"durations must have one entry per round ({comp.rounds}), got "
                         f"{dur.shape}")
    tokens = comp.tokens[1:]
    uniq, inv = np.unique(tokens, return_inverse=True)
    joules_per_second = np.array([batch_energy(int(u), 0, 1.0, n_gpus=n_gpus, power=power)
                                  for u in uniq])
    busy_j = float(np.dot(dur, joules_per_second[inv])) if dur.size else 0.0
    span = float(timed.round_end[-1] - timed.round_end[0])
    idle_s = max(0.0, span - float(dur.sum()))
    idle_j = batch_energy(0, 0, idle_s, n_gpus=n_gpus, power=power)
    outputs = int(sum(r.output for r in timed.schedule.records))
    return EnergyReport(float(dur.sum()), idle_s, busy_j, float(idle_j), timed.schedule.n,
                        outputs)


def latency_slope(timed: TimedSchedule) -> float:
    """Least-squares slope of latency against arrival time (seconds of latency per second).

    Under overload the queue, and with it the latency, grows linearly in time: the slope is
    the growth rate the paper reports for its high-demand setting.  Near zero when stable.

    Examples
    --------
    >>> from kvtheory import mc_sf, simulate_timed
    >>> res = simulate_timed([1, 1, 1], [2, 2, 2], [0.0, 1.0, 2.0], memory=3, policy=mc_sf,
    ...                      batch_time=lambda p, d, kv: 1.0)
    >>> res.latency.tolist(), round(latency_slope(res), 6)   # one at a time: the queue grows
    ([2.0, 3.0, 4.0], 1.0)
    """
    t = np.asarray(timed.arrival_time, dtype=float)
    y = np.asarray(timed.latency, dtype=float)
    if t.size < 2 or np.ptp(t) == 0:
        return 0.0
    return float(np.polyfit(t, y, 1)[0])


