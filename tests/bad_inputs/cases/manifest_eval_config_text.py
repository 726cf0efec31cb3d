"""An evaluate manifest whose config.eval is text instead of the eval section (AttributeError before)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "evaluate" / "manifest.json", lambda m: m.update(config={"eval": "x"}))


CASE = run_case(["compare", "{run}", "{run}", "--out", "{dir}/out"],
                ["{dir}/run/evaluate/manifest.json", "config.eval: an object, not a string"], damage)
