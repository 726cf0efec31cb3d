"""Run artifacts get the modes the user's umask asks for, not the 0600/0700 of their temporaries."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LOG = "user_id,item_id,timestamp\n" + "".join(
    f"u{u},i{(u * 7 + k) % 12},{1_000_000 + 60 * k}\n" for u in range(8) for k in range(8)
)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_stage_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    run = tmp_path / "run"
    # a fresh process: the umask is read once per process, as a user's shell sets it
    result = subprocess.run(
        [sys.executable, "-m", "dynrec_cli", "prepare", f"run_dir={run}", "data=csv",
         f"data.interactions={tmp_path / 'log.csv'}", "data.min_user_interactions=3", "data.min_item_interactions=1"],
        cwd=REPO, capture_output=True, text=True, preexec_fn=lambda: os.umask(umask), timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stage = run / "prepare"
    files = sorted(p for p in run.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"manifest.json", "dataset.json", "stats.json", "events.parquet", "config.json"}
    modes = {str(p.relative_to(run)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes
    assert oct(stat.S_IMODE(stage.stat().st_mode)) == oct(0o777 & ~umask)
