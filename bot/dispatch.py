"""Sending the outbox: in order per chat, within the transport's rates, with retry.

Each chat gets its messages one at a time, in the order they were written, within the
channel's pace (bot/pacing.py: a chat's interval, the channel's rate a second, WeCom's windows
per member, the messages of one item apart). Pacing runs on the monotonic clock (`monotonic`,
and `sleep` for `flush`'s waits and between the messages of one item: both a seam, so that tests
pace on a clock they move instead of waiting for the real one), and so do retry delays: a retry is due
when its stored `not_before` has come by the wall clock or its delay has passed by the monotonic
one, whichever is first, so a wall clock stepped back (an NTP correction, an operator) never holds
a retry for the hours it was stepped (issue 15 item 12); one stepped forward only makes a back-off
shorter (a 429's wait is kept on the monotonic clock, in the chat's pacing). A stored due time
further ahead than any wait the dispatcher sets is a step back while the bot was stopped:
`recover` makes it due at once.
A 429 is waited out for as long as it says; 5xx, refused and dropped connections are
retried with growing back-off; a blocked bot is recorded as `blocked` for the office.

The Bot API has no idempotency key, so a send that timed out may have arrived. Every
outbox item carries a policy for that case (and for a crash in the middle of a send):
`retry` — send again, accepting a rare duplicate (replies in a conversation and
notices of a matter, which name the matter number, so a duplicate is recognisable and
harmless); `hold` — do not send again, leave it `held` for a person to look at (used
where a duplicate would be wrong, e.g. a second answer to the same button press).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import partial

from bot.channels.base import (Channel, MaybeDelivered, Pacing, Progress, RateLimited, Rejected, TemporaryFailure,
                              Unreachable)
from bot.pacing import RATED_OPS, Pace
from bot.clock import Clock
from bot.config import OutboxConfig
from bot.files import FileStore
from bot.group_commit import GroupCommit
from bot.health import StorageHealth, is_disk_full
from bot.waiting import wait_a_while
from storage import outbox, people
from storage.db import Database, Tx
from storage.outbox import Item

log = logging.getLogger(__name__)

MAX_WAIT = timedelta(hours=1)  # longer than any back-off (300 s) or 429 the dispatcher waits out


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        config: OutboxConfig,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        files: FileStore | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.channels = channels
        self.config = config
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep  # flush's wait for the pacing: the tests' clock moves instead of waiting
        self.files = files  # stored paths are relative to the files folder: resolved for the channel
        self._inflight: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._claiming: set[tuple[str, str, str]] = set()
        self._claimed = asyncio.Event()  # set whenever a claim (by any tick) has finished
        # sends that end while another's mark is being committed are recorded together, in one commit
        self._record_sent: GroupCommit[tuple[int, dict[str, object]], None] = GroupCommit(self._write_sent_marks)
        # the pace reads the dispatcher's clock and sleep as they are when it runs: a test sets its own after
        self.pace = Pace(channels, config, lambda: self.monotonic(), lambda seconds: self.sleep(seconds))
        self._retry_due: dict[int, float] = {}  # outbox id → monotonic time its retry is due (item 12)
        self.health = StorageHealth()  # the app's, shared with the inbox: a full disk (bot/health.py)
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> dict[str, int]:
        """Decide, by policy, what to do with items that were being sent when the bot stopped."""
        async with self.db.transaction() as tx:
            result = await outbox.recover(tx)
            stepped = await outbox.settle_due_times(tx, self.clock.now(), MAX_WAIT)
        if stepped:
            log.warning("outbox after restart: %d retries due further ahead than any wait (a clock stepped back):"
                        " due now", stepped)
        if any(result.values()):
            log.warning("outbox after restart: %s", result)
        return result

    async def run(self) -> None:
        full = self.health.backoff()
        while True:
            self._wake.clear()
            try:
                wait = await self._tick()
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self.health.trouble(exc, "outbox")  # claims cannot be written: nothing starts until they can
                await full.wait()
                continue
            full.reset()
            await wait_a_while(self._wake, wait)

    async def flush(self) -> None:
        """Send everything due now and wait for it (tests, the console, shutdown)."""
        while True:
            wait = await self._tick()
            if self._inflight:
                await asyncio.gather(*list(self._inflight.values()))
                continue
            if self._claiming:  # the run loop's tick is claiming what this one skipped: wait for it
                self._claimed.clear()
                await self._claimed.wait()
                continue
            if wait >= 1.0:
                return
            await self.sleep(wait)

    async def stop(self) -> None:
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _tick(self) -> float:
        """Start every send that may start now; return how long until the next one may.

        The sends that start together are claimed ("sending") in one transaction: one commit
        for the lot instead of one per message.
        """
        await self._remember_recent_sends()
        mono = self.monotonic()
        overdue = [item_id for item_id, due in self._retry_due.items() if due <= mono]
        async with self.db.snapshot() as q:
            items = await outbox.heads(q, self.clock.now(), list(self.channels))
            if overdue:  # due by the monotonic clock, not yet by a wall clock stepped back
                known = {item.id for item in items}
                items += [item for item in await outbox.heads_among(q, overdue) if item.id not in known]
        for item_id in overdue:
            del self._retry_due[item_id]
        wait = 1.0
        starting: list[tuple[tuple[str, str, str], Item]] = []
        for item in items:
            key = (item.channel, item.chat_id, item.op)
            if key in self._inflight or key in self._claiming:
                continue
            if item.op in RATED_OPS:
                # the cheap checks first: what the item costs (its payload read, a channel's measure of its
                # text) only for a chat whose turn it is
                gap = self.pace.turn(key)
                if gap <= 0:
                    cost = self.pace.cost(item.channel, item.chat_id, item.op, item.payload)
                    gap = self.pace.window_gap(key, cost)
                if gap > 0:
                    wait = min(wait, gap)
                    continue
                self.pace.reserve(key, cost)
            starting.append((key, item))
        if not starting:
            return wait
        self._claiming.update(key for key, _ in starting)
        claimed: set[int] = set()
        try:
            async with self.db.transaction() as tx:
                claimed = await outbox.claim(tx, [item.id for _, item in starting])
                await self._look_up(tx, [item for _, item in starting if item.id in claimed])
        except BaseException:
            claimed = set()  # nothing was claimed (a full disk: `run` waits and ticks again)
            raise
        finally:
            self._claiming.difference_update(key for key, _ in starting)
            self._claimed.set()
            for key, item in starting:
                if item.id not in claimed and item.op in RATED_OPS:
                    self.pace.unreserve(key)  # not sent: its places in the pace are free again
        for key, item in starting:
            if item.id in claimed:
                self._inflight[key] = asyncio.create_task(self._send(key, item))
        return wait

    async def _look_up(self, q: Tx, items: list[Item]) -> None:
        """Let each channel that reads something per chat before a send (`look_up`: WeCom, how the member is
        shown messages) read it for all the claimed chats at once, in the claim's transaction."""
        for name in {item.channel for item in items}:
            look_up = getattr(self.channels.get(name), "look_up", None)
            if callable(look_up):
                await look_up(q, sorted({item.chat_id for item in items if item.channel == name}))

    async def _remember_recent_sends(self) -> None:
        """Once per channel with windows: count what it sent in its longest window before this process
        started (a restart must not reset a member's hour: WeCom's 1 000 an hour outlives the process)."""
        for name in list(self.channels):
            windows = self.pace.pacing(name).windows
            if not windows or name in self.pace.remembered:
                continue
            self.pace.remembered.add(name)
            longest = timedelta(seconds=max(seconds for _, seconds in windows))
            now = self.clock.now()
            async with self.db.snapshot() as q:
                sent = await outbox.sent_since(q, name, now - longest)
            self.pace.remember(name, sent, now)

    def pacing(self, channel: str) -> Pacing:
        """The channel's own pacing, else the [outbox] settings."""
        return self.pace.pacing(channel)

    async def _send(self, key: tuple[str, str, str], item: Item) -> None:
        ended = False

        def end() -> None:  # the request is over: the pacing counts from here (once)
            nonlocal ended
            if not ended and item.op in RATED_OPS:
                ended = True
                self.pace.release(key)
            elif not ended:  # not paced, but a message all the same where the channel says so: in the windows
                ended = True
                self.pace.count_unpaced(item.channel, item.chat_id, item.op, item.payload)

        try:
            await self._attempt(key, item, end)
        except Exception as exc:
            if is_disk_full(exc):  # the channel's own bookkeeping (WeCom's cards) refused: sent later, not lost
                self.health.trouble(exc, f"outbox {item.id}")
                await self._later(item, 5.0, "disk full", refund=True)
                return
            # A bug in a channel must not leave the item "sending": it would hold up its chat for good.
            log.exception("outbox %s: unexpected failure", item.id)
            try:
                await self._give_up(item, "failed", f"unexpected: {type(exc).__name__}")
            except Exception:
                log.exception("outbox %s: could not record the failure", item.id)
        finally:
            del self._inflight[key]
            end()
            self._wake.set()

    async def _attempt(self, key: tuple[str, str, str], item: Item, end: Callable[[], None]) -> None:
        channel = self.channels.get(item.channel)  # claimed ("sending") by _tick
        attempts = item.attempts + 1
        try:
            if channel is None:
                raise TemporaryFailure(f"channel {item.channel} not running")
            try:
                payload = item.payload if self.files is None else self.files.resolve_payload(item.payload)
                result = await channel.deliver(item.chat_id, item.op, payload,
                                               Progress(item.sent, partial(self._keep_progress, item.id),
                                                        self.pace.between_parts(key) if item.op in RATED_OPS else None))
            finally:
                end()
        except RateLimited as exc:
            # Nothing was delivered and nothing failed: a 429 does not use up an attempt.
            self.pace.hold(key, exc.retry_after)
            await self._later(item, exc.retry_after, f"429 retry after {exc.retry_after}", refund=True)
        except TemporaryFailure as exc:
            await self._retry_or_fail(item, attempts, f"temporary: {exc}")
        except MaybeDelivered as exc:
            if item.policy == "retry":
                await self._retry_or_fail(item, attempts, f"maybe delivered: {exc}", ambiguous=True)
            else:
                await self._give_up(item, "held", f"maybe delivered: {exc}")
        except Unreachable as exc:
            await self._blocked(item, str(exc))
        except Rejected as exc:
            await self._give_up(item, "failed", f"rejected: {exc}")
        else:
            await self._record_sent((item.id, {"message_ids": result.message_ids}))
            self.sent += 1
            # the outbox row is the record of a send (state, sent_at, the message ids): the log keeps the line
            # for retries, failures and holds, and this one only when asked for (one a message was a twentieth
            # of the bot's CPU at intake)
            log.debug("outbox %s sent (%s, attempt %d)", item.id, item.op, attempts)

    async def _keep_progress(self, item_id: int, message_ids: list[str]) -> None:
        async def write() -> None:
            async with self.db.transaction(urgent=True) as tx:
                await outbox.keep_progress(tx, item_id, message_ids)
        await self._until_stored(write)

    async def _write_sent_marks(self, marks: list[tuple[int, dict[str, object]]]) -> list[None]:
        async def write() -> None:
            async with self.db.transaction(urgent=True) as tx:
                await outbox.mark_sent_many(tx, marks, self.clock.now())
        await self._until_stored(write)
        return [None] * len(marks)

    async def _until_stored(self, write: Callable[[], Awaitable[None]]) -> None:
        """Write; while the disk is full (bot/health.py), wait with back-off and write again: the item stays in
        flight meanwhile, so that its chat sends nothing else and nothing is sent twice."""
        full = self.health.backoff()
        while True:
            try:
                await write()
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self.health.trouble(exc, "outbox")
                await full.wait()
                continue
            return

    async def _retry_or_fail(self, item: Item, attempts: int, error: str, *, ambiguous: bool = False) -> None:
        if attempts >= self.config.max_attempts:
            await self._give_up(item, "failed", error)
            return
        backoff = min(2.0 ** attempts, 300.0) * random.uniform(0.5, 1.0)
        await self._later(item, backoff, error, ambiguous=ambiguous)

    async def _later(self, item: Item, seconds: float, error: str, *, ambiguous: bool = False,
                     refund: bool = False) -> None:
        log.info("outbox %s: %s; again in %.1fs", item.id, error, seconds)
        self._retry_due[item.id] = self.monotonic() + seconds

        async def write() -> None:
            async with self.db.transaction() as tx:
                await outbox.retry_later(tx, item.id, self.clock.now() + timedelta(seconds=seconds), error,
                                         ambiguous=ambiguous, refund=refund)
        await self._until_stored(write)

    async def _blocked(self, item: Item, error: str) -> None:
        """The chat cannot be reached (the bot blocked, the member gone from the corp): recorded `blocked` for the
        office; and a message written for a person bound on another channel too goes there instead, once, so
        that what they are owed still reaches them."""
        log.warning("outbox %s: blocked (%s)", item.id, error)

        async def write() -> None:
            async with self.db.transaction() as tx:
                await outbox.give_up(tx, item.id, "blocked", error)
                person_id, resent = await outbox.owner(tx, item.id)
                if item.op != "message" or item.sent or person_id is None or resent:
                    return  # an answer to a press there, a reply half delivered, or a copy already
                others = [chat for chat in await people.chats_of(tx, person_id)
                          if chat != (item.channel, item.chat_id) and chat[0] in self.channels]
                if others:
                    await outbox.send_elsewhere(tx, item.id, others[0], self.clock.now())
        await self._until_stored(write)

    async def _give_up(self, item: Item, state: str, error: str) -> None:
        log.warning("outbox %s: %s (%s)", item.id, state, error)

        async def write() -> None:
            async with self.db.transaction() as tx:
                await outbox.give_up(tx, item.id, state, error)
        await self._until_stored(write)
