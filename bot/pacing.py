"""How fast each channel may be sent to, now: the outbox dispatcher's pace (bot/dispatch.py).

Each chat gets at most one message per `per_chat_interval` seconds; all chats of a channel together at
most `global_rate` a second. A channel may set its own pacing (`Channel.pacing`), with limits per chat
over sliding windows: WeCom drops, without a word, what passes 30 messages a minute or 1 000 an hour to
one member, so its members are paced below both whatever the backlog, counting the messages an item
becomes (`Channel.cost`: a long text is several). The messages of one item each take their turn in the
global rate, one at a time (an item needs one free place to start, so a reply of three is not held back
by the single messages of a broadcast), and where a channel limits each chat by the second (Telegram)
they go `Pacing.part_interval` apart, not back to back. Everything runs on the monotonic clock
(`monotonic`, and `sleep` for the waits between the messages of one item: both a seam, so that tests
pace on a clock they move instead of waiting for the real one). A 429's wait is kept here too, in the
chat's pacing (`hold`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from bot.channels.base import Channel, Pacing
from bot.config import OutboxConfig

RATED_OPS = frozenset({"message"})  # button answers are not messages: no chat or global rate applies
Key = tuple[str, str, str]  # (channel, chat, op): one queue of the outbox


def window_key(channel: str, chat_id: str) -> Key:
    """Whose sliding windows a send counts in (`Pacing.windows`): the member's, whatever the op (the rated
    messages' own queue key, so that their gap is computed from everything the member was sent)."""
    return (channel, chat_id, "message")


class Pace:
    """The pace of every channel of one dispatcher: what each chat and channel sent and has in flight, in
    memory (a restart reads the windows' sends back from the outbox: `remember`)."""

    def __init__(self, channels: Mapping[str, Channel], config: OutboxConfig, monotonic: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]]) -> None:
        self.channels = channels
        self.config = config
        self.monotonic = monotonic
        self.sleep = sleep
        self._chat_free_at: dict[Key, float] = {}
        self._recent: dict[str, deque[float]] = {}  # per channel: when the rated sends of the last second ended
        self._rated_inflight: dict[str, int] = {}
        self._window_sends: dict[Key, deque[tuple[float, int]]] = {}  # (ended, messages)
        self._costs: dict[Key, int] = {}
        self.remembered: set[str] = set()  # channels whose sends before this process are counted

    def turn(self, key: Key) -> float:
        """Seconds until the chat's interval and the channel's second let one more message start; 0 if they do
        now (the cheap checks, before what the item costs is measured)."""
        return max(self._chat_free_at.get(key, 0.0) - self.monotonic(), self.global_gap(key[0]))

    def hold(self, key: Key, seconds: float) -> None:
        """The transport asked this chat to wait (a 429's retry_after)."""
        self._chat_free_at[key] = max(self._chat_free_at.get(key, 0.0), self.monotonic() + seconds)

    def count_unpaced(self, channel: str, chat_id: str, op: str, payload: dict[str, object]) -> None:
        """A send that is not paced has ended: counted in the member's windows where the channel says it is a
        message all the same (a WeCom alert)."""
        if cost := self.unrated_cost(channel, chat_id, op, payload):
            self._window_sends.setdefault(window_key(channel, chat_id), deque()).append((self.monotonic(), cost))

    def remember(self, channel: str, sent: list[tuple[str, str, dict[str, object], datetime]], now: datetime) -> None:
        """Count in the members' windows what the channel sent before this process started (`sent`: chat, op,
        payload and when, from the outbox)."""
        mono = self.monotonic()
        for chat_id, op, payload, sent_at in sent:
            ago = (now - sent_at).total_seconds()
            if op in RATED_OPS:
                cost = self.cost(channel, chat_id, op, payload)
            elif not (cost := self.unrated_cost(channel, chat_id, op, payload)):
                continue
            self._window_sends.setdefault(window_key(channel, chat_id), deque()).append((mono - ago, cost))

    def pacing(self, channel: str) -> Pacing:
        """The channel's own pacing, else the [outbox] settings."""
        own = getattr(self.channels.get(channel), "pacing", None)
        if isinstance(own, Pacing):
            return own
        return Pacing(self.config.per_chat_interval, self.config.global_rate,
                      part_interval=self.config.per_chat_interval)

    def cost(self, channel: str, chat_id: str, op: str, payload: dict[str, object]) -> int:
        """How many of the transport's messages an item becomes (at least one)."""
        cost = getattr(self.channels.get(channel), "cost", None)
        return max(1, int(cost(chat_id, op, payload))) if callable(cost) else 1

    def unrated_cost(self, channel: str, chat_id: str, op: str, payload: dict[str, object]) -> int:
        """The messages a send that is not paced still becomes, on a channel whose members' windows count them (a
        WeCom alert is a text message): counted in the member's windows, so what follows stays within them."""
        cost = getattr(self.channels.get(channel), "cost", None)
        return int(cost(chat_id, op, payload)) if callable(cost) and self.pacing(channel).windows else 0

    def window_gap(self, key: Key, cost: int) -> float:
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

    def global_gap(self, channel: str) -> float:
        """Seconds until one more rated message may start; 0 if it may now.

        A send is counted from the moment it starts until one second after it ended: Telegram
        counts it when it arrives, which is somewhere in between, so however the sends of one
        second are spread out or bunched up on the way, no second ever sees more than the rate.
        (Counted from their starts, a burst sent late after a slow claim overlapped the next
        burst at the server, and cost 429s.) The messages of an item of several are counted each from
        its own start (`between_parts`).
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

    def reserve(self, key: Key, cost: int = 1) -> None:
        """A rated send starts: its first message takes a place in the global rate (the others take theirs as
        they go), and the whole item, `cost` messages, counts in the chat's windows when it ends."""
        self._rated_inflight[key[0]] = self._rated_inflight.get(key[0], 0) + 1
        self._costs[key] = cost
        self._chat_free_at[key] = float("inf")  # until it has ended; then the interval runs from there

    def unreserve(self, key: Key) -> None:
        """A reserved send that did not start (not claimed): as if it had never been reserved."""
        self._rated_inflight[key[0]] -= 1
        self._costs.pop(key, None)
        self._chat_free_at[key] = 0.0  # it was free (the reservation needed that), and nothing went

    def between_parts(self, key: Key) -> Callable[[], Awaitable[None]]:
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
                while (gap := self.global_gap(channel)) > 0:
                    await self.sleep(gap)
            finally:  # the next message is in flight (or, cancelled, the item's end releases it)
                self._rated_inflight[channel] += 1
        return pause

    def release(self, key: Key) -> None:
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
