"""A log given without data=csv: nothing reads it under the default preset (it used to train on the
shipped sample instead, exit 0)."""
from tests.bad_inputs.case import LOG, BadInput

CASE = BadInput(args=["train", "run_dir={run}", "data.interactions={dir}/log.csv"],
                expect=["data.interactions: nothing reads it with data=sample", "data=csv"], files={"log.csv": LOG})
