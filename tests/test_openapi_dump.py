"""The OpenAPI document the frontend's types are generated from is the one the service serves.

frontend/openapi.json is committed, and frontend/src/api/schema.ts is generated from it
(`npm run types`; frontend/tests/apiSchema.test.ts checks that step). A change to a route or a
schema without regenerating both fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

from service.main import create_app
from service.openapi_dump import render

COMMITTED = Path(__file__).resolve().parent.parent / "frontend" / "openapi.json"


def test_the_committed_openapi_document_is_the_one_the_service_serves() -> None:
    served = render(create_app().openapi())
    stale = "frontend/openapi.json is stale: run `npm run types` in frontend/"
    assert served == COMMITTED.read_text(encoding="utf-8"), stale


def test_the_words_are_enums_in_the_document() -> None:
    schemas = json.loads(COMMITTED.read_text(encoding="utf-8"))["components"]["schemas"]
    assert schemas["IncidentOut"]["properties"]["status"] == {"$ref": "#/components/schemas/Status"}
    assert schemas["Status"]["enum"] == ["new", "dispatched", "in_progress", "resolved", "closed", "rejected", "merged"]
    assert schemas["MeOut"]["properties"]["role"] == {"$ref": "#/components/schemas/Role"}
