"""A store.json whose generation is text (edited by hand)."""
import json
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    meta_path = run / "store" / "store.json"
    meta = json.loads(meta_path.read_text())
    meta["generation"] = "latest"
    meta_path.write_text(json.dumps(meta))


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/store/store.json", "generation: an integer, not a string"], damage,
                base="captured_run")
