"""Reports people read, through the CLI: report.md links its plots, names the run's data, model,
config and version, and evaluating a trained text model loads no language model."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO, run_from_repo

pytestmark = pytest.mark.slow
TINY_TEXT = [
    "model=dynrec", "encoder=tiny", "adapter=linear", "model.hidden=16", "model.layers=1", "model.heads=1",
    "model.max_len=20", "trainer=tiny", "trainer.batch_size=256", "data.max_seq_len=40",
]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny DynRec (text model: gates, text-match weight) on the sample; its name needs escaping."""
    run = tmp_path_factory.mktemp("reports") / "dyn_*run*"
    run_from_repo("train", f"run_dir={run}", f"encoder.cache_dir={run.parent / 'cache'}", *TINY_TEXT)
    return run


def _links(markdown: str) -> list[str]:
    return re.findall(r"^!\[.*\]\((.+\.png)\)$", markdown, re.MULTILINE)


def test_report_md_links_png_files_and_html_stays_self_contained(text_run: Path) -> None:
    for report in (text_run / "report.md", text_run / "evaluate" / "report.md"):
        markdown = report.read_text()
        assert "base64" not in markdown and len(markdown.encode()) < 20_000
        links = _links(markdown)
        assert len(links) >= 5  # valid and test curves, segment bars, training curves, gates
        for link in links:
            with Image.open(report.parent / link) as image:  # resolves from where the report lies
                assert image.format == "PNG" and image.width >= 200
    html = (text_run / "report.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,', html)) == len(_links((text_run / "report.md").read_text()))
    manifest = json.loads((text_run / "evaluate" / "manifest.json").read_text())
    assert {"test_curves.png", "training.png", "gates.png"} <= set(manifest["outputs"])


def test_report_names_data_model_config_training_and_version(text_run: Path) -> None:
    from dynrec_cli import __version__

    markdown = (text_run / "report.md").read_text()
    assert markdown.startswith(r"# dynrec evaluation: dyn\_\*run\*")  # the run name, escaped
    assert "- data set: `sample (format movielens, " in markdown and "data/samples/ml-latest-small): 300 users" in markdown
    assert "- model: `DynRec (hidden=16, layers=1, max_len=20, loss=ce, adapter=LinearAdapter, encoder=tiny (tiny))`" in markdown
    assert "- training: `2 epochs, best " in markdown and "stopped: epoch limit: trainer.epochs=2 reached`" in markdown
    assert f"- dynrec: `{__version__}`" in markdown
    assert "recall = hit: the same values at every K, drawn once" in markdown  # one target per user
    assert "## text-match weight" in markdown and "(picked on valid)" in markdown
    assert "text\\_match" not in markdown.split("## learned gates")[1].split("## text-match")[0]


def test_evaluate_of_a_trained_text_model_loads_no_language_model(text_run: Path) -> None:
    # a fresh process, so that sys.modules tells what evaluate itself imported
    code = (
        "import sys\n"
        "from dynrec_cli.cli import app\n"
        "try:\n"
        f"    app(['evaluate', {f'run_dir={text_run}'!r}, '--force'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('LM libraries:', sorted(m for m in ('transformers', 'dynrec_cli.encoders.loading') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())  # rich wraps log lines to the width
    assert "LM libraries: []" in said and "[evaluate] running" in said and "no language model loaded" in said


def test_training_says_why_it_stopped(cli, tmp_path: Path) -> None:
    base = ["model=sasrec", "model.hidden=8", "model.layers=1", "model.heads=1", "model.max_len=10", "trainer=tiny",
            "trainer.batch_size=512", "data.max_seq_len=20", "eval.report=false"]
    cases = {  # lr 1e-12 moves no float32 weight: the valid figure never improves, so patience 1 stops after epoch 2
        "patience": (["trainer.epochs=5", "trainer.patience=1", "trainer.optimizer.lr=1e-12"], 2,
                     "early stopping: no better valid/ndcg@10 in the last 1 evaluation (trainer.patience=1)"),
        "max_minutes": (["trainer.epochs=5", "trainer.max_minutes=0.00001"], 1,
                        "time budget: trainer.max_minutes=1e-05 spent after 1 epoch"),
        "epochs": (["trainer.epochs=1"], 1, "epoch limit: trainer.epochs=1 reached"),
    }
    for code, (overrides, epochs, reason) in cases.items():
        result = cli("train", f"run_dir={tmp_path / code}", *base, *overrides)
        assert result.exit_code == 0, result.output
        figures = json.loads((tmp_path / code / "finetune" / "manifest.json").read_text())["figures"]
        assert (figures["stopped"], figures["epochs_run"], figures["stop_reason"]) == (code, epochs, reason)
        assert "stopped by " + reason.split(":")[0] in " ".join(result.output.split())
