"""An item-text template that is not str.format syntax: refused by key before any file is read."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/missing.csv", "data.text_template='{title'"],
    expect=["data.text_template='{title'", "not a valid template", "expected '}'"],
)
