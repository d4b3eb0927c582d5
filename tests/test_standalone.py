"""The project stands alone: nothing in it reads or cites files kept outside the repository.

The departments' samples live in tests/data, and the contracts the code keeps are written in docs/
(docs/http-api.md, docs/live-stream.md, docs/adapters.md, docs/workflow.md, docs/targets.md,
docs/screens.md); a clone in any folder runs, and reads, without a sibling folder next to it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.data import REPO

TREES = ("service", "tests", "benchmarks", "migrations", "frontend/src", "frontend/scripts", "docs")
FILES = ("README.md", "frontend/README.md", "Makefile", "pyproject.toml")
SKIPPED = (REPO / "service" / "static", REPO / "tests" / "data" / "samples")
SUFFIXES = {".py", ".ts", ".vue", ".mjs", ".md", ".toml", ".ini", ".cfg", ".json", ".css", ".html"}
# Spelled in pieces so that this file does not find itself: the folder beside the repository the
# project started from, and the documents in it whose content now lives in docs/.
OUTSIDE = ("../" + "shared", "/work/" + "shared")
OUTSIDE_DOCUMENTS = ("DESIGN" + ".md", "DESIGN" + " §", "feeds/" + "README", "WALL" + ".md")


def project_files() -> list[Path]:
    files = [REPO / name for name in FILES]
    for tree in TREES:
        for path in (REPO / tree).rglob("*"):
            if path.suffix not in SUFFIXES or not path.is_file() or "node_modules" in path.parts:
                continue
            if "__pycache__" in path.parts or any(path.is_relative_to(skipped) for skipped in SKIPPED):
                continue
            files.append(path)
    return files


def test_every_tree_is_searched() -> None:
    searched = {path.relative_to(REPO).parts[0] for path in project_files()}
    assert searched >= {"service", "tests", "benchmarks", "migrations", "frontend", "docs", "README.md"}


def test_nothing_reads_or_cites_what_lies_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(word in line for word in OUTSIDE + OUTSIDE_DOCUMENTS)
    ]
    assert not found, "these name files outside the repository (their content belongs in docs/):\n" + "\n".join(found)


# A path of the repository written in a document: `service/vocabulary.py`, tests/data/README.md.
REPO_PATH = re.compile(
    r"\b(?:service|tests|benchmarks|frontend|migrations|docs)/[\w./-]+\.(?:py|md|ts|vue|toml|mjs|json|csv|jsonl|xlsx)"
)


def test_every_file_the_documents_name_is_there() -> None:
    documents = [REPO / "README.md", REPO / "tests" / "data" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    missing = [
        f"{document.relative_to(REPO)}: {path}"
        for document in documents
        for path in sorted(set(REPO_PATH.findall(document.read_text(encoding="utf-8"))))
        if not (REPO / path).exists()
    ]
    assert not missing, "documents name files that are not in the repository:\n" + "\n".join(missing)


def test_the_tests_data_is_in_the_repository() -> None:
    samples = REPO / "tests" / "data" / "samples"
    names = ("registry.csv", "police.jsonl", "city.jsonl", "market.csv", "market.xlsx", "truth.csv")
    assert all((samples / name).is_file() for name in names)
