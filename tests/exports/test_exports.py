"""CSV exports for operators: filters, encodings, access, and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import select, update

from service.incidents.models import Incident
from service.records.models import SourceRecord
from service.state import AppState
from tests.conftest import Principals
from tests.support.feeds import push
from tests.support.records import at, city_case, police_call

FORMULA_STARTS = "=+-@\t\r"
# What an attacker puts into a department record, hoping an operator opens the export in Excel.
PAYLOADS = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=cmd|' /C calc'!A0", "\r=cmd|' /C calc'!A0", "  =HYPERLINK(\"http://evil\",\"点我\")"]  # fmt: skip


def read_csv(response: httpx.Response, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode(encoding), newline="")))


def assert_no_formula_cells(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert cell.lstrip(" ")[:1] not in FORMULA_STARTS or not cell, f"{column} = {cell!r} would run"


@pytest.fixture
async def poisoned(client: httpx.AsyncClient, principals: Principals, state: AppState) -> None:
    calls = [
        police_call(f"F{n}", at(n * 6000), dwmc=payload, afdz=payload, bjnr=payload)  # 100 h apart: an incident each
        for n, payload in enumerate(PAYLOADS)
    ]
    response = await push(client, principals.police, "police", calls)
    assert {r["status"] for r in response.json()["results"]} == {"created"}, response.text
    case = city_case("C1", description="=cmd|' /C calc'!A0", shopName="=1+1")
    assert (await push(client, principals.city, "city", case)).status_code == 200
    # Adapters trim text, so a leading tab or CR never arrives that way; the export must not rely on it.
    async with state.db.transaction() as uow:
        for source_record_id, title in (("F4", "\t=cmd|' /C calc'!A0"), ("F5", "\r=cmd|' /C calc'!A0")):
            await uow.session.execute(
                update(SourceRecord).where(SourceRecord.source_record_id == source_record_id).values(title=title)
            )
            await uow.session.execute(
                update(Incident)
                .where(
                    Incident.id
                    == select(SourceRecord.incident_id)
                    .where(SourceRecord.source_record_id == source_record_id)
                    .scalar_subquery()
                )
                .values(title=title)
            )


@pytest.mark.usefixtures("poisoned")
async def test_every_formula_start_is_neutralised_in_records(client: httpx.AsyncClient, principals: Principals) -> None:
    rows = read_csv(await client.get("/api/v1/exports/records.csv", headers=principals.operator))
    assert len(rows) == len(PAYLOADS) + 1
    assert_no_formula_cells(rows)
    by_id = {row["source_record_id"]: row for row in rows}
    for n, payload in enumerate(PAYLOADS):
        row = by_id[f"F{n}"]
        assert row["description"] == "'" + payload.strip()  # kept whole (as the adapter trims it), shown as text
        assert row["name"].startswith("'") and row["address"].startswith("'")
    assert by_id["F4"]["title"] == "'\t=cmd|' /C calc'!A0" and by_id["F5"]["title"] == "'\r=cmd|' /C calc'!A0"
    assert by_id["C1"]["description"] == "'=cmd|' /C calc'!A0" and by_id["C1"]["name"] == "'=1+1"


@pytest.mark.usefixtures("poisoned")
async def test_every_formula_start_is_neutralised_in_incidents(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    rows = read_csv(await client.get("/api/v1/exports/incidents.csv", headers=principals.admin))
    assert len(rows) == len(PAYLOADS) + 1
    assert_no_formula_cells(rows)
    assert any(row["address"] == "'=cmd|' /C calc'!A0" for row in rows)
    assert {"'\t=cmd|' /C calc'!A0", "'\r=cmd|' /C calc'!A0"} <= {row["title"] for row in rows}


@pytest.mark.usefixtures("poisoned")
async def test_filters_and_gb18030(client: httpx.AsyncClient, principals: Principals) -> None:
    police = read_csv(
        await client.get(
            "/api/v1/exports/records.csv", params={"source": "police", "limit": 3}, headers=principals.operator
        )
    )
    assert len(police) == 3 and {row["source"] for row in police} == {"police"}
    open_city = read_csv(
        await client.get(
            "/api/v1/exports/incidents.csv",
            params={"source": "city", "status": "open", "encoding": "gb18030"},
            headers=principals.operator,
        ),
        encoding="gb18030",
    )
    assert len(open_city) == 1 and open_city[0]["sources"] == "city" and open_city[0]["category_name"] == "市容环境"
    unknown = await client.get("/api/v1/exports/incidents.csv", params={"status": "lost"}, headers=principals.operator)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "status"


@pytest.mark.usefixtures("poisoned")
async def test_exports_carry_no_personal_data(client: httpx.AsyncClient, principals: Principals) -> None:
    text = (await client.get("/api/v1/exports/records.csv", headers=principals.operator)).text
    assert "13912345678" not in text and "payload" not in text and "bjrdh" not in text


@pytest.mark.parametrize("who", ["inspector", "police", "display"])
async def test_only_operators_export(client: httpx.AsyncClient, principals: Principals, who: str) -> None:
    for path in ("/api/v1/exports/records.csv", "/api/v1/exports/incidents.csv"):
        assert (await client.get(path, headers=getattr(principals, who))).status_code == 403
        assert (await client.get(path)).status_code == 401
