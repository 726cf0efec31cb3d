"""evaluate: full-ranking metrics on the valid and test splits; writes DIR/metrics.json."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.data.sequences import split_views
from dynrec_cli.errors import ConfigError
from dynrec_cli.evaluation.evaluator import evaluable_users, evaluate_split
from dynrec_cli.evaluation.extended import add_beyond_accuracy, all_segments, segment_columns
from dynrec_cli.evaluation.segments import segment_summary
from dynrec_cli.evaluation.outputs import finish_evaluation, publish_reports
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.training.checkpoint import load_model
from dynrec_cli.training.device import resolve_device, resolve_precision

SPLITS = ("valid", "test")
log = logging.getLogger(__name__)


def check_ks(cfg: DictConfig, n_items: int, run_dir: Path) -> None:
    """Refuse a cut-off K deeper than the catalogue; `cfg`: the eval section.

    The pipeline calls it as soon as prepare has counted the items, before any training."""
    deepest = max(int(k) for k in cfg.ks)
    if deepest > n_items:
        raise ConfigError(f"eval.ks={list(cfg.ks)}: K={deepest} is more than the {n_items} items of {run_dir}")


class EvaluateStage(Stage):
    NAME = "evaluate"
    DEPENDS = ("prepare", "finetune")
    MEMORY_KEYS = ("eval.user_chunk", "eval.item_chunk")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        return {"eval": {k: v for k, v in cfg.eval.items() if k not in ("user_chunk", "item_chunk", "compare")}}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        cfg, prepared = ctx.cfg.eval, ctx.prepared()
        unknown = [s for s in cfg.splits if s not in SPLITS]
        if unknown:
            raise ConfigError(f"eval.splits: unknown split {', '.join(unknown)}; choose from {', '.join(SPLITS)}")
        device = resolve_device(ctx.cfg.trainer.device)
        precision = resolve_precision(cfg.precision, device, key="eval.precision")
        model = load_model(ctx.stage_dir("finetune")).to(device)
        views = split_views(prepared.events, prepared.n_users)
        ks = sorted(int(k) for k in cfg.ks)
        check_ks(cfg, prepared.n_items, ctx.run_dir)
        plan = {"valid": (views.train, views.valid), "test": (views.train_valid, views.test)}
        metrics: dict[str, float] = {}
        frames = []
        for name in cfg.splits:
            history, targets = plan[name]
            if not len(evaluable_users(history, targets)):
                log.warning("evaluate: the %s split has no users to evaluate; metrics.json gets no %s/ metrics", name, name)
            result = evaluate_split(
                model, history, targets, history if cfg.exclude_history else None, ks,
                getattr(model, "max_len", 1), int(cfg.user_chunk), int(cfg.item_chunk), device, progress=True,
                precision=precision,
            )
            gini = add_beyond_accuracy(result, model, views.train.items, ks, name)
            metrics.update(result.summary(name, ks))
            metrics.update(gini)
            segments = all_segments(result, history, targets, views.train.items, prepared.has_time, cfg)
            metrics.update(segment_summary(name, result.per_user, segments))
            frame = pd.DataFrame({"split": name, "user_id": prepared.users["user_id"].to_numpy()[result.users]})
            frames.append(frame.assign(**result.per_user, **segment_columns(segments)))
        pd.concat(frames, ignore_index=True).to_parquet(out / "per_user.parquet", index=False)
        if cfg.protocol == "replay":  # next-event prediction through the test period (evaluation/replay.py)
            from dynrec_cli.evaluation.replay import PERIODS_FILE, replay_evaluation

            replayed, periods = replay_evaluation(
                model, prepared.events, prepared.n_users, ks, bool(cfg.exclude_history), int(cfg.replay_periods),
                getattr(model, "max_len", 1), int(cfg.user_chunk), int(cfg.item_chunk), device,
            )
            metrics.update(replayed)
            periods.to_csv(out / PERIODS_FILE, index=False)
        artifacts.write_json(out / "metrics.json", metrics)
        finish_evaluation(ctx, out, metrics)
        return metrics

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        from dynrec_cli.reporting import print_metrics

        artifacts.write_json(ctx.run_dir / "metrics.json", manifest["figures"])
        publish_reports(ctx.stage_dir(self.NAME), ctx.run_dir)
        print_metrics(manifest["figures"], title=f"metrics of {ctx.run_dir}")
