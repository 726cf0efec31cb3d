"""prepare says what each filter removed, on the console and in its manifest, and warns when a
filter took most of the log (issue 15: a 5-core filter turned 3,285 users into 342 silently)."""

from __future__ import annotations

import json
from pathlib import Path


def sparse_log(path: Path) -> None:
    """40 users: 4 with 8 events, 36 with 2 (a held-out shop log), over 10 items, in time order."""
    rows = [f"u{u},i{(u + k) % 10}" for u in range(4) for k in range(8)]
    rows += [f"v{u},i{(u + k) % 10}" for u in range(36) for k in range(2)]
    path.write_text("user_id,item_id\n" + "\n".join(rows) + "\n")


def test_each_filter_says_what_it_removed_and_most_of_the_log_is_a_warning(cli, tmp_path: Path) -> None:
    sparse_log(tmp_path / "log.csv")
    run = tmp_path / "run"
    result = cli("prepare", f"run_dir={run}", "data=csv", f"data.interactions={tmp_path / 'log.csv'}",
                 "data.columns.time=null", "data.min_user_interactions=5", "data.min_item_interactions=1",
                 "data.max_seq_len=6")
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "WARNING" in said and "removed 36 of 40 users (90%), 72 of 104 events (69%): most of the users and events" in said
    assert "data.max_seq_len=6 removed 1 of 10 items (10%), 8 of 32 events (25%)" in said
    filtered = json.loads((run / "prepare" / "manifest.json").read_text())["figures"]["filtered"]
    assert filtered["kcore"] == {"by": "k-core (data.min_user_interactions=5, data.min_item_interactions=1)",
                                 "users_before": 40, "items_before": 10, "events_before": 104,
                                 "users_removed": 36, "items_removed": 0, "events_removed": 72}
    assert filtered["max_seq_len"]["events_removed"] == 8 and filtered["max_seq_len"]["users_removed"] == 0
    assert json.loads((run / "prepare" / "stats.json").read_text())["filtered"] == filtered
