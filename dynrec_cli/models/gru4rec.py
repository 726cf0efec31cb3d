"""GRU4Rec (Hidasi et al., 2016): a GRU over the item-ID sequence, same loss as SASRec."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from dynrec_cli.models.dropout import BatchDropout
from dynrec_cli.models.sequence import SequenceModel


class GRU4Rec(SequenceModel):
    def __init__(
        self,
        n_items: int,
        hidden: int = 64,
        layers: int = 1,
        dropout: float = 0.2,
        max_len: int = 200,
        loss: str = "ce",
        negatives: int = 256,
        temperature: float = 1.0,
    ) -> None:
        super().__init__(n_items, hidden, max_len, loss, negatives, temperature)
        self.drop = BatchDropout(dropout, align="start")  # on the right-aligned items: positions count from the first
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.proj = nn.Linear(hidden, hidden)

    def encode(self, items: Tensor, times: Tensor) -> Tensor:
        """Run the GRU over the real items only: left padding must not move the state."""
        length = items.shape[1]
        lengths = (items > 0).sum(1)
        shift = (length - lengths)[:, None]
        columns = torch.arange(length, device=items.device)[None, :]
        right_aligned = items.gather(1, (columns + shift) % length)  # real items first
        packed = pack_padded_sequence(
            self.drop(self.item_emb(right_aligned)), lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        states, _ = self.gru(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=length)
        left_aligned = states.gather(1, ((columns - shift) % length)[..., None].expand(-1, -1, states.shape[-1]))
        return self.proj(left_aligned)
