"""Errors a user can cause. The CLI prints them as one red line and exits with code 2."""

from __future__ import annotations

from pathlib import Path


class DynrecError(Exception):
    """Base class of the errors caused by input or configuration, never by a bug."""


class DataError(DynrecError):
    """Bad input data: names the file, and the row and column where it helps."""

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        message = f"{where}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)
        self.path, self.row, self.column = str(path), row, column


class ConfigError(DynrecError):
    """A configuration that cannot work: unknown key, wrong type or value out of range."""


class ArtifactError(DynrecError):
    """A run folder, checkpoint or cache that is missing, corrupted or from another run."""
