"""finetune: train the model (`model=`) with early stopping on the valid objective."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts, targets
from dynrec_cli.data.sequences import split_views, training_windows
from dynrec_cli.evaluation.evaluator import evaluable_users, evaluate_split
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.errors import ConfigError
from dynrec_cli.stages.pretrain import LM_FOLDER, item_texts, load_encoder, load_text_table
from dynrec_cli.training.checkpoint import build_model, model_class, save_model
from dynrec_cli.training import distributed, text_match
from dynrec_cli.training.device import resolve_device, resolve_precision
from dynrec_cli.training.loop import LoopSettings, fit, stop_reason
from dynrec_cli.training.resume import FOLDER_SUFFIX as RESUME_SUFFIX, ResumePoint

log = logging.getLogger(__name__)
LORA_FOLDER = "lora"


def check_objective_k(trainer: DictConfig, n_items: int, run_dir: Path) -> None:
    """Refuse an objective's K deeper than the catalogue (valid/ndcg@50 on 12 items), before training."""
    k = int(str(trainer.objective).rpartition("@")[2])
    if k > n_items:
        raise ConfigError(f"trainer.objective={trainer.objective}: K={k} is more than the {n_items} items of {run_dir}")


def model_kwargs(model_cfg: DictConfig, n_items: int) -> tuple[str, dict[str, Any]]:
    kwargs = OmegaConf.to_container(model_cfg, resolve=True)
    target = kwargs.pop("_target_")
    kwargs["n_items"] = n_items
    return target, kwargs


class FinetuneStage(Stage):
    NAME = "finetune"
    DEPENDS = ("prepare", "pretrain")
    DATA_PARALLEL = True  # under torchrun, training/distributed.py shards each batch over the ranks
    MEMORY_KEYS = ("trainer.batch_size", "model.max_len", "model.hidden", "model.layers", "eval.user_chunk")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        trainer = OmegaConf.to_container(cfg.trainer, resolve=True)
        trainer.pop("tracking", None)  # where figures are logged never changes the model
        trainer.pop("checkpoint_every", None)  # nor how often a resumable state is saved
        return {"model": cfg.model, "trainer": trainer, "seed": cfg.seed}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        cfg, prepared = ctx.cfg, ctx.prepared()
        torch.manual_seed(int(cfg.seed))
        if cfg.trainer.threads:
            torch.set_num_threads(int(cfg.trainer.threads))
        views = split_views(prepared.events, prepared.n_users)
        device = distributed.local_device(resolve_device(cfg.trainer.device))
        target, kwargs = model_kwargs(cfg.model, prepared.n_items)
        # adapter=lora: the LoRA keys configure the wrapper below, never the model (nor its checkpoint)
        lora = kwargs["adapter"].pop("lora", None) if isinstance(kwargs.get("adapter"), dict) else None
        text_table = self._text_table(ctx, target, kwargs)
        model = core = build_model(target, kwargs).to(device)
        if text_table is not None:
            model.set_text_table(text_table)
        if lora is not None:
            model = self._with_lora(ctx, core, lora).to(device)
        counts = torch.bincount(torch.from_numpy(views.train.items), minlength=prepared.n_items + 1)
        figures: dict[str, Any] = {"model": target, "parameters": sum(p.numel() for p in core.parameters())}
        if not model.trainable:
            model.fit(torch.from_numpy(views.train.items).to(device))
        else:
            model.set_item_counts(counts)
            per_user, objective = self._validator(ctx, views, device), str(cfg.trainer.objective)
            figures.update(self._train(ctx, model, views, device, out, lambda m: distributed.global_means(per_user(m))))
            if getattr(core, "text_match", False):
                figures["text_match"] = text_match.calibrate(
                    core, lambda m: per_user(m).get(objective, np.zeros(0)), objective, core.text_match_noise)
        if hasattr(model, "gates"):
            figures["gates"] = {name: round(value, 4) for name, value in model.gates().items()}
        save_model(core, target, kwargs, out)  # with lora: its table holds the last refresh, no LM needed
        if lora is not None:
            model.save_lora(out / LORA_FOLDER)
            figures["lora"] = model.figures()
        return figures

    def _with_lora(self, ctx: StageContext, core: torch.nn.Module, lora: dict[str, Any]) -> torch.nn.Module:
        """Wrap `core` with LoRA on the pretrain stage's language model (its MLM-tuned copy if any)."""
        from dynrec_cli.adapters.lora import build_lora_model

        enc = ctx.cfg.encoder
        tuned = ctx.stage_dir("pretrain") / LM_FOLDER
        lm, pooling, max_length = load_encoder(enc, tuned if tuned.is_dir() else None)
        return build_lora_model(core, lm, item_texts(ctx), lora, pooling, max_length, bool(enc.normalize), int(enc.batch_size))

    def _text_table(self, ctx: StageContext, target: str, kwargs: dict[str, Any]) -> torch.Tensor | None:
        """The item text embeddings for models that read text (and their `text_dim`), else None."""
        if not getattr(model_class(target), "uses_text", False):
            return None
        if ctx.cfg.encoder.name == "none":
            raise ConfigError(f"model={ctx.cfg.model._target_.rsplit('.', 1)[-1].lower()} reads item text: choose a language model, e.g. encoder=minilm")
        if "adapter" in kwargs and not (kwargs["adapter"] or {}).get("_target_"):
            raise ConfigError("model=dynrec needs an adapter: adapter=linear, mlp, moe or lora")
        table = load_text_table(ctx.stage_dir("pretrain"))
        kwargs["text_dim"] = int(table.shape[1])
        return table

    def _resume_point(self, ctx: StageContext) -> ResumePoint | None:
        """Where a killed run of this very stage (same config and inputs) left its last epoch."""
        every = int(ctx.cfg.trainer.checkpoint_every)
        key = artifacts.config_hash({"config": self.config_sections(ctx.cfg), "inputs": self.inputs(ctx)})
        return ResumePoint(ctx.run_dir / f"{self.NAME}{RESUME_SUFFIX}", key, every) if every > 0 else None

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        figures = manifest.get("figures", {})
        if figures.get("stop_reason"):  # trained models only (model=pop fits in one pass)
            log.info("[finetune] %s epochs, best epoch %s; stopped by %s",
                     figures["epochs_run"], figures["best_epoch"], figures["stop_reason"])

    def after_commit(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        ResumePoint(ctx.run_dir / f"{self.NAME}{RESUME_SUFFIX}", "").clear()  # the stage is complete
        super().after_commit(ctx, manifest)

    def _validator(
        self, ctx: StageContext, views: Any, device: torch.device
    ) -> Callable[[torch.nn.Module], dict[str, np.ndarray]]:
        """The valid split's per-user figures on this rank's shard: model -> {"valid/ndcg@10": (users,), ...}
        (early stopping reads their means over every rank)."""
        cfg = ctx.cfg
        exclude = views.train if cfg.trainer.valid_exclude_history else None
        split_name, metric = cfg.trainer.objective.split("/", 1)
        k = int(metric.split("@")[1])  # validation ranks only as deep as the objective needs
        users = distributed.shard_users(evaluable_users(views.train, views.valid))  # all of them in one process

        def per_user(m: torch.nn.Module) -> dict[str, np.ndarray]:
            result = evaluate_split(
                m, views.train, views.valid, exclude, [k], m.max_len,
                int(cfg.eval.user_chunk), int(cfg.eval.item_chunk), device, users,
            )
            return {f"{split_name}/{name}": values for name, values in result.per_user.items()}

        return per_user

    def _train(
        self, ctx: StageContext, model: torch.nn.Module, views: Any, device: torch.device, out: Path,
        validate: Callable[[torch.nn.Module], dict[str, float]],
    ) -> dict[str, Any]:  # fmt: skip
        cfg = ctx.cfg
        windows = training_windows(views.train, model.max_len)
        settings = LoopSettings(
            epochs=int(cfg.trainer.epochs), batch_size=int(cfg.trainer.batch_size), patience=int(cfg.trainer.patience),
            objective=str(cfg.trainer.objective), eval_every=int(cfg.trainer.eval_every),
            grad_clip=cfg.trainer.grad_clip, max_minutes=cfg.trainer.max_minutes, seed=int(cfg.seed),
        )
        from dynrec_cli.training.tracking import open_tracker

        kind = str(cfg.trainer.tracking) if distributed.is_main() else "none"
        with open_tracker(kind, ctx.run_dir, OmegaConf.to_container(cfg, resolve=True)) as tracker:
            result = fit(
                model, windows, validate, targets.instantiate(cfg.trainer.optimizer, "trainer.optimizer"), settings, device,
                resolve_precision(cfg.trainer.precision, device), on_epoch=tracker.log_epoch,
                resume=self._resume_point(ctx),
            )
        artifacts.write_json(out / "history.json", result.history)
        epochs = len(result.history)
        return {
            "windows": len(windows[0]),
            "epochs_run": epochs,
            "best_epoch": result.best_epoch,
            f"best_{cfg.trainer.objective}": result.best_score,
            "stopped": result.stopped,
            "stop_reason": stop_reason(result.stopped, settings, epochs),
            "train_seconds": round(result.train_seconds, 2),
            "seconds_per_epoch": round(sum(r["epoch_seconds"] for r in result.history) / max(epochs, 1), 3),
            "device": str(device),
        }
