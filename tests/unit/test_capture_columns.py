"""A capture file without one of the run's columns: the advice is what capture can act on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from dynrec_cli.capture.events import read_events
from dynrec_cli.errors import DataError


def test_missing_time_column_does_not_suggest_a_key_capture_refuses(tmp_path: Path) -> None:
    path = tmp_path / "today.csv"
    path.write_text("user_id,item_id\nu1,i1\n")
    data = OmegaConf.create({"sep": None, "encoding": None, "min_rating": None, "events": None, "columns": {
        "user": "user_id", "item": "item_id", "time": "timestamp", "rating": None, "event": None}})
    with pytest.raises(DataError) as info:
        read_events(path, data, pd.Series(["i1"]))
    message = str(info.value)
    assert "today.csv" in message and "no column 'timestamp'" in message
    assert "set data.columns" not in message and "columns of the log the run was trained on" in message


def test_a_rating_column_is_accepted_where_the_run_filtered_on_ratings() -> None:
    from omegaconf import OmegaConf

    from dynrec_cli.capture.columns import capture_columns
    from dynrec_cli.errors import ConfigError

    columns = {"user": "user_id", "item": "item_id", "time": "timestamp", "rating": None, "event": None}
    preset = OmegaConf.create({"columns": columns, "min_rating": 4.0, "events": None})  # data=movielens data.min_rating=4
    renamed = OmegaConf.create({"user": "userId", "item": "movieId", "rating": "rating"})
    assert capture_columns(preset, renamed)["rating"] == "rating"
    with pytest.raises(ConfigError, match="trained without a rating column"):
        capture_columns(OmegaConf.create({**OmegaConf.to_container(preset), "min_rating": None}), renamed)


def test_one_capture_column_for_two_roles_is_refused(tmp_path: Path) -> None:
    from dynrec_cli.cli._hydra import compose_config
    from dynrec_cli.config_checks import validate_config
    from dynrec_cli.errors import ConfigError

    cfg = compose_config("capture", ["capture.columns.user=who", "capture.columns.item=who", f"run_dir={tmp_path}"])
    with pytest.raises(ConfigError, match=r"capture.columns.item=who is also capture.columns.user"):
        validate_config(cfg)
