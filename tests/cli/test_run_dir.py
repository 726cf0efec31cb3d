"""The run folder as users give it: a file, an unwritable or full disk, a refused command, a typo."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

MISSING_LOG = ["data=csv", "data.interactions=/nonexistent/log.csv"]


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return " ".join(result.output.split())  # rich may wrap the line in the captured output


@pytest.mark.parametrize("inside", [False, True], ids=["file", "below-a-file"])
def test_run_dir_that_is_a_file_exits_2(cli, tmp_path: Path, inside: bool) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    run_dir = afile / "run" if inside else afile
    message = one_error(cli("train", "model=pop", f"run_dir={run_dir}"))
    assert str(run_dir) in message and "is a file" in message
    assert afile.read_text() == "keep me\n" and sorted(os.listdir(tmp_path)) == ["afile"]


@pytest.mark.parametrize("where", ["mkdir", "probe"])
def test_read_only_run_folder_exits_2(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    run_dir = tmp_path / "ro" / "run"

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(run_dir))

    if where == "mkdir":
        monkeypatch.setattr(Path, "mkdir", read_only)
    else:
        monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    message = one_error(cli("prepare", "model=pop", f"run_dir={run_dir}"))
    assert f"run_dir={run_dir}" in message and "Read-only file system" in message
    assert not (tmp_path / "ro").exists()  # what the command made is gone again


def test_read_only_stage_folder_exits_2(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit's case: the run folder exists, the stage's temporary folder cannot be made."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    real = tempfile.mkdtemp

    def mkdtemp(*args, dir=None, **kwargs):  # noqa: A002
        if dir is not None and Path(dir) == run_dir:
            raise OSError(errno.EROFS, "Read-only file system", str(Path(dir) / ".prepare.x1y2"))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    message = one_error(cli("prepare", "model=pop", f"run_dir={run_dir}"))
    assert str(run_dir) in message and "Read-only file system" in message
    assert run_dir.is_dir() and not any(run_dir.iterdir())  # an existing folder stays, untouched


def test_full_disk_during_a_stage_exits_2_and_leaves_nothing(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dynrec_cli.stages import STAGES

    def full(ctx, out: Path):
        (out / "events.parquet").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "events.parquet"))

    monkeypatch.setattr(STAGES["prepare"], "run", full)
    run_dir = tmp_path / "new"
    message = one_error(cli("prepare", "model=pop", f"run_dir={run_dir}"))
    assert "events.parquet" in message and "No space left on device" in message
    assert not run_dir.exists()


def test_refused_command_leaves_no_empty_run_folder(cli, tmp_path: Path) -> None:
    run_dir = tmp_path / "a" / "b"
    message = one_error(cli("prepare", *MISSING_LOG, f"run_dir={run_dir}"))
    assert "/nonexistent/log.csv" in message
    assert not (tmp_path / "a").exists()
    existing = tmp_path / "existing"  # a folder the user made is theirs: kept, even empty
    existing.mkdir()
    one_error(cli("prepare", *MISSING_LOG, f"run_dir={existing}"))
    assert existing.is_dir()


def test_refused_command_leaves_no_timestamped_folder(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # runs/prepare/<time> is made under the working folder
    one_error(cli("prepare", *MISSING_LOG))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("verb", ["evaluate", "rank", "capture"])
def test_verbs_on_a_missing_run_refuse_to_train(cli, tmp_path: Path, verb: str) -> None:
    run_dir = tmp_path / "typo"
    message = one_error(cli(verb, "model=pop", f"run_dir={run_dir}", "--force"))
    assert f"run_dir={run_dir}: no trained run" in message and f"dynrec train run_dir={run_dir}" in message
    assert not run_dir.exists()
    empty = tmp_path / "empty"  # a folder with no finished finetune stage: refused as well, left as it was
    empty.mkdir()
    assert "no trained run" in one_error(cli(verb, "model=pop", f"run_dir={empty}"))
    assert list(empty.iterdir()) == []


def test_evaluate_fail_under_on_a_missing_run_exits_2(cli, tmp_path: Path) -> None:
    """CI: a mistyped run_dir must not gate on a freshly trained model."""
    message = one_error(cli("evaluate", f"run_dir={tmp_path / 'nightyl'}", "model=pop", "--fail-under", "test/ndcg@10=0.01"))
    assert "no trained run" in message and "[finetune] running" not in message


def test_quoted_and_unquoted_run_dir_name_the_same_run(cli, tmp_path: Path) -> None:
    """Hydra reads `run_dir='a b'` as `a b`: so does the lookup of the run's recorded overrides,
    so a later command finds the run again (it used to compose the defaults and retrain a model)."""
    folder = tmp_path / "my runs" / "a b"
    trained = cli("train", f"run_dir='{folder}'", "model=pop", "eval.ks=[5]")
    assert trained.exit_code == 0, trained.output
    assert (folder / "finetune" / "manifest.json").is_file() and not (tmp_path / "'").exists()
    for form in (f"run_dir='{folder}'", f'run_dir="{folder}"', f"run_dir={folder}"):
        again = cli("evaluate", form)
        assert again.exit_code == 0 and "[finetune] up to date" in again.output, (form, again.output)
    same = cli("train", f'run_dir="{folder}"')
    assert same.exit_code == 0 and "[finetune] up to date" in same.output, same.output
