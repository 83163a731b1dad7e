"""Cross-check our batch-time models and engines against Microsoft Vidur .

Not part of the package and not run in CI.  Needs a Vidur source checkout *outside* this
repository (a git work tree, or a plain export with the commit id in a file ``COMMIT``; the
stored snapshot we used lacks the large ``attention.csv`` blobs, so we exported every blob
present) and a separate virtual environment with Vidur's requirements::

    python3 -m venv /work/vidur-venv
    /work/vidur-venv/bin/pip install numpy pandas scikit-learn ddsketch plotly_express \
        matplotlib seaborn fasteners wandb
    .venv/bin/python benchmarks/vidur_crosscheck.py --vidur /work/vidur \
        --vidur-python /work/vidur-venv/bin/python --work /work/vidur-run

Steps, for every seed (default 0 1 2) and rate (default 10 and 50 per second); every file
except the final JSON goes to ``--work``, outside the repository:

1. one shared workload: ``n`` LMSYS-like requests (:func:`kvtheory.studies.a100.lmsys_trace`, seed,
   rate), prompts clipped as Vidur's trace loader clips them (``s + o <= 4096``), written in
   Vidur's trace format (``arrived_at,num_prefill_tokens,num_decode_tokens``);
2. Vidur (Llama-2-70B, A100, TP 2, pairwise NVLink, random-forest predictor) on it under its
   vLLM and Sarathi replica schedulers, run in-process in the Vidur venv by this same file
   (``--driver``), recording every batch's composition and Vidur's predicted time, and every
   request's arrival, completion and restarts;
3. our calibrated model (:func:`kvtheory.hardware.batchtime.batch_time_model`) and the paper's linear
   formula evaluated on Vidur's batch compositions: per-batch error statistics;
4. our engines on the same workload (the calibrated timed engine with the vLLM-style policy;
   the paper's engine, vLLM rule, prefill-first and mixed, with the paper's formula and with
   our calibrated time; every run checked): end-to-end average latency against Vidur's;
5. a small JSON of these comparison figures (ours; no Vidur data) for the book.

The first Vidur run trains its regressors (about 8 minutes on one core here); later runs read
them from ``--work``/vidur_cache (seconds).  The full default run then takes about 2 minutes.

**Attention.** Vidur's attention profile for Llama-2-70B (``attention.csv``, a 10.7 MB Git LFS
file) is not in the snapshot available here, and Vidur cannot run without one.  This script
writes a substitute with the same columns whose times come from *our* attention model
(bandwidth-bound decode, FLOP-bound prefill; :class:`kvtheory.hardware.calibration.BatchTimeModel`), and
``attn_kv_cache_save`` = 0.  Vidur's linear layers, all-reduce, regression, rounding, overheads
and schedulers are its own.  So the per-batch comparison tests everything *but* attention.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

VIDUR_MAX_TOKENS = 4096          # Vidur's trace max_tokens and prediction range (defaults)
BLOCK_SIZE = 16                  # Vidur's default KV block size (tokens)
PAPER_M = 16_492
NUM_BLOCKS = math.ceil(PAPER_M / BLOCK_SIZE)   # 1031 blocks = 16,496 token slots
LAYERS = 80
#: Vidur adds nccl_cpu_launch_overhead_ms = 0.02 to each of the 2 all-reduces of each layer.
NCCL_S = 2 * LAYERS * 0.02e-3


# ============================================================== driver (runs in the Vidur venv)
def _driver(cfg: dict) -> None:
    """Run Vidur once and dump per-batch and per-request records as JSON (Vidur venv only)."""
    sys.path.insert(0, cfg["vidur"])
    import atexit

    from vidur.config import (
        ClusterConfig,
        MetricsConfig,
        RandomForrestExecutionTimePredictorConfig,
        ReplicaConfig,
        SarathiSchedulerConfig,
        SimulationConfig,
        TraceRequestGeneratorConfig,
        VllmSchedulerConfig,
    )
    from vidur.execution_time_predictor.base_execution_time_predictor import (
        BaseExecutionTimePredictor,
    )
    from vidur.simulator import Simulator
    from vidur.utils.random import set_seeds

    prof = Path(cfg["vidur"]) / "data" / "profiling"
    common = {"batch_size_cap": cfg["batch_cap"], "block_size": BLOCK_SIZE,
              "num_blocks": cfg["num_blocks"]}
    if cfg["scheduler"] == "vllm":
        sched = VllmSchedulerConfig(max_tokens_in_batch=VIDUR_MAX_TOKENS, **common)
    elif cfg["scheduler"] == "sarathi":
        sched = SarathiSchedulerConfig(chunk_size=cfg["chunk_size"], **common)
    else:
        raise ValueError(f"scheduler must be vllm or sarathi, got {cfg['scheduler']!r}")
    out = Path(cfg["work"]) / f"vidur_out_{cfg['scheduler']}"
    predictor = RandomForrestExecutionTimePredictorConfig(
        compute_input_file=str(prof / "compute/a100/meta-llama/Llama-2-70b-hf/mlp.csv"),
        attention_input_file=cfg["attention_csv"],
        all_reduce_input_file=str(prof / "network/a100_pairwise_nvlink/all_reduce.csv"),
        send_recv_input_file=str(prof / "network/a100_pairwise_nvlink/send_recv.csv"),
        num_estimators=cfg["rf_estimators"], num_training_job_threads=1)
    config = SimulationConfig(
        seed=cfg["seed"], log_level="warning",
        cluster_config=ClusterConfig(
            num_replicas=1,
            replica_config=ReplicaConfig(model_name="meta-llama/Llama-2-70b-hf",
                                         tensor_parallel_size=2, device="a100",
                                         network_device="a100_pairwise_nvlink"),
            replica_scheduler_config=sched),
        request_generator_config=TraceRequestGeneratorConfig(
            trace_file=cfg["trace_csv"], max_tokens=VIDUR_MAX_TOKENS),
        execution_time_predictor_config=predictor,
        metrics_config=MetricsConfig(write_metrics=False, enable_chrome_trace=False,
                                     store_plots=False, output_dir=str(out),
                                     cache_dir=str(Path(cfg["work"]) / "vidur_cache")))
    set_seeds(cfg["seed"])

    batches, requests, prompt_of = [], [], {}
    original = BaseExecutionTimePredictor.get_execution_time

    def recording(self, batch, pipeline_stage):
        et = original(self, batch, pipeline_stage)
        P = S2 = n_pre = D = K = produced = 0
        for req, ntok in zip(batch.requests, batch.num_tokens):
            if req.is_prefill_complete:
                D += 1
                K += req.num_processed_tokens
                produced += req.num_processed_tokens - prompt_of[req.id]
            else:
                n_pre += 1
                P += ntok
                S2 += ntok * ntok + 2 * ntok * req.num_processed_tokens
        attn_ms = (et.attention_decode_execution_time + et.attention_prefill_execution_time
                   + et.attention_kv_cache_save_execution_time)
        batches.append([P, S2, n_pre, D, K, produced, et.total_time,
                        et.total_time - et.num_layers * attn_ms * 1e-3])
        return et

    BaseExecutionTimePredictor.get_execution_time = recording
    t0 = time.perf_counter()
    sim = Simulator(config)
    atexit.unregister(sim._write_output)
    setup_s = time.perf_counter() - t0
    # the trace's requests, in order (ids are assigned in creation order)
    from vidur.entities import Request  # noqa: F401  (ensures the class is loaded)
    reqs = [ev._request for _, ev in sim._event_queue]
    for r in reqs:
        prompt_of[r.id] = r.num_prefill_tokens
    t1 = time.perf_counter()
    sim.run()
    run_s = time.perf_counter() - t1
    for r in sorted(reqs, key=lambda r: r.id):
        requests.append([r.arrived_at, r.completed_at, r.prefill_completed_at, r.num_restarts,
                         prompt_of[r.id], r.num_decode_tokens + (r.num_prefill_tokens
                                                                - prompt_of[r.id])])
    Path(cfg["result"]).write_text(json.dumps({
        "batches": batches, "requests": requests, "setup_seconds": setup_s,
        "run_seconds": run_s,
        "batch_columns": ["prefill_tokens", "prefill_square_sum", "prefill_requests",
                          "decode_requests", "decode_kv_tokens", "decode_produced_tokens",
                          "seconds", "seconds_without_attention"],
        "request_columns": ["arrived_at", "completed_at", "prefill_completed_at",
                            "num_restarts", "prompt", "output"]}))


# ============================================================== our side (runs in our venv)
def write_inputs(work: Path, n: int, rate: float, seed: int, tag: str):
    """The shared workload (Vidur trace format) and the attention substitute; returns the Trace."""
    from kvtheory.studies.a100 import lmsys_trace
    from kvtheory.hardware.batchtime import batch_time_model
    from kvtheory.model.traces import Trace

    tr = lmsys_trace(np.random.default_rng(seed), n, rate=rate)
    o = np.minimum(tr.output, VIDUR_MAX_TOKENS - 1)
    s = np.maximum(1, tr.prompt - np.maximum(0, tr.prompt + o - VIDUR_MAX_TOKENS))
    tr = Trace(tr.arrival_time, s, o, name=tr.name)
    lines = ["arrived_at,num_prefill_tokens,num_decode_tokens"]
    lines += [f"{t!r},{int(a)},{int(b)}" for t, a, b in zip(tr.arrival_time.tolist(), s, o)]
    (work / f"trace_{tag}.csv").write_text("\n".join(lines) + "\n")

    m = batch_time_model(tp=2)
    head = ("n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,"
            "max_model_len,batch_size,prefill_chunk_size,kv_cache_size,is_prefill,"
            "time_stats.attn_prefill.median,time_stats.attn_decode.median,"
            "time_stats.attn_kv_cache_save.median")
    rows = [head]
    fixed = f"8192,64,8,{BLOCK_SIZE},2,{VIDUR_MAX_TOKENS}"
    sizes = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128]
    for b in sizes:                                           # decode rows
        for k in range(64, VIDUR_MAX_TOKENS + 1, 64):
            ms = m.breakdown(0, b, b * k).decode_attention / LAYERS * 1e3
            rows.append(f"{fixed},{b},0,{k},False,0.0,{ms!r},0.0")
    chunks = [1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
              3072, 4096]
    for c in chunks:                                          # prefill rows
        for kc in [0, 64, 128, 256, 512, 1024, 1536, 2048, 3072]:
            if c + kc > VIDUR_MAX_TOKENS:
                continue
            s2 = min(c * c + 2 * c * kc, (c + kc) ** 2)
            flops = 2.0 * LAYERS * m.model.heads * m.model.head_dim * s2
            ms = flops / m.tp / (m.gpu.peak_flops * m.prefill_flops_efficiency) / LAYERS * 1e3
            rows.append(f"{fixed},1,{c},{kc},True,{ms!r},0.0,0.0")
    (work / "attention_substitute.csv").write_text("\n".join(rows) + "\n")
    return tr


def run_vidur(args, scheduler: str, tag: str, seed: int) -> dict:
    work = Path(args.work)
    cfg = {"vidur": str(Path(args.vidur).resolve()), "work": str(work), "scheduler": scheduler,
           "trace_csv": str(work / f"trace_{tag}.csv"),
           "attention_csv": str(work / "attention_substitute.csv"),
           "result": str(work / f"vidur_{scheduler}_{tag}.json"), "seed": seed,
           "batch_cap": args.batch_cap, "num_blocks": NUM_BLOCKS,
           "chunk_size": args.chunk_size, "rf_estimators": args.rf_estimators}
    t0 = time.perf_counter()
    if not (args.reuse and Path(cfg["result"]).is_file()):
        subprocess.run([args.vidur_python, __file__, "--driver", json.dumps(cfg)], check=True,
                       cwd=str(work))
    res = json.loads(Path(cfg["result"]).read_text())
    res["wall_seconds"] = time.perf_counter() - t0
    res["config"] = cfg
    return res


def paper_formula_seconds(batch_size, context_sum, prompt_tokens):
    """The paper's published code's linear batch time, in seconds, per batch.

    :func:`kvtheory.engines.paper.engine.paper_batch_time` on each batch.  The formula depends on a
    batch only through its number of steps, the sum of their contexts and the sum of the
    prompt sizes of its prompt steps, so one context holding the whole sum and one prompt
    holding all prompt tokens give the same value.  A Vidur decode request's context is the
    tokens it has produced so far (its first token comes with its prefill), as in the paper
    engine's reading (steps done so far).
    """
    from kvtheory.engines.paper.engine import paper_batch_time
    out = []
    for b, c, p in zip(batch_size, context_sum, prompt_tokens):
        b, c, p = int(b), int(c), int(p)
        out.append(paper_batch_time([p] if p else [], [c] + [0] * (b - 1)))
    return np.array(out)


def compare_batches(res: dict) -> dict:
    """Per-batch error of our calibrated model and of the paper's formula against Vidur's."""
    from kvtheory.hardware.batchtime import batch_time_model
    from kvtheory.hardware.vidur import error_stats, fit_paper_form

    B = np.array(res["batches"], dtype=float)
    P, S2, npre, D, K, produced, vid, vid_na = B.T
    m = batch_time_model(tp=2)
    ours, ours_na = [], []
    for p, s2, d, k in zip(P.astype(int), S2.astype(int), D.astype(int), K.astype(int)):
        br = m.breakdown(p, d, k, min(max(s2, p), p * p))
        ours.append(br.total)
        ours_na.append(br.compute + br.all_reduce)
    ours, ours_na = np.array(ours), np.array(ours_na)
    size = npre + D
    paper = paper_formula_seconds(size, produced, P)
    kinds = {"all": np.ones(P.size, bool), "prefill only": (P > 0) & (D == 0),
             "decode only": (P == 0) & (D > 0), "mixed": (P > 0) & (D > 0)}
    out = []
    for kind, sel in kinds.items():
        if not sel.any():
            continue
        for model, pred, ref in (("ours (calibrated)", ours, vid),
                                 ("paper formula", paper, vid),
                                 ("ours, without attention", ours_na, vid_na),
                                 ("ours + NCCL launch overhead", ours + NCCL_S, vid)):
            out.append({"batches": kind, "model": model,
                        **error_stats(pred[sel], ref[sel]).as_dict()})
    return {"rows": out, "n_batches": int(P.size),
            "paper_form_refit": fit_paper_form(size, produced, P, vid),
            "mean_vidur_batch_ms": float(vid.mean() * 1e3),
            "mean_batch_size": float(size.mean())}


#: Our engines run on the shared trace: (label, engine, batching, time model).
ENGINES = (("calibrated engine, vLLM-style, mixed", "timed", "mixed", "calibrated"),
           ("paper engine, vLLM rule, prefill-first, paper formula", "paper", "prefill-first",
            "paper"),
           ("paper engine, vLLM rule, mixed, paper formula", "paper", "mixed", "paper"),
           ("paper engine, vLLM rule, prefill-first, calibrated time", "paper", "prefill-first",
            "calibrated"),
           ("paper engine, vLLM rule, mixed, calibrated time", "paper", "mixed", "calibrated"))


def run_ours(tr, engine: str, batching: str, time_model: str, batch_cap: int) -> dict:
    """Average latency of one of our engines on the shared trace (every run is checked)."""
    from kvtheory.studies.a100 import batch_timer, run_timed
    from kvtheory.engines.paper.engine import PaperRunError, check_paper_run, simulate_paper

    if engine == "timed":
        row, _ = run_timed(tr, "vllm")                     # checked by check_schedule inside
        return {"avg_latency_s": row["avg_latency_s"], "p95_latency_s": row["p95_latency_s"],
                "makespan_s": row["makespan_s"], "evictions": row["evictions"],
                "batches": row["rounds"], "status": "ok"}
    timer = batch_timer(tr.prompt) if time_model == "calibrated" else None
    run = simulate_paper(tr.prompt, tr.output, tr.arrival_time, memory=PAPER_M, policy="vllm",
                         batch_cap=batch_cap, batching=batching, batch_time=timer)
    sm = run.summary()
    try:
        check_paper_run(run)
    except PaperRunError as err:                  # reported, never used as a figure
        return {"avg_latency_s": None, "status": f"rejected by check_paper_run: {err}"}
    if sm["status"] != "ok":
        return {"avg_latency_s": None, "status": f"{sm['status']}: {sm['reason']}"}
    return {**{k: sm[k] for k in ("avg_latency_s", "p95_latency_s", "makespan_s", "evictions",
                                  "batches")}, "status": "ok"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", help=argparse.SUPPRESS)
    ap.add_argument("--vidur", default="/work/vidur", help="Vidur source checkout")
    ap.add_argument("--vidur-python", default="/work/vidur-venv/bin/python")
    ap.add_argument("--work", default="/work/vidur-run", help="scratch dir outside the repo")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rates", type=float, nargs="+", default=[10.0, 50.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--schedulers", nargs="+", default=["vllm", "sarathi"])
    ap.add_argument("--batch-cap", type=int, default=128)
    ap.add_argument("--chunk-size", type=int, default=512)
    ap.add_argument("--rf-estimators", type=int, nargs="+", default=[250])
    ap.add_argument("--reuse", action="store_true",
                    help="reuse Vidur results already in --work (same workload and settings)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1]
                                         / "book/data/vidur_crosscheck.json"))
    args = ap.parse_args(argv)
    if args.driver:
        _driver(json.loads(args.driver))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", args.vidur, "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    if not commit:
        commit = (Path(args.vidur) / "COMMIT").read_text().strip()
    per_batch, e2e, workloads = [], [], []
    timing = {"our engines, all runs": 0.0, "Vidur setup, longest run": 0.0,
              "Vidur simulation, all runs": 0.0}
    for seed in args.seeds:
        for rate in args.rates:
            tag = f"{seed}_{rate:g}"
            key = {"seed": seed, "rate": rate}
            tr = write_inputs(work, args.n, rate, seed, tag)
            workloads.append({**key, "n": tr.n, "prompt_mean": float(tr.prompt.mean()),
                              "output_mean": float(tr.output.mean()),
                              "last_arrival_s": float(tr.arrival_time[-1])})
            for label, engine, batching, time_model in ENGINES:
                t0 = time.perf_counter()
                row = run_ours(tr, engine, batching, time_model, args.batch_cap)
                timing["our engines, all runs"] += time.perf_counter() - t0
                print(f"seed {seed}, {rate:g}/s, {label}: {row}", flush=True)
                e2e.append({**key, "engine": label, **row})
            for sched in args.schedulers:
                res = run_vidur(args, sched, tag, seed)
                timing["Vidur setup, longest run"] = max(timing["Vidur setup, longest run"],
                                                         res["setup_seconds"])
                timing["Vidur simulation, all runs"] += res["run_seconds"]
                per_batch.append({"scheduler": sched, **key, **compare_batches(res)})
                R = np.array(res["requests"], float)
                if (R[:, 1] <= 0).any():
                    raise RuntimeError(f"Vidur {sched} left requests unfinished ({tag})")
                lat = R[:, 1] - R[:, 0]
                vid = {"avg_latency_s": float(lat.mean()),
                       "p95_latency_s": float(np.percentile(lat, 95)),
                       "makespan_s": float(R[:, 1].max() - R[:, 0].min()),
                       "evictions": int(R[:, 3].sum()), "batches": len(res["batches"]),
                       "status": "ok"}
                e2e.append({**key, "engine": f"Vidur, {sched} scheduler", **vid})
                print(f"seed {seed}, {rate:g}/s, Vidur {sched}: {vid}", flush=True)
    doc = {
        "vidur_commit": commit,
        "command": " ".join(["python", "benchmarks/vidur_crosscheck.py", *sys.argv[1:]]),
        "workload": {"generator": "kvtheory.studies.a100.lmsys_trace", "seeds": args.seeds,
                     "n": args.n, "rates": args.rates,
                     "clipping": f"prompt reduced so that s + o <= {VIDUR_MAX_TOKENS} "
                                 "(Vidur's trace loader rule)", "by_run": workloads},
        "vidur_config": {"model": "meta-llama/Llama-2-70b-hf", "device": "a100",
                         "network": "a100_pairwise_nvlink", "tensor_parallel": 2,
                         "num_blocks": NUM_BLOCKS, "block_size": BLOCK_SIZE,
                         "kv_token_slots": NUM_BLOCKS * BLOCK_SIZE, "paper_M": PAPER_M,
                         "batch_size_cap": args.batch_cap, "chunk_size": args.chunk_size,
                         "vllm_max_tokens_in_batch": VIDUR_MAX_TOKENS,
                         "predictor": "random forest", "rf_estimators": args.rf_estimators,
                         "cpu_overheads": "skipped (Vidur default)",
                         "attention": "substitute from kvtheory's attention model "
                                      "(Vidur's attention.csv is not available here)"},
        "per_batch": per_batch, "end_to_end": e2e,
        "seconds": {k: round(v, 1) for k, v in timing.items()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
