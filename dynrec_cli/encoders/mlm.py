"""Domain-adaptive pretraining on the catalogue's own text, and saving the adapted model.

An encoder continues its masked-language-model training (BERT's 80/10/10 masking); a decoder
continues next-token prediction. The head only serves the objective: the trained base weights
are copied back into `lm.model`, which is what encoding uses.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import torch

from dynrec_cli.encoders.encode import progress_bar
from dynrec_cli.encoders.loading import LoadedLM
from dynrec_cli.encoders.tiny import TINY_MARKER
from dynrec_cli.errors import ConfigError
from dynrec_cli.training.device import autocast, resolve_precision

IGNORE = -100  # label of positions that carry no loss (transformers' convention)


def continue_pretraining(
    lm: LoadedLM,
    texts: list[str],
    epochs: int,
    lr: float,
    batch_size: int,
    mask_prob: float,
    seed: int,
    device: torch.device,
    max_length: int | None = 128,
    progress: bool = True,
) -> dict[str, Any]:
    """Train `lm.model` in place on `texts`; `lm.identity` changes with the weights.

    Args:
        texts: the catalogue's item texts; empty ones are skipped.
        mask_prob: share of non-special tokens to predict (encoders only); of those 80% become
            [MASK], 10% a random token, 10% stay, so the model cannot rely on seeing [MASK].
        max_length: token limit per text during training (short: most item texts are).

    Returns:
        {"epochs", "final_loss" (mean over the last epoch), "seconds", "texts", "steps"}.

    Raises:
        ConfigError: no non-empty text, or an encoder whose tokenizer has no mask token.
    """
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ConfigError("encoder.pretrain: the catalogue has no item text to train on")
    if lm.kind == "encoder" and getattr(lm.tokenizer, "mask_token_id", None) is None:
        raise ConfigError("encoder.pretrain: this tokenizer has no mask token (use a BERT-like model)")
    limit = min(max_length or lm.max_length, lm.max_length)
    head = _with_head(lm).to(device).train()
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    precision = resolve_precision("auto", device)  # bf16 autocast on CUDA, fp32 on CPU
    start, steps, losses = time.perf_counter(), 0, []
    with progress_bar(progress) as bar:
        task = bar.add_task("pretraining", total=epochs * len(texts))
        for _ in range(epochs):
            losses = []
            for rows in torch.randperm(len(texts), generator=generator).split(batch_size):
                batch, _cut = lm.tokenize([texts[i] for i in rows.tolist()], limit)
                inputs, labels = _objective(lm, batch, mask_prob, generator)
                bar.advance(task, len(rows))
                if (labels != IGNORE).sum() == 0:
                    continue  # nothing to predict (tiny batch, nothing masked): loss would be NaN
                with autocast(device, precision):
                    inputs = {k: v.to(device) for k, v in inputs.items()}
                    loss = head(**inputs, labels=labels.to(device)).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(loss.detach())
                steps += 1
    # Copy back: the base model inside the head was trained, lm.model is what encodes.
    copied = lm.model.load_state_dict(head.base_model.state_dict(), strict=False)
    if copied.unexpected_keys:  # the base model and the head's base must match exactly
        raise RuntimeError(f"pretrained weights do not fit lm.model: {copied.unexpected_keys[:3]}")
    lm.model.to(device).eval()
    settings = json.dumps([lm.identity, epochs, lr, batch_size, mask_prob, seed, limit, len(texts)])
    lm.identity = hashlib.sha256(settings.encode()).hexdigest()
    final = float(torch.stack(losses).mean()) if losses else float("nan")  # one sync, at the end
    return {"epochs": epochs, "final_loss": final, "seconds": time.perf_counter() - start,
            "texts": len(texts), "steps": steps}


def _with_head(lm: LoadedLM) -> torch.nn.Module:
    """The model with an MLM (encoder) or causal-LM (decoder) head, holding lm.model's weights."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM
    from transformers.utils import logging as hf_logging

    auto = AutoModelForMaskedLM if lm.kind == "encoder" else AutoModelForCausalLM
    if lm.source is not None and lm.tiny is None:
        # A pretrained head when the checkpoint has one; otherwise transformers initialises it,
        # expected here (sentence encoders ship without one), so its load report is muted.
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            head = auto.from_pretrained(lm.source, local_files_only=True)
        finally:
            hf_logging.set_verbosity(verbosity)
    else:
        head = auto.from_config(lm.model.config)
    # In-place copy keeps the output embedding tied to the input embedding.
    missing, unexpected = head.base_model.load_state_dict(lm.model.state_dict(), strict=False)
    if missing:
        raise ConfigError(f"encoder.pretrain: the head model lacks weights {missing[:3]}...")
    return head


def _objective(
    lm: LoadedLM, batch: dict[str, torch.Tensor], mask_prob: float, generator: torch.Generator
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Inputs and labels (B, L): masked tokens for an encoder, next tokens for a decoder."""
    ids, attention = batch["input_ids"], batch["attention_mask"]
    if lm.kind == "decoder":
        # The model shifts labels itself; padding carries no loss.
        return batch, ids.masked_fill(attention == 0, IGNORE)
    special = torch.isin(ids, torch.tensor(lm.tokenizer.all_special_ids)) | (attention == 0)
    chosen = (torch.rand(ids.shape, generator=generator) < mask_prob) & ~special
    labels = ids.masked_fill(~chosen, IGNORE)
    draw = torch.rand(ids.shape, generator=generator)
    masked = ids.masked_fill(chosen & (draw < 0.8), lm.tokenizer.mask_token_id)
    swap = chosen & (draw >= 0.8) & (draw < 0.9)
    random_ids = torch.randint(len(lm.tokenizer), ids.shape, generator=generator)
    masked = torch.where(swap, random_ids, masked)
    return {**batch, "input_ids": masked}, labels


def save_lm(lm: LoadedLM, folder: Path) -> None:
    """Write `lm` so that `load_language_model(str(folder))` reloads it (safetensors only).

    A Hugging Face model gets save_pretrained plus its tokenizer; a tiny model gets
    save_pretrained plus `dynrec_tiny.json`, the options its hashing tokenizer is rebuilt from.
    Write into a stage's temporary folder: this function does not swap folders itself.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lm.model.save_pretrained(folder, safe_serialization=True)
    if lm.tiny is not None:
        (folder / TINY_MARKER).write_text(json.dumps(lm.tiny, indent=2, sort_keys=True) + "\n")
    else:
        lm.tokenizer.save_pretrained(folder)
