"""POST /items: catalogue rows to item vectors through the capture path (`capture.items`).

The rows are written to a private temporary Parquet file and read back by `read_new_items`, so
they are read, checked and turned into text exactly as a `capture.items` file is; their text is
encoded with the run's encoder (through the embedding cache) and the model's text view by
`encode_new_items`. Encoding runs in a request thread, one request at a time; the writer then
appends the vectors in order with the events.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from dynrec_cli.errors import ConfigError, DataError, DynrecError
from dynrec_cli.serving.inbound import Invalid, problem
from dynrec_cli.serving.live import LiveStore

SHM = Path("/dev/shm")


class ItemEncoder:
    def __init__(self, live: LiveStore, model_name: str) -> None:
        self.live, self.model_name = live, model_name
        self._lock = threading.Lock()  # one encoder load and one embedding-cache writer at a time

    def require_text_model(self) -> None:
        """409 for ID-only models: they have no vector for an item they never trained on."""
        from dynrec_cli.capture.items import require_text_view

        try:
            require_text_view(self.live.model, self.model_name)
        except ConfigError as exc:
            raise Invalid(409, "items", str(exc).replace("capture.items", "POST /items")) from None

    def encode(self, rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, torch.Tensor]:
        """(new rows: item_id, text and catalogue columns; their vectors (n, d)) of the rows the store does not know."""
        from dynrec_cli.capture.items import encode_new_items, read_new_items

        frame = pd.DataFrame([{key: _text(value, f"items[{i}].{key}") for key, value in row.items()} for i, row in enumerate(rows)])
        cfg = self.live.cfg
        folder = SHM if SHM.is_dir() else None  # the rows never touch a disk
        with tempfile.TemporaryDirectory(prefix="dynrec-items-", dir=folder) as scratch:
            path = Path(scratch) / "items.parquet"
            frame.to_parquet(path, index=False)
            try:
                fresh = read_new_items(path, cfg.data, self.live.view.item_ids.to_series(), "item_id")
            except DataError as exc:
                field = f"items[{exc.row - 1}].{exc.column}" if exc.row is not None and exc.column else "items"
                raise Invalid(422, field, problem(exc).replace(str(path), "items")) from None
            except DynrecError as exc:
                raise Invalid(422, "items", str(exc).replace(str(path), "items")) from None
        if fresh.empty:
            return fresh, torch.zeros(0, self.live.view.item_vectors.shape[1])
        with self._lock:
            vectors = encode_new_items(cfg, self.live.ctx.stage_dir("pretrain"), fresh["text"].tolist(), self.live.model, self.live.device)
        return fresh, vectors


def _text(value: Any, field: str) -> str | None:
    """A catalogue cell as a file would hold it: text (numbers as written), or missing."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(422, field, f"expected a string or a number, got {type(value).__name__}")
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
