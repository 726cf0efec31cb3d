"""`dynrec serve` on a run whose store.json lists its files as a list: refused before binding."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "store" / "store.json", lambda meta: meta.update(files=[]))


CASE = run_case(["serve", "run_dir={run}", "serve.port=1"],
                ["{dir}/run/store/store.json", "files: an object, not a list"], damage, base="captured_run")
