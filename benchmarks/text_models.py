"""The language-model-assisted model against our SASRec, per adapter, on ml-100k and Scientific.

Every configuration runs with the same trainer settings over several seeds; the table gives the
mean ± standard deviation, the ratio to SASRec's mean, and the text-encoding speed.
"""

from __future__ import annotations

import statistics

from benchmarks.common import RESULTS, experiment, markdown_table, read_json, run_dynrec

# each data set's experiments: configs/experiment/<prefix>_<sasrec|dynrec|zeroshot>.yaml
DATA_SETS = {"ml-100k": "ml100k", "scientific": "scientific"}
# On a 2-core CPU a full ml-100k run takes 3-5 minutes: the headline pair (SASRec and the default
# adapter) gets every seed everywhere, the other adapters every seed where runs are short.
FEW_SEEDS_ON = {"ml-100k": ("dynrec-linear", "dynrec-mlp", "zeroshot"), "scientific": ("zeroshot",)}
# what each data set runs (Scientific: the headline pair and the zero-shot floor)
PLAN = {"ml-100k": ("sasrec", "dynrec-linear", "dynrec-mlp", "dynrec-moe", "zeroshot"),
        "scientific": ("sasrec", "dynrec-mlp", "zeroshot")}
COLD_SEEDS = 3  # the cold / warm ratio moved from 0.88 to 0.71 between seeds (docs/benchmarks.md, issue #16)
# table row -> (experiment suffix, overrides on top of it)
MODELS = {
    "sasrec": ("sasrec",),
    "dynrec-linear": ("dynrec", "adapter=linear"),
    "dynrec-mlp": ("dynrec", "adapter=mlp"),
    "dynrec-moe": ("dynrec", "adapter=moe"),
    "zeroshot": ("zeroshot",),
}
COLD = {
    "sasrec": ("sasrec",),
    "dynrec-mlp (ID on)": ("dynrec", "adapter=mlp"),
    "dynrec-mlp (text only)": ("dynrec", "adapter=mlp", "model.item_id=false"),
}


def setup(dataset: str, model: tuple[str, ...]) -> list[str]:
    """The arguments of one table row: its experiment (data set, model, trainer) and overrides."""
    suffix, *overrides = model
    return experiment(f"{DATA_SETS[dataset]}_{suffix}") + overrides


def train_run(name: str, args: list[str], seed: int, quick: bool, trainer: list[str] | None = None) -> dict:
    """One `dynrec train` run (skipped when its folder holds it already); trainer: overrides of the
    trainer group, by default the trainer's defaults (2 epochs when quick)."""
    run_dir = RESULTS / "runs" / f"{name}-seed{seed}"
    if trainer is None:
        trainer = ["trainer.epochs=2"] if quick else []
    # no --force: an interrupted benchmark resumes, finished runs are skipped by their manifests
    reads_text = "encoder=minilm" in args or any(
        a.endswith(("_dynrec", "_zeroshot")) for a in args if a.startswith("+experiment="))
    cache = [f"encoder.cache_dir={RESULTS / 'cache'}"] if reads_text else []
    child = run_dynrec("train", f"run_dir={run_dir}", f"seed={seed}", *cache, *trainer, *args)
    metrics = read_json(run_dir / "metrics.json")
    finetune = read_json(run_dir / "finetune" / "manifest.json")["figures"]
    pretrain = read_json(run_dir / "pretrain" / "manifest.json")["figures"]
    return {
        "metrics": metrics,
        "train_s": finetune.get("train_seconds", 0.0),
        "gates": finetune.get("gates"),
        "encoding": pretrain.get("encoding"),
        "run_s": child.seconds,
        "peak_rss_mib": child.peak_rss_mib,
    }


def _mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f} (1 seed)"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def run(quick: bool, parts: tuple[str, ...] = ("ml-100k", "scientific", "cold")) -> tuple[str, dict]:
    seeds = [0] if quick else [0, 1, 2]
    payload: dict = {}
    rows = []
    for dataset in DATA_SETS:
        if dataset not in parts:
            continue
        baseline = None
        for model in PLAN[dataset]:
            model_seeds = seeds[:1] if model in FEW_SEEDS_ON.get(dataset, ()) else seeds
            runs = [train_run(f"{dataset}-{model}", setup(dataset, MODELS[model]), seed, quick) for seed in model_seeds]
            ndcg = [r["metrics"]["test/ndcg@10"] for r in runs]
            recall = [r["metrics"]["test/recall@10"] for r in runs]
            baseline = baseline or statistics.mean(ndcg)
            encoding = next((r["encoding"] for r in runs if r["encoding"] and r["encoding"].get("encoded")), None)
            payload[f"{dataset}/{model}"] = runs
            rows.append([
                dataset, model, _mean_sd(ndcg), _mean_sd(recall), statistics.mean(ndcg) / baseline,
                statistics.mean(r["train_s"] for r in runs), encoding["items_per_s"] if encoding else None,
                encoding["tokens_per_s"] if encoding else None,
            ])
    table = markdown_table(
        ["data set", "model", "NDCG@10", "Recall@10", "× SASRec NDCG@10", "train s", "encode items/s", "encode tokens/s"],
        rows,
    )
    cold_rows = []
    for model, model_args in COLD.items() if "cold" in parts else ():
        runs = [train_run(f"scientific-cold-{model.split()[0]}{'-textonly' if 'text' in model else ''}",
                       setup("scientific", model_args) + ["data.cold_items=0.1"], seed, quick)
                for seed in seeds[:COLD_SEEDS]]
        payload[f"scientific-cold/{model}"] = runs
        cold = [r["metrics"]["test/cold/recall@10"] for r in runs]
        warm = [r["metrics"]["test/warm/recall@10"] for r in runs]
        cold_rows.append([model, _mean_sd(cold), _mean_sd(warm), statistics.mean(cold) / max(statistics.mean(warm), 1e-12),
                          runs[0]["metrics"]["test/cold/users"]])
    cold_table = markdown_table(["Scientific, data.cold_items=0.1", "test/cold/recall@10", "test/warm/recall@10", "cold / warm", "cold users"], cold_rows)
    few = "; ".join(f"{d}: {', '.join(m)} on seed {seeds[0]} only" for d, m in FEW_SEEDS_ON.items())
    few += f"; cold protocol on seeds {seeds[:COLD_SEEDS]}"
    text = table + f"\nseeds: {seeds} ({few}); leave-one-out, full ranking, history excluded.\n\n" + cold_table
    return text, payload
