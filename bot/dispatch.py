"""Sending the outbox: in order per chat, within the transport's rates, with retry.

Each chat gets its messages one at a time, in the order they were written, at most one
per `per_chat_interval` seconds; all chats of a channel together at most `global_rate` a
second. A channel may set its own pacing (`Channel.pacing`), with limits per chat over
sliding windows: WeCom drops, without a word, what passes 30 messages a minute or 1 000 an
hour to one member, so its members are paced below both whatever the backlog, counting the
messages an item becomes (`Channel.cost`: a long text is several). The messages of one item each take
their turn in the global rate, one at a time (an item needs one free place to start, so a reply of three
is not held back by the single messages of a broadcast), and where a channel limits each chat by the
second (Telegram) they go `Pacing.part_interval` apart, not back to back. Pacing runs on the
monotonic clock (`monotonic`, and `sleep` for `flush`'s waits: both a seam, so that tests pace
on a clock they move instead of waiting for the real one), and so do retry delays: a retry is due
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
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import partial

from bot.channels.base import (Channel, MaybeDelivered, Pacing, Progress, RateLimited, Rejected, TemporaryFailure,
                              Unreachable)
from bot.clock import Clock
from bot.config import OutboxConfig
from bot.files import FileStore
from bot.group_commit import GroupCommit
from bot.health import StorageHealth, is_disk_full
from bot.waiting import wait_a_while
from storage import outbox
from storage.db import Database, Tx
from storage.outbox import Item

log = logging.getLogger(__name__)

RATED_OPS = frozenset({"message"})  # button answers are not messages: no chat or global rate applies


def _window_key(channel: str, chat_id: str) -> tuple[str, str, str]:
    """Whose sliding windows a send counts in (`Pacing.windows`): the member's, whatever the op (the rated
    messages' own queue key, so that their gap is computed from everything the member was sent)."""
    return (channel, chat_id, "message")
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
        self._chat_free_at: dict[tuple[str, str, str], float] = {}
        self._recent: dict[str, deque[float]] = {}  # per channel: when the rated sends of the last second ended
        self._rated_inflight: dict[str, int] = {}
        self._window_sends: dict[tuple[str, str, str], deque[tuple[float, int]]] = {}  # (ended, messages)
        self._costs: dict[tuple[str, str, str], int] = {}
        self._remembered: set[str] = set()  # channels whose sends before this process are counted
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
            items = await outbox.heads(q, self.clock.now())
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
                gap = max(self._chat_free_at.get(key, 0.0) - self.monotonic(), self._global_gap(item.channel))
                if gap <= 0:
                    cost = self._cost(item)
                    gap = self._window_gap(key, cost)
                if gap > 0:
                    wait = min(wait, gap)
                    continue
                self._reserve(key, cost)
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
                    self._unreserve(key)  # not sent: its places in the pace are free again
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
            windows = self.pacing(name).windows
            if not windows or name in self._remembered:
                continue
            self._remembered.add(name)
            longest = timedelta(seconds=max(seconds for _, seconds in windows))
            now, mono = self.clock.now(), self.monotonic()
            async with self.db.snapshot() as q:
                sent = await outbox.sent_since(q, name, now - longest)
            for chat_id, op, payload, sent_at in sent:
                ago = (now - sent_at).total_seconds()
                if op in RATED_OPS:
                    cost = self._cost_of(name, chat_id, op, payload)
                elif not (cost := self._unrated_cost(name, chat_id, op, payload)):
                    continue
                self._window_sends.setdefault(_window_key(name, chat_id), deque()).append((mono - ago, cost))

    def pacing(self, channel: str) -> Pacing:
        """The channel's own pacing, else the [outbox] settings."""
        own = getattr(self.channels.get(channel), "pacing", None)
        if isinstance(own, Pacing):
            return own
        return Pacing(self.config.per_chat_interval, self.config.global_rate,
                      part_interval=self.config.per_chat_interval)

    def _cost(self, item: Item) -> int:
        """How many of the transport's messages the item becomes (at least one)."""
        return self._cost_of(item.channel, item.chat_id, item.op, item.payload)

    def _cost_of(self, channel: str, chat_id: str, op: str, payload: dict[str, object]) -> int:
        cost = getattr(self.channels.get(channel), "cost", None)
        return max(1, int(cost(chat_id, op, payload))) if callable(cost) else 1

    def _unrated_cost(self, channel: str, chat_id: str, op: str, payload: dict[str, object]) -> int:
        """The messages a send that is not paced still becomes, on a channel whose members' windows count them (a
        WeCom alert is a text message): counted in the member's windows, so what follows stays within them."""
        cost = getattr(self.channels.get(channel), "cost", None)
        return int(cost(chat_id, op, payload)) if callable(cost) and self.pacing(channel).windows else 0

    def _window_gap(self, key: tuple[str, str, str], cost: int) -> float:
        """Seconds until `cost` more messages fit every window of the chat's channel; 0 if they do now."""
        windows = self.pacing(key[0]).windows
        sends = self._window_sends.get(key)
        if not windows or not sends:
            return 0.0
        now = self.monotonic()
        longest = max(seconds for _, seconds in windows)
        while sends and now - sends[0][0] >= longest:
            sends.popleft()
        gap = 0.0
        for limit, seconds in windows:
            inside = [(at, n) for at, n in sends if now - at < seconds]
            used = sum(n for _, n in inside)
            for at, n in inside:  # the oldest leave the window first
                if used + cost <= limit:
                    break
                used -= n
                gap = max(gap, at + seconds - now)
        return gap

    def _global_gap(self, channel: str) -> float:
        """Seconds until one more rated message may start; 0 if it may now.

        A send is counted from the moment it starts until one second after it ended: Telegram
        counts it when it arrives, which is somewhere in between, so however the sends of one
        second are spread out or bunched up on the way, no second ever sees more than the rate.
        (Counted from their starts, a burst sent late after a slow claim overlapped the next
        burst at the server, and cost 429s.) The messages of an item of several are counted each from
        its own start (`_between_parts`).
        """
        now = self.monotonic()
        recent = self._recent.setdefault(channel, deque())
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) + self._rated_inflight.get(channel, 0) < self.pacing(channel).global_rate:
            return 0.0
        if not recent:
            return 1.0  # all in flight: the first to end wakes the dispatcher
        return 1.0 - (now - recent[0])

    def _reserve(self, key: tuple[str, str, str], cost: int = 1) -> None:
        """A rated send starts: its first message takes a place in the global rate (the others take theirs as
        they go), and the whole item, `cost` messages, counts in the chat's windows when it ends."""
        self._rated_inflight[key[0]] = self._rated_inflight.get(key[0], 0) + 1
        self._costs[key] = cost
        self._chat_free_at[key] = float("inf")  # until it has ended; then the interval runs from there

    def _unreserve(self, key: tuple[str, str, str]) -> None:
        """A reserved send that did not start (not claimed): as if it had never been reserved."""
        self._rated_inflight[key[0]] -= 1
        self._costs.pop(key, None)
        self._chat_free_at[key] = 0.0  # it was free (the reservation needed that), and nothing went

    def _between_parts(self, key: tuple[str, str, str]) -> Callable[[], Awaitable[None]]:
        """Awaited between two messages of one item (`Progress`): the one that went is counted in the global
        rate from now, as any send that ended; the next waits the channel's `part_interval` (a chat's second on
        Telegram) and its own turn in the global rate."""
        channel = key[0]

        async def pause() -> None:
            self._rated_inflight[channel] -= 1
            self._recent.setdefault(channel, deque()).append(self.monotonic())
            try:
                if (interval := self.pacing(channel).part_interval) > 0:
                    await self.sleep(interval)
                while (gap := self._global_gap(channel)) > 0:
                    await self.sleep(gap)
            finally:  # the next message is in flight (or, cancelled, the item's end releases it)
                self._rated_inflight[channel] += 1
        return pause

    def _release(self, key: tuple[str, str, str]) -> None:
        """A rated send has ended (or was not made): its chat's interval and the global second run from now."""
        now = self.monotonic()
        cost = self._costs.pop(key, 1)
        self._rated_inflight[key[0]] -= 1
        self._recent.setdefault(key[0], deque()).append(now)
        pacing = self.pacing(key[0])
        if pacing.windows:  # counted whether or not it arrived: a failed send may have
            self._window_sends.setdefault(key, deque()).append((now, cost))
        free_at = self._chat_free_at.get(key, 0.0)
        self._chat_free_at[key] = max(now + pacing.per_chat_interval,
                                      free_at if free_at != float("inf") else 0.0)

    async def _send(self, key: tuple[str, str, str], item: Item) -> None:
        ended = False

        def end() -> None:  # the request is over: the pacing counts from here (once)
            nonlocal ended
            if not ended and item.op in RATED_OPS:
                ended = True
                self._release(key)
            elif not ended:  # not paced, but a message all the same where the channel says so: in the windows
                ended = True
                if cost := self._unrated_cost(item.channel, item.chat_id, item.op, item.payload):
                    self._window_sends.setdefault(_window_key(item.channel, item.chat_id), deque()).append(
                        (self.monotonic(), cost))

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
                                                        self._between_parts(key) if item.op in RATED_OPS else None))
            finally:
                end()
        except RateLimited as exc:
            # Nothing was delivered and nothing failed: a 429 does not use up an attempt.
            self._chat_free_at[key] = max(self._chat_free_at.get(key, 0.0), self.monotonic() + exc.retry_after)
            await self._later(item, exc.retry_after, f"429 retry after {exc.retry_after}", refund=True)
        except TemporaryFailure as exc:
            await self._retry_or_fail(item, attempts, f"temporary: {exc}")
        except MaybeDelivered as exc:
            if item.policy == "retry":
                await self._retry_or_fail(item, attempts, f"maybe delivered: {exc}", ambiguous=True)
            else:
                await self._give_up(item, "held", f"maybe delivered: {exc}")
        except Unreachable as exc:
            await self._give_up(item, "blocked", str(exc))
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

    async def _give_up(self, item: Item, state: str, error: str) -> None:
        log.warning("outbox %s: %s (%s)", item.id, state, error)

        async def write() -> None:
            async with self.db.transaction() as tx:
                await outbox.give_up(tx, item.id, state, error)
        await self._until_stored(write)
