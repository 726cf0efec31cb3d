"""pretrain: load the language model, optionally continue its pretraining on the catalogue's
text, and encode every item's text into an embedding table (cached across runs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ConfigError
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.training.device import resolve_device, resolve_encoding_precision

log = logging.getLogger(__name__)
TEXT_TABLE = "item_text.safetensors"
LM_FOLDER = "lm"
# encoder keys that say how and where to compute, not which vectors come out
RUNTIME_KEYS = ("batch_size", "batch_tokens", "device", "device_map", "cache_dir", "cache_chunk")


class PretrainStage(Stage):
    NAME = "pretrain"
    DEPENDS = ("prepare",)
    MEMORY_KEYS = ("encoder.batch_size", "encoder.max_length", "pretrain.mlm.batch_size")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        if not encodes_text(cfg):  # as for encoder=none: an unused encoder= changes nothing downstream
            return {"encoder": "none"}
        encoder = {k: v for k, v in cfg.encoder.items() if k not in RUNTIME_KEYS}
        if encoder.get("revision") is None:  # a key added after runs were made: unset, it keeps their hash
            encoder.pop("revision", None)
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
        mlm = ctx.cfg.pretrain.mlm
        precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[
            resolve_encoding_precision(str(enc.precision), device)
        ]
        # only encoding (no MLM training): a GPU holds the weights in bf16, half the memory of fp32
        weights = "bf16" if precision == "bf16" and device.type == "cuda" and int(mlm.epochs) == 0 else "fp32"
        if enc.device_map is not None and int(mlm.epochs) > 0:
            raise ConfigError(f"encoder.device_map={enc.device_map} only encodes; pretrain.mlm.epochs={mlm.epochs} trains "
                              "the language model: drop one of them")
        lm, pooling, max_length = load_encoder(enc, dtype=torch.bfloat16 if weights == "bf16" else None,
                                               device_map=enc.device_map)
        texts = item_texts(ctx)
        figures: dict[str, Any] = {"model": str(enc.model), "kind": lm.kind, "pooling": pooling, "dim": lm.hidden_size}
        if lm.commit is not None:
            figures.update(revision=enc.revision, commit=lm.commit)
        if int(mlm.epochs) > 0:
            from dynrec_cli.encoders.mlm import continue_pretraining, save_lm

            stats = continue_pretraining(
                lm, texts[1:], int(mlm.epochs), float(mlm.lr), int(mlm.batch_size), float(mlm.mask_prob),
                int(ctx.cfg.seed), device, max_length=int(enc.max_length),
            )
            save_lm(lm, out / LM_FOLDER)
            figures["mlm"] = stats
        cache = EmbeddingCache(Path(enc.cache_dir), lm.identity, pooling, max_length, bool(enc.normalize), precision, weights)
        result = encode_with_cache(lm, texts, cache, int(enc.batch_size), device, chunk=int(enc.cache_chunk),
                                   batch_tokens=enc.batch_tokens)
        table = result.embeddings.clone()
        table[0] = 0.0
        from safetensors.torch import save_file

        with artifacts.atomic_path(out / TEXT_TABLE) as tmp:
            save_file({"text": table.contiguous()}, str(tmp))
        figures["encoding"] = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.stats.items()}
        figures["encoding"]["empty"] = int(figures["encoding"].get("empty", 0)) - 1  # the padding row
        figures["identity"] = lm.identity
        figures["precision"] = precision
        if weights != "fp32":
            figures["weights"] = weights
        return figures

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        """A skipped stage: its table is read from the run folder, no language model is loaded."""
        figures = manifest["figures"]
        if figures.get("encoding"):
            log.info("[pretrain] item text embeddings of %s (%d items) read from %s: no language model loaded",
                     figures["model"], figures["encoding"]["items"] - 1, ctx.stage_dir(self.NAME) / TEXT_TABLE)

    def after_commit(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        encoding = manifest["figures"].get("encoding")
        if encoding:
            log.info(
                "[pretrain] %s: %d texts (the items and the padding row), %d encoded, %d from cache, %.0f items/s, "
                "%d truncated, %d without text",
                _model_name(manifest["figures"]), encoding["items"], encoding.get("encoded", 0),
                encoding.get("cached", 0), encoding.get("items_per_s", 0.0), encoding.get("truncated", 0),
                encoding.get("empty", 0),
            )


def _model_name(figures: dict[str, Any]) -> str:
    """The model as the log names it: a Hub model with its commit (`org/name@1a2b3c4d5e6f`)."""
    return figures["model"] + (f"@{figures['commit'][:12]}" if figures.get("commit") else "")


def encodes_text(cfg: DictConfig) -> bool:
    """Whether the stage encodes item text: a language model is chosen and the model reads text
    (an ID-only model such as model=sasrec given encoder=minilm needs none)."""
    from dynrec_cli.training.checkpoint import model_class

    return cfg.encoder.name != "none" and bool(getattr(model_class(str(cfg.model._target_)), "uses_text", False))


def load_encoder(
    enc: DictConfig, folder: Path | None = None, dtype: torch.dtype | None = None, device_map: str | None = None
) -> tuple[Any, str, int]:
    """The language model an encoder config names (or the tuned copy in `folder`), with its
    checked pooling and token limit; `dtype` and `device_map` as load_language_model takes them."""
    from dynrec_cli.encoders.encode import resolve_max_length
    from dynrec_cli.encoders.loading import load_language_model
    from dynrec_cli.encoders.pooling import check_pooling

    tiny = OmegaConf.to_container(enc.tiny) if enc.tiny else None
    revision = None if folder is not None else enc.get("revision")  # the tuned copy is a local folder
    lm = load_language_model(str(folder or enc.model), kind=str(enc.kind), tiny=tiny, revision=revision,
                             dtype=dtype, device_map=device_map)
    return lm, check_pooling(str(enc.pooling), lm.kind), resolve_max_length(lm, int(enc.max_length))


def item_texts(ctx: StageContext) -> list[str]:
    """Every item's text in index order; row 0 is the padding item."""
    return [""] + ctx.prepared().items["text"].fillna("").astype(str).tolist()


def load_text_table(stage_dir: Path) -> torch.Tensor:
    """(n_items + 1, d) item text embeddings written by this stage (row 0 = padding)."""
    return run_files.read_tensors(artifacts.verified_file(stage_dir, TEXT_TABLE), ("text",))["text"]
