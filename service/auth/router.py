"""Login, WebSocket tickets, users and keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from service.auth import service
from service.auth.models import Principal
from service.auth.schemas import (
    KeyIn,
    KeyInfo,
    KeyList,
    KeyOut,
    MeOut,
    TicketOut,
    TokenOut,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
)
from service.auth.tokens import mint_token
from service.deps import AdminDep, CallerDep, OperatorDep, SessionDep, StateDep
from service.errors import Forbidden, Unauthorized, UnsupportedMediaType
from service.ratelimit import client_ip
from service.vocabulary import Role

router = APIRouter(tags=["auth"])

UsernamePath = Annotated[str, Path(pattern=service.USERNAME_PATTERN.pattern)]
KeyIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{12}$", description="the 12 characters after cbk_ in the key: cbk_<key_id>_<secret>")
]


def form_only(request: Request) -> None:
    """/auth/token is the OAuth2 password flow, which posts a form; say so to a JSON caller rather
    than answering "username: Field required" (this runs before the form is validated)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded" and not media_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "POST /auth/token takes a form (the OAuth2 password flow): send "
            "application/x-www-form-urlencoded with username=…&password=…, not "
            f"{media_type or 'a body without a content type'}",
            [{"field": "content-type", "reason": "expected application/x-www-form-urlencoded"}],
        )


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(
    request: Request,
    state: StateDep,
    _form_only: Annotated[None, Depends(form_only)],
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """OAuth2 password flow: a user name and password give a bearer token."""
    limits = state.rate_limits
    await limits.hit(limits.login_per_ip, "login-ip", client_ip(request))
    await limits.hit(limits.login_per_user, "login-user", form.username[:64])
    async with state.db.session() as session:
        principal = await service.login(session, form.username, form.password, state.hasher)
    if principal is None:
        raise Unauthorized("wrong user name or password")
    ttl = state.settings.access_token_ttl_s
    token = service.access_token(state.signing_key, principal, ttl)
    return TokenOut(access_token=token, expires_in=ttl, username=principal.name, role=principal.role)


@router.post("/auth/ws-ticket", response_model=TicketOut)
async def issue_ws_ticket(state: StateDep, caller: CallerDep) -> TicketOut:
    """A short-lived ticket for /ws/live, so no long-lived credential travels in a URL."""
    ttl = state.settings.ws_ticket_ttl_s
    return TicketOut(ticket=mint_token(state.signing_key, caller.principal_id, "ws", ttl), expires_in=ttl)


@router.get("/auth/me", response_model=MeOut)
async def who_am_i(caller: CallerDep) -> MeOut:
    return MeOut(username=caller.name, role=caller.role, source=caller.source)


def _user_out(principal: Principal) -> UserOut:
    return UserOut(username=principal.name, role=principal.role, active=principal.active)


@router.get("/users", response_model=UserList)
async def list_users(
    session: SessionDep,
    caller: OperatorDep,
    role: Annotated[str | None, Query(max_length=16)] = None,
    include_inactive: Annotated[bool, Query(description="deactivated users too (admins only)")] = False,
) -> UserList:
    """Active users and their roles, for whoever assigns work. Inspectors are refused: their pages
    need only their own name (GET /auth/me), not the roster. Admins may ask for deactivated users too."""
    if include_inactive and caller.role != Role.ADMIN:
        raise Forbidden("include_inactive: only admins see deactivated users")
    users = await service.list_users(session, role, inactive_too=include_inactive)
    return UserList(items=[_user_out(u) for u in users])


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(body: UserIn, state: StateDep, _admin: AdminDep) -> UserOut:
    async with state.db.transaction() as uow:
        principal = await service.create_user(uow.session, body.username, body.role, body.password, state.hasher)
    return _user_out(principal)


@router.patch("/users/{username}", response_model=UserOut)
async def update_user(username: UsernamePath, body: UserPatch, state: StateDep, admin: AdminDep) -> UserOut:
    """Deactivate a user (`active: false`: they can no longer log in, and their tokens stop working at
    once), activate them again, and/or set a new password (which ends the tokens issued before it).
    An admin cannot deactivate themself, nor the last active admin."""
    async with state.db.transaction() as uow:
        principal = await service.update_user(
            uow.session, username, active=body.active, password=body.password, by=admin, hasher=state.hasher
        )
    return _user_out(principal)


@router.get("/keys", response_model=KeyList)
async def list_keys(session: SessionDep, _admin: AdminDep) -> KeyList:
    """Every API key, revoked ones too, oldest first: who it is for, never its secret."""
    keys = await service.all_keys(session)
    return KeyList(
        items=[
            KeyInfo(
                key_id=k.key_id or "",
                name=k.name,
                role=k.role,
                source=k.source,
                active=k.active,
                created_at=k.created_at,
            )
            for k in keys
        ]
    )


@router.delete("/keys/{key_id}", status_code=204, response_class=Response)
async def revoke_key(key_id: KeyIdPath, state: StateDep, admin: AdminDep) -> Response:
    """Revoke a key for good: refused by this worker at once, by every worker within a minute (its
    key cache). Revoking a revoked key is a 204 too; an unknown key id is a 404."""
    async with state.db.transaction() as uow:
        principal, _revoked_now = await service.revoke_key(uow.session, key_id, by=admin)
    state.key_cache.forget_principal(principal.id)
    return Response(status_code=204)


@router.post("/keys", response_model=KeyOut, status_code=201)
async def create_key(body: KeyIn, state: StateDep, _admin: AdminDep) -> KeyOut:
    if body.role == Role.DEPARTMENT:
        await state.definitions.refresh_sources()  # a department installed a moment ago, perhaps on another worker
    async with state.db.transaction() as uow:
        principal, key = await service.create_key(
            uow.session, body.role, body.source, body.label, set(state.adapters.known_sources()), state.hasher
        )
    return KeyOut(key=key, name=principal.name, role=principal.role, source=principal.source)
