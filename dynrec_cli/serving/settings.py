"""The `serve:` section of the config, typed (ranges are checked with every other key in config_rules)."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig


@dataclass(frozen=True)
class ServeSettings:
    host: str
    port: int
    workers: int  # threads answering reads; writes always go through the one writer thread
    token: str | None
    max_events: int
    max_items: int
    max_body_mb: float
    max_k: int
    queue: int
    checkpoint_every: int
    write_pause_ms: float
    access_log: bool

    @classmethod
    def from_config(cls, cfg: DictConfig) -> ServeSettings:
        s = cfg.serve
        return cls(host=str(s.host), port=int(s.port), workers=int(s.workers), token=str(s.token) if s.token else None,
                   max_events=int(s.max_events), max_items=int(s.max_items), max_body_mb=float(s.max_body_mb),
                   max_k=int(s.max_k), queue=int(s.queue), checkpoint_every=int(s.checkpoint_every),
                   write_pause_ms=float(s.write_pause_ms), access_log=bool(s.access_log))

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * (1 << 20))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
