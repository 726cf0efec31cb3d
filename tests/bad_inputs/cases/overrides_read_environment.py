"""overrides.json whose data file is named through an environment variable (`${oc.env:HOME}`): a
run folder from elsewhere could name a CI token and have it printed in the error line (before
round 2: `/root/x.csv: file not found`) or written into config.json. Refused unread; dynrec
records an environment value as the value it had."""
from pathlib import Path

from tests.bad_inputs.case import add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "data.interactions=${oc.env:HOME}/x.csv")


CASE = run_case(["train", "run_dir={run}"],
                ["{dir}/run/overrides.json", "item 13: 'data.interactions' reads an environment variable"], damage,
                absent=[str(Path.home())])
