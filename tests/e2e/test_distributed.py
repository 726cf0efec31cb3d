"""`torchrun --nproc_per_node=2 -m dynrec_cli train …` on CPU (gloo) gives a 1-process run's figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, TINY_SASREC

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed"),
]
# Every rank draws the dropout masks of the whole global batch and keeps its rows
# (models/dropout.py); everything else is a per-position sum, equal up to float reassociation.
EXACT = ["trainer.batch_size=64", "trainer.epochs=3", "trainer.patience=3"]
MODELS = {
    "sasrec, no dropout": [*TINY_SASREC, "model.dropout=0"],
    "sasrec, dropout": [*TINY_SASREC, "model.dropout=0.3"],  # residual, feed-forward and attention dropout
    "gru4rec, dropout, sampled loss": ["model=gru4rec", "model.hidden=16", "model.max_len=20", "trainer=tiny",
                                       "data.max_seq_len=40", "model.dropout=0.3", "model.loss=sampled", "model.negatives=64"],
    # the text-match weight's pick reads valid means and paired standard errors over both ranks' users
    "dynrec, text match": ["model=dynrec", "encoder=tiny", "adapter=linear", "model.hidden=16", "model.layers=1",
                           "model.heads=1", "model.max_len=20", "trainer=tiny", "data.max_seq_len=40"],
}


def _train(run_dir: Path, launcher: list[str], model: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [*launcher, "-m", "dynrec_cli", "train", f"run_dir={run_dir}", *model, *EXACT]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("model", list(MODELS))
def test_two_gloo_ranks_give_the_single_process_figures(tmp_path: Path, model: str) -> None:
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    _train(single, [sys.executable], MODELS[model])
    _train(ddp, [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"], MODELS[model])
    one = json.loads((single / "metrics.json").read_text())
    two = json.loads((ddp / "metrics.json").read_text())
    assert one.keys() == two.keys()
    assert two == pytest.approx(one, rel=1e-6, abs=1e-6)
    # the same updates: every epoch's loss and valid figure match
    for a, b in zip(*(json.loads((run / "finetune" / "history.json").read_text()) for run in (single, ddp)), strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-6)  # per-rank means instead: ~5e-6 off
        assert b["valid/ndcg@10"] == pytest.approx(a["valid/ndcg@10"], abs=1e-6)
    # one writer: no rank's scratch folder is left behind, and the manifests are rank 0's
    assert not [p.name for p in ddp.iterdir() if p.name.startswith(".")]
    figures = [json.loads((run / "finetune" / "manifest.json").read_text())["figures"] for run in (single, ddp)]
    assert figures[1]["windows"] > 0
    if "text_match" in figures[0]:  # the same valid scores and standard errors, so the same weight
        one_match, two_match = (f["text_match"] for f in figures)
        assert two_match["weight"] == one_match["weight"]
        for key in ("valid/ndcg@10", "standard_error"):
            assert [v for _, v in two_match[key]] == pytest.approx([v for _, v in one_match[key]], abs=2e-5)
