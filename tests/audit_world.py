"""The audit log's test world (tests/test_audit.py, tests/test_audit_anchor.py): a migrated SQLite database with
entries written through `audit.record`, the file read and tampered with through the stdlib `sqlite3` (as
someone with write access to it would), and `python -m bot` run in-process on it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.config import TOKEN_ENV
from storage import audit, people
from storage.db import Database
from storage.migrate import migrate
from tests.fakes import MovableClock

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ZEROS = "0" * 64
Run = Callable[..., tuple[int, str, str]]
"""`run(database, *argv)`: main() on that database; (exit status, stdout, stderr)."""


def moment(i: int) -> datetime:
    return START + timedelta(minutes=i)


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def tamper(db: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
    """What someone with write access to the file can do: drop the triggers, then change rows."""
    with closing(sqlite3.connect(db)) as conn:
        triggers = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_head')"
        ).fetchall()
        assert len(triggers) == 6
        for (name,) in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            sql, params = (statement, ()) if isinstance(statement, str) else statement
            conn.execute(sql, params)
        conn.commit()


async def open_db(path: Path) -> Database:
    db = await Database.open(path)
    await migrate(db, START)
    return db


async def fill(db: Database, count: int, first: int = 1) -> None:
    """Entries `first`..`first+count-1`: a clerk (person 1) on matters 1-3, every third by the system."""
    async with db.transaction() as tx:
        if await people.get(tx, 1) is None:
            await people.add_staff(tx, "陈静", None, ["office"], "", START)
        for i in range(first, first + count):
            actor = None if i % 3 == 0 else 1
            await audit.record(tx, moment(i), actor, "matter.state", matter_id=i % 3 + 1,
                               detail={"from": "registered", "to": "assigned", "department_id": i})


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """`run(db, *argv)`: main() with a configuration whose database is `db`; returns (status, stdout, stderr)."""
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    def call(database: Path, *argv: str) -> tuple[int, str, str]:
        config = tmp_path / f"{database.stem}.toml"
        config.write_text(
            "[storage]\n"
            f"database = {json.dumps(database.as_posix())}\n"
            f"files_dir = {json.dumps((tmp_path / 'files').as_posix())}\n",
            encoding="utf-8",
        )
        capsys.readouterr()
        status = main(["--config", str(config), *argv], MovableClock())
        out, err = capsys.readouterr()
        return status, out, err

    yield call


def prepare(path: Path, count: int) -> str:
    """A closed database at `path` with `count` entries; returns its head hash."""
    async def build() -> str:
        db = await open_db(path)
        try:
            await fill(db, count)
        finally:
            await db.close()
        return str(query(path, "SELECT hash FROM audit_head")[0][0])
    return asyncio.run(build())
