"""The domain's words are spelled once, in service/vocabulary.py.

A role word, or a status word no other vocabulary shares, written as a string anywhere else in
service/ fails here: use ``Role.X`` or ``Status.X``. Some of these words also name other things; each
such place is listed with what the word means there.
"""

from __future__ import annotations

import ast
from pathlib import Path

from service.vocabulary import Role, Status

SERVICE = Path(__file__).resolve().parent.parent / "service"
# "new", "resolved", "closed", "rejected" and "merged" are also event types, register statuses and
# ingest outcomes, so only the status words nothing else uses are looked for.
WORDS = {*(role.value for role in Role), Status.DISPATCHED.value, Status.IN_PROGRESS.value}
OTHER_MEANINGS = {
    ("service/demo/setup.py", "admin"): "the demo's user names",
    ("service/demo/setup.py", "operator"): "the demo's user names",
    ("service/feeds/store.py", "operator"): "a match method: an operator linked the record",
    ("service/feeds/linking.py", "operator"): "a match method: an operator linked the record",
}


def test_role_and_status_words_are_spelled_only_in_the_vocabulary() -> None:
    found = []
    for path in sorted(SERVICE.rglob("*.py")):
        name = path.relative_to(SERVICE.parent).as_posix()
        if name == "service/vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in WORDS and (name, node.value) not in OTHER_MEANINGS:
                found.append(f"{name}:{node.lineno}: {node.value!r}")
    assert found == [], "spell these with service.vocabulary's Role or Status"
