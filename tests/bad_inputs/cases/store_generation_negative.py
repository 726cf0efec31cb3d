"""store.json whose generation is -5."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "store" / "store.json", lambda meta: meta.update(generation=-5))


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/store/store.json", "damaged store"], damage, base="captured_run")
