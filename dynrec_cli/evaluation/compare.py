"""`dynrec compare`: runs side by side, and each run's paired difference from the first one.

Pairs are users: every run's `evaluate/per_user.parquet` holds one row per (split, user), so the
difference is taken user by user, within the whole split and within each segment (the segment
masks of the first run; runs on the same split have the same segments).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ArtifactError, ConfigError
from dynrec_cli.evaluation import markdown as md
from dynrec_cli.evaluation.extended import SEGMENT_PREFIX
from dynrec_cli.evaluation.significance import paired_bootstrap

log = logging.getLogger(__name__)
PER_USER = Path("evaluate") / "per_user.parquet"
SPLIT_FILES = ("events.parquet", "users.parquet", "items.parquet")  # prepare outputs that fix the split
ALL = "all"  # segment name of the whole split
PROTOCOL_KEYS = ("exclude_history", "protocol")  # eval keys under which the same model scores differently
# figures measured in the model's own item vectors (ILD: 1 - cosine between the listed items'
# vectors): runs with other vectors measure in other spaces, and their difference means nothing
OWN_SPACE_METRICS = ("ild@",)


@dataclass
class EvaluatedRun:
    path: Path
    per_user: pd.DataFrame
    split_hash: str
    protocol: dict[str, object]  # the eval keys that change what a figure means (PROTOCOL_KEYS)
    item_space: str | None  # hash of the trained weights the item vectors come from (None: unknown)


def load_run(path: Path) -> EvaluatedRun:
    """A run folder with an evaluation; ArtifactError naming the folder otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f"{path}: no such run folder")
    if not (path / PER_USER).exists():
        raise ArtifactError(f"{path}: no evaluation in this run (run `dynrec evaluate run_dir={path}` first)")
    artifacts.verified_file(path / "evaluate", "per_user.parquet")
    prepare = artifacts.load_manifest(path / "prepare")
    if prepare is None:
        raise ArtifactError(f"{path / 'prepare'}: missing (the run's prepared data set is needed to check the split)")
    split_hash = "|".join(prepare["outputs"].get(name, "") for name in SPLIT_FILES)
    evaluated = (artifacts.load_manifest(path / "evaluate") or {}).get("config", {}).get("eval", {})
    protocol = {key: evaluated.get(key) for key in PROTOCOL_KEYS}
    item_space = (artifacts.load_manifest(path / "finetune") or {}).get("outputs", {}).get("model.safetensors")
    per_user = run_files.read_table(path / PER_USER, ("split", "user_id"))
    run_files.check_finite(path / PER_USER, per_user, metric_columns(per_user))
    return EvaluatedRun(path, per_user, split_hash, protocol, item_space)


def same_item_space(base: EvaluatedRun, run: EvaluatedRun) -> bool:
    """Whether two runs' item vectors are the same (the same trained weights), so that figures
    measured in them (OWN_SPACE_METRICS) compare."""
    return base.item_space is not None and base.item_space == run.item_space


def space_warnings(runs: list[EvaluatedRun]) -> list[str]:
    """One line per run whose item vectors differ from the first run's: its ILD is not comparable."""
    return [f"{run.path}: ild is measured in each model's own item vectors, and these differ from {runs[0].path}'s: "
            "its ild differences are not comparable (coverage, gini, novelty and poprank depend on the lists alone)"
            for run in runs[1:] if not same_item_space(runs[0], run)]


def protocol_warnings(runs: list[EvaluatedRun]) -> list[str]:
    """One line per run evaluated under other rules than the first (e.g. history not excluded):
    its figures still pair user by user, but a difference then mixes model and protocol."""
    base = runs[0]
    lines = []
    for run in runs[1:]:
        differ = [f"eval.{k}={run.protocol[k]} where {base.path} has {base.protocol[k]}" for k in PROTOCOL_KEYS
                  if run.protocol[k] != base.protocol[k]]
        if differ:
            lines.append(f"{run.path}: evaluated with {'; '.join(differ)}: its differences mix model and protocol")
    return lines


def check_same_split(runs: list[EvaluatedRun], allow: bool | None) -> None:
    """Refuse runs whose prepared data differ (another split, filter or data set) unless allowed
    (None: no override exists, as for `evaluate --baseline`, whose gate needs the same split)."""
    base = runs[0]
    other = [r.path for r in runs[1:] if r.split_hash != base.split_hash]
    if other and not allow:
        names = ", ".join(str(p) for p in other)
        way_out = ("--allow-different-splits pairs the users they share" if allow is not None
                   else "gate against a baseline trained on the same data and split")
        raise ConfigError(
            f"{names}: evaluated on a different split than {base.path} (prepare outputs differ); "
            f"a paired comparison needs the same users and targets ({way_out})"
        )


def metric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("split", "user_id") and not c.startswith(SEGMENT_PREFIX)]


def _segments(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    masks = {ALL: np.ones(len(frame), dtype=bool)}
    masks.update({c[len(SEGMENT_PREFIX):]: frame[c].to_numpy(bool) for c in frame.columns if c.startswith(SEGMENT_PREFIX)})
    return masks


def paired_rows(base: EvaluatedRun, run: EvaluatedRun, resamples: int, confidence: float, seed: int) -> list[dict]:
    """One row per (split, segment, metric) both runs have: means, B − A, interval, p, users."""
    shared = [c for c in metric_columns(base.per_user) if c in run.per_user.columns]
    right = run.per_user[["split", "user_id", *shared]]
    merged = base.per_user.merge(right, on=["split", "user_id"], suffixes=("", "__b"))
    rows = []
    comparable = same_item_space(base, run)
    for split, frame in merged.groupby("split", sort=False):
        for segment, mask in _segments(frame).items():
            if not mask.any():  # an empty segment (e.g. no short histories) has nothing to pair
                continue
            a = frame.loc[mask, shared].to_numpy(np.float64)
            b = frame.loc[mask, [f"{c}__b" for c in shared]].to_numpy(np.float64)
            result = paired_bootstrap(a, b, resamples, confidence, seed)
            for j, metric in enumerate(shared):
                key = f"{split}/{metric}" if segment == ALL else f"{split}/{segment}/{metric}"
                rows.append({
                    "key": key, "split": split, "segment": segment, "metric": metric, "run": str(run.path),
                    "users": result.n, "base": result.mean_a[j], "value": result.mean_b[j], "diff": result.diff[j],
                    "low": result.low[j], "high": result.high[j], "p_value": result.p_value[j],
                    "comparable": comparable or not metric.startswith(OWN_SPACE_METRICS),
                })
    return rows


def compare_runs(paths: list[Path], allow_different_splits: bool | None, resamples: int, confidence: float, seed: int) -> pd.DataFrame:
    """Long table: each later run against the first, per split, segment and metric."""
    if len(paths) < 2:
        raise ConfigError("compare: give at least two run folders, e.g. `dynrec compare runs/a runs/b`")
    runs = [load_run(p) for p in paths]
    check_same_split(runs, allow_different_splits)
    for line in protocol_warnings(runs) + space_warnings(runs):
        log.warning(line)
    rows = [row for run in runs[1:] for row in paired_rows(runs[0], run, resamples, confidence, seed)]
    return pd.DataFrame(rows)


def format_p(p: float, resamples: int) -> str:
    return f"<{1 / resamples:.0e}" if p == 0 else f"{p:.3f}"


def wide_table(long: pd.DataFrame, keys: list[str], runs: list[str], resamples: int, labels: list[str] | None = None) -> list[list[str]]:
    """Header + one row per key: the first run's value, then per run its value, Δ, [low, high], p.

    `runs` are the paths as in `long["run"]`; `labels` (default: the same) head the columns.
    """
    labels = labels or runs
    header = ["key", "users", labels[0]]
    for label in labels[1:]:
        header += [label, "Δ", "interval", "p"]
    out = [header]
    indexed = long.set_index(["key", "run"])
    for key in keys:
        present = [run for run in runs[1:] if (key, run) in indexed.index]
        first = indexed.loc[(key, present[0])]
        row = [key, f"{first['users']:.0f}", f"{first['base']:.4f}"]
        for run in runs[1:]:
            if run not in present:  # a metric this run was not evaluated with
                row += ["", "", "", ""]
                continue
            r = indexed.loc[(key, run)]
            if not r["comparable"]:  # the figures of each run, but no difference to read
                row += [f"{r['value']:.4f}", "", "not comparable", ""]
                continue
            row += [f"{r['value']:.4f}", f"{r['diff']:+.4f}", f"[{r['low']:+.4f}, {r['high']:+.4f}]", format_p(r["p_value"], resamples)]
        out.append(row)
    return out


def shown_keys(long: pd.DataFrame, show: list[str], segments: bool) -> list[str]:
    """The keys of the `show` metrics, whole splits first, then (optionally) every segment."""
    keep = long[long["metric"].isin(show) & (segments | (long["segment"] == ALL))]
    order = {m: i for i, m in enumerate(show)}
    keep = keep.assign(_m=keep["metric"].map(order), _s=keep["segment"] != ALL)
    return list(dict.fromkeys(keep.sort_values(["split", "_s", "segment", "_m"], kind="stable")["key"]))


def write_outputs(long: pd.DataFrame, folder: Path, table: list[list[str]], note: str) -> tuple[Path, Path]:
    """compare.csv (every row) and compare.md (the shown table) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / "compare.csv", folder / "compare.md"
    with artifacts.atomic_path(csv_path) as tmp:
        long.to_csv(tmp, index=False)
    lines = ["# dynrec compare", "", md.text(note), "", *md.table(table)]
    with artifacts.atomic_path(md_path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return csv_path, md_path
