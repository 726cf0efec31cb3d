"""The jobs dynrec's sweep check composed are the ones Hydra's sweeper would compose again: their
overrides, as the check writes them, match the batch entries Hydra's basic sweeper builds."""

from __future__ import annotations

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

from dynrec_cli import targets
from dynrec_cli.cli._hydra import _task_overrides, compose_config
from dynrec_cli.cli.sweep_check import validate_sweep

SWEEP = ["model=sasrec", "model.hidden=8,16", "seed=0,1", "eval.ks=[5, 10]", "trainer=tiny", "+trainer.optimizer.eps=1e-6",
         "hydra/launcher=basic", "hydra.job.chdir=false"]


def _hydra_batch(overrides: list[str]) -> set[frozenset[str]]:
    """Every job of the sweep as Hydra's basic sweeper hands it to validate_batch_is_legal."""
    task = [o for o in overrides if not o.startswith(("hydra", "run_dir="))]
    (batch,) = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(task), None)
    return {frozenset(job) for job in batch}


def test_the_jobs_the_check_composed_are_found_in_hydras_batch(tmp_path) -> None:
    overrides = [*SWEEP, f"run_dir={tmp_path / 'sweep'}"]
    composed = {_task_overrides(job) for job in validate_sweep("train", overrides, None)}
    batch = _hydra_batch(overrides)
    # the first job and one job per other value: 3 of the 2 x 2 grid, all of them Hydra's
    assert len(batch) == 4 and len(composed & batch) == 3, (composed, batch)


def test_the_classes_of_a_config_are_listed_and_checked_by_import() -> None:
    cfg = compose_config("train", ["model=dynrec", "adapter=moe"])
    named = targets.named_classes(cfg)
    assert ("model", "dynrec_cli.models.dynrec.DynRec") in named
    assert ("trainer.optimizer", str(cfg.trainer.optimizer._target_)) in named
    assert any(place.endswith("adapter") and name.endswith("MoEAdapter") for place, name in named)
    assert targets.class_refusals(named) == []
    missing = {("trainer.optimizer", "torch.optim.NoSuchOptimiser")}
    assert targets.class_refusals(named | missing) == [
        ("trainer.optimizer", "trainer.optimizer._target_='torch.optim.NoSuchOptimiser' is not a torch.optim optimiser "
                              "class (no such class is installed)")]
