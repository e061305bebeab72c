"""The database: one writer, one reader, durable commits.

SQLite through aiosqlite, in WAL mode with `synchronous=FULL` (an acknowledged update
must survive a power cut; NORMAL may roll the last commits back), `foreign_keys=ON` and
a `busy_timeout`. Every write runs in `transaction()`: `BEGIN IMMEDIATE` on the single
writer connection behind an asyncio lock, so read-then-write sequences never interleave.
Reads that need no transaction go through `snapshot()` on a second connection, which in
WAL mode sees only committed data and never waits for the writer.

The same interface runs on PostgreSQL (storage/pg.py, `Database.open("postgresql://...")`). The SQL
elsewhere is written once, in what both engines accept; `?` placeholders are translated by
PostgreSQL's connection layer, and the few differences left are here: `pg_ddl` (the migrations' integer
keys), `DATABASE_ERRORS` (what either engine raises), and migrations with a `.pg.sql` file beside them
(storage/migrate.py).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.errors import LiaisonError
from bot.ports import Tx as Tx  # the port the core defines; SqliteTx below implements it
from bot.sealing import Sealer
from storage.writer_gate import WriterGate

log = logging.getLogger(__name__)

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]  # the same as bot.ports.Params

DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, asyncpg.PostgresError)
"""What a statement may raise on either engine (a table missing, a constraint or trigger refusing)."""

BUSY_TIMEOUT_MS = 10000
SLOW_INLINE = 0.1  # seconds a query may hold the event loop before it is logged (SqliteTx)
PRAGMAS = (
    # busy_timeout first: switching to WAL needs a lock, and another process may hold one for a moment
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",  # erased texts (storage/retention.py) are overwritten, not left in free pages
)


class DatabaseUnusableError(LiaisonError):
    """The database file cannot be used (not a database, damaged, locked): the message names the file and
    what to do, in one line, so that the command line can print it and exit at once."""


def unusable(path: Path, error: sqlite3.Error, waited_ms: int = BUSY_TIMEOUT_MS) -> DatabaseUnusableError:
    """The one line to print for an SQLite error met while opening `path`."""
    text = " ".join(str(error).split())  # one line, whatever SQLite says
    text = text if len(text) <= 160 else text[:159] + "…"
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return DatabaseUnusableError(
            f"database {path} is locked by another process (waited {waited_ms / 1000:g} s): stop what holds it "
            "(another bot on the same data, a sqlite3 shell, a copy in progress) and start again")
    return DatabaseUnusableError(
        f"database {path} is damaged or not a database ({text}): keep the file aside, then put back the last "
        "backup with `python -m bot restore ARCHIVE` into an empty data folder (README, 'When the database is "
        f"damaged'); `sqlite3 {path} 'PRAGMA integrity_check'` shows what is wrong")


def ts(moment: datetime) -> str:
    """Store a moment as ISO 8601 UTC text with milliseconds: sortable, portable."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def literals(*names: StrEnum) -> str:
    """The model's names (`bot.matter.states`) written into SQL as quoted literals, comma-separated: where a
    partial index or a long statement wants them in its text rather than bound. Only the model's own
    constants, never user input (a quote in one would be refused)."""
    if any("'" in name for name in names):
        raise ValueError("quote in a state name")
    return ", ".join(f"'{name.value}'" for name in names)


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SqliteTx:
    """Queries inside one transaction (or one read snapshot): storage's `bot.ports.Tx`, which storage's
    functions name as `storage.db.Tx`.

    Where a query runs. Inside `Database.transaction()` and `snapshot()` the connection is ours alone
    (the writer's gate, the reader's lock) and a query of the bot's is a matter of microseconds: it runs
    right here, on the event loop. A trip to aiosqlite's thread (a queue, a wake-up of that thread, a
    future, a wake-up of the loop) cost several times the query itself: with some forty queries an
    update it was most of the bot's CPU (docs/performance.md §7). What can wait long stays on the
    thread: BEGIN IMMEDIATE while another process holds the write lock (`Database.transaction` tries it
    here first, without waiting), COMMIT (the durable write), and every query of `long_read()` (a year's
    ledger). A query that holds the
    loop longer than `SLOW_INLINE` is logged (its first words, never its parameters) so that an operator
    can see which read to move to `long_read`.
    """

    def __init__(self, conn: aiosqlite.Connection, sealer: Sealer | None = None, *, inline: bool = False) -> None:
        self._conn = conn
        self._sealer = sealer
        self._inline = inline

    @property
    def sealer(self) -> Sealer:
        """Seals and opens personal data (bot/sealing.py); the database opened by `App.open` has one."""
        if self._sealer is None:
            raise RuntimeError("this database was opened without a data key (bot/data_key.py)")
        return self._sealer

    async def _run(self, fn: Callable[[sqlite3.Connection, str, Params], Any], sql: str, params: Params) -> Any:
        if not self._inline:
            return await self._on_thread(fn, sql, params)
        started = time.perf_counter()
        try:
            return fn(self._conn._conn, sql, params)
        finally:
            held = time.perf_counter() - started
            if held > SLOW_INLINE:
                log.warning("a query held the event loop %.0f ms: %s", held * 1000, " ".join(sql.split()[:8]))

    async def _on_thread(self, fn: Callable[[sqlite3.Connection, str, Params], Any], sql: str, params: Params) -> Any:
        # aiosqlite's own queue, as its public methods use it: fn runs on the connection's thread.
        return await self._conn._execute(fn, self._conn._conn, sql, params)  # type: ignore[no-untyped-call]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        return int(await self._run(_count, sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._run(_each, sql, list(rows))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT ... RETURNING id and return the id."""
        row = await self.one(sql, params)
        if row is None:
            raise RuntimeError("INSERT returned no row")
        return int(row[0])

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._run(_first, sql, params)
        return row

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await self._run(_every, sql, params)
        return rows

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def chunks(self, sql: str, params: Params = (), size: int = 5000) -> AsyncIterator[list[Row]]:
        """The rows of a query, `size` at a time (one trip to the connection's thread each): a table of millions
        read in bounded memory (storage/move.py). Meant for a long read, whose queries are on that thread."""
        cursor = await self._conn.execute(sql, params)
        try:
            while rows := list(await cursor.fetchmany(size)):
                yield rows
        finally:
            await cursor.close()


def _begin_at_once(conn: sqlite3.Connection, busy_timeout_ms: int) -> bool:
    """BEGIN IMMEDIATE without waiting: False, and no transaction begun, if another connection holds the write
    lock (SQLITE_BUSY at once, the busy timeout set to 0 for this statement alone)."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def _retrieved(work: asyncio.Future[Any]) -> None:
    if not work.cancelled():
        work.exception()  # raised to its waiter, if it still waits; not "never retrieved" if it was cancelled


def _rollback_if_open(conn: sqlite3.Connection, _sql: str, _params: Params) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _count(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _each(conn: sqlite3.Connection, sql: str, rows: Params) -> None:
    conn.executemany(sql, rows).close()


def _first(conn: sqlite3.Connection, sql: str, params: Params) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        row: Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _every(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return list(cursor.fetchall())
    finally:
        cursor.close()


class Database:
    """The two connections and the writer lock; open with `Database.open(path)` (SQLite) or
    `Database.open("postgresql://...")` (storage/pg.py's `PgDatabase`, the same interface)."""

    dialect = "sqlite"

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = writer
        self._reader = reader
        self._lock = WriterGate()
        self._on_thread: asyncio.Future[Any] | None = None  # the writer's last work on its thread (transaction)
        self._read_lock = asyncio.Lock()
        self._closed = False
        self.sealer: Sealer | None = None  # set by bot/data_key.py once the key is checked against the data

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, check: bool = True) -> Database:
        """Open both connections; with `check`, SQLite's quick_check first (a damaged file is refused at
        start-up, not half-way through some later query). Any SQLite error becomes a
        `DatabaseUnusableError` naming the file, and nothing is left open behind it (aiosqlite's threads
        would keep the process alive). A `postgresql://` URL opens PostgreSQL instead (storage/pg.py)."""
        if isinstance(path, str):
            from storage.pg import PgDatabase, is_postgres
            if is_postgres(path):
                return await PgDatabase.open_url(path)
            path = Path(path.removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        opened: list[aiosqlite.Connection] = []
        try:
            opened.append(await _connect(path, busy_timeout_ms))
            opened.append(await _connect(path, busy_timeout_ms))
            if check:
                found = [str(r[0]) for r in await opened[1].execute_fetchall("PRAGMA quick_check(1)")]
                if found != ["ok"]:
                    raise sqlite3.DatabaseError("; ".join(found))
        except sqlite3.Error as exc:
            for conn in opened:
                await conn.close()
            raise unusable(path, exc, busy_timeout_ms) from None
        except BaseException:
            for conn in opened:
                await conn.close()
            raise
        return cls(path, opened[0], opened[1], busy_timeout_ms)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock.held():
            await self._reader.close()
            await self._writer.close()

    async def hold_instance(self) -> None:
        """One running bot per database: on SQLite the lock file beside it does it (bot/instance.py), taken
        before anything is opened; nothing more to hold here (storage/pg.py holds one on the server)."""

    async def lead(self, stop: asyncio.Event, every: float, on_lost: Callable[[], None]) -> bool:
        """Lead this database's bot processes (PostgreSQL: storage/leadership.py); on SQLite there is one bot per
        database, and this is `hold_instance`."""
        await self.hold_instance()
        return True

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; ROLLBACK if the block raises.

        `urgent` transactions (short bookkeeping, such as recording that a message was
        sent) go before ordinary ones that are waiting, but never twice in a row while an
        ordinary one waits: the shorter the time between a send and its record, the fewer
        resends a crash can cause, and the ordinary work is never starved.
        """
        await self._lock.acquire(urgent)
        tx = SqliteTx(self._writer, self.sealer, inline=True)
        try:
            try:
                # BEGIN IMMEDIATE right here when the write lock is free (it is, unless another process such
                # as a CLI command is writing); when it is not, on the thread, waiting up to the busy timeout.
                # Only once the thread has done what an earlier transaction left it (a COMMIT or ROLLBACK whose
                # waiter was cancelled): queued behind it otherwise, in order.
                idle = self._on_thread is None or self._on_thread.done()
                if not (idle and _begin_at_once(self._writer._conn, self._busy_timeout_ms)):
                    await self._thread(tx, _count, "BEGIN IMMEDIATE")
                yield tx
            except BaseException:
                # Also when cancelled during BEGIN itself: the BEGIN still runs on the connection's
                # thread, and this, queued after it, ends what it began.
                await self._thread(tx, _rollback_if_open, "")
                raise
            await self._thread(tx, _count, "COMMIT")  # the durable write, off the loop
        finally:
            self._lock.release()

    async def _thread(self, tx: SqliteTx, fn: Callable[[sqlite3.Connection, str, Params], Any], sql: str) -> Any:
        """Run `fn` on the writer's thread; a waiter cancelled meanwhile does not cancel it (it runs all the same):
        `_on_thread` stays pending until it has, so that the next BEGIN is not run beside it on the loop."""
        work = asyncio.ensure_future(tx._on_thread(fn, sql, ()))
        work.add_done_callback(_retrieved)
        self._on_thread = work
        return await asyncio.shield(work)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """A consistent read-only view of committed data."""
        async with self._read_lock:
            q = SqliteTx(self._reader, self.sealer, inline=True)
            try:
                await q.execute("BEGIN")
                yield q
            finally:
                await q._run(_rollback_if_open, "", ())

    @asynccontextmanager
    async def long_read(self) -> AsyncIterator[Tx]:
        """A consistent read-only view of committed data on a connection of its own, for a read that takes
        seconds (a year's register ledger at a large unit): it holds neither the writer nor the shared reader
        that the inbox and the outbox poll, and cannot write (`query_only`)."""
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA query_only=ON")
            q = SqliteTx(conn, self.sealer)
            try:
                await q.execute("BEGIN")
                yield q
            finally:
                await q._run(_rollback_if_open, "", ())
        finally:
            await conn.close()

    async def run_script(self, script: str) -> None:
        """Run a multi-statement script on the writer (migrations); the script owns its transaction."""
        async with self._lock.held():
            try:
                await self._writer.executescript(script)
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    async def backup(self, target: Path) -> None:
        """Copy the database with SQLite's online backup: consistent while others write."""
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_backup, self.path, target)

    async def integrity_check(self) -> str:
        async with self.long_read() as q:  # reads the whole file: not on the event loop
            return str(await q.scalar("PRAGMA integrity_check"))


def _backup(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


async def _connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    # check_same_thread off: the connection is made on aiosqlite's thread and queried on the event loop's
    # as well (SqliteTx), one at a time (the writer's gate, the reader's lock).
    conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode=WAL")
        for pragma in PRAGMAS:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn
