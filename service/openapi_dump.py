"""Print the OpenAPI schema (the frontend's TypeScript client is generated from it)."""

from __future__ import annotations

import json
import sys
from typing import Any

from service.main import create_app


def render(schema: dict[str, Any]) -> str:
    """The document as frontend/openapi.json keeps it."""
    return json.dumps(schema, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    sys.stdout.write(render(create_app().openapi()))


if __name__ == "__main__":
    main()
