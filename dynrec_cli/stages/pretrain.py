"""pretrain: load the language model, optionally continue its pretraining on the catalogue's
text, and encode every item's text into an embedding table (cached across runs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts, run_files
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.training.device import resolve_device, resolve_encoding_precision

log = logging.getLogger(__name__)
TEXT_TABLE = "item_text.safetensors"
LM_FOLDER = "lm"


class PretrainStage(Stage):
    NAME = "pretrain"
    DEPENDS = ("prepare",)
    MEMORY_KEYS = ("encoder.batch_size", "encoder.max_length", "pretrain.mlm.batch_size")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        if not encodes_text(cfg):  # as for encoder=none: an unused encoder= changes nothing downstream
            return {"encoder": "none"}
        encoder = {k: v for k, v in cfg.encoder.items() if k not in ("batch_size", "device", "cache_dir", "cache_chunk")}
        return {"encoder": encoder, "pretrain": cfg.pretrain, "seed": cfg.seed}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        if not encodes_text(ctx.cfg):
            if ctx.cfg.encoder.name != "none":
                log.warning("[pretrain] model %s reads no item text: encoder=%s is not loaded",
                            ctx.cfg.model._target_.rsplit(".", 1)[-1], ctx.cfg.encoder.name)
            return {"encoder": "none", "note": "ID-only model: no language model needed"}
        from dynrec_cli.encoders.cache import EmbeddingCache, encode_with_cache

        enc = ctx.cfg.encoder
        device = resolve_device(enc.device)
        lm, pooling, max_length = load_encoder(enc)
        texts = item_texts(ctx)
        figures: dict[str, Any] = {"model": str(enc.model), "kind": lm.kind, "pooling": pooling, "dim": lm.hidden_size}
        mlm = ctx.cfg.pretrain.mlm
        if int(mlm.epochs) > 0:
            from dynrec_cli.encoders.mlm import continue_pretraining, save_lm

            stats = continue_pretraining(
                lm, texts[1:], int(mlm.epochs), float(mlm.lr), int(mlm.batch_size), float(mlm.mask_prob),
                int(ctx.cfg.seed), device, max_length=int(enc.max_length),
            )
            save_lm(lm, out / LM_FOLDER)
            figures["mlm"] = stats
        precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[
            resolve_encoding_precision(str(enc.precision), device)
        ]
        cache = EmbeddingCache(Path(enc.cache_dir), lm.identity, pooling, max_length, bool(enc.normalize), precision)
        result = encode_with_cache(lm, texts, cache, int(enc.batch_size), device, chunk=int(enc.cache_chunk))
        table = result.embeddings.clone()
        table[0] = 0.0
        from safetensors.torch import save_file

        with artifacts.atomic_path(out / TEXT_TABLE) as tmp:
            save_file({"text": table.contiguous()}, str(tmp))
        figures["encoding"] = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.stats.items()}
        figures["encoding"]["empty"] = int(figures["encoding"].get("empty", 0)) - 1  # the padding row
        figures["identity"] = lm.identity
        figures["precision"] = precision
        return figures

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        encoding = manifest["figures"].get("encoding")
        if encoding:
            log.info(
                "[pretrain] %s: %d texts (the items and the padding row), %d encoded, %d from cache, %.0f items/s, "
                "%d truncated, %d without text",
                manifest["figures"]["model"], encoding["items"], encoding.get("encoded", 0),
                encoding.get("cached", 0), encoding.get("items_per_s", 0.0), encoding.get("truncated", 0),
                encoding.get("empty", 0),
            )


def encodes_text(cfg: DictConfig) -> bool:
    """Whether the stage encodes item text: a language model is chosen and the model reads text
    (an ID-only model such as model=sasrec given encoder=minilm needs none)."""
    from dynrec_cli.training.checkpoint import model_class

    return cfg.encoder.name != "none" and bool(getattr(model_class(str(cfg.model._target_)), "uses_text", False))


def load_encoder(enc: DictConfig, folder: Path | None = None) -> tuple[Any, str, int]:
    """The language model an encoder config names (or the tuned copy in `folder`), with its
    checked pooling and token limit."""
    from dynrec_cli.encoders.encode import resolve_max_length
    from dynrec_cli.encoders.loading import load_language_model
    from dynrec_cli.encoders.pooling import check_pooling

    tiny = OmegaConf.to_container(enc.tiny) if enc.tiny else None
    lm = load_language_model(str(folder or enc.model), kind=str(enc.kind), tiny=tiny)
    return lm, check_pooling(str(enc.pooling), lm.kind), resolve_max_length(lm, int(enc.max_length))


def item_texts(ctx: StageContext) -> list[str]:
    """Every item's text in index order; row 0 is the padding item."""
    return [""] + ctx.prepared().items["text"].fillna("").astype(str).tolist()


def load_text_table(stage_dir: Path) -> torch.Tensor:
    """(n_items + 1, d) item text embeddings written by this stage (row 0 = padding)."""
    return run_files.read_tensors(artifacts.verified_file(stage_dir, TEXT_TABLE), ("text",))["text"]
