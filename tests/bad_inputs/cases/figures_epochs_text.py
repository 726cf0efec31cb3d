"""finetune's manifest with epochs_run as text: logged and reported as it was (exit 0 before)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "finetune" / "manifest.json", lambda m: m["figures"].update(epochs_run="two"))


CASE = run_case(["rank", "run_dir={run}"],
                ["{dir}/run/finetune/manifest.json", "figures.epochs_run: an integer, not a string"], damage)
