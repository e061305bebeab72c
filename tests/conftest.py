"""Shared fixtures: each test its own database, its own clock, the whole core."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
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
from tests.fakes import Harness, MovableClock, RecordingChannel, test_config


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` first, the longest first (`@pytest.mark.slow(seconds)`, roughly as measured
    alone), then the rest in their order: on parallel workers each slow one (a drill, a child process)
    starts at once and the short ones fill in around it, instead of a drill starting last and the run
    waiting for it alone."""
    def weight(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else -float(marker.args[0] if marker.args else 1.0)

    items.sort(key=weight)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with every migration applied, and its data key, made once: each harness starts from a
    copy (migrating a new database for each of some 700 tests took a quarter of a minute)."""
    folder = tmp_path_factory.mktemp("migrated")

    async def build() -> None:
        app = await App.open(test_config(folder), MovableClock())
        await app.close()

    asyncio.run(build())
    return folder


@pytest.fixture
async def harness(tmp_path: Path, clock: MovableClock, migrated: Path) -> AsyncIterator[Harness]:
    config = test_config(tmp_path)
    for name in (config.storage.database.name, config.storage.key_file.name):
        shutil.copy2(migrated / name, tmp_path / name)
    app = clock.pace(await App.open(config, clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    h = Harness(app, channel, clock)
    yield h
    await h.app.close()  # the test may have replaced the app (a simulated restart)
