"""What the ID-sequence models share: item table, next-item loss at every position."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dynrec_cli.errors import ConfigError
from dynrec_cli.models.losses import full_softmax_loss, sampled_softmax_loss
from dynrec_cli.models.padding import trim_left_padding

LOSSES = ("ce", "sampled")


class SequenceModel(nn.Module):
    """Base of models that encode a left-padded item sequence into one state per position."""

    trainable = True

    def __init__(self, n_items: int, hidden: int, max_len: int, loss: str, negatives: int, temperature: float) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ConfigError(f"model.loss={loss}: choose one of {', '.join(LOSSES)}")
        self.n_items, self.hidden, self.max_len = n_items, hidden, max_len
        self.loss_name, self.negatives, self.temperature = loss, negatives, temperature
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        # sampling distribution for loss=sampled; set from training counts by `set_item_counts`
        self.register_buffer("log_q", torch.zeros(n_items + 1), persistent=False)

    def encode(self, items: Tensor, times: Tensor) -> Tensor:
        """(B, L) items and times → (B, L, d) states; position t has read items[..t]."""
        raise NotImplementedError

    def item_vectors(self) -> Tensor:
        return self.item_emb.weight

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        return self.encode(items, times)[:, -1]

    def set_item_counts(self, counts: Tensor) -> None:
        probs = (counts.float() + 1.0) / (counts.float() + 1.0)[1:].sum()
        probs[0] = 0.0
        self.log_q = torch.log(probs.clamp_min(1e-12)).to(self.log_q.device)

    def loss(self, inputs: Tensor, targets: Tensor, times: Tensor) -> Tensor:
        """Mean next-item loss over every position that has a target (targets > 0)."""
        inputs, targets, times = trim_left_padding(inputs, targets, times, targets=targets)
        states = self.encode(inputs, times)
        mask = targets > 0
        hidden, wanted = states[mask], targets[mask]
        table = self.item_vectors()
        if self.loss_name == "ce":
            return full_softmax_loss(hidden, table, wanted, self.temperature)
        probs = self.log_q.exp()
        negatives = torch.multinomial(probs, self.negatives, replacement=True)
        return sampled_softmax_loss(hidden, table, wanted, negatives, self.log_q, self.temperature)
