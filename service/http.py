"""HTTP plumbing shared by every route: error rendering, body limits, request ids and access logs."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import AppError, PayloadTooLarge, ServiceUnavailable
from service.logs import request_id_var

log = logging.getLogger("service.http")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


def error_response(error: AppError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def on_app_error(_request: Request, exc: AppError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = errors[0].get("ctx", {}).get("error", "")
            return JSONResponse(
                {
                    "error": {
                        "code": "malformed_json",
                        "message": f"the body is not valid JSON: {detail}",
                        "details": [],
                    }
                },
                status_code=400,
            )
        details = [{"field": _field_path(tuple(e.get("loc", ()))), "reason": e.get("msg", "")} for e in errors]
        first = details[0] if details else {"field": "?", "reason": "invalid"}
        return JSONResponse(
            {
                "error": {
                    "code": "validation_failed",
                    "message": f"{first['field']}: {first['reason']}",
                    "details": details,
                }
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail), "details": []}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(ConnectionError)
    async def on_database_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_response(ServiceUnavailable())

    @app.exception_handler(DBAPIError)
    async def on_dbapi_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await on_database_down(request, exc)
        log.exception("database error")
        return _internal_error()

    @app.exception_handler(Exception)
    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OSError | TimeoutError):
            log.warning("backend unavailable: %s", type(exc).__name__)
            return error_response(ServiceUnavailable())
        log.exception("unhandled error")
        return _internal_error()


def _internal_error() -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": "internal",
                "message": f"internal error; request id {request_id_var.get()}",
                "details": [],
            }
        },
        status_code=500,
    )


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413, before and while they are read."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_upload = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_upload_bytes if is_upload else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, PayloadTooLarge(f"the body is larger than {limit} bytes"))
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge as exc:
            if not response_started:
                await _send_error(send, PayloadTooLarge(f"the body is larger than {exc.limit} bytes"))


class _BodyTooLarge(Exception):
    def __init__(self, limit: int):
        self.limit = limit


async def _send_error(send: Send, error: AppError) -> None:
    response = error_response(error)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class RequestContextMiddleware:
    """A request id for every request (X-Request-ID), and one access log line without the query string."""

    def __init__(self, app: ASGIApp, metrics: Any = None):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                duration_ms = round((time.perf_counter() - started) * 1000, 2)
                route = scope.get("route")
                path_template = getattr(route, "path", None) or "unmatched"
                if self.metrics is not None:
                    self.metrics.observe_request(scope["method"], path_template, status, duration_ms / 1000)
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": duration_ms,
                    },
                )
            request_id_var.reset(token)
