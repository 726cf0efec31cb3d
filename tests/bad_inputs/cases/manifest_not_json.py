"""A manifest cut short (a copy interrupted)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    path = run / "capture" / "manifest.json"
    path.write_text(path.read_text()[:40])


CASE = run_case(["rank", "run_dir={run}"], ["capture/manifest.json", "not valid JSON"], damage)
