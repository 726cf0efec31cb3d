"""kill -9 during a stream of acknowledged events loses none of them; the CLI and the server share one store.

One flow (each start of the server costs seconds): a CLI capture while no server runs, served by the
next start; a stream of events, kill -9, the CLI refused while the journal holds acknowledged events,
restart (replay), and the lists compared with a `dynrec capture` replay of the same events on a copy.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.serve.conftest import copy_run, start_server

pytestmark = pytest.mark.slow
STREAM_USERS = ["100", "118", "zq1stream5user", "130", "zq2stream6user"]
START = 1_600_000_000


def stream(items: list[str], batches: int) -> list[list[dict]]:
    """Batches of 3 events, in time order, cycling through the users (two of them new)."""
    out, clock = [], START
    for b in range(batches):
        batch = []
        for j in range(3):
            clock += 7
            batch.append({"user_id": STREAM_USERS[(b + j) % len(STREAM_USERS)], "item_id": items[(b * 3 + j) * 13 % len(items)],
                          "timestamp": clock})
        out.append(batch)
    return out


def served_events(run: Path) -> list[tuple[str, str, int]]:
    """(user_id, item_id, unix seconds) of every event the server applied, from the committed store
    (which keeps times as int64 nanoseconds)."""
    folder = run / "store"
    meta = json.loads((folder / "store.json").read_text())
    generation = folder / f"gen-{meta['generation']:06d}"
    rows = pd.concat([pd.read_parquet(folder / name) for name in meta["segments"]], ignore_index=True)
    rows = rows[rows["capture"] == 0]  # applied by the server
    users = pd.read_parquet(generation / "users.parquet")["user_id"].to_numpy()
    items = pd.read_parquet(generation / "items.parquet")["item_id"].to_numpy()
    return list(zip(users[rows["user_idx"]].tolist(), items[rows["item_idx"] - 1].tolist(), (rows["time"] // 10**9).tolist()))


def test_kill_9_loses_no_acknowledged_event_and_the_cli_shares_the_store(sample_run: Path, tmp_path: Path, cli) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    items = pd.read_parquet(run / "prepare" / "items.parquet")["item_id"].astype(str).tolist()
    # a capture by the CLI while no server runs: the store the server starts from
    rows = "".join(f"118,{items[i * 31]},{START - 1000 + i}\n" for i in range(8))
    (tmp_path / "cli.csv").write_text("user_id,item_id,timestamp\n" + rows)
    assert cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'cli.csv'}").exit_code == 0
    assert cli("rank", f"run_dir={run}", "rank.users=[118]", "rank.k=10").exit_code == 0
    captured = pd.read_parquet(run / "rank" / "recommendations.parquet").sort_values("rank")["item_id"].astype(str).tolist()
    replay = copy_run(run, tmp_path / "replay")  # the same store, for the capture replay below

    server = start_server(run, "serve.checkpoint_every=1000000")  # nothing committed: every event stays in the journal
    assert [r["item_id"] for r in server.get("/recommendations/118?k=10").body["items"]] == captured
    sent, acked = stream(items, 400), []

    def client() -> None:
        for batch in sent:
            try:
                reply = server.post("/events", batch, timeout=10)
            except OSError:  # the server is gone
                return
            assert reply.status == 200, reply.body
            acked.append(batch)

    thread = threading.Thread(target=client)
    thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill9()  # while the client is still sending
    thread.join(timeout=30)
    assert 40 <= len(acked) < len(sent)
    meta = json.loads((run / "store" / "store.json").read_text())
    assert meta.get("journal_seq", 0) == 0 and list((run / "store" / "journal").glob("*.jsonl"))
    (tmp_path / "later.csv").write_text(f"user_id,item_id,timestamp\n100,{items[0]},{START + 10**6}\n")
    refused = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'later.csv'}")
    assert refused.exit_code == 2 and "acknowledged by dynrec serve are not in the store yet" in " ".join(refused.output.split())

    server = start_server(run)  # replays the journal
    assert "replayed" in server.log()
    lists = {u: [r["item_id"] for r in server.get(f"/recommendations/{u}?k=10").body["items"]] for u in STREAM_USERS}
    assert server.stop() == 0
    assert not list((run / "store" / "journal").glob("*.jsonl"))  # a clean stop commits and empties the journal

    applied = served_events(run)
    flat = [(e["user_id"], e["item_id"], e["timestamp"]) for batch in sent for e in batch]
    acknowledged = sum(len(b) for b in acked)
    assert applied == flat[: len(applied)] and len(applied) in (acknowledged, acknowledged + 3)  # + the batch in flight
    pd.DataFrame(applied, columns=["user_id", "item_id", "timestamp"]).to_csv(tmp_path / "applied.csv", index=False)
    assert cli("capture", f"run_dir={replay}", f"capture.events={tmp_path / 'applied.csv'}").exit_code == 0
    users = "[" + ",".join(STREAM_USERS) + "]"
    assert cli("rank", f"run_dir={replay}", f"rank.users={users}", "rank.k=10").exit_code == 0
    ranked = pd.read_parquet(replay / "rank" / "recommendations.parquet")
    for user in STREAM_USERS:
        assert lists[user] == ranked[ranked["user_id"] == user].sort_values("rank")["item_id"].astype(str).tolist(), user
