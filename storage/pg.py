"""The database on PostgreSQL: the same interface as storage/db.py's SQLite `Database`, through asyncpg.

Chosen by `database.url = "postgresql://user@host:port/db"` (bot/config.py); the password comes from
the environment only (`PGPASSWORD`, or the whole URL in `LIAISON_DATABASE_URL`), and only
`redacted(url)` is ever logged or printed. asyncpg was picked on measured speed
(docs/performance.md, section 9: about twice psycopg 3's statements per second).

**What replaces SQLite's single writer.** On SQLite one connection writes, `BEGIN IMMEDIATE` behind
the process's `WriterGate`, and the file lock keeps any other process out: every read-then-write
sequence (the next matter number, the audit chain's head, the outbox's claims, the inbox's
deduplication) runs alone. Here, within a process, the same `WriterGate` hands one writer connection
from transaction to transaction (urgent ones first, never starving the others), and every write
transaction begins by taking one transaction-scoped advisory lock (`pg_advisory_xact_lock(WRITER_LOCK)`),
released by COMMIT or ROLLBACK: a second process on the same database waits for it, so the
semantics are today's, whole-database serialized writes, at READ COMMITTED (each statement sees every
transaction committed before the lock was granted). Issue 17's multi-process step replaces this one
lock by row locks where each sequence needs them (the audit head and the number counter
`SELECT ... FOR UPDATE`, the outbox's claims `FOR UPDATE SKIP LOCKED`, unique keys as today).

`snapshot()` and `long_read()` are `REPEATABLE READ READ ONLY` transactions: one consistent view of
committed data, refused any write by the server. `backup()` runs `pg_dump` (custom format) when the
binary is on PATH, else says so. `integrity_check()` is SQLite's; PostgreSQL answers "ok" (its pages
are checksummed and checked by the server itself, where the cluster was made with checksums).

Statements are written once, with `?` placeholders: `translate` turns them into `$1, $2, ...`
once per statement text (cached), skipping quoted text and comments; asyncpg prepares and caches
each statement per connection. Rows are asyncpg `Record`s, which answer `row["name"]` and `row[0]`
as `sqlite3.Row` does. NUMERIC results (PostgreSQL's SUM of integers) come back as int, or float
when fractional, as SQLite gives them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import asyncpg

from bot.instance import AlreadyRunningError
from storage.leadership import INSTANCE_LOCK as INSTANCE_LOCK, Leadership, LeadershipLost, holder
from bot.sealing import Sealer
from storage.db import Database, DatabaseUnusableError, Params, Row
from storage.writer_gate import WriterGate
from storage.url import is_postgres as is_postgres, redacted, without_password

WRITER_LOCK = 0x4C49_4149  # "LIAI": the advisory lock every write transaction takes (see the docstring)

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|\?|\bGROUP_CONCAT\(([^()]*)\)",
                     re.S | re.I)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """A statement written for both engines, as PostgreSQL takes it: `?` placeholders become `$1, $2, ...`, and
    SQLite's `GROUP_CONCAT(x)` (the one SQLite-only function storage uses) `string_agg(CAST(x AS TEXT), ',')`.
    Quoted text and comments are left alone."""
    n = 0

    def token(match: re.Match[str]) -> str:
        nonlocal n
        text = match.group(0)
        if match.group(1) is not None:
            return f"string_agg(CAST({match.group(1)} AS TEXT), ',')"
        if text != "?":
            return text
        n += 1
        return f"${n}"

    return _TOKENS.sub(token, sql)


def _count(status: str) -> int:
    """Rows changed, from the command tag ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _prepare(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_number, schema="pg_catalog", format="text")


def _args(params: Params) -> tuple[Any, ...]:
    if isinstance(params, dict):
        raise TypeError("named parameters are not used by storage; pass a sequence")
    return tuple(params)


class PgTx:
    """Queries inside one transaction (or one read snapshot) on PostgreSQL: storage's `bot.ports.Tx`."""

    def __init__(self, conn: asyncpg.Connection, sealer: Sealer | None = None) -> None:
        self._conn = conn
        self._sealer = sealer

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError("this database was opened without a data key (bot/data_key.py)")
        return self._sealer

    async def execute(self, sql: str, params: Params = ()) -> int:
        status = await self._conn.execute(translate(sql), *_args(params))
        return _count(str(status))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [_args(r) for r in rows]
        if batch:
            await self._conn.executemany(translate(sql), batch)

    async def insert(self, sql: str, params: Params = ()) -> int:
        row = await self.one(sql, params)
        if row is None:
            raise RuntimeError("INSERT returned no row")
        return int(row[0])

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        return cast("Row | None", await self._conn.fetchrow(translate(sql), *_args(params)))

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return cast("list[Row]", await self._conn.fetch(translate(sql), *_args(params)))

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def chunks(self, sql: str, params: Params = (), size: int = 5000) -> AsyncIterator[list[Row]]:
        """The rows of a query, `size` at a time, through a server-side cursor (inside this transaction): a table
        of millions read in bounded memory (storage/move.py)."""
        cursor = await self._conn.cursor(translate(sql), *_args(params))
        while rows := await cursor.fetch(size):
            yield cast("list[Row]", rows)


async def connect(url: str) -> asyncpg.Connection:
    """One connection, NUMERIC decoded as SQLite gives it; errors name the server, never the password."""
    try:
        conn = await asyncpg.connect(url, server_settings={"application_name": "liaison-bot"})
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        raise DatabaseUnusableError(
            f"database {redacted(url)} cannot be reached ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}): "
            "check that PostgreSQL runs there, the database exists and the password is in PGPASSWORD") from None
    await _prepare(conn)
    return conn


class PgDatabase(Database):
    """The writer connection behind the writer gate, a reader connection; `Database.open(url)` makes one."""

    dialect = "postgresql"

    def __init__(self, url: str, writer: asyncpg.Connection, reader: asyncpg.Connection) -> None:
        self.url = url
        self.path = Path(redacted(url))  # what messages name; never opened as a file
        self._pg_writer = writer
        self._pg_reader = reader
        self._lock = WriterGate()
        self._read_lock = asyncio.Lock()
        self._closed = False
        self._instance: asyncpg.Connection | None = None
        self._leadership: Leadership | None = None  # several bot processes on one database (`lead`)
        self.sealer = None

    @classmethod
    async def open_url(cls, url: str) -> PgDatabase:
        writer = await connect(url)
        try:
            reader = await connect(url)
        except BaseException:
            await writer.close()
            raise
        return cls(url, writer, reader)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock.held():
            await self._pg_reader.close()
            await self._pg_writer.close()
        if self._instance is not None:
            await self._instance.close()  # the server releases the bot's lock with its session
            self._instance = None
        if self._leadership is not None:
            await self._leadership.release()

    async def hold_instance(self) -> None:
        """One running bot per database, whichever machine it runs on (the lock file beside an SQLite database
        sees one machine only): a session-level advisory lock, on a connection of its own, held until the bot
        stops. The server releases it when that session ends, a killed process's or a lost machine's too (when
        its connection drops). A second bot is refused at once, told which session holds the database."""
        conn = await connect(self.url)
        try:
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", INSTANCE_LOCK):
                self._instance = conn
                return
            where = await holder(conn)
        except BaseException:
            await conn.close()
            raise
        await conn.close()
        raise AlreadyRunningError(
            f"another bot is already running on {redacted(self.url)} ({where}): stop it first; two bots on one "
            "database would both answer and trip Telegram's flood limits")

    async def lead(self, stop: asyncio.Event, every: float, on_lost: Callable[[], None]) -> bool:
        """Lead this database's bot processes, standing by until the leader stops (storage/leadership.py); False if
        `stop` was set first. From then on every write transaction checks that this process still leads."""
        leadership = Leadership(self.url, connect)
        if not await leadership.take(stop, every):
            return False
        self._leadership = leadership
        leadership.watch(every, on_lost)
        return True

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[PgTx]:
        await self._lock.acquire(urgent)
        conn = self._pg_writer
        fence = self._leadership.fence() if self._leadership is not None else ""
        try:
            try:
                # one round trip for all (a statement without parameters goes as a simple query, which may hold
                # several): the writer is one connection, and its round trips are what intake waits for
                try:
                    await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})" + (f"; {fence}" if fence
                                                                                                 else ""))
                except asyncpg.RaiseError as exc:
                    if "no longer leads" in str(exc):
                        raise LeadershipLost("this bot no longer leads on this database: nothing was written") from None
                    raise
                yield PgTx(conn, self.sealer)
            except BaseException:
                if conn.is_in_transaction() and not conn.is_closed():
                    await asyncio.shield(conn.execute("ROLLBACK"))
                raise
            await conn.execute("COMMIT")
        finally:
            self._lock.release()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PgTx]:
        async with self._read_lock:
            conn = self._pg_reader
            try:
                await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield PgTx(conn, self.sealer)
            finally:
                if conn.is_in_transaction() and not conn.is_closed():
                    await asyncio.shield(conn.execute("ROLLBACK"))

    @asynccontextmanager
    async def long_read(self) -> AsyncIterator[PgTx]:
        conn = await connect(self.url)
        try:
            await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PgTx(conn, self.sealer)
        finally:
            await conn.close()  # ends the transaction with it

    async def run_script(self, script: str) -> None:
        """Run a multi-statement script on the writer (migrations); the script owns its transaction."""
        async with self._lock.held():
            conn = self._pg_writer
            try:
                await conn.execute(script)
            except BaseException:
                if conn.is_in_transaction() and not conn.is_closed():
                    await conn.execute("ROLLBACK")
                raise

    async def backup(self, target: Path) -> None:
        """`pg_dump --format=custom` of the whole database into `target` (restore with `pg_restore`)."""
        dump = shutil.which("pg_dump")
        if dump is None:
            raise DatabaseUnusableError(
                "backup of a PostgreSQL database needs pg_dump on PATH (Debian: apt-get install postgresql-client)")
        target.parent.mkdir(parents=True, exist_ok=True)
        shown, password = without_password(self.url)  # the password in the child's environment, not its argv
        process = await asyncio.create_subprocess_exec(
            dump, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={shown}",
            env=dict(os.environ) if password is None else {**os.environ, "PGPASSWORD": password},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await process.communicate()
        if process.returncode != 0:
            text = " ".join(err.decode(errors="replace").split()).replace(shown, redacted(self.url))[:300]
            raise DatabaseUnusableError(f"pg_dump of {redacted(self.url)} failed: {text}")

    async def integrity_check(self) -> str:
        async with self.snapshot() as q:
            await q.scalar("SELECT 1")
        return "ok"
