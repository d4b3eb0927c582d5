"""Annotated dependencies that make handler signatures read like declarations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.roles import FIELD_ROLES, INCIDENT_READER_ROLES, OPERATOR_ROLES
from service.auth.service import Caller, identify
from service.db.database import Database
from service.errors import Forbidden, Unauthorized
from service.state import AppState
from service.vocabulary import Role


# Dependencies are async even when they do not await: FastAPI runs plain functions in a thread pool,
# and those hops cost more than the rest of a small request.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.cb
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_db(state: StateDep) -> Database:
    return state.db


DatabaseDep = Annotated[Database, Depends(get_db)]


async def get_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="A user token from /auth/token, or an API key")


async def get_caller(
    state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    caller = await identify(state.db, credentials.credentials, state.signing_key, state.key_cache, hasher=state.hasher)
    if caller is None:
        raise Unauthorized()
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    allowed = frozenset(roles)

    async def check(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return caller

    return check


OperatorDep = Annotated[Caller, Depends(require_roles(*OPERATOR_ROLES))]
AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
IncidentReaderDep = Annotated[Caller, Depends(require_roles(*INCIDENT_READER_ROLES))]
FieldDep = Annotated[Caller, Depends(require_roles(*FIELD_ROLES))]

# One page of a list: every list endpoint takes the same bounds.
PageLimit = Annotated[int, Query(ge=1, le=500)]
PageOffset = Annotated[int, Query(ge=0, le=10_000_000)]
