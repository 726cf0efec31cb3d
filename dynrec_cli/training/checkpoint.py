"""Model checkpoints: safetensors weights + JSON config. Nothing is unpickled from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ArtifactError, ConfigError

WEIGHTS, SPEC = "model.safetensors", "model.json"


def save_model(model: nn.Module, target: str, kwargs: dict[str, Any], folder: Path) -> None:
    from safetensors.torch import save_file

    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    with artifacts.atomic_path(folder / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    artifacts.write_json(folder / SPEC, {"target": target, "kwargs": kwargs})


def model_class(target: str) -> type[nn.Module]:
    """The model class a `_target_` names: only dynrec's own models (targets.MODELS), so a JSON
    from elsewhere cannot make us import and call arbitrary code."""
    from dynrec_cli import targets

    return targets.resolve(target, targets.MODELS, "model target")


def build_model(target: str, kwargs: dict[str, Any]) -> nn.Module:
    return model_class(target)(**kwargs)


def load_model(folder: Path) -> nn.Module:
    """Rebuild the model from JSON and load its safetensors weights (verified by the manifest)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from omegaconf import OmegaConf

    from dynrec_cli.config_rules import check_rules

    spec_path = artifacts.verified_file(folder, SPEC)
    weights_path = artifacts.verified_file(folder, WEIGHTS)
    spec = run_files.read_json(spec_path, run_files.MODEL_SPEC)
    try:
        check_rules(OmegaConf.create({"model": spec["kwargs"]}))  # sizes within the bounds a config has
        model = build_model(spec["target"], spec["kwargs"])
    except TypeError as exc:
        raise ArtifactError(f"{spec_path}: not a dynrec model spec ({exc})") from None
    except ConfigError as exc:  # a target outside dynrec's models, a size out of bounds: name the file
        raise ArtifactError(f"{spec_path}: {exc}") from None
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{weights_path}: not a safetensors checkpoint ({exc})") from None
    check_weights(weights_path, state, model)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines[1:] if line.startswith(("size mismatch", "Missing key", "Unexpected key"))), lines[0])
        raise ArtifactError(f"{weights_path}: weights do not fit the model in {spec_path} ({detail})") from None
    model.eval()
    return model


def check_weights(path: Path, state: dict[str, Any], model: nn.Module) -> None:
    """Each tensor has the dtype of the model's own and finite values: load_state_dict would cast
    integers into the weights and keep NaN, and every figure computed from them would be wrong."""
    import torch

    expected = model.state_dict()
    for name, tensor in state.items():
        want = expected.get(name)
        if want is None:  # an unexpected name: load_state_dict says which
            continue
        if tensor.dtype != want.dtype:
            raise ArtifactError(f"{path}: tensor {name} is {str(tensor.dtype).removeprefix('torch.')}, the model holds "
                                f"{str(want.dtype).removeprefix('torch.')} (damaged, or not written by dynrec)")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ArtifactError(f"{path}: tensor {name} holds NaN or infinite values (a training that diverged, or a "
                                "damaged file): retrain, e.g. with a lower trainer.optimizer.lr")
