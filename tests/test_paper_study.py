"""The two-engine study: traces, rows, reductions, tables and figures."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from kvtheory.figures import plot_latency_vs_k, plot_reduction_vs_k
from kvtheory.studies.paper_study import (
    PAPER_FIGURES,
    StudyTask,
    energy_table,
    latency_study,
    latency_table,
    prediction_study,
    reduction_grid,
    reduction_table,
    run_task,
    study_trace,
)

matplotlib.use("Agg")


def test_paper_figures_reduction():
    # 1 - 32.11 / 46.47 = 14.36 / 46.47 = 0.30902...
    assert PAPER_FIGURES["reduction"] == pytest.approx(0.30902, abs=1e-5)


def test_one_seed_gives_both_rates_the_same_draws():
    # exponential(1/rate) = standard exponential / rate: the 10/s clock is the 50/s clock x 5
    fast, slow = study_trace(0, 50.0, 500), study_trace(0, 10.0, 500)
    assert (fast.prompt == slow.prompt).all() and (fast.output == slow.output).all()
    assert np.allclose(slow.arrival_time, 5 * fast.arrival_time)


def test_reduction_table_by_hand():
    df = pd.DataFrame({
        "engine": ["paper"] * 4 + ["calibrated"] * 2,
        "rate": [50.0, 50.0, 10.0, 10.0, 50.0, 50.0],
        "k": [1] * 6,
        "policy": ["mc-sf", "mc-benchmark"] * 3,
        "avg_latency_s": [30.0, 40.0, 10.0, 8.0, 5.0, None],
        "status": ["ok", "ok", "ok", "ok", "ok", "livelock"]})
    red = reduction_table(df).set_index(["engine", "rate"])["reduction"]
    assert red[("paper", 50.0)] == pytest.approx(0.25)        # 1 - 30/40
    assert red[("paper", 10.0)] == pytest.approx(-0.25)       # 1 - 10/8: MC-SF slower
    assert np.isnan(red[("calibrated", 50.0)])                # livelock: no comparison
    grid = reduction_grid(df)
    assert grid.loc[1, ("paper", 50.0)] == 25.0


def test_latency_study_rows_under_both_engines():
    df = latency_study(0, ks=(1,), rates=(10.0,), policies=("mc-sf", "mc-benchmark"))
    assert df[["engine", "policy"]].values.tolist() == [
        ["paper", "mc-sf"], ["paper", "mc-benchmark"],
        ["calibrated", "mc-sf"], ["calibrated", "mc-benchmark"]]
    assert (df["status"] == "ok").all() and (df["n"] == 1000).all()
    assert (df["evictions"] == 0).all()
    assert np.allclose(df["energy_per_request_j"], df["energy_j"] / 1000)
    assert (df["avg_latency_s"] > 0).all()
    tab = latency_table(df, k=1)
    assert set(tab.columns) == {"paper", "calibrated"}
    assert energy_table(df, k=1).shape[0] == 2


def test_livelocked_runs_carry_no_figures():
    row = run_task(StudyTask("paper", 50.0, 3, "alpha-0.1-beta-0.2", seed=0))
    assert row["status"] == "livelock"
    assert row["avg_latency_s"] is None and row["energy_j"] is None


def test_prediction_study_shares_one_draw_per_error():
    df = prediction_study(0, k=1, rates=(50.0,), engines=("paper",), errors=(0.0, 0.8))
    assert df["reserve"].eq(0.1).all() and (df["status"] == "ok").all()
    assert df[["error", "policy"]].values.tolist() == [
        [0.0, "mc-sf"], [0.0, "mc-benchmark"], [0.8, "mc-sf"], [0.8, "mc-benchmark"]]


def test_unknown_engine_is_rejected():
    with pytest.raises(ValueError, match="engine must be one of"):
        run_task(StudyTask("vidur", 50.0, 1, "mc-sf", seed=0))


def test_figures_draw():
    df = pd.DataFrame({
        "engine": ["paper"] * 4, "rate": [50.0] * 4, "k": [1, 1, 2, 2], "n": [1000, 1000, 2000,
                                                                                2000],
        "policy": ["mc-sf", "mc-benchmark"] * 2, "avg_latency_s": [20.0, 30.0, 40.0, 80.0],
        "status": ["ok"] * 4})
    fig = plot_latency_vs_k(df)
    assert len(fig.axes[0].lines) == 4                 # two policies + the paper's two lines
    ax = plot_reduction_vs_k(df)
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([100 / 3, 50.0])
