"""store.json listing an event segment that climbs out of the store (../../log.csv)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "store" / "store.json", lambda meta: meta.update(segments=["events/seg-1.parquet/../../../../log.csv"]))


CASE = run_case(["rank", "run_dir={run}"],
                ["{dir}/run/store/store.json", "is not events/seg-<N>.parquet"], damage, base="captured_run")
