"""A `_target_` nested in an optimiser argument on the command line: Hydra would build it (load
a planted pickle, which runs its payload) while building the optimiser. Refused before anything
is imported."""
from tests.bad_inputs.case import READ_PAYLOAD, BadInput, good_files, plant_pickle, train_args

CASE = BadInput(
    args=train_args(f"+trainer.optimizer.eps={READ_PAYLOAD}"),
    expect=["trainer.optimizer.eps._target_='pandas.read_pickle'", "dynrec builds nothing at trainer.optimizer.eps"],
    files={**good_files(), "payload.pkl": plant_pickle},
    absent=["payload.pkl"],
)
