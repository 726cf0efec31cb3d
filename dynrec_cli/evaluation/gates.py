"""`dynrec evaluate --baseline RUN --max-drop KEY=5%`: fail CI on a significant drop.

Rule: a gate fails when the whole confidence interval of the paired difference (run − baseline)
lies below −threshold, i.e. the run is worse than the baseline by more than the allowed drop
beyond the users' noise. The threshold is absolute (`KEY=0.01`) or relative to the baseline's
figure (`KEY=5%`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dynrec_cli.errors import ConfigError
from dynrec_cli.evaluation.gate_keys import BOUNDED, KEY as _KEY
from dynrec_cli.evaluation.metrics import METRICS
from dynrec_cli.evaluation.report import BEYOND


def check_metric_keys(option: str, keys: list[str], ks: list[int]) -> None:
    """Refuse, before any work, a gate key that no evaluation with these cut-offs can produce."""
    names = sorted({*METRICS, *BEYOND})
    for key in keys:
        match = _KEY.fullmatch(key)
        if match is None or (match["name"] and (match["name"] not in names or int(match["k"]) not in ks)):
            raise ConfigError(
                f"{option} {key}: not a metric key; keys are SPLIT[/SEGMENT]/NAME@K, e.g. test/ndcg@10 or "
                f"test/cold/recall@10, with SPLIT valid, test (or replay, frozen), NAME one of {', '.join(names)}, K in eval.ks={list(ks)}"
            )


def check_empty_segments(option: str, keys: list[str], metrics: dict[str, float]) -> None:
    """Refuse a gate on a split or segment the evaluation has no users in (metrics.json keeps only
    its `SPLIT[/SEGMENT]/users: 0`): no figure exists to pass or fail."""
    for key in keys:
        match = _KEY.fullmatch(key)
        if match is None or key in metrics:
            continue
        scope, kind = f"{match[1]}{match[2] or ''}", "segment" if match[2] else "split"
        if metrics.get(f"{scope}/users") == 0:
            raise ConfigError(f"{option} {key}: the {kind} {scope} has no users in this evaluation ({scope}/users = 0), "
                              f"so it has no figure to gate; drop the gate or gate a {kind} with users")


def unknown_keys_message(option: str, unknown: list[str], known: list[str]) -> str:
    """One line naming the unknown keys and, for each, the nearest existing ones."""
    parts = []
    for key in unknown:
        near = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        parts.append(f"{key} (did you mean {', '.join(near)}?)" if near else key)
    return f"{option}: no metric {'; '.join(parts)} in this evaluation ({len(known)} keys in metrics.json)"


@dataclass(frozen=True)
class MaxDrop:
    key: str
    amount: float
    relative: bool

    def threshold(self, baseline: float) -> float:
        return self.amount / 100 * abs(baseline) if self.relative else self.amount

    def text(self) -> str:
        return f"{self.amount:g}%" if self.relative else f"{self.amount:g}"


def parse_max_drops(items: list[str]) -> list[MaxDrop]:
    """`KEY=5%` (relative to the baseline) or `KEY=0.01` (absolute); ConfigError otherwise."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        relative = value.endswith("%")
        try:
            amount = float(value.rstrip("%"))
        except ValueError:
            sep = ""
        if not sep or not key or amount < 0:
            raise ConfigError(f"--max-drop {item}: expected KEY=PERCENT% or KEY=NUMBER >= 0, e.g. test/ndcg@10=5%")
        if not math.isfinite(amount) or (relative and amount >= 100):
            why = "is not a finite number" if not math.isfinite(amount) else "is 100% or more, a drop below 0 that no figure makes"
            raise ConfigError(f"--max-drop {item}: the allowed drop {why}, so the gate could never fail; "
                              "e.g. test/ndcg@10=5%")
        match = _KEY.fullmatch(key)
        if not relative and amount >= 1 and match is not None and match["name"] in BOUNDED:
            raise ConfigError(f"--max-drop {item}: {match['name']} lies in [0, 1], so an absolute drop of {value} can never "
                              f"fail; did you mean {key}={value}% (relative), or an absolute amount below 1?")
        out.append(MaxDrop(key, amount, relative))
    return out


def check_max_drops(long: pd.DataFrame, drops: list[MaxDrop]) -> tuple[list[str], list[str]]:
    """(the gated keys, one line per failed gate) from `compare_runs`' rows of run vs baseline."""
    rows = long.set_index("key")
    unknown = [d.key for d in drops if d.key not in rows.index]
    if unknown:
        raise ConfigError(unknown_keys_message("--max-drop", unknown, list(rows.index)))
    failed = []
    for drop in drops:
        row = rows.loc[drop.key]
        limit = drop.threshold(float(row["base"]))
        if row["high"] < -limit:
            failed.append(
                f"{drop.key} = {row['value']:.4f} vs baseline {row['base']:.4f}: Δ {row['diff']:+.4f}, "
                f"interval [{row['low']:+.4f}, {row['high']:+.4f}] entirely below −{limit:.4f} (max drop {drop.text()})"
            )
    return [d.key for d in drops], failed


def baseline_gate(run_dir: Path, baseline: Path, drops: list[MaxDrop], resamples: int, confidence: float, seed: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Compare run_dir against baseline (same split required) and apply the max-drop gates."""
    from dynrec_cli.evaluation.compare import compare_runs

    long = compare_runs([Path(baseline), Path(run_dir)], None, resamples, confidence, seed)
    keys, failed = check_max_drops(long, drops)
    return long, keys, failed
