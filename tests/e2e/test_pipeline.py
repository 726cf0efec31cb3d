"""The whole pipeline through the CLI on the shipped sample, with a tiny SASRec."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import TINY_SASREC, run_from_repo

pytestmark = pytest.mark.slow
STAGES = ("prepare", "pretrain", "finetune", "capture", "rank", "evaluate")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny SASRec run shared by the tests of this module."""
    run_dir = tmp_path_factory.mktemp("run") / "sas"
    run_from_repo("train", f"run_dir={run_dir}", *TINY_SASREC)
    return run_dir


def test_train_writes_every_stage_with_a_manifest(trained_run: Path) -> None:
    for stage in STAGES:
        manifest = json.loads((trained_run / stage / "manifest.json").read_text())
        assert manifest["stage"] == stage
        assert manifest["outputs"] or stage == "pretrain", stage
    assert not [p for p in trained_run.iterdir() if p.name.startswith(".")]


def test_metrics_json_has_the_documented_keys(trained_run: Path) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    for key in ("test/ndcg@10", "test/recall@10", "test/mrr@10", "valid/ndcg@10", "test/map@5", "test/precision@20", "test/coverage@10"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["test/users"] == 300


def test_evaluate_reproduces_the_figures_for_any_chunk_size(cli, trained_run: Path) -> None:
    before = json.loads((trained_run / "metrics.json").read_text())
    result = cli("evaluate", f"run_dir={trained_run}", "--force", "eval.user_chunk=7", "eval.item_chunk=333")
    assert result.exit_code == 0, result.output
    assert json.loads((trained_run / "metrics.json").read_text()) == before


def test_rerun_skips_unchanged_stages(cli, trained_run: Path) -> None:
    stamps = {s: (trained_run / s / "manifest.json").stat().st_mtime_ns for s in STAGES}
    result = cli("train", f"run_dir={trained_run}")
    assert result.exit_code == 0, result.output
    assert result.output.count("up to date, skipped") == len(STAGES)
    assert stamps == {s: (trained_run / s / "manifest.json").stat().st_mtime_ns for s in STAGES}


def test_changed_eval_config_redoes_only_evaluate(cli, trained_run: Path) -> None:
    result = cli("evaluate", f"run_dir={trained_run}", "eval.ks=[10,50]")
    assert result.exit_code == 0, result.output
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert "test/ndcg@50" in metrics and "test/ndcg@5" not in metrics
    assert "[finetune] up to date" in result.output


def test_rank_writes_lists_without_seen_items(cli, trained_run: Path) -> None:
    result = cli("rank", f"run_dir={trained_run}", "rank.k=5", "rank.format=csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(trained_run / "rank" / "recommendations.csv", dtype={"user_id": str, "item_id": str})
    assert list(table.columns) == ["user_id", "rank", "item_id", "score", "title"]
    assert table.groupby("user_id").size().eq(5).all()
    events = pd.read_parquet(trained_run / "prepare" / "events.parquet")
    items = pd.read_parquet(trained_run / "prepare" / "items.parquet")
    users = pd.read_parquet(trained_run / "prepare" / "users.parquet")
    seen = events.merge(items, on="item_idx").merge(users, on="user_idx")[["user_id", "item_id"]]
    assert table.merge(seen, on=["user_id", "item_id"]).empty


def test_fail_under_gates(cli, trained_run: Path) -> None:
    reached = json.loads((trained_run / "metrics.json").read_text())["test/ndcg@10"]
    assert reached > 0
    ok = cli("evaluate", f"run_dir={trained_run}", "--fail-under", f"test/ndcg@10={reached}")
    assert ok.exit_code == 0
    failed = cli("evaluate", f"run_dir={trained_run}", "--fail-under", "test/ndcg@10=0.99")
    assert failed.exit_code == 1 and "gate failed" in failed.output
    metrics = trained_run / "metrics.json"
    before = metrics.stat().st_mtime_ns
    for bad in ("test/ndcg@11=0.1", "test/bogus@10=1", "ndcg@10=0.1"):  # refused before any work
        unknown = cli("evaluate", f"run_dir={trained_run}", "--fail-under", bad)
        assert unknown.exit_code == 2 and "e.g. test/ndcg@10" in unknown.output, unknown.output
    drop = cli("evaluate", f"run_dir={trained_run}", "--baseline", str(trained_run), "--max-drop", "test/ndgc@10=5%")
    assert drop.exit_code == 2 and "--max-drop test/ndgc@10" in drop.output
    assert metrics.stat().st_mtime_ns == before, "a refused gate changed nothing"
    # well formed but absent from this evaluation (no such segment): the nearest keys are named
    absent = cli("evaluate", f"run_dir={trained_run}", "--fail-under", "test/hevy/ndcg@10=0.1")
    assert absent.exit_code == 2 and "did you mean test/heavy/ndcg@10" in absent.output, absent.output
    # a segment without users (the sample has no short histories): no figure, so no gate
    assert json.loads(metrics.read_text())["test/short/users"] == 0
    empty = cli("evaluate", f"run_dir={trained_run}", "--fail-under", "test/short/ndcg@10=0.01")
    said = " ".join(empty.output.split())
    assert empty.exit_code == 2 and "the segment test/short has no users in this evaluation" in said, said


def test_same_seed_same_metrics(cli, tmp_path: Path, trained_run: Path) -> None:
    again = tmp_path / "again"
    result = cli("train", f"run_dir={again}", *TINY_SASREC)
    assert result.exit_code == 0, result.output
    first = json.loads((trained_run / "metrics.json").read_text())
    second = json.loads((again / "metrics.json").read_text())
    assert {k: v for k, v in second.items() if k in first} == {k: first[k] for k in second if k in first}


@pytest.mark.parametrize("model", ["pop", "gru4rec"])
def test_other_models_train(cli, tmp_path: Path, model: str) -> None:
    extra = ["model.hidden=16", "model.max_len=20", "trainer=tiny"] if model == "gru4rec" else []
    result = cli("train", f"run_dir={tmp_path / model}", f"model={model}", *extra)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / model / "metrics.json").read_text())
    assert metrics["test/ndcg@10"] > 0.0


def test_exclude_history_false_can_recommend_seen_items(cli, trained_run: Path, tmp_path: Path) -> None:
    result = cli("train", f"run_dir={tmp_path / 'pop'}", "model=pop")
    assert result.exit_code == 0
    masked = json.loads((tmp_path / "pop" / "metrics.json").read_text())
    result = cli("evaluate", f"run_dir={tmp_path / 'pop'}", "eval.exclude_history=false")
    assert "[finetune] up to date" in result.output  # an evaluation convention never retrains
    unmasked = json.loads((tmp_path / "pop" / "metrics.json").read_text())
    # the most popular items are mostly already seen: leaving them in lowers Pop's figures
    assert unmasked["test/recall@10"] < masked["test/recall@10"]


def test_multirun_sweep_writes_one_run_per_job(tmp_path: Path) -> None:
    # a subprocess: Hydra's real @hydra.main reconfigures logging for the whole process
    import subprocess
    import sys

    from tests.conftest import REPO

    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "dynrec_cli", "train", "-m", "model=sasrec,gru4rec", f"run_dir={sweep}",
               "model.hidden=16", "trainer=tiny", "data.max_seq_len=40"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    targets = {json.loads((sweep / job / "config.json").read_text())["model"]["_target_"] for job in ("0", "1")}
    assert targets == {"dynrec_cli.models.sasrec.SASRec", "dynrec_cli.models.gru4rec.GRU4Rec"}
    assert all((sweep / job / "metrics.json").exists() for job in ("0", "1"))


def test_downstream_verbs_never_retrain(cli, trained_run: Path, tmp_path: Path) -> None:
    finetune = trained_run / "finetune" / "manifest.json"
    before = finetune.read_bytes()
    # where it computes is not what it learned: read as trained
    runtime = cli("evaluate", f"run_dir={trained_run}", "trainer.threads=1", "trainer.device=cpu")
    assert runtime.exit_code == 0 and "[finetune] trained with other" in " ".join(runtime.output.split()), runtime.output
    for verb, key in (("evaluate", "model.hidden=32"), ("rank", "data.min_rating=4"), ("capture", "trainer.epochs=9")):
        refused = cli(verb, f"run_dir={trained_run}", key)
        said = " ".join(refused.output.split())
        assert refused.exit_code == 2 and f"{key.split('=')[0]}=" in said and f"dynrec {verb} never retrains a run" in said, said
    assert finetune.read_bytes() == before
    # a data file changed since training: refused too
    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    manifest = json.loads((copy / "prepare" / "manifest.json").read_text())
    manifest["inputs"] = {name: "0" * 64 for name in manifest["inputs"]}  # as if the log had been edited
    (copy / "prepare" / "manifest.json").write_text(json.dumps(manifest))
    changed = cli("evaluate", f"run_dir={copy}")
    assert changed.exit_code == 2 and "inputs changed since it ran" in " ".join(changed.output.split()), changed.output
