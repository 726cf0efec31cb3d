"""A format spec a text value cannot take ({year:d}): the key, the catalogue and the item."""
from tests.bad_inputs.case import LOG, PREPARE_ARGS, BadInput

CATALOGUE = "item_id,title,year\n" + "".join(f"i{i},Item {i},199{i % 10}\n" for i in range(12))
CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv", "data.items={dir}/items.csv",
          "data.text_template='{title} ({year:d})'", *PREPARE_ARGS],
    expect=["items.csv", "data.text_template='{title} ({year:d})'", "item 'i0'", "Unknown format code 'd'"],
    files={"log.csv": LOG, "items.csv": CATALOGUE},
)
