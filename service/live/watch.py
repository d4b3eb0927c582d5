"""`community-brain watch`: the reference client of the live stream, the logic the wall screen mirrors.

    community-brain watch --url http://127.0.0.1:8000 --key <display or operator key> [--grid G] …

It trades the key for a short-lived ticket, connects, prints one line per event, and remembers
where it is (epoch + last seq). Whenever the connection ends — closed, refused, 4008 for
reading too slowly, or 45 s without an event or a ping — it gets a new ticket and reconnects
with `since`, with backoff, forever. The server answers with the missed events, or with a fresh
snapshot when it cannot replay (another epoch, too far behind).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from service.incidents.lifecycle import TERMINAL_STATUSES
from service.kit.clock import SHANGHAI

SILENCE_LIMIT_S = 45.0  # docs/live-stream.md: no event and no ping for this long → reconnect
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class CredentialRefused(Exception):
    """The key was refused: retrying will not help."""


@dataclass
class StreamCursor:
    """What a client keeps between connections: which history it follows and the last seq it has."""

    epoch: str | None = None
    since: int | None = None
    open_incidents: dict[int, dict[str, Any]] = field(default_factory=dict)

    def resume_params(self) -> dict[str, str]:
        if self.epoch is None or self.since is None:
            return {}
        return {"since": str(self.since), "epoch": self.epoch}

    def apply(self, message: dict[str, Any]) -> str | None:
        """Take one message; return the line to show for it, if any."""
        kind = message.get("type")
        if kind == "snapshot":
            self.epoch, self.since = message["epoch"], message["seq"]
            self.open_incidents = {incident["id"]: incident for incident in message["incidents"]}
            return f"snapshot at seq {self.since} (epoch {self.epoch[:8]}): {len(self.open_incidents)} open incidents"
        if kind == "event":
            seq = message["seq"]
            if self.since is not None and seq <= self.since:
                return None  # never sent twice by the server; ignored should it happen
            self.since = seq
            incident = message.get("incident")
            if isinstance(incident, dict) and "id" in incident:
                if incident.get("status") in TERMINAL_STATUSES:
                    self.open_incidents.pop(incident["id"], None)
                else:
                    self.open_incidents[incident["id"]] = incident
            return event_line(message)
        if kind == "removed":  # an inspector's task given to someone else: it leaves this client's view
            seq = message["seq"]
            if self.since is not None and seq <= self.since:
                return None
            self.since = seq
            self.open_incidents.pop(message["incident_id"], None)
            return f"#{seq} incident #{message['incident_id']} is no longer yours"
        if kind == "ping":
            # Everything up to the ping's seq that is meant for us has been sent: a safe resume point.
            if self.since is not None and message["seq"] > self.since:
                self.since = message["seq"]
            return None
        return None


def event_line(message: dict[str, Any]) -> str:
    event: dict[str, Any] = message.get("event") or {}
    incident: dict[str, Any] = message.get("incident") or {}
    try:
        at = datetime.fromisoformat(event["at"]).astimezone(SHANGHAI).strftime("%H:%M:%S")
    except (KeyError, TypeError, ValueError):
        at = "--:--:--"
    parts = [f"#{message['seq']}", at, f"{event.get('type', '?'):<15}"]
    if incident:
        parts.append(f"incident {incident.get('id')} [{incident.get('status')}]")
        parts.append(str(incident.get("category_name") or incident.get("category") or ""))
        if incident.get("grid"):
            parts.append(f"@{incident['grid']}")
        parts.append(f"— {incident.get('entity_name') or incident.get('title') or ''}")
        if incident.get("sources"):
            parts.append(f"({','.join(incident['sources'])})")
    parts.append(f"by {event.get('actor', '?')}")
    return " ".join(part for part in parts if part)


def stream_url(base_url: str, ticket: str, cursor: StreamCursor, filters: dict[str, list[str]]) -> str:
    scheme, netloc, path, _query, _fragment = urlsplit(base_url)
    ws_scheme = "wss" if scheme == "https" else "ws"
    params: list[tuple[str, str]] = [("ticket", ticket), *cursor.resume_params().items()]
    params += [(name, value) for name, values in filters.items() for value in values]
    return urlunsplit((ws_scheme, netloc, path.rstrip("/") + "/ws/live", urlencode(params), ""))


async def get_ticket(http: httpx.AsyncClient, key: str) -> str:
    answer = await http.post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {key}"})
    if answer.status_code in (401, 403):
        raise CredentialRefused(f"the server refused the key ({answer.status_code})")
    answer.raise_for_status()
    return str(answer.json()["ticket"])


async def watch(
    base_url: str,
    key: str,
    *,
    filters: dict[str, list[str]] | None = None,
    out: Callable[[str], None] = print,
    cursor: StreamCursor | None = None,
    silence_limit_s: float = SILENCE_LIMIT_S,
) -> None:
    """Follow the live stream forever (until cancelled, or the key is refused)."""
    cursor = cursor or StreamCursor()
    backoff = FIRST_BACKOFF_S
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        while True:
            connected = False
            try:
                ticket = await get_ticket(http, key)
                url = stream_url(base_url, ticket, cursor, filters or {})
                async with connect(url, compression=None, open_timeout=10, max_size=None) as ws:
                    connected = True
                    resuming = f"resuming after seq {cursor.since}" if cursor.resume_params() else "from a snapshot"
                    out(f"connected, {resuming}")
                    while True:
                        async with asyncio.timeout(silence_limit_s):
                            raw = await ws.recv()
                        backoff = FIRST_BACKOFF_S  # it works again
                        line = cursor.apply(json.loads(raw))
                        if line is not None:
                            out(line)
            except TimeoutError:
                if connected:
                    out(f"no event and no ping for {silence_limit_s:g} s: reconnecting")
                else:
                    out(f"cannot reach {base_url} (timed out): retrying")
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                note = " (too slow: resuming)" if code == 4008 else ""
                out(f"connection closed ({code}){note}: reconnecting")
            except InvalidStatus as exc:
                if exc.response.status_code == 403:
                    out("the stream refused the ticket: trying again with a new one")
                else:
                    out(f"the stream answered {exc.response.status_code}: reconnecting")
            except (OSError, InvalidHandshake, httpx.HTTPError) as exc:
                out(f"cannot reach {base_url} ({type(exc).__name__}): retrying")
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(MAX_BACKOFF_S, backoff * 2)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="community-brain watch", description="Follow the live stream.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service's base URL")
    parser.add_argument(
        "--key", default=os.environ.get("CB_WATCH_KEY"), help="a display, operator or admin key (or CB_WATCH_KEY)"
    )
    parser.add_argument("--grid", action="append", default=[], help="only this grid (repeatable)")
    parser.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    parser.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.key:
        print("community-brain watch: --key (or CB_WATCH_KEY) is required", file=sys.stderr)
        return 2
    filters = {"grid": args.grid, "source": args.source, "category": args.category}

    def out(line: str) -> None:
        print(line, flush=True)

    try:
        asyncio.run(watch(args.url, args.key, filters=filters, out=out))
    except CredentialRefused as exc:
        print(f"community-brain watch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
