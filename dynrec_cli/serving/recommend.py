"""GET /recommendations: one user's top-K from their live interest, as `dynrec rank` makes it.

The same pieces as rank: exact chunked retrieval (`ExactRetriever`), seen items excluded, the
re-ranking strategies (`build_reranker`), explanations (`explain`) and titles. Query parameters
override the run's `rank.*` keys for one request; each is checked by the key's own rule and a
refusal names the parameter. A user the store does not know gets the cold-start list: the most
popular items (event counts of the history and the committed captured events), through the
same filters and strategies, with `"cold": true`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from dynrec_cli.config_rules import RULES, STRATEGIES
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.explain import explain
from dynrec_cli.ranking.features import popularity
from dynrec_cli.ranking.lists import because_sentence, item_titles
from dynrec_cli.ranking.recommend import ExactRetriever
from dynrec_cli.ranking.reranker import Reranker, build_reranker
from dynrec_cli.serving.inbound import Invalid
from dynrec_cli.serving.live import LiveStore, View

# query parameter -> (rank.* key, how to read it)
LISTS = lambda text: [part.strip() for part in text.split(",") if part.strip()]  # noqa: E731
FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
PARAMETERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "k": ("k", int),
    "exclude_seen": ("exclude_seen", lambda text: FLAGS[text.lower()]),
    "strategies": ("strategies", LISTS),
    "candidates": ("candidates", int),
    "exclude_categories": ("filter.exclude_categories", LISTS),
    "category_column": ("filter.category_column", str),
    "allow_items": ("filter.allow_items", LISTS),
    "popularity_weight": ("popularity.weight", float),
    "freshness_weight": ("freshness.weight", float),
    "mmr_lambda": ("mmr.lambda", float),
    "explain": ("explain", lambda text: FLAGS[text.lower()]),
    "explain_items": ("explain_items", int),
}
FILTERS = ("exclude_categories", "category_column", "allow_items")
CACHED = 32  # settings and re-rankers kept (one per distinct set of parameters)


def rank_settings(base: DictConfig, query: Mapping[str, str], max_k: int) -> DictConfig:
    """The run's `rank` section with the query's overrides, checked.

    Raises:
        Invalid: an unknown parameter, or a value its rank key refuses (422 naming the parameter).
    """
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise Invalid(422, unknown[0], f"unknown query parameter; use {', '.join(PARAMETERS)}")
    cfg = OmegaConf.create(OmegaConf.to_container(base, resolve=True))
    for name, text in query.items():
        key, read = PARAMETERS[name]
        try:
            value = read(text)
        except (ValueError, KeyError):
            raise Invalid(422, name, f"'{text}' is not {_kind(read)}") from None
        rule = RULES.get(f"rank.{key}")
        if rule is not None and not rule.accepts(value):
            raise Invalid(422, name, f"{text} must be {rule.describe()}")
        OmegaConf.update(cfg, key, value, merge=False)
    if int(cfg.k) > max_k:
        raise Invalid(422, "k", f"{cfg.k} is above serve.max_k={max_k}")
    bad = [s for s in cfg.strategies or [] if s not in STRATEGIES]
    if bad:
        raise Invalid(422, "strategies", f"unknown strategy {', '.join(map(str, bad))}; choose from {', '.join(STRATEGIES)}")
    if "allow_items" in query and not cfg.filter.allow_items:
        raise Invalid(422, "allow_items", "empty list (leave the parameter out for every item)")
    unused = [name for name in FILTERS if name in query and "filter" not in cfg.strategies]
    if unused:
        raise Invalid(422, unused[0], "only read by the filter strategy: add strategies=filter")
    return cfg


def _kind(read: Callable[[str], Any]) -> str:
    return {int: "an integer", float: "a number", str: "a string"}.get(read, "true or false")  # type: ignore[call-overload]


class Recommender:
    """Answers GET /recommendations from a LiveStore (thread-safe; re-rankers cached per commit)."""

    def __init__(self, live: LiveStore, max_k: int) -> None:
        self.live, self.max_k = live, max_k
        self.item_chunk = int(live.cfg.eval.item_chunk)
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    @torch.inference_mode()
    def answer(self, user_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        key = tuple(sorted(query.items()))
        cfg = self._remember(("settings", key), lambda: rank_settings(self.live.cfg.rank, query, self.max_k))
        view = self.live.view
        read = self.live.user(user_id)
        reranker, cold_scores, titles = self._prepared(view, cfg, key)
        pool = max(int(cfg.candidates), reranker.k) if reranker.reranks else reranker.k
        if read is None:
            one = torch.ones(1, 1)
            scores, items = ExactRetriever(cold_scores[:, None], self.item_chunk, reranker.allowed).top(one, pool, None)
        else:
            seen = torch.from_numpy(read.seen)
            exclude = (torch.zeros(len(seen), dtype=torch.long), seen) if cfg.exclude_seen else None
            scores, items = ExactRetriever(view.item_vectors, self.item_chunk, reranker.allowed).top(read.vector[None], pool, exclude)
        scores, items = reranker(scores, items)
        rows = self._rows(view, titles, scores[0], items[0])
        if cfg.explain and read is not None:
            self._explain(view, titles, cfg, read.seen, items, rows)
        return {"user_id": user_id, "cold": read is None, "items": rows}

    def _prepared(self, view: View, cfg: DictConfig, key: tuple[Any, ...]) -> tuple[Reranker, torch.Tensor, np.ndarray]:
        """The re-ranker of these parameters, the cold-start scores and the titles, for this view."""

        def build() -> tuple[Reranker, torch.Tensor, np.ndarray]:
            try:
                reranker = build_reranker(cfg, view.prepared, view.item_vectors)
            except ConfigError as exc:
                raise Invalid(422, _parameter_of(str(exc)), str(exc)) from None
            return reranker, popularity(view.prepared.events, view.prepared.n_items), item_titles(view.prepared)

        return self._remember(("view", view.generation, key), build)

    def _remember(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """An LRU of CACHED entries; `build` runs outside the lock (two threads may build the same one)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = build()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return value

    @staticmethod
    def _rows(view: View, titles: np.ndarray, scores: torch.Tensor, items: torch.Tensor) -> list[dict[str, Any]]:
        ids = view.item_ids
        out = []
        for rank, (score, item) in enumerate(zip(scores.tolist(), items.tolist()), start=1):
            if not np.isfinite(score):  # a user who has seen almost everything gets a shorter list
                break
            row = {"item_id": ids[item - 1], "rank": rank, "score": round(float(score), 6)}
            if titles[item]:
                row["title"] = str(titles[item])
            out.append(row)
        return out

    @staticmethod
    def _explain(view: View, titles: np.ndarray, cfg: DictConfig, seen: np.ndarray, items: torch.Tensor,
                 rows: list[dict[str, Any]]) -> None:
        window = torch.zeros(1, int(cfg.explain_window), dtype=torch.long)
        latest = torch.from_numpy(seen[-int(cfg.explain_window):])
        if len(latest):
            window[0, -len(latest):] = latest
        drivers = explain(window, items[:, : len(rows)], view.item_vectors, int(cfg.explain_items), float(cfg.explain_half_life))
        for row, found in zip(rows, drivers[0].tolist()):
            picked = [d for d in found if d]
            row["because_ids"] = [view.item_ids[d - 1] for d in picked]
            row["because"] = because_sentence([str(titles[d]) for d in picked])


def _parameter_of(message: str) -> str:
    """The query parameter behind a rank.* key named at the start of a ConfigError."""
    for name, (key, _) in PARAMETERS.items():
        if message.startswith(f"rank.{key}"):
            return name
    return "strategies"
