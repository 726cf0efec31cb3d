"""A command that will be refused changes nothing, even after a stage ran; a crashed command
records nothing (issue 15, class 4)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bad_inputs.test_catalogue import snapshot
from tests.conftest import REPO

pytestmark = pytest.mark.slow
EVENTS = "user_id,item_id,timestamp\nu0,i3,2000000\nu1,i5,2000060\nu2,i1,2000120\n"


def refused(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.fixture
def run(tmp_path: Path, trained_run: Path) -> Path:
    shutil.copytree(trained_run, tmp_path / "run")
    return tmp_path / "run"


@pytest.fixture
def captured(cli, run: Path, tmp_path: Path) -> Path:
    """The trained run with an interest store (one capture)."""
    (tmp_path / "events.csv").write_text(EVENTS)
    result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}")
    assert result.exit_code == 0 and (run / "store" / "store.json").is_file(), result.output
    return run


def test_retraining_a_run_with_a_store_is_refused_before_anything_changes(cli, captured: Path) -> None:
    before = snapshot(captured)
    said = refused(cli("train", f"run_dir={captured}", "model=pop"))  # was: retrained as Pop, then refused at rank
    assert f"{captured / 'store'} holds an interest store (1 capture(s))" in said
    assert "would retrain its finetune stage" in said and "capture.on_retrain=archive" in said
    assert "[finetune]" not in said
    assert snapshot(captured) == before
    assert cli("rank", f"run_dir={captured}", "rank.users=captured").exit_code == 0  # the run still works


def test_archiving_the_store_retrains_a_consistent_run(cli, captured: Path) -> None:
    done = cli("train", f"run_dir={captured}", "model=pop", "capture.on_retrain=archive")
    assert done.exit_code == 0, done.output
    archived = list(captured.glob("store.archived-*"))
    assert len(archived) == 1 and (archived[0] / "store.json").is_file() and not (captured / "store").exists()
    assert "capture.on_retrain=archive" not in json.loads((captured / "overrides.json").read_text())
    assert cli("evaluate", f"run_dir={captured}").exit_code == 0  # the run is not stuck
    again = cli("train", f"run_dir={captured}", "model=pop")
    assert again.exit_code == 0 and "[finetune] up to date" in again.output, again.output


def test_a_refusal_after_prepare_ran_again_rolls_prepare_back(cli, run: Path) -> None:
    before = snapshot(run)
    said = refused(cli("train", f"run_dir={run}", "data.min_item_interactions=2", "rank.users=[nobody]"))
    assert "[prepare] done" in said and "unknown user id(s) nobody" in said
    assert snapshot(run) == before  # was: a new prepare beside the old finetune, and every later verb refused
    assert cli("evaluate", f"run_dir={run}").exit_code == 0


def test_a_gate_refused_after_a_new_evaluation_rolls_it_back(cli, run: Path) -> None:
    before = snapshot(run)
    said = refused(cli("evaluate", f"run_dir={run}", "eval.ks=[5]", "eval.activity_buckets=0",
                       "--fail-under", "test/short/ndcg@5=0.1"))
    assert "[evaluate] running" in said and "the segment test/short has no users" in said
    assert snapshot(run) == before  # was: metrics.json and the reports of the refused evaluation


def test_an_interrupted_command_records_nothing(run: Path) -> None:
    """Ctrl-C in the middle of training: the stages it completed stay (rerunning resumes), but
    overrides.json and config.json still describe the last command that completed."""
    recorded, config = (run / "overrides.json").read_bytes(), (run / "config.json").read_bytes()
    args = ["train", f"run_dir={run}", "data.min_item_interactions=2", "trainer.epochs=100000", "trainer.patience=100000"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    # SIGINT as a terminal's Ctrl-C sends it (a shell without job control starts background jobs ignoring it)
    child = subprocess.Popen([sys.executable, "-m", "dynrec_cli", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert child.stdout is not None
    lines = []
    try:
        for line in child.stdout:  # wait for training, past the prepare that this command redid
            lines.append(line)
            if "epoch 1 " in line:
                break
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        lines.append(child.communicate(timeout=120)[0])
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, "".join(lines)
    assert (run / "overrides.json").read_bytes() == recorded  # was: the interrupted command's overrides
    assert (run / "config.json").read_bytes() == config
    assert json.loads((run / "prepare" / "manifest.json").read_text())["config"]["data"]["min_item_interactions"] == 2
