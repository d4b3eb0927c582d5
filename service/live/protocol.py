"""The live stream's wire format (docs/live-stream.md, "Messages"): messages encoded once, read back cheaply.

Every event is serialised ONCE per worker into the exact text clients receive; the same bytes
travel through the broker, so fan-out never re-encodes JSON per client. Keys inside the event
and the incident are sorted, so a message built at commit and one rebuilt from the ledger (where
PostgreSQL's JSONB reorders keys) are byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

from service.kit.canonical import canonical_json, dumps
from service.ledger.service import LedgerEntry, event_message

# Close codes.
CLOSE_POLICY = 1008  # no valid credential: refused before accept (HTTP 403), or revoked while connected
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012  # shutting down, or the ledger was replaced: reconnect
CLOSE_TRY_AGAIN = 1013  # the database failed while catching the client up: reconnect later
CLOSE_SLOW = 4008  # the client's queue overflowed: resume with since

_EVENT_PREFIX = '{"type":"event","seq":'
_EVENT_PREFIX_BYTES = _EVENT_PREFIX.encode()


def _dumps(value: Any) -> str:
    return canonical_json(value).decode()


def encode_event(seq: int, event: dict[str, Any], incident: dict[str, Any] | None) -> str:
    """`{"type":"event","seq":N,"event":{…},"incident":{…}}` — seq first, so it can be read without parsing."""
    return f'{_EVENT_PREFIX}{int(seq)},"event":{_dumps(event)},"incident":{_dumps(incident)}}}'


def encode_snapshot(epoch: str, seq: int, incidents: list[dict[str, Any]], stats: dict[str, Any]) -> str:
    # "type" and "seq" first, as in every message: a client can tell what it got from the first bytes.
    return dumps({"type": "snapshot", "epoch": epoch, "seq": seq, "incidents": incidents, "stats": stats})


def encode_ping(seq: int) -> str:
    return f'{{"type":"ping","seq":{int(seq)}}}'


def seq_of_event_bytes(data: bytes) -> int | None:
    """The seq of an encoded event message, read from its fixed prefix; None when it is not one."""
    if not data.startswith(_EVENT_PREFIX_BYTES):
        return None
    start = len(_EVENT_PREFIX_BYTES)
    end = data.find(b",", start, start + 24)
    if end < 0:
        return None
    digits = data[start:end]
    return int(digits) if digits.isdigit() else None


def broker_prefix(epoch: str) -> bytes:
    """What precedes a message on the broker: the ledger history it belongs to.

    One channel serves every history, so a worker that sees a restore (a new epoch) before its
    peers, or another deployment sharing the Redis, never mixes events of two ledgers.
    """
    return f"{epoch}\n".encode()


def encode_removal(seq: int, incident_id: Any) -> str:
    """An incident left the client's view with event `seq` (an inspector's task given to someone else)."""
    return dumps({"type": "removed", "seq": int(seq), "incident_id": incident_id})


# What filters look at (filters.py); a message keeps only these, not the whole incident.
FACETS = ("grid", "category", "sources", "assignee")


def facets_of(incident: Any, event_type: Any = None, data: Any = None) -> dict[str, Any] | None:
    """The incident's facets after the event, its id, and `released_by`: the inspector who lost it in
    this event (the previous assignee of an `assigned` event that gave it to someone else)."""
    if not isinstance(incident, dict):
        return None
    facets = {name: incident.get(name) for name in FACETS}
    facets["id"] = incident.get("id")
    released_by = None
    if event_type == "assigned" and isinstance(data, dict):
        previous = data.get("previous_assignee")
        if isinstance(previous, str) and previous != incident.get("assignee"):
            released_by = previous
    facets["released_by"] = released_by
    return facets


class LiveMessage:
    """One event message: its seq, its text, and (read only when a filter asks) the incident's facets."""

    __slots__ = ("_facets", "_parsed", "_removal", "seq", "text")

    def __init__(self, seq: int, text: str, facets: dict[str, Any] | None = None, parsed: bool = False):
        self.seq = seq
        self.text = text
        self._facets = facets
        self._parsed = parsed
        self._removal: LiveMessage | None = None

    @classmethod
    def from_event(cls, event: LedgerEntry) -> LiveMessage:
        """Build from a ledger row (just appended, or read back to fill a gap)."""
        text = encode_event(event.seq, event_message(event), event.incident)
        return cls(event.seq, text, facets_of(event.incident, event.type, event.data), parsed=True)

    @classmethod
    def from_wire(cls, data: bytes) -> LiveMessage | None:
        """Build from broker bytes; None for anything that is not an event message."""
        seq = seq_of_event_bytes(data)
        if seq is None:
            return None
        return cls(seq, data.decode())

    @property
    def wire(self) -> bytes:
        return self.text.encode()

    @property
    def facets(self) -> dict[str, Any] | None:
        """What filters match on (facets_of); None for an event without an incident."""
        if not self._parsed:
            message = orjson.loads(self.text)
            event = message.get("event") or {}
            self._facets = facets_of(message.get("incident"), event.get("type"), event.get("data"))
            self._parsed = True
        return self._facets

    @property
    def removal(self) -> LiveMessage:
        """What a client whose view the incident left gets instead of this event: same seq, no content.
        Encoded once, however many clients get it."""
        if self._removal is None:
            facets = self.facets or {}
            self._removal = LiveMessage(self.seq, encode_removal(self.seq, facets.get("id")), parsed=True)
        return self._removal


class StartMode(Enum):
    SNAPSHOT = "snapshot"
    REPLAY = "replay"


@dataclass(frozen=True)
class ResumeRequest:
    since: int | None
    epoch: str | None


def choose_start(request: ResumeRequest, head_seq: int, epoch: str, replay_limit: int) -> StartMode:
    """Replay from the ledger only into the same history and within reach; otherwise start over.

    A `since` beyond the head means the client saw a history this ledger does not have (a
    restore): it must not resume into it.
    """
    since = request.since
    if since is None or request.epoch != epoch:
        return StartMode.SNAPSHOT
    if since < 0 or since > head_seq or head_seq - since > replay_limit:
        return StartMode.SNAPSHOT
    return StartMode.REPLAY
