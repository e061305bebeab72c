"""Numbered SQL migrations in storage/migrations/NNNN_name.sql, applied in order, once each.

Each file runs in its own transaction together with the row that records it in
`schema_migrations`, so a crash leaves the schema at a whole version. A landed migration
is never edited: its SHA-256 is recorded, and a changed file stops start-up.

One set of migrations serves both engines. On PostgreSQL a migration runs as `storage.db.pg_ddl` rewrites
its integer keys, or, where SQLite's text differs in more (triggers), from its `NNNN_name.pg.sql` file
beside it; the checksum recorded is that of the text applied.

A SQLite migration that rebuilds a table (SQLite cannot drop a constraint in place: a new table, the rows copied,
the old one dropped, the new one renamed, as SQLite's ALTER TABLE page prescribes) begins with the line
`-- foreign keys off`: it then runs with foreign key enforcement off (it cannot be switched inside a
transaction, and a table with rows referring to it cannot be dropped with it on), every foreign key of the
database is checked before its COMMIT (a violation rolls the migration back), and enforcement is on again
after it, whatever happened.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.errors import LiaisonError
from storage.db import Database, ts
from storage.dialect import pg_ddl
from storage.pg import WRITER_LOCK

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_PG_NAME = re.compile(r"^(\d{4}_[a-z0-9_]+)\.pg\.sql$")


class MigrationError(LiaisonError):
    """The database and the migration files disagree."""


_BEGIN = {
    "sqlite": "BEGIN IMMEDIATE",
    # the writers' advisory lock (storage/pg.py): two processes starting at once apply each migration once
    "postgresql": f"BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})",
}


FOREIGN_KEYS_OFF = "-- foreign keys off"
# a migration that broke a reference fails on this CHECK before its COMMIT: nothing of it is kept
_FOREIGN_KEYS_KEPT = (
    "CREATE TEMP TABLE migration_foreign_keys (broken INTEGER NOT NULL CHECK (broken = 0));\n"
    "INSERT INTO migration_foreign_keys SELECT COUNT(*) FROM pragma_foreign_key_check;\n"
    "DROP TABLE migration_foreign_keys;\n"
)


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    pg_sql: str | None = None  # the PostgreSQL text, where SQLite's differs in more than pg_ddl rewrites

    def text(self, dialect: str) -> str:
        if dialect == "postgresql":
            return self.pg_sql if self.pg_sql is not None else pg_ddl(self.sql)
        return self.sql

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(folder: Path = MIGRATIONS) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        if _PG_NAME.match(path.name):
            if not path.with_name(path.name.removesuffix(".pg.sql") + ".sql").exists():
                raise MigrationError(f"{path.name} has no SQLite migration beside it")
            continue
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"badly named migration file {path.name}")
        pg = path.with_name(path.name.removesuffix(".sql") + ".pg.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text("utf-8"),
                               pg.read_text("utf-8") if pg.exists() else None))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration numbers must run 1, 2, 3... without gaps: {versions}")
    return found


async def migrate(db: Database, now: datetime, folder: Path = MIGRATIONS) -> list[str]:
    """Apply what is missing; return the names applied."""
    await db.run_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with db.snapshot() as q:
        done = {int(r["version"]): r for r in await q.all("SELECT * FROM schema_migrations")}
    applied = []
    for migration in available(folder):
        row = done.get(migration.version)
        if row is not None:
            if row["checksum"] != checksum(migration.text(db.dialect)):
                raise MigrationError(f"{migration.name} was edited after it was applied")
            continue
        record = (
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES "
            f"({migration.version}, '{migration.name}', '{checksum(migration.text(db.dialect))}', '{ts(now)}');"
        )
        text = migration.text(db.dialect)
        if db.dialect == "sqlite" and text.startswith(FOREIGN_KEYS_OFF):
            try:
                await db.run_script(f"PRAGMA foreign_keys=OFF;\n{_BEGIN[db.dialect]};\n{text}\n{_FOREIGN_KEYS_KEPT}"
                                    f"{record}\nCOMMIT;")
            except sqlite3.IntegrityError as exc:
                raise MigrationError(f"{migration.name} would break a reference between tables ({exc});"
                                     " nothing of it was applied") from None
            finally:
                await db.run_script("PRAGMA foreign_keys=ON")
        else:
            await db.run_script(f"{_BEGIN[db.dialect]};\n{text}\n{record}\nCOMMIT;")
        log.debug("applied migration %s", migration.name)  # the caller says which, once (bot/app.py)
        applied.append(migration.name)
    if done and max(done) > len(available(folder)):
        raise MigrationError("the database is newer than this program; upgrade the program")
    return applied
