"""What the k-core filter keeps, and what it does to a quick SASRec, on dense and sparse logs.

    nice -n 5 python benchmarks/run.py --only kcore

For each data set and k (data.min_user_interactions = data.min_item_interactions = k): the users,
items and events `prepare` keeps, and the valid NDCG@10 of SASRec (one seed, one thread, at most
20 epochs or 8 minutes of training) over the users each k evaluates, and over the users that
the largest k keeps (the same people for every k, each ranked in that k's catalogue). The sparse
log keeps a seeded 35% of Beauty's events (Beauty is 5-core already), as a held-out log of a shop
is: most users have two or three events.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from benchmarks.common import DATASETS, RESULTS, markdown_table, read_json, run_dynrec

KS = (0, 2, 3, 5)
SPARSE_KEEP = 0.35
SASREC = ["model=sasrec", "trainer.threads=1", "trainer.epochs=20", "trainer.patience=3", "trainer.max_minutes=8", "seed=42"]


def _sparse_log() -> str:
    """Beauty with each event kept with probability SPARSE_KEEP (seeded), as user_id,item_id in order."""
    path = RESULTS / "kcore-logs" / "beauty-sparse.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draw = random.Random(0)
        rows = ["user_id,item_id"]
        for line in (DATASETS / "amazon-sequences" / "Beauty.txt").read_text().splitlines():
            user, *items = line.split()
            rows += [f"u{user},i{item}" for item in items if draw.random() < SPARSE_KEEP]
        path.write_text("\n".join(rows) + "\n")
    return str(path)


def _data_sets() -> dict[str, tuple[str, list[str]]]:
    """Run-folder name -> (label, data overrides)."""
    return {
        "ml100k": ("ml-100k", ["data=recbole", f"data.path={DATASETS / 'ml-100k'}"]),
        "mlsmall": ("ml-latest-small", ["data=movielens", f"data.path={DATASETS / 'ml-latest-small'}"]),
        "scientific": ("Scientific", ["data=unisrec", f"data.path={DATASETS / 'amazon-scientific'}"]),
        "beauty": ("Beauty (5-core)", ["data=sequences", f"data.path={DATASETS / 'amazon-sequences' / 'Beauty.txt'}"]),
        "sparse": ("Beauty, 35% of events", ["data=csv", f"data.interactions={_sparse_log()}", "data.columns.time=null"]),
    }


def _valid_ndcg(run_dir: Path) -> pd.Series:
    """Each evaluated user's valid NDCG@10 (user id -> value), from `dynrec evaluate`."""
    run_dynrec("evaluate", f"run_dir={run_dir}", "eval.splits=[valid]", "eval.ks=[10]", "eval.report=false")
    table = pd.read_parquet(run_dir / "evaluate" / "per_user.parquet")
    return table.set_index(table["user_id"].astype(str))["ndcg@10"]


def run(quick: bool) -> tuple[str, dict]:
    rows, payload = [], {}
    for slug, (name, data) in _data_sets().items():
        trained: dict[tuple[int, int, int], pd.Series] = {}  # kept (users, items, events) -> per-user valid NDCG@10
        found = []
        for k in KS:
            run_dir = RESULTS / "runs" / f"kcore-{slug}-{k}"
            kcore = [f"data.min_user_interactions={k}", f"data.min_item_interactions={k}"]
            run_dynrec("prepare", f"run_dir={run_dir}", *data, *kcore)
            stats = read_json(run_dir / "prepare" / "stats.json")
            kept = (stats["users"], stats["items"], stats["events"])
            if kept not in trained:  # the same data as a smaller k: the same model
                epochs = ["trainer.epochs=2"] if quick else []
                run_dynrec("finetune", f"run_dir={run_dir}", *data, *kcore, *SASREC, *epochs)
                trained[kept] = _valid_ndcg(run_dir)
            found.append((k, stats, kept, trained[kept]))
        common = found[-1][3].index  # the users the largest k keeps and evaluates
        for k, stats, kept, ndcg in found:
            on_common = float(ndcg.reindex(common).mean())
            payload[f"{name} k={k}"] = {"raw_events": stats["raw_events"], "users": kept[0], "items": kept[1],
                                        "events": kept[2], "valid_users": len(ndcg), "valid_ndcg@10": float(ndcg.mean()),
                                        "valid_ndcg@10_common_users": on_common, "common_users": len(common)}
            rows.append([name, k, f"{kept[0]:,}", f"{kept[1]:,}", f"{kept[2]:,}", f"{kept[2] / stats['raw_events']:.0%}",
                         f"{len(ndcg):,}", float(ndcg.mean()), on_common])
    header = ["data set", "k", "users", "items", "events", "events kept", "valid users", "valid NDCG@10",
              f"valid NDCG@10, users k={KS[-1]} keeps"]
    return markdown_table(header, rows), payload
