"""Print the OpenAPI schema (the frontend's TypeScript client is generated from it)."""

from __future__ import annotations

import json
import sys

from service.main import create_app


def main() -> None:
    json.dump(create_app().openapi(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
