"""Time keeps the resolution the data has, through the CLI: milliseconds, microseconds, nanoseconds,
fractional seconds, ISO 8601 with fractions and Parquet timestamps of every unit order events
exactly, in the split, the training run's evaluation, capture, replay and freshness re-ranking.

The issue's log: a user's last two rows `u0,i7,1600000360900` then `u0,i6,1600000360100` (ms).
Floored to whole seconds, the two tie and file order made i6 the test target; i7 is the later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from safetensors.torch import load_file

from dynrec_cli.data.types import TEST, TRAIN, VALID
from tests.conftest import run_from_repo

MS = 1_000_000  # nanoseconds
SECOND = 1_000 * MS
X = 1_600_000_360 * SECOND  # the second of the issue's two rows
EARLY = 1_600_000_000 * SECOND
POP = ["model=pop", "data.min_user_interactions=1", "data.min_item_interactions=1", "eval.ks=[1,5]",
       "trainer.objective=valid/ndcg@5"]  # 7 items: every K within the catalogue


def issue_rows(gap: int) -> list[tuple[str, str, int]]:
    """(user, item, ns) in file order: u0's i7 comes `gap` ns after its i6 but on the line before it.

    u1-u3 make i7 the most popular training item (Pop ranks it first); u4 makes i10 the freshest
    item, 50 ms after i7; u5 has seen neither (freshness decides between them for u5).
    """
    return [
        ("u1", "i7", EARLY + 10 * SECOND), ("u1", "i8", EARLY + 20 * SECOND),
        ("u2", "i7", EARLY + 30 * SECOND), ("u2", "i9", EARLY + 40 * SECOND),
        ("u3", "i7", EARLY + 50 * SECOND), ("u3", "i10", EARLY + 60 * SECOND),
        ("u4", "i1", EARLY + 70 * SECOND), ("u4", "i10", X + 950 * MS),
        ("u5", "i1", EARLY + 80 * SECOND), ("u5", "i2", EARLY + 90 * SECOND),
        ("u0", "i1", EARLY), ("u0", "i2", EARLY + SECOND),
        ("u0", "i7", X + 100 * MS + gap), ("u0", "i6", X + 100 * MS),
    ]


def csv_writer(text: Callable[[int], str]) -> Callable[[Path, list], Path]:
    def write(folder: Path, rows: list) -> Path:
        path = folder / "log.csv"
        path.write_text("user_id,item_id,timestamp\n" + "".join(f"{u},{i},{text(t)}\n" for u, i, t in rows))
        return path
    return write


def parquet_writer(column: Callable[[list[int]], pa.Array]) -> Callable[[Path, list], Path]:
    def write(folder: Path, rows: list) -> Path:
        path = folder / "log.parquet"
        users, items, times = zip(*rows)
        pq.write_table(pa.table({"user_id": list(users), "item_id": list(items), "timestamp": column(list(times))}), path)
        return path
    return write


def iso(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns").isoformat() + "Z"


# resolution -> (how the log is written, the gap between u0's last two events: the finest the format holds)
RESOLUTIONS = {
    "ms": (csv_writer(lambda t: str(t // MS)), 800 * MS),
    "us": (csv_writer(lambda t: str(t // 1000)), 1000),
    "ns": (csv_writer(str), 1),
    "seconds_fraction": (csv_writer(lambda t: f"{t // SECOND}.{t % SECOND:09d}"), 1),
    "iso_fraction": (csv_writer(iso), 1),
    "parquet_ms": (parquet_writer(lambda t: pa.array([v // MS for v in t], pa.timestamp("ms"))), MS),
    "parquet_us": (parquet_writer(lambda t: pa.array([v // 1000 for v in t], pa.timestamp("us", tz="UTC"))), 1000),
    "parquet_ns": (parquet_writer(lambda t: pa.array(t, pa.timestamp("ns"))), 1),
    "parquet_float_seconds": (parquet_writer(lambda t: pa.array([v / SECOND for v in t], pa.float64())), 1000),
    "parquet_int_ms": (parquet_writer(lambda t: pa.array([v // MS for v in t], pa.int64())), MS),
}


def prepared_rows(run: Path, user: str) -> pd.DataFrame:
    """The user's prepared events in their stored order: item id, time (ns), split."""
    folder = run / "prepare"
    events = pd.read_parquet(folder / "events.parquet")
    items = pd.read_parquet(folder / "items.parquet").set_index("item_idx")["item_id"].astype(str)
    users = pd.read_parquet(folder / "users.parquet").set_index("user_idx")["user_id"].astype(str)
    mine = events[users[events["user_idx"]].to_numpy() == user]
    return pd.DataFrame({"item": items[mine["item_idx"]].to_numpy(), "time": mine["time"].to_numpy(),
                         "split": mine["split"].to_numpy()})


@pytest.mark.parametrize("resolution", sorted(RESOLUTIONS))
def test_the_later_event_is_the_test_target_at_every_resolution(cli, tmp_path: Path, resolution: str) -> None:
    write, gap = RESOLUTIONS[resolution]
    log = write(tmp_path, issue_rows(gap))
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={log}", *POP)
    assert result.exit_code == 0, result.output
    u0 = prepared_rows(tmp_path / "run", "u0")
    assert u0["item"].tolist() == ["i1", "i2", "i6", "i7"]
    assert u0["time"].tolist() == [EARLY, EARLY + SECOND, X + 100 * MS, X + 100 * MS + gap]  # exact nanoseconds
    assert u0["split"].tolist() == [TRAIN, TRAIN, VALID, TEST]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pop trained and evaluated on the issue's millisecond log (leave-one-out)."""
    root = tmp_path_factory.mktemp("exact")
    log = RESOLUTIONS["ms"][0](root, issue_rows(800 * MS))
    run_from_repo("train", f"run_dir={root / 'run'}", "data=csv", f"data.interactions={log}", *POP)
    return root / "run"


def test_the_trained_run_is_evaluated_on_the_later_event(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    # u0 is the one evaluated user. Test target i7, Pop's first item: a hit. Valid target i6 (never
    # trained on): a miss. With the rows in file order it was the other way round.
    assert metrics["test/users"] == 1.0 and metrics["test/hit@1"] == 1.0
    assert metrics["valid/users"] == 1.0 and metrics["valid/hit@1"] == 0.0


def test_freshness_tells_items_50_ms_apart(cli, run: Path) -> None:
    result = cli("rank", f"run_dir={run}", "rank.users=[u5]", "rank.format=csv", "rank.strategies=[freshness]",
                 "rank.freshness.weight=10", "rank.freshness.half_life_days=0.000001")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(run / "rank" / "recommendations.csv", dtype=str)
    # i10's last event is 50 ms after i7's (half-life 86.4 ms): fresher by 0.33 × 10, which outweighs
    # i7's popularity (1 against 0.67 of the pool's range)
    assert table["item_id"].tolist()[:2] == ["i10", "i7"]


def test_capture_applies_events_of_one_second_in_time_order(cli, run: Path, tmp_path: Path) -> None:
    later = X + 10 * SECOND
    path = tmp_path / "events.csv"
    path.write_text(f"user_id,item_id,timestamp\nu1,i9,{(later + 900 * MS) // MS}\nu1,i8,{(later + 100 * MS) // MS}\n")
    store = tmp_path / "store"
    result = cli("capture", f"run_dir={run}", f"capture.events={path}", f"capture.store={store}")
    assert result.exit_code == 0, result.output
    meta = json.loads((store / "store.json").read_text())
    state = load_file(str(store / f"gen-{meta['generation']:06d}" / "state.safetensors"))
    users = pd.read_parquet(store / f"gen-{meta['generation']:06d}" / "users.parquet")
    items = pd.read_parquet(run / "prepare" / "items.parquet")
    row = int(users.loc[users["user_id"] == "u1", "user_idx"].iloc[0])
    i9 = int(items.loc[items["item_id"] == "i9", "item_idx"].iloc[0])
    assert int(state["window_items"][row, -1]) == i9  # the later event is the user's latest
    assert int(state["window_times"][row, -1]) == later + 900 * MS
    segment = pd.concat(pd.read_parquet(store / name) for name in meta["segments"])
    assert segment["time"].tolist() == [later + 100 * MS, later + 900 * MS]
    # 100 ms before what the store holds for u1: late, refused, the store unchanged
    late = tmp_path / "late.csv"
    late.write_text(f"user_id,item_id,timestamp\nu1,i10,{(later + 800 * MS) // MS}\n")
    refused = cli("capture", f"run_dir={run}", f"capture.events={late}", f"capture.store={store}")
    assert refused.exit_code == 2 and "is older than user 'u1'" in " ".join(refused.output.split()), refused.output
    assert json.loads((store / "store.json").read_text())["generation"] == meta["generation"]


def test_temporal_cutoff_and_replay_within_one_second(cli, tmp_path: Path) -> None:
    # each user: three early events, then events in second X at the given milliseconds
    late = {"u0": [100, 900], "u1": [300, 500], "u2": [800], "u3": [600]}
    rows = [(user, f"i{(n + k) % 6}", EARLY + (10 * n + k) * SECOND) for n, user in enumerate(late) for k in range(3)]
    rows += [(user, f"i{(n + 3) % 6 + j}", X + ms * MS) for n, (user, stamps) in enumerate(late.items()) for j, ms in enumerate(stamps)]
    log = RESOLUTIONS["ms"][0](tmp_path, rows)
    temporal = ["data.split=temporal", f"data.temporal.valid={EARLY // SECOND + 15}", f"data.temporal.test={X // SECOND}.4"]
    result = cli("train", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={log}", *POP, *temporal)
    assert result.exit_code == 0, result.output
    # the cut-off at X + 0.4 s: .100 and .300 before it, .500 and later at or after it
    for user, stamps in late.items():
        mine = prepared_rows(tmp_path / "run", user).tail(len(stamps))
        assert mine["split"].tolist() == [VALID if ms < 400 else TEST for ms in stamps], user
        assert mine["time"].tolist() == [X + ms * MS for ms in stamps]
    replay = cli("evaluate", f"run_dir={tmp_path / 'run'}", "eval.protocol=replay", "eval.replay_periods=2")
    assert replay.exit_code == 0, replay.output
    periods = pd.read_csv(tmp_path / "run" / "evaluate" / "replay_periods.csv")
    # the test events in time order, cut in two halves: .500/.600 then .800/.900
    assert periods[["start", "end", "events"]].values.tolist() == [
        [X + 500 * MS, X + 600 * MS, 2], [X + 800 * MS, X + 900 * MS, 2]]
    assert np.isfinite(periods["replay/ndcg@5"]).all()
