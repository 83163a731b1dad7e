"""Batch time of Llama-2-70B on A100s: hinge fits to Vidur's profiles plus attention models.

Seconds for one batch, from its composition (prefill tokens, decoding requests, KV tokens read by
decode attention).  Linear layers and all-reduce come from hinge fits to Microsoft Vidur's A100
profiling data; attention, which Vidur's shared files do not cover, from a bandwidth model
(decode) and a FLOP model (prefill).  See :class:`BatchTimeModel`.  The names are also available
from :mod:`kvtheory.hardware.calibration`.

The profiling data themselves are *not* part of this package.  Only fitted coefficients and the
small table :data:`VIDUR_SOURCE_POINTS` of figures are committed; they are derived from Microsoft
Vidur profiling data, MIT licence, https://github.com/microsoft/vidur.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kvtheory.model.validation import as_fraction, as_int
from kvtheory.hardware.calibration import A100_80GB, LLAMA2_70B, GPUSpec, ModelSpec, kv_bytes_per_token

__all__ = ['HingeFit', 'BatchTimeModel', 'BatchTimeBreakdown', 'ResidualRow', 'SourcePoint', 'VIDUR_SOURCE_POINTS', 'NETWORKS', 'batch_time_model', 'batch_time', 'fit_batch_time_model', 'batch_time_residuals']


# ===================================================================== batch time: source data
#: Vidur's A100 all-reduce profiles: "pairwise_nvlink" (Vidur's default A100 network: GPUs
#: linked in NVLink pairs; at TP 4 half the traffic leaves the pair and all-reduce is ~10x
#: slower) and "dgx" (DGX A100, NVSwitch between all 8 GPUs).
NETWORKS = {"pairwise_nvlink": "all_reduce_pairwise_nvlink.csv", "dgx": "all_reduce_dgx.csv"}
_COMPUTE_FILE = "llama2-70b-mlp.csv"
#: Per-layer operations summed into the "compute" family: every non-attention kernel Vidur
#: times for a transformer block (the GEMMs dominate: >90 % of the time).
_COMPUTE_OPS = ("attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj", "mlp_act",
                "input_layernorm", "post_attention_layernorm", "attn_rope", "add")
_TP_DEGREES = (2, 4)
_MAX_TOKENS = 4096          # profiled range of the compute data; the all-reduce fit uses the same
_AR_BYTES_PER_TOKEN = 2 * 8192   # an all-reduce of one token's fp16 activations (Vidur's rule)


@dataclass(frozen=True)
class SourcePoint:
    """One profiled figure (median over repetitions, ms per layer / per all-reduce call).

    Examples
    --------
    >>> p = VIDUR_SOURCE_POINTS[0]
    >>> p.family, p.tp, p.num_tokens
    ('compute', 2, 1.0)
    """

    family: str
    network: str
    tp: int
    num_tokens: float
    median_ms: float


# Source figures derived from Microsoft Vidur profiling data, MIT licence,
# https://github.com/microsoft/vidur
# (data/profiling/compute/a100/meta-llama/Llama-2-70b-hf/mlp.csv and
# data/profiling/network/a100_{pairwise_nvlink,dgx}/all_reduce.csv).  Compute: sum of the medians
# of the nine ops of _COMPUTE_OPS at a profiled num_tokens (mean over duplicate rows).
# All-reduce: median time of the profiled message size nearest to num_tokens * 16384 bytes,
# num_tokens = size / 16384.  Regenerate with _source_points(data_dir).
_SOURCE_ROWS = (
    # family, network, tp, num_tokens, median_ms
    ('compute', '', 2, 1.0, 0.563),
    ('compute', '', 2, 64.0, 0.628),
    ('compute', '', 2, 128.0, 0.773),
    ('compute', '', 2, 256.0, 1.1285),
    ('compute', '', 2, 512.0, 2.1295),
    ('compute', '', 2, 1024.0, 4.3695),
    ('compute', '', 2, 2048.0, 7.9945),
    ('compute', '', 2, 4096.0, 15.6037),
    ('compute', '', 4, 1.0, 0.311),
    ('compute', '', 4, 64.0, 0.3355),
    ('compute', '', 4, 128.0, 0.415),
    ('compute', '', 4, 256.0, 0.638),
    ('compute', '', 4, 512.0, 1.116),
    ('compute', '', 4, 1024.0, 2.297),
    ('compute', '', 4, 2048.0, 4.1562),
    ('compute', '', 4, 4096.0, 7.9612),
    ('all_reduce', 'pairwise_nvlink', 2, 1.125, 0.059),
    ('all_reduce', 'pairwise_nvlink', 2, 256.0, 0.064),
    ('all_reduce', 'pairwise_nvlink', 2, 1024.0, 0.119),
    ('all_reduce', 'pairwise_nvlink', 2, 4096.0, 0.384),
    ('all_reduce', 'pairwise_nvlink', 4, 1.125, 0.058),
    ('all_reduce', 'pairwise_nvlink', 4, 256.0, 0.317),
    ('all_reduce', 'pairwise_nvlink', 4, 1024.0, 1.115),
    ('all_reduce', 'pairwise_nvlink', 4, 4096.0, 4.268),
    ('all_reduce', 'dgx', 2, 1.125, 0.046),
    ('all_reduce', 'dgx', 2, 256.0, 0.063),
    ('all_reduce', 'dgx', 2, 1024.0, 0.139),
    ('all_reduce', 'dgx', 2, 4096.0, 0.43),
    ('all_reduce', 'dgx', 4, 1.125, 0.018),
    ('all_reduce', 'dgx', 4, 256.0, 0.085),
    ('all_reduce', 'dgx', 4, 1024.0, 0.2),
    ('all_reduce', 'dgx', 4, 4096.0, 0.603),
)
VIDUR_SOURCE_POINTS: tuple[SourcePoint, ...] = tuple(SourcePoint(*row) for row in _SOURCE_ROWS)


# ===================================================================== batch time: the fits
@dataclass(frozen=True)
class HingeFit:
    """A fitted hinge ``t(n) = intercept + slope * max(0, n - knee)`` in ms, ``n`` tokens.

    Flat below the knee (small batches are memory-bound: the time is reading the weights),
    linear above it (compute-bound GEMMs; bandwidth-bound all-reduce).

    Examples
    --------
    >>> h = HingeFit("compute", "", 2, intercept_ms=0.5, slope_ms=0.004, knee_tokens=64.0)
    >>> h(10), h(64), h(164)
    (0.5, 0.5, 0.9)
    >>> batch_time_model().compute.r2 > 0.99
    True

    Attributes
    ----------
    family : str
        ``"compute"`` (sum of the non-attention kernels of one layer) or ``"all_reduce"`` (one
        call).
    network : str
        ``""`` for compute; a key of :data:`NETWORKS` for all-reduce.
    tp : int
        Tensor-parallel degree.
    intercept_ms, slope_ms, knee_tokens : float
        Coefficients.
    r2 : float
        Coefficient of determination of the fit on the source points.
    max_rel_residual, p95_rel_residual : float
        Largest and 95th-percentile ``|observed - fitted| / observed``.
    n_points : int
        Number of source points fitted.
    """

    family: str
    network: str
    tp: int
    intercept_ms: float
    slope_ms: float
    knee_tokens: float
    r2: float = math.nan
    max_rel_residual: float = math.nan
    p95_rel_residual: float = math.nan
    n_points: int = 0

    def __call__(self, tokens):
        """Fitted time in ms for ``tokens`` (scalar gives ``float``, array gives array)."""
        t = self.intercept_ms + self.slope_ms * np.maximum(0.0, np.asarray(tokens, float)
                                                           - self.knee_tokens)
        return float(t) if np.ndim(t) == 0 else t


#: Candidate knees of the hinge (tokens): 0, 1, 2, 4 and multiples of 8 below 2048 (the
#: token grid of Vidur's compute profiles).
_KNEES = np.array([0.0, 1.0, 2.0, 4.0] + [float(k) for k in range(8, 2048, 8)])
_IRLS_ITERATIONS = 150


def _hinge_fit(n: np.ndarray, y: np.ndarray, family: str, network: str, tp: int) -> HingeFit:
    """Least absolute relative deviation hinge fit, knee by exhaustive search over ``_KNEES``.

    For each candidate knee ``k`` the intercept ``a`` and slope ``b`` minimising
    ``sum(|y - a - b*max(0, n - k)| / y)`` are found by iteratively reweighted least squares
    (all knees at once, a fixed number of iterations, so the result is deterministic); the knee
    with the smallest objective wins (ties: the smallest knee).
    """
    n = np.asarray(n, float)
    y = np.asarray(y, float)
    u = (1.0 / y)[:, None]                                        # intercept column / y
    v = np.maximum(0.0, n[:, None] - _KNEES[None, :]) / y[:, None]  # slope column / y
    w = np.ones_like(v)
    for _ in range(_IRLS_ITERATIONS):
        suu, suv, svv = (w * u * u).sum(0), (w * u * v).sum(0), (w * v * v).sum(0)
        su, sv = (w * u).sum(0), (w * v).sum(0)
        det = suu * svv - suv ** 2
        a = (su * svv - sv * suv) / det
        b = (suu * sv - suv * su) / det
        resid = np.abs(a * u + b * v - 1.0)
        w = 1.0 / np.maximum(resid, 1e-6)
    j = int(np.argmin(resid.sum(0)))
    a, b, knee = float(a[j]), float(b[j]), float(_KNEES[j])
    fitted = a + b * np.maximum(0.0, n - knee)
    rel = np.abs(y - fitted) / y
    r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / float(np.sum((y - y.mean()) ** 2))
    return HingeFit(family, network, tp, a, b, knee, r2, float(rel.max()),
                    float(np.percentile(rel, 95)), int(n.size))


def _check_tp_network(tp, network):
    tp = as_int(tp, name="tp", minimum=1)
    if tp not in _TP_DEGREES:
        raise ValueError(f"tp must be one of {_TP_DEGREES} (the profiled Vidur fits), got {tp}")
    if not isinstance(network, str) or network not in NETWORKS:
        raise ValueError(f"network must be one of {sorted(NETWORKS)}, got {network!r}")
    return tp, network


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"Vidur profiling file not found: {path}")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _compute_points(data_dir: Path, tp: int) -> tuple[np.ndarray, np.ndarray]:
    """(num_tokens, summed per-layer median ms) of every compute row at this TP degree."""
    rows = [r for r in _read_csv(data_dir / _COMPUTE_FILE)
            if int(r["num_tensor_parallel_workers"]) == tp and int(r["n_embd"]) == 8192
            and int(r["n_kv_head"]) == 8]
    n = np.array([float(r["num_tokens"]) for r in rows])
    y = np.array([sum(float(r[f"time_stats.{op}.median"]) for op in _COMPUTE_OPS) for r in rows])
    order = np.argsort(n, kind="stable")
    return n[order], y[order]


def _all_reduce_points(data_dir: Path, tp: int, network: str) -> tuple[np.ndarray, np.ndarray]:
    """(num_tokens = bytes / 16384, median ms) of every all-reduce row with 1..4096 tokens.

    Rows kept as Vidur keeps them: ``num_workers == devices_per_node == tp``.
    """
    rows = [r for r in _read_csv(data_dir / NETWORKS[network])
            if r["collective"] == "all_reduce" and int(r["num_workers"]) == tp
            and int(r["devices_per_node"]) == tp]
    n = np.array([int(r["size"]) / _AR_BYTES_PER_TOKEN for r in rows])
    y = np.array([float(r["time_stats.all_reduce.median"]) for r in rows])
    keep = (n >= 1) & (n <= _MAX_TOKENS)
    order = np.argsort(n[keep], kind="stable")
    return n[keep][order], y[keep][order]


def _source_points(data_dir, tokens=(1, 64, 128, 256, 512, 1024, 2048, 4096),
                   ar_tokens=(1, 256, 1024, 4096)):
    """Rebuild :data:`VIDUR_SOURCE_POINTS` from the CSVs in ``data_dir``."""
    d = Path(data_dir)
    out = []
    for tp in _TP_DEGREES:
        n, y = _compute_points(d, tp)
        for t in tokens:
            out.append(SourcePoint("compute", "", tp, float(t), round(float(y[n == t].mean()), 4)))
    for network in NETWORKS:
        for tp in _TP_DEGREES:
            n, y = _all_reduce_points(d, tp, network)
            for t in ar_tokens:
                i = int(np.argmin(np.abs(n - t)))
                out.append(SourcePoint("all_reduce", network, tp, float(n[i]),
                                           round(float(y[i]), 4)))
    return tuple(out)


# Fitted to the full Vidur CSVs by fit_batch_time_model (see tests/test_calibration.py, which
# refits and compares).  Keys: (family, network, tp).
_COMMITTED_FITS = {(f.family, f.network, f.tp): f for f in (
    HingeFit('compute', '', 2, intercept_ms=0.5809996513205333,
             slope_ms=0.003808821588325375, knee_tokens=56.0,
             r2=0.9989159159906517, max_rel_residual=0.18986616658006983,
             p95_rel_residual=0.09627794803406527, n_points=261),
    HingeFit('all_reduce', 'pairwise_nvlink', 2, intercept_ms=0.06199720404214924,
             slope_ms=8.814573147773375e-05, knee_tokens=376.0,
             r2=0.9957915511296782, max_rel_residual=5.199720404214924,
             p95_rel_residual=0.1544429795523633, n_points=992),
    HingeFit('all_reduce', 'dgx', 2, intercept_ms=0.0449948698333941,
             slope_ms=9.636423265063735e-05, knee_tokens=16.0,
             r2=0.9971567027454462, max_rel_residual=1.9996579888929398,
             p95_rel_residual=0.23475123004449944, n_points=992),
    HingeFit('compute', '', 4, intercept_ms=0.3265001156727084,
             slope_ms=0.0019714913886235063, knee_tokens=72.0,
             r2=0.998257168343402, max_rel_residual=0.20179378292692077,
             p95_rel_residual=0.09464887091077434, n_points=261),
    HingeFit('all_reduce', 'pairwise_nvlink', 4, intercept_ms=0.05867263960746606,
             slope_ms=0.001037427363601329, knee_tokens=1.0,
             r2=0.9992845724937581, max_rel_residual=1.4717096545715371,
             p95_rel_residual=0.06251042410121008, n_points=992),
    HingeFit('all_reduce', 'dgx', 4, intercept_ms=0.0440723873634242,
             slope_ms=0.00014104875269839237, knee_tokens=0.0,
             r2=0.9904542741235395, max_rel_residual=1.4572815116783269,
             p95_rel_residual=0.7946213406955149, n_points=992),
)}


# ===================================================================== batch time: the model
@dataclass(frozen=True)
class BatchTimeBreakdown:
    """Where one batch's time goes, in seconds (see :meth:`BatchTimeModel.breakdown`).

    Examples
    --------
    >>> b = batch_time_model().breakdown(prefill_tokens=0, decode_requests=1, decode_kv_tokens=1)
    >>> b.total == b.compute + b.all_reduce + b.decode_attention + b.prefill_attention
    True
    """

    compute: float
    all_reduce: float
    decode_attention: float
    prefill_attention: float

    @property
    def total(self) -> float:
        """Sum of the parts, seconds."""
        return self.compute + self.all_reduce + self.decode_attention + self.prefill_attention


@dataclass(frozen=True)
class BatchTimeModel:
    """Time of one batch of a tensor-parallel model: fitted kernels plus modelled attention.

    For a batch with ``P`` prefill tokens, ``D`` decoding requests reading ``K`` KV tokens in
    total, and prefills whose squared lengths sum to ``S2``, with ``n = P + D`` tokens::

        time = L * (compute(n) + 2 * all_reduce(n)) / 1000            # fitted, ms -> s
             + K * kv_bytes_per_token / tp / (B * e_bw)                # decode attention
             + 2 * L * heads * head_dim * S2 / tp / (F * e_flops)      # prefill attention

    ``L`` layers, ``B`` HBM bandwidth, ``F`` peak FLOP/s per GPU.  An empty batch takes 0 s.

    Examples
    --------
    >>> m = batch_time_model(tp=2)
    >>> round(m.time(prefill_tokens=0, decode_requests=1, decode_kv_tokens=100), 4)  # decode
    0.0564
    >>> round(m.time(prefill_tokens=1000, decode_requests=0, decode_kv_tokens=0), 3)  # prompt
    0.357
    >>> m.time(prefill_tokens=0, decode_requests=2, decode_kv_tokens=1)
    Traceback (most recent call last):
    ...
    ValueError: decode_kv_tokens must be >= decode_requests (each decoding request reads at least its own token), got decode_kv_tokens=1, decode_requests=2

    Attributes
    ----------
    tp : int
    network : str
    compute, all_reduce : HingeFit
        Per-layer compute time and per-call all-reduce time (ms) against batch tokens.
    model : ModelSpec
    gpu : GPUSpec
    decode_bandwidth_efficiency : float
        Fraction of peak HBM bandwidth decode attention achieves.  **Assumption** 0.8 (paged
        decode-attention kernels are bandwidth-bound and reach a large fraction of peak).
    prefill_flops_efficiency : float
        Fraction of peak FLOP/s prefill attention achieves.  **Assumption** 0.5
        (FlashAttention-2 on A100 reports 50-73 % of peak in its forward pass).
    all_reduces_per_layer : int
        2 (after attention and after the MLP, Megatron-style tensor parallelism).

    Notes
    -----
    * Linear layers and all-reduce: hinge fits to Vidur's A100 profiles (see
      :func:`fit_batch_time_model`), as in Vidur a function of the batch's token count only.
      The hinge, not piecewise-linear interpolation, because it has three interpretable
      parameters (weight-read floor, knee, per-token cost), is monotone, extrapolates sanely
      beyond 4096 tokens, and fits within a few per cent (see :func:`batch_time_residuals`).
    * Decode attention reads every cached K and V of the decoding requests once per step;
      ``K`` counts tokens (the cache of each decoding request, its new token included).  The
      cache is split over the ``tp`` GPUs by KV head.
    * Prefill attention: causal attention over a prompt of ``s`` tokens costs
      ``2 * heads * head_dim * s**2`` FLOPs per layer (two matmuls, 2 FLOPs per multiply-add,
      half the ``s x s`` score matrix).  Prefix KV reuse and chunked prefill are not modelled.
    * Not modelled: embedding and LM head, sampling, CPU scheduling overheads (Vidur skips
      these by default too), NCCL launch overheads beyond the profiled medians.
    """

    tp: int
    network: str
    compute: HingeFit
    all_reduce: HingeFit
    model: ModelSpec = LLAMA2_70B
    gpu: GPUSpec = A100_80GB
    decode_bandwidth_efficiency: float = 0.8
    prefill_flops_efficiency: float = 0.5
    all_reduces_per_layer: int = 2

    def __post_init__(self):
        _check_tp_network(self.tp, self.network)
        for f in ("decode_bandwidth_efficiency", "prefill_flops_efficiency"):
            object.__setattr__(self, f, as_fraction(getattr(self, f), name=f, low_open=True))
        object.__setattr__(self, "all_reduces_per_layer", as_int(
            self.all_reduces_per_layer, name="all_reduces_per_layer", minimum=0))
        for fit in (self.compute, self.all_reduce):
            if fit.intercept_ms < 0 or fit.slope_ms < 0:
                raise ValueError(f"{fit.family} fit must have intercept and slope >= 0, got "
                                 f"{fit.intercept_ms}, {fit.slope_ms}")

    def breakdown(self, prefill_tokens: int, decode_requests: int, decode_kv_tokens: int,
                  prefill_square_sum: int | None = None) -> BatchTimeBreakdown:
        """Seconds spent in compute, all-reduce, decode attention and prefill attention.

        Examples
        --------
        >>> b = batch_time_model().breakdown(0, 64, 64 * 1000)
        >>> round(b.decode_attention, 4), b.prefill_attention
        (0.0064, 0.0)
        """
        P, D, K, S2 = _check_batch(prefill_tokens, decode_requests, decode_kv_tokens,
                                   prefill_square_sum)
        n = P + D
        if n == 0:
            return BatchTimeBreakdown(0.0, 0.0, 0.0, 0.0)
        L = self.model.layers
        compute = L * self.compute(n) / 1000.0
        comm = L * self.all_reduces_per_layer * self.all_reduce(n) / 1000.0
        decode = (K * kv_bytes_per_token(self.model) / self.tp
                  / (self.gpu.hbm_bandwidth * self.decode_bandwidth_efficiency))
        flops = 2.0 * L * self.model.heads * self.model.head_dim * S2
        prefill = flops / self.tp / (self.gpu.peak_flops * self.prefill_flops_efficiency)
        return BatchTimeBreakdown(float(compute), float(comm), float(decode), float(prefill))

    def time(self, prefill_tokens: int, decode_requests: int, decode_kv_tokens: int,
             prefill_square_sum: int | None = None) -> float:
        """Seconds for one batch; arguments as in :func:`batch_time`.

        Examples
        --------
        >>> batch_time_model().time(0, 0, 0)
        0.0
        """
        return self.breakdown(prefill_tokens, decode_requests, decode_kv_tokens,
                              prefill_square_sum).total


def _check_batch(prefill_tokens, decode_requests, decode_kv_tokens, prefill_square_sum):
    """Validate a batch composition; return ``(P, D, K, S2)`` as ints."""
    P = as_int(prefill_tokens, name="prefill_tokens", minimum=0)
    D = as_int(decode_requests, name="decode_requests", minimum=0)
    K = as_int(decode_kv_tokens, name="decode_kv_tokens", minimum=0)
    if K < D:
        raise ValueError(f"decode_kv_tokens must be >= decode_requests (each decoding request "
                         f"reads at least its own token), got decode_kv_tokens={K}, "
                         f"decode_requests={D}")
    if prefill_square_sum is None:
        S2 = P * P
    else:
        S2 = as_int(prefill_square_sum, name="prefill_square_sum", minimum=0)
        if not P <= S2 <= P * P:
            raise ValueError(f"prefill_square_sum (sum of squared prompt lengths) must lie in "
                             f"[prefill_tokens, prefill_tokens**2] = [{P}, {P * P}], got {S2}")
    return P, D, K, S2


def batch_time_model(tp: int = 2, network: str = "pairwise_nvlink", *,
                     model: ModelSpec = LLAMA2_70B, gpu: GPUSpec = A100_80GB,
                     **assumptions) -> BatchTimeModel:
    """The committed batch-time model of Llama-2-70B on A100s at tensor-parallel degree ``tp``.

    Examples
    --------
    >>> m = batch_time_model(tp=4, network="dgx")
    >>> m.tp, m.network, m.compute.knee_tokens > 0
    (4, 'dgx', True)
    >>> batch_time_model(tp=8)
    Traceback (most recent call last):
    ...
    ValueError: tp must be one of (2, 4) (the profiled Vidur fits), got 8

    Parameters
    ----------
    tp : int
        2 or 4.
    network : str
        ``"pairwise_nvlink"`` (Vidur's default for A100) or ``"dgx"``; see :data:`NETWORKS`.
    model, gpu : ModelSpec, GPUSpec
        Used by the attention terms (the fitted kernels are Llama-2-70B on A100 regardless).
    **assumptions
        ``decode_bandwidth_efficiency``, ``prefill_flops_efficiency``,
        ``all_reduces_per_layer`` (see :class:`BatchTimeModel`).

    Returns
    -------
    BatchTimeModel
    """
    tp, network = _check_tp_network(tp, network)
    return BatchTimeModel(tp, network, _COMMITTED_FITS[("compute", "", tp)],
                          _COMMITTED_FITS[("all_reduce", network, tp)], model=model, gpu=gpu,
                          **assumptions)


def batch_time(prefill_tokens: int, decode_requests: int, decode_kv_tokens: int, *,
               tp: int = 2, network: str = "pairwise_nvlink",
               prefill_square_sum: int | None = None) -> float:
    """Seconds to run one batch of Llama-2-70B on ``tp`` A100-80GB GPUs.

    Examples
    --------
    >>> round(batch_time(0, 1, 1), 4)            # a lone decode step: ~56 ms (weights read)
    0.0564
    >>> batch_time(0, 64, 64_000) > batch_time(0, 64, 6_400) > batch_time(0, 1, 1)
    True
    >>> batch_time(-1, 0, 0)
    Traceback (most recent call last):
    ...
    ValueError: prefill_tokens must be >= 0, got -1

    Parameters
    ----------
    prefill_tokens : int
        Prompt tokens processed in this batch (all prefills together).
    decode_requests : int
        Requests generating one token each.
    decode_kv_tokens : int
        KV-cache tokens the decode attention reads: sum over decoding requests of their current
        context length (prompt + tokens generated so far, the new one included).
    tp : int
        Tensor-parallel degree, 2 or 4.
    network : str
        All-reduce profile, see :data:`NETWORKS`.
    prefill_square_sum : int, optional
        Sum of squared prompt lengths of the prefills (attention cost); default
        ``prefill_tokens**2``, the worst case (a single prompt).

    Returns
    -------
    float
        Seconds.  See :class:`BatchTimeModel` for the formula and its assumptions.
    """
    return batch_time_model(tp, network).time(prefill_tokens, decode_requests, decode_kv_tokens,
                                              prefill_square_sum)


def fit_batch_time_model(data_dir, tp: int = 2, network: str = "pairwise_nvlink",
                         **assumptions) -> BatchTimeModel:
    """Refit the hinge coefficients from Vidur's profiling CSVs in ``data_dir``.

    Files read: ``llama2-70b-mlp.csv`` (per-layer kernel times, ms, by ``num_tokens`` and
    ``num_tensor_parallel_workers``) and the all-reduce file of ``network``
    (``all_reduce_pairwise_nvlink.csv`` or ``all_reduce_dgx.csv``; message ``size`` in bytes,
    converted as Vidur does to ``num_tokens = size / (2 * 8192)``).  Medians over repetitions
    are fitted; rows and filters as in Vidur's ``SklearnExecutionTimePredictor``.

    Examples
    --------
    >>> from pathlib import Path
    >>> d = Path("/work/shared/data/vidur-a100")
    >>> m = fit_batch_time_model(d) if d.is_dir() else batch_time_model()
    >>> m.compute.knee_tokens, round(m.compute.slope_ms, 6)       # ms per layer per token
    (56.0, 0.003809)
    >>> fit_batch_time_model("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: Vidur profiling file not found: /nonexistent/llama2-70b-mlp.csv

    Parameters
    ----------
    data_dir : str or Path
    tp, network
        As in :func:`batch_time_model`.
    **assumptions
        Passed to :class:`BatchTimeModel`.

    Returns
    -------
    BatchTimeModel

    Notes
    -----
    Fit: ``t(n) = a + b * max(0, n - n0)`` per family, minimising the sum of squared *relative*
    residuals (decode batches of a few tokens matter as much as 4000-token prefills), ``n0``
    by exhaustive search over the profiled token counts (see ``_hinge_fit``).  The fit is
    deterministic, so a refit equals the committed coefficients to rounding.
    """
    tp, network = _check_tp_network(tp, network)
    d = Path(data_dir)
    compute = _hinge_fit(*_compute_points(d, tp), "compute", "", tp)
    comm = _hinge_fit(*_all_reduce_points(d, tp, network), "all_reduce", network, tp)
    return BatchTimeModel(tp, network, compute, comm, **assumptions)


@dataclass(frozen=True)
class ResidualRow:
    """One source point against its fitted value (see :func:`batch_time_residuals`).

    Examples
    --------
    >>> row = batch_time_residuals()[0]
    >>> row.residual_ms == row.observed_ms - row.fitted_ms
    True
    """

    family: str
    network: str
    tp: int
    num_tokens: float
    observed_ms: float
    fitted_ms: float
    residual_ms: float
    relative_residual: float


def batch_time_residuals(tp: int = 2, network: str = "pairwise_nvlink",
                         data_dir=None) -> tuple[ResidualRow, ...]:
    """Source points, fitted values and residuals of the committed fits, for a chart.

    Without ``data_dir``: the small committed table :data:`VIDUR_SOURCE_POINTS`.  With it: every
    profiled point the fit used (compute rows first, then all-reduce rows).

    Examples
    --------
    >>> rows = batch_time_residuals(tp=2)
    >>> [r.num_tokens for r in rows if r.family == "compute"][:3]
    [1.0, 64.0, 128.0]
    >>> max(abs(r.relative_residual) for r in rows) < 0.25
    True

    Parameters
    ----------
    tp, network
        As in :func:`batch_time_model`.
    data_dir : str or Path, optional
        Directory of the Vidur CSVs.

    Returns
    -------
    tuple of ResidualRow
        ``relative_residual = (observed - fitted) / observed``.
    """
    m = batch_time_model(tp, network)
    if data_dir is None:
        pts = [(p.family, p.network, p.num_tokens, p.median_ms) for p in VIDUR_SOURCE_POINTS
               if p.tp == tp and p.network in ("", network)]
    else:
        d = Path(data_dir)
        pts = [("compute", "", float(n), float(y)) for n, y in zip(*_compute_points(d, tp))]
        pts += [("all_reduce", network, float(n), float(y))
                for n, y in zip(*_all_reduce_points(d, tp, network))]
    out = []
    for family, net, n, y in pts:
        f = (m.compute if family == "compute" else m.all_reduce)(n)
        out.append(ResidualRow(family, net, tp, n, y, f, y - f, (y - f) / y))
    return tuple(out)


