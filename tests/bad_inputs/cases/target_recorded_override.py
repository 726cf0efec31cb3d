"""A run folder whose overrides.json gained a `_target_` that unpickles a planted file (the
issue's example): every verb re-applies the recorded overrides, so `dynrec train run_dir=DIR`
would run the pickle's payload. Refused, naming the file and the override."""
import json
from pathlib import Path

from tests.bad_inputs.case import MARKER, pickle_payload, run_case


def damage(run: Path) -> None:
    (run / "payload.pkl").write_bytes(pickle_payload(run.parent / MARKER))
    recorded = json.loads((run / "overrides.json").read_text())
    recorded.append(f"+trainer.optimizer.eps={{_target_:pandas.read_pickle,filepath_or_buffer:{run / 'payload.pkl'}}}")
    (run / "overrides.json").write_text(json.dumps(recorded))


CASE = run_case(["train", "run_dir={run}"],
                ["{dir}/run/overrides.json", "recorded override '+trainer.optimizer.eps'", "'pandas.read_pickle'"],
                damage, absent=["payload.pkl"])
