"""A --config-dir preset that sets temporal cut-offs for a leave-one-out split: its key is the
user's, not a default, so it is refused like one given on the command line."""
from pathlib import Path

from tests.bad_inputs.case import BadInput
from tests.conftest import SAMPLE


def preset(target: Path) -> None:
    target.mkdir(parents=True)
    (target / "mine.yaml").write_text(f"defaults:\n  - _common\n  - _self_\nformat: movielens\nname: mine\npath: {SAMPLE}\n"
                                      "temporal:\n  valid: 0.7\n")


CASE = BadInput(args=["prepare", "run_dir={run}", "--config-dir", "{dir}/conf", "data=mine"],
                expect=["data.temporal.valid (from --config-dir {dir}/conf/data/mine.yaml)", "data.split=temporal"],
                files={"conf/data": preset})
