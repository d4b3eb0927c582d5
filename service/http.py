"""HTTP plumbing shared by every route: error rendering, body limits, request ids and access logs."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import AppError, BadRequest, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
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


def validation_error_response(details: list[dict[str, str]]) -> JSONResponse:
    """422 naming each field and why; the message repeats the first."""
    first = details[0] if details else {"field": "?", "reason": "invalid"}
    return JSONResponse(
        {"error": {"code": "validation_failed", "message": f"{first['field']}: {first['reason']}", "details": details}},
        status_code=422,
    )


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
        return validation_error_response(details)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail), "details": []}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    # A backend that is down or unreachable is the service's trouble, not the client's: 503 with
    # Retry-After, at once (docs/http-api.md, "Errors"). Handlers for these specific classes answer the request
    # and end the exception there; only truly unexpected errors reach the catch-all below.
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OSError)  # connection refused or reset, unreachable host (ConnectionError too)
    @app.exception_handler(TimeoutError)  # connect or command timeouts (asyncio.TimeoutError is TimeoutError)
    async def on_backend_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("backend unavailable: %s", type(exc).__name__)
        if isinstance(exc, DBAPIError | PoolTimeout):
            return error_response(ServiceUnavailable())
        return error_response(ServiceUnavailable("a backend the service needs (database, storage) is unavailable"))

    @app.exception_handler(DBAPIError)
    async def on_dbapi_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or _is_unavailable(exc.orig):
            return await on_backend_down(request, exc)
        log.error("database error: %s", type(exc.orig).__name__, exc_info=exc)
        return _internal_error()

    @app.exception_handler(Exception)
    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return _internal_error()


# SQLSTATE classes that mean "the server cannot serve now", not "this request is wrong":
# 08 connection exception, 53 insufficient resources, 57P0x operator intervention (shutdown, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


def _is_unavailable(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    if isinstance(orig, OSError | TimeoutError):
        return True
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


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


class InputGuardMiddleware:
    """Refuse, before any route runs, input no route can use, with an error that says what and where:

    - a body in a media type no route takes (415): routes take JSON, forms or multipart uploads;
    - JSON that is not UTF-8, or nested deeper than MAX_JSON_DEPTH (400);
    - text no database can store (422, naming the field): NUL characters in the path, the query,
      JSON and form bodies, and unpaired surrogates in JSON (``"\\ud800"`` decodes to one).
      PostgreSQL rejects both, which would otherwise turn a client's mistake into a 500.

    Routes that read their JSON raw and report on each item (department pushes) do these checks
    themselves; they are listed by path prefix in ``raw_json_prefixes``.
    """

    def __init__(self, app: ASGIApp, raw_json_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.raw_json_prefixes = raw_json_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = _nul_in_url(scope)
        if refusal is None and scope["type"] == "http":
            refusal, receive = await self._check_body(scope, receive)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await send({"type": "http.response.start", "status": refusal.status_code, "headers": refusal.raw_headers})
            await send({"type": "http.response.body", "body": refusal.body})

    async def _check_body(self, scope: Scope, receive: Receive) -> tuple[JSONResponse | None, Receive]:
        headers = dict(scope["headers"])
        if scope["path"].startswith(self.raw_json_prefixes):
            return None, receive
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media_type == b"application/json" or media_type.endswith(b"+json"):
            body, receive = await _buffer_body(receive)
            return _check_json(body), receive
        if media_type == b"application/x-www-form-urlencoded":
            body, receive = await _buffer_body(receive)
            return _nul_in_form(body), receive
        has_body = headers.get(b"content-length", b"0").strip() not in (b"0", b"") or b"transfer-encoding" in headers
        if has_body and not media_type.startswith(b"multipart/"):
            shown = media_type.decode("latin-1")[:64] or "none"
            return error_response(
                UnsupportedMediaType(
                    f"a body of type {shown!r} is taken nowhere: send application/json, a form, or multipart/form-data",
                    [{"field": "content-type", "reason": "unsupported media type"}],
                )
            ), receive
        return None, receive


MAX_JSON_DEPTH = 32
NUL_REASON = "contains a NUL character, which cannot be stored"
# Only a body with one of these escapes can hold a NUL or a surrogate once decoded.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return NUL_REASON
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate, which is not valid Unicode"
    return None


def _nul_in_url(scope: Scope) -> JSONResponse | None:
    if "\x00" in scope.get("path", ""):
        return validation_error_response([{"field": "path", "reason": NUL_REASON}])
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name + value:
                return validation_error_response([{"field": f"query.{name.replace(chr(0), '')}", "reason": NUL_REASON}])
    return None


def _nul_in_form(body: bytes) -> JSONResponse | None:
    if b"%00" in body or b"\x00" in body:
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name + value:
                return validation_error_response([{"field": name.replace("\x00", "") or "body", "reason": NUL_REASON}])
    return None


def _check_json(body: bytes) -> JSONResponse | None:
    """Not UTF-8, too deep, or a string (or key) that cannot be stored; None when the body may go on.
    Syntax errors are left to the route, which answers them with its own 400."""
    try:
        body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return error_response(BadRequest(f"the body is not valid UTF-8 (byte {exc.start})", [{"field": "body"}]))
    # Cheap tests first: most bodies can neither nest deeper nor hold what we look for.
    could_nest = body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    if not could_nest and not _SUSPECT_ESCAPE.search(body):
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        return _too_deep()
    except ValueError:
        return None
    stack: list[tuple[str, Any, int]] = [("", value, 1)]
    while stack:  # iterative: the JSON may be nested deeper than Python recurses
        path, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _too_deep()
        if isinstance(item, str):
            if reason := _text_problem(item):
                return validation_error_response([{"field": path or "body", "reason": reason}])
        elif isinstance(item, dict):
            for key, inner in item.items():
                if reason := _text_problem(key):
                    return validation_error_response([{"field": f"{path or 'body'} (a field name)", "reason": reason}])
                stack.append((f"{path}.{key}" if path else key, inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), inner, depth + 1) for i, inner in enumerate(item))
    return None


def _too_deep() -> JSONResponse:
    return error_response(BadRequest(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels", [{"field": "body"}]))


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a receive that hands it to the app as if it were read for the first time."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # the client left; the app will see that
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


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
