"""Processing what channels received: each stored update exactly once, each chat in order.

A channel commits updates to the inbox table before confirming them to its sender. This
processor takes them from there: updates of one chat strictly one after the other,
different chats concurrently (a download or a slow chat does not hold the others up).
Each update is handled in one transaction that also marks it done, so a crash at any
point either leaves it to be processed again or has processed it completely. An update
whose handler fails unexpectedly is marked failed, logged with its traceback, and the
user is sent a plain apology; it is never retried in a loop.

Group commit: the updates of different chats that are ready at the same moment are handled
one after the other in one transaction, each inside its own savepoint (one durable commit
for the group instead of one each). A handler that fails rolls back to its savepoint only;
the others commit. Should the group's transaction itself fail, each of its updates is
handled again in a transaction of its own, so that none is failed for another's fault.

Handled at once (`handle_at_once`): an update is usually handled in the very transaction that stores it (the
channel's store, bot/app.py), before the channel confirms it: one durable commit, one pass, instead of a commit to
store it and another to handle it. What needs more stays stored for this processor, in its chat's order: an update
whose chat already has one waiting, one carrying files (fetched first), a command or button that reads first
(bot/read_first.py), one from a chat over its limit. One whose handler fails is rolled back to its savepoint, marked failed and apologised for, as the
processor does. Should the store's transaction fail, nothing of it was kept or done (nor counted), and the channel does
not confirm it. A channel's `prepare` must not wait for anything (the store holds the writer); what it reads is what was
committed, so a chat's second update in one batch is left to the processor, which prepares it once the first is in.

Who sent it comes before what it carries (issue 15 item 4): a channel's `prepare` only describes an
update; its files are fetched (`Channel.fetch`) once the sender is known to be bound, and within what
one chat may send in a minute ([intake] max_messages_per_minute, max_mb_per_minute, on the monotonic
clock; staff are not limited). A stranger's files are never downloaded. An update beyond the limit is
not handled: its payload is erased at once, and the chat is told once a minute to wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace

from bot import router
from bot.channels.base import Channel
from bot.chat_minutes import ChatMinutes, Counted
from bot.clock import Clock
from bot.config import Config
from bot.context import Context, initial_locale
from bot.health import StorageHealth, is_disk_full
from bot.i18n import Translator
from bot.messages import Incoming, Reply, alert_text, traits_of
from bot.model import actor_of
from bot.read_first import ReadFirst
from bot.waiting import wait_a_while
from storage import dialogs, inbox, people
from storage.db import Database, Tx
from storage.inbox import Entry
from storage.records import RECORDS

log = logging.getLogger(__name__)

UPDATE_SAVEPOINT = "inbox_update"  # each update of a group in its own; the router rolls a refusal back to it


class InboxProcessor:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        routes: router.Routes,
        config: Config,
        clock: Clock,
        on_outbox: Callable[[], None] = lambda: None,
        concurrency: int = 32,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.channels = channels
        self.routes = routes
        self.config = config
        self.clock = clock
        self.on_outbox = on_outbox
        self._queues: dict[str, deque[Entry]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._last_queued = 0
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        # Handler transactions serialise on the database's writer anyway; grouping them here, in
        # one task, keeps the writer's own queue short, so the dispatcher's "sent" marks are never
        # stuck behind dozens of handlers (the window in which a crash causes a resend).
        self._ready: list[tuple[Entry, Incoming | None, asyncio.Future[None]]] = []
        self._grouper: asyncio.Task[None] | None = None
        self.max_group = concurrency
        self.processed = 0
        self.groups = 0  # transactions that handled updates (tests, benchmarks)
        self.monotonic = monotonic
        self._minutes = ChatMinutes()  # what each chat sent in its last minute
        self._told_to_wait: dict[str, float] = {}  # per chat: when it was last asked to wait
        self._over_limit: set[int] = set()  # inbox ids not to be handled: beyond their chat's limit
        self.health = StorageHealth()  # the app's, shared with the dispatcher (bot/health.py)
        self.read_first = ReadFirst(db, channels, routes, config, clock)
        self._prepared: dict[int, object] = {}  # inbox id → what its command read before its transaction
        self.at_once = True  # handle what needs nothing first in the store's transaction (tests of the processor: off)
        self._tentative: list[tuple[str, Counted]] = []  # handled at once, not yet committed: (chat, counted)
        # a typed number's choice, read as it was stored, for an update left to the processor (its list is the one
        # the member had when the number came, not one that arrived while a report was drawn); and those of the
        # store's transaction under way, kept once it commits
        self._settled: dict[int, Incoming] = {}
        self._settling: list[tuple[int, Incoming]] = []

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Process forever; woken by channels after they store updates, and every second regardless."""
        while True:
            self._wake.clear()
            await self._enqueue_pending()
            await wait_a_while(self._wake, 1.0)

    async def process_pending(self) -> None:
        """Process everything stored so far and wait until it is done (tests, the console)."""
        await self._enqueue_pending()
        while self._workers:
            await asyncio.gather(*list(self._workers.values()))

    async def stop(self) -> None:
        tasks = list(self._workers.values())
        if self._grouper is not None:
            tasks.append(self._grouper)  # cancelled inside its transaction: rolled back, done again later
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _enqueue_pending(self) -> None:
        while True:
            async with self.db.snapshot() as q:
                entries = await inbox.pending(q, limit=500, after_id=self._last_queued)
            for entry in entries:
                self._last_queued = entry.id
                self._queues.setdefault(entry.chat_key, deque()).append(entry)
                if entry.chat_key not in self._workers:
                    self._workers[entry.chat_key] = asyncio.create_task(self._work(entry.chat_key))
            if len(entries) < 500:
                return

    async def _work(self, chat_key: str) -> None:
        queue = self._queues[chat_key]
        try:
            while queue:
                entry = queue[0]
                async with self._slots:
                    await self._process(entry)
                queue.popleft()
        finally:
            del self._workers[chat_key]
            if not queue:
                del self._queues[chat_key]

    async def _process(self, entry: Entry) -> None:
        channel = self.channels.get(entry.channel)
        if channel is None:
            # Received by a channel that is not running now: keep it for when it runs again.
            log.warning("inbox %s: channel %s is not running; left for later", entry.id, entry.channel)
            return
        full = self.health.backoff()
        within: bool | None = None  # counted against its chat's minute once, however often a full disk retries it
        while True:
            inc: Incoming | None = None
            try:
                inc = await channel.prepare(entry.payload)  # what was sent: nothing downloaded yet
                if inc is not None:
                    inc = self._settled.get(entry.id) or await self._settle(channel, inc)
                    if within is None:
                        within = (not getattr(channel, "limits_chats", True)  # the console: its own operator
                                  or self._within_limit(entry.chat_key, inc) or await self._is_staff(inc))
                    inc = await self._admit(channel, entry, inc, within)
                if (inc is not None and entry.id not in self._over_limit
                        and (prepared := await self.read_first(inc)) is not None):
                    self._prepared[entry.id] = prepared
                await self._handle(entry, inc)
            except Exception as exc:
                if is_disk_full(exc):  # not the update's fault: handled again, in its turn, once there is space
                    self.health.trouble(exc, f"inbox {entry.id}")
                    await full.wait()
                    continue
                log.exception("inbox %s (%s) failed", entry.id, entry.channel)
                try:
                    await self._fail(entry, inc)
                except Exception as failed:
                    if not is_disk_full(failed):
                        raise
                    self.health.trouble(failed, f"inbox {entry.id}")
                    await full.wait()
                    continue
            else:
                self.health.ok()
            finally:
                self._over_limit.discard(entry.id)
                self._prepared.pop(entry.id, None)
            break
        self._settled.pop(entry.id, None)
        self.processed += 1
        self.on_outbox()

    async def handle_at_once(self, tx: Tx, entries: list[Entry]) -> int:
        """Handle, in the transaction that stores them, the new `entries` that need nothing first; leave the others
        for the processor (see the module's docstring). Returns how many were handled (or failed). What it counts
        (each chat's minute, `processed`) stands only once the caller has said the transaction committed
        (`end_at_once`)."""
        if not entries or not self.at_once:
            return 0
        # a chat with an update waiting (stored before, or queued here) keeps its order: this one goes after it
        waiting = set(self._queues) | await inbox.waiting_chats(tx, entries[0].id)
        handled = savepoints = 0
        for entry in entries:
            inc = await self._ready_at_once(tx, entry, waiting, savepoints)
            if inc is None:
                waiting.add(entry.chat_key)
                continue
            # its chat's next update in this batch goes to the processor: a channel's `prepare` reads what is
            # committed (WeCom: the chat's dialogue, its cards), which this one may be about to change
            waiting.add(entry.chat_key)
            counted = self._minutes.count(entry.chat_key, inc, self.monotonic())
            savepoints += 1
            await tx.execute(f"SAVEPOINT {UPDATE_SAVEPOINT}")
            try:
                await self._handle_in(tx, entry, inc)
            except Exception as exc:
                await tx.execute(f"ROLLBACK TO SAVEPOINT {UPDATE_SAVEPOINT}")
                if is_disk_full(exc):  # not the update's fault: the processor handles it once there is space
                    self._minutes.uncount(entry.chat_key, counted)  # and counts it against its chat's minute then
                    continue
                log.exception("inbox %s (%s) failed", entry.id, entry.channel)
                await self._fail_in(tx, entry, inc)  # as the processor does: once, never retried in a loop
            self._tentative.append((entry.chat_key, counted))
            handled += 1
        return handled

    def end_at_once(self, committed: bool) -> None:
        """The store's transaction ended: what `handle_at_once` handled counts if it committed, else as if it had
        never been seen (the channel sends it again, or the processor has it)."""
        if committed and self._tentative:
            self.processed += len(self._tentative)
            self.groups += 1
        elif not committed:
            for chat_key, counted in self._tentative:
                self._minutes.uncount(chat_key, counted)
        if committed:
            self._settled.update(self._settling)
        self._tentative, self._settling = [], []

    async def _ready_at_once(self, tx: Tx, entry: Entry, waiting: set[str], savepoints: int) -> Incoming | None:
        """The update, if it may be handled at once; None if the processor is to do it."""
        channel = self.channels.get(entry.channel)
        if entry.chat_key in waiting or savepoints >= self.max_group or channel is None:
            return None
        try:
            inc = await channel.prepare(entry.payload)
        except Exception:  # the processor logs it, and fails it
            return None
        if inc is None or inc.attachments or not self._minutes.fits(entry.chat_key, inc, self.config.intake,
                                                                     self.monotonic()):
            return None
        settle = getattr(channel, "settle", None) if inc.to_settle else None
        if callable(settle):
            inc = await settle(tx, inc)  # the choice a typed number makes, read in this transaction
        if not self.read_first.wants(inc):
            return inc
        if settle is not None:
            self._settling.append((entry.id, inc))  # the processor reads first, then handles this choice
        return None

    async def _admit(self, channel: Channel, entry: Entry, inc: Incoming, within: bool) -> Incoming:
        """Whether the sender may send this (bound; `within` their chat's minute), and only then its files."""
        # The database is asked only when it matters (a file to fetch, a chat over its limit), so that the
        # updates ready together still reach the group commit together.
        if not within:
            self._over_limit.add(entry.id)
            log.warning("inbox %s: %s is over its limit per minute; not handled", entry.id, entry.chat_key)
            return replace(inc, attachments=())
        if not inc.attachments:
            return inc
        async with self.db.snapshot() as q:
            person = await people.by_identity(q, inc.channel, inc.user_id)
            dialog = await dialogs.load(q, actor_of(inc.channel, inc.user_id)) if person is not None else None
        if person is None or (dialog is None and not person.is_representative):
            # a stranger's files are never downloaded; nor are staff's sent outside a dialogue (a reply's, a
            # briefing's), which nothing takes. A representative's are: a photo sent first, as one does in WeChat,
            # is offered to be submitted with a matter (handlers/matters/offer.py)
            return inc
        return await channel.fetch(inc)

    async def _is_staff(self, inc: Incoming) -> bool:
        async with self.db.snapshot() as q:
            person = await people.by_identity(q, inc.channel, inc.user_id)
        return person is not None and person.is_staff

    def _within_limit(self, chat_key: str, inc: Incoming) -> bool:
        """Count the update against its chat's last minute, if it fits ([intake] limits; 0: none)."""
        if not self._minutes.fits(chat_key, inc, self.config.intake, self.monotonic()):
            return False
        self._minutes.count(chat_key, inc, self.monotonic())
        return True

    async def _over_limit_answer(self, ctx: Context, entry: Entry) -> None:
        """Beyond the limit: the payload erased, and the chat asked once a minute to wait (nothing else)."""
        await inbox.forget_payload(ctx.tx, entry.id)
        now = self.monotonic()
        told = self._told_to_wait.get(entry.chat_key)
        if told is not None and now - told < 60.0:
            return
        self._told_to_wait[entry.chat_key] = now
        text = ctx._("You are sending more than this service can take in a minute. Please wait a minute, then "
                     "send again; what you sent meanwhile was not kept.")
        if ctx.inc.callback_id is not None:
            await ctx.answer(alert_text(ctx.traits, text, said_too=True), alert=True)
        await ctx.reply(Reply(text))

    async def _settle(self, channel: Channel, inc: Incoming) -> Incoming:
        """The choice a typed number makes (the channel's `settle`), read once, before a long read and the update's
        transaction: the list the member had when the number came, not one that arrived meanwhile."""
        settle = getattr(channel, "settle", None)
        if not inc.to_settle or not callable(settle):
            return inc
        async with self.db.snapshot() as q:
            settled: Incoming = await settle(q, inc)
        return settled

    async def _handle(self, entry: Entry, inc: Incoming | None) -> None:
        """Handle the update in the next group transaction; once committed, return or raise what its handler raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ready.append((entry, inc, done))
        if self._grouper is None or self._grouper.done():
            self._grouper = asyncio.create_task(self._handle_groups())
        await done

    async def _handle_groups(self) -> None:
        while self._ready:
            group, self._ready = self._ready[:self.max_group], self._ready[self.max_group:]
            try:
                outcomes = await self._commit_group([(entry, inc) for entry, inc, _ in group])
            except Exception as exc:
                if len(group) == 1:
                    outcomes = [exc]
                else:
                    log.warning("a group of %d updates could not be committed (%s); each on its own",
                                len(group), type(exc).__name__)
                    outcomes = []
                    for entry, inc, _ in group:
                        try:
                            outcomes += await self._commit_group([(entry, inc)])
                        except Exception as single:
                            outcomes.append(single)
            for (_, _, done), outcome in zip(group, outcomes, strict=True):
                if done.done():
                    continue  # its worker was cancelled
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)

    async def _commit_group(self, group: list[tuple[Entry, Incoming | None]]) -> list[Exception | None]:
        """One transaction; each update in a savepoint. Returns, per update, the exception its handler raised."""
        outcomes: list[Exception | None] = []
        async with self.db.transaction() as tx:
            self.groups += 1
            for entry, inc in group:
                # Not released after the update: the next update's savepoint of the same name stands in front of
                # it (a rollback goes to the latest), and the commit ends them all. A RELEASE would be one more
                # round trip an update on PostgreSQL (docs/performance.md §9); a group is at most `max_group`
                # (32) deep, within what a PostgreSQL backend keeps in memory per transaction (64 subtransactions).
                await tx.execute(f"SAVEPOINT {UPDATE_SAVEPOINT}")
                try:
                    await self._handle_in(tx, entry, inc)
                except Exception as exc:
                    await tx.execute(f"ROLLBACK TO SAVEPOINT {UPDATE_SAVEPOINT}")
                    outcomes.append(exc)
                else:
                    outcomes.append(None)
        return outcomes

    async def _handle_in(self, tx: Tx, entry: Entry, inc: Incoming | None) -> None:
        now = self.clock.now()
        if not await inbox.finish(tx, entry.id, "done", now):
            return  # processed before a restart; never twice
        if inc is None:
            log.info("inbox %s ignored (nothing to handle)", entry.id)
            return
        settle = getattr(self.channels.get(inc.channel), "settle", None)  # bot/channels/base.py
        if inc.to_settle and callable(settle):
            inc = await settle(tx, inc)
        arrival = await people.arriving(tx, inc.channel, inc.user_id)  # who, and their dialogue: one statement
        person = arrival.person
        if arrival.elsewhere:  # another of their accounts was the latest: this one is now
            await people.seen(tx, inc.channel, inc.user_id, now)

        async def redo() -> None:  # a refusal rolls the update back to its savepoint: the inbox's writes again
            await inbox.finish(tx, entry.id, "done", now)
            if arrival.elsewhere:
                await people.seen(tx, inc.channel, inc.user_id, now)

        locale = initial_locale(self.config, person, inc.language_code)
        ctx = Context(tx, inc, now, self.config, person,
                      Translator(locale, self.config.unit.tz, self.config.terms, traits_of(inc.channel).budget,
                                 traits_of(inc.channel).words),
                      inbox_id=entry.id, dialog=arrival.dialog, dialog_read=True, channels=frozenset(self.channels),
                      prepared=self._prepared.get(entry.id), records=RECORDS)
        if entry.id in self._over_limit:
            await self._over_limit_answer(ctx, entry)
            return
        await router.dispatch(ctx, self.routes, savepoint=UPDATE_SAVEPOINT, redo=redo)
        # the inbox row (state done, handled_at) and the outbox rows it wrote are the record; the line is for
        # debugging only (at INFO it was a thirtieth of the bot's CPU at intake, docs/performance.md §7)
        log.debug("inbox %s done: person %s, %d outgoing", entry.id, person.id if person else "-",
                  len(ctx.outbox_ids))

    async def _fail(self, entry: Entry, inc: Incoming | None) -> None:
        async with self.db.transaction() as tx:
            await self._fail_in(tx, entry, inc)

    async def _fail_in(self, tx: Tx, entry: Entry, inc: Incoming | None) -> None:
        """Mark the entry failed and tell its chat that nothing was changed."""
        now = self.clock.now()
        if inc is None:  # the update could not even be read: still tell its chat, if the key names one
            channel, _, chat_id = entry.chat_key.partition(":")
            readable = chat_id and not chat_id.startswith("update-")  # Telegram's key of an update with no chat
            inc = Incoming(channel=channel, user_id=chat_id, chat_id=chat_id) if readable else None
        if not await inbox.finish(tx, entry.id, "failed", now) or inc is None:
            return
        person = await people.by_identity(tx, inc.channel, inc.user_id)
        _ = Translator(initial_locale(self.config, person, inc.language_code), self.config.unit.tz,
                       self.config.terms)
        ctx = Context(tx, inc, now, self.config, person, _, inbox_id=entry.id, records=RECORDS)
        await ctx.reply(Reply(_("Sorry, something went wrong on our side, and nothing was changed. "
                                "Please try again later, or contact the liaison office.")))
        await ctx.answer(unchanged=True)  # nothing was changed: the button may be pressed again
