"""community-brain feeds check: a dry run that writes nothing and says how every row reads and links."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.formats.files import write_csv

DEFINITIONS = Path(__file__).resolve().parents[2] / "service" / "feeds" / "definitions" / "shipped"

REGISTER = [
    {"entity_id": "LF-000001", "kind": "shop", "name": "好运来饭店", "legal_name": "上海好运来餐饮有限公司",
     "uscc": "", "address": "临汾路1号", "lat": "31.297083", "lng": "121.455159"},
    {"entity_id": "LF-000002", "kind": "shop", "name": "小朱便利店", "legal_name": "", "uscc": "",
     "address": "临汾路46号", "lat": "31.301223", "lng": "121.444758"},
]  # fmt: skip
FIRE_COLUMNS = [
    "检查单号",
    "单位名称",
    "地址",
    "统一社会信用代码",
    "检查时间",
    "隐患描述",
    "隐患等级",
    "整改期限",
    "复查结果",
]
FIRE_ROWS = [
    ["XF001", "好运来饭店", "临汾路1号", "", "2026-11-03 14:20", "灭火器过期", "重大", "2026/11/20", "未复查"],
    ["XF002", "小朱便利店", "临汾路46号", "", "2026/11/3", "", "无", "", "未复查"],
    ["XF003", "无名小店", "某路999号", "", "11/3/2026", "疏散通道堵塞", "很大", "", "未复查"],
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["feeds", "check", *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def register(tmp_path: Path) -> Path:
    path = tmp_path / "registry.csv"
    columns = ["entity_id", "kind", "name", "legal_name", "uscc", "address", "lat", "lng"]
    path.write_bytes(write_csv(REGISTER, columns))
    return path


def test_a_fire_export_row_by_row_then_a_summary(
    tmp_path: Path, register: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no database here: the check must not create one
    sample = tmp_path / "fire.csv"
    rows = [dict(zip(FIRE_COLUMNS, row, strict=True)) for row in FIRE_ROWS]
    sample.write_bytes(
        ("消防监督检查记录 2026年11月\r\n").encode("gb18030") + write_csv(rows, FIRE_COLUMNS, encoding="gb18030")
    )
    code, out, err = run(capsys, str(DEFINITIONS / "fire.toml"), str(sample), "--registry", str(register))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "fire · 消防救援 (消防) — dry run, nothing is written"
    assert "  note: header on line 2; columns: 检查单号, 单位名称" in out
    xf1 = next(line for line in lines if line.startswith("line 3\tXF001\tok"))
    assert "fire/high\tproblem: opens or joins an incident\t→ LF-000001 好运来饭店 (" in xf1
    xf2 = next(line for line in lines if line.startswith("line 4\tXF002\tok"))
    assert "fire/low\tnot a problem: kept in the file\t→ LF-000002 小朱便利店" in xf2
    xf3 = next(line for line in lines if line.startswith("line 5\tXF003\tREJECTED"))
    assert "检查时间: not a time in YYYY-MM-DD HH:mm or YYYY/MM/DD: '11/3/2026'" in xf3
    assert "隐患等级: unknown value '很大'" in xf3
    assert "  rows read 3: parsed 2, rejected 1" in lines
    assert "  problems (would open or join incidents) 1, not problems 1" in lines
    assert not list(tmp_path.glob("var*")), "the dry run wrote a database"


def test_json_lines_without_a_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sample = tmp_path / "health.jsonl"
    sample.write_text(
        '{"监督编号": "WS1", "机构名称": "临汾路小学", "机构类别": "学校食堂", '
        '"监督日期": "2026-11-03", "监督结果": "合格"}\n'
        '{"监督编号": "WS2", "机构名称": "某诊所", "机构类别": "美容院", '
        '"监督日期": "2026-11-03", "监督结果": "不合格"}\n',
        "utf-8",
    )
    code, out, _ = run(capsys, str(DEFINITIONS / "health.toml"), str(sample))
    assert code == 0
    assert (
        "line 1\tWS1\tok\t2026-11-02T16:00:00Z\tfood/low\tnot a problem: kept in the file\tlink: (no register)" in out
    )
    assert "line 2\tWS2\tREJECTED\t机构类别: unknown value '美容院'" in out
    assert "no register in the database" in out


def test_a_definition_with_three_mistakes_is_a_readable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DEFINITIONS / "health.toml").read_text("utf-8")
    text = text.replace('"学校食堂" = "food"', '"学校食堂" = "foood"').replace('datum = "BD-09"', 'datum = "BD09"')
    text = text.replace('[record]\nid = "监督编号"', '[record]\nid = "监督编号"\nrevison = "content_hash"')
    definition = tmp_path / "health.toml"
    definition.write_text(text, "utf-8")
    sample = tmp_path / "sample.json"
    sample.write_text("[]", "utf-8")
    code, out, err = run(capsys, str(definition), str(sample))
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"{definition}: 3 mistakes in the definition",
        "  record.revison: unknown key (misspelt, or not part of the format)",
        "  fields.coordinates.datum: 'BD09': input should be 'WGS-84', 'GCJ-02' or 'BD-09'",
        "  category.map.学校食堂: unknown category 'foood'; the unified categories are: food, licence, price, "
        "street_order, appearance, waste, noise, fire, order, traffic, other",
    ]


def test_an_unreadable_sample_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = tmp_path / "fire.csv"
    sample.write_bytes(b"\xff\xfe\x00\x00garbage\x81\x82")
    code, _, err = run(capsys, str(DEFINITIONS / "fire.toml"), str(sample))
    assert code == 2 and "the sample cannot be read" in err and "Traceback" not in err
