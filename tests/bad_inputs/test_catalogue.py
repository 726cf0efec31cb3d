"""Every case of the bad-input catalogue: exit 2, one clear error line naming the file and the
place, no traceback, not one byte of the folder changed, and no planted payload run."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.bad_inputs.case import MARKER, BadInput
from tests.conftest import REPO

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(p for p in CASES_DIR.glob("*.py") if not p.name.startswith("_"))


def load_case(path: Path) -> BadInput:
    spec = importlib.util.spec_from_file_location(f"bad_input_case_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASE


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (hidden temporaries included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_catalogue_has_enough_cases() -> None:
    assert len(CASE_FILES) >= 20


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_bad_input(cli, tmp_path: Path, case_file: Path, request: pytest.FixtureRequest) -> None:
    case = load_case(case_file)
    run = tmp_path / "run"
    if case.needs_run:
        shutil.copytree(request.getfixturevalue(case.base), run)
        assert case.damage is not None
        case.damage(run)
    for name, content in case.files.items():
        target = tmp_path / name
        if callable(content):
            content(target)
        else:
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = snapshot(tmp_path)
    args = [a.replace("{dir}", str(tmp_path)).replace("{run}", str(run)) for a in case.args]

    result = in_subprocess(case, args, tmp_path) if case.limits or case.env else cli(*args)

    assert not (tmp_path / MARKER).exists(), "the planted payload ran"
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    print(f"\n{case_file.stem}: {errors[0].replace(str(tmp_path), '{dir}')}")  # the catalogue in docs/reliability.md
    for pattern in case.expect:
        assert pattern.replace("{dir}", str(tmp_path)) in errors[0], (pattern, errors[0])
    for text in case.absent:
        assert text.replace("{dir}", str(tmp_path)) not in result.output, (text, result.output)
    assert snapshot(tmp_path) == before, "the failed command changed files"
    assert case.needs_run or not run.exists(), "the failed command left an empty run folder"


def in_subprocess(case: BadInput, args: list[str], folder: Path) -> SimpleNamespace:
    """`python -m dynrec_cli ARGS` under the case's resource limits and environment (a file-size
    limit is an EFBIG error, not a signal: SIGXFSZ is ignored as a shell's ulimit -f leaves it)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key, value in case.env.items():
        value = value.replace("{dir}", str(folder))
        env[key] = os.pathsep.join(filter(None, [value, env.get(key, "")])) if key == "PYTHONPATH" else value

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for name, value in case.limits.items():
            resource.setrlimit(getattr(resource, name), (value, value))

    done = subprocess.run([sys.executable, "-m", "dynrec_cli", *args], cwd=REPO, env=env, preexec_fn=limit,
                          capture_output=True, text=True, timeout=600)
    return SimpleNamespace(exit_code=done.returncode, output=done.stdout + done.stderr)
