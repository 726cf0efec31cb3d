"""The repo's configs/: every experiment and sweep file composes, says how to run it, and a wrong
name answers with the names there are."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dynrec_cli.cli._hydra import compose_config, compose_with_hydra, sweeper_params
from dynrec_cli.cli.sweep_check import validate_sweep
from dynrec_cli.config_checks import validate_config
from dynrec_cli.errors import ConfigError
from tests.conftest import REPO

CONFIGS = REPO / "configs"
# launcher plugin of each sweep file that needs one outside the dev extra
PLUGINS = {"adapters_seeds_ray": "hydra_plugins.hydra_ray_launcher"}


def names(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml") if not p.stem.startswith("_"))


@pytest.mark.parametrize("name", names("experiment"))
def test_every_experiment_composes_and_checks(name: str) -> None:
    cfg = compose_config("train", [f"+experiment={name}"], CONFIGS)
    validate_config(cfg)
    assert OmegaConf.missing_keys(cfg) == set()
    if name != "my_csv":  # the shared data sets: under $DYNREC_DATASETS, else ../shared/datasets
        assert str(cfg.data.path).startswith(os.environ.get("DYNREC_DATASETS", "../shared/datasets"))
        assert cfg.model._target_.rsplit(".", 1)[-1].lower().startswith(name.split("_")[1][:3])


@pytest.mark.parametrize("name", names("sweep"))
def test_every_sweep_file_composes_with_its_grid(name: str) -> None:
    if name in PLUGINS and importlib.util.find_spec(PLUGINS[name]) is None:
        pytest.skip(f"{PLUGINS[name]} (extra `ray`) not installed")
    experiment = "ml100k_sasrec" if "sasrec" in name else "ml100k_dynrec"
    overrides = [f"+experiment={experiment}", f"+sweep={name}"]
    params = sweeper_params(compose_with_hydra("train", overrides, CONFIGS)[1])
    assert params and "seed" in params
    validate_sweep("train", overrides, CONFIGS)  # every value of the grid composes


def test_every_yaml_says_the_command_that_runs_it() -> None:
    files = sorted(CONFIGS.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        lines = [line for line in path.read_text().splitlines() if not line.startswith("# @package")]
        assert lines[0].startswith("# dynrec train "), path
        assert "--config-dir configs" in lines[0], path


def test_an_override_after_the_experiment_wins() -> None:
    cfg = compose_config("train", ["+experiment=ml100k_dynrec", "adapter=moe", "trainer.epochs=2"], CONFIGS)
    assert cfg.adapter._target_.endswith("MoEAdapter") and cfg.trainer.epochs == 2
    assert cfg.data.format == "recbole" and cfg.encoder.name == "minilm"


def test_the_data_folder_follows_dynrec_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNREC_DATASETS", "/data/sets")
    cfg = compose_config("train", ["+experiment=scientific_sasrec"], CONFIGS)
    assert OmegaConf.to_container(cfg.data, resolve=True)["path"] == "/data/sets/amazon-scientific"


def test_an_unknown_experiment_lists_the_names(cli) -> None:
    result = cli("train", "--config-dir", "configs", "+experiment=ml100k_sasrek")
    assert result.exit_code == 2
    assert "unknown experiment=ml100k_sasrek; choose one of: ml100k_dynrec" in result.output
    assert "_ml100k" not in result.output  # the shared parts are not experiments
    assert len(result.output.strip().splitlines()) == 1
    result = cli("train", "+experiment=ml100k_sasrec")  # no --config-dir
    assert result.exit_code == 2 and "--config-dir configs +experiment=NAME" in result.output


def test_a_typo_in_a_sweep_file_grid_stops_before_any_job(tmp_path: Path) -> None:
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "bad.yaml").write_text(
        "# @package _global_\n# dynrec train -m --config-dir DIR +sweep=bad\n"
        "hydra:\n  sweeper:\n    params:\n      model.hiden: 8,16\n      seed: 0,1\n"
    )
    with pytest.raises(ConfigError, match="model.hiden.*model.hidden"):
        validate_sweep("train", ["model=sasrec", "+sweep=bad"], tmp_path)


def test_the_csv_template_prepares_the_sample(cli, tmp_path: Path) -> None:
    result = cli("prepare", "--config-dir", "configs", "+experiment=my_csv", f"run_dir={tmp_path / 'r'}")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "prepare" / "manifest.json").exists()


@pytest.mark.skipif(not (REPO.parent / "shared" / "datasets").is_dir() and "DYNREC_DATASETS" not in os.environ,
                    reason="the shared data sets are not beside the repo")
@pytest.mark.parametrize("name", [n for n in names("experiment") if n != "my_csv"])
def test_the_experiments_find_their_data_from_the_repo_root(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    cfg = compose_config("train", [f"+experiment={name}"], CONFIGS)
    assert Path(OmegaConf.to_container(cfg.data, resolve=True)["path"]).is_dir()
