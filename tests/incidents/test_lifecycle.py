"""The lifecycle against an explicit table of every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from service.incidents import lifecycle
from service.incidents.lifecycle import (
    OPEN_STATUSES,
    STATUSES,
    TERMINAL_STATUSES,
    NoteRequired,
    TransitionNotAllowed,
    UnknownStatus,
    allowed_transitions,
    check_transition,
    is_open,
    note_required,
)

# Written out by hand from docs/workflow.md §1, independent of the module's own table.
# "" = not allowed, "ok" = allowed without a note, "note" = allowed only with a note.
_ = ""
EXPECTED: dict[str, dict[str, str]] = {
    #               new  dispatched  in_progress  resolved  closed  rejected  merged
    "new":         {"new": _, "dispatched": "ok", "in_progress": _, "resolved": _,
                    "closed": _, "rejected": "note", "merged": "ok"},
    "dispatched":  {"new": _, "dispatched": _, "in_progress": "ok", "resolved": _,
                    "closed": _, "rejected": "note", "merged": "ok"},
    "in_progress": {"new": _, "dispatched": _, "in_progress": _, "resolved": "ok",
                    "closed": _, "rejected": _, "merged": "ok"},
    "resolved":    {"new": _, "dispatched": _, "in_progress": "ok", "resolved": _,
                    "closed": "note", "rejected": _, "merged": "ok"},
    "closed":      {s: _ for s in STATUSES},
    "rejected":    {s: _ for s in STATUSES},
    "merged":      {s: _ for s in STATUSES},
}  # fmt: skip

PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_table_covers_every_status() -> None:
    assert set(EXPECTED) == set(STATUSES)
    assert all(set(row) == set(STATUSES) for row in EXPECTED.values())
    assert len(PAIRS) == 49


def test_open_and_terminal_partition_the_statuses() -> None:
    assert OPEN_STATUSES == {"new", "dispatched", "in_progress", "resolved"}
    assert TERMINAL_STATUSES == {"closed", "rejected", "merged"}
    assert OPEN_STATUSES | TERMINAL_STATUSES == set(STATUSES)
    assert not OPEN_STATUSES & TERMINAL_STATUSES


@pytest.mark.parametrize("status", STATUSES)
def test_is_open(status: str) -> None:
    assert is_open(status) == (status in {"new", "dispatched", "in_progress", "resolved"})


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_transitions_match_the_table(status: str) -> None:
    expected = {target for target, verdict in EXPECTED[status].items() if verdict}
    assert set(allowed_transitions(status)) == expected
    assert len(allowed_transitions(status)) == len(expected)  # no duplicates


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_lead_nowhere(status: str) -> None:
    assert allowed_transitions(status) == ()


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_every_pair_with_a_note(current: str, target: str) -> None:
    verdict = EXPECTED[current][target]
    if verdict:
        check_transition(current, target, "checked on site, fixed")
    else:
        with pytest.raises(TransitionNotAllowed) as caught:
            check_transition(current, target, "checked on site, fixed")
        assert caught.value.current == current
        assert caught.value.target == target
        assert caught.value.allowed == allowed_transitions(current)


@pytest.mark.parametrize(("current", "target"), PAIRS)
@pytest.mark.parametrize("note", [None, "", "   \n\t"])
def test_every_pair_without_a_note(current: str, target: str, note: str | None) -> None:
    verdict = EXPECTED[current][target]
    if verdict == "ok":
        check_transition(current, target, note)
    elif verdict == "note":
        with pytest.raises(NoteRequired) as caught:
            check_transition(current, target, note)
        assert caught.value.target == target
    else:
        # A forbidden edge is reported as such even when the note is missing too.
        with pytest.raises(TransitionNotAllowed):
            check_transition(current, target, note)


@pytest.mark.parametrize("target", STATUSES)
def test_note_required(target: str) -> None:
    assert note_required(target) == (target in {"closed", "rejected"})


def test_unknown_target_is_not_allowed() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        check_transition("new", "deleted", "x")
    assert caught.value.allowed == ("dispatched", "rejected", "merged")
    assert "deleted" in str(caught.value)


def test_unknown_current_is_a_data_error_not_a_client_error() -> None:
    with pytest.raises(UnknownStatus) as caught:
        check_transition("archived", "closed", "x")
    assert not isinstance(caught.value, lifecycle.LifecycleError)
    assert isinstance(caught.value, ValueError)


def test_messages_explain() -> None:
    with pytest.raises(TransitionNotAllowed, match="finished"):
        check_transition("closed", "in_progress", None)
    with pytest.raises(NoteRequired, match="resolution"):
        check_transition("resolved", "closed", "")
    with pytest.raises(NoteRequired, match="reason"):
        check_transition("new", "rejected", None)


def test_errors_share_a_base_for_one_http_mapping() -> None:
    assert issubclass(TransitionNotAllowed, lifecycle.LifecycleError)
    assert issubclass(NoteRequired, lifecycle.LifecycleError)
