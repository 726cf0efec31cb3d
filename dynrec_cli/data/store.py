"""Writing and reading the prepared data set (Parquet tables + JSON facts)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dynrec_cli import artifacts
from dynrec_cli.data.types import PreparedData

EVENTS, ITEMS, USERS, FACTS = "events.parquet", "items.parquet", "users.parquet", "dataset.json"


def save_prepared(data: PreparedData, folder: Path) -> None:
    data.events.to_parquet(folder / EVENTS, index=False)
    data.items.to_parquet(folder / ITEMS, index=False)
    data.users.to_parquet(folder / USERS, index=False)
    artifacts.write_json(folder / FACTS, {"has_time": data.has_time})


def load_prepared(stage_dir: Path) -> PreparedData:
    """Read the tables back, refusing any whose hash differs from the manifest."""
    read = lambda name: pd.read_parquet(artifacts.verified_file(stage_dir, name))  # noqa: E731
    facts = artifacts.read_json(artifacts.verified_file(stage_dir, FACTS))
    return PreparedData(
        events=read(EVENTS), items=read(ITEMS), users=read(USERS), has_time=bool(facts["has_time"])
    )
