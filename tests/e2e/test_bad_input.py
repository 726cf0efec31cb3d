"""Bad input through `dynrec prepare`: one clear line naming the file, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path


LOG = "user_id,item_id,timestamp\n" + "".join(
    f"u{u},i{(u * 7 + k) % 12},{1_000_000 + 60 * k}\n" for u in range(8) for k in range(8)
)
CATALOGUE = "item_id,title\n" + "".join(f"i{i},Item {i}\n" for i in range(12))


def prepare(cli, tmp_path: Path, log: str | bytes | None, catalogue: str | None = None, *extra: str):
    args = ["prepare", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={tmp_path / 'log.csv'}"]
    if log is not None:
        path = tmp_path / "log.csv"
        path.write_bytes(log if isinstance(log, bytes) else log.encode())
    if catalogue is not None:
        (tmp_path / "items.csv").write_text(catalogue)
        args.append(f"data.items={tmp_path / 'items.csv'}")
    return cli(*args, "data.min_user_interactions=3", "data.min_item_interactions=1", *extra)


def assert_clean_failure(result, tmp_path: Path, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)
    assert not (tmp_path / "run" / "prepare").exists()
    assert not [p for p in (tmp_path / "run").glob(".prepare*")]


def test_good_log_prepares(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, CATALOGUE)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "prepare" / "manifest.json").exists()


def test_missing_file(cli, tmp_path: Path) -> None:
    assert_clean_failure(prepare(cli, tmp_path, None), tmp_path, "log.csv", "data.interactions")


def test_misnamed_column(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG.replace("user_id", "userid", 1))
    assert_clean_failure(result, tmp_path, "log.csv", "user_id", "userid")


def test_mapped_column_works(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG.replace("user_id", "customer", 1), None, "data.columns.user=customer")
    assert result.exit_code == 0, result.output


def test_unparsable_timestamp(cli, tmp_path: Path) -> None:
    lines = LOG.splitlines()
    lines[5] = "u0,i3,yesterday"
    result = prepare(cli, tmp_path, "\n".join(lines) + "\n")
    assert_clean_failure(result, tmp_path, "log.csv", "row 6", "timestamp", "yesterday")


def test_empty_log(cli, tmp_path: Path) -> None:
    assert_clean_failure(prepare(cli, tmp_path, "user_id,item_id,timestamp\n"), tmp_path, "log.csv")


def test_kcore_empties_the_log(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, None, "data.min_user_interactions=50")
    assert_clean_failure(result, tmp_path, "log.csv", "k-core", "data.min_user_interactions")


def test_items_missing_from_catalogue(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, CATALOGUE.replace("i5,Item 5\n", ""))
    assert_clean_failure(result, tmp_path, "items.csv", "i5", "data.allow_missing_items")


def test_missing_items_allowed_get_empty_text(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, CATALOGUE.replace("i5,Item 5\n", ""), "data.allow_missing_items=true")
    assert result.exit_code == 0, result.output


def test_duplicate_item_ids_in_catalogue(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, LOG, CATALOGUE + "i3,Another item 3\n")
    assert_clean_failure(result, tmp_path, "items.csv", "i3")


def test_failed_rerun_leaves_previous_output(cli, tmp_path: Path) -> None:
    assert prepare(cli, tmp_path, LOG).exit_code == 0
    manifest = (tmp_path / "run" / "prepare" / "manifest.json").read_text()
    lines = LOG.splitlines()
    lines[3] = "u0,i3,not-a-time"
    result = prepare(cli, tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == 2
    assert (tmp_path / "run" / "prepare" / "manifest.json").read_text() == manifest


def dated_log(dates: list[str]) -> str:
    """The good log with its timestamps replaced by date strings (cycled over the rows)."""
    rows = LOG.splitlines()
    return rows[0] + "\n" + "".join(
        f"{row.rsplit(',', 1)[0]},{dates[i % len(dates)]}\n" for i, row in enumerate(rows[1:])
    )


def test_day_first_dates_are_read_day_first_on_every_row(cli, tmp_path: Path) -> None:
    import pandas as pd

    # 21/06 can only be day-first; 09/01 and 03/02 must then be 9 January and 3 February, not 1 September / 2 March
    dates = ["21/06/1996 11:11", "09/01/1995 10:00", "03/02/1995 08:30", "15/03/1995 12:00"]
    result = prepare(cli, tmp_path, dated_log(dates))
    assert result.exit_code == 0, result.output
    times = set(pd.read_parquet(tmp_path / "run" / "prepare" / "events.parquet")["time"].tolist())
    expected = {int(pd.Timestamp(d.replace("/", "-"), tz="UTC").timestamp()) * 10**9 for d in
                ["1996-06-21 11:11", "1995-01-09 10:00", "1995-02-03 08:30", "1995-03-15 12:00"]}
    assert times == expected


def test_dates_in_both_day_month_orders_are_refused(cli, tmp_path: Path) -> None:
    # row 2 is day-first only, row 3 month-first only: no one format reads the column
    result = prepare(cli, tmp_path, dated_log(["21/06/1996 11:11", "06/22/1996 11:11", "23/06/1996 11:11"]))
    assert_clean_failure(result, tmp_path, "log.csv", "row 3", "column 'timestamp'", "06/22/1996 11:11",
                         "one date format", "ISO 8601")


def test_dates_with_no_telling_day_are_refused_as_ambiguous(cli, tmp_path: Path) -> None:
    # every day <= 12: 01/01 is the same either way, 09/01 is 9 January or 1 September
    result = prepare(cli, tmp_path, dated_log(["01/01/1995 10:00", "09/01/1995 10:00", "03/02/1995 08:30"]))
    assert_clean_failure(result, tmp_path, "log.csv", "row 3", "column 'timestamp'", "09/01/1995 10:00",
                         "ambiguous day/month order", "ISO 8601")


def test_impossible_date_is_still_refused(cli, tmp_path: Path) -> None:
    result = prepare(cli, tmp_path, dated_log(["2001-02-01 10:00", "2001-02-30 10:00"]))
    assert_clean_failure(result, tmp_path, "log.csv", "row 3", "column 'timestamp'", "2001-02-30")


def test_event_filter_that_keeps_nothing_lists_the_event_types(cli, tmp_path: Path) -> None:
    typed = LOG.replace("timestamp\n", "timestamp,event\n", 1).replace("\n", ",view\n").replace("timestamp,event,view", "timestamp,event")
    result = prepare(cli, tmp_path, typed, None, "data.columns.event=event", "data.events=[buy]")
    assert_clean_failure(result, tmp_path, "log.csv", "data.events", "event types: 'view' (64)")


def test_catalogue_with_its_own_separator(cli, tmp_path: Path) -> None:
    semicolons = LOG.replace(",", ";")
    assert_clean_failure(prepare(cli, tmp_path, semicolons, CATALOGUE, "data.sep=';'"), tmp_path, "items.csv",
                         "set data.items_sep=','")
    result = prepare(cli, tmp_path, semicolons, CATALOGUE, "data.sep=';'", "data.items_sep=','")
    assert result.exit_code == 0, result.output


def test_prepare_hash_ignores_an_unset_items_sep() -> None:
    from omegaconf import OmegaConf

    from dynrec_cli.artifacts import config_hash
    from dynrec_cli.stages.prepare import PrepareStage

    cfg = OmegaConf.create({"seed": 0, "data": {"format": "csv", "sep": None, "items_sep": None}})
    before = {"data": OmegaConf.create({"format": "csv", "sep": None}), "seed": 0}
    assert config_hash(PrepareStage().config_sections(cfg)) == config_hash(before)


def test_k_above_the_catalogue_is_refused_before_training(cli, tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    result = cli("train", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={tmp_path / 'log.csv'}",
                 "data.min_user_interactions=3", "data.min_item_interactions=1", "model=sasrec", "model.hidden=8",
                 "model.layers=1", "model.heads=1", "trainer=tiny", "eval.ks=[5,50]")
    assert result.exit_code == 2, result.output
    assert "eval.ks=[5, 50]: K=50 is more than the 12 items" in result.output
    assert not (tmp_path / "run" / "finetune").exists() and not (tmp_path / "run" / "pretrain").exists()
