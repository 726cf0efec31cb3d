"""dynrec: language-model-assisted sequential recommendation that follows users' changing interests.

The Python API (docs/api.md) is imported on first use, so `import dynrec_cli` stays cheap:

    import dynrec_cli
    run = dynrec_cli.train("model=sasrec", "trainer=tiny", run_dir="runs/a")
    run.metrics["test/ndcg@10"], run.recommend(users=["1"], k=5)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# `capture` is the name of a subpackage (dynrec_cli/capture/): its function is dynrec_cli.api.capture
_API = ("Run", "Vectors", "evaluate", "finetune", "prepare", "pretrain", "rank", "sweep", "train")
_ERRORS = ("DynrecError", "ConfigError", "DataError", "ArtifactError", "GateFailed")
__all__ = [*_API, *_ERRORS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from dynrec_cli import api

        return getattr(api, name)
    if name in _ERRORS:
        from dynrec_cli import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'dynrec_cli' has no attribute {name!r}")
