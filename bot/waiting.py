"""Waiting for an event, at most a while, without losing a cancellation.

`asyncio.wait_for(event.wait(), timeout)` in Python 3.11 returns normally when the event is set in
the same moment as the waiting task is cancelled: the cancellation is lost (fixed in 3.12). A loop
that waits that way — the dispatcher between sends, the inbox between batches — then never stops,
and the bot hangs on SIGTERM (seen: the last send finished and woke the dispatcher just as the
shutdown cancelled it). `asyncio.timeout` keeps the cancellation.
"""

from __future__ import annotations

import asyncio


async def wait_a_while(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
