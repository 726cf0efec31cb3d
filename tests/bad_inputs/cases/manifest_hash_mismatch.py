"""A prepared table edited by hand after the fact: its hash no longer matches the manifest."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    with open(run / "prepare" / "users.parquet", "ab") as handle:
        handle.write(b"\0")


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["prepare/users.parquet", "does not match its manifest"],
                damage)
