"""prepare's manifest counting its users as text: the data-set table formatted it with {:,}
(ValueError, exit 1, before round 2)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "prepare" / "manifest.json", lambda m: m["figures"].update(users="many"))


CASE = run_case(["rank", "run_dir={run}"],
                ["{dir}/run/prepare/manifest.json", "figures.users: an integer, not a string"], damage)
