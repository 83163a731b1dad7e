"""Tests of kvtheory.hardware.calibration: KV capacity, the Vidur-fitted batch time, the energy model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy

from kvtheory.hardware import batchtime as cal
from kvtheory.hardware.batchtime import (BatchTimeModel, batch_time, batch_time_model,
                                         batch_time_residuals, fit_batch_time_model)
from kvtheory.hardware.calibration import (A100_80GB, LLAMA2_70B, PAPER_KV_CAPACITY, GPUSpec,
                                           ModelSpec, PowerModel, batch_energy, batch_power,
                                           kv_bytes_per_token, kv_capacity_symbolic,
                                           kv_capacity_tokens, reserve_for_kv_capacity)

VIDUR_DIR = Path("/work/shared/data/vidur-a100")
needs_vidur = pytest.mark.skipif(not VIDUR_DIR.is_dir(),
                                 reason="Vidur profiling CSVs not available")
CONFIGS = [(tp, net) for tp in (2, 4) for net in sorted(cal.NETWORKS)]


# ----------------------------------------------------------------- KV capacity
def test_kv_bytes_per_token_llama2_70b():
    assert kv_bytes_per_token() == 327_680 == 320 * 1024
    assert kv_bytes_per_token(kv_dtype_bytes=1) == 163_840


def test_weights_and_hbm_as_stated():
    assert LLAMA2_70B.n_params == 68_976_648_192
    assert LLAMA2_70B.weight_bytes == 137_953_296_384
    assert A100_80GB.memory_bytes == 85_899_345_920          # 80 GiB


def test_capacity_without_reserve_by_hand():
    free = 2 * 80 * 2**30 - 2 * 68_976_648_192
    assert kv_capacity_tokens() == free // 327_680 == 103_287


def test_paper_capacity_reproduced_by_solved_reserve():
    r = reserve_for_kv_capacity()
    # total HBM - weights - 16,492 tokens of KV, split over 2 GPUs: an exact integer
    assert r == (2 * 80 * 2**30 - 137_953_296_384 - 16_492 * 327_680) / 2 == 14_220_648_448
    assert abs(kv_capacity_tokens(reserve_bytes=r) - PAPER_KV_CAPACITY) <= 1
    assert kv_capacity_tokens(reserve_bytes=r) == PAPER_KV_CAPACITY
    assert kv_capacity_tokens(reserve_bytes=r + 1) == PAPER_KV_CAPACITY - 1
    assert math.isclose(PAPER_KV_CAPACITY * 327_680 / 1e9, 5.404, abs_tol=1e-3)   # ~5.4 GB


def test_reserve_with_fraction_and_fp8_round_trips():
    for kwargs in ({"reserve_fraction": 0.05}, {"kv_dtype_bytes": 1}):
        r = reserve_for_kv_capacity(10_000, **kwargs)
        assert kv_capacity_tokens(reserve_bytes=r, **kwargs) == 10_000


def test_capacity_responds_to_gpus_reserve_and_dtype():
    base = kv_capacity_tokens(reserve_fraction=0.1)
    assert kv_capacity_tokens(n_gpus=4, reserve_fraction=0.1) > base
    assert kv_capacity_tokens(reserve_fraction=0.15) < base
    assert kv_capacity_tokens(reserve_fraction=0.1, kv_dtype_bytes=1) in (2 * base, 2 * base + 1)
    h100ish = GPUSpec("bigger", 94 * 2**30, 3.35e12, 989e12, 700.0)
    assert kv_capacity_tokens(gpu=h100ish) > kv_capacity_tokens()


def test_symbolic_derivation_agrees_with_numeric():
    sym = kv_capacity_symbolic()
    s = sym.symbols
    assert sympy.simplify(sym.capacity.subs(s["r"], sym.reserve) - s["M"]) == 0
    values = {s["L"]: 80, s["h_kv"]: 8, s["d"]: 128, s["b_kv"]: 2, s["g"]: 2,
              s["H"]: 80 * 2**30, s["f"]: sympy.Rational(1, 10), s["r"]: 0,
              s["P"]: LLAMA2_70B.n_params, s["b_w"]: 2}
    assert int(sympy.floor(sym.capacity.subs(values))) == kv_capacity_tokens(reserve_fraction=0.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_gpus": 0}, "n_gpus must be >= 1, got 0"),
    ({"reserve_fraction": 1.0}, r"reserve_fraction must lie in \[0.0, 1.0\), got 1.0"),
    ({"reserve_bytes": -1}, "reserve_bytes must be a finite number >= 0, got -1"),
    ({"kv_dtype_bytes": 0}, "kv_dtype_bytes must be >= 1, got 0"),
    ({"n_gpus": 1}, "weights need 137953296384 bytes but 1 GPU"),
])
def test_capacity_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kv_capacity_tokens(**kwargs)


def test_reserve_bad_inputs():
    with pytest.raises(ValueError, match="target_tokens must be >= 1, got 0"):
        reserve_for_kv_capacity(0)
    with pytest.raises(ValueError, match="200000 tokens need more memory than 2 GPU"):
        reserve_for_kv_capacity(200_000)


def test_spec_validation():
    with pytest.raises(ValueError, match="heads must be a multiple of kv_heads, got heads=64, "
                                         "kv_heads=7"):
        ModelSpec("x", layers=1, hidden=8, heads=64, kv_heads=7, head_dim=1, n_params=1)
    with pytest.raises(ValueError, match="tdp_watts must be a positive finite number, got 0"):
        GPUSpec("x", 1, 1.0, 1.0, 0)


# ----------------------------------------------------------------- batch time
GRID = [0, 1, 7, 64, 100, 500, 2000, 5000]


@pytest.mark.parametrize("tp, network", CONFIGS)
def test_batch_time_monotone_in_each_input(tp, network):
    m = batch_time_model(tp, network)
    for D in [0, 1, 8, 64, 256]:
        times = [m.time(P, D, D * 50) for P in GRID]
        assert all(a <= b for a, b in zip(times, times[1:])), (D, times)
    for P in [0, 16, 512]:
        times = [m.time(P, D, 20_000) for D in [0, 1, 10, 100, 1000, 10_000]]
        assert all(a <= b for a, b in zip(times, times[1:])), (P, times)
        times = [m.time(P, 10, K) for K in [10, 100, 10_000, 1_000_000]]
        assert all(a < b for a, b in zip(times, times[1:])), (P, times)
    times = [m.time(1000, 0, 0, S2) for S2 in [1000, 10_000, 500_000, 1_000_000]]
    assert all(a < b for a, b in zip(times, times[1:]))


def test_empty_batch_takes_no_time():
    assert batch_time(0, 0, 0) == 0.0


def test_decode_step_magnitude():
    # one decode step at TP 2 ~ reading 69 GB of weights per GPU at ~2 TB/s, plus overheads
    t = batch_time(0, 1, 1)
    assert 0.035 < t < 0.08
    assert isinstance(t, float)


def test_attention_terms_follow_the_stated_formulas():
    m = batch_time_model(2)
    b = m.breakdown(0, 10, 12_345)
    assert math.isclose(b.decode_attention, 12_345 * 327_680 / 2 / (2.039e12 * 0.8))
    b = m.breakdown(300, 0, 0, prefill_square_sum=50_000)
    assert math.isclose(b.prefill_attention, 2 * 80 * 64 * 128 * 50_000 / 2 / (312e12 * 0.5))
    L = 80
    assert math.isclose(b.compute, L * m.compute(300) / 1000)
    assert math.isclose(b.all_reduce, L * 2 * m.all_reduce(300) / 1000)


def test_tp4_compute_faster_for_large_prefill():
    t2 = batch_time_model(2).breakdown(4000, 0, 0)
    t4 = batch_time_model(4, "dgx").breakdown(4000, 0, 0)
    assert t4.compute < 0.6 * t2.compute
    assert t4.total < t2.total


def test_assumptions_can_be_changed():
    slow = batch_time_model(2, decode_bandwidth_efficiency=0.4)
    assert slow.time(0, 10, 100_000) > batch_time(0, 10, 100_000)


@pytest.mark.parametrize("args, kwargs, message", [
    ((-1, 0, 0), {}, "prefill_tokens must be >= 0, got -1"),
    ((0, -2, 0), {}, "decode_requests must be >= 0, got -2"),
    ((0, 3, 2), {}, "decode_kv_tokens must be >= decode_requests"),
    ((0, 0, 1.5), {}, "decode_kv_tokens must be an integer, got 1.5"),
    ((10, 0, 0), {"prefill_square_sum": 101}, r"must lie in \[prefill_tokens, "
                                              r"prefill_tokens\*\*2\] = \[10, 100\], got 101"),
    ((0, 1, 1), {"tp": 3}, r"tp must be one of \(2, 4\) \(the profiled Vidur fits\), got 3"),
    ((0, 1, 1), {"network": "nvswitch"}, "network must be one of .*got 'nvswitch'"),
])
def test_batch_time_bad_inputs(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        batch_time(*args, **kwargs)


def test_batch_time_model_bad_assumption():
    with pytest.raises(ValueError, match=r"decode_bandwidth_efficiency must lie in \(0.0, 1.0\]"):
        batch_time_model(2, decode_bandwidth_efficiency=0.0)


@pytest.mark.parametrize("tp, network", CONFIGS)
def test_committed_fits_quality(tp, network):
    m = batch_time_model(tp, network)
    assert m.compute.r2 > 0.995 and m.compute.p95_rel_residual < 0.12
    assert m.all_reduce.r2 > 0.95
    for fit in (m.compute, m.all_reduce):
        assert fit.slope_ms > 0 and fit.intercept_ms > 0


def test_source_table_small_and_attributed():
    assert len(cal.VIDUR_SOURCE_POINTS) <= 32
    src = Path(cal.__file__).read_text()
    assert "derived from Microsoft Vidur profiling data, MIT licence" in src.replace("\n# ", " ")
    assert "https://github.com/microsoft/vidur" in src


def test_no_profiling_data_in_package():
    pkg = Path(cal.__file__).parent
    for p in pkg.rglob("*"):
        assert not p.name.endswith(".csv") or p.stat().st_size < 5_000, p
        assert p.name not in {"llama2-70b-mlp.csv", "all_reduce_dgx.csv",
                              "all_reduce_pairwise_nvlink.csv"}, p


@pytest.mark.parametrize("tp, network", CONFIGS)
def test_residuals_of_committed_table(tp, network):
    rows = batch_time_residuals(tp, network)
    pts = [p for p in cal.VIDUR_SOURCE_POINTS if p.tp == tp and p.network in ("", network)]
    assert len(rows) == len(pts) > 0
    for r in rows:
        assert math.isclose(r.residual_ms, r.observed_ms - r.fitted_ms)
        assert math.isclose(r.relative_residual, r.residual_ms / r.observed_ms)
    compute = [r for r in rows if r.family == "compute"]
    assert max(abs(r.relative_residual) for r in compute) < 0.2


@needs_vidur
@pytest.mark.parametrize("tp, network", CONFIGS)
def test_committed_coefficients_equal_fresh_refit(tp, network):
    fresh = fit_batch_time_model(VIDUR_DIR, tp, network)
    committed = batch_time_model(tp, network)
    for a, b in ((fresh.compute, committed.compute), (fresh.all_reduce, committed.all_reduce)):
        assert a.knee_tokens == b.knee_tokens
        assert a.n_points == b.n_points
        for f in ("intercept_ms", "slope_ms", "r2", "max_rel_residual", "p95_rel_residual"):
            assert math.isclose(getattr(a, f), getattr(b, f), rel_tol=1e-6), f
    grid = np.array([1, 16, 64, 200, 1000, 4096])
    assert np.allclose(fresh.compute(grid), committed.compute(grid), rtol=1e-6)


@needs_vidur
def test_committed_source_table_matches_data():
    assert cal._source_points(VIDUR_DIR) == cal.VIDUR_SOURCE_POINTS


@needs_vidur
def test_residuals_on_full_data():
    rows = batch_time_residuals(2, "pairwise_nvlink", data_dir=VIDUR_DIR)
    m = batch_time_model(2)
    assert len(rows) == m.compute.n_points + m.all_reduce.n_points
    rel = np.array([abs(r.relative_residual) for r in rows if r.family == "compute"])
    assert math.isclose(float(rel.max()), m.compute.max_rel_residual)


def test_fit_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="llama2-70b-mlp.csv"):
        fit_batch_time_model(tmp_path)


# ----------------------------------------------------------------- energy
def test_energy_is_time_gpus_power():
    t = batch_time(100, 20, 2000)
    assert batch_energy(100, 20, t) == pytest.approx(t * 2 * PowerModel().watts(120))
    assert batch_energy(0, 0, 3.0, n_gpus=4) == 3.0 * 4 * 60.0


def test_energy_monotone():
    e = [batch_energy(P, 8, batch_time(P, 8, 800)) for P in GRID]
    assert all(a <= b for a, b in zip(e, e[1:]))
    e = [batch_energy(0, D, batch_time(0, D, 100 * D)) for D in [1, 4, 16, 64, 256, 1024]]
    assert all(a < b for a, b in zip(e, e[1:]))
    assert batch_energy(0, 1, 1.0, n_gpus=4) > batch_energy(0, 1, 1.0, n_gpus=2)
    w = [batch_power(P, 0) for P in [1, 10, 100, 511, 512, 5000]]
    assert all(a <= b for a, b in zip(w, w[1:])) and w[-1] <= A100_80GB.tdp_watts


def test_power_levels_and_defaults():
    p = PowerModel()
    assert (p.idle_watts, p.decode_watts, p.prefill_watts) == (60.0, 280.0, 380.0)
    assert p.watts(0) == 60.0 and p.watts(512) == 380.0


@pytest.mark.parametrize("kwargs, message", [
    ({"decode_watts": 500.0}, "power levels must satisfy 0 <= idle <= decode <= prefill"),
    ({"idle_watts": -1.0}, "idle_watts must be a finite number >= 0, got -1.0"),
    ({"saturation_tokens": 0}, "saturation_tokens must be a positive finite number, got 0"),
])
def test_power_model_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PowerModel(**kwargs)


def test_energy_bad_inputs():
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0, got -1.0"):
        batch_energy(0, 1, -1.0)
    with pytest.raises(ValueError, match="n_gpus must be >= 1, got 0"):
        batch_energy(0, 1, 1.0, n_gpus=0)
    with pytest.raises(ValueError, match=r"power 450.0 W exceeds the TDP of A100-SXM4-80GB"):
        batch_energy(4096, 0, 1.0, power=PowerModel(prefill_watts=450.0))


def test_public_functions_return_plain_python_types():
    assert type(batch_time(10, 1, 1)) is float
    assert type(kv_capacity_tokens()) is int
    assert type(reserve_for_kv_capacity()) is float
    assert type(batch_energy(0, 1, 1.0)) is float
    assert type(batch_time_model().compute(10)) is float
    assert isinstance(batch_time_model(), BatchTimeModel)
