"""The hub's memory of what it delivered last: a resuming client is usually served from here,
already encoded, instead of from the ledger (zulip keeps its event queues in memory the same way).

The hub delivers strictly in seq order without holes, so what is kept is one contiguous run of
seqs; it is bounded by count and by bytes, oldest dropped first.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

from service.live.protocol import LiveMessage


class RecentMessages:
    def __init__(self, max_messages: int, max_bytes: int):
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._messages: deque[LiveMessage] = deque()
        self._bytes = 0

    def append(self, message: LiveMessage) -> None:
        messages = self._messages
        if messages and message.seq != messages[-1].seq + 1:
            self.clear()  # cannot happen while the hub delivers in order; never serve a hole
        messages.append(message)
        self._bytes += len(message.text)
        while len(messages) > self.max_messages or (self._bytes > self.max_bytes and len(messages) > 1):
            self._bytes -= len(messages.popleft().text)

    def between(self, after: int, until: int) -> list[LiveMessage] | None:
        """The messages with after < seq ≤ until, or None unless all of them are here."""
        if until <= after:
            return []
        messages = self._messages
        if not messages or after + 1 < messages[0].seq or until > messages[-1].seq:
            return None
        first = messages[0].seq
        return list(islice(messages, after + 1 - first, until + 1 - first))

    def clear(self) -> None:
        self._messages.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._messages)
