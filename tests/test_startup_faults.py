"""A bad day at start-up (issue 15, items 9 and 11): a garbage file, damaged pages or a locked database
stop the bot at once with one line naming the file and what to do, leaving nothing open behind; a second
bot on the same database is refused."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.app import App
from bot.config import load
from bot.instance import InstanceLock, held
from storage.db import Database, DatabaseUnusableError
from tests.fakes import MovableClock

pytestmark = pytest.mark.sqlite_only(
    "garbage, damaged and locked SQLite files; a PostgreSQL server that cannot be reached is "
    "tests/test_storage_engines.py's")

ROOT = Path(__file__).resolve().parent.parent


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "data" / "liaison.db"}"\n'
                      f'files_dir = "{tmp_path / "data" / "files"}"\n', "utf-8")
    return config


def others() -> list[threading.Thread]:
    """Threads alive but the main one and the event loop's executor (asyncio.to_thread); aiosqlite runs one per
    connection, and one left running would keep the process alive."""
    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.name.startswith("asyncio_")]


def none_left() -> bool:
    for thread in others():
        thread.join(timeout=10)  # a closed connection's thread ends on its own, just after close() returns
    return not others()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_garbage_file_stops_the_process_at_once_with_one_line(tmp_path: Path) -> None:
    """Before: a traceback, and the process hung on aiosqlite's thread. Run as the operator would."""
    config = write_config(tmp_path)
    database = tmp_path / "data" / "liaison.db"
    database.parent.mkdir()
    database.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "audit", "verify"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert time.monotonic() - started < 30
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith(f"error: database {database} is damaged or not a database (file is not a database)")
    assert "python -m bot restore ARCHIVE" in line and "PRAGMA integrity_check" in line


async def test_damaged_pages_are_found_at_start_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    app = await App.open(load(config), MovableClock())
    async with app.db.transaction() as tx:
        for n in range(400):
            await tx.execute("INSERT INTO departments (name, created_at) VALUES (?, '2026-01-01')", (f"部门{n:04d}" * 8,))
    await app.close()
    database = tmp_path / "data" / "liaison.db"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    data = bytearray(database.read_bytes())
    for page in range(pages - 6, pages - 1):  # the departments' last pages: the schema itself still reads
        data[page * page_size + 8: page * page_size + 200] = b"\xa5" * 192
    database.write_bytes(bytes(data))
    assert none_left()
    assert await asyncio.to_thread(main, ["--config", str(config), "audit", "verify"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"error: database {database} is damaged or not a database (")
    assert none_left()


async def test_a_locked_database_is_named_after_busy_timeout_and_nothing_stays_open(tmp_path: Path) -> None:
    """busy_timeout is set before WAL is switched on, so a lock held for a moment is waited for, and one held
    for longer is reported as such."""
    database = tmp_path / "locked.db"
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    assert none_left()
    try:
        with pytest.raises(DatabaseUnusableError) as caught:
            await Database.open(database, busy_timeout_ms=200)
        assert str(caught.value).startswith(f"database {database} is locked by another process (waited 0.2 s)")
        assert none_left()
        # A lock let go within busy_timeout is simply waited for. The release is the event loop's timer, not a
        # thread's: a thread's timed wait never ends under libfaketime's moved monotonic clock (.ci/run).
        asyncio.get_running_loop().call_later(0.1, holder.execute, "COMMIT")
        db = await Database.open(database, busy_timeout_ms=5000)
        assert not holder.in_transaction
        await db.close()
    finally:
        holder.close()


def test_a_second_bot_on_the_same_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    database = tmp_path / "data" / "liaison.db"
    with InstanceLock(database):
        assert held(database)
        assert main(["--config", str(config), "run", "--channel", "console"]) == 2
        line = one_line(capsys.readouterr().err)
        assert line == (f"error: another bot is already running on {database} (process {os.getpid()}): stop it first;"
                        " two bots on one database would both answer and trip Telegram's flood limits")
        assert not database.exists()  # refused before anything was opened
    assert not held(database)


@pytest.mark.slow(6)
def test_a_second_bot_process_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    command = [sys.executable, "-m", "bot", "--config", str(config), "run", "--channel", "console"]
    first = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None
        first.stdout.readline()  # the console's greeting: it runs, and holds the lock
        second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert second.returncode == 2
        assert one_line(second.stderr).startswith(f"error: another bot is already running on "
                                                  f"{tmp_path / 'data' / 'liaison.db'} (process {first.pid})")
    finally:
        out, err = first.communicate(":quit\n", timeout=60)
    assert first.returncode == 0, err
