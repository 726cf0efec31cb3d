"""The config checks' table of model traits (read without importing torch) says what the classes say."""

from __future__ import annotations

import pytest

from dynrec_cli import targets


@pytest.mark.parametrize("name", targets.MODELS.names)
def test_the_traits_table_matches_each_model_class(name: str) -> None:
    cls = targets.resolve(name, targets.MODELS, "model._target_")
    assert targets.MODEL_TRAITS[name] == {"trainable": getattr(cls, "trainable", True),
                                          "uses_text": getattr(cls, "uses_text", False)}
