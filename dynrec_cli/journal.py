"""What one command changes in a run folder, so that a refused command can put it back.

A stage folder the command replaces is set aside (renamed, never copied) until the command ends;
the run folder's own files (config.json, metrics.json, reports, ...) are read into memory when
the command starts. A refusal (`rollback`) removes what the command made and renames every folder
back, so the run is byte for byte as it was; success or a crash (`keep`) deletes what was set
aside, so a crashed command keeps the stages it completed, as a `kill -9` would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

# what a command writes beside the stage folders: removed on rollback when the command made them
MADE_BY_A_COMMAND = ("finetune.resume", "tracking", "config.json", "overrides.json", "metrics.json", "report.md",
                     "report.html")


class RunJournal:
    """The undo record of one command on `run_dir` (rank 0 alone uses it under torchrun)."""

    def __init__(self, run_dir: Path, stage_names: tuple[str, ...]) -> None:
        self.run_dir = Path(run_dir)
        self.ours = {*stage_names, *MADE_BY_A_COMMAND}
        self.files = {p.name: p.read_bytes() for p in self.run_dir.iterdir() if p.is_file() and p.name in self.ours}
        self.before = {p.name for p in self.run_dir.iterdir()}
        self.set_aside: list[tuple[Path, Path, bool]] = []  # (where it was, where it is now, kept on success)

    def move_aside(self, path: Path, archive: Path | None = None) -> Path | None:
        """Rename `path` out of the way: a stage folder about to be replaced goes to a hidden sibling
        (deleted once the command succeeds), a store being archived to `archive` (kept). Returns the
        new place (None: nothing was there)."""
        path = Path(path)
        if not os.path.lexists(path):
            return None
        to = archive or path.with_name(f".{path.name}.undo-{os.getpid()}-{time.time_ns()}")
        os.replace(path, to)
        self.set_aside.append((path, to, archive is not None))
        return to

    def rollback(self) -> None:
        """Put the run folder back as the command found it."""
        for original, moved, _ in reversed(self.set_aside):
            _remove(original)
            os.replace(moved, original)
        self.set_aside.clear()
        for entry in self.run_dir.iterdir():
            if entry.name in self.ours and entry.name not in self.before:
                _remove(entry)
        for name, content in self.files.items():
            path = self.run_dir / name
            if not path.is_file() or path.read_bytes() != content:
                _remove(path)
                path.write_bytes(content)

    def keep(self) -> None:
        """The command's changes stay: delete what was set aside, archives excepted."""
        for _, moved, archived in self.set_aside:
            if not archived:
                _remove(moved)
        self.set_aside.clear()


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
