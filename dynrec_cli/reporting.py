"""Rich tables on the terminal: data set statistics and metrics."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def print_dataset_stats(stats: dict[str, Any]) -> None:
    table = Table(title="prepared data", show_header=False)
    lengths = stats.get("sequence_length", {})
    splits = stats.get("events_per_split", {})
    rows = [
        ("users", f"{stats['users']:,}"),
        ("items", f"{stats['items']:,}"),
        ("events", f"{stats['events']:,}"),
        ("density", f"{stats['density']:.4%}"),
        ("train / valid / test events", " / ".join(f"{splits.get(s, 0):,}" for s in ("train", "valid", "test"))),
        ("sequence length min / median / p90 / max", " / ".join(f"{lengths[q]:g}" if q in lengths else "" for q in ("min", "median", "p90", "max"))),
        ("duplicates removed", f"{stats.get('duplicates_removed', 0):,}"),
        ("items without text", f"{stats.get('items_without_text', 0):,}"),
        ("cold test targets", f"{stats.get('cold_test_targets', 0):,}"),
    ]
    for name, step in stats.get("filtered", {}).items():  # what each filter removed (data/filter_report.py)
        if step["events_removed"] and name != "duplicates":
            rows.append((f"removed by {step['by'].split(' (')[0]}", " / ".join(f"{step[f'{what}_removed']:,} {what}" for what in ("users", "items", "events"))))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def print_metrics(metrics: dict[str, float], title: str = "metrics") -> None:
    """One row per split and metric family, one column per K; then NDCG/Recall@10 per segment."""
    grouped: dict[tuple[str, str], dict[str, float]] = {}
    segments: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        split, _, name = key.rpartition("/")
        metric, _, k = name.partition("@")
        if "/" in split:
            segments.setdefault(split, {})[name] = value
        elif k:
            grouped.setdefault((split, metric), {})[k] = value
    ks = sorted({k for row in grouped.values() for k in row}, key=int)
    table = Table(title=title)
    for column in ("split", "metric"):
        table.add_column(column)
    for k in ks:
        table.add_column(f"@{k}", justify="right")
    for (split, metric), row in grouped.items():
        table.add_row(split, metric, *(f"{row[k]:.4f}" if k in row else "" for k in ks))
    console.print(table)
    if segments:
        seg = Table(title="segments")
        for column in ("segment", "users", "ndcg@10", "recall@10"):
            seg.add_column(column, justify="right" if column != "segment" else "left")
        for name, row in segments.items():
            figures = (f"{row[m]:.4f}" if m in row else "" for m in ("ndcg@10", "recall@10"))  # empty segment: blank
            seg.add_row(name, f"{row.get('users', 0):.0f}", *figures)
        console.print(seg)
