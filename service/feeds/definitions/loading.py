"""Reading a feed definition from TOML, with every mistake named by its key path, never a traceback."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.feeds.definitions.format import FeedDefinition

_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


class DefinitionError(ValueError):
    """A definition that cannot be used; ``problems`` are lines of ``key.path: what is wrong``."""

    def __init__(self, origin: str, problems: list[str]):
        self.origin = origin
        self.problems = problems
        super().__init__(f"{origin}: " + "; ".join(problems))

    def report(self) -> str:
        count = len(self.problems)
        lines = [f"{self.origin}: {count} mistake{'s' if count != 1 else ''} in the definition"]
        return "\n".join(lines + [f"  {problem}" for problem in self.problems])


def parse_definition(text: str, origin: str = "definition") -> FeedDefinition:
    """A definition from TOML text; raises DefinitionError naming each wrong key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(origin, [f"not valid TOML: {exc}"]) from None
    try:
        return FeedDefinition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(origin, render_validation_errors(exc)) from None


def load_definition(path: Path) -> FeedDefinition:
    """A definition from a TOML file (UTF-8); raises DefinitionError."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DefinitionError(str(path), [f"cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(str(path), [f"not UTF-8 (byte {exc.start}); save the definition as UTF-8"]) from None
    return parse_definition(text, str(path))


def render_validation_errors(exc: ValidationError) -> list[str]:
    """pydantic's errors as ``category.map.X: unknown category 'foo'`` lines.

    A misspelt key is one mistake, not two: an unknown key that looks like a required key missing
    beside it (``record.idd`` for ``record.id``) is named once, with the key it should be.
    """
    errors = exc.errors(include_url=False)
    missing = {tuple(error["loc"]) for error in errors if error["type"] == "missing"}
    meant: dict[tuple[Any, ...], str] = {}  # an unknown key's location → the missing key it stands for
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden" and loc:
            taken = {(*where[:-1], key) for where, key in meant.items()}
            beside = [str(other[-1]) for other in missing if other[:-1] == loc[:-1] and other not in taken]
            close = difflib.get_close_matches(str(loc[-1]), beside, n=1, cutoff=0.6)
            if close:
                meant[loc] = close[0]
    standing_in = {(*loc[:-1], key) for loc, key in meant.items()}
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        if loc in standing_in and error["type"] == "missing":
            continue  # named with the misspelling
        path = ".".join(str(part) for part in loc) or "(definition)"
        message = error["msg"]
        for prefix in _VALUE_ERROR_PREFIXES:
            message = message.removeprefix(prefix)
        if error["type"] == "extra_forbidden" and loc in meant:
            message = (
                f"unknown key: did you mean {meant[loc]!r}? ({'.'.join(map(str, (*loc[:-1], meant[loc])))} is required)"
            )
        elif error["type"] == "extra_forbidden":
            message = "unknown key (misspelt, or not part of the format)"
        elif error["type"] == "missing":
            message = "required, but missing"
        elif error["type"] == "literal_error":
            message = f"{error.get('input')!r}: {message[0].lower()}{message[1:]}"
        lines.append(f"{path}: {message}")
    return lines
