"""Evaluation workflow through the CLI: beyond-accuracy figures, segments, reports, compare,
baseline gates and tracking, on the sample with a tiny SASRec and Pop."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TINY_SASREC, run_from_repo

pytestmark = pytest.mark.slow


def _train(tmp_path_factory: pytest.TempPathFactory, name: str, *overrides: str) -> Path:
    run_dir = tmp_path_factory.mktemp(name) / name
    run_from_repo("train", f"run_dir={run_dir}", *overrides)
    return run_dir


@pytest.fixture(scope="module")
def sasrec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny SASRec with TensorBoard tracking."""
    return _train(tmp_path_factory, "sas", *TINY_SASREC, "trainer.tracking=tensorboard")


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pop on the same split as `sasrec` (same data settings)."""
    return _train(tmp_path_factory, "pop", "model=pop", "data.max_seq_len=40")


def test_beyond_accuracy_and_segments_in_metrics_and_per_user(sasrec: Path) -> None:
    metrics = json.loads((sasrec / "metrics.json").read_text())
    for key in ("test/ild@10", "test/novelty@10", "test/poprank@10", "test/gini@10", "test/coverage@10"):
        assert key in metrics, key
    assert 0 < metrics["test/ild@10"] <= 2 and 0 <= metrics["test/gini@10"] <= 1 and metrics["test/novelty@10"] > 0
    for segment in ("light", "medium", "heavy"):
        assert metrics[f"test/{segment}/users"] == 100  # equal-sized activity buckets of 300 users
    assert sum(metrics[f"test/period{i}/users"] for i in range(1, 5)) == 300
    per_user = pd.read_parquet(sasrec / "evaluate" / "per_user.parquet")
    test = per_user[per_user["split"] == "test"]
    assert {"ild@10", "novelty@10", "seg/cold", "seg/heavy", "seg/period1"} <= set(per_user.columns)
    assert test["ndcg@10"].mean() == pytest.approx(metrics["test/ndcg@10"])
    assert test.loc[test["seg/heavy"], "ndcg@10"].mean() == pytest.approx(metrics["test/heavy/ndcg@10"])


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_html_is_self_contained_with_plots(sasrec: Path, tmp_path: Path) -> None:
    from PIL import Image

    html = (sasrec / "report.html").read_text()
    assert (sasrec / "report.md").exists() and (sasrec / "evaluate" / "report.html").read_text() == html
    assert "heavy" in html and "period1" in html  # the segment table
    assert not re.search(r'(src|href)="(?!data:)', html)  # no external assets
    images = _pngs(html)
    assert len(images) >= 4  # valid and test metric@K curves, segment bars, training curves
    for png in images:
        image = Image.open(io.BytesIO(png)).convert("L")
        assert image.width >= 200 and image.height >= 150
        assert np.asarray(image).std() > 5  # drawn, not blank
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return  # rendering in a browser is checked only where one is installed
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,1600",
                    f"--screenshot={shot}", (sasrec / "report.html").as_uri()], capture_output=True, timeout=120, check=True)
    assert np.asarray(Image.open(shot).convert("L")).std() > 5


def test_compare_prints_paired_differences(cli, sasrec: Path, pop: Path, tmp_path: Path) -> None:
    result = cli("compare", sasrec, pop, "--out", tmp_path, "eval.compare.resamples=300")
    assert result.exit_code == 0, result.output
    assert "test/ndcg@10" in result.output and "interval" in result.output
    table = pd.read_csv(tmp_path / "compare.csv")
    row = table[table["key"] == "test/ndcg@10"].iloc[0]
    assert row["diff"] == pytest.approx(row["value"] - row["base"])
    assert row["low"] <= row["diff"] <= row["high"] and 0 <= row["p_value"] <= 1
    assert row["users"] == 300 and "test/heavy/recall@10" in set(table["key"])
    assert "| test/ndcg@10 |" in (tmp_path / "compare.md").read_text()


def test_compare_writes_next_to_the_command_and_flags_ild_across_item_spaces(
    sasrec: Path, pop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dynrec_cli.cli import app

    monkeypatch.chdir(tmp_path)  # runs given by absolute path; the outputs land here, never in a run
    before = sorted(p.name for p in sasrec.iterdir())
    result = CliRunner().invoke(app, ["compare", str(sasrec), str(pop), "eval.compare.resamples=100"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "compare.csv").exists() and (tmp_path / "compare.md").exists()
    assert sorted(p.name for p in sasrec.iterdir()) == before
    table = pd.read_csv(tmp_path / "compare.csv")
    ild = table[table["metric"] == "ild@10"]
    assert len(ild) and not ild["comparable"].any()  # SASRec's ID vectors against Pop's popularity: other spaces
    assert table[table["metric"] == "ndcg@10"]["comparable"].all()
    assert "| test/ild@10 | 300 |" in (tmp_path / "compare.md").read_text() and "not comparable" in " ".join(result.output.split())
    twin = tmp_path / "twin"  # the same trained weights, e.g. a copy evaluated again: the same space
    shutil.copytree(sasrec, twin)
    same = CliRunner().invoke(app, ["compare", str(sasrec), str(twin), "--out", str(tmp_path / "same"), "eval.compare.resamples=100"])
    assert same.exit_code == 0, same.output
    assert pd.read_csv(tmp_path / "same" / "compare.csv")["comparable"].all()


def test_compare_bad_input_is_one_line_exit_2(cli, sasrec: Path, pop: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    missing = cli("compare", sasrec, tmp_path / "nope")
    assert missing.exit_code == 2 and "no such run folder" in missing.output
    (tmp_path / "empty").mkdir()
    unevaluated = cli("compare", sasrec, tmp_path / "empty")
    assert unevaluated.exit_code == 2 and "no evaluation" in unevaluated.output
    other = _train(tmp_path_factory, "pop30", "model=pop", "data.max_seq_len=30")
    refused = cli("compare", pop, other)
    assert refused.exit_code == 2 and "different split" in refused.output
    allowed = cli("compare", pop, other, "--allow-different-splits", "--out", tmp_path, "eval.compare.resamples=100")
    assert allowed.exit_code == 0, allowed.output


def test_baseline_gate(cli, sasrec: Path, pop: Path) -> None:
    # the 2-epoch SASRec is far below Pop on the sample: a significant drop
    failed = cli("evaluate", f"run_dir={sasrec}", "--baseline", pop, "--max-drop", "test/recall@10=0.001")
    assert failed.exit_code == 1 and "gate failed" in failed.output and "test/recall@10" in failed.output
    passed = cli("evaluate", f"run_dir={pop}", "--baseline", pop, "--max-drop", "test/ndcg@10=5%")
    assert passed.exit_code == 0, passed.output
    unknown = cli("evaluate", f"run_dir={pop}", "--baseline", pop, "--max-drop", "test/ndcg@11=5%")
    assert unknown.exit_code == 2 and "test/ndcg@10" in unknown.output
    lonely = cli("evaluate", f"run_dir={pop}", "--max-drop", "test/ndcg@10=5%")
    assert lonely.exit_code == 2 and "--baseline" in lonely.output


def test_tensorboard_has_epochs_and_final_figures(sasrec: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(sasrec / "tracking" / "tensorboard")).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "valid/ndcg@10", "final/test/ndcg@10"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]  # trainer=tiny: 2 epochs
    final = json.loads((sasrec / "metrics.json").read_text())["test/ndcg@10"]
    assert events.Scalars("final/test/ndcg@10")[-1].value == pytest.approx(final)


def test_missing_tracking_package_is_exit_2(cli, pop: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:
        pytest.skip("mlflow is installed")
    result = cli("evaluate", f"run_dir={pop}", "trainer.tracking=mlflow")
    assert result.exit_code == 2 and "pip install mlflow" in result.output


def test_bf16_evaluation_ranks_close_to_fp32(cli, sasrec: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bf16"
    shutil.copytree(sasrec, copy)
    fp32 = json.loads((sasrec / "metrics.json").read_text())
    result = cli("evaluate", f"run_dir={copy}", "eval.precision=bf16")
    assert result.exit_code == 0, result.output
    bf16 = json.loads((copy / "metrics.json").read_text())
    assert json.loads((copy / "config.json").read_text())["eval"]["precision"] == "bf16"
    assert bf16["test/users"] == fp32["test/users"]
    assert bf16["test/recall@10"] == pytest.approx(fp32["test/recall@10"], abs=0.02)
    refused = cli("evaluate", f"run_dir={copy}", "eval.precision=int8")
    assert refused.exit_code == 2 and "eval.precision=int8" in refused.output


def test_compare_warns_when_the_evaluation_protocol_differs(cli, pop: Path, tmp_path: Path) -> None:
    other = tmp_path / "pop-with-history"
    shutil.copytree(pop, other)
    assert cli("evaluate", f"run_dir={other}", "eval.exclude_history=false").exit_code == 0
    result = cli("compare", pop, other, "--out", tmp_path, "eval.compare.resamples=100")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "evaluated with eval.exclude_history=False where" in said and "mix model and protocol" in said


def test_baseline_on_another_split_is_refused_without_compare_only_advice(cli, pop: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = _train(tmp_path_factory, "pop25", "model=pop", "data.max_seq_len=25")
    result = cli("evaluate", f"run_dir={pop}", "--baseline", str(other), "--max-drop", "test/ndcg@10=5%")
    assert result.exit_code == 2 and "different split" in result.output
    assert "--allow-different-splits" not in result.output, "an option of compare, not of evaluate"
