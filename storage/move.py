"""Moving a county's SQLite database into an empty PostgreSQL database (`python -m bot migrate-to URL`).

The target is migrated to the same schema first, and must hold nothing yet. Then, in one transaction on the
target, every table is copied in the order of its foreign keys (PostgreSQL's COPY, values given PostgreSQL's
column types), the audit log's own triggers set aside for the copy only (they refuse any append that is not
the next entry, and a head that moves by more than one) and set again before the commit, and each identity
column's sequence moved past the highest id copied. After the commit the two databases are compared table by
table: the number of rows and a SHA-256 over every row in primary-key order, both sides read in byte order;
and the audit chain is verified on the target. Nothing is removed from the source.

Every table is read and compared `CHUNK` rows at a time (SQLite's cursor on a long read, PostgreSQL's server-side
cursor, COPY fed as the rows come): the memory a move takes does not grow with the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import LiaisonError
from storage import audit
from storage.db import Database
from storage.migrate import migrate
from storage.pg import PgDatabase
from storage.url import redacted

SKIP = frozenset({"schema_migrations"})  # written by the target's own migrations
CHUNK = 5000  # rows read, copied and compared at a time
AUDIT_TABLES = ("audit_log", "audit_head")


class MoveError(LiaisonError):
    """The move cannot be done, or the copy does not match its source; the message says which."""


@dataclass(frozen=True)
class Moved:
    tables: dict[str, int]  # rows copied and found equal, per table
    audit_entries: int

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class _Table:
    name: str
    columns: list[tuple[str, str]]  # (name, PostgreSQL type) in the target's order
    key: list[str]  # the primary key's columns (all columns when there is none)
    identity: list[str]


async def _target_tables(target: PgDatabase) -> dict[str, _Table]:
    async with target.snapshot() as q:
        columns = await q.all(
            "SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
        keys = await q.all(
            "SELECT c.relname AS table_name, a.attname AS column_name FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indisprimary AND n.nspname = current_schema()"
            " ORDER BY c.relname, array_position(i.indkey, a.attnum)")
        kinds = {str(r["table_name"]) for r in await q.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE'")}
    tables: dict[str, _Table] = {}
    for r in columns:
        name = str(r["table_name"])
        if name not in kinds or name in SKIP:
            continue
        table = tables.setdefault(name, _Table(name, [], [], []))
        table.columns.append((str(r["column_name"]), str(r["data_type"])))
        if r["is_identity"] == "YES":
            table.identity.append(str(r["column_name"]))
    for r in keys:
        if str(r["table_name"]) in tables:
            tables[str(r["table_name"])].key.append(str(r["column_name"]))
    for table in tables.values():
        if not table.key:
            table.key.extend(c for c, _ in table.columns)
    return tables


async def _in_key_order(target: PgDatabase, names: set[str]) -> list[str]:
    """The tables, each after those its foreign keys name (a table naming itself is copied in key order)."""
    async with target.snapshot() as q:
        edges = await q.all(
            "SELECT DISTINCT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent"
            " FROM pg_constraint c WHERE c.contype = 'f'")
    needs: dict[str, set[str]] = {name: set() for name in names}
    for r in edges:
        child, parent = str(r["child"]).strip('"'), str(r["parent"]).strip('"')
        if child in needs and parent in needs and child != parent:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(n for n, parents in needs.items() if not parents - set(ordered))
        if not ready:
            raise MoveError(f"the foreign keys of {', '.join(sorted(needs))} form a cycle")
        for name in ready:
            ordered.append(name)
            del needs[name]
    return ordered


def _as(kind: str, value: Any) -> Any:
    """A value SQLite gave, as the target column's type takes it (SQLite keeps what it was given)."""
    if value is None:
        return None
    if kind in ("bigint", "integer", "smallint"):
        return int(value)
    if kind in ("double precision", "real", "numeric"):
        return float(value)
    if kind == "text" or kind.startswith("character"):
        return value if isinstance(value, str) else str(value)
    return value


async def _digest(chunks: AsyncIterator[list[Any]], kinds: list[str]) -> tuple[int, str]:
    """How many rows, and a SHA-256 over them in the order they come."""
    h, n = hashlib.sha256(), 0
    async for rows in chunks:
        for row in rows:
            h.update(repr(tuple(_as(k, v) for k, v in zip(kinds, row))).encode())
            h.update(b"\n")
        n += len(rows)
    return n, h.hexdigest()


async def move(source: Database, target: PgDatabase, now: datetime) -> Moved:
    """Copy `source` (SQLite) into `target` (an empty PostgreSQL database), then prove the copy equal."""
    if source.dialect != "sqlite":
        raise MoveError("the source must be an SQLite database")
    await migrate(source, now)  # both at this program's schema
    await migrate(target, now)
    tables = await _target_tables(target)
    async with source.snapshot() as q:
        source_names = {str(r[0]) for r in await q.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")} - SKIP
        source_columns = {name: {str(r["name"]) for r in await q.all(f'PRAGMA table_info("{name}")')}
                          for name in source_names}
    if source_names != set(tables):
        raise MoveError(f"the schemas differ: only in SQLite {sorted(source_names - set(tables))}, "
                        f"only in PostgreSQL {sorted(set(tables) - source_names)}")
    for name, table in tables.items():
        if source_columns[name] != {c for c, _ in table.columns}:
            raise MoveError(f"the columns of {name} differ between the two databases")
    async with target.snapshot() as q:
        for name in tables:
            count = int(await q.scalar(f'SELECT COUNT(*) FROM "{name}"'))
            fresh = (count == 0 or (name == "audit_head" and await q.scalar("SELECT count FROM audit_head") == 0)
                     or (name == "units" and count == 1))  # unit 1, as the migration made it: replaced below
            if not fresh:
                raise MoveError(f"{redacted(target.url)} is not empty ({name} has {count} rows): move into a new, "
                                "empty database")
    order = await _in_key_order(target, set(tables))
    copied: dict[str, int] = {}
    async with target.transaction() as tx, source.long_read() as q:
        conn = target._pg_writer  # the transaction's connection: COPY is asyncpg's own
        for name in AUDIT_TABLES:
            await tx.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
        await tx.execute("DELETE FROM audit_head")
        await tx.execute("DELETE FROM units")  # the migration's unit 1: the source's units come instead
        for name in order:
            copied[name] = await _copy_table(conn, q, name, tables[name])
            table = tables[name]
            for column in table.identity:
                await tx.scalar(f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'),"
                                f" COALESCE((SELECT MAX(\"{column}\") FROM \"{name}\"), 0) + 1, false)")
        for name in AUDIT_TABLES:
            await tx.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")
    moved = await verify(source, target, tables, copied)
    # The planner's statistics of the tables COPY has just filled: without them queries are planned without
    # knowing the tables' sizes until autovacuum gets round to analysing them
    await target.run_script("ANALYZE")
    return moved


async def _copy_table(conn: Any, q: Any, name: str, table: _Table) -> int:
    """COPY one table's rows into the target as they are read from the source, CHUNK at a time; how many."""
    columns = [c for c, _ in table.columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {quoted} FROM "{name}" ORDER BY ' + ", ".join(f'"{c}"' for c in table.key)
    copied = 0

    async def records() -> AsyncIterator[tuple[Any, ...]]:
        nonlocal copied
        async for rows in _chunks(q, sql):
            copied += len(rows)
            for row in rows:
                yield tuple(_as(kind, v) for (_, kind), v in zip(table.columns, row))

    await conn.copy_records_to_table(name, records=records(), columns=columns)
    return copied


def _chunks(q: Any, sql: str) -> AsyncIterator[list[Any]]:
    """The rows of `sql`, CHUNK at a time (SqliteTx.chunks / PgTx.chunks: not part of the Tx port, which
    reads whole answers)."""
    chunks: AsyncIterator[list[Any]] = q.chunks(sql, size=CHUNK)
    return chunks


async def verify(source: Database, target: PgDatabase, tables: dict[str, Any], copied: dict[str, int]) -> Moved:
    """Each table's rows counted and hashed on both sides in key order; the audit chain verified on the target."""
    for name, table in tables.items():
        kinds = [k for _, k in table.columns]
        select = ", ".join(f'"{c}"' for c, _ in table.columns)
        text_keys = {c for c, k in table.columns if k == "text"}
        async with source.long_read() as q:
            mine = await _digest(_chunks(q, f'SELECT {select} FROM "{name}" ORDER BY '
                                         + ", ".join(f'"{c}"' for c in table.key)), kinds)
        async with target.snapshot() as q:
            theirs = await _digest(_chunks(q, f'SELECT {select} FROM "{name}" ORDER BY '
                                           + ", ".join((f'"{c}" COLLATE "C"' if c in text_keys else f'"{c}"')
                                                       + " NULLS FIRST" for c in table.key)), kinds)
        if mine[0] != theirs[0] or mine[0] != copied[name]:
            raise MoveError(f"{name}: {mine[0]} rows in SQLite, {theirs[0]} in PostgreSQL")
        if mine[1] != theirs[1]:
            raise MoveError(f"{name}: the rows differ between SQLite and PostgreSQL")
    async with source.snapshot() as q:
        expected, _ = await audit.verify(q)
    async with target.snapshot() as q:
        entries, broken = await audit.verify(q)
    if broken is not None or entries != expected:
        raise MoveError(f"the audit chain in PostgreSQL does not verify ({entries} of {expected} entries sound)")
    return Moved(dict(copied), entries)
