"""Issue #16's table: our SASRec against DynRec at the defaults on the
three shared data sets with item text, 3 seeds each, with `dynrec compare` paired intervals.

    python benchmarks/run.py --only quality [--quick]

Every run uses the trainer's defaults and one torch thread (`trainer.threads=1`): the runs go one at a
time on a shared 2-core machine, so their train seconds compare with each other. No --force: an
interrupted table resumes, finished runs are skipped by their manifests (the run folders are shared
with the other suites' `benchmarks/results/runs/`).
"""

from __future__ import annotations

import csv
import statistics

from benchmarks.common import DATASETS, RESULTS, markdown_table, read_json, run_dynrec
from benchmarks.text_models import train_run

DATASETS_ARGS = {
    "ml-100k": ["data=recbole", f"data.path={DATASETS / 'ml-100k'}"],
    "ml-latest-small": ["data=movielens", f"data.path={DATASETS / 'ml-latest-small'}"],
    "scientific": ["data=unisrec", f"data.path={DATASETS / 'amazon-scientific'}"],
}
THREADS = ["trainer.threads=1"]
# name -> overrides; the first is the reference of the ratios and of the paired intervals
ROWS = {
    "sasrec": ["model=sasrec"],
    "dynrec": ["model=dynrec", "encoder=minilm"],  # encoder named: the text cache is the other suites' one
}
SEEDS = (0, 1, 2)


def _mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f} (1 seed)"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def _paired(reference: str, run: str) -> dict[str, float]:
    """`dynrec compare REFERENCE RUN` -> test/ndcg@10 difference, its 95% bootstrap interval and p."""
    out = RESULTS / "compare" / f"{run.rsplit('/', 1)[-1]}-vs-{reference.rsplit('/', 1)[-1]}"
    run_dynrec("compare", reference, run, "--out", str(out))
    with open(out / "compare.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["key"] == "test/ndcg@10")
    return {name: float(row[name]) for name in ("base", "value", "diff", "low", "high", "p_value")}


def _cold_warm(runs: list[dict]) -> str:
    """Mean test/cold over test/warm Recall@10 (cold: users whose test item never occurs in training),
    with the number of cold users: a handful on these splits, so the ratio is noisy."""
    if any(r["metrics"].get("test/cold/users", 0) == 0 for r in runs):
        return "no cold users"
    cold = statistics.mean(r["metrics"]["test/cold/recall@10"] for r in runs)
    warm = statistics.mean(r["metrics"]["test/warm/recall@10"] for r in runs)
    return f"{cold / warm:.2f} ({int(runs[0]['metrics']['test/cold/users'])} users)"


def run(quick: bool) -> tuple[str, dict]:
    seeds = SEEDS[:1] if quick else SEEDS
    trainer = ["trainer.epochs=2"] if quick else []
    prefix = "quality-quick" if quick else "quality"  # a quick table never replaces a full one's runs
    rows, pairs, payload = [], [], {}
    for dataset, data_args in DATASETS_ARGS.items():
        reference = None
        for name, model_args in ROWS.items():
            runs = [train_run(f"{prefix}-{dataset}-{name}", data_args + model_args + THREADS, seed, quick, trainer)
                    for seed in seeds]
            payload[f"{dataset}/{name}"] = runs
            ndcg = [r["metrics"]["test/ndcg@10"] for r in runs]
            train_s = statistics.mean(r["train_s"] for r in runs)
            if reference is None:
                reference = (statistics.mean(ndcg), train_s, name)
            rows.append([
                dataset, name, _mean_sd([r["metrics"]["valid/ndcg@10"] for r in runs]), _mean_sd(ndcg),
                _mean_sd([r["metrics"]["test/recall@10"] for r in runs]), statistics.mean(ndcg) / reference[0],
                train_s, train_s / reference[1], _cold_warm(runs),
            ])
            if name != reference[2]:
                for seed in seeds:
                    runs_dir = RESULTS / "runs"
                    base = str(runs_dir / f"{prefix}-{dataset}-{reference[2]}-seed{seed}")
                    paired = _paired(base, str(runs_dir / f"{prefix}-{dataset}-{name}-seed{seed}"))
                    payload[f"{dataset}/{name}/compare-seed{seed}"] = paired
                    pairs.append([dataset, f"{name} − {reference[2]}", seed, f"{paired['diff']:+.4f}",
                                  f"[{paired['low']:+.4f}, {paired['high']:+.4f}]", paired["p_value"]])
    table = markdown_table(
        ["data set", "model", "valid NDCG@10", "test NDCG@10", "test Recall@10", "× SASRec NDCG@10", "train s", "× SASRec train s",
         "cold / warm Recall@10"],
        rows,
    )
    paired_table = markdown_table(["data set", "pair", "seed", "Δ test NDCG@10", "95% paired bootstrap", "p"], pairs)
    notes = (f"\nseeds {list(seeds)}, mean ± sd; leave-one-out, full ranking, history excluded; "
             f"{'2 epochs (--quick)' if quick else 'the trainer defaults'}, 1 torch thread per run, one run at a time.\n\n")
    return table + notes + paired_table, payload

