"""The store's state.safetensors with 2 user vectors for 8 users (store.json rehashed): IndexError
(exit 1) before round 2."""
from pathlib import Path

from tests.bad_inputs.case import edit_tensors, rehash_store, run_case, store_generation


def damage(run: Path) -> None:
    edit_tensors(store_generation(run) / "state.safetensors", lambda t: t.update(users=t["users"][:2]))
    rehash_store(run)


CASE = run_case(
    ["rank", "run_dir={run}"],
    ["{dir}/run/store/gen-", "state.safetensors: tensor users has shape [2, 8], expected 8 rows"],
    damage, base="captured_run",
)
