"""DynRec's text match (`model.text_match`) through the CLI: its weight is picked on the valid split,
it helps where the text predicts the next item, and the widened vectors work in rank and capture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.test_text_models import TINY_DYNREC

pytestmark = pytest.mark.slow
TOPICS, PER_TOPIC, USERS, EVENTS = 20, 10, 240, 8


@pytest.fixture(scope="module")
def topic_data(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Each user stays within one topic, in random order: the next item's topic is the history's,
    which the item text tells at once (every title repeats its topic word) and IDs learn slowly."""
    folder = tmp_path_factory.mktemp("topics")
    rng = np.random.default_rng(0)
    items = [f"t{t}-i{i}" for t in range(TOPICS) for i in range(PER_TOPIC)]
    rows = []
    for user in range(USERS):
        topic = user % TOPICS
        for step, pick in enumerate(rng.choice(PER_TOPIC, EVENTS, replace=False)):  # no repeats: every target is rankable
            rows.append((f"u{user}", f"t{topic}-i{pick}", 1_600_000_000 + user * 1000 + step * 60))
    pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).to_csv(folder / "events.csv", index=False)
    titles = [f"topic{t} topic{t} topic{t} topic{t} model {i}" for t in range(TOPICS) for i in range(PER_TOPIC)]
    pd.DataFrame({"item_id": items, "title": titles}).to_csv(folder / "items.csv", index=False)
    return ["data=csv", f"data.interactions={folder / 'events.csv'}", f"data.items={folder / 'items.csv'}",
            "data.min_user_interactions=1", "data.min_item_interactions=1", f"encoder.cache_dir={folder / 'cache'}"]


def test_text_match_weight_is_picked_on_valid_and_helps_when_text_predicts(cli, tmp_path: Path, topic_data: list[str]) -> None:
    runs = {}
    for flag in ("true", "false"):
        run = tmp_path / flag
        result = cli("train", f"run_dir={run}", "adapter=linear", f"model.text_match={flag}", *topic_data, *TINY_DYNREC)
        assert result.exit_code == 0, result.output
        runs[flag] = run
    figures = json.loads((runs["true"] / "finetune" / "manifest.json").read_text())["figures"]
    picked = figures["text_match"]
    scores, errors = dict(picked["valid/ndcg@10"]), dict(picked["standard_error"])
    best = max(scores, key=lambda w: (scores[w], -w))
    # the largest weight within one paired standard error of the valid best (model.text_match_noise=1)
    within = [w for w in scores if scores[best] - scores[w] <= errors[w] + 1e-5]  # the manifest rounds to 5 places
    assert picked["weight"] == max(within) >= best > 0 and scores[best] > scores[0.0]
    assert figures["gates"]["text_match"] == picked["weight"]
    assert "text_match" not in json.loads((runs["false"] / "finetune" / "manifest.json").read_text())["figures"]
    with_match = json.loads((runs["true"] / "metrics.json").read_text())["test/ndcg@10"]
    without = json.loads((runs["false"] / "metrics.json").read_text())["test/ndcg@10"]
    assert with_match > without + 0.05, (with_match, without)
    # the widened vectors (O(y) | unit whitened text) serve ranking and new items added from their text
    recs = pd.read_parquet(runs["true"] / "rank" / "recommendations.parquet")
    assert len(recs) and set(recs["item_id"]) <= {f"t{t}-i{i}" for t in range(TOPICS) for i in range(PER_TOPIC)}
    pd.DataFrame({"item_id": ["t3-new"], "title": ["topic3 topic3 topic3 topic3 model 99"]}).to_csv(
        tmp_path / "new.csv", index=False)
    pd.DataFrame({"user_id": ["u3"], "item_id": ["t3-i0"], "timestamp": [1_700_000_000]}).to_csv(
        tmp_path / "events.csv", index=False)
    added = cli("capture", f"run_dir={runs['true']}", f"capture.items={tmp_path / 'new.csv'}",
                f"capture.events={tmp_path / 'events.csv'}", f"capture.store={tmp_path / 'store'}", "capture.late_events=skip")
    assert added.exit_code == 0, added.output
    ranked = cli("rank", f"run_dir={runs['true']}", "rank.users=[u3]", "rank.format=csv", f"capture.store={tmp_path / 'store'}")
    assert ranked.exit_code == 0, ranked.output
    top = pd.read_csv(runs["true"] / "rank" / "recommendations.csv", dtype=str)["item_id"].tolist()
    assert "t3-new" in top[:5], top  # a new item of the user's topic, known only by its text


def test_text_match_noise_zero_keeps_the_valid_best_and_a_negative_one_is_refused(cli, tmp_path: Path, topic_data: list[str]) -> None:
    run = tmp_path / "best"
    refused = cli("train", f"run_dir={run}", "adapter=linear", "model.text_match_noise=-1", *topic_data, *TINY_DYNREC)
    assert refused.exit_code == 2 and "model.text_match_noise" in refused.output and not run.exists()
    result = cli("train", f"run_dir={run}", "adapter=linear", "model.text_match_noise=0", *topic_data, *TINY_DYNREC)
    assert result.exit_code == 0, result.output
    picked = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]["text_match"]
    scores = dict(picked["valid/ndcg@10"])
    assert picked["weight"] == max(w for w in scores if scores[w] == max(scores.values()))
