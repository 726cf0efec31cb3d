"""A full write queue answers 503 with Retry-After at once, while reads go on; nothing queued is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.serve.conftest import copy_run, start_server

pytestmark = pytest.mark.slow


def queue_depth(server) -> float:
    text = server.get("/metrics").body
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith("dynrec_queue_depth")))


def test_a_full_queue_is_a_503_with_retry_after(sample_run: Path, tmp_path: Path) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    # one waiting write at most, and a writer that rests 3 s after each batch: deterministic
    server = start_server(run, "serve.queue=1", "serve.write_pause_ms=3000")
    try:
        first = server.post("/events", [{"user_id": "100", "item_id": "1"}])
        assert first.status == 200  # answered; the writer now rests
        queued: list = []
        waiting = threading.Thread(target=lambda: queued.append(server.post("/events", [{"user_id": "118", "item_id": "1"}])))
        waiting.start()
        deadline = time.monotonic() + 10
        while queue_depth(server) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        refused = server.post("/events", [{"user_id": "130", "item_id": "1"}])
        assert refused.status == 503 and refused.body["field"] == "queue"
        assert int(refused.headers["retry-after"]) >= 1 and "\n" not in refused.body["error"]
        assert server.get("/recommendations/100?k=3").status == 200  # reads do not wait for the writer
        waiting.join(timeout=30)
        assert queued[0].status == 200  # the queued batch was applied
        assert server.get("/health").body["events_applied"] == 2
    finally:
        assert server.stop() == 0
