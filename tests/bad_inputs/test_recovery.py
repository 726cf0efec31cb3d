"""What is not an error: a stage without its manifest is redone, a crash's temporary folder is
removed (never a running command's), and a UTF-8 byte-order mark is read as the encoding it announces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.bad_inputs.case import LOG, PREPARE_ARGS


def test_stage_without_manifest_is_redone(cli, tmp_path: Path, trained_run: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "rank" / "manifest.json").unlink()  # e.g. a copy that stopped before the manifest
    (run / ".rank.crashed").mkdir()  # and a temporary folder left by a killed run
    (run / ".rank.crashed" / "recommendations.parquet").write_bytes(b"half")

    result = cli("rank", f"run_dir={run}")

    assert result.exit_code == 0, result.output
    assert "[rank] running" in result.output
    assert "[capture] up to date, skipped" in result.output
    manifest = json.loads((run / "rank" / "manifest.json").read_text())
    assert "recommendations.parquet" in manifest["outputs"]
    assert not (run / ".rank.crashed").exists()  # the killed run's leftover is removed when the stage runs
    assert not [p.name for p in run.iterdir() if p.name.startswith(".rank.")]


def test_a_running_commands_temporary_folder_is_never_removed(cli, tmp_path: Path, trained_run: Path) -> None:
    from dynrec_cli import artifacts

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    live = artifacts.StageFolder(run / "rank")  # another command writing its rank stage right now
    (run / ".rank.crashed").mkdir()
    (live.path / "recommendations.parquet").write_bytes(b"in progress")
    try:
        result = cli("rank", f"run_dir={run}", "--force")
        assert result.exit_code == 0, result.output
        assert (live.path / "recommendations.parquet").read_bytes() == b"in progress"
        assert (run / ".rank.crashed").exists()  # cannot tell it from a live one while another writes: kept
    finally:
        live.discard()
    assert cli("rank", f"run_dir={run}", "--force").exit_code == 0
    assert not (run / ".rank.crashed").exists() and not live.path.exists()


def test_utf8_bom_is_accepted(cli, tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_bytes("\ufeff".encode() + LOG.encode())
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={tmp_path / 'log.csv'}",
                 *PREPARE_ARGS)
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "run" / "prepare" / "stats.json").read_text())
    assert stats["raw_events"] == len(LOG.splitlines()) - 1
