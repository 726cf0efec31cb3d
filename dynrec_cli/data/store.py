"""Writing and reading the prepared data set (Parquet tables + JSON facts)."""

from __future__ import annotations

from pathlib import Path

from dynrec_cli import artifacts, run_files
from dynrec_cli.data.types import PreparedData

EVENTS, ITEMS, USERS, FACTS = "events.parquet", "items.parquet", "users.parquet", "dataset.json"


def save_prepared(data: PreparedData, folder: Path) -> None:
    data.events.to_parquet(folder / EVENTS, index=False)
    data.items.to_parquet(folder / ITEMS, index=False)
    data.users.to_parquet(folder / USERS, index=False)
    artifacts.write_json(folder / FACTS, {"has_time": data.has_time, "category_separators": data.category_separators})


def load_prepared(stage_dir: Path) -> PreparedData:
    """Read the tables back, refusing any whose hash differs from the manifest."""
    read = lambda name: run_files.read_table(artifacts.verified_file(stage_dir, name))  # noqa: E731
    facts = run_files.read_json(artifacts.verified_file(stage_dir, FACTS), run_files.FACTS)
    separators = facts.get("category_separators")
    if separators is None:
        separators = _legacy_separators(stage_dir)
    return PreparedData(
        events=read(EVENTS), items=read(ITEMS), users=read(USERS), has_time=bool(facts["has_time"]),
        category_separators=dict(separators),
    )


def _legacy_separators(stage_dir: Path) -> dict[str, str]:
    """A prepare folder written before dataset.json recorded separators: the MovieLens reader
    stored genres as "Action, Horror" then too, so say so; other formats kept the file's text."""
    from dynrec_cli.data.readers.movielens import GENRE_SEPARATOR

    manifest = artifacts.load_manifest(stage_dir) or {}
    data = manifest.get("config", {}).get("data") or {}
    return {"genres": GENRE_SEPARATOR} if data.get("format") == "movielens" else {}
