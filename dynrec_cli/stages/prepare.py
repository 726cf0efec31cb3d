"""prepare: raw log + catalogue → cleaned, filtered, split Parquet tables and statistics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts
from dynrec_cli.data import clean, forgotten, remote, split
from dynrec_cli.data.dropped import DROPPED_FILE, DropLog, event_filter_reason
from dynrec_cli.data.filter_report import FilterReport
from dynrec_cli.data.readers import read_dataset
from dynrec_cli.data.split_check import check_splits
from dynrec_cli.data.stats import dataset_statistics
from dynrec_cli.data.store import save_prepared
from dynrec_cli.data.text import build_item_text
from dynrec_cli.data.types import ITEM, USER, PreparedData, RawData
from dynrec_cli.errors import DataError
from dynrec_cli.stages.base import Stage, StageContext

log = logging.getLogger(__name__)


DATA_FILES = ("interactions", "items", "path")  # data.* keys that name files or folders (or their URLs)


def _input_files(data: DictConfig) -> list[Path]:
    """The local files a data config can read, found without reading them (for the skip check)."""
    files: list[Path] = []
    for key in ("interactions", "items"):
        if data.get(key) and not remote.is_url(data[key]):
            files.append(Path(data[key]))
    if data.get("path") and not remote.is_url(data.path):
        root = Path(data.path)
        files.extend(sorted(p for p in root.iterdir() if p.is_file()) if root.is_dir() else [root])
    return files


def _local(ctx: StageContext) -> dict[str, Path | None]:
    """data.interactions / items / path as local paths: URLs fetched through fsspec (once per command)."""
    copies = remote.copies_of(ctx.cache)
    return {key: remote.localise(ctx.cfg.data.get(key) or None, f"data.{key}", copies) for key in DATA_FILES}


class PrepareStage(Stage):
    NAME = "prepare"

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        data = OmegaConf.to_container(cfg.data, resolve=True)
        if data.get("items_sep") is None:  # a key added after runs were made: unset, it keeps their hash
            data.pop("items_sep", None)
        return {"data": data, "seed": cfg.seed}

    def inputs(self, ctx: StageContext) -> dict[str, str]:
        hashes = {str(p): artifacts.file_hash(p) for p in _input_files(ctx.cfg.data) if p.is_file()}
        _local(ctx)  # fetches the URLs, hashing their content
        copies = remote.copies_of(ctx.cache)
        for key in DATA_FILES:
            if remote.is_url(ctx.cfg.data.get(key)):
                hashes.update(copies.files_of(ctx.cfg.data[key]))
        return {**hashes, **forgotten.inputs(ctx.run_dir)}  # a user forgotten since: the next train prepares again

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        data, local = ctx.cfg.data, _local(ctx)
        with remote.named_as_urls(remote.copies_of(ctx.cache)):  # errors name the URL, not its local copy
            raw = read_dataset(
                format=data.format,
                path=local["path"],
                interactions=local["interactions"],
                items=local["items"],
                columns=OmegaConf.to_container(data.columns),
                item_id_column=data.item_id_column,
                text_fields=OmegaConf.to_container(data.text_fields) if data.text_fields else None,
                sep=data.sep,
                items_sep=data.get("items_sep"),
                encoding=data.encoding,
            )
            # the reader's Arrow buffers are freed by now, but the Arrow allocator keeps their pages
            # (about 0.8 GiB on a 10M-event log) unless told: give them back before the pandas steps
            pa.default_memory_pool().release_unused()
            gone = forgotten.is_forgotten(ctx.run_dir, raw.events[USER])
            if gone.any():  # DELETE /users/{id} or dynrec forget: the user's events are never trained on again
                log.info("[prepare] %d events of %d forgotten users left out (%s)", int(gone.sum()),
                         raw.events.loc[gone, USER].nunique(), forgotten.TOMBSTONES)
                raw.events = raw.events[~gone]
            prepared, figures, dropped = prepare(raw, data, int(ctx.cfg.seed))
        save_prepared(prepared, out)
        dropped.to_parquet(out / DROPPED_FILE, index=False)  # why capture cannot use an item (data/dropped.py)
        artifacts.write_json(out / "stats.json", figures)
        return figures

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        from dynrec_cli.reporting import print_dataset_stats

        print_dataset_stats(manifest["figures"])


def prepare(raw: RawData, data: DictConfig, seed: int) -> tuple[PreparedData, dict[str, Any], pd.DataFrame]:
    """Clean, filter, sort, split and index a raw data set; also returns the dropped items
    (item_id, reason: the filter that removed each)."""
    report, drops = FilterReport(), DropLog(raw.events)
    events = clean.filter_events(raw.events, data.min_rating, data.events)
    if data.min_rating is not None or data.events:
        report.record("min_rating_events", "data.min_rating / data.events", raw.events, events)
    drops.step(events, event_filter_reason(data))
    _require_events(events, raw.events_path, "no event is left after data.min_rating / data.events filters",
                    fix=f"the log's event types: {clean.event_counts(raw.events)}" if data.events else None)
    deduplicated, duplicates = clean.drop_duplicate_events(events)
    report.record("duplicates", "removing exact duplicate events", events, deduplicated)
    missing = []
    if raw.items is not None:
        missing = clean.check_catalogue(deduplicated, raw.items, raw.items_path, bool(data.allow_missing_items), raw.events_path)
    kcore = f"k-core (data.min_user_interactions={data.min_user_interactions}, data.min_item_interactions={data.min_item_interactions})"
    events = clean.kcore(deduplicated, int(data.min_user_interactions), int(data.min_item_interactions))
    report.record("kcore", kcore, deduplicated, events)
    drops.kcore(deduplicated, events, int(data.min_user_interactions), int(data.min_item_interactions))
    _require_events(
        events,
        raw.events_path,
        f"k-core filtering (users >= {data.min_user_interactions}, items >= "
        f"{data.min_item_interactions} events) removed every event",
        fix="lower data.min_user_interactions / data.min_item_interactions",
    )
    sorted_events = clean.sort_events(events)
    events = clean.truncate_recent(sorted_events, data.max_seq_len)
    if data.max_seq_len is not None:
        report.record("max_seq_len", f"data.max_seq_len={data.max_seq_len}", sorted_events, events)
    drops.step(events, f"data.max_seq_len={data.max_seq_len} (it was only in older events than each user's last {data.max_seq_len})")
    if data.split == "temporal":
        codes = split.temporal_split(events, data.temporal.valid, data.temporal.test)
    else:
        codes = split.leave_one_out(events)
    cold = split.cold_item_holdout(events, float(data.cold_items), seed)
    cold_ids = set(np.asarray(pd.factorize(events[ITEM], sort=True)[1], dtype=object)[cold])
    split_events = split.apply_cold_items(events, codes, cold)
    if float(data.cold_items) > 0:
        report.record("cold_items", f"data.cold_items={data.cold_items}", events, split_events)
    events = split_events
    drops.step(events, f"data.cold_items={data.cold_items} (held out as a cold item, and no user's test target)")
    check_splits(events, str(data.split), data.temporal.valid, data.temporal.test, raw.events_path)
    events, users, items = clean.build_id_maps(events, raw.items)
    text_fields = [c for c in items.columns if c not in ("item_idx", "item_id")]
    if raw.text_fields:
        text_fields = [c for c in raw.text_fields if c in text_fields]
    items["text"], text_stats = build_item_text(items, text_fields, data.text_template, raw.items_path)
    items["cold"] = items["item_id"].isin(cold_ids)
    table = events[["user_idx", "item_idx", "time", "split"]].copy()
    separators = {c: s for c, s in raw.category_separators.items() if c in items.columns}
    prepared = PreparedData(events=table, items=items, users=users, has_time=raw.has_time,
                            category_separators=separators)
    figures = dataset_statistics(table, len(users), len(items))
    figures.update(
        duplicates_removed=duplicates,
        items_missing_from_catalogue=len(missing),
        items_without_text=int(text_stats["items_without_text"]),
        mean_text_chars=round(float(text_stats["mean_chars"]), 1),
        cold_items=int(items["cold"].sum()),
        raw_events=len(raw.events),
        has_time=raw.has_time,
        split=str(data.split),
        filtered=report.figures(),
    )
    return prepared, figures, drops.frame(raw.items)


def _require_events(events: Any, path: Path, problem: str, fix: str | None = None) -> None:
    if len(events) == 0:
        raise DataError(path, problem, fix=fix)
