"""What a definition says about how records arrive and how their revisions are told apart, kept by
ingest through HTTP: transport.kinds and transport.encodings refuse what the source does not send,
record.revision rule "field" decides new, unchanged and stale revisions, and a file's bad rows
(an unknown column, an empty required column, a line in neither encoding, a code outside the
table) are each refused with a reason while the good rows are stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.formats.files import write_csv
from tests.conftest import Principals, bearer
from tests.support.feeds import push, push_ok

pytestmark = pytest.mark.usefixtures("registry")

# 安全生产 (a made-up office): CSV only, UTF-8 only, a closed column list, revisions numbered in 版本号.
SAFETY = """
source = "safety"
name = "应急管理"
label = "应急"
colour = "#e8590c"
title = ["@category", "@site"]

[transport]
kinds = ["csv"]
encodings = ["utf-8"]
columns = ["检查编号", "版本号", "单位名称", "地址", "检查时间", "隐患类别", "情况"]

[record]
id = "检查编号"
revision = { rule = "field", field = "版本号" }

[fields]
name = "单位名称"
address = "地址"
description = "情况"

[fields.time]
field = "检查时间"
formats = ["%Y-%m-%d %H:%M"]

[category]
field = "隐患类别"
name = "隐患类别"
map = { "消防" = "fire", "占道" = "street_order" }
"""

# The same office's JSON push, for the revision rule through /records.
SAFETY_JSON = SAFETY.replace('kinds = ["csv"]\nencodings = ["utf-8"]', 'kinds = ["json"]')
COLUMNS = ["检查编号", "版本号", "单位名称", "地址", "检查时间", "隐患类别", "情况"]


def inspection(version: Any, text: str = "灭火器过期", **changes: Any) -> dict[str, Any]:
    row = {
        "检查编号": "AQ-1", "版本号": version, "单位名称": "沙县小吃", "地址": "闻喜路237号",
        "检查时间": "2026-11-03 14:20", "隐患类别": "消防", "情况": text,
    }  # fmt: skip
    row.update(changes)
    return row


async def department(client: httpx.AsyncClient, principals: Principals, definition: str) -> dict[str, str]:
    installed = await client.post(
        "/api/v1/feeds/definitions", json={"definition": definition}, headers=principals.admin
    )
    assert installed.status_code == 201, installed.text
    key = await client.post("/api/v1/keys", json={"role": "department", "source": "safety"}, headers=principals.admin)
    assert key.status_code == 201, key.text
    return bearer(key.json()["key"])


async def upload(client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str) -> httpx.Response:
    return await client.post("/api/v1/feeds/safety/files", files={"file": (name, data)}, headers=headers)


async def status_of(client: httpx.AsyncClient, headers: dict[str, str], record_id: str) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/feeds/safety/records/{record_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_revision_field_decides_new_unchanged_and_stale(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    safety = await department(client, principals, SAFETY_JSON)
    assert (await push_ok(client, safety, "safety", inspection(1)))[0]["status"] == "created"
    # The same 版本号 with other content is the same revision: unchanged (the content hash would say updated).
    assert (await push_ok(client, safety, "safety", inspection(1, "灭火器过期，已口头提醒")))[0][
        "status"
    ] == "unchanged"
    assert (await push_ok(client, safety, "safety", inspection("2", "已整改")))[0]["status"] == "updated"
    assert (await status_of(client, safety, "AQ-1"))["revision"] == 2
    # An older revision arriving late changes nothing; 10 comes after 9 (numbers by value, not as text).
    assert (await push_ok(client, safety, "safety", inspection(1, "迟到的旧版本")))[0]["status"] == "unchanged"
    assert (await push_ok(client, safety, "safety", inspection(9)))[0]["status"] == "updated"
    assert (await push_ok(client, safety, "safety", inspection(10)))[0]["status"] == "updated"
    records = (await client.get("/api/v1/records", params={"source": "safety"}, headers=principals.operator)).json()
    [record] = records["items"]
    assert record["revision"] == 4 and record["description"] == "灭火器过期"  # 1, 2, 9, 10: the late 1 changed nothing
    missing = await push_ok(client, safety, "safety", inspection(None, 检查编号="AQ-2"))
    assert missing[0]["status"] == "rejected"
    assert missing[0]["errors"] == [
        {"field": "版本号", "reason": "required, but missing or empty (it tells this record's revisions apart)"}
    ]


async def test_a_json_only_source_refuses_files_and_a_file_only_source_refuses_json(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    safety = await department(client, principals, SAFETY)
    pushed = await push(client, safety, "safety", inspection(1))
    assert pushed.status_code == 415
    error = pushed.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["message"].startswith("source 'safety' takes CSV files, not records pushed as JSON")
    assert error["details"][0]["field"] == "transport.kinds" and error["details"][0]["allowed"] == ["csv"]

    health = bearer(
        (
            await client.post("/api/v1/keys", json={"role": "department", "source": "health"}, headers=principals.admin)
        ).json()["key"]
    )
    data = write_csv([{"监督编号": "WS1"}], ["监督编号"])
    uploaded = await client.post("/api/v1/feeds/health/files", files={"file": ("h.csv", data)}, headers=health)
    assert uploaded.status_code == 415
    error = uploaded.json()["error"]
    assert error["message"].startswith("source 'health' takes records pushed as JSON, not files")
    assert error["details"] == [
        {"field": "file", "reason": "source 'health' takes records pushed as JSON, not files", "allowed": ["json"]}
    ]


async def test_a_file_kind_or_an_encoding_the_definition_does_not_list_is_refused(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    safety = await department(client, principals, SAFETY)
    gbk = await upload(client, safety, write_csv([inspection(1)], COLUMNS, encoding="gb18030"), "safety.csv")
    assert gbk.status_code == 422
    assert gbk.json()["error"]["details"] == [
        {
            "field": "file",
            "reason": "the CSV is in GBK/GB18030; source 'safety' takes CSV in UTF-8 only "
            "(its definition's transport.encodings)",
            "allowed": ["utf-8"],
        }
    ]
    fire = await client.post("/api/v1/keys", json={"role": "department", "source": "fire"}, headers=principals.admin)
    fire_key = bearer(fire.json()["key"])
    pushed = await push(client, fire_key, "fire", {"检查单号": "XF1"})
    assert pushed.status_code == 415 and pushed.json()["error"]["details"][0]["allowed"] == ["xlsx", "csv"]
    assert (await upload(client, safety, write_csv([inspection(1)], COLUMNS), "safety.csv")).status_code == 200


async def test_bad_rows_are_refused_each_with_its_reason_and_the_good_rows_stored(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    safety = await department(client, principals, SAFETY)
    rows = [
        inspection(1, 检查编号="AQ-GOOD-1"),
        inspection(1, 检查编号="AQ-CODE", 隐患类别="噪声"),  # a category code outside the table
        inspection(1, 检查编号="AQ-TIME", 检查时间=None),  # a required column left empty
        inspection(1, 检查编号="AQ-ENC", 情况="BADBYTES"),  # a line in neither encoding
        inspection(1, 检查编号="AQ-GOOD-2", 单位名称="鑫达洗衣店", 地址="汾西路295号"),
    ]
    data = write_csv(rows, COLUMNS).replace(b"BADBYTES", b"\x80\xff\xfe")
    report = (await upload(client, safety, data, "safety.csv")).json()
    by_line = {result["line"]: result for result in report["results"]}
    assert {line: r["status"] for line, r in by_line.items()} == {
        2: "created",
        3: "rejected",
        4: "rejected",
        5: "rejected",
        6: "created",
    }
    assert by_line[3]["errors"] == [
        {"field": "隐患类别", "reason": "unknown 隐患类别 '噪声'; expected one of: 消防, 占道"}
    ]
    assert by_line[4]["errors"] == [{"field": "检查时间", "reason": "required, but missing or empty"}]
    assert by_line[5]["errors"][0]["field"] == "(row)"
    assert by_line[5]["errors"][0]["reason"].startswith("line 5 is neither UTF-8 nor GBK/GB18030 text")

    # An unknown column: every row with a value in it names it, and a row leaving it empty is stored.
    with_extra = [{**row, "备注": "多出来的一列" if row["检查编号"] == "AQ-X1" else None} for row in rows[:1]] + [
        {**inspection(1, 检查编号="AQ-X1"), "备注": "多出来的一列"},
        {**inspection(1, 检查编号="AQ-X2"), "备注": None},
    ]
    report = (await upload(client, safety, write_csv(with_extra, [*COLUMNS, "备注"]), "safety.csv")).json()
    statuses = [(r["source_record_id"], r["status"]) for r in report["results"]]
    assert statuses == [("AQ-GOOD-1", "unchanged"), ("AQ-X1", "rejected"), ("AQ-X2", "created")]
    assert report["results"][1]["errors"][0]["field"] == "备注"
    assert report["results"][1]["errors"][0]["reason"].startswith("unknown column (a shifted or foreign export?)")

    # A required column missing from the header: no row can be read, the file is refused naming it.
    without = [{key: value for key, value in row.items() if key != "检查时间"} for row in rows[:2]]
    missing = await upload(client, safety, write_csv(without, [c for c in COLUMNS if c != "检查时间"]), "s.csv")
    assert missing.status_code == 422
    assert "missing required column(s): 检查时间" in missing.json()["error"]["message"]
