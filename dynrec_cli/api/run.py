"""`Run`: a trained run folder from Python — its metrics and config, top-K lists, captures, vectors.

Each method takes the path the CLI takes: `recommend` ranks with `dynrec rank`'s code, `capture`
and `add_items` are `dynrec capture capture.events=FILE` / `capture.items=FILE` on a file written
from the DataFrame. Reading (`metrics`, `recommend`, the vectors) never writes to the folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dynrec_cli.errors import ArtifactError, DataError

if TYPE_CHECKING:
    import pandas as pd
    import torch

    from dynrec_cli.stages.base import StageContext

METRICS_FILE, CONFIG_FILE, OVERRIDES_FILE = "metrics.json", "config.json", "overrides.json"
_BARE = re.compile(r"[\w/.:~@%+-]+")  # an override value Hydra reads as it is, unquoted


class Vectors(NamedTuple):
    """Vectors with their original ids: `vectors[i]` belongs to `ids[i]`; vectors: (len(ids), d)."""

    ids: list[str]
    vectors: torch.Tensor


def override(key: str, value: str | os.PathLike[str]) -> str:
    """`key=value` for Hydra's override grammar, quoting a value with spaces, commas or quotes."""
    text = str(value)
    if _BARE.fullmatch(text):
        return f"{key}={text}"
    return f"{key}='" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Run:
    """A trained run folder. Open one with `Run.open(path)`; the API's `train()` returns one."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Run:
        """The run in `path`; ArtifactError when it holds no trained run (no finished finetune stage)."""
        from dynrec_cli.api.arguments import folder as folder_argument
        from dynrec_cli.artifacts import MANIFEST

        folder = folder_argument(path, "path", optional=False)
        assert folder is not None
        if not (folder / "finetune" / MANIFEST).is_file():
            what = "no such folder" if not folder.exists() else "no finished finetune stage there"
            raise ArtifactError(f"{folder}: no trained run ({what}); train one first (dynrec train run_dir={folder})")
        return cls(folder)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def metrics(self) -> dict[str, Any]:
        """metrics.json (`test/ndcg@10`, ...) as it is now; {} before the run was evaluated."""
        from dynrec_cli import run_files

        path = self.path / METRICS_FILE
        return run_files.read_json(path, run_files.METRICS) if path.exists() else {}

    @property
    def config(self) -> dict[str, Any]:
        """config.json: the composed, resolved config of the last command run on the folder, as a dict."""
        from dynrec_cli import run_files

        return run_files.read_json(self.path / CONFIG_FILE, dict)

    @property
    def overrides(self) -> list[str]:
        """overrides.json: the overrides the run was last trained with (what later verbs start from)."""
        from dynrec_cli import run_files

        return run_files.read_json(self.path / OVERRIDES_FILE, run_files.OVERRIDES)

    def recommend(
        self,
        users: Iterable[Any] | str | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        *,
        strategies: Sequence[str] | None = None,
        overrides: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Top-`k` lists, ranked by `dynrec rank`'s code from the run's current interests (its
        interest store once captures were applied).

        Args:
            users: original user ids, or one id (None: every user; "captured": those of the last capture).
            k: list length per user.
            exclude_seen: leave out what each user already consumed.
            strategies: re-ranking, any of filter, popularity, freshness, mmr (None: the run's rank.strategies).
            overrides: more `rank.*` keys, e.g. ["rank.mmr.lambda=0.5", "rank.explain=true"].

        Returns:
            One row per recommendation: user_id, rank (1..k), item_id, score, and title where
            the catalogue has one (plus because_ids/because with rank.explain=true).
        """
        from dynrec_cli.capture.view import CAPTURED
        from dynrec_cli.stages.rank import rank_table

        from dynrec_cli.api.arguments import count

        keys = [f"rank.k={count(k, 'k')}", f"rank.exclude_seen={str(bool(exclude_seen)).lower()}"]
        if strategies is not None:
            keys.append(f"rank.strategies=[{','.join(strategies)}]")
        ctx = self._context([*keys, *overrides])
        if isinstance(users, str):  # one id, or `captured` (as rank.users takes them)
            users = users if users == CAPTURED else [users]
        table, _ = rank_table(ctx, users if users is None or users == CAPTURED else [str(u) for u in users])
        return table

    def user_vectors(self, *overrides: str) -> Vectors:
        """Each user's interest vector: the capture stage's, or the interest store's once captures
        were applied (`capture.store=DIR` for a store elsewhere than RUN/store)."""
        from dynrec_cli.stages.rank import interests

        prepared, users, _, _ = interests(self._context(overrides))
        ids = prepared.users.sort_values("user_idx")["user_id"].astype(str).tolist()
        return Vectors(ids, users)

    def item_vectors(self, *overrides: str) -> Vectors:
        """Each item's vector in the space users are scored against (the padding row left out),
        items added with `add_items` included."""
        from dynrec_cli.stages.rank import interests

        prepared, _, items, _ = interests(self._context(overrides))
        ids = prepared.items.sort_values("item_idx")["item_id"].astype(str).tolist()
        return Vectors(ids, items[1 : len(ids) + 1])

    def capture(self, events: pd.DataFrame, *overrides: str) -> Run:
        """Apply new events to the run's interest store: `dynrec capture capture.events=FILE`.

        `events` has the columns of the log the run was trained on (or map them with
        `capture.columns.<role>=NAME`); the same DataFrame applied twice is applied once."""
        return self._capture("capture.events", events, "events", overrides)

    def add_items(self, items: pd.DataFrame, *overrides: str) -> Run:
        """Add catalogue rows (id and text columns), encoded from their text and rankable at once:
        `dynrec capture capture.items=FILE` (language-model models)."""
        return self._capture("capture.items", items, "items", overrides)

    def _capture(self, key: str, table: pd.DataFrame, name: str, overrides: Sequence[str]) -> Run:
        import pandas as pd

        from dynrec_cli.api.commands import execute

        if not isinstance(table, pd.DataFrame):
            raise DataError(f"the {name} argument", f"a pandas DataFrame with the log's columns, not a {type(table).__name__}")
        with tempfile.TemporaryDirectory(prefix="dynrec-") as folder:
            path = Path(folder) / f"{name}.parquet"
            try:
                table.to_parquet(path, index=False)
            except (TypeError, ValueError, ImportError) as exc:  # pyarrow's errors derive from these
                raise DataError(f"the {name} DataFrame", f"cannot be stored as a table ({exc})") from None
            execute("capture", [override("run_dir", self.path), override(key, path), *overrides])
        return self

    def _context(self, overrides: Sequence[str]) -> StageContext:
        """The run's `dynrec rank` config and stage context, its capture stage checked to be current."""
        from dynrec_cli import artifacts
        from dynrec_cli.api.commands import compose
        from dynrec_cli.stages import STAGES, StageContext

        cfg = compose("rank", [override("run_dir", self.path), *overrides])
        ctx = StageContext(cfg=cfg, run_dir=self.path)
        manifest = artifacts.load_manifest(self.path / "capture")
        if manifest is None or manifest["inputs"] != STAGES["capture"].inputs(ctx):
            state = "has not run" if manifest is None else "is older than the model"
            raise ArtifactError(f"{self.path}: its capture stage {state}; bring it up to date with "
                                f"dynrec capture run_dir={self.path} (or dynrec_cli.capture(run_dir=...))")
        return ctx
