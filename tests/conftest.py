"""Shared fixtures: each test its own database, its own clock, the whole core."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import replace
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# python-telegram-bot's documented opt-in to timedelta durations; without it, building a
# RetryAfter warns, and under filterwarnings=error every 429 would turn into a crash.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Each test's database and files in memory (a tmpfs) when the machine has one and no TMPDIR was
# chosen: the bot commits with synchronous=FULL, and on a virtual disk the fsyncs were more than half
# of a dialogue test's time. The code under test is the same; only the medium is faster. (pytest
# numbers its folders under the temporary directory, so concurrent runs do not collide.)
_RAM = Path("/dev/shm")
if "TMPDIR" not in os.environ and _RAM.is_dir() and os.access(_RAM, os.W_OK):
    os.environ["TMPDIR"] = str(_RAM)  # children (the bot run as a process) too
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again

from bot.app import App
from bot.config import DatabaseConfig
from tests import pg_cluster
from tests.fakes import Harness, MovableClock, RecordingChannel, test_config


@pytest.fixture(scope="session", autouse=True)
def postgresql_cluster() -> Iterator[pg_cluster.Cluster | None]:
    """With LIAISON_TEST_DATABASE=postgresql, a throw-away PostgreSQL cluster for the whole session
    (tests/pg_cluster.py): `test_config` then gives each test folder a database of its own on it."""
    if not pg_cluster.wanted():
        yield None
        return
    cluster = pg_cluster.Cluster.start()
    pg_cluster.current = pg_cluster.TestDatabases(cluster)
    try:
        yield cluster
    finally:
        pg_cluster.current.close()
        pg_cluster.last, pg_cluster.current = pg_cluster.current, None
        cluster.stop()


@pytest.fixture(autouse=True)
def _drop_test_databases(postgresql_cluster: pg_cluster.Cluster | None, request: pytest.FixtureRequest
                         ) -> Iterator[None]:
    if pg_cluster.current is not None:
        pg_cluster.current.used = False
    yield
    if pg_cluster.current is not None:
        if pg_cluster.current.used:
            pg_cluster.current.tests_on_postgresql += 1
        else:
            pg_cluster.current.tests_elsewhere.append(request.node.nodeid)
        pg_cluster.current.drop_all()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """On PostgreSQL: how many tests opened a database on the cluster (the others need none, or open an SQLite
    file of their own); LIAISON_TEST_DATABASE_REPORT=FILE lists the others."""
    databases = pg_cluster.last
    if databases is None:
        return
    terminalreporter.write_line(f"PostgreSQL: {databases.tests_on_postgresql} tests opened a database on the "
                                f"cluster, {len(databases.tests_elsewhere)} opened none there")
    report = os.environ.get("LIAISON_TEST_DATABASE_REPORT")
    if report:
        Path(report).write_text("\n".join(databases.tests_elsewhere) + "\n", "utf-8")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(why): SQLite by nature (its file, WAL, backup); skipped on "
                                       "PostgreSQL (LIAISON_TEST_DATABASE=postgresql)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` first, the longest first (`@pytest.mark.slow(seconds)`, roughly as measured
    alone), then the rest in their order: on parallel workers each slow one (a drill, a child process)
    starts at once and the short ones fill in around it, instead of a drill starting last and the run
    waiting for it alone. On PostgreSQL, those marked `sqlite_only` are skipped, with why."""
    def weight(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else -float(marker.args[0] if marker.args else 1.0)

    items.sort(key=weight)
    if not pg_cluster.wanted():
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "SQLite by nature"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with every migration applied, and its data key, made once: each harness starts from a
    copy (migrating a new database for each of some 700 tests took a quarter of a minute)."""
    folder = tmp_path_factory.mktemp("migrated")
    config = test_config(folder)
    if pg_cluster.current is not None:  # the template database each harness's database is copied from
        config = replace(config, database=DatabaseConfig(pg_cluster.current.make_template()))

    async def build() -> None:
        app = await App.open(config, MovableClock())
        await app.close()

    asyncio.run(build())
    return folder


@pytest.fixture
async def harness(tmp_path: Path, clock: MovableClock, migrated: Path) -> AsyncIterator[Harness]:
    if pg_cluster.current is not None:
        pg_cluster.current.url_for(tmp_path, template=pg_cluster.MIGRATED)
    config = test_config(tmp_path)
    for name in (config.storage.database.name, config.storage.key_file.name):
        if (migrated / name).exists():
            shutil.copy2(migrated / name, tmp_path / name)
    app = clock.pace(await App.open(config, clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    h = Harness(app, channel, clock)
    yield h
    await h.app.close()  # the test may have replaced the app (a simulated restart)
