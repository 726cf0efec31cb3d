"""The log given as a named pipe (what `data.interactions=<(zcat log.gz)` names): it was refused as
`the file is empty (0 bytes)` before round 2, a size a pipe does not have."""
import os
from pathlib import Path

from tests.bad_inputs.case import BadInput


def pipe(path: Path) -> None:
    os.mkfifo(path)


CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv"],
    expect=["{dir}/log.csv: is not a regular file (a pipe, device or socket)"],
    files={"log.csv": pipe},
)
