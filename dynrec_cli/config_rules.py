"""The allowed range or values of every numeric, enum and flag key, checked before any work starts.

A key absent from the composed config (e.g. `model.heads` with model=gru4rec) is skipped, so
one table serves every model, data preset and encoder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from dynrec_cli.errors import ConfigError

_ABSENT = object()
STRATEGIES = ("filter", "popularity", "freshness", "mmr")  # rank.strategies (ranking/reranker.py)


@dataclass(frozen=True)
class Range:
    """A number in [low, high] (open ends where asked); `integer` for counts."""

    low: float = -math.inf
    high: float = math.inf
    integer: bool = False
    nullable: bool = False
    low_open: bool = False
    high_open: bool = False
    why: str = ""  # why the upper bound: what would not fit in memory above it

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        text = f"{kind} in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        return text + (" or null" if self.nullable else "") + (f" ({self.why})" if self.why else "")

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not float(value).is_integer():
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return math.isfinite(value) and above and below


@dataclass(frozen=True)
class Choice:
    """One of a few strings (`pattern`: a regex for open sets such as cuda:N)."""

    values: tuple[str, ...]
    pattern: str | None = None
    pattern_hint: str = ""
    nullable: bool = False

    def describe(self) -> str:
        extra = [self.pattern_hint] if self.pattern_hint else []
        return "choose one of " + ", ".join([*self.values, *extra]) + (" or null" if self.nullable else "")

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return value in self.values or (self.pattern is not None and re.fullmatch(self.pattern, value) is not None)


@dataclass(frozen=True)
class Flag:
    """true or false."""

    nullable: bool = False

    def describe(self) -> str:
        return "true or false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


COUNT, NONNEG = Range(1, integer=True), Range(0, integer=True)
POSITIVE, PROBABILITY = Range(0, low_open=True), Range(0, 1, high_open=True)


def size(high: int, why: str) -> Range:
    """A count with an upper bound past which the work cannot fit in any machine's memory."""
    return Range(1, high, integer=True, why=why)


# Upper bounds on sizes: far above any published setting, below what would ask one process for
# more memory than a machine has (each `why` says which allocation grows with the key).
MAX_K = 10_000  # eval.ks and the objective's K: each evaluated user keeps a K-long top list
WIDTH = size(16_384, "every item and layer holds vectors this wide; 16,384 is wider than any language model dynrec loads")
BATCH = size(65_536, "activations grow with batch × length × width")
SIZES: dict[str, Range] = {
    "model.hidden": WIDTH, "model.text_match_dims": WIDTH, "adapter.hidden": WIDTH,
    "model.layers": size(256, "every layer holds its weights, optimiser state and activations"),
    "model.heads": size(1_024, "attention keeps batch × heads × max_len² scores"),
    "model.max_len": size(8_192, "attention keeps batch × heads × max_len² scores"),
    "model.negatives": size(1_000_000, "sampled softmax scores batch × max_len × negatives"),
    "model.time_buckets": size(4_096, "log2 buckets of a time gap: 64 cover every gap a clock can measure"),
    "model.recent": size(8_192, "the recency pool is at most a window long"),
    "adapter.experts": size(1_024, "every expert is a layer of its own"),
    "trainer.batch_size": BATCH, "pretrain.mlm.batch_size": BATCH, "encoder.batch_size": BATCH,
    "encoder.max_length": size(131_072, "tokens per text; the language model's own limit is lower"),
    "eval.user_chunk": size(1 << 20, "memory ~ eval.user_chunk × eval.item_chunk scores"),
    "eval.item_chunk": size(1 << 24, "memory ~ eval.user_chunk × eval.item_chunk scores"),
    "rank.k": size(100_000, "each ranked user keeps a list this long"),
    "rank.candidates": size(100_000, "each ranked user keeps a pool this long"),
}
MAX_SCORES = 1 << 32  # eval.user_chunk × eval.item_chunk fp32 scores at once: 16 GiB
RULES: dict[str, Range | Choice | Flag] = {
    "seed": NONNEG,
    "data.allow_missing_items": Flag(),
    "data.temporal.valid": Range(0, low_open=True),
    "data.temporal.test": Range(0, low_open=True),
    "trainer.epochs": COUNT, "trainer.patience": COUNT, "trainer.eval_every": COUNT,
    "trainer.valid_exclude_history": Flag(),
    "trainer.grad_clip": Range(0, low_open=True, nullable=True),
    "trainer.device": Choice(("auto", "cpu", "cuda"), pattern=r"cuda:\d+", pattern_hint="cuda:<n>"),
    "trainer.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "trainer.max_minutes": Range(0, low_open=True, nullable=True),
    "trainer.threads": Range(1, integer=True, nullable=True),
    "trainer.checkpoint_every": NONNEG,
    "trainer.optimizer.lr": POSITIVE,
    "trainer.optimizer.weight_decay": Range(0),
    **SIZES,
    "model.dropout": PROBABILITY, "model.id_dropout": PROBABILITY,
    "model.temperature": POSITIVE, "model.text_match_noise": Range(0),
    "model.decay": Range(0, 1, low_open=True),
    "model.loss": Choice(("ce", "sampled")),
    "model.id_init": Choice(("pca", "random")),
    "model.item_id": Flag(), "model.scale_embeddings": Flag(), "model.text_match": Flag(),
    "adapter.dropout": PROBABILITY,
    "encoder.kind": Choice(("auto", "encoder", "decoder")),
    "encoder.pooling": Choice(("auto", "mean", "cls", "last")),
    "encoder.normalize": Flag(),
    "encoder.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "encoder.batch_tokens": Range(1, integer=True, nullable=True),
    "encoder.device_map": Choice(("auto", "balanced", "balanced_low_0", "sequential"), nullable=True),
    "adapter.lora.refresh": Choice(("epoch",)),
    "pretrain.mlm.lr": POSITIVE,
    "pretrain.mlm.mask_prob": Range(0, 1, low_open=True, high_open=True),
    "eval.exclude_history": Flag(),
    "eval.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "runtime.reuse_freed_memory": Flag(),
    "eval.report": Flag(),
    "rank.exclude_seen": Flag(),
    "rank.explain": Flag(),
    # checked whether or not rank.strategies uses them: a bad value waits for no one to switch it on
    "rank.mmr.lambda": Range(0, 1),
    "rank.freshness.half_life_days": POSITIVE,
    "rank.freshness.by": Choice(("first", "last")),
    "rank.faiss.kind": Choice(("ivf", "hnsw", "flat")),
    "rank.format": Choice(("parquet", "csv", "jsonl")),
    "rank.index": Choice(("exact", "faiss")),
    "capture.mode": Choice(("batched", "single")),
    "capture.late_events": Choice(("error", "skip")),
    "capture.on_retrain": Choice(("refuse", "archive")),
    "capture.unknown_items": Choice(("error", "skip")),
    "capture.latency_probe": NONNEG,
    "capture.checkpoint_every": COUNT, "capture.top_movers": COUNT, "capture.plot_bins": COUNT,
    "serve.port": Range(1, 65535, integer=True), "serve.workers": COUNT, "serve.max_events": COUNT, "serve.max_items": COUNT,
    "serve.max_body_mb": POSITIVE, "serve.max_k": COUNT, "serve.queue": COUNT, "serve.checkpoint_every": COUNT,
    "serve.write_pause_ms": Range(0), "serve.access_log": Flag(),
}


def check_rules(cfg: DictConfig) -> None:
    """Raise a ConfigError naming the first key whose value is outside its range or choices."""
    for key, rule in RULES.items():
        value = OmegaConf.select(cfg, key, default=_ABSENT)
        if value is _ABSENT or (value is None and rule.nullable):
            continue
        if not rule.accepts(value):
            raise ConfigError(f"{key}={_show(value)}: {'must be ' if not isinstance(rule, Choice) else ''}{rule.describe()}")
    _check_pairs(cfg)


def _check_pairs(cfg: DictConfig) -> None:
    """Keys that are only wrong together."""
    hidden, heads = OmegaConf.select(cfg, "model.hidden"), OmegaConf.select(cfg, "model.heads")
    if hidden is not None and heads is not None and hidden % heads:
        raise ConfigError(f"model.hidden={hidden} must be a multiple of model.heads={heads}")
    valid, test = OmegaConf.select(cfg, "data.temporal.valid"), OmegaConf.select(cfg, "data.temporal.test")
    if OmegaConf.select(cfg, "data.split") == "temporal" and (valid <= 1) == (test <= 1) and valid > test:
        raise ConfigError(f"data.temporal.valid={valid} comes after data.temporal.test={test}: valid must be <= test")
    k, candidates = OmegaConf.select(cfg, "rank.k"), OmegaConf.select(cfg, "rank.candidates")
    if OmegaConf.select(cfg, "rank.strategies") and isinstance(k, int) and isinstance(candidates, int) and candidates < k:
        raise ConfigError(f"rank.candidates={candidates} is below rank.k={k}: the strategies re-rank a pool of at least k items")
    strategies = OmegaConf.select(cfg, "rank.strategies")
    unknown = [str(s) for s in strategies or [] if str(s) not in STRATEGIES]
    if unknown:
        raise ConfigError(f"rank.strategies: unknown strategy {', '.join(unknown)}; choose from {', '.join(STRATEGIES)}")
    users, items = OmegaConf.select(cfg, "eval.user_chunk"), OmegaConf.select(cfg, "eval.item_chunk")
    if isinstance(users, int) and isinstance(items, int) and users * items > MAX_SCORES:
        need = users * items * 4 / 2**30
        raise ConfigError(f"eval.user_chunk={users} × eval.item_chunk={items} scores at once need {need:.0f} GiB: "
                          f"keep the product <= {MAX_SCORES:,} (16 GiB)")
    ks = OmegaConf.select(cfg, "eval.ks")
    if isinstance(ks, ListConfig) and any(isinstance(k, int) and k > MAX_K for k in ks):
        raise ConfigError(f"eval.ks={list(ks)}: each K must be <= {MAX_K:,} (each evaluated user keeps a K-long top list)")
    splits = OmegaConf.select(cfg, "eval.splits")
    if isinstance(splits, ListConfig) and (not splits or not set(splits) <= {"valid", "test"}):
        raise ConfigError(f"eval.splits={list(splits)}: a non-empty list of valid, test")


def _fmt(bound: float) -> str:
    if math.isinf(bound):
        return "∞" if bound > 0 else "-∞"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _show(value: Any) -> str:
    return "''" if value == "" else str(value)
