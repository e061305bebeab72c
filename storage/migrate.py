"""Numbered SQL migrations in storage/migrations/NNNN_name.sql, applied in order, once each.

Each file runs in its own transaction together with the row that records it in
`schema_migrations`, so a crash leaves the schema at a whole version. A landed migration
is never edited: its SHA-256 is recorded, and a changed file stops start-up.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.errors import LiaisonError
from storage.db import Database, ts

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(LiaisonError):
    """The database and the migration files disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(folder: Path = MIGRATIONS) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"badly named migration file {path.name}")
        found.append(Migration(int(match.group(1)), path.name, path.read_text("utf-8")))
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
            if row["checksum"] != migration.checksum:
                raise MigrationError(f"{migration.name} was edited after it was applied")
            continue
        record = (
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES "
            f"({migration.version}, '{migration.name}', '{migration.checksum}', '{ts(now)}');"
        )
        await db.run_script(f"BEGIN IMMEDIATE;\n{migration.sql}\n{record}\nCOMMIT;")
        log.info("applied migration %s", migration.name)
        applied.append(migration.name)
    if done and max(done) > len(available(folder)):
        raise MigrationError("the database is newer than this program; upgrade the program")
    return applied
