"""A full disk does not end the bot (issue 15 item 10).

When the database or the files folder refuses a write for want of space (SQLite's "database or disk
is full", an OSError ENOSPC), nothing is lost by waiting: Telegram keeps an update until it is
confirmed, and the bot confirms it only once it is stored (bot/channels/telegram.py); WeCom sends a
callback again when it is answered 500; the inbox keeps what it has not handled, the outbox what it
has not sent. So the writer that was refused waits with growing back-off (1 s doubling to a minute)
and tries again, the others go on where they can, and everything resumes by itself once space is
back. The administrators are told once when it starts and once when it is over, in the log and in
chat — sent directly through the channels, since the outbox is in the full database.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0
LONGEST_WAIT = 60.0

Alert = Callable[[bool], Awaitable[None]]  # True: the disk is full; False: writing works again


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is a write refused for want of space (SQLite's SQLITE_FULL, or ENOSPC)."""
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc) or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


class StoreUnavailable(Exception):
    """Received but not stored (the disk is full): not to be confirmed to its sender."""


class StorageHealth:
    """Whether writes are being refused for want of space; tells the log and the administrators once."""

    def __init__(self, alert: Alert | None = None) -> None:
        self.alert = alert
        self.first_wait = FIRST_WAIT  # the first back-off (tests: 0, so that nothing sleeps)
        self.full = False
        self.episodes = 0  # how often the disk was found full (tests, the log)
        self._alerts: set[asyncio.Task[None]] = set()

    def trouble(self, exc: BaseException, where: str) -> None:
        if self.full:
            log.warning("%s: still no space to write (%s); waiting", where, type(exc).__name__)
            return
        self.full = True
        self.episodes += 1
        log.error("%s: the disk is full (%s): updates are left unconfirmed and retried with back-off; free space "
                  "on the data folder's disk and the bot resumes by itself", where, exc)
        self._tell(True)

    def ok(self) -> None:
        if not self.full:
            return
        self.full = False
        log.warning("the disk takes writes again: resumed")
        self._tell(False)

    def _tell(self, full: bool) -> None:
        if self.alert is None:
            return
        task = asyncio.get_running_loop().create_task(self._alert_safely(full))
        self._alerts.add(task)
        task.add_done_callback(self._alerts.discard)

    async def _alert_safely(self, full: bool) -> None:
        assert self.alert is not None
        try:
            await self.alert(full)
        except Exception:
            log.exception("could not tell the administrators that the disk is %s", "full" if full else "usable")

    async def settled(self) -> None:
        """Wait for the alerts under way (tests)."""
        while self._alerts:
            await asyncio.gather(*list(self._alerts), return_exceptions=True)


    def backoff(self) -> Backoff:
        return Backoff(self.first_wait)


class Backoff:
    """1 s, 2 s, 4 s ... at most a minute; on the event loop's (monotonic) clock."""

    def __init__(self, first: float = FIRST_WAIT) -> None:
        self.first = first
        self.delay = first

    def reset(self) -> None:
        self.delay = self.first

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, LONGEST_WAIT)
