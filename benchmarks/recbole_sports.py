"""RecBole 1.2.1's SASRec on Amazon Sports_and_Outdoors: seconds per training epoch, seconds per warm
full-ranking test pass, test metrics and peak memory, to set against our own figures.

The protocol is the one of ../shared/benchmarks/recbole-ml-100k.md, on another data set:
leave-one-out by time (`eval_args: split LS valid_and_test, order TO, group_by user, mode full`),
full ranking over every item, RecBole's default hyper-parameters for SASRec (2 layers, 2 heads,
hidden 64, inner 256, dropout 0.5, CE loss, MAX_ITEM_LIST_LENGTH 50, so no training negatives),
Adam lr 0.001, train_batch_size 2048, eval_batch_size 4096, seed 2020, CPU only. As for every
sequential model RecBole sets `repeatable: True`: items a user has already seen are NOT masked at
ranking time.

Input: the S3-Rec/ICLRec sequence file (see PROVENANCE.md beside it), one line per user,
`user item_1 item_2 ... item_n` in time order, already 5-core. It is written as a RecBole atomic
file `<tmp>/sports/sports.inter` (`user_id:token item_id:token timestamp:float`), the timestamp
being the item's position in its user's sequence, so that order TO reproduces the file's order.
Nothing is filtered. RecBole's checkpoint, log and tensorboard folders go to the same temporary
folder, which is removed at the end (--keep-tmp keeps it).

What is measured, with RecBole's own objects (Config, create_dataset, data_preparation, get_model,
get_trainer):
  - each training epoch: `trainer._train_epoch(train_data, epoch_idx, show_progress=False)` timed
    with time.perf_counter (--epochs, default 1; no validation between epochs);
  - one full-ranking pass over the test users: `trainer.evaluate(test_data, load_best_model=False)`
    once to warm up, then the median of --eval-repeats more calls (3), and the metrics of that pass;
  - peak RSS of the process (resource.getrusage ru_maxrss), counts of users, items, interactions and
    training sequences (len(train_data.dataset): RecBole's data augmentation makes one sequence per
    prefix, so a user with n items gives n - 3 training sequences once valid and test are held out).

RecBole as shipped trains its sequential models with autograd anomaly detection on: importing
`recbole.model.sequential_recommender` runs `torch.autograd.set_detect_anomaly(True)` in sine.py, and
Config(model="SASRec") imports it. That is measured by default, as it is in any RecBole run of a
sequential model (the ml-100k figures included, presumably); --no-anomaly switches it off before
training, to measure RecBole without that debugging cost (same losses and metrics).
With eval_batch_size 4096 and more than 4,096 items, RecBole's full-ranking loader scores one user
per batch (batch = 4096 // n_items users, at least 1).

Set-up, in its own venv (not the project's; torch==2.13.0 resolves to the CPU wheel on our
machines, never install torch unpinned):

    python3 -m venv /tmp/rbenv
    /tmp/rbenv/bin/pip install "torch==2.13.0" "recbole==1.2.1" "numpy<2" "pandas<3" "setuptools<81"

Run (full data set: about 20+ minutes on 2 cores; use a quiet machine):

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 /tmp/rbenv/bin/python benchmarks/recbole_sports.py

Quick check on the first 2,000 users:

    /tmp/rbenv/bin/python benchmarks/recbole_sports.py --max-users 2000 --out /tmp/rb_small.json

Writes --out (JSON; default benchmarks/reference/recbole-sports.json, committed, read by the
throughput suite for its Sports ratios) and the same name with .md (a small table).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# RecBole pickles its checkpoints; torch >= 2.6 refuses to unpickle them unless told to. This run loads
# none (load_best_model=False), but the setting matches the ml-100k measurement.
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "amazon-sequences" / "Sports_and_Outdoors.txt"
DEFAULT_OUT = REPO / "benchmarks" / "reference" / "recbole-sports.json"  # committed: the throughput suite reads it
DATASET = "sports"
MODEL = "SASRec"
METRICS = ["ndcg@10", "recall@10", "hit@10", "mrr@10"]


def write_atomic_file(data: Path, folder: Path, max_users: int | None) -> dict[str, int]:
    """Write `folder/sports.inter` from the sequence file; return the counts of what was written."""
    folder.mkdir(parents=True)
    if data.suffix == ".inter":  # already a RecBole atomic file (e.g. ml-100k.inter): used as it is
        shutil.copyfile(data, folder / f"{folder.name}.inter")
        frame = __import__("pandas").read_csv(data, sep="\t", usecols=[0, 1])
        return {"users": int(frame.iloc[:, 0].nunique()), "items": int(frame.iloc[:, 1].nunique()), "interactions": len(frame)}
    users, items, interactions = 0, set(), 0
    with open(data) as src, open(folder / f"{folder.name}.inter", "w") as dst:
        dst.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for line in src:
            fields = line.split()
            if not fields:
                continue
            if max_users is not None and users >= max_users:
                break
            user, sequence = fields[0], fields[1:]
            for position, item in enumerate(sequence):
                dst.write(f"{user}\t{item}\t{position}\n")
            users += 1
            items.update(sequence)
            interactions += len(sequence)
    return {"users": users, "items": len(items), "interactions": interactions}


def recbole_config(data_path: Path, epochs: int) -> dict:
    """The settings that differ from RecBole's defaults for SASRec (everything else is left alone)."""
    return {
        "data_path": str(data_path),
        "checkpoint_dir": str(data_path / "saved"),
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user", "mode": "full"},
        "train_neg_sample_args": None,  # CE loss: RecBole requires no training negatives
        "learner": "adam",
        "learning_rate": 0.001,
        "train_batch_size": 2048,
        "eval_batch_size": 4096,
        "metrics": ["Recall", "MRR", "NDCG", "Hit"],
        "topk": [10, 20],
        "seed": 2020,
        "reproducibility": True,
        "epochs": epochs,
        "use_gpu": False,
        "show_progress": False,
        "save_dataset": False,
        "save_dataloaders": False,
    }


def measure(data: Path, max_users: int | None, epochs: int, workdir: Path, anomaly: bool, eval_repeats: int) -> dict:
    import numpy
    import recbole
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    dataset_name = data.stem if data.suffix == ".inter" else DATASET
    written = write_atomic_file(data, workdir / dataset_name, max_users)
    os.chdir(workdir)  # RecBole writes ./log and ./log_tensorboard relative to the working directory

    start = time.perf_counter()
    argv, sys.argv = sys.argv, sys.argv[:1]  # RecBole's Config reads `--key=value` from the command line
    try:
        config = Config(model=MODEL, dataset=dataset_name, config_dict=recbole_config(workdir, epochs))
    finally:
        sys.argv = argv
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    s_setup = time.perf_counter() - start
    if not anomaly:
        torch.autograd.set_detect_anomaly(False)
    anomaly_during_training = torch.is_anomaly_enabled()

    epoch_seconds, epoch_losses = [], []
    for epoch in range(epochs):
        start = time.perf_counter()
        loss = trainer._train_epoch(train_data, epoch_idx=epoch, show_progress=False)
        epoch_seconds.append(time.perf_counter() - start)
        epoch_losses.append(float(loss))
        print(f"epoch {epoch}: {epoch_seconds[-1]:.2f} s, loss {loss:.4f}", flush=True)

    result = trainer.evaluate(test_data, load_best_model=False, show_progress=False)  # warm-up
    eval_seconds = []
    for _ in range(eval_repeats):
        start = time.perf_counter()
        result = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
        eval_seconds.append(time.perf_counter() - start)
    print(f"test pass: {statistics.median(eval_seconds):.3f} s, {dict(result)}", flush=True)

    return {
        "model": MODEL,
        "data": str(data),
        "max_users": max_users,
        "counts": {
            "users": dataset.user_num - 1,  # RecBole's id 0 is [PAD]
            "items": dataset.item_num - 1,
            "interactions": written["interactions"],
            "recbole_sequences": len(dataset),  # one per (prefix, next item), valid and test included
            "training_sequences": len(train_data.dataset),
            "test_users": len(test_data.dataset),
            "file_users": written["users"],
            "file_items": written["items"],
        },
        "test": {key: float(value) for key, value in result.items()},
        "s_per_train_epoch": epoch_seconds,
        "train_loss_per_epoch": epoch_losses,
        "s_test_eval_pass": statistics.median(eval_seconds),
        "s_test_eval_passes": eval_seconds,
        "s_setup": s_setup,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "protocol": {
            "eval_args": config["eval_args"],
            "repeatable": config["repeatable"],
            "train_neg_sample_args": config["train_neg_sample_args"],
            "learner": config["learner"],
            "learning_rate": config["learning_rate"],
            "train_batch_size": config["train_batch_size"],
            "eval_batch_size": config["eval_batch_size"],
            "seed": config["seed"],
            "epochs": epochs,
            "hyper_parameters": {
                key: config[key]
                for key in ("n_layers", "n_heads", "hidden_size", "inner_size", "hidden_dropout_prob",
                            "attn_dropout_prob", "hidden_act", "layer_norm_eps", "initializer_range",
                            "loss_type", "MAX_ITEM_LIST_LENGTH")
            },
        },
        "setup": {
            "torch": torch.__version__,
            "recbole": recbole.__version__,
            "numpy": numpy.__version__,
            "python": sys.version.split()[0],
            "device": str(config["device"]),
            "threads": torch.get_num_threads(),
            "autograd_anomaly_detection": anomaly_during_training,
            "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"),
        },
    }


def markdown(report: dict) -> str:
    counts, setup, test = report["counts"], report["setup"], report["test"]
    epochs = report["s_per_train_epoch"]
    subset = f", first {report['max_users']} users" if report["max_users"] else ""
    anomaly = "on (as RecBole ships)" if setup["autograd_anomaly_detection"] else "off (--no-anomaly)"
    return "\n".join([
        f"# RecBole {setup['recbole']} SASRec on {Path(report['data']).name}{subset}",
        "",
        "Protocol of recbole-ml-100k.md: LS valid_and_test, order TO, full ranking, RecBole's SASRec defaults,",
        f"Adam lr 0.001, batch 2048, seed 2020. torch {setup['torch']}, numpy {setup['numpy']}, "
        f"{setup['threads']} threads, {setup['device']}, autograd anomaly detection {anomaly}; {report['date']}.",
        "",
        "| model | NDCG@10 | Recall@10 | Hit@10 | MRR@10 | s/epoch | eval s | peak RSS MiB "
        "| users | items | interactions | training sequences |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {report['model']} | {test['ndcg@10']} | {test['recall@10']} | {test['hit@10']} | {test['mrr@10']} "
        f"| {statistics.mean(epochs) if epochs else float('nan'):.1f} | {report['s_test_eval_pass']:.3f} | {report['peak_rss_mib']:.0f} "
        f"| {counts['users']} | {counts['items']} | {counts['interactions']} | {counts['training_sequences']} |",
        "",
        f"s/epoch: mean of {len(epochs)} epoch(s) ({', '.join(f'{s:.1f}' for s in epochs)}); metrics after those "
        f"epochs only, not a converged model. eval s: median of {len(report['s_test_eval_passes'])} warm test passes.",
        "",
        f"Command: `{report['command']}`",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the sequence file, or a RecBole atomic .inter file (e.g. ml-100k.inter) used as it is")
    parser.add_argument("--epochs", type=int, default=1, help="0: no training, only the test passes (their cost does not depend on the weights)")
    parser.add_argument("--eval-repeats", type=int, default=3, help="warm test passes timed (the median is reported)")
    parser.add_argument("--max-users", type=int, default=None, help="keep only the first N users of the file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON; the table goes beside it as .md")
    parser.add_argument("--no-anomaly", action="store_true",
                        help="switch off the autograd anomaly detection that importing RecBole's SINE turns on")
    parser.add_argument("--keep-tmp", action="store_true", help="keep RecBole's temporary data/log folder")
    args = parser.parse_args()

    data, out = args.data.resolve(), args.out.resolve()
    command = shlex.join(["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1", sys.executable, *sys.argv])
    cwd = os.getcwd()
    workdir = Path(tempfile.mkdtemp(prefix="recbole_sports_"))
    start = time.perf_counter()
    try:
        report = measure(data, args.max_users, args.epochs, workdir, anomaly=not args.no_anomaly, eval_repeats=args.eval_repeats)
    finally:
        os.chdir(cwd)
        if args.keep_tmp:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["s_total"] = time.perf_counter() - start
    report["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    report["command"] = command

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
