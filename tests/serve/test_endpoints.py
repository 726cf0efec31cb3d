"""Every endpoint of the real server, every class of bad input, auth, limits, metrics and the store lock."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.serve.conftest import TOKEN, TRAINED_USER, Server, copy_run, start_server

pytestmark = pytest.mark.slow
NEW_USER = "zq4fresh8visitor"


@pytest.fixture(scope="module")
def served(sample_run: Path, tmp_path_factory: pytest.TempPathFactory, cli_module) -> tuple[Server, Path, pd.DataFrame]:
    """The sample run (copy) served with a token and small limits; rank's lists written before, for comparison."""
    run = copy_run(sample_run, tmp_path_factory.mktemp("endpoints") / "run")
    assert cli_module("rank", f"run_dir={run}", "rank.k=10").exit_code == 0
    lists = pd.read_parquet(run / "rank" / "recommendations.parquet")
    server = start_server(run, "serve.max_events=5", "serve.max_body_mb=0.002", "serve.max_k=50", token=TOKEN)
    yield server, run, lists
    assert server.stop() == 0


@pytest.fixture(scope="module")
def cli_module():
    from typer.testing import CliRunner

    from dynrec_cli.cli import app
    from tests.conftest import REPO

    def run(*args: str):
        import os

        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            return CliRunner().invoke(app, list(args), catch_exceptions=False)
        finally:
            os.chdir(cwd)

    return run


def items_of(reply_body: dict) -> list[str]:
    return [row["item_id"] for row in reply_body["items"]]


def test_health_and_lists_equal_rank(served) -> None:
    server, run, lists = served
    health = server.get("/health")
    assert health.status == 200
    assert health.body == {"status": "ok", "model": "sasrec", "users": 300, "items": 1500, "events_applied": 0}
    for user in (TRAINED_USER, "100", "118"):
        reply = server.get(f"/recommendations/{user}?k=10")
        assert reply.status == 200 and reply.body["cold"] is False
        expected = lists[lists["user_id"].astype(str) == user].sort_values("rank")["item_id"].astype(str).tolist()
        assert items_of(reply.body) == expected
        assert all(row["title"] for row in reply.body["items"]) and [r["rank"] for r in reply.body["items"]] == list(range(1, 11))


def test_events_move_the_interest_and_the_seen_item_leaves_the_list(served) -> None:
    server, _, _ = served
    before = server.get("/recommendations/118?k=10").body
    top = before["items"][0]["item_id"]
    reply = server.post("/events", [{"user_id": "118", "item_id": top}, {"user_id": 118, "item_id": int(top)}])
    assert reply.status == 200 and reply.body == {"applied": 2, "received": 2}
    after = server.get("/recommendations/118?k=10").body
    assert top not in items_of(after) and after["items"] != before["items"]
    assert server.get("/health").body["events_applied"] == 2


def test_unknown_users_get_popular_items_then_their_own_list(served) -> None:
    server, _, _ = served
    cold = server.get(f"/recommendations/{NEW_USER}?k=5")
    assert cold.status == 200 and cold.body["cold"] is True and len(cold.body["items"]) == 5
    scores = [row["score"] for row in cold.body["items"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0  # the most consumed item first
    assert server.post("/events", [{"user_id": NEW_USER, "item_id": "1", "timestamp": "2020-05-01T10:00:00Z"}]).status == 200
    warm = server.get(f"/recommendations/{NEW_USER}?k=5").body
    assert warm["cold"] is False and "1" not in items_of(warm)
    assert server.get("/health").body["users"] == 301


def test_rank_options_as_query_parameters(served) -> None:
    server, _, _ = served
    filtered = server.get("/recommendations/100?k=20&strategies=filter&exclude_categories=Drama,Comedy").body
    genres = pd.read_parquet(served[1] / "prepare" / "items.parquet").set_index("item_id")["genres"]
    assert len(filtered["items"]) == 20
    assert not any(("Drama" in genres[i]) or ("Comedy" in genres[i]) for i in items_of(filtered))
    some = genres.index[:4].tolist()
    allowed = server.get(f"/recommendations/100?k=3&strategies=filter&allow_items={','.join(some)}").body
    assert len(allowed["items"]) == 3 and set(items_of(allowed)) <= set(some)
    diverse = server.get("/recommendations/100?k=10&strategies=mmr&mmr_lambda=0.2").body
    assert items_of(diverse) != items_of(server.get("/recommendations/100?k=10").body)
    explained = server.get("/recommendations/100?k=3&explain=true&explain_items=1").body
    assert all(len(row["because_ids"]) <= 1 and row["because"].startswith("because you watched") for row in explained["items"])
    seen = server.get("/recommendations/100?k=50&exclude_seen=false").body
    assert len(seen["items"]) == 50


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("POST", "/events", b"[{\"user_id\": 1,", 400, "body"),
    ("POST", "/events", {"user_id": "1"}, 422, "events"),
    ("POST", "/events", [], 422, "events"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1"}, 7], 422, "events[1]"),
    ("POST", "/events", [{"item_id": "1"}], 422, "events[0].user_id"),
    ("POST", "/events", [{"user_id": "1"}], 422, "events[0].item_id"),
    ("POST", "/events", [{"user_id": "1", "item_id": "no-such-item"}], 422, "events[0].item_id"),
    ("POST", "/events", [{"user_id": "", "item_id": "1"}], 422, "events[0].user_id"),
    ("POST", "/events", [{"user_id": "NaN", "item_id": "1"}], 422, "events[0].user_id"),
    ("POST", "/events", [{"user_id": {"a": 1}, "item_id": "1"}], 422, "events[0].user_id"),
    ("POST", "/events", [{"user_id": "1", "item_id": True}], 422, "events[0].item_id"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1", "timestamp": "yesterday-ish"}], 422, "events[0].timestamp"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1", "timestamp": -5}], 422, "events[0].timestamp"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1", "timestamp": 4102444800}], 422, "events[0].timestamp"),
    ("POST", "/events", [{"user_id": "100", "item_id": "1", "timestamp": 1}], 422, "events[0].timestamp"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1"}] * 6, 413, "events"),
    ("POST", "/events", [{"user_id": "1", "item_id": "1", "pad": "x" * 3000}], 413, "body"),
    ("POST", "/items", [{"item_id": "new-movie", "title": "New"}], 409, "items"),
    ("GET", "/recommendations/100?k=0", None, 422, "k"),
    ("GET", "/recommendations/100?k=51", None, 422, "k"),
    ("GET", "/recommendations/100?k=ten", None, 422, "k"),
    ("GET", "/recommendations/100?kk=3", None, 422, "kk"),
    ("GET", "/recommendations/100?strategies=bogus", None, 422, "strategies"),
    ("GET", "/recommendations/100?mmr_lambda=2&strategies=mmr", None, 422, "mmr_lambda"),
    ("GET", "/recommendations/100?explain=perhaps", None, 422, "explain"),
    ("GET", "/recommendations/100?exclude_categories=Drama", None, 422, "exclude_categories"),
    ("GET", "/recommendations/100?strategies=filter&category_column=nope&exclude_categories=x", None, 422, "category_column"),
    ("GET", "/recommendations/100?strategies=filter&allow_items=no-such-item", None, 422, "allow_items"),
    ("GET", "/recommendations/%20", None, 422, "user_id"),
    ("DELETE", "/users/never-seen-user", None, 404, "user_id"),
    ("GET", "/nowhere", None, 404, "path"),
    ("PUT", "/events", None, 405, "path"),
])
def test_bad_input_is_a_one_line_4xx_naming_the_field(served, method, path, body, status, field) -> None:
    server = served[0]
    reply = server.request(method, path, raw=body if isinstance(body, bytes) else None, body=None if isinstance(body, bytes) else body)
    assert reply.status == status, reply.body
    assert reply.body["field"] == field
    assert reply.body["error"].startswith(f"{field}: ") and "\n" not in reply.body["error"] and "Traceback" not in reply.body["error"]


def test_unknown_item_names_it(served) -> None:
    reply = served[0].post("/events", [{"user_id": "1", "item_id": "1"}, {"user_id": "1", "item_id": "zz-missing"}])
    assert reply.status == 422 and reply.body["field"] == "events[1].item_id" and "'zz-missing'" in reply.body["error"]


def test_writes_need_the_token_reads_do_not(served) -> None:
    server = served[0]
    for method, path, body in (("POST", "/events", [{"user_id": "1", "item_id": "1"}]), ("POST", "/items", [{"item_id": "x"}]),
                               ("DELETE", "/users/100", None)):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            reply = server.request(method, path, body, headers=headers, auth=False)
            assert reply.status == 401 and reply.body["field"] == "Authorization", (method, headers)
            assert reply.headers["www-authenticate"] == "Bearer"
    assert server.get("/recommendations/100", auth=False).status == 200
    assert server.get("/health", auth=False).status == 200


def test_metrics_and_access_log(served) -> None:
    server = served[0]
    server.get("/recommendations/100?k=3")
    text = server.get("/metrics").body
    assert 'dynrec_requests_total{method="GET",route="/recommendations/{user_id}",status="200"}' in text
    assert 'dynrec_request_seconds_bucket{le="0.005",method="GET",route="/recommendations/{user_id}"}' in text
    assert 'dynrec_requests_total{method="POST",route="/events",status="422"}' in text
    applied = float(next(line.split()[1] for line in text.splitlines() if line.startswith("dynrec_events_applied_total")))
    assert applied == server.get("/health").body["events_applied"] > 0
    assert "dynrec_queue_depth 0.0" in text and "dynrec_store_users" in text
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith('{"ts"')]
    assert {"method", "path", "route", "status", "ms", "client"} <= set(lines[-1])
    assert any(line["route"] == "/recommendations/{user_id}" and line["status"] == 200 for line in lines)


def test_the_store_is_locked_while_serving(served, cli_module, tmp_path: Path) -> None:
    server, run, _ = served
    (tmp_path / "events.csv").write_text("user_id,item_id,timestamp\n100,1,1600000000\n")
    for args in (("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}"),
                 ("rank", f"run_dir={run}", "rank.k=7"), ("forget", f"run_dir={run}", "user=100")):
        result = cli_module(*args)
        assert result.exit_code == 2, result.output
        assert "in use by dynrec serve on http://127.0.0.1" in " ".join(result.output.split())
    assert server.get("/health").status == 200


def test_an_unexpected_failure_is_a_one_line_500_with_the_traceback_in_the_log(served) -> None:
    server, run, _ = served
    (run / "forgotten.json").mkdir()  # the tombstone file cannot be written: not a user's fault
    try:
        reply = server.delete("/users/100")
    finally:
        (run / "forgotten.json").rmdir()
    assert reply.status == 500 and reply.body["field"] == "server" and "\n" not in reply.body["error"]
    assert "Traceback" not in json.dumps(reply.body)
    assert "Traceback" in server.log() and "forgotten.json: cannot be read (Is a directory)" in " ".join(server.log().split())
    assert server.get("/recommendations/100").status == 200  # the server goes on
