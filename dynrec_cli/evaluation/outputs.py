"""What `evaluate` writes besides metrics.json: the reports, and the final figures for tracking."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dynrec_cli import artifacts, run_files
from dynrec_cli.stages.base import StageContext

REPORTS = ("report.md", "report.html")


def write_reports(ctx: StageContext, out: Path, metrics: dict[str, float]) -> None:
    """evaluate/report.md and evaluate/report.html from the figures, the training log and the gates."""
    from dynrec_cli.evaluation.report import build_sections, render_html, render_markdown

    finetune = ctx.stage_dir("finetune")
    history_path = finetune / "history.json"
    history = run_files.read_json(history_path, run_files.HISTORY) if history_path.exists() else None
    manifest = artifacts.load_manifest(finetune) or {}
    figures: dict[str, Any] = manifest.get("figures", {})
    objective = str(ctx.cfg.trainer.objective)
    sections = build_sections(metrics, history, objective, figures.get("gates"))
    header = {
        "run": ctx.run_dir,
        "model": figures.get("model", ""),
        "protocol": "full ranking, seen items excluded" if ctx.cfg.eval.exclude_history else "full ranking, seen items kept",
        "best epoch": figures.get("best_epoch", "-"),
    }
    title = f"dynrec evaluation: {ctx.run_dir.name}"
    with artifacts.atomic_path(out / "report.md") as tmp:
        tmp.write_text(render_markdown(title, sections, header))
    with artifacts.atomic_path(out / "report.html") as tmp:
        tmp.write_text(render_html(title, sections, header))


def finish_evaluation(ctx: StageContext, out: Path, metrics: dict[str, float]) -> None:
    """Reports (unless eval.report=false) and the final figures to the tracker (trainer.tracking)."""
    if ctx.cfg.eval.report:
        write_reports(ctx, out, metrics)
    from omegaconf import OmegaConf

    from dynrec_cli.training.tracking import open_tracker

    with open_tracker(str(ctx.cfg.trainer.tracking), ctx.run_dir, OmegaConf.to_container(ctx.cfg, resolve=True)) as tracker:
        tracker.log_final(metrics)


def publish_reports(stage_dir: Path, run_dir: Path) -> None:
    """Copy the stage's reports next to DIR/metrics.json (a stale copy goes when there is none)."""
    for name in REPORTS:
        source, target = stage_dir / name, run_dir / name
        if source.exists():
            with artifacts.atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        else:
            target.unlink(missing_ok=True)
