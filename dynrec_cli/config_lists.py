"""List-typed config keys: a bare value is a list of one, and an empty list is refused where it means nothing.

Hydra reads `rank.users=abc` as the string "abc" and `eval.ks=10` as an integer; code that
iterates over them would see letters or fail. `normalise_lists` rewrites such values in the
composed config once, before any work, so every stage (and its config hash) sees a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from dynrec_cli.errors import ConfigError

_ABSENT = object()


@dataclass(frozen=True)
class ListKey:
    """What a list-typed key accepts besides a list of plain values."""

    nullable: bool = False  # null has a meaning of its own (said in `hint`)
    empty: bool = True  # [] has a meaning (e.g. rank.strategies=[]: the model's own order)
    keep: tuple[str, ...] = ()  # bare words with a meaning of their own (rank.users=captured)
    hint: str = ""


LIST_KEYS: dict[str, ListKey] = {
    "data.events": ListKey(nullable=True),
    "data.text_fields": ListKey(nullable=True, empty=False, hint="null = every text column"),
    "eval.ks": ListKey(empty=False, hint="e.g. eval.ks=[5,10]"),
    "eval.splits": ListKey(empty=False, hint="e.g. eval.splits=[test]"),
    "eval.compare.show": ListKey(empty=False, hint="e.g. eval.compare.show=[ndcg@10]"),
    "rank.users": ListKey(nullable=True, empty=False, keep=("captured",), hint="null = every user"),
    "rank.strategies": ListKey(),
    "rank.filter.exclude_categories": ListKey(),
    "rank.filter.allow_items": ListKey(nullable=True, empty=False, hint="null = every item"),
    "adapter.lora.target_modules": ListKey(nullable=True, empty=False, hint="null = peft's default for the model"),
}


def as_list(value: Any) -> list[Any]:
    """A list-typed value as a plain list: None is empty, a bare value is a list of one."""
    if value is None:
        return []
    if isinstance(value, (ListConfig, list, tuple)):
        return list(value)
    return [value]


def normalise_lists(cfg: DictConfig) -> None:
    """Rewrite every bare value of a LIST_KEYS key in `cfg` as a list of one; ConfigError for a
    value that is no list (a mapping, nested lists) or an empty list where [] means nothing."""
    for key, rule in LIST_KEYS.items():
        value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=False)
        if value is _ABSENT or (value is None and rule.nullable) or (isinstance(value, str) and value in rule.keep):
            continue
        hint = f" ({rule.hint})" if rule.hint else ""
        if value is None or isinstance(value, DictConfig):
            raise ConfigError(f"{key}={value}: expected a list, e.g. {key}=[a,b], or one value{hint}")
        items = as_list(value)
        if any(isinstance(item, (ListConfig, DictConfig)) for item in items):
            raise ConfigError(f"{key}={OmegaConf.to_container(value)}: expected a flat list of values{hint}")
        if not items and not rule.empty:
            raise ConfigError(f"{key}=[]: an empty list selects nothing{hint}")
        if not isinstance(value, ListConfig):
            OmegaConf.update(cfg, key, items, merge=False)
