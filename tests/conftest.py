"""Shared fixtures: offline, seeded, and a CLI runner that returns exit code and output."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "samples" / "ml-latest-small"
# Small, quick settings for a whole pipeline on the sample.
TINY_SASREC = [
    "model=sasrec", "model.hidden=16", "model.layers=1", "model.heads=1", "model.max_len=20",
    "trainer=tiny", "trainer.batch_size=256", "data.max_seq_len=40",
]


def run_from_repo(*args: str) -> None:
    """Run `dynrec ARGS` in-process from the repo root (for module-scoped fixtures); asserts exit 0."""
    from dynrec_cli.cli import app

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """Run `dynrec ARGS` in-process from the repo root; returns the click Result."""
    from dynrec_cli.cli import app

    monkeypatch.chdir(REPO)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run
