"""The small trained runs that the run-folder cases and the safe-loading tests spoil copies of."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.bad_inputs.case import CATALOGUE, LOG, PREPARE_ARGS, TINY_MODEL
from tests.conftest import run_from_repo


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SASRec trained (every stage) on the small good log, shared by the run cases."""
    folder = tmp_path_factory.mktemp("trained")
    (folder / "log.csv").write_text(LOG)
    (folder / "items.csv").write_text(CATALOGUE)
    args = ["train", f"run_dir={folder / 'run'}", "data=csv", f"data.interactions={folder / 'log.csv'}",
            f"data.items={folder / 'items.csv'}", *PREPARE_ARGS, *TINY_MODEL]
    run_from_repo(*args)
    return folder / "run"


@pytest.fixture(scope="session")
def captured_run(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained run after `dynrec capture` applied a few new events: it holds an interest store."""
    folder = tmp_path_factory.mktemp("captured")
    run = folder / "run"
    shutil.copytree(trained_run, run)
    (folder / "events.csv").write_text("user_id,item_id,timestamp\n" + "".join(f"u{u},i{u % 12},2000000\n" for u in range(4)))
    run_from_repo("capture", f"run_dir={run}", f"capture.events={folder / 'events.csv'}")
    return run
