from __future__ import annotations

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


class UserList(BaseModel):
    items: list[UserOut]


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: UserRole
    password: str = Field(min_length=8, max_length=256)


class KeyIn(BaseModel):
    role: KeyRole
    source: Source | None = Field(default=None, max_length=32)
    label: str | None = Field(default=None, max_length=64)


class KeyOut(BaseModel):
    key: str = Field(description="shown once; store it now")
    name: str
    role: Role
    source: Source | None
