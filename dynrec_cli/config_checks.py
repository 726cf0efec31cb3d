"""Values checked before any work starts, so a sweep does not die an hour in."""

from __future__ import annotations

from omegaconf import DictConfig

from dynrec_cli.errors import ConfigError

SPLITS = ("leave_one_out", "temporal")
FORMATS = ("csv", "movielens", "recbole", "sequences", "unisrec")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def validate_config(cfg: DictConfig) -> None:
    try:
        _validate(cfg)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"a config value has the wrong type ({exc}); see `dynrec config show`") from None


def _validate(cfg: DictConfig) -> None:
    data, trainer, ev = cfg.data, cfg.trainer, cfg.eval
    _check(data.format in FORMATS, f"data.format={data.format}: choose one of {', '.join(FORMATS)}")
    _check(data.split in SPLITS, f"data.split={data.split}: choose one of {', '.join(SPLITS)}")
    _check(0 <= float(data.cold_items) < 1, f"data.cold_items={data.cold_items}: must be in [0, 1)")
    for key in ("min_user_interactions", "min_item_interactions"):
        _check(int(data[key]) >= 0, f"data.{key}={data[key]}: must be >= 0")
    _check(data.max_seq_len is None or int(data.max_seq_len) >= 3, f"data.max_seq_len={data.max_seq_len}: must be >= 3 or null")
    _check(int(trainer.epochs) >= 1, f"trainer.epochs={trainer.epochs}: must be >= 1")
    _check(int(trainer.batch_size) >= 1, f"trainer.batch_size={trainer.batch_size}: must be >= 1")
    _check(int(trainer.patience) >= 1, f"trainer.patience={trainer.patience}: must be >= 1")
    _check(int(trainer.eval_every) >= 1, f"trainer.eval_every={trainer.eval_every}: must be >= 1")
    _check(float(trainer.optimizer.lr) > 0, f"trainer.optimizer.lr={trainer.optimizer.lr}: must be > 0")
    ks = list(ev.ks)
    _check(bool(ks) and all(int(k) >= 1 for k in ks), f"eval.ks={ks}: a non-empty list of positive integers")
    _check(int(ev.user_chunk) >= 1 and int(ev.item_chunk) >= 1, "eval.user_chunk and eval.item_chunk must be >= 1")
    split, _, metric = str(trainer.objective).partition("/")
    _check(split == "valid" and "@" in metric, f"trainer.objective={trainer.objective}: expected valid/<metric>@<k>, e.g. valid/ndcg@10")
    name, _, k = metric.partition("@")
    _check(
        name in ("ndcg", "recall", "hit", "mrr", "map", "precision") and k.isdigit() and int(k) in [int(x) for x in ks],
        f"trainer.objective={trainer.objective}: metric must be ndcg/recall/hit/mrr/map/precision at a K in eval.ks={ks}",
    )
    _check(int(cfg.rank.k) >= 1, f"rank.k={cfg.rank.k}: must be >= 1")
