"""The typed readers of run-folder files and the one-line resource errors (the catalogue holds
the end-to-end cases; these pin the rules the readers apply)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from dynrec_cli import resources, run_files
from dynrec_cli.errors import ArtifactError, ConfigError
from dynrec_cli.run_files import ListOf, MapOf, Obj


@pytest.mark.parametrize(("value", "shape", "problem"), [
    ([1], Obj({"a": int}), "an object, not a list"),
    ({"b": 1}, Obj({"a": int}), "no key 'a'"),
    ({"a": True}, Obj({"a": int}), "a: an integer, not true or false"),
    ({"m": float("nan")}, MapOf(run_files.Finite()), "m: a finite number, not nan"),
    ({"m": "0.5"}, MapOf(run_files.Finite()), "m: a number, not a string"),
    ({"a": {"b": [1, "x"]}}, Obj({"a": MapOf(ListOf(int))}), "a.b[1]: an integer, not a string"),
    ({"a": 1}, Obj({}, {"a": (str, type(None))}), "a: a string or null, not an integer"),
    (["m=1", None], run_files.OVERRIDES, "item 1: a string, not null"),
    ({"test/ndcg@10": "0.1"}, run_files.METRICS, "test/ndcg@10: a number, not a string"),
])
def test_a_value_that_does_not_fit_its_shape_says_where(value: object, shape: run_files.Shape, problem: str) -> None:
    assert run_files.mismatch(value, shape) == problem


def test_values_that_fit_pass() -> None:
    assert run_files.mismatch({"a": 1.5, "b": 2}, run_files.METRICS) is None
    assert run_files.mismatch({"has_time": False, "category_separators": None}, run_files.FACTS) is None
    assert run_files.mismatch({"a": None}, Obj({}, {"a": (str, type(None))})) is None


def test_store_segments_must_name_segment_files() -> None:
    meta = {"store_version": 1, "generation": 1, "run": {}, "files": {}, "captures": {}, "in_progress": None,
            "captures_run": 0, "segments": ["../../../etc/passwd"]}
    assert "is not events/seg-<N>.parquet" in run_files.mismatch(meta, run_files.STORE)


def test_sweep_summary_names_a_damaged_job_config(tmp_path: Path) -> None:
    """config.json of a sweep's job is read for the summary table: garbage is one line naming it."""
    from dynrec_cli.sweeps import collect_jobs

    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "config.json").write_text('["not", "a", "config"]')
    with pytest.raises(ArtifactError, match=r"0/config.json: not a dynrec config.json \(an object, not a list\)"):
        collect_jobs(tmp_path)
    (tmp_path / "0" / "config.json").write_text('{"trainer": {}}')
    with pytest.raises(ArtifactError, match="trainer: no key 'objective'"):
        collect_jobs(tmp_path)


def test_unreadable_tensors_and_tables_name_the_file(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    (tmp_path / "x.safetensors").write_bytes(b"\x00" * 3)
    with pytest.raises(ArtifactError, match="x.safetensors: not a safetensors file"):
        run_files.read_tensors(tmp_path / "x.safetensors")
    save_file({"a": torch.zeros(2)}, str(tmp_path / "y.safetensors"))
    with pytest.raises(ArtifactError, match="y.safetensors: no tensor b"):
        run_files.read_tensors(tmp_path / "y.safetensors", ("a", "b"))
    (tmp_path / "t.parquet").write_bytes(b"PAR1 no table")
    with pytest.raises(ArtifactError, match="t.parquet: not a Parquet table"):
        run_files.read_table(tmp_path / "t.parquet")


def test_a_full_disk_inside_safetensors_is_one_line(tmp_path: Path) -> None:
    """safetensors' writer (Rust) reports ENOSPC in its own error type, the errno in its text."""
    from safetensors import SafetensorError

    with pytest.raises(ArtifactError, match="No space left on device; free some space") as raised:
        with resources.as_one_line(tmp_path):
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    assert str(tmp_path) in str(raised.value)
    with pytest.raises(SafetensorError):  # not a resource error: left as it is
        with resources.as_one_line(tmp_path):
            raise SafetensorError("Error while deserializing header: invalid header length")
    with pytest.raises(ArtifactError, match="File too large"):
        with resources.as_one_line(tmp_path):
            raise OSError(errno.EFBIG, "File too large", str(tmp_path / "a.parquet"))


@pytest.mark.parametrize("error", [
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes."),
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
])
def test_an_allocation_failure_names_the_keys_to_lower(tmp_path: Path, error: BaseException) -> None:
    with pytest.raises(ConfigError, match=r"^\[evaluate\] out of memory \(.*\); lower eval.user_chunk, eval.item_chunk$") as raised:
        with resources.as_one_line(tmp_path, "evaluate", ("eval.user_chunk", "eval.item_chunk")):
            raise error
    assert "enforce fail" not in str(raised.value)


def test_other_runtime_errors_are_not_memory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="size mismatch"):
        with resources.as_one_line(tmp_path, "finetune", ("trainer.batch_size",)):
            raise RuntimeError("size mismatch for item_emb.weight")


def test_an_environment_value_is_recorded_as_the_value_it_had(monkeypatch: pytest.MonkeyPatch) -> None:
    """A later command on the run (or another machine) reads the value, not this machine's variable;
    a recorded `${oc.env:...}` is refused (case overrides_read_environment)."""
    from dynrec_cli.run_overrides import to_record

    monkeypatch.setenv("DYNREC_DATA", "/data/my logs")
    recorded = to_record(["data.path=${oc.env:DYNREC_DATA}/ml-1m", "run_dir=${oc.env:DYNREC_DATA}", "seed=3"])
    assert recorded == ["data.path='/data/my logs/ml-1m'", "seed=3"]
