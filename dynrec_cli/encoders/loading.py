"""Load a language model from a package, a local folder, the Hugging Face Hub, or `tiny`.

A Hub id is downloaded into Hugging Face's cache when online and read from it offline
(`HF_HUB_OFFLINE=1`, encoders/hub.py); one that cannot be had is a ConfigError saying how to provide it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dynrec_cli.encoders import hub
from dynrec_cli.encoders import tiny as tiny_lm
from dynrec_cli.errors import ConfigError

KINDS = ("auto", "encoder", "decoder")
# model_type values of decoder-only (causal) models; anything else loads as an encoder.
DECODER_TYPES = frozenset(
    "gpt2 gpt_neo gpt_neox gptj codegen bloom opt llama mistral mixtral qwen2 qwen2_moe qwen3 "
    "qwen3_moe phi phi3 gemma gemma2 gemma3_text olmo olmo2 falcon stablelm starcoder2 mpt "
    "granite cohere smollm3".split()
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
# (path, ((name, size, mtime_ns), ...)) -> sha256: a folder's weights are hashed once per process.
_IDENTITY_CACHE: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


@dataclass
class LoadedLM:
    """A language model ready to encode text.

    Attributes:
        tokenizer: a Hugging Face tokenizer or the tiny HashTokenizer (same calling convention).
        model: the base model (no head); `model(input_ids, attention_mask).last_hidden_state`.
        identity: sha256 identifying the weights, the key of the embedding cache.
        kind: 'encoder' or 'decoder'.
        max_length: the model's token limit.
        hidden_size: width of its hidden states, d.
        source: the folder it was loaded from (None for an in-memory tiny model).
        tiny: the options of a tiny model, else None.
        commit: the Hub commit of a model loaded by Hub id, else None.
    """

    tokenizer: Any
    model: torch.nn.Module
    identity: str
    kind: str
    max_length: int
    hidden_size: int
    source: Path | None = None
    tiny: dict[str, Any] | None = None
    commit: str | None = None

    def tokenize(self, texts: list[str], max_length: int) -> tuple[dict[str, torch.Tensor], int]:
        """Padded, truncated token ids and the number of texts that were truncated.

        Returns:
            `{"input_ids": (batch, L), "attention_mask": (batch, L), ...}` with L <= max_length
            and every row holding at least one token, and the count of truncated texts.
        """
        batch = dict(
            self.tokenizer(
                texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
        )
        lengths = batch["attention_mask"].sum(1)
        # Only a text that fills the limit can have been cut: re-tokenize just those, uncut.
        at_limit = (lengths >= max_length).nonzero().flatten().tolist()
        truncated = 0
        if at_limit:
            full = self.tokenizer([texts[i] for i in at_limit], truncation=False, verbose=False)
            truncated = sum(len(ids) > max_length for ids in full["input_ids"])
        return _at_least_one_token(batch, self.tokenizer.pad_token_id), truncated


def load_language_model(
    model: str,
    kind: str = "auto",
    tiny: dict[str, Any] | None = None,
    revision: str | None = None,
    dtype: torch.dtype | None = None,
    device_map: str | None = None,
) -> LoadedLM:
    """Load `model` for encoding, in eval mode: on the CPU in fp32, unless `dtype` / `device_map`.

    Args:
        model: `tiny`, `package:<module>` (a module with `get_model_path()`, one that
            `targets.model_package` allows), a local folder holding config.json, or a Hugging
            Face Hub id (downloaded into HF's cache when online).
        kind: `auto` (from the config), `encoder` or `decoder`.
        tiny: options of the tiny model (see `tiny.TINY_DEFAULTS`); only with model=tiny.
        revision: a Hub id's branch, tag or commit (None: main); only with a Hub id.
        dtype: the weights' dtype (e.g. torch.bfloat16 for a large model on a GPU); None = fp32.
        device_map: `auto` spreads the weights over the visible GPUs (and CPU RAM) with accelerate.

    Raises:
        ConfigError: unknown kind, a package or folder that is not a model, a Hub id that cannot
            be had (see hub.download), a revision for something other than a Hub id, or
            device_map without accelerate.
    """
    if kind not in KINDS:
        raise ConfigError(f"encoder.kind={kind}: choose one of {', '.join(KINDS)}")
    if model == "tiny":
        _no_revision(revision, model)
        options = tiny_lm.tiny_options(tiny)
        identity = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
        return _tiny_lm(options, tiny_lm.build_tiny_model(options), identity, kind, None)
    folder, commit = _resolve_folder(model, revision)
    marker = folder / tiny_lm.TINY_MARKER
    if marker.exists():
        from transformers import AutoModel

        options = tiny_lm.tiny_options(json.loads(marker.read_text()))
        net = AutoModel.from_pretrained(folder, local_files_only=True)
        return _tiny_lm(options, net, folder_identity(folder), kind, folder)
    if device_map is not None and importlib.util.find_spec("accelerate") is None:
        raise ConfigError(f"encoder.device_map={device_map} needs the accelerate package: pip install 'dynrec[gpu]'")
    identity = hub.hub_identity(model, commit) if commit else folder_identity(folder)
    lm = _hf_lm(folder, kind, identity, dtype, device_map)
    lm.commit = commit
    return lm


def _no_revision(revision: str | None, model: str) -> None:
    if revision is not None:
        raise ConfigError(f"encoder.revision={revision}: only a Hub id has revisions, and encoder.model={model} is not one "
                          "(drop encoder.revision)")


def _resolve_folder(model: str, revision: str | None) -> tuple[Path, str | None]:
    """The model's folder, and its Hub commit when `model` is a Hub id."""
    if model.startswith("package:"):
        from dynrec_cli.targets import model_package

        _no_revision(revision, model)
        name = model_package(model.removeprefix("package:"))
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ConfigError(
                f"encoder.model={model}: no installed package {name} (pip install it)"
            ) from None
        if not hasattr(module, "get_model_path"):
            raise ConfigError(f"encoder.model={model}: package {name} has no get_model_path()")
        folder, commit = Path(module.get_model_path()), None
    elif Path(model).expanduser().is_dir():
        _no_revision(revision, model)
        folder, commit = Path(model).expanduser(), None
    else:
        folder, commit = hub.download(model, revision)
    if not (folder / "config.json").exists():
        raise ConfigError(f"encoder.model={model}: {folder} has no config.json")
    return folder.resolve(), commit


def _hf_lm(folder: Path, kind: str, identity: str, dtype: torch.dtype | None, device_map: str | None) -> LoadedLM:
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if kind == "auto":
        decoder = getattr(config, "is_decoder", False) or config.model_type in DECODER_TYPES
        kind = "decoder" if decoder else "encoder"
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token_id is None:  # GPT-2 style: pad with end-of-text, masked out anyway
        tokenizer.pad_token = tokenizer.eos_token
    # Right padding, whatever the tokenizer was saved with (Qwen, Llama: left): positions then
    # count from each text's first token, so a padded text encodes as it does alone, and with
    # causal attention its last real token never sees the padding.
    tokenizer.padding_side = "right"
    placement = {"dtype": dtype} if dtype is not None else {}
    if device_map is not None:  # accelerate places the layers; nothing moves them afterwards
        placement["device_map"] = device_map
    net = AutoModel.from_pretrained(folder, local_files_only=True, **placement).eval()
    limits = [
        getattr(config, name, None) for name in ("max_position_embeddings", "n_positions")
    ] + [tokenizer.model_max_length]
    # Tokenizers without a limit report a huge sentinel; RoBERTa reserves 2 positions (514 vs 512).
    max_length = min(int(v) for v in limits if v and v < 1_000_000)
    return LoadedLM(tokenizer, net, identity, kind, max_length, config.hidden_size, folder)


def _tiny_lm(
    options: dict[str, Any], net: torch.nn.Module, identity: str, kind: str, source: Path | None
) -> LoadedLM:
    if kind == "auto":
        kind = "decoder" if options["arch"] == "gpt2" else "encoder"
    tokenizer = tiny_lm.HashTokenizer(options["vocab"], options["max_length"])
    return LoadedLM(
        tokenizer, net.eval(), identity, kind, options["max_length"], options["hidden"], source, options
    )


def folder_identity(folder: Path) -> str:
    """sha256 over a model folder's config files and weights; computed once per process."""
    names = ["config.json", tiny_lm.TINY_MARKER]
    names += sorted(p.name for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
    files = [folder / n for n in names if (folder / n).is_file()]
    stamp = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    key = (str(folder.resolve()), stamp)
    if key not in _IDENTITY_CACHE:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.name.encode())
            with open(path, "rb") as handle:
                while block := handle.read(1 << 24):
                    digest.update(block)
        _IDENTITY_CACHE[key] = digest.hexdigest()
    return _IDENTITY_CACHE[key]


def _at_least_one_token(batch: dict[str, torch.Tensor], pad_id: int | None) -> dict[str, torch.Tensor]:
    """Give a row with no tokens (an empty text, for tokenizers without special tokens) one pad
    token that it attends to, so every text still gets a vector."""
    mask = batch["attention_mask"]
    if mask.shape[1] == 0:
        batch = {k: torch.full((v.shape[0], 1), pad_id or 0, dtype=v.dtype) if k == "input_ids"
                 else torch.zeros((v.shape[0], 1), dtype=v.dtype) for k, v in batch.items()}
        mask = batch["attention_mask"]
    empty = mask.sum(1) == 0
    if empty.any():
        mask[empty, 0] = 1
    return batch
