"""Which column of a capture file holds each role: a pure config function, checked before any
work (config_checks imports it without pandas)."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from dynrec_cli.errors import ConfigError

# capture reads the run's data.columns (changing them would retrain the run); capture.columns.<role> renames one for the file
SAME_COLUMNS = ("a capture file needs the columns of the log the run was trained on; where its names differ, "
                "map them with capture.columns.<role>=<column in the file>, e.g. capture.columns.item=movie")


def capture_columns(data: DictConfig, renamed: DictConfig | None) -> dict[str, str | None]:
    """The capture file's column of each role: capture.columns.<role>, else the run's data.columns.<role>.

    Raises:
        ConfigError: a role the run was trained without (data.columns.<role> null and no filter
            on it): nothing would read it.
    """
    columns = OmegaConf.to_container(data.columns)
    # presets (MovieLens, RecBole) read ratings and events without data.columns: a filter on them
    # (data.min_rating, data.events) is what says the run was trained with that role
    filtered = {"rating": data.min_rating is not None, "event": bool(data.events)}
    for role, column in (OmegaConf.to_container(renamed) if renamed is not None else {}).items():
        if column is None:
            continue
        if columns.get(role) is None and not filtered.get(role, False):
            raise ConfigError(f"capture.columns.{role}={column}: the run was trained without a {role} column "
                              f"(data.columns.{role} is null), so a capture file's {role} is never read; drop it")
        columns[role] = str(column)
    return columns
