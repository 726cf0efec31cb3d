"""`hydra.searchpath=[pkg://NAME]` makes Hydra import NAME while composing: only folders
(file://) may be added to the search path."""
from tests.bad_inputs.case import BadInput, good_files, import_payload, train_args

CASE = BadInput(
    args=train_args("hydra.searchpath=[pkg://dynrec_payload]"),
    expect=["hydra.searchpath='pkg://dynrec_payload'", "only file:// folders"],
    files={**good_files(), "dynrec_payload": lambda path: import_payload(path.parent, "dynrec_payload")},
    env={"PYTHONPATH": "{dir}"},
)
