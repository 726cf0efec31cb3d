"""What `evaluate` adds to a split's accuracy figures: beyond-accuracy metrics and all segments."""

from __future__ import annotations

import numpy as np
import torch
from omegaconf import DictConfig

from dynrec_cli.data.sequences import UserSequences
from dynrec_cli.evaluation.beyond import beyond_accuracy, gini_at_k
from dynrec_cli.evaluation.evaluator import SplitResult
from dynrec_cli.evaluation.segments import activity_segments, period_segments, user_segments

SEGMENT_PREFIX = "seg/"  # per_user.parquet: one boolean column per segment, e.g. seg/cold


@torch.inference_mode()
def add_beyond_accuracy(result: SplitResult, model: torch.nn.Module, train_items: np.ndarray, ks: list[int], prefix: str) -> dict[str, float]:
    """Put ild/novelty/poprank@k per user into `result.per_user`; return the `{prefix}/gini@k` figures."""
    if not len(result.users):
        return {}
    item_vecs = model.item_vectors().float().cpu()
    counts = torch.bincount(torch.from_numpy(train_items), minlength=result.n_items + 1)
    top = torch.from_numpy(result.topk)
    for name, values in beyond_accuracy(top, item_vecs, counts, ks).items():
        result.per_user[name] = values.numpy()
    return {f"{prefix}/gini@{k}": gini_at_k(top, k, result.n_items) for k in ks}


def all_segments(
    result: SplitResult, history: UserSequences, targets: UserSequences, train_items: np.ndarray, has_time: bool, cfg: DictConfig
) -> dict[str, np.ndarray]:
    """cold/warm, short/long, activity buckets and (with timestamps) time periods, as user masks."""
    segments = user_segments(result.users, history, targets, train_items, result.n_items)
    segments.update(activity_segments(result.users, history, int(cfg.activity_buckets)))
    if has_time:
        segments.update(period_segments(result.users, targets, int(cfg.time_periods)))
    return segments


def segment_columns(segments: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """per_user.parquet columns of the segment masks, so later comparisons can pair within a segment."""
    return {f"{SEGMENT_PREFIX}{name}": mask for name, mask in segments.items()}
