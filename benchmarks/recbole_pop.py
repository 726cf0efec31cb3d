"""RecBole 1.2.1's Pop, emulated on *our* split with *our* metrics, to check both against RecBole.

RecBole's Pop score is not an item's training count. `Pop.calculate_loss` does
`item_cnt[item] = item_cnt[item] + 1` per batch: an indexed assignment, so an item counts once per
batch however often it appears, and the batch holds 1,024 shuffled training positives plus one
uniform negative each (Pop is point-wise). One epoch of 96 batches on ml-100k saturates the
counts near 96. Averaged over seeds, this mechanism on our leave-one-out split and metric code
lands next to RecBole's published figure; our `model=pop` keeps the true counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dynrec_cli.data.sequences import csr_rows, padded_targets, split_views
from dynrec_cli.data.store import load_prepared
from dynrec_cli.evaluation.metrics import compute_user_metrics
from dynrec_cli.ranking.scoring import topk_for_users

BATCH_POSITIVES = 1024


def recbole_counts(train_users: np.ndarray, train_items: np.ndarray, n_items: int, seed: int) -> torch.Tensor:
    """Number of training batches in which each item appears, as a positive or a sampled negative."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_items))
    seen = set(zip(train_users.tolist(), train_items.tolist()))
    counts = np.zeros(n_items + 1)
    for start in range(0, len(order), BATCH_POSITIVES):  # 96 batches: a loop over batches, not users × items
        batch = order[start : start + BATCH_POSITIVES]
        negatives = rng.integers(1, n_items + 1, len(batch))
        clash = np.array([(u, i) in seen for u, i in zip(train_users[batch].tolist(), negatives.tolist())])
        while clash.any():  # RecBole redraws a negative the user has consumed
            negatives[clash] = rng.integers(1, n_items + 1, int(clash.sum()))
            clash = np.array([(u, i) in seen for u, i in zip(train_users[batch].tolist(), negatives.tolist())])
        counts[np.unique(np.concatenate([train_items[batch], negatives]))] += 1
    return torch.from_numpy(counts).float()


def emulate(prepare_dir: Path, seeds: int) -> dict[str, float]:
    """Mean test/valid NDCG@10 and Recall@10 of RecBole-style Pop over `seeds` seeds."""
    data = load_prepared(prepare_dir)
    views = split_views(data.events, data.n_users)
    users = np.arange(data.n_users)
    train_users = np.repeat(users, views.train.lengths())
    results = []
    for seed in range(seeds):
        counts = recbole_counts(train_users, views.train.items, data.n_items, seed)
        row = {}
        for split, history, targets in (("valid", views.train, views.valid), ("test", views.train_valid, views.test)):
            _, top = topk_for_users(torch.ones(len(users), 1), counts[:, None], 10, 1 << 16, csr_rows(history, users))
            metrics = compute_user_metrics(top, padded_targets(targets, users), [10])
            row.update({f"{split}/{k}": float(v.mean()) for k, v in metrics.items() if k in ("ndcg@10", "recall@10")})
        results.append(row)
    return {key: float(np.mean([r[key] for r in results])) for key in results[0]}
