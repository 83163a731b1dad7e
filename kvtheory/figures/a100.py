"""Figures of the A100 chapter (latency over time, energy, batch-time fits, trace lengths).

Every name is re-exported by :mod:`kvtheory.figures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence  # noqa: F401

import matplotlib.pyplot as plt  # noqa: F401
import numpy as np  # noqa: F401

from kvtheory.figures.style import _ax, panels

if TYPE_CHECKING:                                   # chapter types, not imported at run time
    from kvtheory.studies.a100 import ReplicationResult
    from kvtheory.model.traces import Trace

__all__ = ["plot_latency_over_time_panels", "plot_energy_sweep_panels", "plot_batch_time_fits",
           "plot_latency_over_time", "plot_batch_time_fit", "plot_energy_sweep",
           "plot_length_match"]


def plot_latency_over_time_panels(result: ReplicationResult):
    """:func:`plot_latency_over_time` for every rate of ``result``, side by side (a Figure)."""
    return panels(lambda rate, ax: plot_latency_over_time(result, rate, ax=ax),
                  result.config["rates"])


def plot_energy_sweep_panels(result: ReplicationResult):
    """:func:`plot_energy_sweep` for every rate of ``result``, side by side (a Figure)."""
    return panels(lambda rate, ax: plot_energy_sweep(result, rate, ax=ax),
                  result.config["rates"], width=6.0, height=3.6)


def plot_batch_time_fits(tps: Sequence[int] = (2, 4), data_dir=None):
    """:func:`plot_batch_time_fit` for each tensor-parallel degree, side by side (a Figure).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> len(plot_batch_time_fits().axes)
    2
    """
    return panels(lambda tp, ax: plot_batch_time_fit(tp, data_dir=data_dir, ax=ax), tps)


def plot_latency_over_time(result: ReplicationResult, rate: float, ax=None,
                           policies: Sequence[str] | None = None):
    """Mean latency against arrival time (binned), one line per policy, with MC-SF's fit.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from kvtheory.studies.a100 import POWER_SWEEP, run_replication
    >>> res = run_replication(np.random.default_rng(0), 100, rates=(10.0,), errors=(),
    ...                       policies=("mc-sf",), workers=1)
    >>> len(plot_latency_over_time(res, 10.0).lines)
    2
    """
    ax = _ax(ax)
    names = [r["policy"] for r in result.main_rows(rate)] if policies is None else policies
    for name in names:
        c = result.curves.get((rate, None, name))
        if not c or not c["time"]:
            continue
        ax.plot(c["time"], c["latency"], lw=1.6 if name == "mc-sf" else 0.9,
                color="black" if name == "mc-sf" else None, label=name)
    mine = result.row(rate, "mc-sf")
    c = result.curves[(rate, None, "mc-sf")]
    t = np.array(c["time"])
    if t.size:
        y0 = float(np.mean(c["latency"]) - mine["latency_slope"] * t.mean())
        ax.plot(t, y0 + mine["latency_slope"] * t, ls="--", color="black", lw=0.8,
                label=f"MC-SF slope {mine['latency_slope']:.3g} s/s")
    ax.set_xlabel("arrival time (s)")
    ax.set_ylabel("mean latency (s)")
    ax.set_title(f"lambda = {rate:g}/s, n = {result.config['n']}")
    ax.legend(ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))   # below: never on the data
    return ax


def plot_batch_time_fit(tp: int = 2, network: str = "pairwise_nvlink", data_dir=None, ax=None):
    """Fitted hinge against the Vidur source points (compute per layer and all-reduce), log-log.

    Uses the committed small table, or every profiled point if ``data_dir`` is given.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_batch_time_fit()
    >>> len(ax.lines) >= 4
    True
    """
    from kvtheory.hardware.batchtime import batch_time_model
    from kvtheory.hardware.batchtime import batch_time_residuals
    ax = _ax(ax)
    rows = batch_time_residuals(tp, network, data_dir)
    model = batch_time_model(tp, network)
    grid = np.unique(np.geomspace(1, 4096, 200).round())
    for fam, fit, color in (("compute", model.compute, "tab:blue"),
                            ("all_reduce", model.all_reduce, "tab:orange")):
        pts = [r for r in rows if r.family == fam]
        ax.plot([r.num_tokens for r in pts], [r.observed_ms for r in pts], "o", ms=3,
                color=color, alpha=0.6, label=f"{fam} (Vidur)")
        ax.plot(grid, fit(grid), "-", color=color,
                label=f"{fam} hinge, knee {fit.knee_tokens:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tokens in batch")
    ax.set_ylabel("ms per layer / per call")
    ax.set_title(f"Llama-2-70B on A100, TP {tp}")
    ax.legend()
    return ax


def plot_energy_sweep(result: ReplicationResult, rate: float, ax=None):
    """Energy of each finished policy relative to MC-SF, under every swept power model.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from kvtheory.studies.a100 import POWER_SWEEP, run_replication
    >>> res = run_replication(np.random.default_rng(0), 100, rates=(10.0,), errors=(),
    ...                       policies=("mc-sf", "vllm"), workers=1)
    >>> len(plot_energy_sweep(res, 10.0).patches) == len(POWER_SWEEP) * 2
    True
    """
    ax = _ax(ax)
    ok = [r for r in result.main_rows(rate) if r["status"] == "ok"]
    pms = list(result.config["power_models"])
    width = 0.8 / max(1, len(ok))
    base = result.row(rate, "mc-sf")["energy_kj_by_power"]
    for k, r in enumerate(ok):
        vals = [r["energy_kj_by_power"][pm] / base[pm] for pm in pms]
        ax.bar(np.arange(len(pms)) + k * width, vals, width, label=r["policy"],
               color="black" if r["policy"] == "mc-sf" else None)
    ax.axhline(1.0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(pms)) + 0.4 - width / 2)
    ax.set_xticklabels(pms, rotation=20, ha="right", rotation_mode="anchor")
    ax.set_ylabel("energy / MC-SF's")
    ax.set_title(f"energy by power model, lambda = {rate:g}/s")
    ax.legend(ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_length_match(trace: Trace, ax=None):
    """Empirical CDFs of generated prompt and output lengths, with the reported medians.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from kvtheory.studies.a100 import lmsys_trace
    >>> len(plot_length_match(lmsys_trace(np.random.default_rng(0), 500, rate=10)).lines)
    4
    """
    from kvtheory.model.workloads import LMSYS_STATS
    ax = _ax(ax)
    for arr, label, med, color in ((trace.prompt, "prompt", LMSYS_STATS["prompt_median"],
                                    "tab:blue"),
                                   (trace.output, "output", LMSYS_STATS["output_median"],
                                    "tab:orange")):
        x = np.sort(arr)
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", color=color,
                label=f"{label} (generated)")
        ax.axvline(med, color=color, ls=":", label=f"{label} median reported ({med:g})")
    ax.set_xscale("log")
    ax.set_xlabel("tokens")
    ax.set_ylabel("fraction of requests")
    ax.legend()
    return ax


