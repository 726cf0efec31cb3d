"""GRU4Rec (Hidasi et al., 2016): a GRU over the item-ID sequence, same loss as SASRec."""

from __future__ import annotations

from torch import Tensor, nn

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
        self.drop = nn.Dropout(dropout)
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.proj = nn.Linear(hidden, hidden)

    def encode(self, items: Tensor, times: Tensor) -> Tensor:
        states, _ = self.gru(self.drop(self.item_emb(items)))
        return self.proj(states)
