"""Every primary config composes with every group option, and every _target_ binds."""

from __future__ import annotations

import importlib
import inspect

import pytest
from omegaconf import OmegaConf

from dynrec_cli.cli._hydra import CONF_DIR, VERBS, compose_config
from dynrec_cli.config_checks import validate_config
from dynrec_cli.errors import ConfigError

GROUPS = ("data", "encoder", "model", "trainer", "eval", "rank")
# presets whose path is required (???) get one so they compose fully
REQUIRED = {
    "data": ["data.path=somewhere"],
    "data/csv": ["data.interactions=log.csv"],
    "encoder/hf": ["encoder.model=/models/my-bert"],
}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_composes(verb: str) -> None:
    cfg = compose_config(verb, ["user=42"] if verb == "forget" else [])
    validate_config(cfg)
    assert OmegaConf.missing_keys(cfg) == set()


@pytest.mark.parametrize(("group", "option"), [(g, o) for g in GROUPS for o in options(g)])
def test_every_group_option_composes(group: str, option: str) -> None:
    extra = REQUIRED.get(f"{group}/{option}", REQUIRED.get(group, []) if option != "sample" else [])
    cfg = compose_config("train", [f"{group}={option}", *extra])
    assert OmegaConf.missing_keys(cfg) == set()
    validate_config(cfg)


@pytest.mark.parametrize("option", options("model"))
def test_every_model_target_binds(option: str) -> None:
    cfg = compose_config("train", [f"model={option}", "adapter=linear"])
    kwargs = OmegaConf.to_container(cfg.model, resolve=True)
    module_name, _, class_name = kwargs.pop("_target_").rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    if getattr(cls, "uses_text", False):
        kwargs["text_dim"] = 8  # filled from the encoder by the finetune stage
    inspect.signature(cls).bind(n_items=10, **kwargs)


def test_optimizer_is_partial_and_binds() -> None:
    from hydra.utils import instantiate
    from torch import nn

    cfg = compose_config("train", [])
    optimizer = instantiate(cfg.trainer.optimizer)(nn.Linear(2, 2).parameters())
    assert optimizer.defaults["lr"] == cfg.trainer.optimizer.lr


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'trainer.epoch'.*trainer.epochs"):
        compose_config("train", ["trainer.epoch=3"])


def test_wrong_value_fails_before_work() -> None:
    with pytest.raises(ConfigError, match="trainer.objective"):
        validate_config(compose_config("train", ["trainer.objective=test/ndcg@10"]))
    with pytest.raises(ConfigError, match="data.split"):
        validate_config(compose_config("train", ["data.split=random"]))
