"""The pick of DynRec's text-match weight w on the valid split, after training.

Each candidate w is scored on the same valid users. Neighbouring weights often tie within the
split's noise (Scientific, cold-item protocol: 2 and 4 differ by 0.1 standard errors), and there
the valid split cannot tell them apart, while the choice can decide what the model does for items
it never saw in training: the text is their only route, and a valid split holds none of them
(`data.cold_items` drops their valid events; new catalogue items arrive after training). So among
the weights that trail the best by at most `noise` standard errors of the paired difference, the
largest one is kept (the one-standard-error rule, with the paired error since every weight ranks
the same users), and only if the best beats w = 0 by MIN_GAIN: a gain inside the noise would
cost 3x the scoring work for nothing.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Callable

import numpy as np
import torch

from dynrec_cli.training import distributed

log = logging.getLogger(__name__)
WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
MIN_GAIN = 0.01  # relative gain of the best weight over w = 0 below which the match stays off


def paired_standard_error(best: np.ndarray, other: np.ndarray) -> float:
    """Standard error of mean(best - other) over every rank's users (per-user scores, same users)."""
    gap = best - other
    means = distributed.global_means({"gap": gap, "square": gap * gap})
    users = distributed.mean_over_ranks(float(len(gap))) * distributed.world_size()
    return math.sqrt(max(means["square"] - means["gap"] ** 2, 0.0) / max(users - 1.0, 1.0))


def pick_weight(scores: dict[float, float], errors: dict[float, float], noise: float) -> float:
    """The largest weight whose score trails the best by at most `noise` paired standard errors
    (`errors[w]`: of the gap between the best weight and w), or 0 unless the best beats 0 by more
    than MIN_GAIN. noise=0 keeps the best (ties: the larger weight)."""
    best = max(scores.values())
    if best <= scores[0.0] * (1 + MIN_GAIN):
        return 0.0
    return max(w for w in scores if best - scores[w] <= noise * errors[w])


def calibrate(
    model: torch.nn.Module, score_users: Callable[[torch.nn.Module], np.ndarray], objective: str, noise: float
) -> dict[str, Any]:
    """Score every weight on the valid split (`score_users`: this rank's per-user objective), set the
    picked one on `model` and return the figures the finetune manifest keeps."""
    model.eval()
    per_user = {}
    for weight in WEIGHTS:
        model.set_text_match(weight)
        per_user[weight] = score_users(model)
    scores = {w: distributed.global_means({"score": values})["score"] for w, values in per_user.items()}
    top = max(WEIGHTS, key=lambda w: (scores[w], -w))
    errors = {w: paired_standard_error(per_user[top], per_user[w]) for w in WEIGHTS}
    picked = pick_weight(scores, errors, noise)
    model.set_text_match(picked)
    log.info("text match weight %g: %s %.4f (best %.4f at %g, %.4f without)",
             picked, objective, scores[picked], scores[top], top, scores[0.0])
    return {
        "weight": picked,
        objective: [[w, round(v, 5)] for w, v in scores.items()],
        "standard_error": [[w, round(v, 5)] for w, v in errors.items()],  # of the gap to the best weight
    }
