"""Which role may do what (the roles themselves are spelled in service/vocabulary.py)."""

from __future__ import annotations

from typing import Literal, get_args

from service.vocabulary import Role

# A person logs in with a password; a key is for a machine (a department, a wall) or a script.
UserRole = Literal[Role.ADMIN, Role.OPERATOR, Role.INSPECTOR]
KeyRole = Literal[Role.DEPARTMENT, Role.DISPLAY, Role.OPERATOR, Role.ADMIN]
USER_ROLES: tuple[Role, ...] = get_args(UserRole)
KEY_ROLES: tuple[Role, ...] = get_args(KeyRole)

# Admins may do whatever operators may do.
OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
# Who may be given an incident to work on.
ASSIGNEE_ROLES = frozenset({Role.INSPECTOR, Role.OPERATOR})
# Who reads incidents: everyone but a department's key (which reads only its own records' status).
INCIDENT_READER_ROLES = frozenset({Role.OPERATOR, Role.ADMIN, Role.INSPECTOR, Role.DISPLAY})
# Who reads the register, the records and the entity files: the people.
FIELD_ROLES = frozenset({Role.OPERATOR, Role.ADMIN, Role.INSPECTOR})
