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

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        text = f"{kind} in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        return text + (" or null" if self.nullable else "")

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
RULES: dict[str, Range | Choice | Flag] = {
    "seed": NONNEG,
    "data.allow_missing_items": Flag(),
    "data.temporal.valid": Range(0, low_open=True),
    "data.temporal.test": Range(0, low_open=True),
    "trainer.epochs": COUNT, "trainer.batch_size": COUNT, "trainer.patience": COUNT, "trainer.eval_every": COUNT,
    "trainer.valid_exclude_history": Flag(),
    "trainer.grad_clip": Range(0, low_open=True, nullable=True),
    "trainer.device": Choice(("auto", "cpu", "cuda"), pattern=r"cuda:\d+", pattern_hint="cuda:<n>"),
    "trainer.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "trainer.max_minutes": Range(0, low_open=True, nullable=True),
    "trainer.threads": Range(1, integer=True, nullable=True),
    "trainer.checkpoint_every": NONNEG,
    "trainer.optimizer.lr": POSITIVE,
    "trainer.optimizer.weight_decay": Range(0),
    "model.hidden": COUNT, "model.text_match_dims": COUNT, "model.layers": COUNT, "model.heads": COUNT, "model.max_len": COUNT,
    "model.negatives": COUNT, "model.time_buckets": COUNT, "model.recent": COUNT,
    "model.dropout": PROBABILITY, "model.id_dropout": PROBABILITY,
    "model.temperature": POSITIVE,
    "model.decay": Range(0, 1, low_open=True),
    "model.loss": Choice(("ce", "sampled")),
    "model.id_init": Choice(("pca", "random")),
    "model.item_id": Flag(), "model.scale_embeddings": Flag(), "model.text_match": Flag(),
    "adapter.dropout": PROBABILITY, "adapter.experts": COUNT,
    "encoder.kind": Choice(("auto", "encoder", "decoder")),
    "encoder.pooling": Choice(("auto", "mean", "cls", "last")),
    "encoder.normalize": Flag(),
    "encoder.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "adapter.lora.refresh": Choice(("epoch",)),
    "pretrain.mlm.lr": POSITIVE, "pretrain.mlm.batch_size": COUNT,
    "pretrain.mlm.mask_prob": Range(0, 1, low_open=True, high_open=True),
    "eval.user_chunk": COUNT, "eval.item_chunk": COUNT,
    "eval.exclude_history": Flag(),
    "eval.precision": Choice(("auto", "fp32", "bf16", "fp16")),
    "runtime.reuse_freed_memory": Flag(),
    "eval.report": Flag(),
    "rank.k": COUNT,
    "rank.exclude_seen": Flag(),
    "rank.explain": Flag(),
    # checked whether or not rank.strategies uses them: a bad value waits for no one to switch it on
    "rank.mmr.lambda": Range(0, 1),
    "rank.freshness.half_life_days": POSITIVE,
    "rank.freshness.by": Choice(("first", "last")),
    "rank.faiss.kind": Choice(("ivf", "hnsw", "flat")),
    "rank.format": Choice(("parquet", "csv", "jsonl")),
    "rank.index": Choice(("exact", "faiss")),
    "rank.candidates": COUNT,
    "capture.mode": Choice(("batched", "single")),
    "capture.late_events": Choice(("error", "skip")),
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
    splits = OmegaConf.select(cfg, "eval.splits")
    if isinstance(splits, ListConfig) and (not splits or not set(splits) <= {"valid", "test"}):
        raise ConfigError(f"eval.splits={list(splits)}: a non-empty list of valid, test")


def _fmt(bound: float) -> str:
    if math.isinf(bound):
        return "∞" if bound > 0 else "-∞"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _show(value: Any) -> str:
    return "''" if value == "" else str(value)
