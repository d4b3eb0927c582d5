"""docs/http-api.md names every route the service answers: a route added without its line in the
contract fails here (who may call it is held by tests/auth/test_access_matrix.py)."""

from __future__ import annotations

import re

from service.main import create_app
from service.settings import Settings
from tests.support.data import REPO

METHOD = r"(?:GET|POST|PUT|PATCH|DELETE)"
# `GET /incidents/{id}`, `PUT/DELETE /webhooks/{source}`, `GET /api/v1/users?role=`
ROUTE_IN_DOC = re.compile(rf"`({METHOD}(?:/{METHOD})*) (/[^\s`?]*)")


def shape(path: str) -> str:
    """The route without its prefix and parameter names: /api/v1/incidents/{incident_id} → /incidents/{}."""
    return re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/api/v1"))


def test_every_route_is_in_the_contract() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="k" * 40))
    served = {(method.upper(), shape(path)) for path, item in app.openapi()["paths"].items() for method in item}
    doc = (REPO / "docs" / "http-api.md").read_text(encoding="utf-8")
    written = {(method, shape(path)) for methods, path in ROUTE_IN_DOC.findall(doc) for method in methods.split("/")}
    missing = sorted(f"{method} {path}" for method, path in served - written)
    assert not missing, "docs/http-api.md does not describe:\n" + "\n".join(missing)
