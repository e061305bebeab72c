"""tests/fastchild.py, the drills' child bot on a faster time base: it leans on two seams of bot/dispatch.py
(the Dispatcher's `monotonic` and its `wait_a_while` between ticks); should either move, this fails here, by
name, instead of the drills quietly waiting on the real clock again (or failing somewhere far away)."""

from __future__ import annotations

import asyncio

import pytest

from bot import dispatch
from bot.config import OutboxConfig
from tests.fakes import MovableClock
from tests.fastchild import fast_monotonic, install


class Hand:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_fast_clock_counts_speed_seconds_for_each_second_from_its_start() -> None:
    hand = Hand()
    fast = fast_monotonic(20.0, hand)
    assert fast() == 0.0
    hand.now += 1.5
    assert fast() == 30.0


async def test_install_gives_every_new_dispatcher_the_fast_clock_and_shortens_its_waits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hand = Hand()
    waited: list[float] = []

    async def plain_wait(event: asyncio.Event, seconds: float) -> bool:
        waited.append(seconds)
        return event.is_set()

    monkeypatch.setattr(dispatch, "wait_a_while", plain_wait)
    install(20.0, monkeypatch.setattr, hand)
    d = dispatch.Dispatcher(None, {}, OutboxConfig(), MovableClock())  # type: ignore[arg-type]
    hand.now += 0.5
    assert d.monotonic() == 10.0  # the per-member pacing, back-off and 429 waits run on it
    assert await dispatch.wait_a_while(asyncio.Event(), 2.0) is False
    assert waited == [0.1]  # the run loop's wait for a gap of 2 s on the fast clock: a tenth of a real second


def test_install_refuses_a_speed_below_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="at least 1"):
        install(0.5, monkeypatch.setattr)
