"""New items from catalogue rows: encode their text with the run's encoder and adapter, append them.

Why inside `dynrec capture` (`capture.items=FILE`) and not a separate verb: new items and the
events that mention them usually arrive together, and one command lets a capture file refer to
items added in the same call, under one store checkpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from dynrec_cli import artifacts
from dynrec_cli.capture.store import InterestStore
from dynrec_cli.errors import ArtifactError, ConfigError

log = logging.getLogger(__name__)


def read_new_items(path: Path, data: DictConfig, known: pd.Series, id_column: str | None = None) -> pd.DataFrame:
    """Catalogue rows whose id the store does not know: item_id, text and the catalogue's columns
    (title, genres, ... for rank's titles and filters).

    The text is built from the columns as `prepare` joins them (data.text_fields,
    data.text_template); a preset's own cleaning of its raw files is not applied.
    id_column: capture.item_id_column, the file's id column; None = data.item_id_column, else
    data.columns.item (or item_id).
    """
    from dynrec_cli.data.readers.generic import read_catalogue
    from dynrec_cli.data.readers.tables import check_file
    from dynrec_cli.data.text import build_item_text

    check_file(Path(path), "capture.items=")
    column = id_column or data.item_id_column
    fields = OmegaConf.to_container(data.text_fields) if data.text_fields else None
    catalogue, fields = read_catalogue(
        Path(path), column or data.columns.item, column is not None, fields,
        data.get("items_sep") or data.sep, data.encoding,
        key="capture.item_id_column",
    )
    fresh = catalogue[~catalogue["item"].isin(known.astype(str))].reset_index(drop=True)
    text, _ = build_item_text(fresh, fields, data.text_template, path)
    return fresh.drop(columns="item").assign(item_id=fresh["item"].astype(str), text=text.astype(str))


def require_text_view(model: nn.Module, model_name: str) -> None:
    if not hasattr(model, "text_item_vectors"):
        raise ConfigError(
            f"model={model_name} scores items by trained ID embeddings only: it cannot rank items it never saw "
            "(capture.items needs a text model, e.g. model=dynrec)"
        )


def encode_new_items(cfg: DictConfig, pretrain_dir: Path, texts: list[str], model: nn.Module, device: torch.device) -> torch.Tensor:
    """Item vectors of new texts: the run's encoder (only texts not in the embedding cache are
    encoded), then the model's text view (DynRec: γ·adapter(rms(text)), no ID term)."""
    from dynrec_cli.encoders.cache import EmbeddingCache, encode_with_cache
    from dynrec_cli.stages.pretrain import LM_FOLDER, load_encoder

    enc = cfg.encoder
    tuned = pretrain_dir / LM_FOLDER
    lm, pooling, max_length = load_encoder(enc, tuned if tuned.is_dir() else None)
    recorded = (artifacts.load_manifest(pretrain_dir) or {}).get("figures", {}).get("identity")
    if recorded is not None and recorded != lm.identity:
        raise ArtifactError(f"{pretrain_dir}: the encoder now loaded is not the one the run was trained with (encoder.* changed?)")
    cache = EmbeddingCache(Path(enc.cache_dir), lm.identity, pooling, max_length, bool(enc.normalize))
    result = encode_with_cache(lm, texts, cache, int(enc.batch_size), device, batch_tokens=enc.get("batch_tokens"))
    log.info("[capture] new items: %d texts, %d encoded, %d from the embedding cache",
             len(texts), result.stats["encoded"], result.stats["cached"])
    with torch.no_grad():
        return model.text_item_vectors(result.embeddings.to(device)).float().cpu()


def append_items(store: InterestStore, rows: pd.DataFrame, vectors: torch.Tensor) -> dict[str, Any]:
    """Give the new rows the next item indices and their vectors; returns figures."""
    first = len(store.items) + 1
    added = rows.assign(item_idx=np.arange(first, first + len(rows), dtype=np.int64), new=True)
    if "title" in store.items.columns and "title" not in added.columns:
        added["title"] = added["text"]
    if "cold" in store.items.columns:
        added["cold"] = True  # never trained on
    store.items = pd.concat([store.items, added.reindex(columns=store.items.columns)], ignore_index=True)
    store.item_vectors = torch.cat([store.item_vectors, vectors])
    return {"items_added": len(rows), "items": len(store.items)}
