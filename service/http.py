"""HTTP plumbing shared by every route: error rendering, body limits, request ids and access logs."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import (
    AppError,
    FrameworkError,
    InternalError,
    MalformedJson,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from service.formats.json_body import (
    NUL_REASON,
    find_unstorable_text,
    is_json_media_type,
    may_hold_unstorable_text,
    read_json,
)
from service.logs import request_id_var

log = logging.getLogger("service.http")


def error_response(error: AppError) -> JSONResponse:
    """Every error body the service sends: an AppError in the shape of docs/http-api.md, "Errors"."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


def _validation_detail(error: Mapping[str, Any]) -> dict[str, str]:
    """One pydantic error as {field, reason}. A check across fields names its field in ctx["field"]
    (its loc is the whole body); a ValueError's reason is its own words, without "Value error, "."""
    ctx = error.get("ctx") or {}
    field = ctx.get("field") or _field_path(tuple(error.get("loc", ())))
    reason = str(ctx["error"]) if error.get("type") == "value_error" and "error" in ctx else error.get("msg", "")
    return {"field": field, "reason": reason}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def on_app_error(_request: Request, exc: AppError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            # The JSON guard read the body first; what is left is what the standard parser alone refuses.
            detail = errors[0].get("ctx", {}).get("error", "")
            return error_response(MalformedJson(f"the body is not valid JSON: {detail}", [{"field": "body"}]))
        return error_response(ValidationFailed([_validation_detail(e) for e in errors]))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = FrameworkError(exc.status_code, str(exc.detail), getattr(exc, "headers", None))
        if exc.status_code == 400:  # a body the framework could not read (a multipart without its boundary)
            error.details = [{"field": "body", "reason": error.message}]
        return error_response(error)

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

    # Only what fails outside RequestContextMiddleware comes here; that middleware answers the rest.
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
    return error_response(InternalError(f"internal error; request id {request_id_var.get()}"))


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
            await _send_error(send, _body_too_large(limit))
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
                await _send_error(send, _body_too_large(exc.limit))


def _body_too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge.naming("body", f"the body is larger than {limit} bytes")


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
    - a JSON body the JSON guard refuses (``read_json``: not UTF-8, not JSON, nested too deep), on
      every path, department pushes included; the value it read is kept for the route (``json_body``);
    - text no database can store (422, naming the field): NUL characters in the path, the query and
      form bodies. In JSON bodies (NUL and unpaired surrogates) it is refused by
      ``refuse_unstorable_text`` for routes that declare their body, since a department push
      rejects such a record alone and stores the others.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            _refuse_nul_in_url(scope)
            if scope["type"] == "http":
                receive = await self._check_body(scope, receive)
        except AppError as refusal:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await _send_error(send, refusal)
            return
        await self.app(scope, receive, send)

    async def _check_body(self, scope: Scope, receive: Receive) -> Receive:
        headers = dict(scope["headers"])
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if is_json_media_type(media_type.decode("latin-1")):
            body, receive = await _buffer_body(receive)
            if body:  # an empty body is the route's to refuse (a required body is missing)
                scope[_JSON_BODY] = _GuardedJson(read_json(body), may_hold_unstorable_text(body))
            return receive
        if media_type == b"application/x-www-form-urlencoded":
            body, receive = await _buffer_body(receive)
            _refuse_nul_in_form(body)
            return receive
        has_body = headers.get(b"content-length", b"0").strip() not in (b"0", b"") or b"transfer-encoding" in headers
        if has_body and not media_type.startswith(b"multipart/"):
            shown = media_type.decode("latin-1")[:64] or "none"
            raise UnsupportedMediaType(
                f"a body of type {shown!r} is taken nowhere: send application/json, a form, or multipart/form-data",
                [{"field": "content-type", "reason": "unsupported media type"}],
            )
        return receive


_JSON_BODY = "community_brain.json_body"  # where the middleware keeps what the JSON guard read, in the scope


@dataclass(frozen=True)
class _GuardedJson:
    value: Any
    may_hold_unstorable_text: bool


def json_body(request: Request) -> Any:
    """The JSON value of the request's body as the guard read it (for a route that reads its body
    itself); an empty body is refused as the guard refuses it."""
    guarded: _GuardedJson | None = request.scope.get(_JSON_BODY)
    return guarded.value if guarded is not None else read_json(b"")


async def refuse_other_media_types(request: HTTPConnection) -> None:
    """A body in a media type its route does not take is refused with 415 naming the type it does,
    rather than by the route's validation ("file: Field required"). An app-wide dependency, like
    ``refuse_unstorable_text``; routes that read their body themselves (department pushes) judge it
    themselves."""
    route = request.scope.get("route")
    if request.scope["type"] != "http" or not isinstance(route, APIRoute) or route.body_field is None:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type:
        return  # no body at all: the route's validation says what is missing
    field_info = route.body_field.field_info
    if isinstance(field_info, params.File):
        expected, taken = "multipart/form-data", media_type == "multipart/form-data"
    elif isinstance(field_info, params.Form):
        expected = "application/x-www-form-urlencoded"
        taken = media_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    else:
        expected, taken = "application/json", is_json_media_type(media_type)
    if not taken:
        shown = media_type[:64]
        raise UnsupportedMediaType(
            f"{request.scope['method']} {request.url.path} takes {_TAKES[expected]}, not {shown}",
            [{"field": "content-type", "reason": f"expected {expected}"}],
        )


_TAKES = {
    "multipart/form-data": "a file upload (multipart/form-data)",
    "application/x-www-form-urlencoded": "a form (application/x-www-form-urlencoded, or multipart/form-data)",
    "application/json": "application/json",
}


async def refuse_unstorable_text(request: HTTPConnection) -> None:
    """A declared JSON body with text no database can store (a NUL, an unpaired surrogate) is refused
    whole, naming the field. An app-wide dependency: it runs before the route's own. A route that
    reads its JSON itself (a department push) judges such text record by record instead. (It gets a
    connection, not a request: app-wide dependencies run for WebSocket routes too.)"""
    guarded: _GuardedJson | None = request.scope.get(_JSON_BODY)
    route = request.scope.get("route")
    if guarded is None or not guarded.may_hold_unstorable_text:
        return
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if problem := find_unstorable_text(guarded.value):
        raise ValidationFailed([{"field": problem[0], "reason": problem[1]}])


def _refuse_nul_in_url(scope: Scope) -> None:
    if "\x00" in scope.get("path", ""):
        raise ValidationFailed([{"field": "path", "reason": NUL_REASON}])
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name + value:
                raise ValidationFailed([{"field": f"query.{name.replace(chr(0), '')}", "reason": NUL_REASON}])


def _refuse_nul_in_form(body: bytes) -> None:
    if b"%00" in body or b"\x00" in body:
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name + value:
                raise ValidationFailed([{"field": name.replace("\x00", "") or "body", "reason": NUL_REASON}])


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
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, not by Starlette's outermost handler: this answer carries the request id,
            # and the connection stays open for the client's next request.
            if scope["type"] != "http" or status is not None:
                raise
            log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
            await _internal_error()(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                duration_ms = round((time.perf_counter() - started) * 1000, 2)
                route = scope.get("route")
                path_template = getattr(route, "path", None) or "unmatched"
                if self.metrics is not None:
                    self.metrics.observe_request(scope["method"], path_template, status or 500, duration_ms / 1000)
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status or 500,
                        "duration_ms": duration_ms,
                    },
                )
            request_id_var.reset(token)
