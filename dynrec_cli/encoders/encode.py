"""Encode texts into one vector each, in length-sorted batches, with throughput stats."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from dynrec_cli.encoders.loading import LoadedLM
from dynrec_cli.encoders.pooling import check_pooling, pool
from dynrec_cli.errors import ConfigError
from dynrec_cli.training.device import autocast, resolve_encoding_precision

_REPLACEMENT = "\ufffd"


@dataclass
class EncodeResult:
    """embeddings: (n, d) float32 on the CPU, row i for text i; stats: counts and throughput."""

    embeddings: torch.Tensor
    stats: dict[str, Any] = field(default_factory=dict)


def clean_text(raw: bytes | str) -> tuple[str, bool]:
    """Text from raw bytes or str, and whether it was not valid UTF-8.

    Invalid bytes are dropped (decoded as U+FFFD, then removed) so one bad byte does not
    poison the tokens around it.
    """
    if isinstance(raw, str):
        return raw, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").replace(_REPLACEMENT, ""), True


def resolve_max_length(lm: LoadedLM, max_length: int | None) -> int:
    """`max_length`, or the model's limit when None.

    Raises:
        ConfigError: a limit below 2 or above what the model's position embeddings allow.
    """
    if max_length is None:
        return lm.max_length
    if not 2 <= max_length <= lm.max_length:
        raise ConfigError(
            f"encoder.max_length={max_length}: must be between 2 and the model's limit "
            f"{lm.max_length} (or null for the limit)"
        )
    return max_length


def encode_texts(
    lm: LoadedLM,
    texts: list[str],
    pooling: str,
    batch_size: int,
    max_length: int | None,
    normalize: bool,
    device: torch.device,
    progress: bool = True,
    precision: str = "fp32",
    batch_tokens: int | None = None,
) -> EncodeResult:
    """Encode `texts`, one vector each, in their original order.

    Texts are batched longest first so each batch pads little (and an out-of-memory error
    comes at once, not at the end). Empty or whitespace-only texts are encoded as "".
    A model that accelerate spread over devices (`encoder.device_map`) stays where it is; its
    inputs go to its first device.

    Args:
        lm: a loaded model; it is moved to `device`.
        texts: n texts.
        pooling: `auto`, `mean`, `cls` or `last` (see pooling.check_pooling).
        batch_size: texts per forward pass.
        max_length: token limit per text (longer ones are cut); None for the model's limit.
        normalize: scale each vector to unit L2 norm (cosine = dot product).
        device: where to run.
        progress: show a rich progress bar with items/s.
        precision: `auto` (bf16 autocast on CUDA and on CPUs with AMX bf16, else fp32), `fp32`,
            `bf16` or `fp16` (see training.device.resolve_encoding_precision).
        batch_tokens: a token budget per batch instead of `batch_size` texts: a batch holds as
            many texts as fit `rows × its longest text's tokens <= batch_tokens` (texts sorted by
            token count), so short texts go in large batches and long ones in small batches.

    Returns:
        embeddings (n, d) float32 on the CPU, and stats: items, tokens (non-padding tokens
        processed), padded_tokens (what the model computed, padding included), seconds,
        items_per_s, tokens_per_s, truncated, empty.
    """
    method = check_pooling(pooling, lm.kind)
    limit = resolve_max_length(lm, max_length)
    if batch_size < 1:
        raise ConfigError(f"encoder.batch_size={batch_size}: must be at least 1")
    cleaned = [t if t.strip() else "" for t in texts]
    batches = text_batches(lm, cleaned, limit, batch_size, batch_tokens)
    out = torch.empty((len(cleaned), lm.hidden_size), dtype=torch.float32)
    truncated, padded = 0, 0
    if getattr(lm.model, "hf_device_map", None):  # spread by accelerate: inputs go to its first device
        model, inputs_on = lm.model.eval(), next(lm.model.parameters()).device
    else:
        model, inputs_on = lm.model.to(device).eval(), device
    tokens = torch.zeros((), dtype=torch.long, device=inputs_on)
    dtype = resolve_encoding_precision(precision, device)
    start = time.perf_counter()
    with progress_bar(progress) as bar, torch.inference_mode():
        task = bar.add_task("encoding", total=len(cleaned))
        for rows in batches:
            batch, cut = lm.tokenize([cleaned[i] for i in rows], limit)
            truncated += cut
            batch = {k: v.to(inputs_on) for k, v in batch.items()}
            with autocast(device, dtype):
                hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"]
            padded += mask.numel()
            vectors = pool(hidden.float(), mask, method)
            if normalize:
                vectors = torch.nn.functional.normalize(vectors, dim=-1)
            tokens += mask.sum()  # stays on the device: no sync per batch
            out[torch.tensor(rows)] = vectors.cpu()  # CPU-GPU sync point, once per batch
            bar.advance(task, len(rows))
    seconds = time.perf_counter() - start
    n_tokens = int(tokens.item())
    stats = {
        "items": len(cleaned),
        "tokens": n_tokens,
        "padded_tokens": padded,
        "seconds": seconds,
        "items_per_s": len(cleaned) / seconds if seconds else 0.0,
        "tokens_per_s": n_tokens / seconds if seconds else 0.0,
        "truncated": truncated,
        "empty": sum(not t for t in cleaned),
    }
    return EncodeResult(out, stats)


def text_batches(lm: LoadedLM, texts: list[str], limit: int, batch_size: int, batch_tokens: int | None) -> list[list[int]]:
    """Row indices of `texts` in batches, longest first: `batch_size` texts per batch, or with
    `batch_tokens` as many as keep rows × the batch's longest token count within the budget
    (a text longer than the budget goes alone)."""
    if batch_tokens is None:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        return [order[begin : begin + batch_size] for begin in range(0, len(order), batch_size)]
    if batch_tokens < 1:
        raise ConfigError(f"encoder.batch_tokens={batch_tokens}: must be at least 1 (or null for encoder.batch_size texts)")
    ids = lm.tokenizer(texts, truncation=True, max_length=limit, verbose=False)["input_ids"]
    lengths = [max(1, len(row)) for row in ids]
    batches: list[list[int]] = []
    for i in sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True):
        # sorted longest first: a batch's first text sets its padded width
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= batch_tokens:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def progress_bar(enabled: bool) -> Progress:
    """A transient rich bar with items/s; a no-op when not `enabled`."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _SpeedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=True,
    )


class _SpeedColumn(ProgressColumn):
    """Items per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} items/s" if task.speed else "- items/s")
