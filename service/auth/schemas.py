from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.auth.roles import KeyRole, UserRole
from service.vocabulary import Role, Source


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    username: str
    role: Role


class TicketOut(BaseModel):
    ticket: str
    expires_in: int


class MeOut(BaseModel):
    username: str
    role: Role
    source: Source | None


class UserOut(BaseModel):
    username: str
    role: Role
    active: bool = Field(description="false: deactivated; neither logs in nor uses a token issued before")


class UserList(BaseModel):
    items: list[UserOut]


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: UserRole
    password: str = Field(min_length=8, max_length=256)


class UserPatch(BaseModel):
    """What an admin changes about a user; a field left out stays as it is."""

    active: bool | None = Field(default=None, description="false deactivates the user, true activates them again")
    password: str | None = Field(
        default=None, min_length=8, max_length=256, description="a new password; ends the tokens issued before"
    )


class KeyIn(BaseModel):
    role: KeyRole
    source: Source | None = Field(default=None, max_length=32)
    label: str | None = Field(default=None, max_length=64)


class KeyOut(BaseModel):
    key: str = Field(description="shown once; store it now")
    name: str
    role: Role
    source: Source | None


class KeyInfo(BaseModel):
    """A key as listed: never its secret nor its hash."""

    key_id: str = Field(description="the public part of the key: cbk_<key_id>_<secret>")
    name: str
    role: Role
    source: Source | None
    active: bool = Field(description="false: revoked")
    created_at: datetime


class KeyList(BaseModel):
    items: list[KeyInfo]
