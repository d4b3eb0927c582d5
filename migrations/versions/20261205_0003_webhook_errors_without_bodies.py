"""webhook delivery errors keep the status only: drop receivers' bodies stored by earlier versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 03:45:00
"""

import http
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Earlier versions wrote "HTTP 500: <the first 200 bytes the receiver answered>".
WITH_BODY = re.compile(r"^HTTP (\d{3}): ")


def _status_only(error: str) -> str:
    code = int(WITH_BODY.match(error).group(1))  # type: ignore[union-attr]  # selected by the same pattern
    try:
        return f"HTTP {code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def upgrade() -> None:
    bind = op.get_bind()
    for table, column in (("webhook_outbox", "last_error"), ("webhook_deliveries", "error")):
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE 'HTTP %: %'")).all()
        for row_id, error in rows:
            if WITH_BODY.match(error):
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :error WHERE id = :id"),
                    {"error": _status_only(error), "id": row_id},
                )


def downgrade() -> None:
    pass  # the bodies are gone for good, which is the point
