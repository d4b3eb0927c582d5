"""The wire format, the resume decision and the filters: values in, values out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.ledger.models import LedgerEvent
from service.live.filters import BadFilter, LiveFilter, parse_filter
from service.live.protocol import (
    LiveMessage,
    ResumeRequest,
    StartMode,
    choose_start,
    encode_event,
    encode_ping,
    encode_snapshot,
    seq_of_event_bytes,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    seq=st.integers(0, 2**62),
    event=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    incident=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_an_event_message_is_json_and_its_seq_reads_back_without_parsing(
    seq: int, event: dict[str, object], incident: dict[str, object] | None
) -> None:
    text = encode_event(seq, event, incident)
    assert json.loads(text) == {"type": "event", "seq": seq, "event": event, "incident": incident}
    assert seq_of_event_bytes(text.encode()) == seq


def test_anything_else_has_no_event_seq() -> None:
    assert seq_of_event_bytes(encode_ping(7).encode()) is None
    assert seq_of_event_bytes(b'{"type":"event","seq":x1,') is None
    assert seq_of_event_bytes(b'{"type":"event","seq":12') is None
    assert seq_of_event_bytes(b"") is None
    assert LiveMessage.from_wire(b"garbage") is None


def test_the_same_event_encodes_to_the_same_bytes_whatever_the_key_order() -> None:
    # A message built at commit and one rebuilt from PostgreSQL's JSONB (keys reordered) must be identical.
    assert encode_event(3, {"b": 1, "a": {"y": 2, "x": 1}}, {"z": 1, "a": 2}) == encode_event(
        3, {"a": {"x": 1, "y": 2}, "b": 1}, {"a": 2, "z": 1}
    )


def test_a_message_from_a_ledger_row_carries_the_event_and_the_incident_state() -> None:
    at = datetime(2026, 11, 28, 6, 3, 22, tzinfo=UTC)
    row = LedgerEvent(
        seq=41,
        incident_id=5,
        type="created",
        actor="police",
        at=at,
        data={"source": "police"},
        incident={"id": 5, "grid": "G1", "status": "new"},
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    message = LiveMessage.from_event(row)
    assert message.seq == 41
    assert json.loads(message.text) == {
        "type": "event",
        "seq": 41,
        "event": {
            "seq": 41,
            "type": "created",
            "incident_id": 5,
            "actor": "police",
            "at": at.isoformat(),
            "data": {"source": "police"},
        },
        "incident": {"id": 5, "grid": "G1", "status": "new"},
    }
    from_wire = LiveMessage.from_wire(message.wire)
    assert from_wire is not None and from_wire.seq == 41 and from_wire.text == message.text
    assert (
        from_wire.facets
        == message.facets
        == {
            "grid": "G1",
            "category": None,
            "sources": None,
            "assignee": None,
            "id": 5,
            "released_by": None,
        }
    )


def _assigned(seq: int, assignee: str, previous: str | None) -> LiveMessage:
    at = datetime(2026, 11, 28, 6, 3, 22, tzinfo=UTC)
    incident = {"id": 7, "grid": "G1", "status": "dispatched", "assignee": assignee}
    row = LedgerEvent(
        seq=seq,
        incident_id=7,
        type="assigned",
        actor="op",
        at=at,
        data={"assignee": assignee, "previous_assignee": previous, "from": "new", "to": "dispatched"},
        incident=incident,
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    return LiveMessage.from_event(row)


def test_an_inspector_gets_their_incidents_and_a_removal_when_one_is_given_away() -> None:
    mine = LiveFilter(assignee="insp")
    given = _assigned(10, "insp", None)
    assert mine.pick(given) is given
    taken = _assigned(11, "insp2", "insp")
    removal = mine.pick(taken)
    assert removal is not None and removal.seq == 11
    assert json.loads(removal.text) == {"type": "removed", "seq": 11, "incident_id": 7}  # nothing else of it
    assert mine.pick(taken) is removal  # encoded once, whoever gets it
    assert LiveFilter(assignee="insp3").pick(taken) is None  # never theirs: nothing at all
    assert LiveFilter(assignee="insp2").pick(taken) is taken
    assert LiveFilter().pick(taken) is taken  # walls and operators see every event as it is
    wire = LiveMessage.from_wire(taken.wire)  # from another worker: facets read from the text
    assert wire is not None and mine.pick(wire) is not None and mine.pick(wire).text == removal.text  # type: ignore[union-attr]
    assert LiveFilter(grids=frozenset({"G2"}), assignee="insp").pick(taken) is None  # outside its other filters


def test_snapshot_and_ping_shapes() -> None:
    assert json.loads(encode_ping(12)) == {"type": "ping", "seq": 12}
    assert json.loads(encode_snapshot("e1", 9, [{"id": 1}], {"open": 1})) == {
        "type": "snapshot",
        "epoch": "e1",
        "seq": 9,
        "incidents": [{"id": 1}],
        "stats": {"open": 1},
    }


@pytest.mark.parametrize(
    ("since", "epoch", "expected"),
    [
        (None, None, StartMode.SNAPSHOT),  # a new client
        (None, "E", StartMode.SNAPSHOT),
        (90, "E", StartMode.REPLAY),
        (100, "E", StartMode.REPLAY),  # up to date: nothing to replay, straight to live
        (90, "other", StartMode.SNAPSHOT),  # another history
        (90, None, StartMode.SNAPSHOT),
        (101, "E", StartMode.SNAPSHOT),  # beyond the head: the client saw a history we do not have
        (89, "E", StartMode.SNAPSHOT),  # older than the replay limit
    ],
)
def test_choose_start(since: int | None, epoch: str | None, expected: StartMode) -> None:
    assert choose_start(ResumeRequest(since, epoch), head_seq=100, epoch="E", replay_limit=10) is expected


def test_a_client_that_has_nothing_yet_replays_the_whole_ledger_while_it_is_short() -> None:
    assert choose_start(ResumeRequest(0, "E"), head_seq=100, epoch="E", replay_limit=100) is StartMode.REPLAY
    assert choose_start(ResumeRequest(0, "E"), head_seq=101, epoch="E", replay_limit=100) is StartMode.SNAPSHOT


def test_filters_match_the_incident_state() -> None:
    incident = {"grid": "G1", "category": "noise", "sources": ["police", "city"]}
    assert LiveFilter().matches(incident) and LiveFilter().matches(None)
    assert LiveFilter(grids=frozenset({"G1", "G2"})).matches(incident)
    assert not LiveFilter(grids=frozenset({"G2"})).matches(incident)
    assert LiveFilter(sources=frozenset({"city"})).matches(incident)
    assert not LiveFilter(sources=frozenset({"market"})).matches(incident)
    assert not LiveFilter(grids=frozenset({"G1"}), categories=frozenset({"fire"})).matches(incident)
    assert not LiveFilter(grids=frozenset({"G1"})).matches(None)  # an event without an incident
    assert not LiveFilter(sources=frozenset({"police"})).matches({"grid": "G1", "sources": None})


def test_filter_parameters_may_repeat_or_be_comma_separated() -> None:
    live_filter = parse_filter({"grid": ["G1,G2", " G3 "], "source": [], "category": ["noise"]})
    assert live_filter == LiveFilter(grids=frozenset({"G1", "G2", "G3"}), categories=frozenset({"noise"}))
    assert parse_filter({}).is_empty
    with pytest.raises(BadFilter):
        parse_filter({"grid": [",".join(str(i) for i in range(51))]})
    with pytest.raises(BadFilter):
        parse_filter({"category": ["x" * 65]})
