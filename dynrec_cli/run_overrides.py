"""A run folder's recorded overrides (DIR/overrides.json): found from `run_dir=`, merged under a
new command's overrides, and written back by the command that (re)trained the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

OVERRIDES_FILE = "overrides.json"
# a value read from this machine's environment: recorded as the value it had, never as the
# reference, since a run folder from elsewhere could name any variable (a CI token) and have it
# printed in an error line or written into config.json
ENVIRONMENT = "${oc.env:"
# one command's inputs and actions, never a setting of the run: not recorded
NOT_RECORDED = ("run_dir", "capture.on_retrain", "capture.events", "capture.items")
# verbs that work on a trained model: given an explicit run_dir=, it must hold one (pipeline.run_task)
NEEDS_TRAINED_RUN = ("capture", "rank", "evaluate")


def override_key(override: str) -> str:
    """`+a.b=1` -> `a.b`; the key part of any override."""
    return override.split("=", 1)[0].lstrip("+~")


def override_value(override: str) -> Any:
    """The value of `key=value` as Hydra reads it: quotes and escapes removed (`run_dir='a b'` is
    `a b`), `null` None, interpolations such as `${oc.env:HOME}/runs` resolved. None when the
    override does not parse (composing it will then say why)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        value = OverridesParser.create().parse_override(override).value()
        if isinstance(value, str) and "${" in value:
            value = OmegaConf.create({"value": value}).value
    except (HydraException, OmegaConfBaseException):
        return None
    return value


def given_run_dir(overrides: list[str]) -> Path | None:
    """The folder `run_dir=` names (the last one given), as the composed config will hold it."""
    values = [override_value(o) for o in overrides if override_key(o) == "run_dir" and not o.startswith("~")]
    return Path(str(values[-1])) if values and isinstance(values[-1], (str, int, float)) else None


def recorded_file(overrides: list[str]) -> Path | None:
    """DIR/overrides.json of the run_dir= given, when there is one."""
    run_dir = given_run_dir(overrides)
    saved = run_dir / OVERRIDES_FILE if run_dir is not None else None
    return saved if saved is not None and saved.is_file() else None


def read_recorded(run_dir: Path | None) -> list[str]:
    """The overrides recorded in `run_dir` ([] when there is no such file); checked (run_files.py),
    each one against Hydra's override grammar, so that a damaged one is blamed on the file."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from dynrec_cli import run_files
    from dynrec_cli.errors import ArtifactError

    saved = Path(run_dir) / OVERRIDES_FILE if run_dir is not None else None
    if saved is None or not saved.exists():
        return []
    if not saved.is_file():  # a folder, a device (/dev/zero would never end), a pipe: never read
        raise ArtifactError(f"{saved}: not a regular file (a dynrec overrides.json is a JSON list of overrides)")
    recorded = run_files.read_json(saved, run_files.OVERRIDES)
    parser = OverridesParser.create()
    for i, item in enumerate(recorded):
        if ENVIRONMENT in item:
            raise ArtifactError(f"{saved}: item {i}: '{override_key(item)}' reads an environment variable (oc.env); "
                                "a run folder's recorded overrides hold values, not references to this machine's "
                                "environment (give the value, or pass the override on the command line)")
        try:
            parser.parse_override(item)
        except HydraException as exc:
            reason = str(exc).split(" See https://", 1)[0].strip()
            raise ArtifactError(f"{saved}: not a dynrec overrides.json (item {i}: {item!r:.80} is not an override: {reason})") from None
    return recorded


def with_recorded(overrides: list[str]) -> list[str]:
    """The overrides the run folder named by `run_dir=` was made with, then `overrides`, so that
    `dynrec evaluate run_dir=DIR eval.ks=[10]` re-evaluates that run with only `eval.ks` changed.
    A group given another option (`model=pop` on a run recorded with `model=sasrec model.hidden=16`)
    starts from that option: the old option's keys would not exist under it."""
    recorded = read_recorded(given_run_dir(overrides))
    given = {override_key(o): o for o in overrides}
    switched = {key for key, o in given.items() if "." not in key and o not in recorded}
    return [o for o in recorded if override_key(o) not in given
            and not any(override_key(o).startswith(group + ".") for group in switched)] + overrides


def to_record(overrides: list[str]) -> list[str]:
    """What DIR/overrides.json keeps of a command's overrides: all but its one-off inputs
    (NOT_RECORDED). A key this command's choices left unread stays: the stages were hashed with it."""
    return [_with_value(o) if ENVIRONMENT in o else o for o in overrides if override_key(o) not in NOT_RECORDED]


def _with_value(override: str) -> str:
    """`key=${oc.env:VAR}/x` as `key=<the value it had>`, quoted for Hydra's grammar."""
    from dynrec_cli.api.run import override as quoted

    value = override_value(override)
    key = override.split("=", 1)[0]
    return quoted(key, value) if isinstance(value, str) else f"{key}={value}"
