"""A journal segment whose entry has a text seq and a number for events."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    journal = run / "store" / "journal"
    journal.mkdir(exist_ok=True)
    (journal / "000001.jsonl").write_text('{"seq": "x", "events": 5}\n')


CASE = run_case(
    ["rank", "run_dir={run}"],
    ["{dir}/run/store/journal/000001.jsonl, line 1", "seq: an integer, not a string"],
    damage, base="captured_run",
)
