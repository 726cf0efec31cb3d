"""prepare's manifest counting its items as text: the check of eval.ks against the catalogue
read it with int() (ValueError, exit 1, before round 2)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "prepare" / "manifest.json", lambda m: m["figures"].update(items="lots"))


CASE = run_case(["evaluate", "run_dir={run}", "eval.ks=[5]"],
                ["{dir}/run/prepare/manifest.json", "figures.items: an integer, not a string"], damage)
