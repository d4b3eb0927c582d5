"""The adapter docs/adapters.md shows for a fourth source ("Adding a fourth source") runs as written."""

from __future__ import annotations

import re
import textwrap
from types import ModuleType

import pytest

from service.formats.fields import RecordRejected
from tests.support.data import REPO


def example_adapter() -> ModuleType:
    doc = (REPO / "docs" / "adapters.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Adding a fourth source") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the section shows no Python module"
    module = ModuleType("hotline_example")
    exec(compile(textwrap.dedent(found.group(1)), "docs/adapters.md", "exec"), module.__dict__)
    return module


def test_the_documented_adapter_reads_a_work_order() -> None:
    hotline = example_adapter()
    record = hotline.parse({"gdbh": "G1", "ldsj": "2026-10-01 10:00:00", "gdlx": "噪音扰民", "dz": "临汾路1号"})
    assert (record.source, record.source_record_id, record.category) == ("hotline_qj", "G1", "noise")
    assert record.occurred_at.isoformat() == "2026-10-01T02:00:00+00:00"


def test_the_documented_adapter_names_every_bad_field() -> None:
    hotline = example_adapter()
    with pytest.raises(RecordRejected) as rejected:
        hotline.parse({"gdbh": "G2", "ldsj": "yesterday", "gdlx": "?"})
    assert [error.field for error in rejected.value.errors] == ["ldsj", "gdlx"]
