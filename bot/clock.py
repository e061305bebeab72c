"""Time, behind a seam: the core asks a Clock, tests move one by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class StoppedClock:
    """A clock stopped at one moment: what a handler's transaction calls now."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)
