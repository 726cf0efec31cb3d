"""Values checked before any work starts, so a sweep does not die an hour in."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli.config_rules import MAX_K
from dynrec_cli.errors import ConfigError

SPLITS = ("leave_one_out", "temporal")
FORMATS = ("csv", "movielens", "recbole", "sequences", "unisrec")
METRICS = ("ndcg", "recall", "hit", "mrr", "map", "precision")  # evaluation.metrics.METRICS' names, without importing torch


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _number(cfg: DictConfig, key: str, kind: type = int, minimum: float | None = None, nullable: bool = False) -> Any:
    """cfg[key] converted to `kind`, or a ConfigError naming the key."""
    value = OmegaConf.select(cfg, key)
    if value is None and nullable:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r}: expected {'an integer' if kind is int else 'a number'}") from None
    _check(minimum is None or number >= minimum, f"{key}={value}: must be >= {minimum}")
    return number


def validate_config(cfg: DictConfig, classes: bool = True) -> None:
    """Check (and normalise list-typed keys of) a composed config; ConfigError names the first bad key.
    `classes=False`: the classes it builds are checked as names only, and the caller imports them
    (`targets.check_classes`; a sweep does it in a worker that imports torch anyway)."""
    from dynrec_cli import targets
    from dynrec_cli.config_lists import normalise_lists
    from dynrec_cli.config_rules import check_rules

    _check_required(cfg)
    normalise_lists(cfg)  # first: the checks below read eval.ks, eval.splits, ... as lists
    data = cfg.data
    _check(data.format in FORMATS, f"data.format={data.format}: choose one of {', '.join(FORMATS)}")
    _check(data.split in SPLITS, f"data.split={data.split}: choose one of {', '.join(SPLITS)}")
    cold = _number(cfg, "data.cold_items", float, 0)
    _check(cold < 1, f"data.cold_items={cold}: must be in [0, 1)")
    _number(cfg, "data.min_user_interactions", int, 0)
    _number(cfg, "data.min_item_interactions", int, 0)
    _number(cfg, "data.max_seq_len", int, 3, nullable=True)
    _number(cfg, "data.min_rating", float, nullable=True)
    _check_data_keys(data)
    for key in ("trainer.epochs", "trainer.batch_size", "trainer.patience", "trainer.eval_every", "rank.k",
                "eval.user_chunk", "eval.item_chunk"):
        _number(cfg, key, int, 1)
    _check(_number(cfg, "trainer.optimizer.lr", float) > 0, f"trainer.optimizer.lr={cfg.trainer.optimizer.lr}: must be > 0")
    _number(cfg, "trainer.max_minutes", float, 0, nullable=True)
    ks = list(cfg.eval.ks)
    _check(all(str(k).isdigit() and int(k) >= 1 for k in ks), f"eval.ks={ks}: a non-empty list of positive integers")
    _check(cfg.eval.protocol in ("standard", "replay"), f"eval.protocol={cfg.eval.protocol}: choose standard or replay")
    _check(cfg.eval.protocol != "replay" or data.split == "temporal",
           "eval.protocol=replay needs a run trained with data.split=temporal (a global time cut-off before the replayed events)")
    _number(cfg, "eval.replay_periods", int, 1)
    split, _, metric = str(cfg.trainer.objective).partition("/")
    name, _, k = metric.partition("@")
    _check(
        split == "valid" and name in METRICS and k.isdigit() and 1 <= int(k) <= MAX_K,
        f"trainer.objective={cfg.trainer.objective}: expected valid/<{'|'.join(METRICS)}>@<K> with K <= {MAX_K:,}, "
        "e.g. valid/ndcg@10",
    )
    if cfg.encoder.name != "none":
        _number(cfg, "encoder.max_length", int, 2)
        _number(cfg, "encoder.batch_size", int, 1)
        _number(cfg, "pretrain.mlm.epochs", int, 0)
    _check_workflow(cfg)
    check_compare_show(cfg.eval.compare)
    if OmegaConf.select(cfg, "capture.columns") is not None:
        from dynrec_cli.capture.columns import capture_columns

        # a role the run has no column for, or one column for two roles: refused up front
        check_one_column_per_role(capture_columns(data, cfg.capture.columns), "capture.columns")
    check_rules(cfg)  # every numeric, enum and flag key: range or choices
    # the classes it builds, imported (torch): after the values, so that a bad value is said at
    # once; again for a sweep's job, whose values its sweeper chose
    targets.check_tree(cfg, load=classes)


REQUIRED_HINTS = {"encoder.model": "a Hugging Face Hub id or a model folder, e.g. encoder.model=BAAI/bge-small-en-v1.5",
                  "user": "the id of the user to forget, e.g. user=42"}


def _check_required(cfg: DictConfig) -> None:
    """A `???` value nobody gave (e.g. encoder=hf without encoder.model=) fails here, not in a stage."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        key = missing[0]
        hint = REQUIRED_HINTS.get(key, f"e.g. {key}=VALUE")
        raise ConfigError(f"{key} is required and has no value: give it ({hint})")


def _check_data_keys(data: DictConfig) -> None:
    """Data keys that can be judged before any file is read."""
    from dynrec_cli.data import remote
    from dynrec_cli.data.templates import template_fields

    for key in ("path", "interactions", "items"):  # a URL's filesystem package: before any work
        if remote.is_url(data.get(key)):
            remote.check_url(str(data[key]), f"data.{key}")
    if data.get("text_template") is not None:
        template_fields(str(data.text_template))
    check_one_column_per_role(OmegaConf.to_container(data.columns), "data.columns")


def check_one_column_per_role(columns: dict[str, Any], key: str) -> None:
    """The same file column given to two roles (user and item, ...) is refused; `key` names the mapping."""
    roles: dict[str, str] = {}
    for role, column in columns.items():
        if column is None:
            continue
        if str(column) in roles:
            raise ConfigError(f"{key}.{role}={column} is also {key}.{roles[str(column)]}: each role needs its own column")
        roles[str(column)] = str(role)


def _check_workflow(cfg: DictConfig) -> None:
    """Tracking back-end, evaluation segments and the paired-comparison settings."""
    from dynrec_cli.training.tracking import check_tracking

    check_tracking(str(cfg.trainer.tracking))
    _number(cfg, "eval.activity_buckets", int, 0)
    _number(cfg, "eval.time_periods", int, 0)
    _number(cfg, "eval.compare.resamples", int, 1)
    confidence = _number(cfg, "eval.compare.confidence", float)
    _check(0 < confidence < 1, f"eval.compare.confidence={confidence}: must be in (0, 1), e.g. 0.95")


def check_compare_show(compare: DictConfig) -> None:
    """eval.compare.show: metric@K names (the metrics per-user tables hold), e.g. ndcg@10."""
    from dynrec_cli.config_lists import as_list
    from dynrec_cli.evaluation.report import BEYOND

    names = sorted({*METRICS, *BEYOND})
    for entry in as_list(compare.show):
        name, at, k = str(entry).partition("@")
        _check(bool(at) and name in names and k.isdigit() and int(k) >= 1,
               f"eval.compare.show: {entry} is not NAME@K (NAME one of {', '.join(names)}, K >= 1), e.g. ndcg@10")
