"""A pickle planted as model.safetensors (manifest rehashed): read as safetensors only, never unpickled."""
from pathlib import Path

from tests.bad_inputs.case import MARKER, pickle_payload, rehash, run_case


def damage(run: Path) -> None:
    (run / "finetune" / "model.safetensors").write_bytes(pickle_payload(run.parent / MARKER))
    rehash(run / "finetune", "model.safetensors")


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.safetensors: not a safetensors checkpoint"], damage)
