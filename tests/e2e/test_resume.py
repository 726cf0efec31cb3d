"""Kill -9 mid-training and resume: the figures equal an uninterrupted run's. And evaluation
figures do not depend on the chunk sizes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
# batch size 8 makes an epoch last ~1 s on the sample: long enough to be killed inside one
ARGS = ["model=sasrec", "model.hidden=16", "model.layers=1", "model.heads=1", "model.max_len=20",
        "trainer=tiny", "trainer.epochs=3", "trainer.patience=5", "trainer.batch_size=8", "trainer.threads=1",
        "data.max_seq_len=40", "eval.ks=[10]"]


def train_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "dynrec_cli", "train", f"run_dir={run_dir}", *ARGS]


def figures(history_path: Path) -> list[dict[str, float]]:
    """Each epoch's loss and valid figures, without its timings."""
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in json.loads(history_path.read_text())]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("resume") / "B"
    done = subprocess.run(train_command(run_dir), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return run_dir


def test_kill_mid_epoch_then_resume_ends_with_the_same_metrics(tmp_path: Path, uninterrupted: Path) -> None:
    run_dir = tmp_path / "A"
    checkpoint = run_dir / "finetune.resume" / "manifest.json"
    process = subprocess.Popen(train_command(run_dir), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpoint.exists(), "no epoch checkpoint appeared"
        os.kill(process.pid, signal.SIGKILL)  # epoch 2 has just begun
    finally:
        process.kill()
        process.wait()
    assert not (run_dir / "finetune" / "manifest.json").exists(), "training finished before the kill"
    saved = json.loads((run_dir / "finetune.resume" / "state.json").read_text())["epoch"]

    resumed = subprocess.run(train_command(run_dir), cwd=REPO, capture_output=True, text=True, timeout=600)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming training after epoch {saved}" in " ".join((resumed.stdout + resumed.stderr).split())
    interrupted_metrics = json.loads((run_dir / "metrics.json").read_text())
    straight_metrics = json.loads((uninterrupted / "metrics.json").read_text())
    headline = ("test/ndcg@10", "test/recall@10", "test/mrr@10", "valid/ndcg@10")
    print(f"\nkilled after epoch {saved}; {len(straight_metrics)} metrics compared")
    for name, metrics in (("interrupted+resumed", interrupted_metrics), ("uninterrupted", straight_metrics)):
        print(f"  {name:<20} " + "  ".join(f"{k} {metrics[k]:.6f}" for k in headline))
    assert interrupted_metrics == straight_metrics
    assert figures(run_dir / "finetune" / "history.json") == figures(uninterrupted / "finetune" / "history.json")
    assert not (run_dir / "finetune.resume").exists()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("user_chunk,item_chunk", [(1, 4096), (300, 5), (64, 1000)])
def test_evaluation_does_not_depend_on_chunk_sizes(cli, uninterrupted: Path, user_chunk: int, item_chunk: int) -> None:
    before = json.loads((uninterrupted / "metrics.json").read_text())
    result = cli("evaluate", f"run_dir={uninterrupted}", "--force", f"eval.user_chunk={user_chunk}",
                 f"eval.item_chunk={item_chunk}")
    assert result.exit_code == 0, result.output
    after = json.loads((uninterrupted / "metrics.json").read_text())
    assert after.keys() == before.keys()
    assert all(after[k] == pytest.approx(before[k], abs=1e-6) for k in before), (before, after)
