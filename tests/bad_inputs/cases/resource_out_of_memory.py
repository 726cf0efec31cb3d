"""An allocation that fails during work (a model too big for the memory the process may use:
4 GiB of address space here) is one line naming the keys that set the stage's memory."""
from tests.bad_inputs.case import run_case

CASE = run_case(["finetune", "run_dir={run}", "model.hidden=8192", "model.layers=8", "--force"],
                ["[finetune] out of memory", "DefaultCPUAllocator", "lower trainer.batch_size", "model.hidden"],
                lambda run: None, limits={"RLIMIT_AS": 4 << 30})
