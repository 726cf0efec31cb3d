"""Retraining a run that holds an interest store (`train model=pop` on it): refused before any
stage runs, naming the store and the way out; it used to retrain, then fail at rank for good."""
from pathlib import Path

from tests.bad_inputs.case import run_case
from tests.conftest import run_from_repo


def damage(run: Path) -> None:
    """Not damage: a capture, which makes the run's interest store."""
    events = run.parent / "events.csv"
    events.write_text("user_id,item_id,timestamp\nu0,i3,2000000\nu1,i5,2000060\n")
    run_from_repo("capture", f"run_dir={run}", f"capture.events={events}")


CASE = run_case(["train", "run_dir={run}", "model=pop"],
                ["{dir}/run/store holds an interest store", "would retrain its finetune stage", "capture.on_retrain=archive"],
                damage)
