"""Calibration to real hardware: KV capacity, batch time and energy of Llama-2-70B on A100s.

Three pieces (public specifications and the paper's v4/v5 setup):

* **KV capacity** ``M``: how many tokens of KV cache fit beside the weights
  (:func:`kv_bytes_per_token`, :func:`kv_capacity_tokens`, the sympy derivation
  :func:`kv_capacity_symbolic` and :func:`reserve_for_kv_capacity`, which solves for the
  activation/workspace reserve that reproduces the paper's ``M = 16,492``).
* **Batch time** (in :mod:`kvtheory.hardware.batchtime`): seconds for one batch, from its composition (prefill tokens, decoding requests,
  KV tokens read by decode attention).  Linear layers and all-reduce come from hinge fits to
  Microsoft Vidur's A100 profiling data; attention, which Vidur's shared files do not cover, from
  a bandwidth model (decode) and a FLOP model (prefill).  See :class:`BatchTimeModel`.
* **Energy**: batch time x number of GPUs x a stated power level (:class:`PowerModel`,
  :func:`batch_energy`).

Units: bytes, seconds, watts, joules; fitted per-layer kernel times are in milliseconds (as in the
source data).  Every number that is ours rather than measured is labelled **assumption**.

The profiling data themselves are *not* part of this package.  Only fitted coefficients and the
small table :data:`VIDUR_SOURCE_POINTS` of figures are committed; they are derived from Microsoft
Vidur profiling data, MIT licence, https://github.com/microsoft/vidur.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction


from kvtheory.model.validation import as_fraction, as_int

__all__ = [
    "ModelSpec", "GPUSpec", "LLAMA2_70B", "A100_80GB", "PAPER_KV_CAPACITY",
    "kv_bytes_per_token", "kv_capacity_tokens", "kv_capacity_symbolic", "KVCapacitySymbolic",
    "reserve_for_kv_capacity", "vidur_kv_capacity_tokens",
    "PowerModel", "DEFAULT_POWER", "batch_power", "batch_energy",
]


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _nonneg(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


# ===================================================================== hardware and model specs
@dataclass(frozen=True)
class ModelSpec:
    """Shape of a decoder-only transformer, as far as memory and time need it.

    Examples
    --------
    >>> LLAMA2_70B.layers, LLAMA2_70B.kv_heads, LLAMA2_70B.head_dim
    (80, 8, 128)
    >>> round(LLAMA2_70B.weight_bytes / 1e9, 2)        # fp16 weights, GB
    137.95
    >>> ModelSpec("bad", layers=0, hidden=1, heads=1, kv_heads=1, head_dim=1, n_params=1)
    Traceback (most recent call last):
    ...
    ValueError: ModelSpec 'bad': layers must be >= 1, got 0

    Attributes
    ----------
    name : str
    layers, hidden, heads, kv_heads, head_dim : int
        Transformer blocks, model width, query heads, key/value heads (grouped-query attention:
        ``kv_heads < heads``) and head dimension.
    n_params : int
        Total parameters (embeddings and LM head included).
    dtype_bytes : int
        Bytes per weight and, unless overridden, per KV-cache element (2 for fp16/bf16).
    """

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    n_params: int
    dtype_bytes: int = 2

    def __post_init__(self):
        where = f"ModelSpec {self.name!r}"
        for f in ("layers", "hidden", "heads", "kv_heads", "head_dim", "n_params", "dtype_bytes"):
            object.__setattr__(self, f, as_int(getattr(self, f), name=f, minimum=1, where=where))
        if self.heads % self.kv_heads:
            raise ValueError(f"{where}: heads must be a multiple of kv_heads, got heads="
                             f"{self.heads}, kv_heads={self.kv_heads}")

    @property
    def weight_bytes(self) -> int:
        """Bytes of all weights: ``n_params * dtype_bytes``."""
        return self.n_params * self.dtype_bytes


@dataclass(frozen=True)
class GPUSpec:
    """One accelerator: memory, bandwidth, peak compute, power limit.

    Examples
    --------
    >>> A100_80GB.memory_bytes == 80 * 2**30           # 80 GiB, see the Notes
    True
    >>> A100_80GB.hbm_bandwidth, A100_80GB.tdp_watts
    (2039000000000.0, 400.0)

    Attributes
    ----------
    name : str
    memory_bytes : int
        HBM capacity in bytes.
    hbm_bandwidth : float
        Peak HBM bandwidth, bytes/s.
    peak_flops : float
        Peak dense fp16/bf16 tensor-core throughput, FLOP/s.
    tdp_watts : float
        Board power limit (TDP), W.

    Notes
    -----
    ``A100_80GB`` is the A100-SXM4-80GB of NVIDIA's A100 datasheet: 2,039 GB/s HBM2e, 312 TFLOP/s
    dense fp16 tensor, 400 W TDP.  Its "80GB" is **80 GiB** (5 stacks x 16 GiB;
    ``nvidia-smi`` reports 81920 MiB), i.e. 85,899,345,920 bytes; Vidur also reads its
    ``total_memory_gb = 80`` as ``80 * 1024**3``.
    """

    name: str
    memory_bytes: int
    hbm_bandwidth: float
    peak_flops: float
    tdp_watts: float

    def __post_init__(self):
        where = f"GPUSpec {self.name!r}"
        object.__setattr__(self, "memory_bytes",
                           as_int(self.memory_bytes, name="memory_bytes", minimum=1, where=where))
        for f in ("hbm_bandwidth", "peak_flops", "tdp_watts"):
            object.__setattr__(self, f, _positive(getattr(self, f), f"{where}: {f}"))


#: Llama-2-70B (Touvron et al. 2023; HF ``config.json``): 80 layers, width 8192, 64 query heads,
#: 8 KV heads, head dim 128, MLP width 28672, vocabulary 32000; 68,976,648,192 parameters; fp16.
LLAMA2_70B = ModelSpec("Llama-2-70B", layers=80, hidden=8192, heads=64, kv_heads=8, head_dim=128,
                       n_params=68_976_648_192, dtype_bytes=2)

#: NVIDIA A100-SXM4-80GB (datasheet figures; memory in GiB, see :class:`GPUSpec`).
A100_80GB = GPUSpec("A100-SXM4-80GB", memory_bytes=80 * 2**30, hbm_bandwidth=2.039e12,
                    peak_flops=312e12, tdp_watts=400.0)

#: The paper's KV-cache capacity for Llama2-70B on 2 x A100 (v4/v5, second-hand).
PAPER_KV_CAPACITY = 16_492


# ===================================================================== KV capacity
def kv_bytes_per_token(model: ModelSpec = LLAMA2_70B, kv_dtype_bytes: int | None = None) -> int:
    """Bytes of KV cache one token occupies: ``2 * layers * kv_heads * head_dim * bytes``.

    The factor 2 is one key and one value vector per layer and KV head.

    Examples
    --------
    >>> kv_bytes_per_token()                        # Llama-2-70B, fp16: 320 KiB
    327680
    >>> kv_bytes_per_token(kv_dtype_bytes=1)        # fp8 KV cache
    163840
    >>> kv_bytes_per_token(kv_dtype_bytes=0)
    Traceback (most recent call last):
    ...
    ValueError: kv_dtype_bytes must be >= 1, got 0

    Parameters
    ----------
    model : ModelSpec
    kv_dtype_bytes : int, optional
        Bytes per cached element; default ``model.dtype_bytes``.

    Returns
    -------
    int
    """
    b = model.dtype_bytes if kv_dtype_bytes is None else as_int(kv_dtype_bytes,
                                                                name="kv_dtype_bytes", minimum=1)
    return 2 * model.layers * model.kv_heads * model.head_dim * b


def _check_capacity_args(n_gpus, reserve_bytes, reserve_fraction):
    n = as_int(n_gpus, name="n_gpus", minimum=1)
    r = _nonneg(reserve_bytes, "reserve_bytes")
    f = as_fraction(reserve_fraction, name="reserve_fraction", high=1.0, high_open=True)
    return n, r, f


def kv_capacity_tokens(model: ModelSpec = LLAMA2_70B, gpu: GPUSpec = A100_80GB, n_gpus: int = 2,
                       *, reserve_bytes: float = 0.0, reserve_fraction: float = 0.0,
                       kv_dtype_bytes: int | None = None) -> int:
    """KV-cache capacity ``M`` in tokens of a model sharded over ``n_gpus`` GPUs.

    ``M = floor((n_gpus * (H * (1 - f) - r) - W) / kv)`` with HBM ``H`` per GPU, reserve
    fraction ``f`` and reserve bytes ``r`` per GPU (activations, CUDA context, workspace),
    weights ``W = n_params * dtype_bytes`` split evenly (tensor parallelism), ``kv`` =
    :func:`kv_bytes_per_token`.

    Examples
    --------
    >>> kv_capacity_tokens()                                   # 2 x 80 GiB, no reserve
    103287
    >>> kv_capacity_tokens(reserve_bytes=reserve_for_kv_capacity())  # the paper's M
    16492
    >>> kv_capacity_tokens(reserve_fraction=0.1)               # vLLM-style 90 % utilisation
    50859
    >>> kv_capacity_tokens(n_gpus=4, reserve_fraction=0.1, kv_dtype_bytes=1)  # TP 4, fp8 KV
    1045436
    >>> kv_capacity_tokens(n_gpus=1)
    Traceback (most recent call last):
    ...
    ValueError: weights need 137953296384 bytes but 1 GPU(s) leave only 85899345920 bytes after the reserve

    Parameters
    ----------
    model, gpu : ModelSpec, GPUSpec
    n_gpus : int
        Tensor-parallel degree (GPUs holding one replica).
    reserve_bytes : float
        Bytes per GPU kept back for activations and workspace (default 0).
    reserve_fraction : float
        Fraction of each GPU's HBM kept back, in [0, 1) (vLLM's default
        ``gpu_memory_utilization = 0.9`` is ``reserve_fraction = 0.1``).
    kv_dtype_bytes : int, optional
        1 for an fp8 KV cache; default ``model.dtype_bytes``.

    Returns
    -------
    int
        ``M`` in tokens.

    Notes
    -----
    Weights are assumed perfectly sharded (replicated norms are negligible), the KV cache
    perfectly pooled across the GPUs (each holds ``kv_heads / n_gpus`` heads) and there is no
    paging fragmentation.  Exact rational arithmetic, so the floor is never off by one.
    """
    n, r, f = _check_capacity_args(n_gpus, reserve_bytes, reserve_fraction)
    kv = kv_bytes_per_token(model, kv_dtype_bytes)
    per_gpu = Fraction(gpu.memory_bytes) * (1 - Fraction(f)) - Fraction(r)
    free = n * per_gpu - model.weight_bytes
    if free < 0:
        raise ValueError(f"weights need {model.weight_bytes} bytes but {n} GPU(s) leave only "
                         f"{int(n * per_gpu)} bytes after the reserve")
    return int(free // kv)


@dataclass(frozen=True)
class KVCapacitySymbolic:
    """The sympy derivation of ``M`` (see :func:`kv_capacity_symbolic`).

    Attributes
    ----------
    symbols : dict of str to sympy.Symbol
        ``L, h_kv, d, b_kv, g, H, f, r, P, b_w, M``.
    kv_per_token : sympy.Expr
        ``2 L h_kv d b_kv``.
    capacity : sympy.Expr
        ``(g (H (1 - f) - r) - P b_w) / kv_per_token``, before the floor.
    reserve : sympy.Expr
        ``capacity = M`` solved for ``r`` (bytes per GPU).
    """

    symbols: dict
    kv_per_token: object
    capacity: object
    reserve: object


def kv_capacity_symbolic() -> KVCapacitySymbolic:
    """The KV-capacity formula in sympy, and its solution for the reserve per GPU.

    Examples
    --------
    >>> sym = kv_capacity_symbolic()
    >>> sym.kv_per_token
    2*L*b_kv*d*h_kv
    >>> s = sym.symbols
    >>> import sympy
    >>> expected = s["H"] * (1 - s["f"]) - (s["P"] * s["b_w"] + s["M"] * sym.kv_per_token) / s["g"]
    >>> sympy.simplify(sym.reserve - expected) == 0
    True
    >>> int(sym.kv_per_token.subs({s["L"]: 80, s["h_kv"]: 8, s["d"]: 128, s["b_kv"]: 2}))
    327680

    Returns
    -------
    KVCapacitySymbolic

    Notes
    -----
    Symbols: ``L`` layers, ``h_kv`` KV heads, ``d`` head dim, ``b_kv`` bytes per KV element,
    ``g`` GPUs, ``H`` HBM bytes per GPU, ``f`` reserve fraction, ``r`` reserve bytes per GPU,
    ``P`` parameters, ``b_w`` bytes per weight, ``M`` capacity in tokens.  The derivation ends
    in an assertion that substituting the solved reserve back gives ``M``.
    """
    import sympy as sp

    names = "L h_kv d b_kv g H f r P b_w M"
    L, h_kv, d, b_kv, g, H, f, r, P, b_w, M = sp.symbols(names, positive=True)
    kv = 2 * L * h_kv * d * b_kv
    capacity = (g * (H * (1 - f) - r) - P * b_w) / kv
    (reserve,) = sp.solve(sp.Eq(capacity, M), r)
    assert sp.simplify(capacity.subs(r, reserve) - M) == 0
    syms = dict(zip(names.split(), (L, h_kv, d, b_kv, g, H, f, r, P, b_w, M)))
    return KVCapacitySymbolic(syms, kv, capacity, reserve)


def reserve_for_kv_capacity(target_tokens: int = PAPER_KV_CAPACITY,
                            model: ModelSpec = LLAMA2_70B, gpu: GPUSpec = A100_80GB,
                            n_gpus: int = 2, *, reserve_fraction: float = 0.0,
                            kv_dtype_bytes: int | None = None) -> float:
    """Reserve bytes per GPU at which exactly ``target_tokens`` of KV cache fit.

    Solves the formula of :func:`kv_capacity_tokens` for ``r`` (with sympy, see
    :func:`kv_capacity_symbolic`).  For the paper's ``M = 16,492`` on 2 x A100-80GB (80 GiB each,
    fp16, 68.98e9 parameters) the KV cache is 5.40 GB and each GPU must keep back 14.22 GB
    (16.6 % of its HBM) for activations, CUDA context and workspace.

    Examples
    --------
    >>> r = reserve_for_kv_capacity()
    >>> round(r / 1e9, 2), round(r / A100_80GB.memory_bytes, 3)
    (14.22, 0.166)
    >>> round(PAPER_KV_CAPACITY * kv_bytes_per_token() / 1e9, 2)   # the KV cache itself, GB
    5.4
    >>> reserve_for_kv_capacity(200_000)
    Traceback (most recent call last):
    ...
    ValueError: 200000 tokens need more memory than 2 GPU(s) have beside the weights: the reserve would be -15845302272.0 bytes per GPU

    Parameters
    ----------
    target_tokens : int
        Desired ``M``.
    model, gpu, n_gpus, reserve_fraction, kv_dtype_bytes
        As in :func:`kv_capacity_tokens`.

    Returns
    -------
    float
        Reserve bytes per GPU, rounded down to a whole byte, so that
        ``kv_capacity_tokens(..., reserve_bytes=result) == target_tokens``.
    """
    target = as_int(target_tokens, name="target_tokens", minimum=1)
    n, _, frac = _check_capacity_args(n_gpus, 0.0, reserve_fraction)
    sym = kv_capacity_symbolic()
    s = sym.symbols
    b_kv = model.dtype_bytes if kv_dtype_bytes is None else as_int(
        kv_dtype_bytes, name="kv_dtype_bytes", minimum=1)
    import sympy as sp
    value = sym.reserve.subs({s["L"]: model.layers, s["h_kv"]: model.kv_heads,
                              s["d"]: model.head_dim, s["b_kv"]: b_kv, s["g"]: n,
                              s["H"]: gpu.memory_bytes, s["f"]: sp.Rational(Fraction(frac)),
                              s["P"]: model.n_params, s["b_w"]: model.dtype_bytes,
                              s["M"]: target})
    out = float(sp.floor(value))          # whole bytes, rounded down: M is then exactly target
    if out < 0:
        raise ValueError(f"{target} tokens need more memory than {n} GPU(s) have beside the "
                         f"weights: the reserve would be {out} bytes per GPU")
    return out


def vidur_kv_capacity_tokens(tp: int = 2, *, memory_margin_fraction: float = 0.1,
                             mlp_hidden: int = 28_672, model: ModelSpec = LLAMA2_70B,
                             gpu: GPUSpec = A100_80GB) -> int:
    """KV capacity in tokens by the rule of Vidur's memory planner (a second reading of ``M``).

    Vidur (``vidur/scheduler/utils/memory_planner.py``) keeps ``memory_margin_fraction`` of each
    GPU's ``total_memory_gb * 1024**3`` free, subtracts 2 bytes per parameter of one
    tensor-parallel shard counted *without* embeddings, norms and LM head (``q/k/v/o``
    projections plus a gated MLP), and divides by the KV bytes per token of one worker
    (``2 * 2 * head_dim * ceil(kv_heads / tp) * layers``).  Vidur itself then floors to whole
    requests of ``max_request_tokens``; this function returns the token count before that step.

    Examples
    --------
    >>> vidur_kv_capacity_tokens()                 # Llama-2-70B, TP 2, 10 % margin
    54067
    >>> vidur_kv_capacity_tokens(memory_margin_fraction=0.0) > vidur_kv_capacity_tokens()
    True
    >>> vidur_kv_capacity_tokens(tp=3)
    Traceback (most recent call last):
    ...
    ValueError: tp must divide the 64 query heads and the width 8192, got 3

    Parameters
    ----------
    tp : int
        Tensor-parallel degree.
    memory_margin_fraction : float in [0, 1)
        Vidur's default is 0.1.
    mlp_hidden : int
        MLP width (28,672 for Llama-2-70B).
    model, gpu : ModelSpec, GPUSpec

    Returns
    -------
    int
    """
    tp = as_int(tp, name="tp", minimum=1)
    if model.heads % tp or model.hidden % tp:
        raise ValueError(f"tp must divide the {model.heads} query heads and the width "
                         f"{model.hidden}, got {tp}")
    margin = as_fraction(memory_margin_fraction, name="memory_margin_fraction", high=1.0,
                         high_open=True)
    mlp = as_int(mlp_hidden, name="mlp_hidden", minimum=1)
    q_w, kv_w = model.heads // tp, -(-model.kv_heads // tp)
    per_layer = (model.hidden * model.head_dim * (q_w + 2 * kv_w)
                 + model.hidden * model.head_dim * q_w + 3 * model.hidden * mlp // tp)
    param_bytes = 2 * per_layer * model.layers
    available = Fraction(gpu.memory_bytes) * (1 - Fraction(margin))
    kv_per_token = 2 * 2 * model.head_dim * kv_w * model.layers
    free = available - param_bytes
    if free < 0:
        raise ValueError(f"one shard's weights ({param_bytes} bytes) exceed the usable memory "
                         f"({int(available)} bytes) at tp={tp}")
    return int(free // kv_per_token)


# ===================================================================== energy
@dataclass(frozen=True)
class PowerModel:
    """Average power per GPU while a batch runs, as a function of its token count.

    ``P(n) = decode + (prefill - decode) * min(1, n / saturation_tokens)`` for a batch of
    ``n = prefill_tokens + decode_requests`` tokens, and ``idle`` between batches.  Small
    (decode) batches are memory-bound and draw well below TDP; large (prefill) batches are
    compute-bound and draw near it (Patel et al., *Splitwise*, ISCA 2024, observe exactly this
    split on A100/H100).  **The numbers are our assumption**, not measurements: sweep them.

    Examples
    --------
    >>> p = PowerModel()
    >>> p.watts(0), p.watts(256), p.watts(10_000)          # idle, mixed, saturated
    (60.0, 330.0, 380.0)
    >>> PowerModel(decode_watts=500)
    Traceback (most recent call last):
    ...
    ValueError: power levels must satisfy 0 <= idle <= decode <= prefill, got idle=60.0, decode=500.0, prefill=380.0

    Attributes
    ----------
    idle_watts : float
        60 W (assumption; an idle A100-SXM draws roughly 50-70 W).
    decode_watts : float
        280 W (assumption; within the 250-300 W range typical of memory-bound decoding).
    prefill_watts : float
        380 W (assumption; near the 400 W TDP).
    saturation_tokens : float
        512 tokens (assumption; a few times the ~64-token knee of the fitted compute time,
        past which the GEMMs are compute-bound).
    """

    idle_watts: float = 60.0
    decode_watts: float = 280.0
    prefill_watts: float = 380.0
    saturation_tokens: float = 512.0

    def __post_init__(self):
        for f in ("idle_watts", "decode_watts", "prefill_watts"):
            object.__setattr__(self, f, _nonneg(getattr(self, f), f))
        object.__setattr__(self, "saturation_tokens",
                           _positive(self.saturation_tokens, "saturation_tokens"))
        if not self.idle_watts <= self.decode_watts <= self.prefill_watts:
            raise ValueError(f"power levels must satisfy 0 <= idle <= decode <= prefill, got "
                             f"idle={self.idle_watts}, decode={self.decode_watts}, "
                             f"prefill={self.prefill_watts}")

    def watts(self, tokens: int) -> float:
        """Power per GPU (W) while running a batch of ``tokens`` tokens; idle power for 0."""
        n = as_int(tokens, name="tokens", minimum=0)
        if n == 0:
            return self.idle_watts
        share = min(1.0, n / self.saturation_tokens)
        return self.decode_watts + (self.prefill_watts - self.decode_watts) * share


#: The default power assumptions (see :class:`PowerModel`).
DEFAULT_POWER = PowerModel()


def batch_power(prefill_tokens: int, decode_requests: int, *, power: PowerModel = DEFAULT_POWER,
                gpu: GPUSpec = A100_80GB) -> float:
    """Average power per GPU (W) while running a batch; must not exceed the GPU's TDP.

    Examples
    --------
    >>> batch_power(0, 8), batch_power(4096, 0)
    (281.5625, 380.0)
    >>> batch_power(4096, 0, power=PowerModel(prefill_watts=450))
    Traceback (most recent call last):
    ...
    ValueError: power 450.0 W exceeds the TDP of A100-SXM4-80GB (400.0 W)
    """
    P = as_int(prefill_tokens, name="prefill_tokens", minimum=0)
    D = as_int(decode_requests, name="decode_requests", minimum=0)
    w = power.watts(P + D)
    if w > gpu.tdp_watts:
        raise ValueError(f"power {w} W exceeds the TDP of {gpu.name} ({gpu.tdp_watts} W)")
    return float(w)


def batch_energy(prefill_tokens: int, decode_requests: int, seconds: float, *, n_gpus: int = 2,
                 power: PowerModel = DEFAULT_POWER, gpu: GPUSpec = A100_80GB) -> float:
    """Energy (J) of one batch: ``seconds * n_gpus * batch_power(...)``.

    The v2 energy model is unknown; this is our **[RECON]** model.  Pass
    ``seconds`` from :func:`batch_time` (or any other time model).  With ``prefill_tokens =
    decode_requests = 0`` it is the idle energy of ``seconds`` of waiting.

    Examples
    --------
    >>> from kvtheory.hardware.batchtime import batch_time
    >>> round(batch_energy(0, 1, batch_time(0, 1, 1)), 2)       # one lone decode step, 2 GPUs
    31.61
    >>> batch_energy(0, 0, 10.0)                                 # 10 s idle on 2 GPUs
    1200.0
    >>> batch_energy(0, 1, -1.0)
    Traceback (most recent call last):
    ...
    ValueError: seconds must be a finite number >= 0, got -1.0

    Parameters
    ----------
    prefill_tokens, decode_requests : int
        Batch composition (sets the power level).
    seconds : float
        Duration of the batch.
    n_gpus : int
        GPUs of the replica (all draw the same power).
    power : PowerModel
    gpu : GPUSpec
        Its TDP caps the power.

    Returns
    -------
    float
        Joules.
    """
    t = _nonneg(seconds, "seconds")
    n = as_int(n_gpus, name="n_gpus", minimum=1)
    return float(t * n * batch_power(prefill_tokens, decode_requests, power=power, gpu=gpu))
