"""The two private APIs the code leans on, checked so that an upgrade that removes or changes them fails
here, by name and pin, instead of somewhere deep in a send or a query.

- python-telegram-bot's `Bot._post` (bot/channels/telegram.py, `_Bot.call`): the path `send_message` & co.
  take, without parsing every answer into objects.
- aiosqlite's `Connection._execute` and `Connection._conn` (storage/db.py, `SqliteTx`): BEGIN IMMEDIATE, COMMIT
  and a long read's queries go to the connection's thread as one trip each; the other queries run on `_conn`
  from the event loop (the connection is opened with check_same_thread off).
"""

from __future__ import annotations

import inspect
import sqlite3
import tomllib
from pathlib import Path

import aiosqlite
import telegram

REPO = Path(__file__).resolve().parent.parent


def _pin(package: str) -> str:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    return next(d for d in dependencies if d.lower().startswith(package.lower() + "=="))


def test_ptb_bot_post_is_still_there_with_the_arguments_we_pass() -> None:
    pin = _pin("python-telegram-bot")
    assert telegram.__version__ == pin.split("==")[1], (
        f"python-telegram-bot {telegram.__version__} is installed but {pin} is pinned: re-check _Bot.call")
    post = getattr(telegram.Bot, "_post", None)
    assert post is not None and inspect.iscoroutinefunction(post), (
        f"telegram.Bot._post is gone or no longer a coroutine ({pin}): bot/channels/telegram.py _Bot.call "
        "needs another way to make a Bot API call by name")
    parameters = inspect.signature(post).parameters
    assert list(parameters)[:3] == ["self", "endpoint", "data"] and "read_timeout" in parameters, (
        f"telegram.Bot._post changed its signature ({pin}): {list(parameters)}; see _Bot.call")


async def test_aiosqlite_execute_runs_a_function_on_the_connections_thread(tmp_path: Path) -> None:
    pin = _pin("aiosqlite")
    assert aiosqlite.__version__ == pin.split("==")[1], (
        f"aiosqlite {aiosqlite.__version__} is installed but {pin} is pinned: re-check storage/db.py SqliteTx")
    async with aiosqlite.connect(tmp_path / "x.db") as conn:
        assert hasattr(conn, "_execute") and hasattr(conn, "_conn"), (
            f"aiosqlite.Connection._execute/_conn are gone ({pin}): storage/db.py SqliteTx._run needs another way")

        def run(raw: sqlite3.Connection, sql: str, params: tuple[int]) -> list[tuple[int]]:
            assert isinstance(raw, sqlite3.Connection)
            return list(raw.execute(sql, params))

        got = await conn._execute(run, conn._conn, "SELECT ? + 1", (41,))  # type: ignore[no-untyped-call]
        assert got == [(42,)], f"aiosqlite.Connection._execute no longer returns the function's result ({pin})"
    async with aiosqlite.connect(tmp_path / "y.db", check_same_thread=False) as conn:
        # made on aiosqlite's thread, queried here on the event loop's (SqliteTx's queries)
        assert list(conn._conn.execute("SELECT 6 * 7")) == [(42,)], (
            f"aiosqlite no longer passes check_same_thread to sqlite3.connect ({pin}): see storage/db.py _connect")
