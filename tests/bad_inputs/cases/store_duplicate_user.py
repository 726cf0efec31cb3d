"""The store's users.parquet naming one user twice (store.json rehashed): one of the two users was
ranked with the other's vector (exit 0) before round 2."""
from pathlib import Path

import pandas as pd

from tests.bad_inputs.case import rehash_store, run_case, store_generation


def damage(run: Path) -> None:
    path = store_generation(run) / "users.parquet"
    table = pd.read_parquet(path)
    table.loc[1, "user_id"] = table.loc[0, "user_id"]
    table.to_parquet(path)
    rehash_store(run)


CASE = run_case(["rank", "run_dir={run}"],
                ["users.parquet, row 2, column 'user_id': id 'u0' appears twice"], damage, base="captured_run")
