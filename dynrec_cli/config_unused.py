"""Keys the user gave that nothing reads under the composed config: refused, naming what reads them.

`data.interactions=log.csv` without `data=csv` used to train on the shipped sample; every such key
is now an error (exit 2) before any work. "Given" means set on the command line, in a
`--config-dir` file (to a value other than dynrec's default; a copy of a default is merely
present), or in the run folder's overrides.json. A recorded key that a choice given with it makes
unread (`model=pop` on a run recorded with `trainer.batch_size=16`, now or in the record) is left
alone: the stages were hashed with it. In a sweep a key counts as read when some job reads it
(cli/sweep_check.py).

`READERS` says, for each key that is read only sometimes, when it is read, by what, and which
keys decide it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli.errors import ConfigError
from dynrec_cli.run_overrides import override_key, override_value, read_recorded

log = logging.getLogger(__name__)
COMMAND_LINE = "the command line"
NO_OPTION = ("none", "null", None)  # `encoder=none`: a group choice that selects nothing


@dataclass(frozen=True)
class Readers:
    """Keys (exact, or a prefix ending in '.') that are read only when `reads(cfg, verb)` holds."""

    keys: tuple[str, ...]
    reads: Callable[[DictConfig, str], bool]
    who: str  # what reads them, for the message
    decided_by: tuple[str, ...]  # the keys (or "verb") whose values decide it

    def covers(self, key: str) -> bool:
        return any(key == k.rstrip(".") or (k.endswith(".") and key.startswith(k)) for k in self.keys)


def _model(cfg: DictConfig, attribute: str, default: bool) -> bool:
    """A trait of the configured model class, read without importing it (a model the allowlist
    refuses gets `default`: that is the other checks' question)."""
    from dynrec_cli.targets import MODEL_TRAITS

    return MODEL_TRAITS.get(str(cfg.model.get("_target_")), {}).get(attribute, default)


def _csv(cfg: DictConfig) -> bool:
    return cfg.data.format == "csv"


def _capturing(cfg: DictConfig, verb: str, what: str) -> bool:
    return verb == "capture" and bool(OmegaConf.select(cfg, f"capture.{what}"))


def _strategy(name: str) -> Readers:
    return Readers((f"rank.{name}.",), lambda c, v: name in [str(s) for s in c.rank.strategies],
                   f"rank.strategies=[{name}]", ("rank.strategies",))


READERS = (
    Readers(("data.interactions", "data.items", "data.sep"), lambda c, v: _csv(c), "data=csv", ("data", "data.format")),
    Readers(("data.items_sep",), lambda c, v: _csv(c) and bool(c.data["items"]), "data=csv with data.items=FILE",
            ("data", "data.format", "data.items")),
    Readers(("data.columns.",), lambda c, v: _csv(c) or _capturing(c, v, "events"),
            "data=csv (for a capture file of any run: capture.columns.*)", ("data", "data.format")),
    Readers(("data.item_id_column",), lambda c, v: (_csv(c) and bool(c.data["items"])) or _capturing(c, v, "items"),
            "data=csv with data.items=FILE", ("data", "data.format", "data.items")),
    Readers(("data.path",), lambda c, v: not _csv(c), "the data presets (data=sample, movielens, recbole, sequences, "
            "unisrec); data=csv reads data.interactions", ("data", "data.format")),
    Readers(("data.temporal.",), lambda c, v: c.data.split == "temporal", "data.split=temporal", ("data.split",)),
    *(_strategy(name) for name in ("filter", "popularity", "freshness", "mmr")),
    Readers(("rank.candidates",), lambda c, v: len(c.rank.strategies) > 0, "a re-ranking strategy (rank.strategies=[...])",
            ("rank.strategies",)),
    Readers(("rank.faiss.", "rank.ann_check_users"), lambda c, v: c.rank.index == "faiss", "rank.index=faiss", ("rank.index",)),
    Readers(("rank.explain_items", "rank.explain_window", "rank.explain_half_life"), lambda c, v: bool(c.rank.explain),
            "rank.explain=true", ("rank.explain",)),
    Readers(("encoder", "encoder.", "pretrain.mlm."), lambda c, v: _model(c, "uses_text", False),
            "a text model (model=dynrec or model=zeroshot); ID-only models load no language model", ("model",)),
    Readers(("pretrain.mlm.lr", "pretrain.mlm.batch_size", "pretrain.mlm.mask_prob"),
            lambda c, v: int(c.pretrain.mlm.epochs) > 0, "pretrain.mlm.epochs > 0", ("pretrain.mlm.epochs",)),
    Readers(("encoder.tiny.",), lambda c, v: c.encoder.model == "tiny", "encoder=tiny", ("encoder", "encoder.model")),
    Readers(("adapter", "adapter."), lambda c, v: "adapter" in c.model, "model=dynrec", ("model",)),
    Readers(tuple(f"trainer.{k}" for k in ("epochs", "batch_size", "patience", "eval_every", "grad_clip", "max_minutes",
                                           "checkpoint_every", "precision", "tracking", "valid_exclude_history"))
            + ("trainer.optimizer.",), lambda c, v: _model(c, "trainable", True),
            "a trained model (model=sasrec, gru4rec, dynrec); this model has no training loop", ("model",)),
    Readers(("model.negatives",), lambda c, v: c.model.get("loss") == "sampled", "model.loss=sampled", ("model.loss", "model")),
    Readers(("model.text_match_dims", "model.text_match_noise"), lambda c, v: bool(c.model.get("text_match")),
            "model.text_match=true", ("model.text_match", "model")),
    Readers(("model.id_dropout", "model.id_init"), lambda c, v: bool(c.model.get("item_id")), "model.item_id=true",
            ("model.item_id", "model")),
    Readers(("eval.replay_periods",), lambda c, v: c.eval.protocol == "replay", "eval.protocol=replay", ("eval.protocol",)),
    Readers(("capture.events", "capture.items"), lambda c, v: v == "capture", "dynrec capture", ("verb",)),
    Readers(("capture.columns.", "capture.late_events", "capture.mode", "capture.checkpoint_every", "capture.top_movers",
             "capture.plot_bins"), lambda c, v: _capturing(c, v, "events"), "dynrec capture with capture.events=FILE",
            ("verb", "capture.events")),
    Readers(("capture.latency_probe",), lambda c, v: _capturing(c, v, "events") and c.capture.mode == "batched",
            "dynrec capture with capture.events=FILE and capture.mode=batched", ("verb", "capture.events", "capture.mode")),
    Readers(("capture.item_id_column",), lambda c, v: _capturing(c, v, "items"), "dynrec capture with capture.items=FILE",
            ("verb", "capture.items")),
)


def unused_keys(cfg: DictConfig, verb: str, overrides: list[str], config_dir: Path | None = None) -> set[str]:
    """The keys the user gave (see given_keys) that nothing reads under `cfg`."""
    return {key for key in given_keys(cfg, verb, overrides, config_dir) if not reads(cfg, verb, key)}


def refuse_unused(cfg: DictConfig, verb: str, overrides: list[str], config_dir: Path | None = None,
                  only: set[str] | None = None) -> None:
    """ConfigError for the first given key (`only`: of these) that nothing reads under `cfg`.

    A recorded key is left alone when a key that decides it (READERS) was given too, now or in
    the record: a later choice made it unread (e.g. `model=pop` after `trainer.batch_size=16`)."""
    given = given_keys(cfg, verb, overrides, config_dir)
    choices = {override_key(o): o for o in overrides if "." not in override_key(o)}  # `encoder=tiny`, shown whole
    for key, source in given.items():
        if reads(cfg, verb, key) or (only is not None and key not in only):
            continue
        readers = _readers(key)
        assert readers is not None
        if source.endswith("overrides.json") and any(
                d == "verb" or d in given for d in readers.decided_by):
            log.info("%s (from %s): not read with this run's settings", key, source)
            continue
        raise ConfigError(_message(cfg, verb, choices.get(key, key), source, readers))


def reads(cfg: DictConfig, verb: str, key: str) -> bool:
    """Whether anything reads `key` under `cfg` when running `verb`."""
    readers = _readers(key)
    return readers is None or readers.reads(cfg, verb)


def given_keys(cfg: DictConfig, verb: str, overrides: list[str], config_dir: Path | None) -> dict[str, str]:
    """Key -> where the user gave it: COMMAND_LINE, the run's overrides.json, or a --config-dir file."""
    recorded = set(read_recorded(Path(cfg.run_dir))) if cfg.get("run_dir") else set()
    given: dict[str, str] = {}
    if config_dir is not None:
        given.update(_config_dir_keys(cfg, verb, overrides, config_dir))
    for override in overrides:
        key = override_key(override)
        if override.startswith("~") or key.startswith("hydra") or key == "run_dir":
            continue
        if "." not in key and override_value(override) in NO_OPTION:
            continue
        saved = Path(str(cfg.run_dir)) / "overrides.json" if override in recorded else None
        given[key] = str(saved) if saved else COMMAND_LINE
    return given


def _config_dir_keys(cfg: DictConfig, verb: str, overrides: list[str], config_dir: Path) -> dict[str, str]:
    """Keys a --config-dir file sets to a value other than dynrec's default for the verb."""
    from dynrec_cli.cli._hydra import compose_config, config_dir_keys

    default = compose_config(verb, [])
    out = {}
    for key, path in config_dir_keys(verb, overrides, config_dir).items():
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
        if value is not None and _plain(value) != _plain(OmegaConf.select(default, key, throw_on_resolution_failure=False)):
            out[key] = f"--config-dir {path}"
    return out


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def _readers(key: str) -> Readers | None:
    """The most specific entry of READERS that covers `key` (None: always read)."""
    found = [r for r in READERS if r.covers(key)]
    return max(found, key=lambda r: max(len(k) for k in r.keys if r.covers(key)), default=None)


def _message(cfg: DictConfig, verb: str, key: str, source: str, readers: Readers) -> str:
    origin = "" if source == COMMAND_LINE else f" (from {source})"
    return (f"{key}{origin}: nothing reads it with {_setting(cfg, verb, readers.decided_by[0])}; it is read by "
            f"{readers.who}: drop it, or choose that")


def _setting(cfg: DictConfig, verb: str, decider: str) -> str:
    """How the message names the current value of what decides (e.g. `data=sample`, `model=pop`)."""
    if decider == "verb":
        return f"dynrec {verb}"
    if decider == "data":
        return f"data={cfg.data.name}"
    if decider == "model":
        return f"model={str(cfg.model._target_).rsplit('.', 2)[-2]}"  # the model's module: pop, sasrec, ...
    value = OmegaConf.select(cfg, decider)
    return f"{decider}={str(_plain(value)).replace(chr(39), '')}"
