"""The incident state machine (docs/workflow.md §1): which status may follow which, and what it needs.

Pure: statuses in, a verdict out. The HTTP layer maps ``LifecycleError`` to 422.

    new → dispatched → in_progress → resolved → closed
    resolved → in_progress            (reopened when verification fails)
    new | dispatched → rejected       (not a real problem; a reason is required)
    new | dispatched | in_progress | resolved → merged   (folded into another incident)

``new → in_progress`` is deliberately *not* allowed: every incident passes through dispatch, so
the ledger always records who sent whom. An inspector who finds a problem on the spot gets it
dispatched to themselves first (two events, one click in the UI).
"""

from __future__ import annotations

from service.vocabulary import Status

STATUSES: tuple[Status, ...] = tuple(Status)
# Open incidents take new reports (docs/workflow.md, "Reports into incidents") and show on the wall.
OPEN_STATUSES: frozenset[Status] = frozenset({Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED})
TERMINAL_STATUSES: frozenset[Status] = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED})

# Keyed by Status; typed by str so that any stored or sent word can be looked up.
_TRANSITIONS: dict[str, tuple[Status, ...]] = {
    Status.NEW: (Status.DISPATCHED, Status.REJECTED, Status.MERGED),
    Status.DISPATCHED: (Status.IN_PROGRESS, Status.REJECTED, Status.MERGED),
    Status.IN_PROGRESS: (Status.RESOLVED, Status.MERGED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS, Status.MERGED),
    Status.CLOSED: (),
    Status.REJECTED: (),
    Status.MERGED: (),
}

# What an inspector may do with an incident assigned to them: start the work and report it done.
# Verifying it (closing), reopening it and rejecting it are the operators' call.
INSPECTOR_TRANSITIONS: frozenset[tuple[Status, Status]] = frozenset(
    {(Status.DISPATCHED, Status.IN_PROGRESS), (Status.IN_PROGRESS, Status.RESOLVED)}
)

# Closing needs the resolution, rejecting needs the reason: both end the incident for good.
NOTE_REQUIRED_FOR: frozenset[Status] = frozenset({Status.CLOSED, Status.REJECTED})


class LifecycleError(Exception):
    """A status change the lifecycle refuses."""


class UnknownStatus(ValueError):
    """A stored status word that is not one of ``STATUSES``: a data bug, not a client error."""

    def __init__(self, status: str):
        self.status = status
        super().__init__(f"unknown incident status {status!r}; known: {', '.join(STATUSES)}")


class TransitionNotAllowed(LifecycleError):
    """``current → target`` is not an edge of the state machine; ``allowed`` lists the edges that are."""

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]):
        self.current = current
        self.target = target
        self.allowed = allowed
        choices = ", ".join(allowed) if allowed else "none, the incident is finished"
        super().__init__(f"cannot go from {current!r} to {target!r}; allowed: {choices}")


class NoteRequired(LifecycleError):
    """Going to ``target`` needs a non-empty note (the resolution or the rejection reason)."""

    def __init__(self, target: str):
        self.target = target
        what = "a resolution note" if target == Status.CLOSED else "a reason"
        super().__init__(f"changing the status to {target!r} needs {what}")


def allowed_transitions(status: str) -> tuple[Status, ...]:
    """The statuses an incident in ``status`` may move to, in lifecycle order."""
    try:
        return _TRANSITIONS[status]
    except KeyError:
        raise UnknownStatus(status) from None


def is_open(status: str) -> bool:
    """True for an incident that still takes reports and work."""
    return status in OPEN_STATUSES


def note_required(target: str) -> bool:
    """True when moving to ``target`` needs a note."""
    return target in NOTE_REQUIRED_FOR


def check_transition(current: str, target: str, note: str | None) -> None:
    """Raise unless ``current → target`` is allowed and carries the note it needs.

    An unknown ``target`` is simply not allowed (the caller sent a bad word); an unknown
    ``current`` raises ``UnknownStatus`` because stored data is wrong.
    """
    allowed = allowed_transitions(current)
    if target not in allowed:
        raise TransitionNotAllowed(current, target, allowed)
    if target in NOTE_REQUIRED_FOR and not (note and note.strip()):
        raise NoteRequired(target)
