"""Hydra plugins dynrec documents by name: a config choice that needs one that is not installed
is answered with the extra that installs it, not with Hydra's list of what is there."""

from __future__ import annotations

# config Hydra could not find -> (what needs it, the extra that installs the plugin)
EXTRAS = {
    "hydra/launcher/joblib": ("hydra/launcher=joblib needs Hydra's joblib launcher", "sweep"),
    "hydra/launcher/ray": ("hydra/launcher=ray needs Hydra's Ray launcher", "ray"),
    "hydra/launcher/submitit": ("hydra/launcher=submitit_* needs the submitit launcher", "slurm"),
    "hydra/sweeper/optuna": ("hparams_search=optuna needs the Optuna sweeper", "sweep"),
}


def missing_plugin(message: str) -> str | None:
    """The install hint for a Hydra error about a plugin config that is not there, else None."""
    for config, (what, extra) in EXTRAS.items():
        if f"Could not find '{config}" in message:
            return f"{what}: pip install 'dynrec[{extra}]'"
    return None
