"""A Parquet item catalogue that lists an item twice."""
from tests.bad_inputs.case import LOG, PREPARE_ARGS, BadInput, parquet_bytes

ITEMS = parquet_bytes({"item_id": [f"i{i}" for i in range(12)] + ["i4"], "title": [f"Item {i}" for i in range(13)]})
CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv",
          "data.items={dir}/items.parquet", *PREPARE_ARGS],
    expect=["items.parquet", "row 13", "column 'item_id'", "'i4'"],
    files={"log.csv": LOG, "items.parquet": ITEMS},
)
