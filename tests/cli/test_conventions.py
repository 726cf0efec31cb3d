"""What users of Hydra and of other CLIs type by habit: --version, completion, --cfg, --info; and
config errors answered before torch, transformers or pandas are imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests.conftest import REPO

HEAVY = ("torch", "transformers", "pandas", "numpy")


def test_version_is_the_installed_metadata(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0 and result.output == f"dynrec {version('dynrec')}\n"


def test_show_completion_prints_a_bash_script() -> None:
    # Typer detects the user's shell from the process tree; named explicitly here (no shell under CI)
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    code = "from dynrec_cli.cli import app; app(prog_name='dynrec')"
    out = subprocess.run([sys.executable, "-c", code, "--show-completion", "bash"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "_DYNREC_COMPLETE=complete_bash" in out.stdout and "complete -o default -F _dynrec_completion dynrec" in out.stdout


def _complete(words: str, shell: str = "bash") -> list[str]:
    """What the shell's completion hook gets back for the command line `words` (cursor at the end)."""
    env = {**os.environ, "_DYNREC_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env.update(COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    else:
        env["_TYPER_COMPLETE_ARGS"] = words
    code = "from dynrec_cli.cli import app; app(prog_name='dynrec')"  # what the `dynrec` script runs
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO, timeout=60)
    return out.stdout.split()


def test_completion_offers_config_keys_and_group_options() -> None:
    keys = _complete("dynrec train model.hi")
    assert keys == ["model.hidden="]
    assert {"model=", "model.layers="} <= set(_complete("dynrec evaluate mod"))
    # bash splits `model=sa` at the `=` and completes the word after it
    assert _complete("dynrec train model = sa") == ["sasrec"]
    assert {"dynrec", "sasrec", "gru4rec", "pop"} <= set(_complete("dynrec train model = "))
    assert "model=sasrec" in " ".join(_complete("dynrec train model=sa", shell="zsh"))


@pytest.mark.parametrize("mode", ["job", "hydra", "all"])
def test_cfg_prints_what_hydra_prints(cli, mode: str) -> None:
    result = cli("train", "--cfg", mode, "model=sasrec", "model.hidden=24")
    assert result.exit_code == 0, result.output
    has_job = "model:" in result.output and "hidden: 24" in result.output
    has_hydra = "hydra:" in result.output and "searchpath" in result.output
    assert (has_job, has_hydra) == {"job": (True, False), "hydra": (False, True), "all": (True, True)}[mode]


def test_cfg_resolve_and_package(cli) -> None:
    raw = cli("train", "--cfg", "job", "-p", "data")
    assert raw.exit_code == 0 and "# @package data" in raw.output and "${dynrec.sample:ml-latest-small}" in raw.output
    resolved = cli("train", "--cfg", "job", "--resolve", "-p", "data")
    assert str(REPO / "dynrec_cli" / "data" / "samples" / "ml-latest-small") in resolved.output


def test_cfg_of_a_run_starts_from_its_recorded_overrides(cli, tmp_path) -> None:
    (tmp_path / "overrides.json").write_text(json.dumps(["model=pop"]))
    result = cli("evaluate", "--cfg", "job", f"run_dir={tmp_path}", "-p", "model")
    assert result.exit_code == 0 and "dynrec_cli.models.pop" in result.output, result.output


def test_cfg_with_a_typo_is_one_line_and_exit_2(cli) -> None:
    result = cli("train", "--cfg", "job", "model.hiden=3")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: unknown config key 'model.hiden'. Did you mean model.hidden?")
    assert cli("train", "--cfg", "jobs").exit_code == 2


def test_info_shows_search_path_and_defaults(cli) -> None:
    every = cli("train", "--info", "model=sasrec")
    assert every.exit_code == 0, every.output
    for part in ("Config search path", "Defaults List", "Defaults Tree", "model/sasrec", f"file://{REPO / 'dynrec_cli' / 'conf'}"):
        assert part in every.output, part
    defaults = cli("train", "--info", "defaults", "model=sasrec")
    assert defaults.exit_code == 0 and "model/sasrec" in defaults.output and "Config search path" not in defaults.output


def _heavy_modules_after(code: str) -> tuple[str, list[str]]:
    """Run `code` in a fresh interpreter; its last printed line, and which heavy libraries it imported."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    lines = out.stdout.strip().splitlines()
    return out.stderr + "\n".join(lines[:-1]), eval(lines[-1])  # noqa: S307 - our own print of a list


@pytest.mark.parametrize("args", [
    ["train", "model.hiden=3"],
    ["train", "trainer.epochs=0"],
    ["evaluate", "--fail-under", "test/ndcg@10=0.1", "run_dir=runs/none", "eval.kss=[5]"],
    ["train", "data.text_template={0}"],
    ["evaluate", "--fail-under", "test/ndcg@10=0", "run_dir=runs/none"],  # a floor that decides nothing
    ["train", "model=pop", "trainer.epochs=3"],  # a key nothing reads with this model
    ["train", "-m", "model=pop,sasrec", "rank.mmr.lambda=0.5"],  # the same in a sweep
])
def test_config_errors_are_answered_before_torch_is_imported(args: list[str]) -> None:
    said, heavy = _heavy_modules_after(
        "from dynrec_cli.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit as exc:\n    print('exit', exc.code)"
    )
    assert "exit 2" in said and "error:" in said, said
    assert heavy == [], heavy


def test_api_config_errors_import_nothing_heavy_either() -> None:
    said, heavy = _heavy_modules_after(
        "import dynrec_cli\n"
        "try:\n    dynrec_cli.train('model.hiden=3')\nexcept dynrec_cli.ConfigError as exc:\n    print(exc.exit_code, exc)"
    )
    assert said.strip().startswith("2 unknown config key 'model.hiden'"), said
    assert heavy == []


def test_light_metric_names_are_the_metric_functions() -> None:
    """config_checks names the metrics without importing torch: the same names as evaluation.metrics."""
    from dynrec_cli.config_checks import METRICS
    from dynrec_cli.evaluation.metrics import METRICS as FUNCTIONS

    assert METRICS == tuple(FUNCTIONS)


def test_a_class_checked_after_the_values_is_still_refused_before_any_work(cli, tmp_path) -> None:
    """Composing matches `_target_` names as text only (no torch); validate_config then imports the
    class and checks what it is, before any stage runs."""
    run = tmp_path / "run"
    for wrong in ("torch.optim.lr_scheduler.StepLR", "torch.optim.NoSuchOptimiser"):  # a class of the wrong kind, none
        result = cli("train", f"run_dir={run}", f"trainer.optimizer._target_={wrong}")
        assert result.exit_code == 2 and "is not a torch.optim optimiser class" in " ".join(result.output.split())
    assert not run.exists()
