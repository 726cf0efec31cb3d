"""An evaluate manifest whose recorded config is a list: `compare` read its eval protocol from it
(AttributeError, exit 1, before round 2)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "evaluate" / "manifest.json", lambda m: m.update(config=[1]))


CASE = run_case(["compare", "{run}", "{run}", "--out", "{dir}/out"],
                ["{dir}/run/evaluate/manifest.json", "config: an object, not a list"], damage)
