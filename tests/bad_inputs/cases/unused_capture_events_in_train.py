"""capture.events given to train, which never captures (only `dynrec capture` does)."""
from tests.bad_inputs.case import LOG, BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "capture.events={dir}/events.csv"],
                expect=["capture.events: nothing reads it with dynrec train", "dynrec capture"], files={"events.csv": LOG})
