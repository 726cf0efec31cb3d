"""`prepare`'s Arrow reading path (large logs) writes exactly what the pandas reader writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.readers import tables

TABLES = ("events.parquet", "items.parquet", "users.parquet", "stats.json")


def _log(folder: Path, blank_line: bool) -> tuple[Path, Path]:
    """A messy log: padded ids that merge, exact duplicates, tied timestamps, quoted commas."""
    rng = np.random.default_rng(0)
    n = 3000
    users = np.array([f"u{u}" if u % 7 else f" u{u} " for u in rng.integers(0, 60, n)])
    items = rng.integers(1, 80, n)
    times = 1_500_000_000 + rng.integers(0, 400, n)  # many ties: file order decides
    lines = [f'{u},{i},{t},"{r}"' for u, i, t, r in zip(users, items, times, rng.integers(1, 6, n))]
    lines += lines[:50]  # exact duplicates, dropped
    if blank_line:
        lines.insert(1000, "")
    events = folder / "events.csv"
    events.write_text("user_id,item_id,timestamp,stars\n" + "\n".join(lines) + "\n")
    catalogue = folder / "items.csv"
    catalogue.write_text("item_id,title\n" + "\n".join(f'{i},"Item {i}, vol. {i % 3}"' for i in range(1, 80)) + "\n")
    return events, catalogue


def _prepare(cli, run_dir: Path, events: Path, catalogue: Path) -> None:
    result = cli("prepare", f"run_dir={run_dir}", "data=csv", f"data.interactions={events}", f"data.items={catalogue}",
                 "data.columns.rating=stars", "data.min_rating=2", "data.max_seq_len=30")
    assert result.exit_code == 0, result.output


def test_arrow_path_writes_the_pandas_paths_tables(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []

    def spy(*args, **kwargs):
        table = fast(*args, **kwargs)
        taken.append(table is not None)
        return table

    fast = tables.read_csv_fast
    monkeypatch.setattr(tables, "read_csv_fast", spy)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _prepare(cli, tmp_path / "arrow", *_log(tmp_path / "a", blank_line=False))
    assert taken == [True, True]  # log and catalogue read by Arrow
    _prepare(cli, tmp_path / "pandas", *_log(tmp_path / "b", blank_line=True))
    assert taken[2:] == [False, True]  # a blank line: the log falls back to the pandas reader
    for name in TABLES:
        arrow, pandas = (tmp_path / run / "prepare" / name for run in ("arrow", "pandas"))
        if name.endswith(".json"):
            assert arrow.read_text() == pandas.read_text()
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(arrow), pd.read_parquet(pandas))


def test_arrow_path_names_the_line_of_a_bad_id(cli, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id,timestamp\n" + "".join(f"u{i % 5},{i % 9},{1_500_000_000 + i}\n" for i in range(40))
                      + ",3,1500000100\n")
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={events}")
    assert result.exit_code == 2
    assert "row 42, column 'user_id': empty or missing id" in result.output
