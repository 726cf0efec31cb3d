"""The CLI surface users' scripts rely on: verbs, overrides, errors, gates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dynrec_cli.cli._hydra import CONF_DIR
from tests.conftest import REPO

VERBS = ("prepare", "pretrain", "finetune", "capture", "rank", "evaluate", "train", "config")


def test_help_lists_every_verb(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for verb in VERBS:
        assert verb in result.output


def test_help_does_not_import_torch() -> None:
    # what keeps `dynrec --help` well under a second: no torch/transformers/pandas at import
    code = "import sys, dynrec_cli.cli; print(sorted(m for m in ('torch','transformers','pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_overrides_reach_the_config(cli) -> None:
    result = cli("train", "--print-config", "model=gru4rec", "trainer.epochs=7", "data.min_rating=4")
    assert result.exit_code == 0
    assert "dynrec_cli.models.gru4rec.GRU4Rec" in result.output
    assert "epochs: 7" in result.output
    assert "min_rating: 4" in result.output


def test_unknown_key_fails_with_valid_keys(cli) -> None:
    result = cli("train", "trainer.epoch=3")
    assert result.exit_code == 2
    assert "unknown config key 'trainer.epoch'" in result.output
    assert "trainer.epochs" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("override", "hint"), [
    ("+data.colums.user=x", "Did you mean data.columns"), ("++trainer.epoch=3", "Did you mean trainer.epochs"),
    ("+foo=1", "at the top level"), ("+model.foo=1", "under 'model'"), ("+trainer.optimizer.epz=1", "trainer.optimizer"),
])  # fmt: skip
def test_added_keys_that_nothing_reads_fail(cli, override: str, hint: str) -> None:
    result = cli("train", "--print-config", "model=sasrec", override)
    assert result.exit_code == 2 and hint in result.output, result.output


def test_added_constructor_arguments_and_overridden_keys_pass(cli) -> None:
    result = cli("train", "--print-config", "+trainer.optimizer.eps=1e-6", "++trainer.epochs=3")
    assert result.exit_code == 0, result.output
    assert "eps: 1.0e-06" in result.output and "epochs: 3" in result.output


def test_unknown_group_option_fails(cli) -> None:
    result = cli("train", "model=sasrecc")
    assert result.exit_code == 2
    assert "unknown model=sasrecc; choose one of: dynrec, gru4rec, pop, sasrec, zeroshot" in " ".join(result.output.split())
    assert "Traceback" not in result.output and "search path" not in result.output
    data = cli("train", "data=nosuch")
    assert data.exit_code == 2 and "_common" not in data.output and "sample" in data.output


def test_wrong_type_fails(cli) -> None:
    result = cli("train", "trainer.epochs=many")
    assert result.exit_code == 2
    assert "trainer.epochs='many': expected an integer" in result.output


def test_config_show_names_sources(cli) -> None:
    result = cli("config", "show", "model=pop")
    assert result.exit_code == 0
    assert "model/pop" in result.output and "pop.yaml" in result.output


def test_config_dir_adds_user_configs(cli, tmp_path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "bigsas.yaml").write_text(
        "defaults:\n  - sasrec\n  - _self_\nhidden: 128\n"
    )
    result = cli("train", "--print-config", "--config-dir", tmp_path, "model=bigsas")
    assert result.exit_code == 0, result.output
    assert "hidden: 128" in result.output


def test_config_dir_file_named_as_a_shipped_one_is_shadowed(cli, tmp_path) -> None:
    """--config-dir is searched after dynrec's own configs: the shipped model/sasrec.yaml wins, and says so."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "sasrec.yaml").write_text("defaults:\n  - pop\n  - _self_\nhidden: 99\n")
    result = cli("train", "--print-config", "--config-dir", tmp_path, "model=sasrec")
    assert result.exit_code == 0, result.output
    assert "hidden: 64" in result.output and "hidden: 99" not in result.output
    shown = cli("config", "show", "--config-dir", tmp_path, "model=sasrec")
    assert shown.exit_code == 0, shown.output
    assert str(CONF_DIR / "model" / "sasrec.yaml") in shown.output and str(tmp_path) not in shown.output


@pytest.mark.parametrize("gate", ["nonsense", "test/ndcg@10=abc"])
def test_malformed_gate_exits_2(cli, gate: str) -> None:
    result = cli("evaluate", "--fail-under", gate, "run_dir=runs/none")
    assert result.exit_code == 2


def test_run_overrides_are_reused(tmp_path, monkeypatch) -> None:
    from dynrec_cli.api.commands import with_run_overrides

    (tmp_path / "overrides.json").write_text(json.dumps(["model=pop", "eval.ks=[5]"]))
    merged = with_run_overrides([f"run_dir={tmp_path}", "eval.ks=[10]"])
    assert merged == ["model=pop", f"run_dir={tmp_path}", "eval.ks=[10]"]


@pytest.mark.parametrize("verb", ["evaluate", "rank", "capture"])
def test_multirun_on_a_trained_run_is_refused(cli, tmp_path, verb: str) -> None:
    """Hydra would give each job a folder of its own and train a new default model there."""
    run = tmp_path / "run"
    result = cli(verb, "-m", f"run_dir={run}", "eval.exclude_history=true,false")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"dynrec {verb} -m run_dir={run}: {verb} reads the one trained run" in said, said
    assert not run.exists()


def test_a_failed_gate_is_one_line_however_long(cli, monkeypatch) -> None:
    from dynrec_cli import pipeline
    from dynrec_cli.api import commands

    line = "test/ndcg@10 = 0.0100 vs baseline 0.0200: Δ -0.0100, interval [-0.0150, -0.0050] entirely below −0.0010 " * 2
    monkeypatch.setattr(pipeline, "run_task", lambda *args, verify, **kwargs: verify({}) or {})  # the gates run inside the command
    monkeypatch.setattr(commands, "check_gates", lambda gates, metrics: [line])
    result = cli("evaluate", "run_dir=runs/none")
    assert result.exit_code == 1
    assert f"gate failed: {line}" in result.output.splitlines()


def test_compare_takes_a_run_folder_with_an_equals_sign(tmp_path: Path) -> None:
    """`dynrec compare runs/lr=0.01 runs/b eval.compare.resamples=50`: the existing folder is a run
    (red-team round 2: it was read as an override and refused by Hydra's grammar)."""
    from dynrec_cli.cli.compare_cmd import split_arguments

    folder = tmp_path / "lr=0.01"
    folder.mkdir()
    runs, overrides = split_arguments([str(folder), "runs/b", "eval.compare.resamples=50"])
    assert runs == [folder, Path("runs/b")]
    assert overrides == ["eval.compare.resamples=50"]
