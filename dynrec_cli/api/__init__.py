"""The Python API: the pipeline verbs as functions and `Run`, on the CLI's own code paths (docs/api.md)."""

from dynrec_cli.api.run import Run, Vectors
from dynrec_cli.api.verbs import capture, evaluate, finetune, prepare, pretrain, rank, sweep, train

__all__ = ["Run", "Vectors", "capture", "evaluate", "finetune", "prepare", "pretrain", "rank", "sweep", "train"]
