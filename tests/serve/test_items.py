"""POST /items on a text model: encoded with the run's encoder and adapter, rankable at once, durable."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from tests.serve.conftest import copy_run, start_server

pytestmark = pytest.mark.slow
NEW = [{"item_id": "zq-new-film-1", "title": "Space Detectives", "genres": "Sci-Fi|Mystery"},
       {"item_id": "zq-new-film-2", "title": "Kitchen Romance", "genres": "Romance|Comedy"}]


def store_tensors(folder: Path) -> dict[str, torch.Tensor]:
    meta = json.loads((folder / "store.json").read_text())
    return load_file(str(folder / f"gen-{meta['generation']:06d}" / "state.safetensors"))


def test_new_items_are_rankable_at_once_and_match_capture(text_run: Path, tmp_path: Path, cli) -> None:
    run, twin = copy_run(text_run, tmp_path / "run"), copy_run(text_run, tmp_path / "twin")
    server = start_server(run)
    try:
        bad = server.post("/items", [{"title": "no id"}])
        assert bad.status == 422 and bad.body["field"] == "items[0].item_id"
        known = pd.read_parquet(run / "prepare" / "items.parquet")["item_id"].astype(str).iloc[0]
        reply = server.post("/items", [*NEW, {"item_id": known, "title": "already there"}])
        assert reply.status == 200 and reply.body["added"] == 2 and reply.body["known"] == 1
        ids = ",".join(item["item_id"] for item in NEW)
        ranked = server.get(f"/recommendations/100?k=2&strategies=filter&allow_items={ids}").body
        assert sorted(r["item_id"] for r in ranked["items"]) == sorted(item["item_id"] for item in NEW)
        assert {r["title"] for r in ranked["items"]} == {"Space Detectives", "Kitchen Romance"}
        assert server.post("/events", [{"user_id": "100", "item_id": NEW[0]["item_id"]}]).status == 200
        explained = server.get("/recommendations/100?k=3&explain=true").body["items"]
        assert any(NEW[0]["item_id"] in row["because_ids"] for row in explained) or all("because" in row for row in explained)
    finally:
        server.kill9()
    meta = json.loads((run / "store" / "store.json").read_text())  # committed before the 200: a kill -9 keeps them
    assert pd.read_parquet(run / "store" / f"gen-{meta['generation']:06d}" / "items.parquet")["item_id"].tail(2).tolist() == ids.split(",")
    pd.DataFrame(NEW).to_csv(tmp_path / "new.csv", index=False)
    assert cli("capture", f"run_dir={twin}", f"capture.items={tmp_path / 'new.csv'}").exit_code == 0
    served, captured = store_tensors(run / "store")["items"], store_tensors(twin / "store")["items"]
    torch.testing.assert_close(served[-2:], captured[-2:])
