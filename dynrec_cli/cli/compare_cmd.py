"""`dynrec compare`, and the table of `dynrec evaluate --baseline`: dispatch and printing only."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from dynrec_cli.cli import _hydra
from dynrec_cli.cli.verbs import console, fail, setup_logging
from dynrec_cli.errors import ConfigError, DynrecError


def split_arguments(args: list[str]) -> tuple[list[Path], list[str]]:
    """Run folders and key=value overrides, in the order given; a folder that exists is a run even
    with `=` in its name (`runs/lr=0.01`, as sweeps name theirs)."""
    runs = [a for a in args if "=" not in a or Path(a).is_dir()]
    return [Path(a) for a in runs], [a for a in args if a not in runs]


def run_labels(runs: list[Path]) -> list[str]:
    """Folder names when they tell the runs apart, else the paths as given."""
    names = [r.name for r in runs]
    return names if len(set(names)) == len(names) else [str(r) for r in runs]


def print_table(rows: list[list[str]], title: str) -> None:
    from rich.console import Console

    table = Table(title=title)
    for i, column in enumerate(rows[0]):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows[1:]:
        table.add_row(*row)
    out = Console()
    if not out.is_terminal:  # CI logs and pipes: no terminal width to respect, keep rows on one line
        out = Console(width=160)
    out.print(table)


def run_compare(args: list[str], out: Path | None, allow_different_splits: bool) -> None:
    """Compare runs; write compare.csv/compare.md into `out` (default: the current folder, never a run)."""
    from dynrec_cli.config_checks import check_compare_show
    from dynrec_cli.config_lists import as_list
    from dynrec_cli.evaluation.compare import compare_runs, shown_keys, wide_table, write_outputs

    setup_logging()
    try:
        runs, overrides = split_arguments(args)
        cfg = _hydra.compose_config("compare", overrides).eval.compare
        check_compare_show(cfg)
        resamples, confidence, seed = int(cfg.resamples), float(cfg.confidence), int(cfg.seed)
        if resamples < 1 or not 0 < confidence < 1:
            raise ConfigError(f"eval.compare: resamples={resamples} must be >= 1 and confidence={confidence} in (0, 1)")
        long = compare_runs(runs, allow_different_splits, resamples, confidence, seed)
    except DynrecError as exc:
        raise fail(exc) from None
    names = run_labels(runs)
    show = [str(m) for m in as_list(cfg.show)]
    note = (
        f"Δ = run − {names[0]}, mean over the users both runs evaluated; interval: {confidence:.0%} paired "
        f"bootstrap over users ({resamples} resamples, seed {seed}); p: two-sided bootstrap p-value."
    )
    if not long.empty and not long["comparable"].all():
        note += " ild: not comparable between runs whose item vectors differ (each is measured in its own model's space)."
    paths = [str(r) for r in runs]
    terminal_keys = shown_keys(long, show[:1], segments=True) + shown_keys(long, show[1:], segments=False)
    print_table(wide_table(long, terminal_keys, paths, resamples, names), "compare")
    console.print(note, highlight=False)
    csv_path, md_path = write_outputs(long, out or Path.cwd(), wide_table(long, shown_keys(long, show, segments=True), paths, resamples, names), note)
    console.print(f"wrote {md_path} and {csv_path} (every split, segment and metric)", highlight=False)
