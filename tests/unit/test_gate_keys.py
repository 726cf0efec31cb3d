"""Gate keys are checked before any work: every key an evaluation can write passes, others fail."""

from __future__ import annotations

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
