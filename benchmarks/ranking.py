"""Ranking at scale: faiss against exact on Amazon Sports, and 1M-item ranking memory.

    python benchmarks/run.py --only ranking [--quick]

(a) SASRec trained a few epochs on amazon-sequences Sports (18,357 items): `dynrec rank` with
    faiss indexes and `rank.ann_check_users`, which ranks the same sampled users exactly and
    approximately in one process and reports recall@10 and the time of each.
(b) Synthetic clustered vectors (d = 64, 1,000,000 items): each configuration ranks in a child
    process (`python benchmarks/ranking.py --child ...`) whose peak RSS the parent reads from
    wait4, for several user counts through the chunked exact path, and through a faiss IVF index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATASETS, RESULTS, markdown_table, read_json, run_dynrec  # noqa: E402

SPORTS = ["data=sequences", f"data.path={DATASETS / 'amazon-sequences' / 'Sports_and_Outdoors.txt'}", "model=sasrec", "seed=42"]
ANN_CONFIGS = {
    "ivf nprobe=16": ["rank.faiss.kind=ivf", "rank.faiss.nprobe=16"],
    "ivf nprobe=64": ["rank.faiss.kind=ivf", "rank.faiss.nprobe=64"],
    "hnsw M=32 ef=128": ["rank.faiss.kind=hnsw", "rank.faiss.hnsw_m=32", "rank.faiss.ef_search=128"],
}
DIM, K = 64, 10


def sports(quick: bool) -> dict:
    """`dynrec rank` exact, then with each faiss index and the recall check, on one trained Sports run."""
    epochs = 1 if quick else 5
    run_dir = RESULTS / "runs" / "sports-sasrec-rank"
    base = [f"run_dir={run_dir}", *SPORTS, f"trainer.epochs={epochs}", f"rank.k={K}"]
    check_users = 1000 if quick else 5000
    run_dynrec("train", *base)  # trains the run, or skips every stage that is up to date
    exact = run_dynrec("rank", *base, "--force", "rank.index=exact")
    payload: dict = {"epochs": epochs, "check_users": check_users, "exact": {
        "rank_stage_s": read_json(run_dir / "rank" / "manifest.json")["duration_s"], "peak_rss_mib": round(exact.peak_rss_mib)}}
    for name, overrides in ANN_CONFIGS.items():
        child = run_dynrec("rank", *base, "--force", "rank.index=faiss", f"rank.ann_check_users={check_users}", *overrides)
        manifest = read_json(run_dir / "rank" / "manifest.json")
        payload[name] = {**manifest["figures"], "rank_stage_s": manifest["duration_s"], "peak_rss_mib": round(child.peak_rss_mib)}
    return payload


def _sports_rows(payload: dict) -> list[list[object]]:
    rows: list[list[object]] = [["exact (chunked)", 1.0, None, None, None, payload["exact"]["rank_stage_s"], payload["exact"]["peak_rss_mib"]]]
    for name in ANN_CONFIGS:
        f = payload[name]
        rows.append([f"faiss {name}", f[f"ann/recall@{K}"], f["ann/exact_ms_per_user"], f["ann/faiss_ms_per_user"],
                     f["ann/speedup"], f["rank_stage_s"], f["peak_rss_mib"]])
    return rows


def _child(mode: str, n_items: int, n_users: int, check: int) -> dict:
    """One configuration in this (child) process: synthetic vectors, rank every user, time it."""
    import numpy as np
    import torch

    from dynrec_cli.ranking.ann import build_index
    from dynrec_cli.ranking.recommend import ExactRetriever, rank_in_chunks, recall_against_exact
    from dynrec_cli.ranking.reranker import Reranker
    from dynrec_cli.runtime import reuse_freed_memory

    reuse_freed_memory()  # as `dynrec rank` does by default (runtime.reuse_freed_memory)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1024, DIM)).astype(np.float32)
    items = torch.zeros(n_items + 1, DIM)
    for start in range(0, n_items, 1 << 17):  # in blocks: the generator's temporaries stay small
        end = min(start + (1 << 17), n_items)
        noise = rng.standard_normal((end - start, DIM)).astype(np.float32)
        items[start + 1 : end + 1] = torch.from_numpy(centres[rng.integers(0, 1024, end - start)] + 0.7 * noise)
    users = torch.from_numpy(centres[rng.integers(0, 1024, n_users)] + 0.7 * rng.standard_normal((n_users, DIM)).astype(np.float32))
    exact = ExactRetriever(items, item_chunk=65536)
    started = time.perf_counter()
    retriever, out = exact, {}
    if mode == "faiss":
        retriever = build_index(items, None, "ivf", 1024, 16, 32, 128)
        out["build_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    rank_in_chunks(users, np.arange(n_users), retriever, Reranker(k=K, item_vecs=items), K, 512)
    out["rank_s"] = round(time.perf_counter() - started, 1)
    if mode == "faiss" and check:
        sample = np.arange(min(check, n_users))
        out["recall@10"] = round(recall_against_exact(users, sample, exact, retriever, K, 512, None)["recall"], 4)
    return out


def _measure(mode: str, n_items: int, n_users: int, check: int = 0) -> dict:
    """Runs `_child` in a fresh process; adds its peak RSS (MiB)."""
    command = [sys.executable, __file__, "--child", mode, str(n_items), str(n_users), str(check)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as proc:
        output = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"ranking child failed: {' '.join(command)}")
    return {**json.loads(output.strip().splitlines()[-1]), "peak_rss_mib": round(usage.ru_maxrss / 1024)}


def million(quick: bool) -> dict:
    """1M items: the exact path for several user counts, then faiss IVF for the largest, each in a child."""
    n_items = 1_000_000
    user_counts = (1_000, 4_000) if quick else (1_000, 10_000, 100_000)
    payload = {f"exact {n}": _measure("exact", n_items, n) for n in user_counts}
    payload[f"faiss {user_counts[-1]}"] = _measure("faiss", n_items, user_counts[-1], check=200 if quick else 1000)
    return payload


def _million_rows(payload: dict) -> list[list[object]]:
    rows: list[list[object]] = []
    for name, r in payload.items():
        path, users = name.split()
        label = "exact (chunked)" if path == "exact" else "faiss ivf nlist=1024 nprobe=16"
        rows.append([label, int(users), r.get("build_s"), r["rank_s"], round(int(users) / r["rank_s"]), r.get("recall@10"), r["peak_rss_mib"]])
    return rows


def render(sports_payload: dict, million_payload: dict) -> tuple[str, dict]:
    """The Markdown tables and the JSON payload of the two parts."""
    markdown = (
        f"### faiss against exact, Amazon Sports (18,357 items), SASRec {sports_payload['epochs']} epoch(s), "
        f"{sports_payload['check_users']} sampled users, k={K}\n\n"
        + markdown_table(["index", f"recall@{K}", "exact ms/user", "faiss ms/user", "speed ratio", "rank stage s", "peak RSS MiB"],
                         _sports_rows(sports_payload))
        + f"\n### 1,000,000 items, d={DIM}, synthetic clustered vectors, k={K}, user_chunk 512, item_chunk 65,536\n\n"
        + markdown_table(["path", "users", "index build s", "rank s", "users/s", f"recall@{K}", "peak RSS MiB"],
                         _million_rows(million_payload))
    )
    return markdown, {"sports": sports_payload, "million_items": million_payload}


def run(quick: bool) -> tuple[str, dict]:
    return render(sports(quick), million(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ITEMS", "USERS", "CHECK"))
    args = parser.parse_args()
    if args.child:
        mode, n_items, n_users, check = args.child
        print(json.dumps(_child(mode, int(n_items), int(n_users), int(check))))
    else:
        sys.exit("run it through benchmarks/run.py --only ranking [--quick]")
