"""A `--config-dir` option whose optimiser holds a nested `_target_` (a config handed over with
a run folder): refused when composed, before any stage."""
from pathlib import Path

from tests.bad_inputs.case import BadInput, good_files, plant_pickle, train_args


def trainer_option(path: Path) -> None:
    option = path / "trainer" / "fast.yaml"
    option.parent.mkdir(parents=True)
    option.write_text("defaults:\n  - default\n  - _self_\noptimizer:\n  eps:\n    _target_: pandas.read_pickle\n"
                      f"    filepath_or_buffer: {path.parent / 'payload.pkl'}\n")


CASE = BadInput(
    args=[*train_args(), "--config-dir", "{dir}/conf", "trainer=fast"],
    expect=["trainer.optimizer.eps._target_='pandas.read_pickle'"],
    files={**good_files(), "conf": trainer_option, "payload.pkl": plant_pickle},
    absent=["payload.pkl"],
)
