"""Several bot processes on one PostgreSQL database (issue 17): one leads, the others stand by.

Why one active process and not several sharing the work: what the platforms limit is per bot — one
getUpdates poller per Telegram token (a second gets 409), Telegram's ~30 messages a second, WeCom's 30
messages a minute and 1 000 an hour to one member from one app — and the outbox keeps those limits in the
memory of the process that sends. Shared between processes they would be broken or need a round trip per
message. So the processes give **availability**, not more throughput: the leader receives, handles, sends and
sweeps; the others wait, and one of them leads within `database.takeover_seconds` after the leader stops or
dies.

**The lock.** The leader holds the session-level advisory lock INSTANCE_LOCK on a connection of its own. The
server releases it when that session ends: the process stopped, was killed (its socket closes at once), or its
machine vanished (when the server's TCP keepalive gives up on it). A standby tries `pg_try_advisory_lock` every
`takeover_seconds`.

**The fence.** A leader cut off from the server (a network partition) may still be running while the server
has ended its session and a standby has taken over. So every write transaction of a leader first checks, on
the server, in the same round trip as its BEGIN, that its own lock session still holds the lock
(`fence()`): if not, the transaction fails and nothing is written — no claim of the outbox, so nothing is sent
from then on, and no update is handled twice. The leader also checks its lock's connection every
`takeover_seconds` and, when it has gone, says so and stops (`watch`), to start again as a standby. What was
being sent at that moment is left 'sending', and the new leader treats it as a crash's (the outbox's policy:
sent again, or held for a person) — as for one process killed and restarted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from bot.errors import LiaisonError
from bot.waiting import wait_a_while
from storage.url import redacted

log = logging.getLogger(__name__)

INSTANCE_LOCK = 0x4C49_4152  # "LIAR": held by the leading bot for its whole life

_HELD_BY = ("SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0"
            " AND l.objid = {key} AND l.objsubid = 1"  # a bigint key's low half is the objid (objsubid 1)
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class LeadershipLost(LiaisonError):
    """This process no longer leads: its lock's session ended (and another process may lead now)."""


async def holder(conn: asyncpg.Connection) -> str:
    """Who holds the lock, as an operator can find them: the server process, where from, since when."""
    row = await conn.fetchrow(
        "SELECT a.pid, host(a.client_addr) AS host, a.backend_start FROM pg_stat_activity a WHERE a.pid IN ("
        + _HELD_BY.format(key=INSTANCE_LOCK) + ") LIMIT 1")
    if row is None:
        return "unknown"
    return (f"server process {row['pid']}, from {row['host'] or 'a local socket'},"
            f" since {row['backend_start']:%Y-%m-%d %H:%M:%S %Z}")


class Leadership:
    def __init__(self, url: str, connect: Callable[[str], object]) -> None:
        self.url = url
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._pid: int | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self._pid is not None

    async def take(self, stop: asyncio.Event, every: float) -> bool:
        """Lead, standing by until the lock is free; False if `stop` was set first."""
        announced = False
        while not stop.is_set():
            if self._conn is None or self._conn.is_closed():
                conn = await self._connect(self.url)  # type: ignore[misc]
                assert isinstance(conn, asyncpg.Connection)
                self._conn = conn
            try:
                if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", INSTANCE_LOCK):
                    self._pid = self._conn.get_server_pid()
                    if announced:
                        log.warning("taking over: this bot now leads on %s", redacted(self.url))
                    return True
                if not announced:
                    log.warning("standing by: another bot leads on %s (%s); this one takes over within %g s "
                                "when it stops", redacted(self.url), await holder(self._conn), every)
                    announced = True
            except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
                log.warning("standing by: the database cannot be reached (%s); trying again", type(exc).__name__)
                await self._close()
            await wait_a_while(stop, every)
        await self._close()
        return False

    def fence(self) -> str:
        """SQL for the start of each write transaction: fails unless this process's lock session still holds it."""
        if self._pid is None:
            return ""
        held = _HELD_BY.format(key=INSTANCE_LOCK) + f" AND l.pid = {int(self._pid)}"
        return (f"DO $$BEGIN IF NOT EXISTS ({held}) THEN RAISE EXCEPTION 'liaison: this bot no longer leads'"
                " USING ERRCODE = 'P0001'; END IF; END$$")

    def watch(self, every: float, on_lost: Callable[[], None]) -> None:
        """Check the lock's connection every `every` seconds; when it is gone, stop leading and call `on_lost`."""
        self._watch = asyncio.create_task(self._watching(every, on_lost), name="leadership")

    async def _watching(self, every: float, on_lost: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                assert self._conn is not None
                async with asyncio.timeout(max(every, 1.0)):
                    await self._conn.fetchval("SELECT 1")
            except Exception as exc:  # whatever stops the check (the session gone, the driver's own internal error):
                # the lock can no longer be vouched for; a watch that died silently would leave this process up,
                # its writes refused by the fence, never told to stop
                self._pid = -1  # every write transaction fails its fence from now on
                log.error("the session holding this bot's leadership on %s has ended (%s): stopping; start it "
                          "again to stand by", redacted(self.url), type(exc).__name__)
                on_lost()
                return

    async def _close(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._conn.terminate()
            self._conn = None

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        await self._close()  # the server releases the lock with the session
        self._pid = None
