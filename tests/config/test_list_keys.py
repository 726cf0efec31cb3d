"""List-typed keys: a bare value is a list of one, [] is refused where it selects nothing, and
rank/capture/encoder values are checked before any work."""

from __future__ import annotations

import pytest

from dynrec_cli.cli._hydra import compose_config
from dynrec_cli.config_checks import validate_config
from dynrec_cli.errors import ConfigError


def checked(*overrides: str):
    cfg = compose_config("rank", list(overrides))
    validate_config(cfg)
    return cfg


@pytest.mark.parametrize(("override", "key", "expected"), [
    ("rank.users=abc", "rank.users", ["abc"]),
    ("rank.users=100", "rank.users", [100]),
    ("rank.users=0", "rank.users", [0]),
    ("rank.users=all", "rank.users", ["all"]),
    ("eval.ks=10", "eval.ks", [10]),
    ("eval.splits=test", "eval.splits", ["test"]),
    ("rank.strategies=mmr", "rank.strategies", ["mmr"]),
    ("rank.filter.allow_items=318", "rank.filter.allow_items", [318]),
    ("rank.filter.exclude_categories=Horror", "rank.filter.exclude_categories", ["Horror"]),
    ("data.text_fields=title", "data.text_fields", ["title"]),
    ("data.events=purchase", "data.events", ["purchase"]),
    ("eval.compare.show=ndcg@10", "eval.compare.show", ["ndcg@10"]),
])
def test_a_bare_value_is_a_list_of_one(override: str, key: str, expected: list) -> None:
    from omegaconf import OmegaConf

    assert OmegaConf.to_container(OmegaConf.select(checked(override), key)) == expected


def test_documented_words_and_null_keep_their_meaning() -> None:
    assert checked("rank.users=captured").rank.users == "captured"
    assert checked("rank.users=null").rank.users is None
    assert list(checked("rank.strategies=[]").rank.strategies) == []


@pytest.mark.parametrize(("override", "said"), [
    ("rank.users=[]", "rank.users=[]: an empty list selects nothing (null = every user)"),
    ("rank.filter.allow_items=[]", "rank.filter.allow_items=[]"),
    ("data.text_fields=[]", "data.text_fields=[]"),
    ("eval.ks=[]", "eval.ks=[]"),
    ("eval.splits=[]", "eval.splits=[]"),
    ("eval.ks=null", "eval.ks=None: expected a list"),
    ("rank.users=[[1,2]]", "expected a flat list"),
    ("rank.strategies=[bogus]", "unknown strategy bogus"),
    ("eval.compare.show=[foo@10]", "eval.compare.show: foo@10 is not NAME@K"),
    ("capture.latency_probe=-1", "capture.latency_probe=-1"),
    ("capture.mode=stream", "capture.mode=stream"),
    ("capture.columns.rating=stars", "capture.columns.rating=stars: the run was trained without a rating column"),
])
def test_bad_list_and_range_values_are_refused(override: str, said: str) -> None:
    with pytest.raises(ConfigError) as info:
        checked(override)
    assert said in str(info.value)


@pytest.mark.parametrize(("overrides", "said"), [
    (["model=dynrec", "encoder=tiny", "encoder.precision=int8"], "encoder.precision=int8: choose one of"),
    (["model=dynrec", "encoder=tiny", "adapter=lora", "adapter.lora.refresh=never"], "adapter.lora.refresh=never"),
    (["model=dynrec", "encoder=hf"], "encoder.model is required"),
    (["rank.strategies=[mmr]", "rank.candidates=5", "rank.k=10"], "rank.candidates=5 is below rank.k=10"),
])
def test_encoder_adapter_and_rank_values_are_refused(overrides: list[str], said: str) -> None:
    with pytest.raises(ConfigError) as info:
        checked(*overrides)
    assert said in str(info.value)
