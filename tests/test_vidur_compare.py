"""Error statistics and the cross-check loader of kvtheory.hardware.vidur (values by hand)."""

import json

import pytest

from kvtheory.hardware.vidur import (
    end_to_end_table,
    error_stats,
    fit_paper_form,
    load_crosscheck,
    seed_spread,
)


def test_error_stats_hand_computed():
    # relative errors: (3-2)/2 = +0.5, (1-2)/2 = -0.5, (2-2)/2 = 0
    st = error_stats([3.0, 1.0, 2.0], [2.0, 2.0, 2.0])
    assert st.n == 3
    assert st.mean_relative == pytest.approx(0.0)
    assert st.mean_abs_relative == pytest.approx(1 / 3)
    assert st.median_abs_relative == pytest.approx(0.5)
    # |errors| sorted 0, 0.5, 0.5; 95th percentile at position 0.95 * 2 = 1.9 -> 0.5
    assert st.p95_abs_relative == pytest.approx(0.5)
    assert st.max_abs_relative == pytest.approx(0.5)
    assert st.total_ratio == pytest.approx(6.0 / 6.0)


def test_error_stats_bias_and_total_differ():
    # errors +1.0 on a short batch and -0.1 on a long one: mean bias +0.45, total 12/12 = 1.0...
    st = error_stats([0.2, 9.0], [0.1, 10.0])
    assert st.mean_relative == pytest.approx((1.0 - 0.1) / 2)
    assert st.mean_abs_relative == pytest.approx((1.0 + 0.1) / 2)
    # ... while the total busy time is 9.2 / 10.1
    assert st.total_ratio == pytest.approx(9.2 / 10.1)
    # p95 of |errors| {0.1, 1.0}: 0.1 + 0.95 * 0.9 = 0.955
    assert st.p95_abs_relative == pytest.approx(0.955)


def test_error_stats_perfect_prediction_is_zero():
    st = error_stats([0.05, 0.07], [0.05, 0.07])
    assert (st.mean_abs_relative, st.max_abs_relative, st.total_ratio) == (0.0, 0.0, 1.0)
    assert set(st.as_dict()) >= {"n", "mean_relative", "total_ratio"}


@pytest.mark.parametrize("pred, ref, msg", [
    ([1.0], [1.0, 2.0], "equal lengths"),
    ([], [], "non-empty"),
    ([float("nan")], [1.0], "finite"),
    ([1.0, 1.0], [1.0, -2.0], "reference times must be > 0, got -2.0 at index 1"),
])
def test_error_stats_rejects_bad_input(pred, ref, msg):
    with pytest.raises(ValueError, match=msg):
        error_stats(pred, ref)


@pytest.fixture
def crosscheck_file(tmp_path):
    doc = {
        "vidur_commit": "0123abc", "command": "python x.py",
        "workload": {"n": 3, "rate": 10.0},
        "per_batch": [
            {"scheduler": "vllm", "rate": 10.0, "n_batches": 4, "rows": [
                {"batches": "all", "model": "ours", "n": 4, "mean_relative": -0.05},
                {"batches": "all", "model": "paper", "n": 4, "mean_relative": 0.2}]},
            {"scheduler": "sarathi", "rate": 50.0, "n_batches": 5, "rows": [
                {"batches": "mixed", "model": "ours", "n": 5, "mean_relative": 0.01}]},
        ],
        "end_to_end": [
            {"scheduler": "vllm", "rate": 10.0, "engine": "Vidur", "avg_latency_s": 2.0,
             "relative_difference": 0.0},
            {"scheduler": "vllm", "rate": 10.0, "engine": "ours", "avg_latency_s": 2.5,
             "relative_difference": 0.25}],
    }
    f = tmp_path / "crosscheck.json"
    f.write_text(json.dumps(doc))
    return f


def test_load_per_batch(crosscheck_file):
    df = load_crosscheck(crosscheck_file)
    assert df.shape[0] == 3
    assert df["scheduler"].tolist() == ["vllm", "vllm", "sarathi"]
    assert df["rate"].tolist() == [10.0, 10.0, 50.0]
    assert df.loc[1, "model"] == "paper" and df.loc[1, "mean_relative"] == 0.2


def test_load_end_to_end(crosscheck_file):
    df = load_crosscheck(crosscheck_file, "end_to_end")
    assert df["engine"].tolist() == ["Vidur", "ours"]
    assert df.loc[1, "avg_latency_s"] / df.loc[0, "avg_latency_s"] - 1 == pytest.approx(
        df.loc[1, "relative_difference"])


def test_load_config(crosscheck_file):
    df = load_crosscheck(crosscheck_file, "config")
    settings = dict(zip(df["setting"], df["value"]))
    assert settings["vidur_commit"] == "0123abc"
    assert settings["workload.n"] == "3" and settings["workload.rate"] == "10"


def test_load_errors(tmp_path, crosscheck_file):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_crosscheck(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"per_batch": []}))
    with pytest.raises(ValueError, match="lacks 'end_to_end'"):
        load_crosscheck(bad)
    with pytest.raises(ValueError, match="table must be one of"):
        load_crosscheck(crosscheck_file, "everything")


def test_fit_paper_form_recovers_the_papers_coefficients():
    # six batches timed exactly by the paper's formula, ms:
    # 44.6 + 0.52 B + 0.0027 C + 0.378 P, e.g. batch 1: 44.6 + 0.52 + 0 + 3.78 = 48.9,
    # batch 5: 44.6 + 52 + 24.3 = 120.9
    B = [1, 2, 10, 50, 100, 3]
    C = [0, 5, 300, 2000, 9000, 0]
    P = [10, 0, 0, 0, 0, 500]
    ms = [48.9, 45.6535, 50.61, 76.0, 120.9, 235.16]
    fit = fit_paper_form(B, C, P, [m / 1000 for m in ms])
    assert fit["intercept_ms"] == pytest.approx(44.6)
    assert fit["per_step_ms"] == pytest.approx(0.52)
    assert fit["per_context_token_ms"] == pytest.approx(0.0027)
    assert fit["per_prompt_token_ms"] == pytest.approx(0.378)


def test_fit_paper_form_rejects_ragged_input():
    with pytest.raises(ValueError):
        fit_paper_form([1, 2, 3, 4], [0, 0, 0], [0, 0, 0, 0], [0.1] * 4)


def test_end_to_end_differences_are_per_seed(tmp_path):
    # seed 0: Vidur 2.0 s, ours 2.2 s -> +10 %; seed 1: Vidur 4.0 s, ours 3.6 s -> -10 %
    rows = [{"seed": s, "rate": 10.0, "engine": e, "avg_latency_s": v, "status": "ok"}
            for s, e, v in ((0, "Vidur, vllm scheduler", 2.0), (0, "ours, prefill-first", 2.2),
                            (1, "Vidur, vllm scheduler", 4.0), (1, "ours, prefill-first", 3.6))]
    f = tmp_path / "x.json"
    f.write_text(json.dumps({"per_batch": [], "end_to_end": rows}))
    t = end_to_end_table(f)
    assert t["vs Vidur vllm %"].tolist() == pytest.approx([0.0, 10.0, 0.0, -10.0])
    assert end_to_end_table(f, seed=1)["avg latency (s)"].tolist() == [4.0, 3.6]
    spread = seed_spread(f, key_only=True)
    assert spread[["min %", "max %"]].values.tolist() == [[-10.0, 10.0]]
