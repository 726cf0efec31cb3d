"""An on-disk cache of text embeddings, keyed by the model's weights and the encoding settings.

Layout: `root/<sha256 of identity and settings>/shard-00000.safetensors` (a 2-D float tensor
`embeddings`) beside `shard-00000.json` (the sha256 of each row's text, in row order). A shard
is written tensor first, index last, each through a temporary file and a rename; a shard whose
index is missing, unreadable or of the wrong length is ignored, so a crash costs only a re-encode.
A rerun encodes nothing, and a catalogue with a few new items encodes only those. Encoding
writes a shard every `encoder.cache_chunk` texts, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from dynrec_cli.artifacts import atomic_path, write_json
from dynrec_cli.encoders.encode import EncodeResult, encode_texts, progress_bar
from dynrec_cli.encoders.loading import LoadedLM
from dynrec_cli.errors import ConfigError

log = logging.getLogger(__name__)
# Bumped when the layout changes, so an old cache is not misread (it is just not found).
CACHE_VERSION = 1
# stats of encode_texts that add up over chunks
SUMMED = ("tokens", "padded_tokens", "seconds", "truncated")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


class EmbeddingCache:
    """Embeddings of texts already encoded with one model and one set of settings."""

    def __init__(
        self, root: Path, identity: str, pooling: str, max_length: int, normalize: bool, precision: str = "fp32",
        weights: str = "fp32",
    ) -> None:
        """precision: the resolved encoding precision (`fp32`, `bf16`, `fp16`); weights: the dtype the
        model was loaded in (bf16 for a large model on a GPU): vectors differ slightly with either."""
        self.identity, self.pooling = identity, pooling
        self.max_length, self.normalize, self.precision = max_length, normalize, precision
        settings = {
            "version": CACHE_VERSION,
            "identity": identity,
            "pooling": pooling,
            "max_length": max_length,
            "normalize": normalize,
        }
        if precision != "fp32":  # fp32 caches written before this key keep their folder
            settings["precision"] = precision
        if weights != "fp32":  # likewise
            settings["weights"] = weights
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        self.folder = Path(root) / key[:32]
        self.folder.mkdir(parents=True, exist_ok=True)
        if not (self.folder / "settings.json").exists():
            write_json(self.folder / "settings.json", settings)  # for people, never read back
        # text sha256 -> (shard name, row); filled from the shards' indexes.
        self._where: dict[str, tuple[str, int]] = {}
        for index in sorted(self.folder.glob("shard-*.json")):
            self._read_shard(index)

    def __len__(self) -> int:
        return len(self._where)

    def _read_shard(self, index: Path) -> None:
        tensor = index.with_suffix(".safetensors")
        try:
            hashes = json.loads(index.read_text())
            with safe_open(tensor, framework="pt") as handle:
                rows = handle.get_slice("embeddings").get_shape()[0]  # header only, no data read
            if not isinstance(hashes, list) or len(hashes) != rows:
                raise ValueError(f"{len(hashes)} hashes for {rows} rows")
        except Exception as exc:  # any damage: ignore the shard, its texts get re-encoded
            log.warning("embedding cache: ignoring %s (%s)", index.name, exc)
            return
        for row, digest in enumerate(hashes):
            self._where.setdefault(digest, (tensor.name, row))

    def gather(self, texts: list[str]) -> tuple[list[int], torch.Tensor | None, list[int]]:
        """Cached vectors of `texts`, read one shard at a time.

        Returns:
            rows of `texts` that were found, their vectors (found, d) in that order (None when
            nothing was found), and the rows that were not.
        """
        places = [self._where.get(text_hash(t)) for t in texts]
        missing = [i for i, p in enumerate(places) if p is None]
        by_shard: dict[str, tuple[list[int], list[int]]] = {}
        for i, place in enumerate(places):
            if place is not None:
                inputs, shard_rows = by_shard.setdefault(place[0], ([], []))
                inputs.append(i)
                shard_rows.append(place[1])
        found, parts = [], []
        for shard, (inputs, shard_rows) in by_shard.items():
            with safe_open(self.folder / shard, framework="pt") as handle:
                parts.append(handle.get_tensor("embeddings")[torch.tensor(shard_rows)])
            found += inputs
        return found, (torch.cat(parts) if parts else None), missing

    def lookup(self, texts: list[str]) -> tuple[dict[int, torch.Tensor], list[int]]:
        """`({row of texts: (d,) vector}, [rows not cached])`."""
        found, vectors, missing = self.gather(texts)
        return ({row: vectors[k] for k, row in enumerate(found)} if found else {}), missing

    def add(self, texts: list[str], embeddings: torch.Tensor) -> None:
        """Write the vectors of texts not yet cached as a new shard.

        Args:
            texts: n texts.
            embeddings: (n, d), row i for texts[i].
        """
        rows, hashes = [], []
        for i, text in enumerate(texts):
            digest = text_hash(text)
            if digest not in self._where and digest not in hashes:
                rows.append(i)
                hashes.append(digest)
        if not rows:
            return
        names = [p.stem for p in self.folder.glob("shard-*.*")]
        number = max((int(n.split("-")[1]) for n in names if n.split("-")[1].isdigit()), default=-1) + 1
        stem = f"shard-{number:05d}"
        tensor = embeddings[torch.tensor(rows)].detach().to("cpu", torch.float32).contiguous()
        with atomic_path(self.folder / f"{stem}.safetensors") as tmp:
            save_file({"embeddings": tensor}, str(tmp))
        write_json(self.folder / f"{stem}.json", hashes)  # last: it makes the shard visible
        for row, digest in enumerate(hashes):
            self._where[digest] = (f"{stem}.safetensors", row)


def encode_with_cache(
    lm: LoadedLM,
    texts: list[str],
    cache: EmbeddingCache,
    batch_size: int,
    device: torch.device,
    progress: bool = True,
    chunk: int = 4096,
    batch_tokens: int | None = None,
) -> EncodeResult:
    """encode_texts, encoding only the texts not in `cache` (each distinct text once).

    The texts to encode are sorted longest first and encoded `chunk` at a time; each chunk is
    written to the cache as soon as it is done, so an interrupted encoding resumes after the
    last written chunk. Pooling, max_length, normalize and precision come from the cache, so they
    cannot disagree with it.

    Returns:
        embeddings (n, d) and encode_texts' stats summed over the chunks encoded now, with
        `items` (all n), `cached` and `encoded` (distinct texts encoded now); `empty` counts
        over all n texts.

    Raises:
        ValueError: the cache belongs to other weights (a bug in the caller).
    """
    if cache.identity != lm.identity:
        raise ValueError("the embedding cache was built for another model's weights")
    if chunk < 1:
        raise ConfigError(f"encoder.cache_chunk={chunk}: must be at least 1")
    found, vectors, missing = cache.gather(texts)
    # distinct, longest first: consecutive chunks then pad as little as one global sort would
    todo = sorted(dict.fromkeys(texts[i] for i in missing), key=len, reverse=True)
    fresh = torch.empty((len(todo), lm.hidden_size), dtype=torch.float32)
    totals: dict[str, float] = {}
    with progress_bar(progress and len(todo) > chunk) as bar:
        task = bar.add_task("encoding chunks", total=len(todo))
        for begin in range(0, len(todo), chunk):
            part = todo[begin : begin + chunk]
            result = encode_texts(
                lm, part, cache.pooling, batch_size, cache.max_length, cache.normalize, device,
                progress and len(todo) <= chunk, cache.precision, batch_tokens,
            )
            cache.add(part, result.embeddings)  # resume point
            fresh[begin : begin + len(part)] = result.embeddings
            for key in SUMMED:
                totals[key] = totals.get(key, 0) + result.stats[key]
            bar.advance(task, len(part))
    out = torch.empty((len(texts), lm.hidden_size), dtype=torch.float32)
    if vectors is not None:
        out[torch.tensor(found)] = vectors
    if missing:
        position = {text: k for k, text in enumerate(todo)}
        out[torch.tensor(missing)] = fresh[torch.tensor([position[texts[i]] for i in missing])]
    seconds = totals.get("seconds", 0.0)
    stats: dict[str, Any] = {key: totals.get(key, 0) for key in SUMMED}
    stats.update(
        items=len(texts), cached=len(found), encoded=len(todo), empty=sum(not t.strip() for t in texts),
        items_per_s=len(todo) / seconds if seconds else 0.0,
        tokens_per_s=stats["tokens"] / seconds if seconds else 0.0,
        padded_tokens_per_s=stats["padded_tokens"] / seconds if seconds else 0.0,
    )
    return EncodeResult(out, stats)
