"""`dynrec capture` with events and new items, the interest store, and `eval.protocol=replay`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from dynrec_cli.data.clock import NS_PER_S
from tests.conftest import run_from_repo

pytestmark = pytest.mark.slow
TINY_TEMPORAL_DYNREC = [
    "model=dynrec", "encoder=tiny", "adapter=linear", "model.item_id=false", "model.hidden=16", "model.layers=1",
    "model.heads=1", "model.max_len=20", "trainer=tiny", "trainer.batch_size=256", "data.max_seq_len=40",
    "data.split=temporal",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny text-only DynRec trained with a global temporal cut-off, shared by this module."""
    root = tmp_path_factory.mktemp("capture")
    run_from_repo("train", f"run_dir={root / 'run'}", f"encoder.cache_dir={root / 'cache'}", *TINY_TEMPORAL_DYNREC)
    return root / "run"


def prepared(run: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    folder = run / "prepare"
    return (pd.read_parquet(folder / "events.parquet"), pd.read_parquet(folder / "items.parquet"),
            pd.read_parquet(folder / "users.parquet"))


def events_file(run: Path, path: Path, n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Events after everything the run holds, for 12 known users and one new user, shuffled rows."""
    events, items, users = prepared(run)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "user_id": rng.choice(users["user_id"].to_numpy()[:12], n),
        "item_id": rng.choice(items["item_id"].to_numpy(), n),
        "timestamp": events["time"].max() // NS_PER_S + 1 + rng.integers(0, 30 * 86400, n),  # unix seconds
    })
    frame.loc[[i for i in (3, 50) if i < n], "user_id"] = "new-user"
    frame.to_csv(path, index=False)
    return frame


def store_state(folder: Path) -> dict[str, torch.Tensor]:
    meta = json.loads((folder / "store.json").read_text())
    return load_file(str(folder / f"gen-{meta['generation']:06d}" / "state.safetensors"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_capture_writes_the_store_and_the_report(cli, run: Path, tmp_path: Path) -> None:
    sent = events_file(run, tmp_path / "events.csv")
    result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}",
                 f"capture.store={tmp_path / 'store'}", "capture.checkpoint_every=50")
    assert result.exit_code == 0, result.output
    report = tmp_path / "store" / "captures" / "001"
    for name in ("interests.safetensors", "drift.parquet", "drift.csv", "drift.png", "manifest.json"):
        assert (report / name).stat().st_size > 0, name
    figures = json.loads((report / "manifest.json").read_text())["figures"]
    assert figures["applied_now"] == len(sent) and figures["events_per_s"] > 0
    assert 0 < figures["latency_ms_median"] <= figures["latency_ms_p99"]
    drift = pd.read_parquet(report / "drift.parquet")
    assert set(drift["user_id"]) == set(sent["user_id"].astype(str))
    assert drift.set_index("user_id").loc["new-user", "new_user"] and drift["drift"].dropna().gt(0).all()
    assert drift["drift"].dropna().is_monotonic_decreasing  # top movers first
    assert pd.read_csv(report / "drift.csv", dtype={"user_id": str})["user_id"].tolist() == drift["user_id"].tolist()
    assert (report / "drift.png").read_bytes()[:4] == b"\x89PNG"
    state = store_state(tmp_path / "store")
    baseline = load_file(str(run / "capture" / "interests.safetensors"))["users"]
    moved = (state["users"][: len(baseline)] - baseline).abs().amax(1) > 1e-6
    assert moved.sum() == 12  # exactly the known users of the file moved; the rest kept their vectors
    assert torch.equal(load_file(str(report / "interests.safetensors"))["users"], state["users"])
    # the same events one at a time (streaming path) give the same state as the batched path
    single = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}",
                 f"capture.store={tmp_path / 'single'}", "capture.mode=single")
    assert single.exit_code == 0, single.output
    other = store_state(tmp_path / "single")
    assert torch.equal(other["window_items"], state["window_items"])
    torch.testing.assert_close(other["users"], state["users"], atol=1e-5, rtol=1e-5)
    again = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={tmp_path / 'store'}")
    assert again.exit_code == 0 and "already applied" in again.output


@pytest.mark.parametrize("mode", ["batched", "single"])
def test_the_single_event_path_runs_on_one_thread_and_restores_the_setting(cli, run: Path, tmp_path: Path, mode: str) -> None:
    events_file(run, tmp_path / "events.csv", n=30)
    threads = torch.get_num_threads()
    try:
        result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={tmp_path / 'store'}",
                     f"capture.mode={mode}", "trainer.threads=3")
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 3  # the capture's own setting (trainer.threads), not the per-event path's
    finally:
        torch.set_num_threads(threads)
    figures = json.loads((tmp_path / "store" / "captures" / "001" / "manifest.json").read_text())["figures"]
    assert figures["latency_threads"] == 1 and figures["latency_events"] == 30


def test_a_crash_mid_file_loses_nothing_and_applies_nothing_twice(cli, run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dynrec_cli.capture import store as stores

    sent = events_file(run, tmp_path / "events.csv", n=200, seed=1)
    args = [f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", "capture.checkpoint_every=40"]
    real, calls = stores.commit, []

    def crash_on_third_checkpoint(store, segment=None):
        calls.append(1)
        if len(calls) == 4:  # the seed, two checkpoints, then die half-way through writing the third
            (store.folder / f"gen-{store.meta['generation'] + 1:06d}").mkdir()
            raise RuntimeError("simulated crash")
        real(store, segment)

    monkeypatch.setattr(stores, "commit", crash_on_third_checkpoint)
    with pytest.raises(RuntimeError, match="simulated crash"):
        cli("capture", *args, f"capture.store={tmp_path / 'crashed'}")
    meta = json.loads((tmp_path / "crashed" / "store.json").read_text())
    assert meta["captures"][next(iter(meta["captures"]))]["applied"] == 80 and meta["in_progress"]
    monkeypatch.setattr(stores, "commit", real)
    resumed = cli("capture", *args, f"capture.store={tmp_path / 'crashed'}")
    assert resumed.exit_code == 0, resumed.output
    clean = cli("capture", *args, f"capture.store={tmp_path / 'clean'}")
    assert clean.exit_code == 0, clean.output
    torch.testing.assert_close(store_state(tmp_path / "crashed")["users"], store_state(tmp_path / "clean")["users"])
    meta = json.loads((tmp_path / "crashed" / "store.json").read_text())
    rows = pd.concat([pd.read_parquet(tmp_path / "crashed" / name) for name in meta["segments"]])["row"]
    assert sorted(rows) == sorted(set(rows)) and len(rows) == len(sent)  # each event exactly once
    assert [p.name for p in (tmp_path / "crashed").glob("gen-*")] == [f"gen-{meta['generation']:06d}"]


def _bad_events(run: Path, tmp_path: Path, case: str) -> tuple[list[str], str]:
    frame = events_file(run, tmp_path / "events.csv", n=20)
    if case == "unknown item":
        frame.loc[7, "item_id"] = "no-such-item"
        frame.to_csv(tmp_path / "events.csv", index=False)
        return [], "row 9, column 'item_id'"  # line 9 of the file: header + 8 rows
    if case == "late event":
        frame.loc[5, "timestamp"] = 1
        frame.to_csv(tmp_path / "events.csv", index=False)
        return [], "older than user"
    if case == "another run":
        return [f"capture.store={tmp_path / 'foreign'}"], "another run"
    if case == "missing file":
        (tmp_path / "events.csv").unlink()
        return [], "file not found (check capture.events=)"
    if case == "missing items file":
        return [f"capture.items={tmp_path / 'none.csv'}"], "file not found (check capture.items=)"
    return [], "model hash does not match"


@pytest.mark.parametrize("case", ["unknown item", "late event", "another run", "model hash", "missing file", "missing items file"])
def test_bad_input_exits_2_and_leaves_the_store_as_it_was(cli, run: Path, tmp_path: Path, case: str) -> None:
    store = tmp_path / "store"
    events_file(run, tmp_path / "first.csv", n=10, seed=5)
    assert cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'first.csv'}", f"capture.store={store}").exit_code == 0
    if case == "another run":  # a store whose run fingerprints are another run's
        meta = json.loads((store / "store.json").read_text())
        meta["run"].update(data="x" * 64, model="y" * 64, run_dir="/elsewhere/run")
        (tmp_path / "foreign").mkdir()
        for item in store.iterdir():
            target = tmp_path / "foreign" / item.name
            os.symlink(item, target) if item.name != "store.json" else target.write_text(json.dumps(meta))
    if case == "model hash":
        meta = json.loads((store / "store.json").read_text())
        meta["run"]["model"] = "0" * 64
        (store / "store.json").write_text(json.dumps(meta))
    extra, message = _bad_events(run, tmp_path, case)
    before = snapshot(store)
    result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={store}", *extra)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert snapshot(store) == before


def test_late_events_can_be_skipped_and_counted(cli, run: Path, tmp_path: Path) -> None:
    frame = events_file(run, tmp_path / "events.csv", n=20)
    frame.loc[5, "timestamp"] = 1  # older than what the store holds for that user
    frame.to_csv(tmp_path / "events.csv", index=False)
    store = tmp_path / "store"
    result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={store}",
                 "capture.late_events=skip")
    assert result.exit_code == 0, result.output
    figures = json.loads((store / "captures" / "001" / "manifest.json").read_text())["figures"]
    assert figures["skipped_late"] == 1 and figures["applied_now"] == 19
    # a second capture whose only event is late applies nothing: `captured` says so, not "no capture"
    frame.iloc[[5]].to_csv(tmp_path / "late.csv", index=False)
    late = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'late.csv'}", f"capture.store={store}",
               "capture.late_events=skip")
    assert late.exit_code == 0, late.output
    ranked = cli("rank", f"run_dir={run}", "rank.users=captured", f"capture.store={store}")
    assert ranked.exit_code == 2 and "the last capture applied no event" in " ".join(ranked.output.split()), ranked.output


def test_an_item_prepare_dropped_says_so_and_unknown_items_skip_counts_it(cli, run: Path, tmp_path: Path) -> None:
    dropped = pd.read_parquet(run / "prepare" / "dropped_items.parquet")
    sparse = dropped[dropped["reason"].str.startswith("data.min_item_interactions=5 (it had")]
    assert len(sparse), dropped["reason"].value_counts()  # the sample's 5-core drops rare items
    item, reason = sparse.iloc[0]
    frame = events_file(run, tmp_path / "events.csv", n=20)
    frame.loc[7, "item_id"] = item
    frame.to_csv(tmp_path / "events.csv", index=False)
    store = tmp_path / "store"
    refused = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={store}")
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and f"row 9, column 'item_id': item '{item}' was dropped by {reason} at prepare" in said, said
    assert "capture.unknown_items=skip" in said and not store.exists()
    never_seen = frame.copy()
    never_seen.loc[7, "item_id"] = "never-seen"
    never_seen.to_csv(tmp_path / "events.csv", index=False)
    never = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={store}")
    assert never.exit_code == 2 and "item 'never-seen' was never seen" in " ".join(never.output.split()), never.output
    frame.loc[9, "item_id"] = "never-seen"
    frame.to_csv(tmp_path / "events.csv", index=False)
    skipped = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={store}",
                  "capture.unknown_items=skip")
    assert skipped.exit_code == 0, skipped.output
    assert "2 events name 2 items the run has no vector for" in " ".join(skipped.output.split())
    figures = json.loads((store / "captures" / "001" / "manifest.json").read_text())["figures"]
    assert (figures["skipped_unknown"], figures["applied_now"], figures["events"]) == (2, 18, 20)


def test_new_item_from_text_is_recommended_without_retraining(cli, run: Path, tmp_path: Path) -> None:
    _, items, users = prepared(run)
    user = str(users["user_id"].iloc[0])
    store = f"capture.store={tmp_path / 'store'}"
    first = cli("rank", f"run_dir={run}", f"rank.users=[{user}]", "rank.format=csv", store)
    assert first.exit_code == 0, first.output
    favourite = pd.read_csv(run / "rank" / "recommendations.csv", dtype=str)["item_id"].iloc[0]
    text = items.set_index("item_id").loc[favourite, "text"]
    pd.DataFrame({"item_id": ["new-film", favourite], "text": [text, "ignored: already in the catalogue"]}).to_csv(
        tmp_path / "catalogue.csv", index=False)
    stamp = int(prepared(run)[0]["time"].max()) // NS_PER_S + 10
    pd.DataFrame({"user_id": ["late-comer"], "item_id": ["new-film"], "timestamp": [stamp]}).to_csv(tmp_path / "events.csv", index=False)
    added = cli("capture", f"run_dir={run}", f"capture.items={tmp_path / 'catalogue.csv'}",
                f"capture.events={tmp_path / 'events.csv'}", store)
    assert added.exit_code == 0, added.output
    assert "1 new items added" in " ".join(added.output.split())
    after = cli("rank", f"run_dir={run}", f"rank.users=[{user}]", "rank.format=csv", store)
    assert after.exit_code == 0 and "[finetune] up to date" in after.output  # no retraining
    table = pd.read_csv(run / "rank" / "recommendations.csv", dtype=str)
    assert {favourite, "new-film"} <= set(table["item_id"].tolist()[:3])  # the same text scores (almost) the same
    captured = cli("rank", f"run_dir={run}", "rank.users=captured", "rank.format=csv", store)
    assert captured.exit_code == 0, captured.output
    table = pd.read_csv(run / "rank" / "recommendations.csv", dtype=str)
    assert set(table["user_id"]) == {"late-comer"} and "new-film" not in set(table["item_id"])  # seen: excluded


def test_id_only_model_cannot_add_items(cli, tmp_path: Path) -> None:
    pd.DataFrame({"item_id": ["new-film"], "text": ["A film"]}).to_csv(tmp_path / "catalogue.csv", index=False)
    assert cli("finetune", f"run_dir={tmp_path / 'pop'}", "model=pop").exit_code == 0  # capture needs a trained run
    result = cli("capture", f"run_dir={tmp_path / 'pop'}", "model=pop", f"capture.items={tmp_path / 'catalogue.csv'}")
    assert result.exit_code == 2, result.output
    assert "cannot rank items it never saw" in " ".join(result.output.split())
    assert not (tmp_path / "pop" / "store").exists()


def test_order_only_capture_skips_unknown_items_without_a_gap_in_positions(cli, tmp_path: Path) -> None:
    from tests.bad_inputs.case import LOG, PREPARE_ARGS

    (tmp_path / "log.csv").write_text("\n".join(",".join(line.split(",")[:2]) for line in LOG.splitlines()) + "\n")  # no time
    data = ["model=pop", "data=csv", f"data.interactions={tmp_path / 'log.csv'}", "data.columns.time=null", *PREPARE_ARGS]
    run = tmp_path / "run"
    assert cli("finetune", f"run_dir={run}", *data).exit_code == 0
    (tmp_path / "today.csv").write_text("user_id,item_id\nu1,i3\nu1,nope\nu1,i4\n")
    result = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'today.csv'}", "capture.unknown_items=skip")
    assert result.exit_code == 0, result.output
    applied = pd.concat(pd.read_parquet(p) for p in sorted((run / "store" / "events").glob("*.parquet")))
    from dynrec_cli.data.clock import NS_PER_S

    assert applied["row"].tolist() == [2, 4]  # the unknown item of row 3 skipped
    assert applied["time"].diff().iloc[1] == NS_PER_S  # and the next two steps (a second each) of u1, no gap


def test_replay_protocol_reports_replay_and_frozen(cli, run: Path) -> None:
    result = cli("evaluate", f"run_dir={run}", "eval.protocol=replay")
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("replay/ndcg@10", "replay/recall@10", "frozen/ndcg@10", "frozen/recall@10", "replay/ndcg@5", "frozen/mrr@20"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["replay/events"] == metrics["frozen/events"] > 0
    periods = pd.read_csv(run / "evaluate" / "replay_periods.csv")
    assert len(periods) == 4 and periods["events"].sum() == metrics["replay/events"]
    assert {"replay/ndcg@10", "frozen/ndcg@10", "start", "end"} <= set(periods.columns)


def test_replay_needs_a_temporal_split(cli, tmp_path: Path) -> None:
    result = cli("evaluate", f"run_dir={tmp_path / 'x'}", "model=pop", "eval.protocol=replay")
    assert result.exit_code == 2 and "data.split=temporal" in result.output


def test_batched_replay_states_equal_event_by_event_capture(run: Path) -> None:
    from dynrec_cli.capture.apply import Encoder, apply_one
    from dynrec_cli.capture.store import UserState
    from dynrec_cli.data.sequences import prefix_windows
    from dynrec_cli.evaluation.replay import replay_events, replay_vectors
    from dynrec_cli.training.checkpoint import load_model

    model = load_model(run / "finetune")
    events, _, users = prepared(run)
    replay = replay_events(events, len(users))
    table = model.item_vectors().float()
    batched = replay_vectors(model, table, replay, False, model.max_len, 64)
    chosen = pd.unique(replay.users)[:3]
    encoder = Encoder(model, table, torch.device("cpu"))
    for user in chosen:
        rows = np.flatnonzero(replay.users == user)
        items, times = prefix_windows(replay.history, replay.users[rows[:1]], replay.cut[rows[:1]], model.max_len)
        state = UserState(items.numpy(), times.numpy(), encoder(items.numpy(), times.numpy()))
        for row in rows:  # the state before each test event, then capture that event
            torch.testing.assert_close(state.vectors[0], batched[row], atol=1e-5, rtol=1e-5)
            apply_one(state, encoder, 0, int(replay.targets[row]), int(replay.times[row]))


def test_catalogue_with_its_own_id_column_and_keys_that_would_retrain(cli, run: Path, tmp_path: Path) -> None:
    store = f"capture.store={tmp_path / 'store'}"
    pd.DataFrame({"movieId": ["film-a", "film-b"], "text": ["a quiet drama", "a loud comedy"]}).to_csv(
        tmp_path / "films.csv", index=False)
    missing = cli("capture", f"run_dir={run}", f"capture.items={tmp_path / 'films.csv'}", store)
    assert missing.exit_code == 2 and "capture.item_id_column" in missing.output, missing.output
    # the prepare key would re-prepare and retrain the run (and orphan its store): refused, nothing redone
    before = (run / "finetune" / "manifest.json").read_bytes()
    retrain = cli("capture", f"run_dir={run}", f"capture.items={tmp_path / 'films.csv'}", "data.item_id_column=movieId", store)
    assert retrain.exit_code == 2, retrain.output
    assert "data.item_id_column='movieId' (trained with None) would redo its prepare stage" in " ".join(retrain.output.split())
    assert (run / "finetune" / "manifest.json").read_bytes() == before
    added = cli("capture", f"run_dir={run}", f"capture.items={tmp_path / 'films.csv'}", "capture.item_id_column=movieId", store)
    assert added.exit_code == 0, added.output
    assert "2 new items added" in " ".join(added.output.split()) and "[finetune] up to date" in added.output


def test_capture_file_with_its_own_column_names(cli, run: Path, tmp_path: Path) -> None:
    store = f"capture.store={tmp_path / 'store'}"
    events_file(run, tmp_path / "events.csv", n=20).rename(columns={"item_id": "movie", "timestamp": "ts"}).to_csv(
        tmp_path / "today.csv", index=False)
    missing = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'today.csv'}", store)
    said = " ".join(missing.output.split())
    assert missing.exit_code == 2 and "no column 'item_id'" in said and "capture.columns.<role>" in said, said
    renamed = cli("capture", f"run_dir={run}", f"capture.events={tmp_path / 'today.csv'}", store,
                  "capture.columns.item=movie", "capture.columns.time=ts")
    assert renamed.exit_code == 0, renamed.output
    assert "[finetune] up to date" in renamed.output and (tmp_path / "store" / "store.json").is_file()


def test_api_add_items_and_capture_take_dataframes(cli, run: Path, tmp_path: Path) -> None:
    """`Run.add_items` / `Run.capture` are `dynrec capture capture.items=` / `capture.events=` on a DataFrame."""
    from dynrec_cli.api import Run

    api, store = Run.open(run), [f"capture.store={tmp_path / 'api'}"]
    user = api.user_vectors().ids[0]
    favourite = api.recommend(users=[user], k=1)["item_id"].iloc[0]
    text = prepared(run)[1].set_index("item_id").loc[favourite, "text"]
    catalogue = pd.DataFrame({"item_id": ["new-film"], "text": [text]})
    catalogue.to_csv(tmp_path / "catalogue.csv", index=False)
    assert cli("capture", f"run_dir={run}", f"capture.items={tmp_path / 'catalogue.csv'}", f"capture.store={tmp_path / 'cli'}").exit_code == 0
    assert api.add_items(catalogue, *store) is api
    items = api.item_vectors(*store)
    assert items.ids[-1] == "new-film" and len(items.ids) == items.vectors.shape[0]
    assert torch.equal(items.vectors, api.item_vectors(f"capture.store={tmp_path / 'cli'}").vectors)
    assert "new-film" in set(api.recommend(users=[user], k=3, overrides=store)["item_id"])  # rankable without retraining
    stamp = int(prepared(run)[0]["time"].max()) + 10
    api.capture(pd.DataFrame({"user_id": ["late-comer"], "item_id": ["new-film"], "timestamp": [stamp]}), *store)
    assert api.user_vectors(*store).ids[-1] == "late-comer"
