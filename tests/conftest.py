"""Shared fixtures: each test its own database, its own clock, the whole core."""

from __future__ import annotations

from collections.abc import AsyncIterator
import os
import tempfile
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


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def harness(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Harness]:
    app = clock.pace(await App.open(test_config(tmp_path), clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    h = Harness(app, channel, clock)
    yield h
    await h.app.close()  # the test may have replaced the app (a simulated restart)
