"""Shared fixtures: each test its own database, its own clock, the whole core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from tests.fakes import Harness, MovableClock, RecordingChannel, test_config


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def harness(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Harness]:
    app = await App.open(test_config(tmp_path), clock)
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    yield Harness(app, channel, clock)
    await app.close()
