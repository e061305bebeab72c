"""The writer's lock of one process, for either engine (storage/db.py, storage/pg.py)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterGate:
    """The writer's lock, handed over in order: urgent waiters first, alternating with ordinary ones.

    An urgent waiter goes before the ordinary ones, unless the previous holder was urgent too
    and an ordinary one is waiting: then that one goes first. So neither kind can starve the
    other, however steady the stream of urgent work.
    """

    def __init__(self) -> None:
        self._held = False
        self._last_urgent = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._ordinary:
            self._held, self._last_urgent = True, urgent
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._ordinary
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("WriterGate released while not held")
        while True:
            urgent = bool(self._urgent) and not (self._last_urgent and self._ordinary)
            queue = self._urgent if urgent else self._ordinary
            if not queue:
                self._held = False
                return
            waiter = queue.popleft()
            if not waiter.done():
                self._last_urgent = urgent
                waiter.set_result(None)  # still held: handed straight to the waiter
                return

    @asynccontextmanager
    async def held(self, urgent: bool = False) -> AsyncIterator[None]:
        await self.acquire(urgent)
        try:
            yield
        finally:
            self.release()
