"""A Hydra callback in a sweep: Hydra builds `hydra.callbacks.*` when the sweep starts. Refused
while the sweep's jobs are checked, before Hydra takes over."""
from tests.bad_inputs.case import READ_PAYLOAD, BadInput, good_files, plant_pickle, train_args

CASE = BadInput(
    args=["train", "-m", *train_args("model.dropout=0.1,0.2")[1:], f"+hydra.callbacks.audit={READ_PAYLOAD}"],
    expect=["hydra.callbacks.audit._target_='pandas.read_pickle'"],
    files={**good_files(), "payload.pkl": plant_pickle},
    absent=["payload.pkl"],
)
