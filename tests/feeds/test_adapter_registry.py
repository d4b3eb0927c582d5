"""The adapter registry: the shipped definitions, extra adapters from configuration, and bad configuration."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.errors import Conflict
from service.feeds.adapters import Adapter, AdapterConfigError, AdapterRegistry, UnknownSourceError
from service.feeds.definitions import DefinitionAdapter, shipped_adapter
from service.feeds.definitions.store import check_definition_text

SHIPPED = ("police", "market", "city", "fire", "health", "hotline")
KNOWN = ("police", "market", "city", "visits", "fire", "health", "hotline")  # visits: a built-in Python module
SHIPPED_FOLDER = Path(__file__).resolve().parents[2] / "service" / "feeds" / "definitions" / "shipped"

HOTLINE = textwrap.dedent(
    """
    from datetime import datetime
    from typing import Any

    from service.feeds.adapters.base import as_record_id, make_title
    from service.formats.fields import FieldReader, as_datetime
    from service.feeds.normalized import NormalizedRecord

    SOURCE = "hotline_qj"
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


def test_every_shipped_department_is_a_definition() -> None:
    registry = AdapterRegistry()
    assert registry.known_sources() == KNOWN  # the three the service started with first, as always
    for source in SHIPPED:
        adapter = registry.get(source)
        assert isinstance(adapter, DefinitionAdapter) and adapter is shipped_adapter(source)
        assert not registry.has_python_adapter(source)
    ids = tuple(registry.get(source).ID_FIELD for source in ("police", "market", "city"))
    assert ids == ("jjdbh", "记录编号", "taskId")


def test_definition_adapters_are_adapters() -> None:
    adapters: list[Adapter] = [shipped_adapter(source) for source in SHIPPED]  # checked by mypy: the Protocol
    assert [adapter.SOURCE for adapter in adapters] == list(SHIPPED)


def test_unknown_source() -> None:
    known = "police, market, city, visits, fire, health, hotline"
    with pytest.raises(UnknownSourceError, match=f"unknown source 'nope'; known sources: {known}"):
        AdapterRegistry().get("nope")


def test_an_extra_adapter_from_configuration(module_dir: Path) -> None:
    (module_dir / "cb_test_hotline.py").write_text(HOTLINE, encoding="utf-8")
    registry = AdapterRegistry({"hotline_qj": "cb_test_hotline"})
    assert registry.known_sources() == (*KNOWN, "hotline_qj")
    assert registry.has_python_adapter("hotline_qj")
    adapter = registry.get("hotline_qj")
    record = adapter.parse({"gdbh": "GD001", "ldsj": "2026-09-01 08:00:00", "dz": "闻喜路1号"})
    assert record.source == "hotline_qj" and record.occurred_at == datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("config", "module_text", "message"),
    [
        ({"hotline_qj": "cb_test_missing"}, None, "cannot import 'cb_test_missing'"),
        (
            {"hotline_qj": "cb_test_bad"},
            'SOURCE = "12345"\nID_FIELD = "gdbh"\ndef parse(item, *, now=None): ...',
            "declares SOURCE='12345'",
        ),
        ({"hotline_qj": "cb_test_bad"}, 'SOURCE = "hotline_qj"\ndef parse(item, *, now=None): ...', "no ID_FIELD"),
        ({"hotline_qj": "cb_test_bad"}, 'SOURCE = "hotline_qj"\nID_FIELD = "gdbh"\nparse = 1', "no parse"),
        ({"police": "cb_test_bad"}, None, "'police' is built in"),
        ({"hotline": "cb_test_bad"}, None, "'hotline' is built in"),
        ({"visits": "cb_test_bad"}, None, "'visits' is built in"),
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


def test_a_definition_cannot_replace_a_configured_python_adapter(module_dir: Path) -> None:
    (module_dir / "cb_test_hotline.py").write_text(HOTLINE, encoding="utf-8")
    registry = AdapterRegistry({"hotline_qj": "cb_test_hotline"})
    text = (SHIPPED_FOLDER / "hotline.toml").read_text("utf-8").replace('source = "hotline"', 'source = "hotline_qj"')
    with pytest.raises(Conflict, match="'hotline_qj' is read by a Python adapter"):
        check_definition_text(text, registry)
    police = check_definition_text((SHIPPED_FOLDER / "police.toml").read_text("utf-8"), registry)
    assert police.source == "police"  # a shipped definition may be updated by an installed one
    visits = text.replace('source = "hotline_qj"', 'source = "visits"')
    with pytest.raises(Conflict, match="'visits' is read by a Python adapter"):
        check_definition_text(visits, registry)
