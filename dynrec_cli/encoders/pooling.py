"""Pool a language model's token states into one vector per text."""

from __future__ import annotations

import torch

from dynrec_cli.errors import ConfigError

POOLINGS = ("mean", "cls", "last")
# An encoder's tokens all see each other, so their mean summarises the text; in a decoder only
# the last token has seen the whole text.
DEFAULT_POOLING = {"encoder": "mean", "decoder": "last"}


def check_pooling(method: str, kind: str) -> str:
    """The pooling to use: `auto` becomes the default for `kind`; others are checked.

    Raises:
        ConfigError: an unknown method, or `cls` on a decoder (its first token has seen
            nothing but itself).
    """
    if method == "auto":
        return DEFAULT_POOLING[kind]
    if method not in POOLINGS:
        raise ConfigError(f"encoder.pooling={method}: choose one of auto, {', '.join(POOLINGS)}")
    if method == "cls" and kind == "decoder":
        raise ConfigError(
            "encoder.pooling=cls: cls pooling does not fit a decoder-only model: use last or mean"
        )
    return method


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, method: str) -> torch.Tensor:
    """One vector per row.

    Args:
        hidden: (B, L, d) token states.
        attention_mask: (B, L), 1 for real tokens, 0 for padding (right or left).
        method: `mean` (over real tokens), `cls` (position 0) or `last` (last real token).

    Returns:
        (B, d) pooled states, in `hidden`'s dtype.
    """
    if method == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        # clamp: an all-padding row gives zeros rather than NaN.
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    if method == "cls":
        return hidden[:, 0]
    if method == "last":
        length = attention_mask.shape[1]
        # Index of the last 1 in each row: the first 1 of the flipped row, counted from the end.
        # Works for right padding (1 1 0 0) and left padding (0 0 1 1) alike.
        last = length - 1 - attention_mask.flip(1).to(torch.long).argmax(1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    raise ConfigError(f"encoder.pooling={method}: choose one of {', '.join(POOLINGS)}")
