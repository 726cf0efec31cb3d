"""Start `dynrec serve`: listen, open the live store (replaying the journal), serve until stopped.

The socket is bound first, so a busy port is refused in one line before the model is loaded.
SIGINT/SIGTERM stop it cleanly: the queued writes are applied, the store is committed (the journal
emptied) and the store's lock released. After `kill -9`, the next start replays the journal.
"""

from __future__ import annotations

import logging
import signal
import socket

from dynrec_cli.errors import ConfigError
from dynrec_cli.serving.settings import ServeSettings
from dynrec_cli.stages.base import StageContext

log = logging.getLogger(__name__)


def listen(settings: ServeSettings) -> socket.socket:
    """A listening socket on serve.host:serve.port, or a ConfigError naming the keys."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # proto given: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP; without it a
    # keep-alive client waits ~40 ms for each answer written in two parts (delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"serve.host={settings.host} serve.port={settings.port}: cannot listen there ({exc.strerror})") from None
    sock.listen(2048)
    return sock


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_server(ctx: StageContext, settings: ServeSettings) -> None:
    """Serve the run of `ctx` until SIGINT/SIGTERM."""
    import torch
    import uvicorn

    from dynrec_cli.serving.app import build_app
    from dynrec_cli.serving.live import LiveStore
    from dynrec_cli.serving.metrics import Metrics, access_logger
    from dynrec_cli.serving.writer import Writer

    torch.set_num_threads(int(ctx.cfg.trainer.threads or 1))  # many small requests: one thread each beats sharing
    sock = listen(settings)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops as cleanly as Ctrl-C
    try:
        try:
            live = LiveStore(ctx, holder=f"dynrec serve on {settings.url}")
        except KeyboardInterrupt:  # stopped while starting: nothing to commit
            log.info("[serve] stopped while starting")
            return
        model_name = str(ctx.cfg.model._target_).rsplit(".", 1)[-1].lower()
        metrics = Metrics(lambda: writer.depth(), live.figures)  # `writer` is looked up when scraped
        writer = Writer(live, settings.queue, settings.checkpoint_every, settings.write_pause_ms, metrics)
        app = build_app(live, writer, settings, metrics, access_logger(settings.access_log), model_name)
        figures = live.figures()
        log.info("[serve] %s: model=%s, %d users, %d items; store %s", settings.url, model_name, figures["users"],
                 figures["items"], live.store.folder)
        writer.start()
        try:
            config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=10)
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the SIGINT/SIGTERM it shut down on, once it has
            pass
        finally:
            writer.stop()
            live.close()
            log.info("[serve] stopped: store committed (generation %d)", live.figures()["generation"])
    finally:
        sock.close()
        signal.signal(signal.SIGTERM, previous)
