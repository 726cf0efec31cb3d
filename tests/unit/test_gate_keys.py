"""Gate keys are checked before any work: every key an evaluation can write passes, others fail."""

from __future__ import annotations

import re

import pytest

from dynrec_cli.errors import ConfigError
from dynrec_cli.evaluation.gates import check_metric_keys


@pytest.mark.parametrize("key", ["test/ndcg@10", "valid/users", "test/cold/recall@5", "test/period2/ild@20",
                                 "replay/ndcg@10", "frozen/events", "test/gini@10"])
def test_keys_an_evaluation_writes_pass(key: str) -> None:
    check_metric_keys("--fail-under", [key], [5, 10, 20])


@pytest.mark.parametrize("key", ["test/ndcg@11", "test/bogus@10", "ndcg@10", "train/ndcg@10", "test/ndcg"])
def test_keys_no_evaluation_writes_fail(key: str) -> None:
    with pytest.raises(ConfigError, match="not a metric key"):
        check_metric_keys("--fail-under", [key], [5, 10, 20])


def test_an_empty_segment_has_its_count_and_no_figures() -> None:
    import numpy as np

    from dynrec_cli.evaluation.segments import segment_summary

    per_user = {"ndcg@10": np.array([0.5, 0.1])}
    out = segment_summary("test", per_user, {"short": np.array([False, False]), "long": np.array([True, True])})
    assert out == {"test/short/users": 0.0, "test/long/users": 2.0, "test/long/ndcg@10": 0.3}


def test_a_gate_on_an_empty_segment_is_refused() -> None:
    from dynrec_cli.api.commands import check_gates

    metrics = {"test/ndcg@10": 0.1, "test/short/users": 0.0, "test/long/users": 5.0, "test/long/ndcg@10": 0.1}
    with pytest.raises(ConfigError, match=r"the segment test/short has no users in this evaluation"):
        check_gates({"test/short/ndcg@10": 0.01}, metrics)
    assert check_gates({"test/long/ndcg@10": 0.2}, metrics) == ["test/long/ndcg@10 = 0.1000 < 0.2"]


def test_empty_segments_are_blank_in_the_report() -> None:
    from dynrec_cli.evaluation.report import build_sections

    metrics = {"test/ndcg@10": 0.1, "test/recall@10": 0.2, "test/users": 5.0, "test/short/users": 0.0,
               "test/long/users": 5.0, "test/long/ndcg@10": 0.1, "test/long/recall@10": 0.2}
    table = next(s for s in build_sections(metrics, None, "valid/ndcg@10", None) if s.title == "test: segments")
    assert table.rows[1] == ["short", "0", "", ""] and table.rows[2][:3] == ["long", "5", "0.1000"]


@pytest.mark.parametrize("drop", ["test/ndcg@10=5", "test/long/recall@20=1", "test/coverage@10=2"])
def test_an_absolute_drop_a_bounded_metric_cannot_make_is_refused(drop: str) -> None:
    from dynrec_cli.evaluation.gates import parse_max_drops

    with pytest.raises(ConfigError, match="did you mean"):
        parse_max_drops([drop])
    assert parse_max_drops(["test/ndcg@10=5%", "test/ndcg@10=0.01", "test/novelty@10=2"])


def test_an_empty_split_has_its_count_only_and_its_gates_are_refused() -> None:
    import numpy as np

    from dynrec_cli.api.commands import check_gates
    from dynrec_cli.evaluation.evaluator import SplitResult

    empty = SplitResult(np.zeros(0, dtype=np.int64), {"ndcg@10": np.zeros(0)}, np.zeros((0, 10), dtype=np.int64), 50)
    metrics = {**empty.summary("test", [10]), "valid/ndcg@10": 0.2, "valid/users": 3.0}
    assert metrics["test/users"] == 0.0 and "test/coverage@10" not in metrics and "test/ndcg@10" not in metrics
    with pytest.raises(ConfigError, match=r"the split test has no users in this evaluation"):
        check_gates({"test/ndcg@10": 0.01}, metrics)


@pytest.mark.parametrize(("item", "said"), [
    ("test/ndcg@10=nan", "not a number"), ("test/ndcg@10=-1", "not above 0"), ("test/users=0", "not above 0"),
    ("test/ndcg@10=-inf", "not above 0"), ("test/ndcg@10=inf", "could never pass"), ("test/ndcg@10=1.5", "lies in [0, 1]"),
])
def test_a_floor_that_decides_nothing_is_refused(item: str, said: str) -> None:
    from dynrec_cli.api.commands import parse_gates

    with pytest.raises(ConfigError, match=re.escape(said)):
        parse_gates([item])


@pytest.mark.parametrize("item", ["test/ndcg@10=0.05", "test/ndcg@10=1", "test/novelty@10=7.5", "test/users=100"])
def test_a_floor_a_figure_can_cross_passes(item: str) -> None:
    from dynrec_cli.api.commands import parse_gates

    parse_gates([item])


@pytest.mark.parametrize("item", ["test/ndcg@10=nan", "test/ndcg@10=inf%", "test/ndcg@10=100%", "test/ndcg@10=250%"])
def test_a_max_drop_that_can_never_fail_is_refused(item: str) -> None:
    from dynrec_cli.evaluation.gates import parse_max_drops

    with pytest.raises(ConfigError, match="could never fail"):
        parse_max_drops([item])
