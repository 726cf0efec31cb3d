"""A baseline whose per_user.parquet holds a NaN (manifest rehashed, so only the content is wrong):
the paired interval was NaN, which is below no limit: --max-drop passed (exit 0) before round 2."""
from pathlib import Path

import pandas as pd

from tests.bad_inputs.case import rehash, run_case


def damage(run: Path) -> None:
    table = pd.read_parquet(run / "evaluate" / "per_user.parquet")
    table.loc[2, "ndcg@10"] = float("nan")
    table.to_parquet(run / "evaluate" / "per_user.parquet")
    rehash(run / "evaluate", "per_user.parquet")


CASE = run_case(["evaluate", "run_dir={run}", "--baseline", "{run}", "--max-drop", "test/ndcg@10=1%"],
                ["{dir}/run/evaluate/per_user.parquet, row 3, column 'ndcg@10'", "not a finite number"], damage)
