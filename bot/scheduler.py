"""The scheduler only ticks: APScheduler calls the sweep every few minutes, in the unit's time
zone, on the bot's own event loop. What is due is recomputed from storage on every tick (see
handlers/oversight/sweep.py), so nothing depends on APScheduler remembering anything: a job it
skips, coalesces or loses across a restart is simply covered by the next tick, and the first
tick runs at start-up, so what fell due while the bot was down goes out at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.config import Config

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, config: Config, clock: Clock, tick: Callable[[], Awaitable[object]]) -> None:
        self._tick = tick
        self._scheduler = AsyncIOScheduler(timezone=config.unit.tz)
        self._scheduler.add_job(
            self._run, IntervalTrigger(minutes=config.supervision.tick_minutes, timezone=config.unit.tz),
            id="sweep", coalesce=True, max_instances=1, misfire_grace_time=None,
            next_run_time=clock.now(),
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _run(self) -> None:
        try:
            result = await self._tick()
            log.info("sweep: %s", result)
        except Exception:  # a failed tick must not stop the next one
            log.exception("sweep failed")
        except asyncio.CancelledError:  # the bot stopping in the middle of a tick: its work is redone by the next start
            log.info("sweep: stopped with the bot, to be done again at the next start")
