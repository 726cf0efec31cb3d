"""overrides.json follows the run's latest training, so later verbs on the folder read that model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TINY_SASREC

pytestmark = pytest.mark.slow


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_train_after_prepare_is_what_evaluate_reads(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    ok(cli("prepare", f"run_dir={run}"))
    ok(cli("train", f"run_dir={run}", "model=pop"))
    said = ok(cli("evaluate", f"run_dir={run}"))  # was refused: composed the default model=dynrec
    assert "[finetune] up to date" in said
    assert json.loads((run / "overrides.json").read_text()) == ["model=pop"]


def test_retraining_with_another_model_is_what_rank_reads(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    ok(cli("train", f"run_dir={run}", "model=pop"))
    ok(cli("train", f"run_dir={run}", *TINY_SASREC))
    said = ok(cli("rank", f"run_dir={run}", "rank.k=5"))
    assert "[finetune] up to date" in said
    assert json.loads((run / "config.json").read_text())["model"]["_target_"].endswith("SASRec")
    # an evaluation setting is not a training setting: it does not become the run's
    ok(cli("evaluate", f"run_dir={run}", "eval.ks=[5]"))
    assert "eval.ks=[5]" not in json.loads((run / "overrides.json").read_text())


def test_a_refused_value_is_not_recorded(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    refused = cli("train", f"run_dir={run}", "model=pop", "rank.users=[no-such-user]")
    assert refused.exit_code == 2 and "unknown user id(s) no-such-user" in refused.output, refused.output
    assert not run.exists()  # refused right after prepare, which is rolled back with the folder it made
    ok(cli("train", f"run_dir={run}", "model=pop"))


def test_switching_the_model_drops_the_old_models_keys(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    ok(cli("train", f"run_dir={run}", *TINY_SASREC))
    ok(cli("train", f"run_dir={run}", "model=pop"))  # was: unknown config key 'model.hidden' (from overrides.json)
    recorded = json.loads((run / "overrides.json").read_text())
    assert "model=pop" in recorded and not any(o.startswith("model.") for o in recorded)
    # trainer.batch_size stays recorded (finetune was hashed with it), unread beside model=pop: not refused
    assert "trainer.batch_size=256" in recorded and "[finetune] up to date" in ok(cli("evaluate", f"run_dir={run}"))


def test_a_bare_cut_off_works_with_a_gate(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    ok(cli("train", f"run_dir={run}", "model=pop"))
    said = ok(cli("evaluate", f"run_dir={run}", "eval.ks=10", "--fail-under", "test/ndcg@10=0.0001"))  # was a TypeError
    assert "gate failed" not in said
