"""A tiny randomly initialised language model and its hashing tokenizer: no files, no network.

Tests and the end-to-end demo use it to run the whole language-model path in seconds. Its
tokenizer hashes lowercase words into the vocabulary, so any text gets ids without a vocab file.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import torch

from dynrec_cli.errors import ConfigError

# File that marks a saved tiny model folder (it holds the options below).
TINY_MARKER = "dynrec_tiny.json"
TINY_DEFAULTS: dict[str, Any] = {
    "arch": "bert",  # bert (encoder) or gpt2 (decoder)
    "hidden": 32,
    "layers": 2,
    "heads": 2,
    "vocab": 2048,
    "max_length": 128,  # position embeddings: the model's token limit
    "seed": 0,
}
ARCHS = ("bert", "gpt2")
PAD, CLS, SEP, MASK = 0, 1, 2, 3
_N_SPECIAL = 4
# Letters and digits of any script; everything else separates words.
_WORD = re.compile(r"[^\W_]+")


def tiny_options(tiny: dict[str, Any] | None) -> dict[str, Any]:
    """The tiny model's options: defaults overridden by `tiny`, checked.

    Raises:
        ConfigError: an unknown option, an unknown arch, or sizes that cannot build a model.
    """
    options = dict(TINY_DEFAULTS)
    unknown = sorted(set(tiny or {}) - set(options))
    if unknown:
        raise ConfigError(
            f"encoder.tiny: unknown option(s) {', '.join(unknown)}; valid: {', '.join(options)}"
        )
    options.update(tiny or {})
    if options["arch"] not in ARCHS:
        raise ConfigError(f"encoder.tiny.arch={options['arch']}: choose one of {', '.join(ARCHS)}")
    if options["hidden"] % options["heads"]:
        raise ConfigError(
            f"encoder.tiny: hidden={options['hidden']} must be a multiple of heads={options['heads']}"
        )
    if options["vocab"] <= _N_SPECIAL:
        raise ConfigError(f"encoder.tiny.vocab={options['vocab']}: needs more than {_N_SPECIAL}")
    return options


def build_tiny_model(options: dict[str, Any]) -> torch.nn.Module:
    """A randomly initialised BertModel or GPT2Model, the same for the same options."""
    from transformers import BertConfig, BertModel, GPT2Config, GPT2Model

    # fork_rng: seeding here must not change the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options["seed"])
        if options["arch"] == "bert":
            config = BertConfig(
                vocab_size=options["vocab"],
                hidden_size=options["hidden"],
                num_hidden_layers=options["layers"],
                num_attention_heads=options["heads"],
                intermediate_size=4 * options["hidden"],
                max_position_embeddings=options["max_length"],
                pad_token_id=PAD,
            )
            return BertModel(config)
        config = GPT2Config(
            vocab_size=options["vocab"],
            n_embd=options["hidden"],
            n_layer=options["layers"],
            n_head=options["heads"],
            n_positions=options["max_length"],
            bos_token_id=CLS,
            eos_token_id=SEP,
            pad_token_id=PAD,
        )
        return GPT2Model(config)


class HashTokenizer:
    """Word-hashing tokenizer with the calling convention of a Hugging Face tokenizer.

    Each text becomes `[CLS] word ids... [SEP]`; a word's id is crc32(word) % (vocab - 4) + 4,
    stable across processes and platforms (unlike Python's salted `hash`).
    """

    pad_token_id, cls_token_id, sep_token_id, mask_token_id = PAD, CLS, SEP, MASK
    all_special_ids = [PAD, CLS, SEP, MASK]
    padding_side = "right"

    def __init__(self, vocab: int, model_max_length: int) -> None:
        self.vocab = vocab
        self.model_max_length = model_max_length

    def __len__(self) -> int:
        return self.vocab

    def encode(self, text: str) -> list[int]:
        words = _WORD.findall(text.lower())
        ids = [zlib.crc32(w.encode()) % (self.vocab - _N_SPECIAL) + _N_SPECIAL for w in words]
        return [CLS, *ids, SEP]

    def __call__(
        self,
        texts: list[str],
        padding: bool = True,
        truncation: bool = True,
        max_length: int | None = None,
        return_tensors: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Token ids of `texts`.

        Returns:
            With return_tensors="pt": `input_ids` and `attention_mask`, (batch, longest),
            right-padded with 0. Otherwise lists of unpadded ids (the untruncated lengths).
        """
        rows = [self.encode(t) for t in texts]
        if truncation:
            limit = max_length or self.model_max_length
            # Keep [SEP] last, as Hugging Face tokenizers keep their closing special token.
            rows = [r if len(r) <= limit else [*r[: limit - 1], SEP] for r in rows]
        if return_tensors != "pt":
            return {"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]}
        width = max((len(r) for r in rows), default=0)
        ids = torch.full((len(rows), width), PAD, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return {"input_ids": ids, "attention_mask": mask}
