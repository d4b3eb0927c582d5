"""POST /feeds/{source}/files and `community-brain import`: CSV (GBK, UTF-8 with BOM) and XLSX, every row reported."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import Principals
from tests.support.feeds import MARKET_COLUMNS, market_row

pytestmark = pytest.mark.usefixtures("registry")

DAY = date(2026, 10, 5)
# Register entities (legal name, credit code, address) as the market regulator writes them.
HE_JUAN = ("LF-000003", "上海市静安区何娟重庆小面店", "92310106MAXM699J7C", "汾西路103号")
SUN_WEI = ("LF-000004", "上海市静安区孙伟安徽板面店", "92310106MAG3Q5GT3F", "临汾路984号")
GUO_YAN = ("LF-000006", "上海市静安区郭艳兰州拉面店", "92310106MA6YGDFT4G", "场中路858号")


def row_for(record_id: str, entity: tuple[str, str, str, str], **fields: Any) -> dict[str, str]:
    _, legal_name, uscc, address = entity
    return market_row(record_id, DAY, name=legal_name, uscc=uscc, address=address, **fields)


def csv_bytes(lines: list[list[str] | dict[str, str] | None], encoding: str) -> bytes:
    """A CSV export: the header, then each row (a dict, raw cells, or None for a blank line)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MARKET_COLUMNS)
    for line in lines:
        if line is None:
            out.write("\r\n")
        elif isinstance(line, dict):
            writer.writerow([line[c] for c in MARKET_COLUMNS])
        else:
            writer.writerow(line)
    text = out.getvalue()
    return ("\ufeff" + text).encode("utf-8") if encoding == "utf-8-sig" else text.encode(encoding)


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, filename: str, content_type: str = "text/csv"
) -> httpx.Response:
    return await client.post(
        "/api/v1/feeds/market/files", files={"file": (filename, data, content_type)}, headers=headers
    )


def rows_of(report: dict[str, Any]) -> list[tuple[int, str | None, str, set[str]]]:
    return [
        (r["line"], r["source_record_id"], r["status"], {e["field"] for e in r["errors"]}) for r in report["results"]
    ]


def accounted_for(report: dict[str, Any]) -> bool:
    s = report["summary"]
    return bool(s["read"] == len(report["results"]) == s["created"] + s["updated"] + s["unchanged"] + s["rejected"])


@pytest.mark.usefixtures("ledger_checked")
async def test_gbk_then_utf8_bom_csv_every_row_reported(client: httpx.AsyncClient, principals: Principals) -> None:
    bad_item = row_for("M3", SUN_WEI, item="卫生检查")
    bad_date = {**row_for("M4", SUN_WEI), "检查日期": "2026/13/45"}
    typo_uscc = {**row_for("M5", GUO_YAN, item="价格行为", measure="立案调查", problem="价格欺诈")}
    typo_uscc["统一社会信用代码"] = typo_uscc["统一社会信用代码"][:-1] + "0"
    first = csv_bytes(
        [
            row_for("M1", HE_JUAN),  # line 2: a problem
            row_for("M2", SUN_WEI, item="证照公示", result="符合", measure="通过"),  # 3: an inspection only
            None,  # 4: blank
            bad_item,  # 5
            bad_date,  # 6
            ["M9", *["x"] * len(MARKET_COLUMNS)],  # 7: more cells than the header names
            typo_uscc,  # 8
            row_for("M7", HE_JUAN, item="证照公示", result="符合", measure="通过"),  # 9
        ],
        "gbk",
    )
    response = await upload(client, principals.market, first, "检查记录.csv")
    assert response.status_code == 200, response.text
    report = response.json()
    assert rows_of(report) == [
        (2, "M1", "created", set()),
        (3, "M2", "created", set()),
        (5, "M3", "rejected", {"检查事项"}),
        (6, "M4", "rejected", {"检查日期"}),
        (7, None, "rejected", {"(row)"}),
        (8, "M5", "created", set()),
        (9, "M7", "created", set()),
    ]
    assert report["summary"] == {"read": 7, "created": 4, "updated": 0, "unchanged": 0, "rejected": 3}
    assert accounted_for(report) and any("4" in note for note in report["notes"])  # the blank line is named
    by_id = {r["source_record_id"]: r for r in report["results"]}
    assert by_id["M1"]["entity_id"] == HE_JUAN[0] and by_id["M1"]["incident_id"] is not None
    assert by_id["M2"]["entity_id"] == SUN_WEI[0] and by_id["M2"]["incident_id"] is None  # 通过: no incident
    assert by_id["M7"]["incident_id"] is None

    typo = (await client.get("/api/v1/records?source_record_id=M5", headers=principals.operator)).json()["items"][0]
    assert typo["uscc_valid"] is False and typo["match_method"] != "uscc"

    # The next day's export, UTF-8 with a BOM, uploaded by an operator: resent, changed, fixed and new rows.
    second = csv_bytes(
        [
            row_for("M1", HE_JUAN),  # unchanged
            row_for("M2", SUN_WEI, item="证照公示", result="基本符合", measure="通过"),  # updated, still no problem
            row_for("M3", SUN_WEI, item="证照公示", measure="限期整改"),  # fixed: created
            row_for("M7", HE_JUAN, item="证照公示", measure="限期整改", problem="营业执照未公示"),  # now a problem
            {**row_for("M8", GUO_YAN), "记录编号": ""},  # rejected: no id
        ],
        "utf-8-sig",
    )
    response = await upload(client, principals.operator, second, "export.csv", "text/csv; charset=utf-8")
    assert response.status_code == 200, response.text
    report = response.json()
    assert rows_of(report) == [
        (2, "M1", "unchanged", set()),
        (3, "M2", "updated", set()),
        (4, "M3", "created", set()),
        (5, "M7", "updated", set()),
        (6, None, "rejected", {"记录编号"}),
    ]
    assert report["summary"] == {"read": 5, "created": 1, "updated": 2, "unchanged": 1, "rejected": 1}
    assert accounted_for(report)
    by_id = {r["source_record_id"]: r for r in report["results"]}
    assert by_id["M2"]["incident_id"] is None
    assert by_id["M7"]["incident_id"] is not None  # an inspection now found wanting opens its incident

    incidents = (await client.get("/api/v1/incidents?source=market", headers=principals.operator)).json()
    placed = {r["source_record_id"] for i in incidents["items"] for r in await records_of(client, principals, i["id"])}
    assert placed == {"M1", "M3", "M5", "M7"}


async def records_of(client: httpx.AsyncClient, principals: Principals, incident_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/records?incident_id={incident_id}", headers=principals.operator)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def xlsx_bytes(rows: list[dict[str, Any]], title: str | None = "检查记录导出 2026-10-05") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "检查记录"
    book.create_sheet("说明").append(["本表由系统导出"])
    if title:
        sheet.append([title])
    sheet.append(list(MARKET_COLUMNS))
    for row in rows:
        sheet.append([row.get(c) for c in MARKET_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_rows() -> list[dict[str, Any]]:
    as_cells: list[dict[str, Any]] = []
    for row in (
        row_for("X1", HE_JUAN),
        row_for("X2", SUN_WEI, item="证照公示", result="符合", measure="通过"),
        {**row_for("X3", GUO_YAN), "处理措施": "罚款"},
        row_for("X4", GUO_YAN, item="消防安全", measure="立即停止经营", problem="灭火器过期"),
    ):
        cells: dict[str, Any] = dict(row)
        cells["检查日期"] = datetime(DAY.year, DAY.month, DAY.day)  # a date cell, as Excel stores it
        as_cells.append(cells)
    return as_cells


@pytest.mark.usefixtures("ledger_checked")
async def test_xlsx_upload_reports_excel_row_numbers(client: httpx.AsyncClient, principals: Principals) -> None:
    data = xlsx_bytes(workbook_rows())
    response = await upload(
        client,
        principals.market,
        data,
        "检查记录.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.status_code == 200, response.text
    report = response.json()
    # Row 1 holds a title, row 2 the header: data starts on Excel row 3.
    assert rows_of(report) == [
        (3, "X1", "created", set()),
        (4, "X2", "created", set()),
        (5, "X3", "rejected", {"处理措施"}),
        (6, "X4", "created", set()),
    ]
    assert accounted_for(report)
    by_id = {r["source_record_id"]: r for r in report["results"]}
    assert by_id["X2"]["incident_id"] is None and by_id["X1"]["incident_id"] is not None
    assert by_id["X4"]["entity_id"] == GUO_YAN[0]
    again = await upload(client, principals.market, data, "again.xlsx")
    assert again.json()["summary"] == {"read": 4, "created": 0, "updated": 0, "unchanged": 3, "rejected": 1}


@pytest.mark.usefixtures("ledger_checked")
async def test_files_that_are_not_an_export_are_422(client: httpx.AsyncClient, principals: Principals) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    not_exports = {
        "photo.png": png,
        "report.pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "page.xls": "<html><table><tr><td>记录编号</td></tr></table></html>".encode(),
        "fake.xlsx": b"just text pretending",
        "broken.xlsx": b"PK\x03\x04" + b"\x00" * 60,
        "empty.csv": b"",
        "other.csv": "名称,地址\n甲,乙\n".encode("gbk"),
    }
    for filename, data in not_exports.items():
        response = await upload(client, principals.market, data, filename, "application/octet-stream")
        assert response.status_code == 422, (filename, response.text)
        error = response.json()["error"]
        assert error["code"] == "unprocessable" and error["message"].startswith("the file cannot be read"), error
        assert error["details"] and error["details"][0]["field"] == "file"
    missing = await upload(client, principals.market, "名称,地址\n甲,乙\n".encode("gbk"), "other.csv")
    assert "记录编号" in missing.json()["error"]["message"]  # says which columns are missing
    listed = await client.get("/api/v1/records", headers=principals.operator)
    assert listed.json()["total"] == 0


@pytest.mark.usefixtures("ledger_checked")
async def test_who_may_upload(client: httpx.AsyncClient, principals: Principals) -> None:
    data = csv_bytes([row_for("M1", HE_JUAN)], "gbk")
    assert (await upload(client, principals.police, data, "m.csv")).status_code == 403
    assert (await upload(client, principals.display, data, "m.csv")).status_code == 403
    assert (await upload(client, principals.inspector, data, "m.csv")).status_code == 403
    no_file = await client.post("/api/v1/feeds/market/files", headers=principals.market)
    assert no_file.status_code == 422
    assert (await upload(client, principals.admin, data, "m.csv")).status_code == 200


def run_cli(args: list[str], database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CB_DATABASE_URL": database_url, "CB_DATA_DIR": str(data_dir), "CB_REDIS_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_import_of_an_xlsx_and_a_gbk_csv(database_url: str, tmp_path: Path) -> None:
    workbook = tmp_path / "检查记录.xlsx"
    workbook.write_bytes(xlsx_bytes(workbook_rows(), title=None))
    export = tmp_path / "export.csv"
    export.write_bytes(csv_bytes([row_for("C1", HE_JUAN), None, {**row_for("C2", SUN_WEI), "检查日期": ""}], "gbk"))
    done = run_cli(["import", "--source", "market", str(workbook)], database_url, tmp_path)
    assert done.returncode == 1, done.stderr  # rows were rejected; the others are kept
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        "line 2\tX1\tcreated",
        "line 3\tX2\tcreated",
        f"line 4\tX3\trejected\t处理措施: {lines[2].split(': ', 1)[1]}",
        "line 5\tX4\tcreated",
    ]
    assert "罚款" in lines[2]
    assert lines[4] == "rows read 4 = created 3 + updated 0 + unchanged 0 + rejected 1"
    again = run_cli(["import", "--source", "market", str(export)], database_url, tmp_path)
    assert again.returncode == 1, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0] == "line 2\tC1\tcreated"
    assert lines[1].startswith("line 4\tC2\trejected\t检查日期: ")
    assert lines[2:] == [
        "rows read 2 = created 1 + updated 0 + unchanged 0 + rejected 1",
        "1 blank line(s) skipped: [3]",
    ]
