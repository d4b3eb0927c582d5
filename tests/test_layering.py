"""Packages depend one way: a module imports only its own package and the layers below it.

The layers are those of docs/architecture.md ("Layers"); a new package or top-level module has to
be given a place here, and an import that climbs fails with the line that does it. Imports made
only for the type checker (under ``if TYPE_CHECKING:``) do not count: AppState names the types its
packages fill in without importing them at run time. A package's ``router.py`` is its HTTP edge and
may also use ``service.deps`` (the request dependencies, which sit above auth).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "service"

# Lowest first. A name is a package (service/<name>/) or a top-level module (service/<name>.py).
LAYERS: list[set[str]] = [
    {"kit"},
    {"settings", "errors", "logs", "metrics", "matching", "vocabulary"},
    {"formats", "db", "ratelimit", "residents"},
    {"auth", "ledger", "http", "headers"},
    {"state"},
    {"deps"},
    {"registry"},
    {"records"},
    {"incidents"},
    {"feeds"},
    {"webhooks", "stats", "visits"},
    {"live", "exports", "dossier", "painpoints"},
    {
        "tables",
        "personal_data",
        "bootstrap",
        "demo",
        "web",
        "ops",
        "main",
        "cli",
        "asgi",
        "openapi_dump",
        "__main__",
        "__init__",
    },
]
LAYER_OF = {name: index for index, layer in enumerate(LAYERS) for name in layer}
APP = len(LAYERS) - 1  # the app's own modules wire the rest together and may use one another
EDGE_MODULES = {"router.py"}
EDGE_MAY_USE = {"deps"}
# Known climbs, each with the reason it is still there; the list only ever shrinks.
EXCEPTIONS = {
    # GET /events for an inspector keeps the events of their incidents (incidents.queries.assigned_to).
    ("service/ledger/router.py", "incidents"),
}


def _unit_of(path: Path, root: Path) -> str:
    """The package or top-level module a file belongs to."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, imported unit) for every run-time import of another part of the service."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (item for child in node.orelse for item in _imports(ast.Module(body=[child], type_ignores=[])))
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] if node.module != "service" else [f"service.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            yield from _imports(node)
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "service" and len(parts) > 1:
                yield node.lineno, parts[1]


def layering_violations(root: Path = SERVICE) -> list[str]:
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if "static" in path.relative_to(root).parts:
            continue
        unit = _unit_of(path, root)
        if unit not in LAYER_OF:
            problems.append(f"{path.relative_to(root.parent)}: {unit!r} has no layer in tests/test_layering.py")
            continue
        for line, imported in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            where = str(path.relative_to(root.parent))
            if imported == unit or (where, imported) in EXCEPTIONS:
                continue
            if imported not in LAYER_OF:
                problems.append(f"{path.relative_to(root.parent)}:{line}: imports {imported!r}, which has no layer")
            elif (
                LAYER_OF[imported] >= LAYER_OF[unit]
                and not (LAYER_OF[unit] == APP and LAYER_OF[imported] == APP)
                and not (path.name in EDGE_MODULES and imported in EDGE_MAY_USE)
            ):
                problems.append(
                    f"{path.relative_to(root.parent)}:{line}: {unit} (layer {LAYER_OF[unit]}) imports "
                    f"{imported} (layer {LAYER_OF[imported]})"
                )
    return problems


def test_packages_import_only_the_layers_below() -> None:
    assert layering_violations() == []


def test_a_climbing_import_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "service" / "kit"
    package.mkdir(parents=True)
    (package / "text.py").write_text("from service.feeds.ingest import IngestPipeline\n", encoding="utf-8")
    (package / "types.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from service.feeds import ingest\n", encoding="utf-8"
    )
    assert layering_violations(tmp_path / "service") == ["service/kit/text.py:1: kit (layer 0) imports feeds (layer 9)"]
