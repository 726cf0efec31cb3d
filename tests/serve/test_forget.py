"""DELETE /users/{id} and `dynrec forget`: the user nowhere in the run folder, and left out of a retrain."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dynrec_cli.capture.store import FORGOTTEN
from tests.serve.conftest import TOKEN, TRAINED_USER, copy_run, start_server

pytestmark = pytest.mark.slow
GONE = "zq3gone6visitor"  # a user who only ever came through capture and serve
OTHER = "zq5other2visitor"


def names(path: Path, user_id: str) -> bool:
    """Whether a file holds the id: its bytes, and for Parquet (compressed pages) every text cell too."""
    if user_id.encode() in path.read_bytes():
        return True
    if path.suffix != ".parquet":
        return False
    table = pd.read_parquet(path)
    return any(table[c].astype(str).str.contains(user_id, regex=False).any() for c in table.columns)


def files_naming(folder: Path, user_id: str) -> list[str]:
    """Every file under `folder` that holds the id (hidden files, journal, snapshots included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and names(p, user_id))


def test_delete_leaves_no_trace_and_a_retrain_leaves_the_user_out(sample_run: Path, tmp_path: Path, cli) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    items = pd.read_parquet(run / "prepare" / "items.parquet")["item_id"].astype(str).tolist()
    # the CLI first: the user in a capture report (drift tables, top movers) and in rank's lists
    rows = "".join(f"{u},{items[i * 17]},{1_600_000_000 + i}\n" for i in range(12) for u in (GONE, OTHER, "100"))
    (tmp_path / "events.csv").write_text("user_id,item_id,timestamp\n" + rows)
    assert cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}").exit_code == 0
    assert cli("rank", f"run_dir={run}").exit_code == 0
    found = files_naming(run, GONE)
    assert {"store/captures/001/drift.csv", "rank/recommendations.parquet"} <= set(found)
    assert any(name.startswith("store/gen-") and name.endswith("users.parquet") for name in found)

    server = start_server(run, token=TOKEN)
    later = [{"user_id": u, "item_id": items[5], "timestamp": 1_700_000_000} for u in (GONE, OTHER)]
    assert server.post("/events", later).status == 200
    assert files_naming(run / "store" / "journal", GONE)  # acknowledged, in the journal
    reply = server.delete(f"/users/{GONE}")
    assert reply.status == 200 and reply.body == {"forgotten": GONE}
    assert files_naming(run, GONE) == []  # while serving: store, snapshots, segments, reports, journal, rank lists
    assert server.get(f"/recommendations/{GONE}").body["cold"] is True
    assert server.delete(f"/users/{GONE}").status == 200  # again: nothing left to do, still 200
    assert server.get(f"/recommendations/{OTHER}").body["cold"] is False
    assert server.stop() == 0
    assert files_naming(run, GONE) == []
    tombstones = json.loads((run / "forgotten.json").read_text())
    assert len(tombstones["users"]) == 1 and GONE not in json.dumps(tombstones)
    users = pd.read_parquet(next((run / "store").glob("gen-*")) / "users.parquet")
    assert users["user_id"].str.startswith(FORGOTTEN).sum() == 1 and len(users) == 302

    # offline: a user of the training data; a server left the store, so `dynrec forget` works on it
    refused = cli("forget", f"run_dir={run}", "user=no-such-user-anywhere")
    assert refused.exit_code == 2 and "not in the run's data" in " ".join(refused.output.split())
    done = cli("forget", f"run_dir={run}", f"user={TRAINED_USER}")
    assert done.exit_code == 0, done.output
    assert files_naming(run / "store", TRAINED_USER) == []
    assert cli("rank", f"run_dir={run}").exit_code == 0  # the run is still read as trained until it is retrained
    assert TRAINED_USER not in set(pd.read_parquet(run / "rank" / "recommendations.parquet")["user_id"])

    # retrain: the store belongs to the old model, so a retrain is refused, changing nothing, unless it archives the store
    refused = cli("train", f"run_dir={run}")
    assert refused.exit_code == 2 and "capture.on_retrain=archive" in " ".join(refused.output.split())
    assert (run / "store" / "store.json").is_file()
    retrained = cli("train", f"run_dir={run}", "capture.on_retrain=archive")
    assert retrained.exit_code == 0, retrained.output
    assert "forgotten users left out" in " ".join(retrained.output.split())
    assert TRAINED_USER not in set(pd.read_parquet(run / "prepare" / "users.parquet")["user_id"])
    assert files_naming(run, TRAINED_USER) == [] and files_naming(run, GONE) == []
