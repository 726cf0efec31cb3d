"""Short top-K lists through the CLI: when K exceeds the items a user has left after their history
is excluded, the list holds only those items, and every metric and coverage count only them.

The log: 4 users × 8 events over 12 items; each user's test event repeats an item of their
history (so it is excluded from their list), and 7 distinct history items leave 5 candidates for
K = 10. The figures are checked against a plain-Python reading of the same lists (Pop ranks the
allowed items by training count, ties by lower index).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.types import TEST, TRAIN, VALID

HISTORIES = {  # 7 distinct items, then the test event: a repeat of a history item
    "u0": ["i0", "i1", "i2", "i3", "i4", "i5", "i6", "i0"],
    "u1": ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i2"],
    "u2": ["i4", "i5", "i6", "i7", "i8", "i9", "i10", "i9"],
    "u3": ["i5", "i6", "i7", "i8", "i9", "i10", "i11", "i11"],
}
KS = [5, 10]
POP = ["model=pop", "data.min_user_interactions=1", "data.min_item_interactions=1", "eval.ks=[5,10]"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import run_from_repo

    root = tmp_path_factory.mktemp("short")
    rows = [f"{user},{item},{1_600_000_000 + 60 * k}" for user, items in HISTORIES.items() for k, item in enumerate(items)]
    (root / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    run_from_repo("train", f"run_dir={root / 'run'}", "data=csv", f"data.interactions={root / 'log.csv'}", *POP)
    return root / "run"


def expected_lists(run: Path, split: str) -> tuple[dict[int, list[int]], dict[int, set[int]], np.ndarray, int]:
    """Per evaluated user: Pop's list (allowed items by count desc, index asc, at most max K), targets; counts; n_items."""
    events = pd.read_parquet(run / "prepare" / "events.parquet")
    n_items = len(pd.read_parquet(run / "prepare" / "items.parquet"))
    counts = np.bincount(events.loc[events["split"] == TRAIN, "item_idx"], minlength=n_items + 1)
    seen_splits, target_split = ((TRAIN,), VALID) if split == "valid" else ((TRAIN, VALID), TEST)
    lists, targets = {}, {}
    for user, rows in events.groupby("user_idx"):
        seen = set(rows.loc[rows["split"].isin(seen_splits), "item_idx"])
        wanted = set(rows.loc[rows["split"] == target_split, "item_idx"])
        if not seen or not wanted:
            continue
        allowed = sorted((i for i in range(1, n_items + 1) if i not in seen), key=lambda i: (-counts[i], i))
        lists[user], targets[user] = allowed[: max(KS)], wanted
    return lists, targets, counts, n_items


def expected_metrics(run: Path, split: str) -> dict[str, float]:
    lists, targets, counts, n_items = expected_lists(run, split)
    information = -np.log2((counts + 1) / (counts[1:] + 1).sum())
    order = sorted(range(1, n_items + 1), key=lambda i: (-counts[i], i))
    poprank = {item: rank for rank, item in enumerate(order, start=1)}
    out: dict[str, list[float]] = {}
    for user, full in lists.items():
        wanted = targets[user]
        for k in KS:
            top = full[:k]
            ranks = [r for r, item in enumerate(top, start=1) if item in wanted]
            ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(wanted), k) + 1))
            figures = {
                "hit": float(bool(ranks)), "recall": len(ranks) / len(wanted), "precision": len(ranks) / k,
                "mrr": 1 / ranks[0] if ranks else 0.0, "ndcg": sum(1 / math.log2(r + 1) for r in ranks) / ideal,
                "map": sum((j + 1) / r for j, r in enumerate(ranks)) / min(len(wanted), k),
                "novelty": float(np.mean([information[i] for i in top])), "poprank": float(np.mean([poprank[i] for i in top])),
            }
            # Pop's item vectors are 1-d counts: two trained items point the same way, an untrained one nowhere
            pairs = [(a, b) for a in top for b in top if a != b]
            figures["ild"] = 1 - sum(float(counts[a] > 0 and counts[b] > 0) for a, b in pairs) / len(pairs)
            for name, value in figures.items():
                out.setdefault(f"{split}/{name}@{k}", []).append(value)
    metrics = {key: float(np.mean(values)) for key, values in out.items()}
    for k in KS:
        metrics[f"{split}/coverage@{k}"] = len({i for top in lists.values() for i in top[:k]}) / n_items
    return metrics


def test_lists_hold_only_allowed_items_and_metrics_count_only_them(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    lists, _, _, _ = expected_lists(run, "test")
    assert {len(top) for top in lists.values()} == {5}  # K = 10, but 5 items are left to each user
    for split in ("valid", "test"):
        for key, value in expected_metrics(run, split).items():
            assert metrics[key] == pytest.approx(value, abs=1e-6), key
    # every test target repeats a history item: it is never recommended, so nothing is a hit at any K
    for name in ("hit", "recall", "ndcg", "mrr", "map", "precision"):
        assert metrics[f"test/{name}@10"] == 0.0 and metrics[f"test/{name}@5"] == 0.0, name
    assert all(metrics[f"{split}/coverage@{k}"] <= 1.0 for split in ("valid", "test") for k in KS)


def test_per_user_figures_and_rank_lists_use_the_short_lists(cli, run: Path) -> None:
    per_user = pd.read_parquet(run / "evaluate" / "per_user.parquet")
    test = per_user[per_user["split"] == "test"]
    assert len(test) == 4 and (test["hit@10"] == 0).all() and (test["precision@10"] == 0).all()
    result = cli("rank", f"run_dir={run}", "rank.k=10", "rank.format=csv", "rank.strategies=[popularity,mmr]")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(run / "rank" / "recommendations.csv", dtype=str)
    seen = {user: set(items) for user, items in HISTORIES.items()}
    assert table.groupby("user_id").size().to_dict() == {user: 12 - len(items) for user, items in seen.items()}
    assert not any(item in seen[user] for user, item in zip(table["user_id"], table["item_id"]))
