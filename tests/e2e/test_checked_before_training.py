"""Values that used to fail after training (or to be ignored) are refused or warned about first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def refused(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(("overrides", "said"), [
    (["rank.strategies=[filter]", "rank.filter.category_column=genre", "rank.filter.exclude_categories=Horror"],
     "rank.filter.category_column=genre: not a catalogue column"),
    (["rank.users=abc"], "unknown user id(s) abc"),
    (["rank.users=0"], "unknown user id(s) 0"),
    (["rank.strategies=[filter]", "rank.filter.allow_items=no-such-item"], "unknown item id(s) no-such-item"),
])
def test_rank_values_are_checked_right_after_prepare(cli, tmp_path: Path, overrides: list[str], said: str) -> None:
    run = tmp_path / "run"
    output = refused(cli("train", f"run_dir={run}", "model=sasrec", "trainer=tiny", *overrides))
    assert said in output and "[prepare] done" in output and "[finetune]" not in output
    assert not run.exists()  # the refusal rolled back the prepare stage, and the folder it made


def test_hf_encoder_without_a_model_is_refused_before_any_work(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert "encoder.model is required" in refused(cli("train", f"run_dir={run}", "encoder=hf"))
    assert not run.exists()


def test_an_id_only_model_loads_no_language_model(cli, tmp_path: Path) -> None:
    with_encoder = refused(cli("pretrain", f"run_dir={tmp_path / 'a'}", "model=sasrec", "encoder=tiny"))
    assert "encoder=tiny: nothing reads it with model=sasrec; it is read by a text model" in with_encoder
    without = cli("pretrain", f"run_dir={tmp_path / 'b'}", "model=sasrec")
    assert without.exit_code == 0, without.output
    manifest = json.loads((tmp_path / "b" / "pretrain" / "manifest.json").read_text())
    assert manifest["figures"]["encoder"] == "none"


def test_options_that_nothing_reads_are_refused(cli, tmp_path: Path) -> None:
    said = refused(cli("prepare", f"run_dir={tmp_path / 'run'}", "rank.filter.exclude_categories=[Horror]"))
    assert "rank.filter.exclude_categories: nothing reads it with rank.strategies=[]" in said
    said = refused(cli("prepare", f"run_dir={tmp_path / 'run'}", "data.temporal.valid=0.75"))
    assert "data.temporal.valid: nothing reads it with data.split=leave_one_out; it is read by data.split=temporal" in said
    assert not (tmp_path / "run").exists()
