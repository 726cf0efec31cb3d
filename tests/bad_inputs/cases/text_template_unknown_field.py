"""An item-text template naming a field the catalogue lacks: the key, the field and the file."""
from tests.bad_inputs.case import CATALOGUE, LOG, PREPARE_ARGS, BadInput

CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv", "data.items={dir}/items.csv",
          "data.text_template='{titel}'", *PREPARE_ARGS],
    expect=["data.text_template uses 'titel'", "items.csv", "available fields: title"],
    files={"log.csv": LOG, "items.csv": CATALOGUE},
)
