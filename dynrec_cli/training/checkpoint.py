"""Model checkpoints: safetensors weights + JSON config. Nothing is unpickled from disk."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from torch import nn

from dynrec_cli import artifacts
from dynrec_cli.errors import ArtifactError

WEIGHTS, SPEC = "model.safetensors", "model.json"
# Only our own model classes may be named by a checkpoint: a JSON from elsewhere cannot make
# us import and call arbitrary code.
ALLOWED_PREFIX = "dynrec_cli.models."


def save_model(model: nn.Module, target: str, kwargs: dict[str, Any], folder: Path) -> None:
    from safetensors.torch import save_file

    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    with artifacts.atomic_path(folder / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    artifacts.write_json(folder / SPEC, {"target": target, "kwargs": kwargs})


def model_class(target: str) -> type[nn.Module]:
    """The model class a `_target_` names; only dynrec's own models are allowed."""
    if not target.startswith(ALLOWED_PREFIX):
        raise ArtifactError(f"model target '{target}' is not a dynrec model (must start with {ALLOWED_PREFIX})")
    module_name, _, class_name = target.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ArtifactError(f"model target '{target}' is not a model class")
    return cls


def build_model(target: str, kwargs: dict[str, Any]) -> nn.Module:
    return model_class(target)(**kwargs)


def load_model(folder: Path) -> nn.Module:
    """Rebuild the model from JSON and load its safetensors weights (verified by the manifest)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    spec_path = artifacts.verified_file(folder, SPEC)
    weights_path = artifacts.verified_file(folder, WEIGHTS)
    try:
        spec = json.loads(spec_path.read_text())
        model = build_model(spec["target"], spec["kwargs"])
        state = load_file(str(weights_path))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{spec_path}: not a dynrec model spec ({exc})") from None
    except ArtifactError as exc:  # a target outside dynrec's models: name the file that asked for it
        raise ArtifactError(f"{spec_path}: {exc}") from None
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{weights_path}: not a safetensors checkpoint ({exc})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines[1:] if line.startswith(("size mismatch", "Missing key", "Unexpected key"))), lines[0])
        raise ArtifactError(f"{weights_path}: weights do not fit the model in {spec_path} ({detail})") from None
    model.eval()
    return model
