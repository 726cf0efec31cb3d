"""The interest store's tensors replaced by bytes that are no safetensors file, with store.json
agreeing (so only the content is wrong)."""
import json
from pathlib import Path

from dynrec_cli.artifacts import file_hash
from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    meta_path = run / "store" / "store.json"
    meta = json.loads(meta_path.read_text())
    state = run / "store" / f"gen-{meta['generation']:06d}" / "state.safetensors"
    state.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    meta["files"]["state.safetensors"] = file_hash(state)
    meta_path.write_text(json.dumps(meta))


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/store/gen-", "state.safetensors: not a safetensors file"], damage,
                base="captured_run")
