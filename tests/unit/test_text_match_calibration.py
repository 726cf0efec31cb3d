"""The finetune stage's choice of DynRec's text-match weight on the valid split."""

from __future__ import annotations

import pytest
import torch

from dynrec_cli.stages.finetune import TEXT_MATCH_WEIGHTS, FinetuneStage


class Recorder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = None

    def set_text_match(self, weight: float) -> None:
        self.weight = weight


@pytest.mark.parametrize(
    ("valid", "expected"),
    [
        ({0.0: 0.100, 4.0: 0.110, 8.0: 0.108}, 4.0),  # +10%: kept
        ({0.0: 0.100, 1.0: 0.1005}, 0.0),  # +0.5%: noise, left off
        ({0.0: 0.100, 2.0: 0.120, 3.0: 0.120}, 2.0),  # ties: the smaller weight
        ({0.0: 0.100}, 0.0),  # nothing beats off
    ],
)
def test_weight_is_the_valid_best_if_it_beats_off_by_one_percent(valid: dict[float, float], expected: float) -> None:
    model = Recorder()
    scores = {w: valid.get(w, 0.05) for w in TEXT_MATCH_WEIGHTS}
    picked = FinetuneStage._calibrate_text_match(model, lambda m: {"valid/ndcg@10": scores[m.weight]}, "valid/ndcg@10")
    assert picked["weight"] == expected and model.weight == expected
    assert [w for w, _ in picked["valid/ndcg@10"]] == list(TEXT_MATCH_WEIGHTS)
