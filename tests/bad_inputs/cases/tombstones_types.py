"""forgotten.json whose salt is a number and users a string; `dynrec forget` reads it first."""
from pathlib import Path

import json

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    (run / "forgotten.json").write_text(json.dumps({"salt": 5, "users": "u1"}))


CASE = run_case(["forget", "run_dir={run}", "user=u2"],
                ["{dir}/run/forgotten.json", "salt: a string, not an integer"], damage, base="captured_run")
