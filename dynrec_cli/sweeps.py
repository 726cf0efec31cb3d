"""The summary of a finished sweep: every job sorted by the objective, on the terminal and on disk;
and the jobs refused for bad input, which may have run in other processes (joblib, Ray)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynrec_cli import artifacts, run_files

SUMMARY = "sweep_summary"
REFUSED = ".refused"  # one JSON file per refused job, read back by the process that launched the sweep


@dataclass
class JobRow:
    job: str
    overrides: list[str]
    objective: str
    value: float  # nan when the job wrote no metrics
    figures: dict[str, float]


def record_refusal(sweep_dir: Path, job_num: int, message: str) -> None:
    """Note that job `job_num` was refused (its one-line message), where the launching process reads it."""
    folder = Path(sweep_dir) / REFUSED
    folder.mkdir(parents=True, exist_ok=True)
    artifacts.write_json(folder / f"{job_num}.json", message)


def take_refusals(sweep_dir: Path) -> list[str]:
    """The messages of the refused jobs in job order, removing their records (a rerun starts clean)."""
    import shutil

    folder = Path(sweep_dir) / REFUSED
    if not folder.is_dir():
        return []
    records = sorted(folder.glob("*.json"), key=lambda p: _job_order(p.stem))
    messages = [run_files.read_json(p, str) for p in records]
    shutil.rmtree(folder)
    return messages


def collect_jobs(sweep_dir: Path) -> list[JobRow]:
    """One row per job folder (a child with config.json), best objective first, failed jobs last."""
    rows = []
    for folder in sorted(p for p in Path(sweep_dir).iterdir() if (p / "config.json").exists()):
        config = run_files.read_json(folder / "config.json", run_files.JOB_CONFIG)
        objective = config["trainer"]["objective"]
        overrides = _read_if_there(folder / "overrides.json", run_files.OVERRIDES, [])
        metrics = _read_if_there(folder / "metrics.json", run_files.METRICS, {})
        shown = [f"test/{m}" for m in config.get("eval", {}).get("compare", {}).get("show", ["ndcg@10", "recall@10"])]
        rows.append(JobRow(folder.name, overrides, objective, float(metrics.get(objective, math.nan)),
                           {k: metrics[k] for k in shown if k in metrics}))
    return sorted(rows, key=lambda r: (math.isnan(r.value), -r.value if not math.isnan(r.value) else 0, _job_order(r.job)))


def _read_if_there(path: Path, shape: run_files.Shape, default: Any) -> Any:
    return run_files.read_json(path, shape) if path.exists() else default


def _job_order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 30, name)


def common_overrides(rows: list[JobRow]) -> list[str]:
    """Overrides every job shares (the fixed part of the sweep), in the first job's order."""
    if not rows:
        return []
    shared = set.intersection(*(set(r.overrides) for r in rows))
    return [o for o in rows[0].overrides if o in shared]


def summary_table(rows: list[JobRow]) -> list[list[str]]:
    """Header + one row per job: rank, job, objective, the test figures, the overrides it varies."""
    keys = list(dict.fromkeys(k for r in rows for k in r.figures))
    objective = rows[0].objective if rows else "objective"
    common = set(common_overrides(rows))
    out = [["rank", "job", objective, *keys, "overrides"]]
    for rank, r in enumerate(rows, start=1):
        value = "failed" if math.isnan(r.value) else f"{r.value:.4f}"
        varied = " ".join(o for o in r.overrides if o not in common)
        out.append([str(rank), r.job, value, *(f"{r.figures[k]:.4f}" if k in r.figures else "" for k in keys), varied])
    return out


def write_summary(sweep_dir: Path, table: list[list[str]], common: list[str]) -> None:
    """sweep_summary.csv and sweep_summary.md in the sweep folder."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    with artifacts.atomic_path(Path(sweep_dir) / f"{SUMMARY}.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    head, *body = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    with artifacts.atomic_path(Path(sweep_dir) / f"{SUMMARY}.md") as tmp:
        tmp.write_text(f"# sweep {sweep_dir}\n\nEvery job: `{' '.join(common)}`\n\n" + "\n".join(lines) + "\n")


def report_sweep(sweep_dir: Path) -> None:
    """Collect, print (rich) and write the summary of the sweep in `sweep_dir`."""
    from rich.console import Console
    from rich.table import Table

    rows = collect_jobs(sweep_dir)
    table, common = summary_table(rows), common_overrides(rows)
    write_summary(sweep_dir, table, common)
    console = Console()
    if not console.is_terminal:  # logs: keep each job on one line
        console = Console(width=200)
    view = Table(title=f"sweep {sweep_dir} (sorted by {table[0][2]})")
    for column in table[0]:
        view.add_column(column, justify="left" if column in ("job", "overrides") else "right")
    for row in table[1:]:
        view.add_row(*row)
    console.print(view)
    console.print(f"every job: {' '.join(common)}", highlight=False)
    console.print(f"wrote {Path(sweep_dir) / SUMMARY}.csv and .md", highlight=False)
