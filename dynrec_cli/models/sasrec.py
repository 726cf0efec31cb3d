"""SASRec (Kang & McAuley, 2018): causal self-attention over the item-ID sequence.

Trained, unlike the original, with softmax cross-entropy over the whole catalogue at every
position (or sampled softmax with log-Q correction): the fair, strong baseline (gSASRec, 2023).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dynrec_cli.models.attention import CausalBlock, causal_mask
from dynrec_cli.models.dropout import BatchDropout
from dynrec_cli.models.sequence import SequenceModel


class SASRec(SequenceModel):
    def __init__(
        self,
        n_items: int,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.2,
        max_len: int = 200,
        loss: str = "ce",
        negatives: int = 256,
        temperature: float = 1.0,
        scale_embeddings: bool = False,
    ) -> None:
        super().__init__(n_items, hidden, max_len, loss, negatives, temperature)
        # the original SASRec multiplies item embeddings by sqrt(hidden); RecBole's does not and
        # normalises the input instead, which keeps the output less similar to the input items
        self.scale = hidden**0.5 if scale_embeddings else 1.0
        self.input_norm = nn.Identity() if scale_embeddings else nn.LayerNorm(hidden)
        self.pos_emb = nn.Embedding(max_len, hidden)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        self.blocks = nn.ModuleList(CausalBlock(hidden, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.drop = BatchDropout(dropout)

    def encode(self, items: Tensor, times: Tensor, last_only: bool = False) -> Tensor:
        """(B, L) items -> (B, L, d) states, or (B, 1, d) of the newest position with `last_only`."""
        length = items.shape[1]
        positions = torch.arange(self.max_len - length, self.max_len, device=items.device)
        x = self.item_emb(items)
        x = self.input_norm((x * self.scale if self.scale != 1.0 else x) + self.pos_emb(positions)[None])
        x = self.drop(x) * (items > 0).unsqueeze(-1)
        mask = causal_mask(items)
        for depth, block in enumerate(self.blocks, start=1):
            x = block(x, mask, last_only=last_only and depth == len(self.blocks))
        return self.norm(x)

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        return self.encode(items, times, last_only=True)[:, -1]
