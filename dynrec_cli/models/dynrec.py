"""DynRec: a two-view interest model over frozen item text and (optionally) item IDs.

Item view   O(y) = γ · adapter(text(y)) + δ · E_id(y)
User view   I(x) = α · SeqEnc(O(x_1..x_t)) + β · W · pool_recent(O(x))
Score       I(x) · O(y)   (plain dot product, no normalisation: it learns the contract test's
            rule to ~100% top-1 in 30 steps, and cosine would need a tuned temperature)
            + w · cos(pool_recent(t(x)), t(y))   with text_match; t = the whitened LM text embedding

SeqEnc is a causal transformer with learned positions plus a time-gap embedding; pool_recent is
a learned, time-decayed average of the latest `recent` items (it helps on short sessions, notes
§5). item_id=False drops the ID table: every item, seen in training or not, is scored from its
text alone. With IDs, `id_dropout` removes the ID term of random items during training
(DropoutNet) so the text view learns to score alone; `id_init="pca"` starts E_id from a PCA of
the text table (notes §3). Text rows are RMS-normalised before the adapter, so an encoder's scale
does not matter.

text_match adds the similarity of the text of the user's recent items to each item's text in the
LM's space, whitened (centred, projected on its top `text_match_dims` principal axes, each scaled to
unit variance: raw sentence embeddings crowd into a narrow cone, where cosine says little), beside
the adapter's `hidden`-dimensional view. Its weight w is not trained: trained jointly, the rest of
the model co-adapted and the term bought nothing, while added to a trained model with w chosen on
the valid split it gained NDCG@10 on both data sets (README). The finetune stage sets w after
training (set_text_match; training/text_match.py, within `text_match_noise` paired standard errors
of the best valid score, the largest w); w = 0 leaves the model as it was.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dynrec_cli.adapters import build_adapter
from dynrec_cli.errors import ConfigError
from dynrec_cli.models.attention import CausalBlock, causal_mask
from dynrec_cli.models.dropout import BatchDropout
from dynrec_cli.models.losses import full_softmax_loss, log_q_from_counts, sampled_softmax_loss
from dynrec_cli.models.padding import trim_left_padding
from dynrec_cli.models.time import recency_weights, time_gap_buckets

LOSSES, ID_INITS, ID_STD = ("ce", "sampled"), ("pca", "random"), 0.02


class DynRec(nn.Module):
    trainable = True
    uses_text = True

    def __init__(
        self, n_items: int, text_dim: int, adapter: dict, hidden: int = 64, layers: int = 2, heads: int = 2,
        dropout: float = 0.2, max_len: int = 200, loss: str = "ce", negatives: int = 256, temperature: float = 1.0,
        item_id: bool = True, id_dropout: float = 0.1, id_init: str = "pca", time_buckets: int = 32, recent: int = 10,
        text_match: bool = False, text_match_dims: int = 128, text_match_noise: float = 1.0,
    ) -> None:  # fmt: skip
        super().__init__()
        if loss not in LOSSES:
            raise ConfigError(f"model.loss={loss}: choose one of {', '.join(LOSSES)}")
        if id_init not in ID_INITS:
            raise ConfigError(f"model.id_init={id_init}: choose one of {', '.join(ID_INITS)}")
        if not 0.0 <= id_dropout < 1.0 or recent < 1 or time_buckets < 1:
            raise ConfigError("model: need 0 <= id_dropout < 1, recent >= 1 and time_buckets >= 1")
        self.n_items, self.text_dim, self.hidden, self.max_len = n_items, text_dim, hidden, max_len
        self.loss_name, self.negatives, self.temperature = loss, negatives, temperature
        self.item_id, self.id_dropout, self.id_init, self.recent = item_id, id_dropout, id_init, recent
        self.register_buffer("text_table", torch.zeros(n_items + 1, text_dim))
        self.adapter = build_adapter(adapter, text_dim, hidden)
        self.id_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0) if item_id else None
        if self.id_emb is not None:
            nn.init.normal_(self.id_emb.weight, std=ID_STD)
            with torch.no_grad():
                self.id_emb.weight[0].zero_()
        self.pos_emb, self.time_emb = nn.Embedding(max_len, hidden), nn.Embedding(time_buckets, hidden)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        nn.init.normal_(self.time_emb.weight, std=0.02)
        self.blocks = nn.ModuleList(CausalBlock(hidden, heads, dropout) for _ in range(layers))
        self.norm, self.drop = nn.LayerNorm(hidden), BatchDropout(dropout)
        self.recent_proj = nn.Linear(hidden, hidden)
        # softplus(raw) = λ >= 0; start at λ_pos ≈ 0.3 per step, λ_t ≈ 0.1 per log-second
        self.lambda_pos_raw, self.lambda_time_raw = nn.Parameter(torch.tensor(-1.05)), nn.Parameter(torch.tensor(-2.25))
        self.alpha, self.beta, self.gamma = (nn.Parameter(torch.ones(())) for _ in range(3))
        self.delta = nn.Parameter(torch.ones(())) if item_id else None
        if text_match_noise < 0:
            raise ConfigError(f"model.text_match_noise={text_match_noise}: need a number of standard errors >= 0")
        self.text_match, self.text_match_noise = text_match, float(text_match_noise)  # the noise: read by the pick of w
        if text_match:  # w (set after training) and the whitening (set with the text): buffers, in the checkpoint
            dims = min(text_match_dims, text_dim)
            self.register_buffer("text_match_weight", torch.zeros(()))
            self.register_buffer("match_mean", torch.zeros(text_dim))
            self.register_buffer("match_projection", torch.zeros(text_dim, dims))
        self.register_buffer("log_q", torch.zeros(n_items + 1), persistent=False)
        self.register_buffer("known", torch.ones(n_items + 1, dtype=torch.bool), persistent=False)

    # --- set-up the finetune stage calls ---------------------------------------------------
    def set_text_table(self, table: Tensor) -> None:
        """Store the frozen item text embeddings; with id_init='pca', re-initialise E_id from them.

        Args:
            table: (n_items + 1, text_dim) float; row 0 is forced to zeros (padding).
        """
        if tuple(table.shape) != tuple(self.text_table.shape):
            raise ConfigError(f"text table of shape {tuple(table.shape)}: model needs {tuple(self.text_table.shape)}")
        with torch.no_grad():
            self.text_table.copy_(table.to(self.text_table))
            self.text_table[0].zero_()
            if self.id_emb is not None and self.id_init == "pca":
                self.id_emb.weight[1:].copy_(pca_init(_rms(self.text_table[1:]), self.hidden))
            if self.text_match:
                mean, projection = whitening(self.text_table[1:], self.match_projection.shape[1])
                self.match_mean.copy_(mean)
                self.match_projection.zero_()[:, : projection.shape[1]].copy_(projection)

    def set_item_counts(self, counts: Tensor) -> None:
        """counts: (n_items + 1,) training events per item; used by loss='sampled' (log-Q)."""
        self.log_q = log_q_from_counts(counts).to(self.log_q.device)
        self.known = (counts > 0).to(self.known.device)

    def gates(self) -> dict[str, float]:
        """The learned mixing scalars: alpha (sequence), beta (recent pool), gamma (text), delta (ID)."""
        out = {name: getattr(self, name).item() for name in ("alpha", "beta", "gamma")}
        if self.delta is not None:
            out["delta"] = self.delta.item()
        if self.text_match:
            out["text_match"] = self.text_match_weight.item()
        return out

    def set_text_match(self, weight: float) -> None:
        """Set w of the text-match term (0 = off: the vectors are O(y) and I(x) alone)."""
        if not self.text_match:
            raise ConfigError("this model was built with model.text_match=false")
        self.text_match_weight.fill_(float(weight))

    def _append_text(self, vectors: Tensor, text: Tensor) -> Tensor:
        """[O(y) | unit whitened text(y)] when the text match is on (one dot product then adds w·cos),
        else O(y). Rows of all-zero text (padding) get zeros."""
        if not self.text_match or self.text_match_weight.item() <= 0:
            return vectors
        whitened = (text.to(self.match_mean) - self.match_mean) @ self.match_projection
        whitened = F.normalize(whitened, dim=-1) * text.ne(0).any(-1, keepdim=True)
        return torch.cat([vectors, whitened.to(vectors.dtype)], -1)

    # --- the two views ---------------------------------------------------------------------
    def item_view(self, ids: Tensor, keep_id: Tensor | None = None, text: Tensor | None = None) -> Tensor:
        """O(ids): (*shape) long -> (*shape, hidden); padding (0) maps to zeros.

        keep_id: (n_items + 1,) bool, False drops that item's ID term (training only).
        text: (n_items + 1, text_dim) table to read instead of the frozen `text_table` (adapter=lora
            passes one whose batch rows carry gradient to the language model).
        """
        flat = ids.reshape(-1)
        table = self.text_table if text is None else text
        out = self.gamma * self.adapter(_rms(table[flat]))
        if self.id_emb is not None:
            ident = self.id_emb(flat)
            if keep_id is not None:
                ident = ident * keep_id[flat].unsqueeze(-1)
            out = out + self.delta * ident
        return (out * (flat > 0).unsqueeze(-1)).view(*ids.shape, self.hidden)

    def item_vectors(self) -> Tensor:
        """(n_items + 1, width): O(y), followed by the unit whitened text when the text match is on."""
        return self._append_text(self.item_view(torch.arange(self.n_items + 1, device=self.text_table.device)), self.text_table)

    def states(self, items: Tensor, times: Tensor, seq_view: Tensor, last_only: bool = False) -> Tensor:
        """User state at every position: (B, L) items, times, (B, L, width) O(items) -> (B, L, width).

        width = hidden, or hidden + text_match_dims when the rows carry unit whitened text (text
        match on): the recency pool then pools that too, and w · its unit vector follows the state.
        last_only: only the newest position, (B, 1, hidden): the last block and the pool then run
        on one row instead of L (scoring and capture need no other).
        """
        length = items.shape[1]
        positions = torch.arange(self.max_len - length, self.max_len, device=items.device)
        gaps = time_gap_buckets(items, times, self.time_emb.num_embeddings)
        seq_view, seq_text = seq_view[..., : self.hidden], seq_view[..., self.hidden :]
        x = seq_view + self.pos_emb(positions)[None] + self.time_emb(gaps)
        x = self.drop(x) * (items > 0).unsqueeze(-1)
        mask = causal_mask(items)
        for depth, block in enumerate(self.blocks, start=1):
            x = block(x, mask, last_only=last_only and depth == len(self.blocks))
        weights = recency_weights(
            items, times, self.recent, F.softplus(self.lambda_pos_raw), F.softplus(self.lambda_time_raw), last_only
        )
        pooled = weights.to(seq_view.dtype) @ seq_view  # (B, L or 1, hidden), position t pools items <= t
        state = self.alpha * self.norm(x) + self.beta * self.recent_proj(pooled)
        if not seq_text.shape[-1]:
            return state
        recent_text = F.normalize(weights.to(seq_text.dtype) @ seq_text, dim=-1)
        return torch.cat([state, self.text_match_weight * recent_text], -1)

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        # O(y) once per distinct item of the batch, not once per position: ml-100k's 943 × 50 history
        # cells hold at most 1,682 items, and the adapter over every cell was most of a test pass
        used, where = torch.unique(items, return_inverse=True)
        view = self._append_text(self.item_view(used), self.text_table[used])
        return self.states(items, times, view[where], last_only=True)[:, -1]

    def window_vectors(self, items: Tensor, times: Tensor, table: Tensor) -> Tensor:
        """user_vectors reading O(items) from a precomputed item table (items may be newer than training).

        items, times: (B, L) left-padded; table: (n_items' + 1, width), e.g. item_vectors() plus
        rows of items added later from their text (text_item_vectors) -> (B, width).
        """
        return self.states(items, times, table[items], last_only=True)[:, -1]

    def text_item_vectors(self, text: Tensor) -> Tensor:
        """O(y) of items known only by their text (no ID term): (n, text_dim) -> (n, width)."""
        return self._append_text(self.gamma * self.adapter(_rms(text)), text)

    # --- training --------------------------------------------------------------------------
    def loss(self, inputs: Tensor, targets: Tensor, times: Tensor, text: Tensor | None = None) -> Tensor:
        """Mean next-item loss over every position with a target. inputs, targets, times: (B, L).

        text: optional (n_items + 1, text_dim) table replacing `text_table` for this step (see item_view).
        """
        inputs, targets, times = trim_left_padding(inputs, targets, times, targets=targets)
        keep = None
        if self.training and self.id_emb is not None and self.id_dropout > 0:
            # one draw per item per step, shared by input and output views (DropoutNet)
            keep = torch.rand(self.n_items + 1, device=inputs.device) >= self.id_dropout
        mask = targets > 0
        if self.loss_name == "ce":
            table = self.item_view(torch.arange(self.n_items + 1, device=inputs.device), keep, text)
            hidden = self.states(inputs, times, table[inputs])[mask]
            return full_softmax_loss(hidden, table, targets[mask], self.temperature, self.known)
        hidden = self.states(inputs, times, self.item_view(inputs, keep, text))[mask]
        negatives = torch.multinomial(self.log_q[1:].exp() * self.known[1:], self.negatives, replacement=True) + 1
        # only the items this step touches go through the adapter; remap them to 0..n_used-1
        used = torch.unique(torch.cat([targets[mask], negatives]))
        wanted, negatives = torch.searchsorted(used, targets[mask]), torch.searchsorted(used, negatives)
        table = self.item_view(used, keep, text)
        return sampled_softmax_loss(hidden, table, wanted, negatives, self.log_q[used], self.temperature)


def _rms(x: Tensor) -> Tensor:
    """Scale each row to unit root-mean-square (zero rows stay zero). x: (n, d)."""
    return x * x.pow(2).mean(-1, keepdim=True).add(1e-12).rsqrt()


def _principal_axes(text: Tensor, keep: int) -> tuple[Tensor, Tensor, Tensor]:
    """Mean, top `keep` eigenvalues (descending) and axes of the rows' scatter matrix, in float64.

    Uses the (text_dim, text_dim) scatter, so the cost does not grow with n beyond one matmul.
    """
    mean = text.double().mean(0)
    centred = text.double() - mean
    values, vectors = torch.linalg.eigh(centred.T @ centred)  # ascending
    return mean, values[-keep:].flip(-1), vectors[:, -keep:].flip(-1)


def whitening(text: Tensor, dims: int) -> tuple[Tensor, Tensor]:
    """Mean (text_dim,) and projection (text_dim, k) mapping rows onto their top k <= dims principal
    axes with unit variance each (k also stops below the number of rows, where axes run out)."""
    keep = max(min(dims, text.shape[1], len(text) - 1), 1)
    mean, scatter, axes = _principal_axes(text, keep)
    variances = scatter / max(len(text), 1)
    projection = axes / variances.clamp_min(variances[0].clamp_min(1e-12) * 1e-6).sqrt()
    return mean.float(), projection.float()


def pca_init(text: Tensor, dims: int, std: float = ID_STD) -> Tensor:
    """Project centred rows on their top `dims` principal axes, rescaled to overall std `std`.

    text: (n, text_dim) -> (n, dims). When text_dim < dims the extra columns are small noise.
    """
    keep = min(dims, text.shape[1])
    mean, _, axes = _principal_axes(text, keep)
    projected = ((text.double() - mean) @ axes).float()
    if keep < dims:
        projected = torch.cat([projected, torch.randn(len(text), dims - keep, device=text.device) * projected.std()], 1)
    return projected * (std / projected.std().clamp_min(1e-12))
