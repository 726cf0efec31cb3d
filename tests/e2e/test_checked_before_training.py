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
    assert said in refused(cli("train", f"run_dir={run}", "model=sasrec", "trainer=tiny", *overrides))
    assert (run / "prepare" / "manifest.json").is_file() and not (run / "finetune").exists()


def test_hf_encoder_without_a_model_is_refused_before_any_work(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert "encoder.model is required" in refused(cli("train", f"run_dir={run}", "encoder=hf"))
    assert not run.exists()


def test_an_id_only_model_loads_no_language_model(cli, tmp_path: Path) -> None:
    with_encoder = cli("pretrain", f"run_dir={tmp_path / 'a'}", "model=sasrec", "encoder=tiny")
    assert with_encoder.exit_code == 0 and "reads no item text" in with_encoder.output, with_encoder.output
    without = cli("pretrain", f"run_dir={tmp_path / 'b'}", "model=sasrec")
    assert without.exit_code == 0, without.output
    a, b = (json.loads((tmp_path / r / "pretrain" / "manifest.json").read_text()) for r in ("a", "b"))
    assert a["config_hash"] == b["config_hash"] and a["figures"]["encoder"] == "none"


def test_options_that_nothing_reads_are_warned_about(cli, tmp_path: Path) -> None:
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", "rank.filter.exclude_categories=[Horror]",
                 "data.temporal.valid=0.95")
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "rank.filter.exclude_categories: unused, rank.strategies=[] has no filter" in said
    assert "data.temporal.valid: unused with data.split=leave_one_out" in said
