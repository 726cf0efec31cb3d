"""A split that leaves train or valid empty is refused at prepare, saying why; an empty test warns."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_bad_input import LOG, assert_clean_failure, prepare

TEMPORAL = "data.split=temporal"


def test_users_with_fewer_than_three_events_leave_valid_empty(cli, tmp_path: Path) -> None:
    one_each = "user_id,item_id,timestamp\n" + "".join(f"u{u},i{u % 5},{1_000_000 + u}\n" for u in range(30))
    result = prepare(cli, tmp_path, one_each, None, "data.min_user_interactions=0")
    assert_clean_failure(result, tmp_path, "log.csv", "the valid split is empty", "at least 3", "longest history has 1")


def test_cutoffs_after_the_last_event_leave_valid_empty(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, None, TEMPORAL, "data.temporal.valid=4000000000", "data.temporal.test=4000000000")
    assert_clean_failure(result, tmp_path, "log.csv", "the valid split is empty", "data.temporal.valid=4000000000",
                         "after the last event")


def test_cutoffs_before_the_first_event_leave_train_empty(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, None, TEMPORAL, "data.temporal.valid=1000", "data.temporal.test=2000")
    assert_clean_failure(result, tmp_path, "log.csv", "the train split is empty", "data.temporal.valid=1000",
                         "before the first event")


def test_one_timestamp_for_every_event_leaves_train_empty(cli, tmp_path: Path) -> None:
    header, *rows = LOG.splitlines()
    same_time = header + "\n" + "".join(row.rsplit(",", 1)[0] + ",0\n" for row in rows)
    result = prepare(cli, tmp_path, same_time, None, TEMPORAL)
    assert_clean_failure(result, tmp_path, "log.csv", "the train split is empty", "the same time")


def test_empty_test_split_prepares_with_a_warning(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, None, TEMPORAL, "data.temporal.valid=0.5", "data.temporal.test=4000000000")
    assert result.exit_code == 0, result.output
    assert "the test split is empty" in result.output
    assert "after the last event" in result.output
