"""The hash chain, pure: what an event's hash covers and how a sequence of events is checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.kit.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


def event_hash(
    prev_hash: str,
    seq: int,
    incident_id: int | None,
    type: str,
    actor: str,
    at: datetime,
    data: dict[str, Any],
    incident: dict[str, Any] | None,
) -> str:
    material = {
        "seq": seq,
        "incident_id": incident_id,
        "type": type,
        "actor": actor,
        "at": at.isoformat(),
        "data": data,
        "incident": incident,
    }
    return sha256_hex(prev_hash.encode() + canonical_json(material))


@dataclass
class ChainCheck:
    """Walks events in seq order, remembering the first problems it finds."""

    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    def feed(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.events += 1
            if row.seq != self.last_seq + 1:
                self.problem(f"seq {row.seq} follows seq {self.last_seq}: events are missing or reordered")
            if row.prev_hash != self.last_hash:
                self.problem(f"seq {row.seq}: prev_hash does not match the hash of the event before it")
            expected = event_hash(
                row.prev_hash, row.seq, row.incident_id, row.type, row.actor, row.at, row.data, row.incident
            )
            if row.hash != expected:
                self.problem(f"seq {row.seq}: content does not match its hash (edited)")
            self.last_seq, self.last_hash = row.seq, row.hash

    def finish(self, head_seq: int, head_hash: str) -> None:
        if (head_seq, head_hash) != (self.last_seq, self.last_hash):
            self.problem(f"the ledger head says seq {head_seq}, the chain ends at seq {self.last_seq}")

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)
