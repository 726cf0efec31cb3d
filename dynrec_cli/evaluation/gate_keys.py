"""Metric keys as gates name them, and floors that decide nothing: no torch or pandas imported, so
that `--fail-under` values are refused before a command loads anything heavy."""

from __future__ import annotations

import math
import re

from dynrec_cli.config_checks import METRICS
from dynrec_cli.errors import ConfigError

# SPLIT[/SEGMENT]/NAME@K or SPLIT[/SEGMENT]/users, as metrics.json spells them (eval.protocol=replay
# adds replay/… and frozen/…, counted in events)
KEY = re.compile(r"(valid|test|replay|frozen)(/[a-z][a-z0-9_]*)?/(?:(?P<name>[a-z]+)@(?P<k>\d+)|users|events)")
BOUNDED = (*METRICS, "coverage", "gini")  # metrics in [0, 1]: an absolute drop >= 1 never fails


def check_floor(item: str, key: str, floor: float) -> None:
    """Refuse a --fail-under floor that decides nothing: one no figure can be below (NaN, or <= 0:
    every figure is >= 0), or one no figure can reach (infinite, or above 1 for a metric in [0, 1])."""
    match = KEY.fullmatch(key)
    name = match["name"] if match is not None else None
    if math.isnan(floor) or floor <= 0:
        why = "is not a number" if math.isnan(floor) else "is not above 0, and every figure is >= 0"
        raise ConfigError(f"--fail-under {item}: the floor {why}, so the gate could never fail; give a floor "
                          "above 0, e.g. test/ndcg@10=0.05")
    if math.isinf(floor) or (name in BOUNDED and floor > 1):
        why = "is infinite" if math.isinf(floor) else f"is above 1, and {name} lies in [0, 1]"
        raise ConfigError(f"--fail-under {item}: the floor {why}, so the gate could never pass; give a floor "
                          "a figure can reach, e.g. test/ndcg@10=0.05")
