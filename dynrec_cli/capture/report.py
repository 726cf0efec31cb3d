"""The folder a capture leaves: updated interests, the drift tables and plot, and a manifest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.capture.drift import drift_plot, drift_table
from dynrec_cli.capture.store import InterestStore, read_segments

log = logging.getLogger(__name__)
INTERESTS, DRIFT, PLOT = "interests.safetensors", "drift", "drift.png"


def write_report(final: Path, store: InterestStore, figures: dict[str, Any], cfg: DictConfig, has_time: bool) -> None:
    """Write DIR/captures/<n>/: interests.safetensors (users × d, items × d, store indices),
    drift.parquet and drift.csv (one row per touched user, largest movers first), drift.png."""
    from safetensors.torch import save_file

    events = read_segments(store, int(figures["capture"]))
    table = drift_table(events, store.users["user_id"], store.start, store.state.vectors)
    folder = artifacts.StageFolder(final)
    try:
        save_file({"users": store.state.vectors.float().contiguous(), "items": store.item_vectors.float().contiguous()},
                  str(folder.path / INTERESTS))
        table.to_parquet(folder.path / f"{DRIFT}.parquet", index=False)
        table.to_csv(folder.path / f"{DRIFT}.csv", index=False)
        if len(events):
            drift_plot(events, folder.path / PLOT, int(cfg.plot_bins), has_time)
        movers = table.dropna(subset=["drift"]).head(int(cfg.top_movers))
        figures = {**figures, "users_touched": len(table), "new_users": int(table["new_user"].sum()),
                   "mean_drift": round(float(table["drift"].mean()), 4) if table["drift"].notna().any() else None,
                   "top_movers": [{"user_id": u, "drift": round(float(d), 4), "events": int(n)}
                                  for u, d, n in zip(movers["user_id"], movers["drift"], movers["events"])]}
        manifest = artifacts.new_manifest("capture-events", 0, artifacts.config_hash({"capture": cfg}), {"store": store.meta["run"]["model"]})
        manifest["figures"] = figures
        folder.commit(manifest)
    except BaseException:
        folder.discard()
        raise
    print_capture(figures, final)


def print_capture(figures: dict[str, Any], folder: Path) -> None:
    from rich.table import Table

    from dynrec_cli.reporting import console

    log.info("[capture] %s: %d events applied (%d skipped as late, %d for unknown items), %d users moved, %d new; %s events/s",
             figures["file"], figures["applied_now"], figures["skipped_late"], figures["skipped_unknown"], figures["users_touched"],
             figures["new_users"], f"{figures['events_per_s']:,.0f}")
    if "latency_ms_median" in figures:
        log.info("[capture] per-event latency (single-event path, %d events): median %.3f ms, p99 %.3f ms",
                 figures["latency_events"], figures["latency_ms_median"], figures["latency_ms_p99"])
    log.info("[capture] report: %s (drift.parquet, drift.csv, drift.png, interests.safetensors)", folder)
    table = Table(title="top movers (cosine drift)")
    for column in ("user", "drift", "events"):
        table.add_column(column, justify="left" if column == "user" else "right")
    for row in figures["top_movers"]:
        table.add_row(row["user_id"], f"{row['drift']:.4f}", str(row["events"]))
    console.print(table)
