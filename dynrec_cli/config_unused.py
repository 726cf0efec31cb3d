"""Overrides that the composed config makes unused: warned about, so that nothing is ignored silently.

They are warnings, not errors, because a run folder's recorded overrides carry them along: a run
trained with `rank.strategies=[filter] rank.filter.exclude_categories=[Horror]` can still be
ranked with `rank.strategies=[]` for a comparison.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

log = logging.getLogger(__name__)


def _given(overrides: list[str], prefix: str) -> list[str]:
    keys = [o.split("=", 1)[0].lstrip("+~") for o in overrides if "=" in o]
    return [key for key in keys if key.startswith(prefix)]


def warn_unused(cfg: DictConfig, overrides: list[str]) -> None:
    """Log a warning for each given override that nothing will read under this config."""
    filters = _given(overrides, "rank.filter.")
    if filters and "filter" not in [str(s) for s in cfg.rank.strategies]:
        log.warning("%s: unused, rank.strategies=%s has no filter (add it: rank.strategies=[filter])",
                    ", ".join(filters), list(cfg.rank.strategies))
    temporal = _given(overrides, "data.temporal.")
    if temporal and cfg.data.split != "temporal":
        log.warning("%s: unused with data.split=%s (the cut-offs apply to data.split=temporal)",
                    ", ".join(temporal), cfg.data.split)
