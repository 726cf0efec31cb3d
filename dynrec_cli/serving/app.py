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


def build_app(live: LiveStore, writer: Writer, settings: ServeSettings, metrics: Metrics, access: logging.Logger,
              model_name: str) -> FastAPI:
    app = FastAPI(title="dynrec serve", docs_url=None, redoc_url=None, openapi_url=None)
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

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # a bug: one line to the client, the traceback to the server's log
            log.exception("[serve] %s %s failed", request.method, request.url.path)
            response = error(500, "server", "internal error; the traceback is in the server's log")
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        seconds = time.perf_counter() - started
        metrics.observe(template, request.method, response.status_code, seconds)
        client = request.client.host if request.client else None
        access.info(access_line(request.method, request.url.path, template, response.status_code, seconds, client))
        return response

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
        payload = await body(request)
        view = live.view
        batch = await anyio.to_thread.run_sync(parse_events, payload, live.roles, view.item_ids, settings.max_events, limiter=reads)
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
