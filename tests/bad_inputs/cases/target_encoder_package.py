"""`encoder.model=package:NAME` names a module to import: an installed module that does not
ship a model (here one that runs code when imported) is refused before it is imported."""
from tests.bad_inputs.case import PREPARE_ARGS, BadInput, good_files, import_payload

CASE = BadInput(
    args=["pretrain", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv", *PREPARE_ARGS, "model=dynrec",
          "encoder=minilm", "encoder.model=package:dynrec_payload"],
    expect=["encoder.model=package:dynrec_payload", "a package that ships a model"],
    files={**good_files(), "dynrec_payload": lambda path: import_payload(path.parent, "dynrec_payload")},
    env={"PYTHONPATH": "{dir}"},
)
