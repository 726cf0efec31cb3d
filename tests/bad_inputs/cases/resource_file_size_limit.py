"""A file-size limit (`ulimit -f`) hit while safetensors writes the checkpoint: EFBIG inside
the Rust writer, said in one line; the stage's temporary folder goes, the run stays as it was."""
from tests.bad_inputs.case import run_case

CASE = run_case(["finetune", "run_dir={run}", "model.hidden=256", "--force"],
                ["File too large", "ulimit -f", "run folder: {dir}/run"], lambda run: None,
                limits={"RLIMIT_FSIZE": 64 * 1024})
