"""Every adapter × {ml-100k, Scientific} × 3 seeds, several runs at once: the table of issue #3.

    python benchmarks/adapter_table.py [--jobs 8] [--quick] [--out DIR] [--models ...] [--datasets ...]
        [--set model.hidden=128 ...]

Meant for a machine with room for parallel runs (a GPU box: `benchmarks/gpu.sh` calls it); on a
2-core CPU run `make bench` instead (text_models suite). Each run is `dynrec train` in a child
process with the experiments of configs/experiment (the trainer defaults: patience 8; no --force, so an
interrupted table resumes). The text of each data set is encoded once, before the parallel runs,
into the shared embedding cache. Training seconds come from runs that share the machine with
`--jobs - 1` others: compare them with each other, not with a machine running one job. Each run
gets cpu_count // jobs torch threads (`trainer.threads`), so parallel runs do not oversubscribe the
cores. `--set KEY=VALUE` adds overrides to every trained run, SASRec included (e.g. a hidden size);
their run folders and table file carry them in their names.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import markdown_table  # noqa: E402
from benchmarks.text_models import DATA_SETS, MODELS, setup, train_run  # noqa: E402

# LoRA trains the language model at every step: capped at 2 minutes of training per run
ADAPTERS = {**MODELS, "dynrec-lora": ("dynrec", "adapter=lora", "trainer.max_minutes=2")}
ORDER = ("sasrec", "dynrec-linear", "dynrec-mlp", "dynrec-moe", "dynrec-lora", "zeroshot")


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _try_train(name: str, args: list[str], seed: int, quick: bool) -> dict | None:
    """One run; a failed run is reported and left out of the table instead of ending it."""
    try:
        return train_run(name, args, seed, quick)
    except SystemExit as failure:
        print(f"FAILED {name} seed {seed}: {failure}", flush=True)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 seed")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--models", nargs="+", default=list(ORDER), choices=ORDER)
    parser.add_argument("--datasets", nargs="+", default=list(DATA_SETS), choices=list(DATA_SETS))
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides for every trained run")
    args = parser.parse_args()
    threads = [f"trainer.threads={max(1, (os.cpu_count() or 1) // args.jobs)}"] if args.jobs > 1 else []
    tag = "".join(f"-{o.split('.')[-1].replace('=', '')}" for o in args.set)  # model.hidden=128 -> -hidden128
    datasets = args.datasets
    seeds = [0] if args.quick else [0, 1, 2]
    # zeroshot has no training and no seed-dependent part: one run; it also fills the text cache
    zeroshot = {d: train_run(f"{d}-zeroshot", setup(d, ADAPTERS["zeroshot"]), 0, args.quick) for d in datasets}
    # the longest runs (LoRA) first, so they do not start last
    plan = sorted(((d, m, s) for d in datasets for m in args.models if m != "zeroshot" for s in seeds),
                  key=lambda job: job[1] != "dynrec-lora")
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: _try_train(f"{job[0]}-{job[1]}{tag}", setup(job[0], ADAPTERS[job[1]])
                                                   + args.set + threads, job[2], args.quick), plan))
    runs: dict[tuple[str, str], list[dict]] = {}
    for (dataset, model, _), result in zip(plan, results):
        if result is not None:
            runs.setdefault((dataset, model), []).append(result)
    if "zeroshot" in args.models:
        runs.update({(dataset, "zeroshot"): [result] for dataset, result in zeroshot.items()})
    rows, payload = [], {}
    for dataset in datasets:
        baseline = statistics.mean(r["metrics"]["test/ndcg@10"] for r in runs.get((dataset, "sasrec"), [{"metrics": {"test/ndcg@10": float("nan")}}]))
        for model in args.models:
            group = runs.get((dataset, model))
            if not group:
                continue
            ndcg = _mean_sd([r["metrics"]["test/ndcg@10"] for r in group])
            recall = _mean_sd([r["metrics"]["test/recall@10"] for r in group])
            train = _mean_sd([r["train_s"] for r in group])
            encoding = next((r["encoding"] for d, m in [(dataset, "zeroshot")] for r in runs.get((d, m), []) if r["encoding"]), None)
            payload[f"{dataset}/{model}"] = group
            rows.append([
                dataset, model, len(group), f"{ndcg[0]:.4f} ± {ndcg[1]:.4f}", f"{recall[0]:.4f} ± {recall[1]:.4f}",
                ndcg[0] / baseline, f"{train[0]:.1f} ± {train[1]:.1f}",
                encoding.get("items_per_s") if encoding and model != "sasrec" else None,
                encoding.get("tokens_per_s") if encoding and model != "sasrec" else None,
            ])
    table = markdown_table(
        ["data set", "model", "seeds", "NDCG@10", "Recall@10", "× SASRec NDCG@10", "train s", "encode items/s", "encode tokens/s"],
        rows,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    name = "adapter_table-" + "-".join(datasets) + tag + ("-quick" if args.quick else "")
    settings = f"; every trained run with {' '.join(args.set)}" if args.set else ""
    (args.out / f"{name}.md").write_text(table + f"\nseeds {seeds}; {args.jobs} runs at a time{settings}; mean ± sd over seeds.\n")
    (args.out / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(table)


if __name__ == "__main__":
    main()
