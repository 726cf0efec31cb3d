"""The strategies of `rank.strategies`, built from config into one batched re-ranking step.

Whatever order they are listed in, they apply as filter → popularity → freshness → mmr:
filters restrict which items are retrieved at all (so lists stay k long), the two score
adjustments add up (their order does not matter), and MMR is a greedy selection that must see
the final relevance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from dynrec_cli.data.types import PreparedData
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking import features
from dynrec_cli.ranking.strategies import adjust, mmr_order, relevance, sort_pool



@dataclass
class Reranker:
    """Turns a candidate pool (B, C) into the final lists (B, k).

    Attributes:
        k: list length.
        boosts: (per-item feature (n_items + 1,), weight) pairs added to the relevance.
        mmr_lambda: λ of MMR, or None for no diversity step.
        item_vecs: (n_items + 1, d) item table (MMR's similarity).
        allowed: (n_items + 1,) bool of the items that may be recommended, or None.
    """

    k: int
    item_vecs: Tensor
    boosts: list[tuple[Tensor, float]] = field(default_factory=list)
    mmr_lambda: float | None = None
    allowed: Tensor | None = None

    @property
    def reranks(self) -> bool:
        return bool(self.boosts) or self.mmr_lambda is not None

    def __call__(self, scores: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        """Final lists from a pool. scores, items: (B, C), best first. Returns (B, k) each; scores stay the model's."""
        if not self.reranks:
            return scores[:, : self.k], items[:, : self.k]
        rel = relevance(scores)
        for feature, weight in self.boosts:
            rel = adjust(rel, items, feature, weight)
        rel, scores, items = sort_pool(rel, scores, items)
        if self.mmr_lambda is None:
            return scores[:, : self.k], items[:, : self.k]
        picks = mmr_order(rel, self.item_vecs[items], self.k, self.mmr_lambda)
        return scores.gather(1, picks), items.gather(1, picks)


NUMBERS = {  # rank.* keys read as numbers: (type, minimum)
    "candidates": (int, 1), "explain_items": (int, 1), "explain_window": (int, 1), "explain_half_life": (float, 0.1),
    "ann_check_users": (int, 0), "popularity.weight": (float, None), "freshness.weight": (float, None),
    "faiss.nprobe": (int, 1), "faiss.hnsw_m": (int, 2), "faiss.ef_search": (int, 1),
}


def check_numbers(cfg: DictConfig) -> None:
    """Every numeric `rank.*` key converts and is in range, or a ConfigError names it."""
    for key, (kind, minimum) in NUMBERS.items():
        value = OmegaConf.select(cfg, key)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"rank.{key}={value!r}: expected {'an integer' if kind is int else 'a number'}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"rank.{key}={value}: must be >= {minimum}")


def filter_mask(flt: DictConfig, prepared: PreparedData) -> Tensor:
    """(n_items + 1,) bool: the items `rank.filter` lets through; ConfigError for an unknown
    category column or item id."""
    allow = None if flt.allow_items is None else list(flt.allow_items)
    column = str(flt.category_column)
    # null: split as the data was stored (prepare records it per column: MovieLens genres ", ")
    separator = str(flt.separator) if flt.separator is not None else prepared.category_separators.get(column, "|")
    return features.allowed_items(prepared.items, list(flt.exclude_categories or []), column, separator, allow)


def build_reranker(cfg: DictConfig, prepared: PreparedData, item_vecs: Tensor) -> Reranker:
    """A Reranker from the `rank` config section; ConfigError names the offending key."""
    check_numbers(cfg)
    chosen = [str(s) for s in cfg.strategies or []]  # checked against STRATEGIES before any work (config_rules)
    reranker = Reranker(k=int(cfg.k), item_vecs=item_vecs)
    if "filter" in chosen:
        reranker.allowed = filter_mask(cfg.filter, prepared)
    if "popularity" in chosen:
        reranker.boosts.append((features.popularity(prepared.events, prepared.n_items), -float(cfg.popularity.weight)))
    if "freshness" in chosen:
        if not prepared.has_time:
            raise ConfigError("rank.strategies: freshness needs timestamps, and this data set has only the order of events")
        fresh = features.freshness(prepared.events, prepared.n_items, str(cfg.freshness.by), float(cfg.freshness.half_life_days))
        reranker.boosts.append((fresh, float(cfg.freshness.weight)))
    if "mmr" in chosen:
        lam = float(cfg.mmr["lambda"])
        if not 0.0 <= lam <= 1.0:
            raise ConfigError(f"rank.mmr.lambda={lam}: must be in [0, 1]")
        reranker.mmr_lambda = lam
    return reranker
