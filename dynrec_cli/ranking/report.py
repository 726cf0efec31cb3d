"""The rank stage's figures on the terminal."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from dynrec_cli.reporting import console


def print_rank_figures(figures: dict[str, Any]) -> None:
    """One row per figure: lists written, and the faiss check against exact ranking when it ran."""
    table = Table(title="rank", show_header=False)
    for key, value in figures.items():
        table.add_row(key, f"{value:,.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value}")
    console.print(table)
