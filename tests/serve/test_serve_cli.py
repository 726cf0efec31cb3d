"""`dynrec serve` / `dynrec forget` refused in one line, before any work, for what the user can fix."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.serve.conftest import copy_run

pytestmark = pytest.mark.slow


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return " ".join(result.output.split())


def test_refusals_before_any_work(cli, sample_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    assert "dynrec serve needs run_dir=DIR" in one_error(cli("serve"))
    assert "no trained run (no such folder)" in one_error(cli("serve", f"run_dir={tmp_path / 'typo'}"))
    assert "serve.port=0: must be an integer in [1, 65535]" in one_error(cli("serve", f"run_dir={run}", "serve.port=0"))
    assert "serve.queue=0" in one_error(cli("serve", f"run_dir={run}", "serve.queue=0"))
    assert "unknown config key 'serve.prot'" in one_error(cli("serve", f"run_dir={run}", "serve.prot=1"))
    assert "model.hidden=32 (trained with 16) would redo its finetune stage, and dynrec serve never retrains" in one_error(
        cli("serve", f"run_dir={run}", "model.hidden=32"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        message = one_error(cli("serve", f"run_dir={run}", f"serve.port={busy.getsockname()[1]}"))
    assert "cannot listen there (Address already in use)" in message
    assert "user is required" in one_error(cli("forget", f"run_dir={run}"))
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    assert "needs the 'serve' extra (uvicorn is missing): pip install 'dynrec[serve]'" in one_error(cli("serve", f"run_dir={run}"))
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing written, no store made
