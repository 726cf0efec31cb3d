"""What `evaluate` writes besides metrics.json: the reports, and the final figures for tracking."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from dynrec_cli import __version__, artifacts, run_files
from dynrec_cli.stages.base import StageContext

REPORTS = ("report.md", "report.html")


def write_reports(ctx: StageContext, out: Path, metrics: dict[str, float]) -> None:
    """evaluate/report.md (+ its PNG plots) and evaluate/report.html from the figures, the training
    log and the run's manifests."""
    from dynrec_cli.evaluation.report import build_sections, render_html, render_markdown

    finetune = ctx.stage_dir("finetune")
    history_path = finetune / "history.json"
    history = run_files.read_json(history_path, run_files.HISTORY) if history_path.exists() else None
    figures: dict[str, Any] = (artifacts.load_manifest(finetune) or {}).get("figures", {})
    sections = build_sections(metrics, history, str(ctx.cfg.trainer.objective), figures)
    for section in sections:
        if section.image:
            with artifacts.atomic_path(out / section.file) as tmp:
                tmp.write_bytes(section.image)
    header = report_header(ctx, figures)
    title = f"dynrec evaluation: {ctx.run_dir.name}"
    with artifacts.atomic_path(out / "report.md") as tmp:
        tmp.write_text(render_markdown(title, sections, header))
    with artifacts.atomic_path(out / "report.html") as tmp:
        tmp.write_text(render_html(title, sections, header))


def report_header(ctx: StageContext, training: dict[str, Any]) -> dict[str, Any]:
    """What a reader needs to know which run this is: data, model, key config, training, version."""
    cfg = ctx.cfg
    data = (artifacts.load_manifest(ctx.stage_dir("prepare")) or {}).get("figures", {})
    name = str(cfg.model._target_).rsplit(".", 1)[-1]
    header: dict[str, Any] = {
        "run": ctx.run_dir,
        "data set": f"{data_label(cfg.data)}: {data.get('users', 0):,} users, {data.get('items', 0):,} items, "
                    f"{data.get('events', 0):,} events, split {cfg.data.split}",
        "model": f"{name} ({label})" if (label := model_label(cfg)) else name,
    }
    if training.get("epochs_run"):
        header["training"] = (f"{training['epochs_run']} epochs, best {training.get('best_epoch', '-')}; "
                              f"stopped: {training.get('stop_reason', training.get('stopped', '-'))}")
    header["protocol"] = "full ranking, seen items excluded" if cfg.eval.exclude_history else "full ranking, seen items kept"
    header["dynrec"] = __version__
    return header


def data_label(data: DictConfig) -> str:
    """The data set's name, format and where it was read, e.g. `ml-100k (format movielens, /data/ml-100k)`."""
    return f"{data.name} (format {data.format}, {data.path or data.interactions})"


def model_label(cfg: DictConfig) -> str:
    """The keys that tell models apart: size, adapter and language model where the model reads text."""
    from dynrec_cli.stages.pretrain import encodes_text

    model = cfg.model
    keys = [f"{k}={model[k]}" for k in ("hidden", "layers", "max_len", "loss") if k in model]
    if encodes_text(cfg):
        adapter = str((model.get("adapter") or {}).get("_target_") or "none").rsplit(".", 1)[-1]
        keys += [f"adapter={adapter}", f"encoder={cfg.encoder.name} ({cfg.encoder.model})"]
    return ", ".join(keys)


def finish_evaluation(ctx: StageContext, out: Path, metrics: dict[str, float]) -> None:
    """Reports (unless eval.report=false) and the final figures to the tracker (trainer.tracking)."""
    if ctx.cfg.eval.report:
        write_reports(ctx, out, metrics)
    from omegaconf import OmegaConf

    from dynrec_cli.training.tracking import open_tracker

    with open_tracker(str(ctx.cfg.trainer.tracking), ctx.run_dir, OmegaConf.to_container(ctx.cfg, resolve=True)) as tracker:
        tracker.log_final(metrics)


def publish_reports(stage_dir: Path, run_dir: Path) -> None:
    """Copy the stage's reports next to DIR/metrics.json, report.md linking its plots in the stage
    folder (a stale copy goes when there is none)."""
    from dynrec_cli.evaluation.report import relink_images

    for name in REPORTS:
        source, target = stage_dir / name, run_dir / name
        if not source.exists():
            target.unlink(missing_ok=True)
            continue
        with artifacts.atomic_path(target) as tmp:
            if name.endswith(".md"):
                tmp.write_text(relink_images(source.read_text(), f"{stage_dir.name}/"))
            else:
                shutil.copyfile(source, tmp)
