"""A `--config-dir` option that is not valid YAML (the line and column are in the message)."""
from pathlib import Path

from tests.bad_inputs.case import BadInput


def model_option(path: Path) -> None:
    (path / "model").mkdir(parents=True)
    (path / "model" / "mine.yaml").write_text("hidden: 8\nlayers: 1: 2\n")


CASE = BadInput(args=["train", "run_dir={run}", "--config-dir", "{dir}/conf", "model=mine"],
                expect=["not valid YAML", "{dir}/conf/model/mine.yaml", "line 2, column 10"], files={"conf": model_option})
