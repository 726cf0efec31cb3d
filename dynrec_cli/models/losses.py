"""Next-item losses over the catalogue: full softmax, and sampled softmax with log-Q correction."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def full_softmax_loss(
    hidden: Tensor, items: Tensor, targets: Tensor, temperature: float, known: Tensor | None = None
) -> Tensor:
    """Cross-entropy of the target against every item.

    Args:
        hidden: (N, d) user states at the positions that have a target.
        items: (n_items + 1, d) item table; row 0 is padding and never a class.
        targets: (N,) item indices in 1..n_items.
        known: (n_items + 1,) bool, items that exist in training; the others are left out of the
            softmax, as they would not exist yet in a real cold start (otherwise they are pushed
            down as negatives at every step and a text model can never rank them).
    """
    logits = hidden @ items[1:].T / temperature  # (N, n_items)
    if known is not None:
        logits = logits.masked_fill(~known[1:], float("-inf"))
    return F.cross_entropy(logits.float(), targets - 1)


def sampled_softmax_loss(
    hidden: Tensor, items: Tensor, targets: Tensor, negatives: Tensor, log_q: Tensor, temperature: float
) -> Tensor:
    """Softmax over the target and negatives shared by the batch, with log-Q correction.

    Subtracting log Q(item) from each logit makes the sampled loss an unbiased estimate of the
    full softmax's gradient when negatives are drawn by popularity (Bengio & Senecal; Yi et al.).

    Args:
        hidden: (N, d); items: (n_items + 1, d); targets: (N,).
        negatives: (S,) item indices drawn from Q; log_q: (n_items + 1,) log sampling probabilities.
    """
    positive = (hidden * items[targets]).sum(-1, keepdim=True) / temperature - log_q[targets, None]
    negative = hidden @ items[negatives].T / temperature - log_q[negatives][None, :]
    # a sampled negative equal to the target is not a negative
    negative = negative.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    logits = torch.cat([positive, negative], dim=1).float()
    return F.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long, device=logits.device))


def log_q_from_counts(counts: Tensor) -> Tensor:
    """Log sampling probabilities for `sampled_softmax_loss`: add-one smoothed popularity.

    Args:
        counts: (n_items + 1,) training events per item; row 0 (padding) gets probability 0.

    Returns:
        (n_items + 1,) float, log Q(item); -27.6 (log 1e-12) for padding.
    """
    smoothed = counts.float() + 1.0
    probs = smoothed / smoothed[1:].sum()
    probs[0] = 0.0
    return torch.log(probs.clamp_min(1e-12))
