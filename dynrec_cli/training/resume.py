"""Resumable training: the whole loop state after an epoch, so a killed `finetune` carries on.

The state lives in `RUN_DIR/finetune.resume/` (outside the stage's temporary folder, which a
kill leaves behind unfinished) and is written like a stage folder: tensors and JSON in a
temporary folder, manifest last, then renamed into place. It is tied to the stage's identity
(config hash + inputs): a resume point from another config is ignored, never loaded. It holds
the weights, the optimiser's state, every random generator the loop draws from (torch CPU and
CUDA, the batch-order generator, Python's and NumPy's global ones), the early-stopping state
with the best weights, and the history, so a resumed run ends exactly where an uninterrupted
one would (on CPU, same seed). Tensors are safetensors; nothing is unpickled.
"""

from __future__ import annotations

import logging
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ArtifactError
from dynrec_cli.training import distributed

log = logging.getLogger(__name__)
TENSORS, STATE = "state.safetensors", "state.json"
FOLDER_SUFFIX = ".resume"


@dataclass
class Restored:
    """The loop state after `epoch`, ready to carry on from `epoch + 1`."""

    epoch: int
    result: Any  # training.loop.FitResult
    best_state: dict[str, torch.Tensor] | None
    since_best: int


class ResumePoint:
    """Save and restore the training loop's state in `folder`, for one stage identity `key`."""

    def __init__(self, folder: Path, key: str, every: int = 1) -> None:
        self.folder, self.key, self.every = Path(folder), key, every

    def save(self, epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator,
             result: Any, best_state: dict[str, torch.Tensor] | None, since_best: int) -> None:
        """Write the state after `epoch` (every `self.every` epochs; rank 0 only)."""
        if epoch % self.every or not distributed.is_main():
            return
        from safetensors.torch import save_file

        tensors = _prefixed("model.", model.state_dict()) | _prefixed("best.", best_state or {})
        optim = optimizer.state_dict()
        plain_state: dict[str, dict[str, Any]] = {}
        for index, entries in optim["state"].items():
            for name, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{index}.{name}"] = value
                else:
                    plain_state.setdefault(str(index), {})[name] = value
        tensors.update(_rng_tensors(generator))
        state = {
            "epoch": epoch, "since_best": since_best, "has_best": best_state is not None,
            "result": asdict(result), "param_groups": optim["param_groups"], "optim_plain": plain_state,
            "python_rng": _python_rng(), "numpy_rng": _numpy_rng_plain(),
        }
        folder = artifacts.StageFolder(self.folder)
        try:
            save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}, str(folder.path / TENSORS))
            artifacts.write_json(folder.path / STATE, state)
            folder.commit(artifacts.new_manifest("finetune.resume", 0, self.key, {}))
        except BaseException:
            folder.discard()
            raise

    def restore(self, model: nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> Restored | None:
        """Load the saved state into `model`, `optimizer`, `generator` and the global RNGs.

        Returns:
            The loop state, or None when there is no resume point for this stage identity (a
            damaged or foreign one is ignored with a warning: it only costs the epochs).
        """
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            manifest = artifacts.load_manifest(self.folder)
            if manifest is None or manifest.get("config_hash") != self.key:
                return None
            tensors = load_file(str(artifacts.verified_file(self.folder, TENSORS)))
            state = run_files.read_json(artifacts.verified_file(self.folder, STATE), run_files.RESUME_STATE)
        except (ArtifactError, SafetensorError, OSError) as exc:
            log.warning("ignoring the resume point %s (%s)", self.folder, exc)
            return None
        from dynrec_cli.training.loop import FitResult

        model.load_state_dict(_unprefixed("model.", tensors))
        optimizer.load_state_dict(_optimizer_state(tensors, state))
        _set_rng(tensors, state, generator)
        log.info("resuming training after epoch %d from %s", state["epoch"], self.folder)
        best = _unprefixed("best.", tensors) if state["has_best"] else None
        return Restored(state["epoch"], FitResult(**state["result"]), best, int(state["since_best"]))

    def clear(self) -> None:
        """Remove the resume point and what killed runs of the stage left behind (its temp folders,
        unless another command is writing in the run folder: artifacts.remove_stale_folders)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        artifacts.remove_stale_folders(self.folder.with_name(self.folder.name.removesuffix(FOLDER_SUFFIX)))


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + name: tensor for name, tensor in state.items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name[len(prefix):]: t for name, t in tensors.items() if name.startswith(prefix)}


def _optimizer_state(tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> dict[str, Any]:
    entries: dict[int, dict[str, Any]] = {int(i): dict(values) for i, values in state["optim_plain"].items()}
    for name, tensor in _unprefixed("optim.", tensors).items():
        index, _, key = name.partition(".")
        entries.setdefault(int(index), {})[key] = tensor
    return {"state": entries, "param_groups": state["param_groups"]}


def _rng_tensors(generator: torch.Generator) -> dict[str, torch.Tensor]:
    out = {"rng.torch": torch.get_rng_state(), "rng.batches": generator.get_state(),
           "rng.numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64))}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out.update({f"rng.cuda.{d}": s for d, s in enumerate(torch.cuda.get_rng_state_all())})
    return out


def _python_rng() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _numpy_rng_plain() -> list[Any]:
    name, _, pos, has_gauss, cached = np.random.get_state()
    return [name, int(pos), int(has_gauss), float(cached)]


def _set_rng(tensors: dict[str, torch.Tensor], state: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    generator.set_state(tensors["rng.batches"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    version, internal, gauss = state["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    name, pos, has_gauss, cached = state["numpy_rng"]
    np.random.set_state((name, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
