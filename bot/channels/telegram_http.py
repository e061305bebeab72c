"""The HTTP transport of the Telegram channel: python-telegram-bot's HTTPXRequest, tuned for many sends.

Imported before python-telegram-bot and httpx (bot/channels/telegram.py imports it first), so that
the `sniffio` fix below is in place before httpcore first looks for it.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any


def _mark_sniffio_absent() -> None:
    """httpcore runs `import sniffio` on every request to learn the event loop and falls back to asyncio
    when it is missing (anyio 4.16 no longer installs it). A failed import is not cached, so each request
    searched sys.path again: ~12 % of the bot's CPU under load. Recording it as absent, as Python's import
    system defines (a None in sys.modules), makes that ImportError immediate; the fallback is the same."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_mark_sniffio_absent()

from telegram.request import BaseRequest, HTTPXRequest, RequestData  # noqa: E402

SHARDS, SHARD_CONNECTIONS = 16, 4  # up to 64 sends at once, in 16 small connection pools (see ShardedRequest)


class ShardedRequest(BaseRequest):
    """Several HTTPXRequest pools behind one: each request goes to the least busy.

    httpcore's connection pool does work proportional to its connections times its queued
    requests on every request and every response (and polls each idle socket), so one pool
    of 64 connections spent more CPU on bookkeeping than on the requests once dozens were in
    flight. Sixteen pools of four carry the same number of concurrent sends at a fraction of it.
    """

    def __init__(self, shards: list[HTTPXRequest]) -> None:
        self.shards = shards
        self.busy = [0] * len(shards)

    @property
    def read_timeout(self) -> float | None:
        return self.shards[0].read_timeout

    async def initialize(self) -> None:
        for shard in self.shards:
            await shard.initialize()

    async def shutdown(self) -> None:
        for shard in self.shards:
            await shard.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        index = min(range(len(self.shards)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            return await self.shards[index].do_request(url, method, request_data, read_timeout, write_timeout,
                                                       connect_timeout, pool_timeout)
        finally:
            self.busy[index] -= 1
