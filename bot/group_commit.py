"""Group commit: writes asked for while the previous one is being committed share the next commit.

The first caller finds the writer idle and commits alone; callers arriving meanwhile queue, and the
writer takes all of them into one transaction once it is free. Each caller returns when its own write
is committed, with its own result, or raises what the commit raised. Used where many small writes must
each be durable before the caller may go on: the dispatcher's "sent" marks, and received updates that
must be committed before they are acknowledged (a WeCom callback answered 200).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 0) -> None:
        """`write` commits a batch in one transaction and returns one result per item, in order; at most `max_batch`
        items a batch (0: all that wait)."""
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._waiting:
            cut = self._max_batch or len(self._waiting)
            batch, self._waiting = self._waiting[:cut], self._waiting[cut:]
            try:
                results = await self._write([item for item, _ in batch])
            except BaseException as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    for _, done in self._waiting:  # nobody is left to write them
                        if not done.done():
                            done.set_exception(RuntimeError("cancelled"))
                    self._waiting = []
                    raise
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)
