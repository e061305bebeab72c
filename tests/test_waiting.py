"""The loops of the dispatcher and the inbox stop when cancelled, even in the very moment they are woken.

With `asyncio.wait_for(event.wait(), timeout)` (Python 3.11) a cancellation that arrives together with
the wake-up was lost: the loop went round again and the bot never exited on SIGTERM (seen in the
start-up drills of tests/test_kill.py: the last send woke the dispatcher as the shutdown cancelled it).
"""

from __future__ import annotations

import asyncio

import pytest

from bot.dispatch import Dispatcher
from bot.inbox import InboxProcessor
from bot.waiting import wait_a_while
from tests.fakes import Harness


async def _loop(event: asyncio.Event) -> None:
    while True:
        event.clear()
        await wait_a_while(event, 60)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_a_cancellation_that_comes_with_the_wake_up_is_not_lost(turns: int) -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_loop(event))
    for _ in range(3):
        await asyncio.sleep(0)  # (a turn of the event loop, not a pause)
    event.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_wait_a_while_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    event.set()
    assert await wait_a_while(event, 60) is True
    assert await wait_a_while(asyncio.Event(), 0) is False


@pytest.mark.parametrize("which", ["dispatcher", "inbox"])
async def test_the_workers_stop_when_cancelled_as_they_are_woken(harness: Harness, which: str) -> None:
    worker: Dispatcher | InboxProcessor = harness.app.dispatcher if which == "dispatcher" else harness.app.processor
    for turns in range(4):
        task = asyncio.create_task(worker.run())
        for _ in range(3):
            await asyncio.sleep(0)
        worker.wake()
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
