"""Builds everything in one place and owns the order of start-up and shutdown.

Start-up: open the database, apply migrations, settle what a crash left in flight, then
start the dispatcher, the inbox processor and finally the channels' receivers (so that
nothing is received before it can be processed). Shutdown runs the other way round.
All of it shares one event loop, so the scheduler and a future WeCom HTTP server can
join without threads.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timedelta
from typing import Protocol

from bot.channels.base import Channel
from bot.messages import ChannelTraits, register_traits
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.errors import ConfigError
from bot.data_key import open_sealer
from bot.dispatch import Dispatcher
from bot.files import FileStore
from bot.group_commit import GroupCommit
from bot.health import StorageHealth, StoreUnavailable, is_disk_full
from bot.i18n import Translator
from bot.inbox import InboxProcessor
from bot.messages import Reply
from bot.scheduler import Ticker
from handlers import routes
from handlers.oversight.sweep import Sweep, sweep
from storage import inbox, people, retention, units
from storage.db import Database, unusable
from storage.migrate import migrate

log = logging.getLogger(__name__)


class Receiver(Protocol):
    """A channel that also receives: it runs until cancelled, storing what arrives via `app.store`."""

    name: str

    async def receive(self, app: App) -> None: ...


class App:
    def __init__(self, config: Config, db: Database, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.files = FileStore(config.storage.files_dir, clock)
        self._files_checked_at: datetime | None = None  # the daily look for stored files nothing names
        self.channels: dict[str, Channel] = {}
        self.dispatcher = Dispatcher(db, self.channels, config.outbox, clock, files=self.files)
        self.processor = InboxProcessor(db, self.channels, routes.build(), config, clock,
                                        on_outbox=self.dispatcher.wake)
        self.health = StorageHealth(self._alert_admins)  # a full disk (bot/health.py)
        self.dispatcher.health = self.processor.health = self.health
        self._store: GroupCommit[tuple[str, list[tuple[str, str, str]], timedelta], int] = GroupCommit(
            self._store_batch, max_batch=self.processor.max_group)  # as many as it may handle at once

    @classmethod
    async def open(cls, config: Config, clock: Clock | None = None) -> App:
        clock = clock or SystemClock()
        db = await Database.open(config.database_engine)
        try:
            applied = await migrate(db, clock.now())
            await open_sealer(db, config, clock.now())  # the data key, checked against the data (bot/data_key.py)
            async with db.transaction() as tx:  # unit 1 is the one [unit] describes (storage/units.py)
                await units.follow_config(tx, config.unit.name, config.unit.matter_prefix, config.unit.timezone)
        except units.UnitError as exc:
            await db.close()
            raise ConfigError("unit.matter_prefix", str(exc)) from None
        except sqlite3.Error as exc:  # damaged past what quick_check saw, or locked since
            await db.close()
            raise unusable(config.storage.database, exc) from None
        except BaseException:
            await db.close()  # its threads would otherwise keep the process alive
            raise
        if applied and applied[0].startswith("0001_"):  # a new database: its whole schema, not thirty-odd names
            log.info("database %s: created (schema %s)", config.database_shown, applied[-1].split("_")[0])
        elif applied:
            log.info("database %s: applied %s", config.database_shown, ", ".join(applied))
        return cls(config, db, clock)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel
        traits = getattr(channel, "traits", None)
        if isinstance(traits, ChannelTraits):
            register_traits(channel.name, traits)

    async def store(self, channel: str, items: list[tuple[str, str, str]],
                    window: timedelta = inbox.REDELIVERY_WINDOW) -> int:
        """Commit received updates (external_id, chat_key, payload); return how many were new. `window`: how
        long the channel may deliver an update again (an id older than that names a new update).

        Callers that come while another's updates are being committed share the next commit: a WeCom
        callback is answered only once it is kept, and callbacks come one by one, many at once."""
        try:
            added = await self._store((channel, items, window))
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.health.trouble(exc, f"receiving from {channel}")
            raise StoreUnavailable(str(exc)) from exc  # the channel must not confirm these
        self.health.ok()
        self.processor.wake()
        return added

    async def _store_batch(self, batch: list[tuple[str, list[tuple[str, str, str]], timedelta]]) -> list[int]:
        """One transaction: the updates stored, and those that need nothing first handled (bot/inbox.py)."""
        try:
            return await self._store_and_handle(batch, at_once=True)
        except Exception as exc:
            if is_disk_full(exc):
                raise
            # Handling must never keep an update from being stored (the channel would send it again, and again):
            # stored alone, it is the processor's, which fails what fails with the apology.
            log.exception("updates not handled at once (%s); stored for the processor", type(exc).__name__)
            return await self._store_and_handle(batch, at_once=False)

    async def _store_and_handle(self, batch: list[tuple[str, list[tuple[str, str, str]], timedelta]],
                                at_once: bool) -> list[int]:
        try:
            async with self.db.transaction() as tx:
                now = self.clock.now()
                stored = [await inbox.store(tx, channel, items, now, window) for channel, items, window in batch]
                new = [entry for entries in stored for entry in entries]
                handled = await self.processor.handle_at_once(tx, new) if at_once else 0
        except BaseException:
            self.processor.end_at_once(committed=False)
            raise
        self.processor.end_at_once(committed=True)
        if handled:
            self.dispatcher.wake()
        return [len(entries) for entries in stored]

    async def _alert_admins(self, full: bool) -> None:
        """Tell each administrator, in their language, directly through a running channel: the outbox is in the
        database that cannot be written."""
        async with self.db.snapshot() as q:
            admins = [p for p in [await people.get(q, i) for i in await people.administrators(q)] if p]
            chats = {p.id: [c for c in await people.chats_of(q, p.id) if c[0] in self.channels] for p in admins}
        for admin in admins:
            if not chats[admin.id]:
                continue
            channel, chat_id = chats[admin.id][0]
            _ = Translator(admin.locale or self.config.default_locale, self.config.unit.tz, self.config.terms)
            text = (_("The disk of the liaison service is full: what deputies send is not confirmed and waits with "
                      "them, and nothing is lost. Please free space on the disk of the data folder; the service "
                      "resumes by itself.") if full else
                    _("The disk of the liaison service takes writes again: the service has resumed by itself."))
            try:
                await self.channels[channel].deliver(chat_id, "message", Reply(text).to_json())
            except Exception as exc:  # a delivery error, or the channel's own bookkeeping refused by the disk
                log.warning("could not tell administrator %s about the disk (%s)", admin.id, type(exc).__name__)

    async def settle(self) -> None:
        """Process everything received and send everything due (the console, tests)."""
        await self.processor.process_pending()
        await self.dispatcher.flush()

    async def supervise(self) -> Sweep:
        """One tick: fire what is due now (handlers/oversight/sweep.py), and forget what is kept no longer
        (storage/retention.py: `storage.keep_messages_days`, `storage.keep_dialogs_days`)."""
        now = self.clock.now()
        result = await sweep(self.db, self.config, now, frozenset(self.channels), routes.REMINDERS)
        if result.fired:
            self.dispatcher.wake()
        keep = self.config.storage
        done = await retention.forget(self.db, self.files, now, timedelta(days=keep.keep_messages_days),
                                      timedelta(days=keep.keep_dialogs_days))
        if done.texts or done.dialogues:
            log.info("retention: %d message texts erased, %d abandoned dialogues dropped with %d files",
                     done.texts, done.dialogues, done.files)
        if keep.keep_complainant_days:
            erased = await retention.forget_complainants(self.db, now, timedelta(days=keep.keep_complainant_days))
            if erased:
                log.info("retention: the complainant's data of %d closed referred cases erased", erased)
        if self._files_checked_at is None or now - self._files_checked_at >= timedelta(days=1):
            self._files_checked_at = now
            removed = await retention.forget_unnamed_files(self.db, self.files, now,
                                                           timedelta(days=keep.keep_messages_days))
            if removed:
                log.info("retention: %d stored files that nothing named removed", removed)
        return result

    async def run(self, receivers: list[Receiver], stop: asyncio.Event | None = None,
                  scheduler: bool = True) -> None:
        """Run until `stop` is set or a receiver ends (the console at end of input); then shut down in order."""
        await self.dispatcher.recover()
        ticker = Ticker(self.config, self.clock, self.supervise) if scheduler else None
        workers = [
            asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self.processor.run(), name="inbox"),
        ]
        receiving = [asyncio.create_task(r.receive(self), name=f"receive-{r.name}") for r in receivers]
        waiters = [asyncio.create_task((stop or asyncio.Event()).wait(), name="stop")]
        if ticker is not None:
            ticker.start()
        try:
            done, _ = await asyncio.wait([*receiving, *waiters, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                failure = task.exception()
                if failure is not None:
                    raise failure
        finally:
            if ticker is not None:
                ticker.stop()
            for group in (receiving, [*workers], waiters):
                for task in group:
                    task.cancel()
                await asyncio.gather(*group, return_exceptions=True)
            await self.processor.stop()
            await self.dispatcher.stop()

    async def close(self) -> None:
        await self.db.close()
