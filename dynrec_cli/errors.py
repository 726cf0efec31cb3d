"""Errors a user can cause. The CLI prints them as one red line and exits with their `exit_code`
(2 for bad input, 1 for a failed gate); the Python API raises them as they are."""

from __future__ import annotations

from pathlib import Path


class DynrecError(Exception):
    """Base class of the errors caused by input or configuration, never by a bug.

    `str(error)` is the one line the CLI prints; `exit_code` is the code it exits with."""

    exit_code: int = 2


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


class GateFailed(DynrecError):
    """`evaluate` ran, and a figure is below a `fail_under` limit or dropped more than `max_drop`
    allows against the baseline. `failures` holds one line per failed gate; `metrics` the run's."""

    exit_code = 1

    def __init__(self, failures: list[str], metrics: dict[str, float]) -> None:
        super().__init__(f"gate failed: {'; '.join(failures)}")
        self.failures, self.metrics = list(failures), dict(metrics)
