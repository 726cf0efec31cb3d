"""The Python API given arguments of the wrong kind (red-team round 2): each raises a DynrecError
subclass whose message is one line naming the argument, before anything runs or is written;
before round 2 each was an AttributeError, TypeError or ValueError from deep inside, and
`train(run_dir=["a"])` trained a model into a folder named `['a']`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import dynrec_cli
from tests.bad_inputs.test_catalogue import snapshot

CASES: dict[str, tuple[Callable[[Path], object], type, str]] = {
    "override_not_text": (lambda run: dynrec_cli.train(5, run_dir=run.parent / "new"), dynrec_cli.ConfigError,
                          "override 1: 5 is an int, not a 'key=value' string"),
    "run_dir_a_list": (lambda run: dynrec_cli.train(run_dir=["a"]), dynrec_cli.ConfigError,
                       "run_dir=['a']: a folder must be a str or os.PathLike path, not a list"),
    "config_dir_a_number": (lambda run: dynrec_cli.evaluate(run_dir=run, config_dir=3), dynrec_cli.ConfigError,
                            "config_dir=3: a folder must be"),
    "fail_under_a_list": (lambda run: dynrec_cli.evaluate(run_dir=run, fail_under=["test/ndcg@10=0.1"]),
                          dynrec_cli.ConfigError, "fail_under: a mapping {metric key: value}"),
    "fail_under_text": (lambda run: dynrec_cli.evaluate(run_dir=run, fail_under={"test/ndcg@10": "high"}),
                        dynrec_cli.ConfigError, "--fail-under test/ndcg@10=high: expected KEY=NUMBER"),
    "max_drop_a_set": (lambda run: dynrec_cli.evaluate(run_dir=run, baseline=run, max_drop={"test/ndcg@10"}),
                       dynrec_cli.ConfigError, "max_drop: a mapping"),
    "open_none": (lambda run: dynrec_cli.Run.open(None), dynrec_cli.ConfigError, "path=None: a folder must be"),
    "recommend_k_text": (lambda run: dynrec_cli.Run.open(run).recommend(users=["u1"], k="ten"), dynrec_cli.ConfigError,
                         "k='ten': an integer, not a str"),
    "capture_a_list": (lambda run: dynrec_cli.Run.open(run).capture([{"user_id": "u1"}]), dynrec_cli.DataError,
                       "the events argument: a pandas DataFrame"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_api_refuses_arguments_of_the_wrong_kind(name: str, trained_run: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    call, error, line = CASES[name]
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    monkeypatch.chdir(tmp_path)  # a run folder made from a bad run_dir would land here
    before = snapshot(tmp_path)
    with pytest.raises(error) as raised:
        call(run)
    message = str(raised.value)
    assert line in message and "\n" not in message, message
    assert raised.value.exit_code == 2
    assert snapshot(tmp_path) == before, "the refused call changed files"
