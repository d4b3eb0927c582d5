"""`/ws/live`: the WebSocket route (docs/live-stream.md). Authenticates, then hands the connection to the hub.

`?ticket=` (from POST /api/v1/auth/ws-ticket) or `?token=` (an API key or an access token);
`since` and `epoch` to resume; `grid`, `source`, `category` to filter. Without a valid
credential the handshake is refused before accept, which the client sees as HTTP 403.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import QueryParams
from starlette.websockets import WebSocketDisconnect

from service.auth.roles import INCIDENT_READER_ROLES
from service.auth.service import Caller, current_secret, identify, redeem_ticket
from service.errors import AppError, BadRequest, ServiceUnavailable
from service.http import error_response
from service.live.client import EndReason
from service.live.filters import BadFilter, LiveFilter, parse_filter
from service.live.protocol import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_SLOW,
    CLOSE_TRY_AGAIN,
    ResumeRequest,
)
from service.live.stream import stream_to_client
from service.state import AppState

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

LIVE_ROLES = INCIDENT_READER_ROLES  # whoever reads incidents may follow them live
CLOSE_TIMEOUT_S = 5.0  # a client that reads nothing cannot take the close frame either
MAX_EPOCH_LENGTH = 64
CLOSE_CODES = {EndReason.SLOW: CLOSE_SLOW, EndReason.LEDGER_REPLACED: CLOSE_RESTART, EndReason.SHUTDOWN: CLOSE_RESTART}


class BadParameters(ValueError):
    """A query parameter the stream cannot use (answered with HTTP 400)."""


async def authenticate(state: AppState, params: QueryParams) -> Caller | None:
    """The caller behind `ticket` (a ws ticket) or `token` (an API key, an access token, or a ticket)."""
    ticket, token = params.get("ticket"), params.get("token")
    caller: Caller | None = None
    if ticket:
        caller = await redeem_ticket(state.db, ticket, state.signing_key, state.tickets)
    elif token:
        caller = await identify(state.db, token, state.signing_key, state.key_cache, hasher=state.hasher)
        if caller is None:  # a ticket passed as a token is still a ticket: good once
            caller = await redeem_ticket(state.db, token, state.signing_key, state.tickets)
    return caller if caller is not None and caller.role in LIVE_ROLES else None


def parse_resume(params: Mapping[str, str]) -> ResumeRequest:
    raw_since, epoch = params.get("since"), params.get("epoch")
    since: int | None = None
    if raw_since not in (None, ""):
        assert raw_since is not None
        if not (raw_since.isascii() and raw_since.isdigit()) or len(raw_since) > 18:
            raise BadParameters("since: a non-negative integer (the last seq the client has)")
        since = int(raw_since)
    if epoch is not None and len(epoch) > MAX_EPOCH_LENGTH:
        raise BadParameters(f"epoch: at most {MAX_EPOCH_LENGTH} characters")
    return ResumeRequest(since=since, epoch=epoch or None)


def parse_parameters(params: QueryParams) -> tuple[ResumeRequest, LiveFilter]:
    try:
        multi = {name: params.getlist(name) for name in ("grid", "source", "category")}
        return parse_resume(params), parse_filter(multi)
    except BadFilter as exc:
        raise BadParameters(str(exc)) from exc


@router.websocket("/ws/live")
async def live_stream(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.cb
    try:
        caller = await authenticate(state, websocket.query_params)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("live: cannot check a credential (%s)", type(exc).__name__)
        await _refuse(websocket, ServiceUnavailable())
        return
    if caller is None or state.hub is None:
        await websocket.close(code=CLOSE_POLICY)
        return
    try:
        request, live_filter = parse_parameters(websocket.query_params)
    except BadParameters as exc:
        await _refuse(websocket, BadRequest(str(exc)))
        return
    if caller.assignee_scope is not None:  # an inspector: their own tasks only, as everywhere else
        live_filter = dataclasses.replace(live_filter, assignee=caller.assignee_scope)
    try:
        await websocket.accept()
    except (OSError, RuntimeError, WebSocketDisconnect):
        return  # it left during the handshake
    await serve_client(state, caller, websocket, request, live_filter)


async def serve_client(
    state: AppState, caller: Caller, websocket: WebSocket, request: ResumeRequest, live_filter: LiveFilter
) -> None:
    """Stream until the client leaves, falls behind (4008), its credential ends (1008), or the
    worker stops (1012)."""
    assert state.hub is not None
    hub = state.hub
    client = hub.register(live_filter)
    streaming = asyncio.create_task(stream_to_client(hub, client, websocket.send_text, request))
    listening = asyncio.create_task(_until_disconnect(websocket))
    checking = asyncio.create_task(_until_credential_ends(state, caller.principal_id))
    try:
        waiting: set[asyncio.Future[Any]] = {streaming, listening, checking, client.ended}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unregister(client)
        for task in (streaming, listening, checking):
            task.cancel()
        await asyncio.gather(streaming, listening, checking, return_exceptions=True)
    if listening.done() and not listening.cancelled():
        return  # the client left
    checked = checking.done() and not checking.cancelled()
    if checked and checking.exception() is None:
        log.info("live: closing a stream of %s: its credential was revoked or changed", caller.actor)
        code = CLOSE_POLICY
    elif client.ended.done():
        code = CLOSE_CODES[client.ended.result()]
    else:
        failed = checking if checked else streaming
        error = None if failed.cancelled() else failed.exception()
        if isinstance(error, WebSocketDisconnect):
            return  # it left while we were sending
        if isinstance(error, SQLAlchemyError | OSError | TimeoutError):
            log.warning("live: the database failed a client's catch-up (%s)", type(error).__name__)
            code = CLOSE_TRY_AGAIN
        else:
            log.error("live: a client stream failed", exc_info=error)
            code = CLOSE_INTERNAL
    client.end(EndReason.SHUTDOWN)
    await _close(websocket, code)


async def _refuse(websocket: WebSocket, error: AppError) -> None:
    """Answer the handshake with the error's status and the usual error body where the server can
    send one (uvicorn can); a plain refusal (HTTP 403) otherwise."""
    try:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(error_response(error))
        else:
            await websocket.close(code=CLOSE_POLICY)
    except (OSError, RuntimeError):
        pass  # it left already


async def _until_credential_ends(state: AppState, principal_id: int) -> None:
    """Return once the caller's key is revoked, or its user deactivated or given a new password.
    Read from the database every `live_recheck_s`, so it holds on every worker, whatever their
    key caches believe."""
    began: str | None = None
    while True:
        try:
            secret = await current_secret(state.db, principal_id)
        except (SQLAlchemyError, OSError, TimeoutError):
            pass  # a database that cannot answer revokes nothing
        else:
            if secret is None or secret != (began or secret):
                state.key_cache.forget_principal(principal_id)  # this worker refuses the key at once too
                return
            began = secret
        await asyncio.sleep(state.settings.live_recheck_s)


async def _until_disconnect(websocket: WebSocket) -> None:
    # Clients have nothing to say; reading is how we learn that they left.
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _close(websocket: WebSocket, code: int) -> None:
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await websocket.close(code=code)
    except (TimeoutError, RuntimeError, OSError, WebSocketDisconnect):
        pass  # the server drops the connection once this handler returns
