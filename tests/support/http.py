"""Reading error answers: the fields an error names (docs/http-api.md, "Errors")."""

from __future__ import annotations

import httpx


def error_fields(response: httpx.Response) -> set[str]:
    """The fields an error response names in its details."""
    error = response.json()["error"]
    fields = {str(d.get("field")) for d in error.get("details", []) if isinstance(d, dict) and d.get("field")}
    return fields
