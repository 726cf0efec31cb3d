"""`rank.filter.exclude_categories` splits categories the way each preset stored them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dynrec_cli.data.readers import read_dataset
from dynrec_cli.data.store import load_prepared
from dynrec_cli.ranking.features import allowed_items

pytestmark = pytest.mark.slow
# 24 items, every third one a horror film, alone or with another genre
GENRES = ["Horror|Thriller", "Comedy", "Drama|Romance", "Horror", "Action|Sci-Fi", "Comedy|Drama"]
HORROR = {f"i{i}" for i in range(24) if i % 3 == 0}
EVENTS = [(f"u{u}", f"i{(u * 5 + k * 3) % 24}", 1_000_000 + 60 * k) for u in range(20) for k in range(8)]
POP = ["model=pop", "trainer=tiny", "eval.ks=[5]"]
FILTER = ["rank.strategies=[filter]", "rank.filter.exclude_categories=[Horror]", "rank.k=5", "rank.format=csv"]


def write_recbole(folder: Path) -> Path:
    """RecBole atomic files: token_seq values are space-separated."""
    folder.mkdir()
    (folder / f"{folder.name}.item").write_text("item_id:token\ttitle:token_seq\tgenre:token_seq\n" + "".join(
        f"i{i}\tFilm {i}\t{GENRES[i % 6].replace('|', ' ')}\n" for i in range(24)))
    (folder / f"{folder.name}.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\n" + "".join(
        f"{u}\t{i}\t{t}\n" for u, i, t in EVENTS))
    return folder


def write_csv(folder: Path) -> tuple[Path, Path]:
    """A generic log and catalogue, genres as MovieLens files keep them ("Horror|Thriller")."""
    folder.mkdir()
    log, items = folder / "log.csv", folder / "items.csv"
    log.write_text("user_id,item_id,timestamp\n" + "".join(f"{u},{i},{t}\n" for u, i, t in EVENTS))
    items.write_text("item_id,title,genres\n" + "".join(f"i{i},Film {i},{GENRES[i % 6]}\n" for i in range(24)))
    return log, items


def lists(cli, run: Path, data: list[str], *overrides: str) -> pd.DataFrame:
    for verb in ("finetune", "rank"):  # rank reads a trained model
        result = cli(verb, f"run_dir={run}", *data, *POP, *(overrides if verb == "rank" else ()))
        assert result.exit_code == 0, result.output
    return pd.read_csv(run / "rank" / "recommendations.csv", dtype={"item_id": str})


def test_recbole_token_seq_categories_are_split_on_spaces(cli, tmp_path: Path) -> None:
    data = ["data=recbole", f"data.path={write_recbole(tmp_path / 'tiny')}"]
    assert lists(cli, tmp_path / "run", data, "rank.k=5", "rank.format=csv")["item_id"].isin(HORROR).any()
    table = lists(cli, tmp_path / "run", data, *FILTER, "rank.filter.category_column=genre")
    assert not table["item_id"].isin(HORROR).any() and table.groupby("user_id").size().eq(5).all()


def test_csv_categories_keep_the_pipe_default(cli, tmp_path: Path) -> None:
    log, items = write_csv(tmp_path / "csv")
    data = ["data=csv", f"data.interactions={log}", f"data.items={items}", "data.min_item_interactions=1"]
    assert lists(cli, tmp_path / "run", data, "rank.k=5", "rank.format=csv")["item_id"].isin(HORROR).any()
    table = lists(cli, tmp_path / "run", data, *FILTER)
    assert not table["item_id"].isin(HORROR).any() and table.groupby("user_id").size().eq(5).all()


def test_every_preset_records_how_it_joined_categories(tmp_path: Path) -> None:
    common = dict(interactions=None, items=None, columns={}, item_id_column=None, text_fields=None, sep=None,
                  encoding=None)
    sample = read_dataset("movielens", str(Path(__file__).parents[2] / "data/samples/ml-latest-small"), **common)
    assert sample.category_separators == {"genres": ", "}
    assert sample.items["genres"].str.contains(", ", regex=False).any()
    recbole = read_dataset("recbole", str(write_recbole(tmp_path / "tiny")), **common)
    assert recbole.category_separators == {"title": " ", "genre": " "}
    log, items = write_csv(tmp_path / "csv")
    csv = read_dataset("csv", None, **{**common, "interactions": str(log), "items": str(items),
                                       "columns": {"user": "user_id", "item": "item_id", "time": "timestamp"}})
    assert csv.category_separators == {}


def test_one_value_columns_are_not_split() -> None:
    items = pd.DataFrame({"item_idx": [1, 2, 3], "item_id": ["a", "b", "c"],
                          "brand": ["Acme|Co", "Acme", "Other Brand"]})
    keep = allowed_items(items, ["Acme"], "brand", "", None)
    assert keep.tolist() == [False, True, False, True]
    keep = allowed_items(items, ["Other Brand"], "brand", "", None)
    assert keep.tolist() == [False, True, True, False]


def test_prepare_folder_from_before_the_record_still_splits_movielens_genres(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("prepare", f"run_dir={run}", "data=sample").exit_code == 0
    stage = run / "prepare"
    assert load_prepared(stage).category_separators == {"genres": ", "}
    # dataset.json as older versions wrote it (no category_separators), manifest hash kept in step
    facts = stage / "dataset.json"
    facts.write_text(json.dumps({"has_time": True}))
    manifest = json.loads((stage / "manifest.json").read_text())
    from dynrec_cli.artifacts import file_hash

    manifest["outputs"]["dataset.json"] = file_hash(facts)
    (stage / "manifest.json").write_text(json.dumps(manifest))
    assert load_prepared(stage).category_separators == {"genres": ", "}
