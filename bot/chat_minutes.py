"""What each chat sent in its last minute, against the [intake] limits (issue 15 item 4): how many updates, and how
many bytes of files. Counted on the monotonic clock the caller passes; a count can be taken back (`uncount`) when
what it counted was not kept after all (a transaction that did not commit, bot/inbox.py)."""

from __future__ import annotations

from collections import deque

from bot.config import IntakeConfig
from bot.messages import Incoming

Counted = tuple[float, int]  # (when, bytes of files)
FORGET_OVER = 10_000  # chats remembered before those quiet for a minute are forgotten


class ChatMinutes:
    def __init__(self) -> None:
        self._sent: dict[str, deque[Counted]] = {}

    def fits(self, chat_key: str, inc: Incoming, limits: IntakeConfig, now: float) -> bool:
        """Whether the update fits its chat's last minute (a limit of 0: none); nothing counted."""
        recent = self._sent.setdefault(chat_key, deque())
        while recent and now - recent[0][0] >= 60.0:
            recent.popleft()
        size = _size(inc)
        return not ((limits.max_messages_per_minute and len(recent) >= limits.max_messages_per_minute) or (
            limits.max_mb_per_minute and sum(b for _, b in recent) + size > limits.max_mb_per_minute * 2**20))

    def count(self, chat_key: str, inc: Incoming, now: float) -> Counted:
        """Count the update in its chat's minute; returns what was counted (`uncount` takes it back)."""
        counted = (now, _size(inc))
        self._sent.setdefault(chat_key, deque()).append(counted)
        if len(self._sent) > FORGET_OVER:
            for key in [k for k, v in self._sent.items() if not v or now - v[-1][0] >= 60.0]:
                del self._sent[key]
        return counted

    def uncount(self, chat_key: str, counted: Counted) -> None:
        recent = self._sent.get(chat_key)
        if recent is not None and counted in recent:
            recent.remove(counted)


def _size(inc: Incoming) -> int:
    return sum(a.size or 0 for a in inc.attachments)
