"""Every route against every role (docs/http-api.md, "Roles"): who may call what, in one table.

The table is checked against the app's routes in both directions: a route added without a row
here fails the test, and so does a row whose route is gone. Every answer is also searched for the
raw caller phones of the police sample: personal data never leaves the service.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service.main import create_app
from service.settings import Settings
from service.web import APP_DIR
from tests.conftest import PASSWORD, Principals
from tests.support.feeds import push
from tests.support.images import png
from tests.support.records import police_call, raw_phones, sample_police_calls
from tests.support.servers import serve_in_loop

ROLES = ("admin", "operator", "inspector", "police", "market", "display", "anonymous")
PAGE = 200 if (APP_DIR / "index.html").is_file() else 503  # a screen's shell; its data needs a token
PNG = png()  # a real one: uploads are decoded whole
POLICE_CSV = (
    "jjdbh,bjsj,bjtj,bjlbdm,bjlb,afdz,dwmc,bjnr,gxdw,jqzt,bjrdh\n"
    "CSV-1,2026-10-05 09:00:00,110电话,0202,噪声扰民,临汾路46号,,噪声,临汾路派出所,待派警,13900001111\n"
).encode()


@dataclass(frozen=True)
class Row:
    """One route: the request that exercises it, and the status each role gets, in ROLES order."""

    method: str
    route: str
    statuses: tuple[int, ...]
    path: str = ""  # the route with its parameters filled from World; defaults to the route itself
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    params: dict[str, str] = field(default_factory=dict)


def row(method: str, route: str, statuses: str, **request: Any) -> Row:
    codes = tuple(int(code) for code in statuses.split())
    assert len(codes) == len(ROLES), f"{method} {route}: {len(codes)} statuses for {len(ROLES)} roles"
    return Row(method, route, codes, **request)


MATRIX_DEFINITION = """
source = "matrix"
name = "矩阵测试"
label = "矩阵"
colour = "#123456"
[transport]
kinds = ["json"]
[record]
id = "id"
[fields.time]
field = "time"
[category]
fixed = "other"
"""

ALL_PAGE = " ".join([str(PAGE)] * len(ROLES))
I = "/api/v1/incidents/{incident}"  # noqa: E741 - the incident everyone is tested against

# fmt: off
#                                                               admin oper insp police market display anon
TABLE: list[Row] = [
    row("POST", "/api/v1/auth/token",                            "200 200 200 200 200 200 200",
        data={"username": "op", "password": PASSWORD}),
    row("POST", "/api/v1/auth/ws-ticket",                        "200 200 200 200 200 200 401"),
    row("GET", "/api/v1/auth/me",                                "200 200 200 200 200 200 401"),
    row("GET", "/api/v1/users",                                  "200 200 403 403 403 403 401"),
    row("POST", "/api/v1/users",                                 "201 403 403 403 403 403 401",
        json={"username": "matrix-user", "role": "inspector", "password": "long-enough-password"}),
    row("PATCH", "/api/v1/users/{username}",                     "200 403 403 403 403 403 401",
        path="/api/v1/users/insp2", json={"active": True}),
    row("POST", "/api/v1/keys",                                  "201 403 403 403 403 403 401",
        json={"role": "display"}),
    row("GET", "/api/v1/keys",                                   "200 403 403 403 403 403 401"),
    row("DELETE", "/api/v1/keys/{key_id}",                       "204 403 403 403 403 403 401",
        path="/api/v1/keys/{spare_key}"),
    row("GET", "/api/v1/entities",                               "200 200 200 403 403 403 401"),
    row("GET", "/api/v1/entities/{entity_id}",                   "200 200 200 403 403 403 401",
        path="/api/v1/entities/{entity}"),
    row("POST", "/api/v1/entities",                              "201 201 403 403 403 403 401",
        json={"name": "矩阵测试店"}),
    row("PATCH", "/api/v1/entities/{entity_id}",                 "200 200 403 403 403 403 401",
        path="/api/v1/entities/{entity}", json={"community": "临汾"}),
    row("GET", "/api/v1/map/entities",                           "200 200 200 403 403 200 401"),
    row("POST", "/api/v1/feeds/{source}/records",                "403 403 403 200 403 403 401",
        path="/api/v1/feeds/police/records", json=police_call("MATRIX-1")),
    row("POST", "/api/v1/feeds/{source}/files",                  "200 200 403 200 403 403 401",
        path="/api/v1/feeds/police/files", files={"file": ("police.csv", POLICE_CSV, "text/csv")}),
    # The visit log's own push: its department key only (tests/visits); no key of this table is it.
    row("POST", "/api/v1/feeds/visits/records",                  "403 403 403 403 403 403 401",
        json={"走访编号": "MATRIX-V1"}),
    row("GET", "/api/v1/visits",                                 "200 200 403 403 403 403 401"),
    row("GET", "/api/v1/feeds/{source}/records/{source_record_id:path}", "200 200 403 200 403 403 401",
        path="/api/v1/feeds/police/records/{police_record}"),
    row("POST", "/api/v1/feeds/definitions",                     "201 403 403 403 403 403 401",
        json={"definition": MATRIX_DEFINITION}),
    row("PUT", "/api/v1/feeds/definitions/{source}",             "200 403 403 403 403 403 401",
        path="/api/v1/feeds/definitions/matrix", json={"definition": MATRIX_DEFINITION.replace("#123456", "#654321")}),
    row("POST", "/api/v1/feeds/definitions/{source}/restore",    "201 403 403 403 403 403 401",
        path="/api/v1/feeds/definitions/matrix/restore", json={"version": 1}),
    row("GET", "/api/v1/feeds/definitions/{source}/versions",    "200 403 403 403 403 403 401",
        path="/api/v1/feeds/definitions/matrix/versions"),
    row("GET", "/api/v1/sources",                                "200 200 200 200 200 200 401"),
    row("GET", "/api/v1/records",                                "200 200 403 403 403 403 401"),
    row("POST", "/api/v1/records/{record_id}/link",              "200 200 403 403 403 403 401",
        path="/api/v1/records/{record}/link", json={"entity_id": "{entity}"}),
    row("GET", "/api/v1/incidents",                              "200 200 200 403 403 200 401"),
    row("GET", "/api/v1/incidents/{incident_id}",                "200 200 200 403 403 200 401", path=I),
    row("POST", "/api/v1/incidents/{incident_id}/status",        "409 409 409 403 403 403 401",
        path=I + "/status", json={"status": "in_progress", "expected_version": 999_999}),
    row("POST", "/api/v1/incidents/{incident_id}/assign",        "200 200 403 403 403 403 401",
        path=I + "/assign", json={"assignee": "insp"}),
    row("POST", "/api/v1/incidents/{incident_id}/notes",         "201 201 201 403 403 403 401",
        path=I + "/notes", json={"text": "现场已核实"}),
    row("POST", "/api/v1/incidents/{incident_id}/attachments",   "201 201 201 403 403 403 401",
        path=I + "/attachments", files={"file": ("photo.png", PNG, "image/png")}),
    row("GET", "/api/v1/incidents/{incident_id}/attachments/{attachment_id}", "200 200 200 403 403 403 401",
        path=I + "/attachments/{attachment}"),
    row("POST", "/api/v1/incidents/{incident_id}/merge",         "422 422 403 403 403 403 401",
        path=I + "/merge", json={"into": "{incident}"}),
    row("GET", "/api/v1/events",                                 "200 200 200 403 403 200 401"),
    row("GET", "/api/v1/ledger/verify",                          "200 403 403 403 403 403 401"),
    row("GET", "/api/v1/stats",                                  "200 200 200 403 403 200 401"),
    row("GET", "/api/v1/painpoints",                             "200 200 200 403 403 200 401"),
    row("GET", "/api/v1/webhooks",                               "200 403 403 403 403 403 401"),
    row("GET", "/api/v1/webhooks/deliveries",                    "200 403 403 403 403 403 401"),
    row("POST", "/api/v1/webhooks/deliveries/{outbox_id}/retry", "404 403 403 403 403 403 401",
        path="/api/v1/webhooks/deliveries/999999/retry"),
    row("PUT", "/api/v1/webhooks/{source}",                      "200 403 403 403 403 403 401",
        path="/api/v1/webhooks/market", json={"url": "https://market.example.org/hook"}),
    row("DELETE", "/api/v1/webhooks/{source}",                   "204 403 403 403 403 403 401",
        path="/api/v1/webhooks/market"),
    row("GET", "/api/v1/exports/incidents.csv",                  "200 200 403 403 403 403 401"),
    row("GET", "/api/v1/exports/records.csv",                    "200 200 403 403 403 403 401"),
    row("GET", "/healthz",                                       "200 200 200 200 200 200 200"),
    row("GET", "/readyz",                                        "200 200 200 200 200 200 200"),
    row("GET", "/metrics",                                       "200 200 200 200 200 200 200"),
    row("GET", "/openapi.json",                                  "200 200 200 200 200 200 200"),
    row("GET", "/docs",                                          "200 200 200 200 200 200 200"),
    row("GET", "/docs/oauth2-redirect",                          "200 200 200 200 200 200 200"),
    row("GET", "/redoc",                                         "200 200 200 200 200 200 200"),
    row("GET", "/",                                              "307 307 307 307 307 307 307"),
    row("GET", "/wall",                                          ALL_PAGE),
    row("GET", "/login",                                         ALL_PAGE),
    row("GET", "/console",                                       ALL_PAGE),
    row("GET", "/inspector",                                     ALL_PAGE),
    row("GET", "/entities/{entity_id}",                          ALL_PAGE, path="/entities/{entity}"),
    row("MOUNT", "/assets",                                      "404 404 404 404 404 404 404",
        path="/assets/missing.js"),
    # A WebSocket: 101 when the handshake is accepted, 403 when it is refused.
    row("WS", "/ws/live",                                        "101 101 101 403 403 101 403"),
]
# fmt: on
OPTIONAL = {("MOUNT", "/assets")}  # only there when the frontend is built


@dataclass
class World:
    """What the requests refer to, made once through the API."""

    entity: str
    incident: int
    record: int
    police_record: str
    attachment: int
    spare_key: str  # the id of a key no role of the table uses: revoking it takes no one's access away
    phones: set[str]

    def fill(self, text: str) -> str:
        for name, value in vars(self).items():
            text = text.replace(f"{{{name}}}", str(value))
        return text

    def fill_json(self, value: Any) -> Any:
        """The body with its placeholders filled; a placeholder alone keeps the value's type."""
        if isinstance(value, str):
            whole = value.strip("{}")
            return getattr(self, whole) if value == f"{{{whole}}}" and hasattr(self, whole) else self.fill(value)
        if isinstance(value, dict):
            return {key: self.fill_json(inner) for key, inner in value.items()}
        return value


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        kind = type(context.original_route).__name__
        if kind == "Mount":
            routes.add(("MOUNT", context.path or ""))
        elif "WebSocket" in kind:
            routes.add(("WS", context.path or ""))
        else:
            routes.update((method, context.path or "") for method in context.methods or () if method != "HEAD")
    return routes


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_rate_per_ip": 1000, "login_rate_per_user": 1000})


@pytest.fixture
async def world(client: httpx.AsyncClient, principals: Principals) -> World:
    calls = sample_police_calls(30)
    pushed = await push(client, principals.police, "police", calls)
    assert pushed.status_code == 200 and pushed.json()["summary"]["rejected"] == 0, pushed.text
    first = pushed.json()["results"][0]
    entity = (await client.post("/api/v1/entities", json={"name": "矩阵店"}, headers=principals.operator)).json()["id"]
    assigned = await client.post(
        f"/api/v1/incidents/{first['incident_id']}/assign", json={"assignee": "insp"}, headers=principals.operator
    )
    assert assigned.status_code == 200, assigned.text
    photo = await client.post(
        f"/api/v1/incidents/{first['incident_id']}/attachments",
        files={"file": ("photo.png", PNG, "image/png")},
        headers=principals.operator,
    )
    assert photo.status_code == 201, photo.text
    spare = await client.post("/api/v1/keys", json={"role": "display"}, headers=principals.admin)
    assert spare.status_code == 201, spare.text
    return World(
        entity=entity,
        incident=first["incident_id"],
        record=first["record_id"],
        police_record=first["source_record_id"],
        attachment=photo.json()["id"],
        spare_key=spare.json()["key"].split("_")[1],
        phones=raw_phones(calls) | {"13912345678", "13900001111"},
    )


def test_the_table_covers_every_route_and_no_more(tmp_path: Path) -> None:
    table = {(r.method, r.route) for r in TABLE}
    routes = app_routes(create_app(Settings(data_dir=tmp_path)))  # routes only: no database is opened
    assert not routes - table, f"routes without an expected row in TABLE: {sorted(routes - table)}"
    assert not (table - routes) - OPTIONAL, f"rows for routes that are gone: {sorted((table - routes) - OPTIONAL)}"
    assert len(table) == len(TABLE), "a route has two rows"


async def test_every_route_against_every_role(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, world: World
) -> None:
    routes = app_routes(app)
    headers = {role: getattr(principals, role) for role in ROLES if role != "anonymous"} | {"anonymous": {}}
    wrong: list[str] = []
    leaked: list[str] = []
    for r in TABLE:
        if r.method == "WS" or (r.method, r.route) not in routes:
            continue
        for role, expected in zip(ROLES, r.statuses, strict=True):
            response = await client.request(
                "GET" if r.method == "MOUNT" else r.method,
                world.fill(r.path or r.route),
                headers=headers[role],
                json=world.fill_json(r.json) if r.json is not None else None,
                data=r.data,
                files=r.files,
            )
            if response.status_code != expected:
                wrong.append(f"{r.method} {r.route} as {role}: {response.status_code}, expected {expected}")
            if any(phone in response.text for phone in world.phones):
                leaked.append(f"{r.method} {r.route} as {role}")
    assert not wrong, "\n".join(wrong)
    assert not leaked, f"raw caller phones in: {leaked}"
    keys = (await client.get("/api/v1/keys", headers=principals.admin)).json()["items"]
    assert {k["key_id"]: k["active"] for k in keys}[world.spare_key] is False  # revoked by the admin's DELETE


async def test_websocket_needs_a_valid_token_of_a_reading_role(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, world: World
) -> None:
    [ws_row] = [r for r in TABLE if r.method == "WS"]
    tokens = {
        role: getattr(principals, role)["Authorization"].split(" ", 1)[1] for role in ROLES if role != "anonymous"
    }
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=principals.display)).json()["ticket"]
    async with serve_in_loop(app) as address:
        attempts = [(role, f"?token={tokens[role]}" if role in tokens else "", expected)
                    for role, expected in zip(ROLES, ws_row.statuses, strict=True)]  # fmt: skip
        attempts += [
            ("a forged token", "?token=eyJhbGciOiJIUzI1NiJ9.e30.forged", 403),
            ("a made-up key", "?token=cbk_000000000000_madeup", 403),
            ("an access token used as a ticket", f"?ticket={tokens['admin']}", 403),
            ("a display ws-ticket", f"?ticket={ticket}", 101),
        ]
        for who, query, expected in attempts:
            try:
                async with connect(f"ws://{address}/ws/live{query}", open_timeout=5) as ws:
                    first = json.loads(await ws.recv())
                status = 101
                assert first["type"] == "snapshot"
                assert not any(phone in json.dumps(first, ensure_ascii=False) for phone in world.phones)
            except InvalidStatus as refused:
                status = refused.response.status_code
            assert status == expected, f"/ws/live as {who}: {status}, expected {expected}"


async def test_inspectors_act_only_on_their_own_incidents(
    client: httpx.AsyncClient, principals: Principals, world: World
) -> None:
    other = principals.inspector2  # world.incident is assigned to "insp", not to "insp2"
    incident = f"/api/v1/incidents/{world.incident}"
    version = (await client.get(incident, headers=principals.inspector)).json()["version"]
    assert (await client.get(incident, headers=other)).status_code == 403
    changed = await client.post(
        f"{incident}/status", json={"status": "in_progress", "expected_version": version}, headers=other
    )
    assert changed.status_code == 403
    assert (await client.post(f"{incident}/notes", json={"text": "x"}, headers=other)).status_code == 403
    listed = (await client.get("/api/v1/incidents", headers=other)).json()
    assert listed["total"] == 0  # an inspector's list holds only their own
    own = await client.post(
        f"{incident}/status", json={"status": "in_progress", "expected_version": version}, headers=principals.inspector
    )
    assert own.status_code == 200, own.text


async def _next_messages(ws: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` messages that are not pings."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(out) < count:
            message = json.loads(await ws.recv())
            if message["type"] != "ping":
                out.append(message)
    return out


async def test_inspectors_read_only_their_own_incidents_everywhere(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, world: World
) -> None:
    """The events, the entity file and the live stream (ticket or token) show an inspector only the
    incidents assigned to them; one given to someone else leaves their stream with a removal."""
    op, insp, insp2 = principals.operator, principals.inspector, principals.inspector2
    api = "/api/v1"

    async def act(path: str, body: dict[str, Any]) -> httpx.Response:
        response = await client.post(api + path, json=body, headers=op)
        assert response.status_code in (200, 201), response.text
        return response

    # Two more incidents at one entity: one for each inspector. Different categories never merge.
    records = (await client.get(f"{api}/records", params={"limit": 500}, headers=op)).json()["items"]
    chosen: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["incident_id"] not in (None, world.incident) and record["is_problem"]:
            chosen.setdefault(record["category"], record)
    first, second = list(chosen.values())[:2]
    linked = [(await act(f"/records/{r['id']}/link", {"entity_id": world.entity})).json() for r in (first, second)]
    theirs_then = linked[1]["incident_id"]
    mine_too = linked[0]["incident_id"]
    assert None not in (mine_too, theirs_then) and mine_too != theirs_then
    await act(f"/incidents/{mine_too}/assign", {"assignee": "insp"})
    await act(f"/incidents/{theirs_then}/assign", {"assignee": "insp2"})
    private = "只有insp该看到的备注"
    await act(f"/incidents/{world.incident}/notes", {"text": private})

    # GET /events: every event of their own incidents, nothing of anyone else's.
    def page(headers: dict[str, str]) -> Any:
        return client.get(f"{api}/events", params={"limit": 5000}, headers=headers)

    everything = (await page(op)).json()
    for headers, own in ((insp, {world.incident, mine_too}), (insp2, {theirs_then})):
        seen = (await page(headers)).json()
        assert seen["events"] == [e for e in everything["events"] if e["incident_id"] in own]
        assert seen["head_seq"] == everything["head_seq"]
    assert private not in (await page(insp2)).text

    # GET /entities/{id}: only their incidents, those incidents' records and their timeline.
    for headers, own in ((op, {mine_too, theirs_then}), (insp, {mine_too}), (insp2, {theirs_then})):
        file = (await client.get(f"{api}/entities/{world.entity}", headers=headers)).json()
        assert {i["id"] for i in file["incidents"]} == own
        assert {r["incident_id"] for r in file["records"]} == own
        assert {t["incident_id"] for t in file["timeline"]} == own

    # GET /users: the roster is for whoever assigns work.
    assert (await client.get(f"{api}/users", headers=insp)).status_code == 403

    # The live stream: insp by ticket, insp2 by token.
    ticket = (await client.post(f"{api}/auth/ws-ticket", headers=insp)).json()["ticket"]
    token = insp2["Authorization"].split(" ", 1)[1]
    async with serve_in_loop(app) as address:
        async with connect(f"ws://{address}/ws/live?ticket={ticket}") as mine, \
                connect(f"ws://{address}/ws/live?token={token}") as other:  # fmt: skip
            [snapshot] = await _next_messages(mine, 1)
            [other_snapshot] = await _next_messages(other, 1)
            assert {i["id"] for i in snapshot["incidents"]} == {world.incident, mine_too}
            assert {i["id"] for i in other_snapshot["incidents"]} == {theirs_then}
            await act(f"/incidents/{world.incident}/notes", {"text": private})
            await act(f"/incidents/{world.incident}/assign", {"assignee": "insp2"})  # insp loses it
            await act(f"/incidents/{theirs_then}/notes", {"text": "insp2 的任务"})
            await act(f"/incidents/{mine_too}/notes", {"text": "insp 的任务"})
            got = await _next_messages(mine, 3)
            other_got = await _next_messages(other, 2)
        note, removed, later = got
        assert (note["type"], note["incident"]["id"], note["event"]["data"]) == (
            "event",
            world.incident,
            {"text": private},
        )
        assert removed == {"type": "removed", "seq": note["seq"] + 1, "incident_id": world.incident}
        assert (later["type"], later["incident"]["id"]) == ("event", mine_too)
        given, own_note = other_got
        assert given["seq"] == removed["seq"] and given["event"]["type"] == "assigned"
        assert given["incident"]["id"] == world.incident and given["incident"]["assignee"] == "insp2"
        assert own_note["incident"]["id"] == theirs_then
        assert private not in json.dumps(other_snapshot, ensure_ascii=False) + json.dumps(other_got, ensure_ascii=False)

        # Resuming from the ledger (the hub's memory gone) gives the same: the removal in its seq's place.
        hub = app.state.cb.hub
        hub.recent.clear()
        ticket = (await client.post(f"{api}/auth/ws-ticket", headers=insp)).json()["ticket"]
        query = f"ticket={ticket}&since={note['seq']}&epoch={snapshot['epoch']}"
        async with connect(f"ws://{address}/ws/live?{query}") as resumed:
            assert await _next_messages(resumed, 2) == [removed, later]


async def test_department_keys_see_only_their_own_records_status(
    client: httpx.AsyncClient, principals: Principals, world: World
) -> None:
    own = await client.get(f"/api/v1/feeds/police/records/{world.police_record}", headers=principals.police)
    assert own.status_code == 200 and set(own.json()) == {
        "source", "source_record_id", "record_id", "revision", "received_at", "entity_id", "incident",
        "department_status", "department_reply",
    }  # fmt: skip
    for path in ("/api/v1/records", "/api/v1/incidents", "/api/v1/events", "/api/v1/entities",
                 f"/api/v1/incidents/{world.incident}", "/api/v1/stats", "/api/v1/exports/records.csv"):  # fmt: skip
        for department in (principals.police, principals.market, principals.city):
            assert (await client.get(path, headers=department)).status_code == 403, path
    for department in (principals.market, principals.city):
        other = await client.get(f"/api/v1/feeds/police/records/{world.police_record}", headers=department)
        assert other.status_code == 403
    # A department writes only its own source, whatever the body says.
    assert (await push(client, principals.market, "police", police_call("X-1"))).status_code == 403
