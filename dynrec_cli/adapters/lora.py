"""adapter=lora: LoRA on the language model itself (through peft), trained end to end with DynRec.

DynRec reads item text from a frozen table, `text_table`. Here a LoRA-wrapped copy of the language
model, the *tower*, re-encodes at every step the distinct items of the batch (inputs and targets,
at most `batch_items` of them) with gradient, and the step's loss reads a copy of the table with
those rows replaced, so the loss reaches the LoRA weights.

The table itself is refreshed at the end of every epoch, before the valid evaluation: the whole
catalogue is re-encoded (no gradient, batches sorted by length) into `core.text_table`. Why that
schedule: rows in the batch are always fresh; the others (the softmax's negatives) are at most one
epoch stale; and a full refresh costs one forward pass over the catalogue, small next to an epoch
of training steps, each a forward and backward pass over up to `batch_items` texts. Refreshing
more often would buy fresher negatives at a full pass each time.

The finetune stage saves `core`: a plain DynRec whose table holds the last refresh, so capture,
rank and evaluate need no language model. The LoRA weights are saved beside it (`save_pretrained`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dynrec_cli.encoders.loading import LoadedLM
from dynrec_cli.encoders.pooling import pool
from dynrec_cli.errors import ConfigError

REFRESH = ("epoch",)
LORA_KEYS = ("r", "alpha", "dropout", "target_modules", "layers", "lr", "batch_items", "refresh")


def tokenize_catalogue(lm: LoadedLM, texts: list[str], max_length: int, chunk: int = 4096) -> tuple[Tensor, Tensor]:
    """Token ids of every item text, once, so a training step only gathers rows.

    Args:
        texts: n texts (row 0 is the padding item's ""); empty or blank ones are encoded as "".
        max_length: token limit per text, as the pretrain stage used.

    Returns:
        tokens: (n, L) int32 ids, right-padded (L = the longest text, <= max_length);
        lengths: (n,) long, real tokens per row (at least 1).
    """
    cleaned = [t if t.strip() else "" for t in texts]
    tokens = torch.full((len(cleaned), max_length), int(lm.tokenizer.pad_token_id or 0), dtype=torch.int32)
    lengths = torch.zeros(len(cleaned), dtype=torch.long)
    for begin in range(0, len(cleaned), chunk):
        batch, _ = lm.tokenize(cleaned[begin : begin + chunk], max_length)
        ids, mask = batch["input_ids"], batch["attention_mask"]
        tokens[begin : begin + len(ids), : ids.shape[1]] = ids.to(torch.int32)
        lengths[begin : begin + len(ids)] = mask.sum(1)  # right padding (loading.py sets it)
    return tokens[:, : int(lengths.max())].contiguous(), lengths


class TextTower(nn.Module):
    """A LoRA-wrapped language model over the pre-tokenised catalogue: item ids -> text vectors.

    Args:
        lm: the loaded language model; its `model` is wrapped in place by peft (base weights frozen).
        tokens, lengths: from `tokenize_catalogue`, row i = item i.
        pooling: mean, cls or last (already checked against the model's kind).
        normalize: L2-normalise each vector, as the pretrain stage's table is.
        batch_size: texts per forward pass when re-encoding the whole catalogue.
        r, alpha, dropout, target_modules: peft's LoraConfig r, lora_alpha, lora_dropout,
            target_modules (None: peft's default for the architecture).
        layers: LoRA on the top `layers` transformer layers only (None: all). The layers below
            stay frozen, so their output is computed once per item and cached: a step then runs
            the top layers alone (BERT-like encoders, whose layers sit in `encoder.layer`).
    """

    def __init__(
        self, lm: LoadedLM, tokens: Tensor, lengths: Tensor, pooling: str, normalize: bool, batch_size: int,
        r: int = 8, alpha: float = 16, dropout: float = 0.05, target_modules: list[str] | None = None,
        layers: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        from peft import LoraConfig, get_peft_model

        stack = _layer_stack(lm.model) if layers is not None else None
        trained = None
        if stack is not None:
            if not 1 <= layers <= len(stack):
                raise ConfigError(f"adapter.lora.layers={layers}: the language model has {len(stack)} layers")
            trained = list(range(len(stack) - layers, len(stack)))
        config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules,
                            layers_to_transform=trained, layers_pattern="layer" if trained else None)
        try:
            with _quiet():
                self.net = get_peft_model(lm.model, config)
        except ValueError as exc:  # no default target modules for this architecture, or a bad name
            raise ConfigError(
                f"adapter.lora: {str(exc).splitlines()[0]} (set adapter.lora.target_modules to the attention "
                "projections' names, e.g. [query, value] for BERT, [q_proj, v_proj] for Llama-like models)"
            ) from None
        self.r, self.layers, self.dim, self.pooling = r, layers, lm.hidden_size, pooling
        self.normalize, self.batch_size = normalize, batch_size
        # not persistent: they follow .to(device) but stay out of checkpoints
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("lengths", lengths, persistent=False)
        self.top: list[nn.Module] = [] if stack is None else list(stack[len(stack) - layers :])
        below = None if stack is None else self._frozen_states(len(stack) - layers)
        self.register_buffer("below", below, persistent=False)

    def lora_parameters(self) -> list[nn.Parameter]:
        """The trainable LoRA weights (peft froze everything else)."""
        return [p for p in self.net.parameters() if p.requires_grad]

    def forward(self, ids: Tensor) -> Tensor:
        """ids: (n,) long item ids -> (n, dim) float32 text vectors, with gradient in train mode."""
        lengths = self.lengths[ids]
        width = int(lengths.max())  # CPU-GPU sync point, once per call
        mask = (torch.arange(width, device=ids.device) < lengths[:, None]).long()
        if self.below is None:
            hidden = self.net(input_ids=self.tokens[ids, :width].long(), attention_mask=mask).last_hidden_state
        else:
            hidden = self._top_layers(self.below[ids, :width], mask)
        vectors = pool(hidden.float(), mask, self.pooling)
        return F.normalize(vectors, dim=-1) if self.normalize else vectors

    def _frozen_states(self, depth: int) -> Tensor:
        """(n, L, dim) output of the first `depth` layers for every row (the embeddings when 0)."""
        out = torch.zeros(*self.tokens.shape, self.dim)
        was_training = self.training
        self.eval()
        with torch.inference_mode():
            for rows in torch.arange(len(self.tokens)).split(self.batch_size):
                width = int(self.lengths[rows].max())
                mask = (torch.arange(width) < self.lengths[rows, None]).long()
                states = self.net(input_ids=self.tokens[rows, :width].long(), attention_mask=mask, output_hidden_states=True)
                out[rows, :width] = states.hidden_states[depth].float()
        self.train(was_training)
        return out

    def _top_layers(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """The trained layers over cached states: (n, L, dim), mask (n, L) -> (n, L, dim)."""
        # additive key mask, broadcast over heads and queries (eager and sdpa attention take it)
        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.top:
            out = layer(hidden, attention_mask=additive)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def encode_all(self) -> Tensor:
        """(n, dim) vectors of every row but 0 (left zero), in eval mode, without gradient."""
        was_training = self.training
        self.eval()
        # longest first, as encode_texts does: each batch pads little, an OOM comes at once
        order = torch.argsort(self.lengths[1:], descending=True) + 1
        with torch.inference_mode():
            out = torch.zeros(len(self.lengths), self.dim, device=self.lengths.device)
            for rows in order.split(self.batch_size):
                out[rows] = self(rows)
        self.train(was_training)
        return out


class LoRADynRec(nn.Module):
    """DynRec (`core`) trained together with LoRA on its language model (`tower`).

    Args:
        core: the DynRec, its `text_table` set from the pretrain stage (the same language model,
            whose LoRA starts as a no-op: peft initialises lora_B to zero).
        tower: the TextTower over the same catalogue.
        lr: learning rate of the LoRA weights; the core's comes from the trainer's optimiser.
        batch_items: most distinct items re-encoded with gradient per step (a random subset
            when the batch has more); the others read their row of the last refresh.
        refresh: when the whole table is re-encoded: `epoch` (at the end of each).
    """

    trainable = True
    uses_text = True

    def __init__(
        self, core: nn.Module, tower: TextTower, lr: float = 1e-4, batch_items: int = 256, refresh: str = "epoch"
    ) -> None:
        super().__init__()
        if refresh not in REFRESH:
            raise ConfigError(f"adapter.lora.refresh={refresh}: choose one of {', '.join(REFRESH)}")
        if batch_items < 1:
            raise ConfigError(f"adapter.lora.batch_items={batch_items}: must be at least 1")
        self.core, self.tower = core, tower
        self.lr, self.batch_items, self.refresh = lr, batch_items, refresh
        self.refreshes, self.refresh_seconds = 0, 0.0

    @property
    def max_len(self) -> int:
        return self.core.max_len

    def set_item_counts(self, counts: Tensor) -> None:
        self.core.set_item_counts(counts)

    def gates(self) -> dict[str, float]:
        return self.core.gates()

    def item_vectors(self) -> Tensor:
        return self.core.item_vectors()

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        return self.core.user_vectors(items, times)

    def loss(self, inputs: Tensor, targets: Tensor, times: Tensor) -> Tensor:
        """The core's loss, with the batch's items re-encoded by the tower. inputs, targets, times: (B, L)."""
        ids = torch.unique(torch.cat([inputs.reshape(-1), targets.reshape(-1)]))  # CPU-GPU sync point
        ids = ids[ids > 0]
        if len(ids) > self.batch_items:
            ids = ids[torch.randperm(len(ids), device=ids.device)[: self.batch_items]]
        table = self.core.text_table
        # out of place: the buffer keeps the last refresh; only this step's copy carries gradient
        text = table.detach().index_put((ids,), self.tower(ids).to(table.dtype))
        return self.core.loss(inputs, targets, times, text=text)

    def end_epoch(self) -> None:
        """Called by the training loop after each epoch's steps, before the valid evaluation."""
        if self.refresh == "epoch":
            self.refresh_table()

    def refresh_table(self) -> None:
        """Re-encode the whole catalogue with the current LoRA weights into `core.text_table`."""
        start = time.perf_counter()
        table = self.tower.encode_all()
        with torch.no_grad():
            self.core.text_table.copy_(table)  # not set_text_table: that would re-initialise E_id
        self.refreshes += 1
        self.refresh_seconds += time.perf_counter() - start

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimiser groups: the core at the optimiser's own lr, the LoRA weights at `lr`."""
        return [{"params": list(self.core.parameters())}, {"params": self.tower.lora_parameters(), "lr": self.lr}]

    # The training loop deep-copies state_dict() at each best epoch: leaving the frozen language
    # model out keeps that copy at the core plus LoRA (a large LM would otherwise be duplicated).
    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> dict[str, Any]:
        state = super().state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)
        for key in [k for k in state if k.startswith(prefix) and _frozen(k[len(prefix) :])]:
            del state[key]
        return state

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        missing = [k for k in result.missing_keys if not _frozen(k)]
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(f"LoRADynRec state: missing {missing[:3]}, unexpected {result.unexpected_keys[:3]}")
        return result

    def figures(self) -> dict[str, Any]:
        """What the finetune manifest records about the LoRA run."""
        return {
            "r": self.tower.r, "layers": self.tower.layers, "lr": self.lr, "batch_items": self.batch_items, "refresh": self.refresh,
            "lora_parameters": sum(p.numel() for p in self.tower.lora_parameters()),
            "refreshes": self.refreshes, "refresh_seconds": round(self.refresh_seconds, 2),
        }  # fmt: skip

    def save_lora(self, folder: Any) -> None:
        """Write the LoRA weights with peft's save_pretrained (adapter_model.safetensors + config)."""
        with _quiet():
            self.tower.net.save_pretrained(str(folder), safe_serialization=True)


@contextmanager
def _quiet() -> Iterator[None]:
    """Mute the FutureWarnings transformers raises inside peft's calls: not the user's to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _layer_stack(model: nn.Module) -> nn.ModuleList:
    """The transformer layers of a BERT-like encoder (`encoder.layer`), for adapter.lora.layers."""
    stack = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(stack, nn.ModuleList):
        raise ConfigError(
            f"adapter.lora.layers needs a BERT-like encoder (layers in encoder.layer); {type(model).__name__} has "
            "none: set adapter.lora.layers=null (LoRA on every layer)"
        )
    return stack


def _frozen(key: str) -> bool:
    """A state key of the frozen language model (anything in the tower but the LoRA weights)."""
    return key.startswith("tower.") and "lora_" not in key


def build_lora_model(
    core: nn.Module, lm: LoadedLM, texts: list[str], lora: dict[str, Any],
    pooling: str, max_length: int, normalize: bool, batch_size: int,
) -> LoRADynRec:  # fmt: skip
    """Wrap `core` with a LoRA tower over `lm` (encoding as the pretrain stage did).

    Args:
        lora: the `adapter.lora` keys (see LORA_KEYS).
        texts: item texts, row 0 = padding, as the pretrain stage encoded them.

    Raises:
        ConfigError: an unknown key in `lora`, or a bad value.
    """
    unknown = sorted(set(lora) - set(LORA_KEYS))
    if unknown:
        raise ConfigError(f"adapter.lora: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(LORA_KEYS)}")
    options = dict(lora)
    training = {k: options.pop(k) for k in ("lr", "batch_items", "refresh") if k in options}
    tokens, lengths = tokenize_catalogue(lm, texts, max_length)
    tower = TextTower(lm, tokens, lengths, pooling, normalize, batch_size, **options)
    return LoRADynRec(core, tower, **training)
