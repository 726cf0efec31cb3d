"""A key the user gave that nothing reads is refused; defaults, a sweep's keys that some job reads,
and recorded keys a choice made unread are not (dynrec_cli/config_unused.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dynrec_cli.cli._hydra import CONF_DIR, compose_config
from dynrec_cli.cli.sweep_check import validate_sweep
from dynrec_cli.config_unused import READERS, refuse_unused
from dynrec_cli.errors import ConfigError
from dynrec_cli.run_overrides import with_recorded

ABSENT = object()
# compositions that between them hold every key READERS names
SHAPES = ([], ["encoder=tiny"], ["model=dynrec", "encoder=tiny", "adapter=lora"])


def check(verb: str, overrides: list[str], config_dir: Path | None = None) -> None:
    merged = with_recorded(overrides)
    refuse_unused(compose_config(verb, merged, config_dir), verb, merged, config_dir)


def test_every_key_the_table_names_exists() -> None:
    """A typo in READERS would let a key through unchecked."""
    configs = [compose_config("train", shape) for shape in SHAPES]
    for key in sorted({k.rstrip(".") for readers in READERS for k in readers.keys}):
        assert any(OmegaConf.select(cfg, key, default=ABSENT) is not ABSENT for cfg in configs), key


@pytest.mark.parametrize("overrides", [
    [], ["model=sasrec"], ["data=csv", "data.interactions=log.csv", "data.columns.time=null"],
    ["data.split=temporal", "data.temporal.valid=0.7"], ["rank.strategies=[filter]", "rank.filter.exclude_categories=[Horror]"],
    ["model=sasrec", "model.loss=sampled", "model.negatives=64"], ["model=pop", "trainer.threads=1", "trainer.device=cpu"],
    ["model=dynrec", "encoder=tiny", "adapter=moe", "pretrain.mlm.epochs=1", "pretrain.mlm.lr=1e-4"],
])
def test_keys_something_reads_pass(overrides: list[str]) -> None:
    check("train", overrides)


@pytest.mark.parametrize(("verb", "overrides", "said"), [
    ("train", ["data=movielens", "data.path=x", "data.columns.item=movie"], "data.columns.item: nothing reads it with data=movielens"),
    ("train", ["data=csv", "data.interactions=log.csv", "data.path=elsewhere"], "data.path: nothing reads it with data=csv"),
    ("train", ["data=csv", "data.interactions=log.csv", "data.items_sep=;"], "data.items_sep"),
    ("train", ["model=sasrec", "pretrain.mlm.epochs=2"], "pretrain.mlm.epochs: nothing reads it with model=sasrec"),
    ("train", ["model=dynrec", "encoder=tiny", "pretrain.mlm.lr=1e-4"], "pretrain.mlm.lr: nothing reads it with pretrain.mlm.epochs=0"),
    ("train", ["rank.index=exact", "rank.faiss.nprobe=32"], "rank.faiss.nprobe: nothing reads it with rank.index=exact"),
    ("train", ["rank.explain_items=3"], "rank.explain_items: nothing reads it with rank.explain=False"),
    ("train", ["rank.candidates=200"], "rank.candidates: nothing reads it with rank.strategies=[]"),
    ("train", ["model=zeroshot", "trainer.optimizer.lr=0.01"], "trainer.optimizer.lr: nothing reads it with model=zeroshot"),
    ("evaluate", ["eval.replay_periods=8"], "eval.replay_periods: nothing reads it with eval.protocol=standard"),
    ("capture", ["capture.mode=single"], "capture.mode: nothing reads it with dynrec capture"),
])
def test_keys_nothing_reads_are_refused(verb: str, overrides: list[str], said: str) -> None:
    with pytest.raises(ConfigError, match=said.replace("[", r"\[").replace("]", r"\]")):
        check(verb, overrides)


def test_a_config_dir_copy_of_a_default_is_merely_present(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(CONF_DIR / "data" / "sample.yaml", tmp_path / "data" / "mine.yaml")  # temporal, path, ... as shipped
    check("train", ["data=mine"], tmp_path)
    (tmp_path / "data" / "mine.yaml").write_text((CONF_DIR / "data" / "sample.yaml").read_text() + "interactions: log.csv\n")
    with pytest.raises(ConfigError, match=r"data.interactions \(from --config-dir .*mine.yaml\)"):
        check("train", ["data=mine"], tmp_path)


def test_recorded_keys_a_choice_made_unread_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "overrides.json").write_text(json.dumps(["model=sasrec", "trainer.batch_size=16"]))
    check("evaluate", [f"run_dir={tmp_path}", "model=pop"])  # the choice given now
    (tmp_path / "overrides.json").write_text(json.dumps(["model=pop", "trainer.batch_size=16"]))
    check("evaluate", [f"run_dir={tmp_path}"])  # the choice recorded with it
    (tmp_path / "overrides.json").write_text(json.dumps(["model=pop", "data.interactions=log.csv"]))
    with pytest.raises(ConfigError, match=r"data.interactions \(from .*overrides.json\): nothing reads it with data=sample"):
        check("evaluate", [f"run_dir={tmp_path}"])  # never read: the run was trained on the sample


def test_a_sweep_key_read_by_some_job_passes_and_one_read_by_none_is_refused() -> None:
    validate_sweep("train", ["model=pop,sasrec", "trainer.epochs=3"], None)
    with pytest.raises(ConfigError, match="rank.mmr.lambda: nothing reads it"):
        validate_sweep("train", ["model=pop,gru4rec", "rank.mmr.lambda=0.5"], None)
