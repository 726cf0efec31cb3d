"""What each of prepare's filters removed (users, items, events), said on the console and kept in
prepare/manifest.json (`figures.filtered`) and stats.json; loudly when a filter took most of the log.

A 5-core filter silently turned held-out Amazon logs of 3,285 users into 342: every filter now
says what it took, and one that removes more than half of the users or events is a warning.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from dynrec_cli.data.types import ITEM, USER

log = logging.getLogger(__name__)
MOST = 0.5  # a filter that removes more than this share of the users or events is warned about


class FilterReport:
    """Collects, filter by filter, what left the event table."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, Any]] = {}

    def record(self, name: str, how: str, before: pd.DataFrame, after: pd.DataFrame) -> None:
        """`name`: the step (e.g. `kcore`); `how`: the config that set it, for the message."""
        counts = {what: (_distinct(before, column), _distinct(after, column))
                  for what, column in (("users", USER), ("items", ITEM))}
        counts["events"] = (len(before), len(after))
        self.steps[name] = {"by": how, **{f"{what}_removed": int(b - a) for what, (b, a) in counts.items()},
                            **{f"{what}_before": int(b) for what, (b, _) in counts.items()}}
        removed = [(what, b - a, b) for what, (b, a) in counts.items() if b and b - a > 0]
        if not removed:
            return
        said = ", ".join(f"{gone:,} of {total:,} {what} ({gone / total:.0%})" for what, gone, total in removed)
        most = [what for what, gone, total in removed if what != "items" and gone / total > MOST]
        if most:
            log.warning("%s removed %s: most of the %s; lower it to keep more of a sparse log (docs/data.md)",
                        how, said, " and ".join(most))
        else:
            log.info("%s removed %s", how, said)

    def figures(self) -> dict[str, dict[str, Any]]:
        """{step: {by, users_removed, items_removed, events_removed, users_before, ...}}"""
        return self.steps


def _distinct(events: pd.DataFrame, column: str) -> int:
    return int(events[column].nunique()) if len(events) else 0
