"""Quality and cost per model and data set, with ratios to our SASRec and to RecBole's, in one run.

    python benchmarks/run.py --only throughput [--quick]

Each case trains through the CLI in a child process (peak RSS from the kernel), reads its
seconds per epoch and training windows from the finetune manifest, times a warm full-ranking
evaluation pass of the test split in another child (`benchmarks/eval_timing.py`), and, for text
models, reads the encoding speed of a fresh (uncached) encoding from the pretrain manifest.

With RECBOLE_PYTHON set to a venv's python holding recbole==1.2.1 (set-up: benchmarks/recbole_sports.py),
RecBole's SASRec test pass on ml-100k is also timed in this run, right after ours, so that both
figures come from the same machine state (this VM's speed drifts by up to ~1.5x over hours).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import BASELINES, DATASETS, REFERENCE, RESULTS, markdown_table, read_json, run_dynrec, run_module
from dynrec_cli.data.clock import NS_PER_S

DATA = {
    "ml-100k": ["data=recbole", f"data.path={DATASETS / 'ml-100k'}"],
    "Sports": ["data=sequences", f"data.path={DATASETS / 'amazon-sequences' / 'Sports_and_Outdoors.txt'}"],
}
MODELS = {
    "pop": ["model=pop"],
    "sasrec": ["model=sasrec"],
    "gru4rec": ["model=gru4rec"],
    "dynrec": ["model=dynrec", "encoder=minilm", "adapter=moe"],
}
CASES = [("ml-100k", "pop"), ("ml-100k", "sasrec"), ("ml-100k", "gru4rec"), ("ml-100k", "dynrec"), ("Sports", "sasrec")]
QUICK_CASES = [("ml-100k", "sasrec"), ("ml-100k", "dynrec"), ("Sports", "sasrec")]
SEED = 42
CAPTURE_EVENTS = 2000
RECBOLE_PYTHON = os.environ.get("RECBOLE_PYTHON")
RECBOLE_INTER = {"ml-100k": DATASETS / "ml-100k" / "ml-100k.inter"}  # RecBole's own atomic file, read as it is


def _case(dataset: str, model: str, quick: bool, cache: Path) -> dict:
    run_dir = RESULTS / "runs" / f"throughput-{dataset.lower()}-{model}{'-quick' if quick else ''}"
    # quick: one epoch is enough to time one; full: trained to early stopping (20 minutes at most)
    trainer = ["trainer.epochs=1"] if quick else ["trainer.max_minutes=20"]
    text = [f"encoder.cache_dir={cache}"] if "encoder=minilm" in MODELS[model] else []
    shutil.rmtree(run_dir / "store", ignore_errors=True)  # the last benchmark's interest store: retrained now
    child = run_dynrec(
        "train", f"run_dir={run_dir}", "--force", f"seed={SEED}", *text, *DATA[dataset], *MODELS[model], *trainer,
    )
    metrics = read_json(run_dir / "metrics.json")
    finetune = read_json(run_dir / "finetune" / "manifest.json")["figures"]
    pretrain = read_json(run_dir / "pretrain" / "manifest.json")["figures"].get("encoding") or {}
    timing = _eval_timing(run_dir, "fp32")
    recbole_now = _recbole_eval_now(dataset) if model == "sasrec" else None
    timing_bf16 = _eval_timing(run_dir, "bf16")
    capture = _capture(run_dir)
    epoch_s = finetune.get("seconds_per_epoch")
    return {
        "ndcg@10": metrics["test/ndcg@10"], "recall@10": metrics["test/recall@10"],
        "epochs_run": finetune.get("epochs_run"), "s_per_epoch": epoch_s, "windows": finetune.get("windows"),
        "sequences_per_s": finetune["windows"] / epoch_s if epoch_s else None,
        "eval_s": timing["eval_s"], "eval_users_per_s": timing["users_per_s"], "eval_users": timing["users"],
        "recbole_eval_s_same_run": recbole_now,
        "eval_s_bf16": timing_bf16["eval_s"], "eval_bf16_ndcg@10_change": timing_bf16["ndcg@10"] - timing["ndcg@10"],
        "encode_items_per_s": pretrain.get("items_per_s"), "encode_tokens_per_s": pretrain.get("tokens_per_s"),
        "capture_ms_median": capture.get("latency_ms_median"), "capture_ms_p99": capture.get("latency_ms_p99"),
        "capture_events_per_s": capture.get("events_per_s"),
        "peak_rss_mib": round(child.peak_rss_mib), "run_s": round(child.seconds, 1),
    }


def _eval_timing(run_dir: Path, precision: str) -> dict:
    child = run_module("benchmarks.eval_timing", str(run_dir), "--precision", precision)
    return json.loads(child.output.strip().splitlines()[-1])


def _recbole_eval_now(dataset: str) -> float | None:
    """RecBole's SASRec test pass on `dataset`, timed now (median of 5 warm passes; untrained weights:
    the cost does not depend on them), or None without RECBOLE_PYTHON or a RecBole file for it."""
    if not RECBOLE_PYTHON or dataset not in RECBOLE_INTER:
        return None
    out = RESULTS / f"recbole-{dataset.lower()}-eval-same-run.json"
    run_module("benchmarks.recbole_sports", "--data", str(RECBOLE_INTER[dataset]), "--epochs", "0", "--eval-repeats", "5",
               "--out", str(out), python=RECBOLE_PYTHON)
    return read_json(out)["s_test_eval_pass"]


def _capture(run_dir: Path) -> dict:
    """`dynrec capture` of CAPTURE_EVENTS new events (random known users and items, after the log's
    last event); its figures: per-event latency on the single-event path, events/s batched."""
    prepare = run_dir / "prepare"
    users = pd.read_parquet(prepare / "users.parquet")["user_id"].to_numpy()
    items = pd.read_parquet(prepare / "items.parquet")["item_id"].to_numpy()
    last = int(pd.read_parquet(prepare / "events.parquet", columns=["time"])["time"].max()) // NS_PER_S  # unix seconds
    rng = np.random.default_rng(SEED)
    events = pd.DataFrame({
        "user_id": rng.choice(users, CAPTURE_EVENTS), "item_id": rng.choice(items, CAPTURE_EVENTS),
        "timestamp": last + 1 + np.arange(CAPTURE_EVENTS),
    })
    path = run_dir / "new_events.csv"
    events.to_csv(path, index=False)
    run_dynrec("capture", f"run_dir={run_dir}", f"capture.events={path}")
    reports = sorted((run_dir / "store" / "captures").glob("*/manifest.json"))
    return read_json(reports[-1])["figures"] if reports else {}


def recbole_sasrec(dataset: str) -> dict | None:
    """RecBole 1.2.1's SASRec measured on our machines: seconds per epoch and per test pass, or None.

    ml-100k: ../shared/benchmarks/recbole-ml-100k.json. Sports: benchmarks/reference/recbole-sports.json,
    written by benchmarks/recbole_sports.py (RecBole in its own venv; see its docstring).
    """
    if dataset == "ml-100k":
        figures = read_json(BASELINES / "recbole-ml-100k.json")["SASRec"]
        epoch_s, source = figures["s_per_train_epoch"], "../shared/benchmarks/recbole-ml-100k.json"
        return {"s_per_epoch": epoch_s, "eval_s": figures["s_test_eval_pass"], "source": source}
    path = REFERENCE / "recbole-sports.json"
    if dataset != "Sports" or not path.exists():
        return None
    figures = read_json(path)
    epoch_s, source = statistics.median(figures["s_per_train_epoch"]), "benchmarks/reference/recbole-sports.json"
    return {"s_per_epoch": epoch_s, "eval_s": figures["s_test_eval_pass"], "source": source}


def run(quick: bool) -> tuple[str, dict]:
    cache = Path(tempfile.mkdtemp(prefix="dynrec-bench-cache-"))  # a fresh cache: encoding is timed
    try:
        payload = {f"{d}/{m}": _case(d, m, quick, cache) for d, m in (QUICK_CASES if quick else CASES)}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for key, case in payload.items():
        dataset = key.split("/")[0]
        ours = payload.get(f"{dataset}/sasrec", {})
        recbole = recbole_sasrec(dataset) or {}
        case["x_sasrec_s_per_epoch"] = _ratio(case["s_per_epoch"], ours.get("s_per_epoch"))
        case["x_sasrec_eval_s"] = _ratio(case["eval_s"], ours.get("eval_s"))
        case["recbole_epoch_speedup"] = _ratio(recbole.get("s_per_epoch"), case["s_per_epoch"])
        case["recbole_eval_speedup"] = _ratio(recbole.get("eval_s"), case["eval_s"])
        case["recbole_eval_speedup_bf16"] = _ratio(recbole.get("eval_s"), case["eval_s_bf16"])
        case["recbole_eval_speedup_same_run"] = _ratio(ours.get("recbole_eval_s_same_run"), case["eval_s"])
        rows.append([
            dataset, key.split("/")[1], case["ndcg@10"], case["recall@10"], case["s_per_epoch"], round(case["sequences_per_s"]) if case["sequences_per_s"] else None,
            case["eval_s"], round(case["eval_users_per_s"]), case["eval_s_bf16"], case["eval_bf16_ndcg@10_change"],
            case["encode_items_per_s"], case["encode_tokens_per_s"],
            case["capture_ms_median"], case["capture_ms_p99"], case["peak_rss_mib"], case["x_sasrec_s_per_epoch"], case["x_sasrec_eval_s"],
            case["recbole_epoch_speedup"], case["recbole_eval_speedup"], case["recbole_eval_speedup_bf16"],
            ours.get("recbole_eval_s_same_run"), case["recbole_eval_speedup_same_run"],
        ])
    header = [
        "data set", "model", "NDCG@10", "Recall@10", "s/epoch", "sequences/s", "eval s", "eval users/s", "eval s bf16", "bf16 NDCG@10 change",
        "encode items/s", "encode tokens/s", "capture ms/event (median)", "capture ms p99", "peak RSS MiB", "s/epoch × our SASRec", "eval s × our SASRec",
        "RecBole SASRec s/epoch ÷ ours", "RecBole SASRec eval s ÷ ours", "RecBole SASRec eval s ÷ ours bf16",
        "RecBole SASRec eval s, this run", "RecBole eval s this run ÷ ours",
    ]
    references = "; ".join(
        f"{d}: {r['s_per_epoch']:.1f} s/epoch, {r['eval_s']:.3f} s per test pass ({r['source']})"
        for d in dict.fromkeys(key.split("/")[0] for key in payload) if (r := recbole_sasrec(d))
    )
    note = (
        f"\nRecBole 1.2.1 SASRec, same machines: {references or 'no measured figure'}; a data set without one has empty ratios.\n"
        "An epoch = one pass over every training transition (RecBole: one padded sequence per prefix; dynrec: "
        "max_len windows with a loss at every position). sequences/s = training windows per second. "
        "eval s = one warm full-ranking pass of the test split (all items, history excluded), median of 5, fp32; "
        "eval s bf16 = the same pass with eval.precision=bf16, and the change of its NDCG@10. "
        "'this run' columns: RecBole's test pass timed in this run just after ours (RECBOLE_PYTHON set), else empty. "
        f"capture = `dynrec capture capture.events=FILE` of {CAPTURE_EVENTS} new events, latency on the single-event path. "
        f"Seed {SEED}; {'quick: 1 epoch, so NDCG@10 is not a trained figure' if quick else 'trained to early stopping'}.\n"
    )
    return markdown_table(header, rows) + note, payload


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None
