"""The HTTP layer of `dynrec serve` (FastAPI): routes, limits, auth, errors as one JSON line.

Every refusal is `{"error": "<one line>", "field": "<what is at fault>"}` with a 4xx status;
anything unexpected is a 500 with a one-line message, its traceback only in the server's log.
Reads run on a pool of `serve.workers` threads; writes go to the one writer (writer.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from dynrec_cli.serving.inbound import Invalid, parse_events, parse_json, records
from dynrec_cli.serving.items import ItemEncoder
from dynrec_cli.serving.live import LiveStore
from dynrec_cli.serving.metrics import CONTENT_TYPE, Metrics, access_line
from dynrec_cli.serving.recommend import Recommender
from dynrec_cli.serving.settings import ServeSettings
from dynrec_cli.serving.writer import Busy, Job, Writer

log = logging.getLogger(__name__)


def error(status: int, field: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(f"{field}: {message}".split()), "field": field}, status_code=status, headers=headers)


class Observe:
    """ASGI middleware: metrics and the access log of every request, and a one-line 500 (the
    traceback to the server's log) for anything unexpected. Plain ASGI: no extra task per request."""

    def __init__(self, app: Any, metrics: Metrics, access: logging.Logger) -> None:
        self.app, self.metrics, self.access = app, metrics, access

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500, False]  # status code, response started

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[:] = [message["status"], True]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:  # a bug: one line to the client, the traceback to the server's log
            log.exception("[serve] %s %s failed", scope["method"], scope["path"])
            if not status[1]:
                await error(500, "server", "internal error; the traceback is in the server's log")(scope, receive, send)
            status[0] = 500
        seconds = time.perf_counter() - started
        template = getattr(scope.get("route"), "path", "unmatched")  # the router records the route it matched
        self.metrics.observe(template, scope["method"], status[0], seconds)
        client = scope.get("client")
        self.access.info(access_line(scope["method"], scope["path"], template, status[0], seconds, client[0] if client else None))


def build_app(live: LiveStore, writer: Writer, settings: ServeSettings, metrics: Metrics, access: logging.Logger,
              model_name: str) -> FastAPI:
    app = FastAPI(title="dynrec serve", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Observe, metrics=metrics, access=access)
    recommender = Recommender(live, settings.max_k)
    items = ItemEncoder(live, model_name)
    reads = anyio.CapacityLimiter(settings.workers)

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error(exc.status, exc.field, str(exc).split(": ", 1)[1], headers)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return error(503, "queue", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, "path", f"{request.method} {request.url.path}: {exc.detail}")

    def authorised(request: Request) -> None:
        if settings.token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
            raise Invalid(401, "Authorization", "writes need the header 'Authorization: Bearer <serve.token>'")

    async def body(request: Request) -> Any:
        limit = settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Invalid(413, "body", f"{int(declared):,} bytes, more than serve.max_body_mb={settings.max_body_mb:g}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Invalid(413, "body", f"more than serve.max_body_mb={settings.max_body_mb:g}")
            chunks.append(chunk)
        return parse_json(b"".join(chunks))

    async def write(job: Job) -> Any:
        return await asyncio.wrap_future(writer.submit(job))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        figures = live.figures()
        return {"status": "ok", "model": model_name, "users": figures["users"], "items": figures["items"],
                "events_applied": figures["events_applied"]}

    @app.post("/events")
    async def events(request: Request) -> dict[str, Any]:
        authorised(request)
        # parsed on the event loop: a few microseconds an event, less than a hand-over to a thread and back
        batch = parse_events(await body(request), live.roles, live.view.item_ids, settings.max_events)
        return await write(Job(batch=batch))

    @app.get("/recommendations/{user_id}")
    async def recommendations(user_id: str, request: Request) -> dict[str, Any]:
        user = user_id.strip()
        if not user:
            raise Invalid(422, "user_id", "empty")
        query = dict(request.query_params)
        return await anyio.to_thread.run_sync(recommender.answer, user, query, limiter=reads)

    @app.post("/items")
    async def add_items(request: Request) -> dict[str, Any]:
        authorised(request)
        items.require_text_model()
        rows = records(await body(request), "items", settings.max_items, ("item_id",))
        fresh, vectors = await anyio.to_thread.run_sync(items.encode, rows, limiter=reads)
        added = await write(Job(call=lambda store: store.add_items(fresh, vectors)))
        return {"added": added, "known": len(rows) - added, "items": live.figures()["items"]}

    @app.delete("/users/{user_id}")
    async def forget(user_id: str, request: Request) -> dict[str, Any]:
        authorised(request)
        user = user_id.strip()
        if not await write(Job(call=lambda store: store.forget(user))):
            raise Invalid(404, "user_id", f"'{user}' is not in the interest store")
        return {"forgotten": user}

    @app.get("/metrics")
    async def exposition() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return app
