"""The store's items.parquet with an item_idx past the vectors (store.json rehashed): ranked
(exit 0) before round 2."""
from pathlib import Path

import pandas as pd

from tests.bad_inputs.case import rehash_store, run_case, store_generation


def damage(run: Path) -> None:
    path = store_generation(run) / "items.parquet"
    table = pd.read_parquet(path)
    table.loc[1, "item_idx"] = 99999
    table.to_parquet(path)
    rehash_store(run)


CASE = run_case(["rank", "run_dir={run}"],
                ["items.parquet, column 'item_idx': not the numbers 1 to 12 each once"], damage, base="captured_run")
