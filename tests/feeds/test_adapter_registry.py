"""The adapter registry: built-in sources, extra ones from configuration, and bad configuration."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.feeds.adapters import (
    Adapter,
    AdapterConfigError,
    AdapterRegistry,
    UnknownSourceError,
    city,
    market,
    police,
)

HOTLINE = textwrap.dedent(
    """
    from datetime import datetime
    from typing import Any

    from service.feeds.adapters.base import as_record_id, make_title
    from service.formats.fields import FieldReader, as_datetime
    from service.feeds.normalized import NormalizedRecord

    SOURCE = "hotline"
    ID_FIELD = "gdbh"


    def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
        reader = FieldReader(item, now=now)
        record_id = reader.read(ID_FIELD, as_record_id, required=True)
        occurred_at = reader.read("ldsj", lambda v: as_datetime(v, "YYYY-MM-DD HH:MM:SS"), required=True)
        reader.raise_if_failed(record_id)
        return NormalizedRecord(
            source=SOURCE, source_record_id=record_id, payload=dict(item), category="other",
            occurred_at=occurred_at, is_problem=True, title=make_title("12345", item.get("dz")),
        )
    """
)


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name.startswith("cb_test_")]:
        del sys.modules[name]


def test_builtin_sources() -> None:
    registry = AdapterRegistry()
    assert registry.known_sources() == ("police", "market", "city", "visits")
    assert registry.get("police") is police
    assert registry.get("market") is market
    assert registry.get("city") is city
    assert (police.ID_FIELD, market.ID_FIELD, city.ID_FIELD) == ("jjdbh", "记录编号", "taskId")


def test_builtin_modules_are_adapters() -> None:
    adapters: list[Adapter] = [police, market, city]  # type-checked by mypy against the Protocol
    assert [adapter.SOURCE for adapter in adapters] == ["police", "market", "city"]


def test_unknown_source() -> None:
    known = "police, market, city, visits"
    with pytest.raises(UnknownSourceError, match=f"unknown source 'hotline'; known sources: {known}"):
        AdapterRegistry().get("hotline")


def test_an_extra_adapter_from_configuration(module_dir: Path) -> None:
    (module_dir / "cb_test_hotline.py").write_text(HOTLINE, encoding="utf-8")
    registry = AdapterRegistry({"hotline": "cb_test_hotline"})
    assert registry.known_sources() == ("police", "market", "city", "visits", "hotline")
    adapter = registry.get("hotline")
    record = adapter.parse({"gdbh": "GD001", "ldsj": "2026-09-01 08:00:00", "dz": "闻喜路1号"})
    assert record.source == "hotline" and record.occurred_at == datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("config", "module_text", "message"),
    [
        ({"hotline": "cb_test_missing"}, None, "cannot import 'cb_test_missing'"),
        (
            {"hotline": "cb_test_bad"},
            'SOURCE = "12345"\nID_FIELD = "gdbh"\ndef parse(item, *, now=None): ...',
            "declares SOURCE='12345'",
        ),
        ({"hotline": "cb_test_bad"}, 'SOURCE = "hotline"\ndef parse(item, *, now=None): ...', "no ID_FIELD"),
        ({"hotline": "cb_test_bad"}, 'SOURCE = "hotline"\nID_FIELD = "gdbh"\nparse = 1', "no parse"),
        ({"police": "cb_test_bad"}, None, "'police' is built in"),
        ({"Hot Line": "cb_test_bad"}, None, "use 1–32 lowercase letters"),
    ],
)
def test_bad_configuration_fails_when_the_registry_is_built(
    module_dir: Path, config: dict[str, str], module_text: str | None, message: str
) -> None:
    if module_text is not None:
        (module_dir / "cb_test_bad.py").write_text(module_text, encoding="utf-8")
    with pytest.raises(AdapterConfigError, match=message):
        AdapterRegistry(config)
