"""Write a synthetic behaviour log of N events and its catalogue, for the `large` benchmark.

    python benchmarks/make_large_log.py --events 10000000 --out /tmp/large10m

writes OUT/events.csv (user_id: strings like `u0000042`, item_id: ints, timestamp: unix
seconds, rating) and OUT/items.csv (item_id, title, genres), or `.parquet` with
`--format parquet`. Item popularity follows a Zipf-like law and users have a long-tailed number
of events, as in real logs. The output is never committed: write it under /tmp or
benchmarks/results/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK = 1_000_000  # rows generated and written at a time: memory stays flat in N
GENRES = np.array(["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Documentary"])
START, END = 1_420_070_400, 1_577_836_800  # 2015-01-01 .. 2020-01-01, unix seconds


def _writer(path: Path, schema: pa.Schema, fmt: str) -> pacsv.CSVWriter | pq.ParquetWriter:
    return pacsv.CSVWriter(path, schema) if fmt == "csv" else pq.ParquetWriter(path, schema)


def write_events(path: Path, n_events: int, n_users: int, n_items: int, fmt: str, seed: int) -> None:
    """Events in random file order: users drawn log-uniformly, items by a Zipf-like law."""
    rng = np.random.default_rng(seed)
    user_names = pa.array(np.char.add("u", np.char.zfill(np.arange(n_users).astype(str), 7)))
    # heavy-tailed activity: user weights ~ 1/rank^0.8, item weights ~ 1/rank^1.05 (shuffled ids)
    user_p = 1.0 / np.arange(1, n_users + 1) ** 0.8
    item_p = 1.0 / np.arange(1, n_items + 1) ** 1.05
    user_p, item_p = rng.permutation(user_p / user_p.sum()), rng.permutation(item_p / item_p.sum())
    schema = pa.schema([("user_id", pa.string()), ("item_id", pa.int64()), ("timestamp", pa.int64()), ("rating", pa.int8())])
    with _writer(path, schema, fmt) as writer:
        for begin in range(0, n_events, CHUNK):
            size = min(CHUNK, n_events - begin)
            users = rng.choice(n_users, size=size, p=user_p)
            columns = [
                pc.take(user_names, pa.array(users)),
                pa.array(rng.choice(n_items, size=size, p=item_p) + 1),
                pa.array(rng.integers(START, END, size=size)),
                pa.array(rng.integers(1, 6, size=size).astype(np.int8)),
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def write_items(path: Path, n_items: int, fmt: str, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    ids = np.arange(1, n_items + 1)
    first, second = rng.integers(0, len(GENRES), size=(2, n_items))
    table = pa.table({
        "item_id": ids,
        "title": np.char.add("Item ", ids.astype(str)),
        "genres": np.char.add(np.char.add(GENRES[first], "|"), GENRES[second]),
    })
    if fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="number of events")
    parser.add_argument("--users", type=int, default=None, help="distinct users (default events/50)")
    parser.add_argument("--items", type=int, default=None, help="distinct items (default events/100)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args()
    n_users = args.users or max(args.events // 50, 10)
    n_items = args.items or max(args.events // 100, 10)
    args.out.mkdir(parents=True, exist_ok=True)
    write_events(args.out / f"events.{args.format}", args.events, n_users, n_items, args.format, args.seed)
    write_items(args.out / f"items.{args.format}", n_items, args.format, args.seed)
    print(f"{args.out}: {args.events:,} events, {n_users:,} users, {n_items:,} items ({args.format})")


if __name__ == "__main__":
    main()
