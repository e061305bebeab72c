"""What every channel provides, and how it reports a failed delivery.

A channel turns a stored inbox payload into an Incoming that says what was sent (`prepare`: no file is
downloaded), fetches the files of an update once the core has decided that its sender may send them
(`fetch`: a bound person within the chat's rate, bot/inbox.py; never a stranger's, issue 15 item 4),
outside the database transaction, and delivers one outbox item. A channel may also say how it
is to be paced (`pacing`, else the [outbox] settings), how many of its messages an item becomes
(`cost(chat_id, op, payload)`, else one), and for how long its senders may deliver an update again
(`redelivery_window`, else the inbox's default), and what it reads per chat before a send, for all the
chats whose messages start at once, in the outbox's claim (`look_up(q, chat_ids)`), and what it reads to
understand an update, in the update's own transaction (`settle(q, inc)`: which list a typed number answers,
read where the handler reads, instead of in a read of its own before it). Delivery failures are
classified so that the dispatcher can decide, without knowing the transport, whether to
wait, retry, hold or give up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.messages import Attachment, Incoming, SendResult


class DeliveryError(Exception):
    """Base of delivery failures."""


class RateLimited(DeliveryError):
    """The transport asked us to slow down; nothing was delivered."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """Not delivered (a 5xx, a refused connection); safe to try again."""


class MaybeDelivered(DeliveryError):
    """The request may have arrived (a timeout after sending): retrying may duplicate it."""


class Unreachable(DeliveryError):
    """The person blocked the bot or the chat is gone: no retry helps."""


class Rejected(DeliveryError):
    """The transport refused the content itself (a bug or stale reference): no retry helps."""


@dataclass(frozen=True)
class Pacing:
    """How fast a channel may be sent to: a gap between two items to one chat, a rate for all chats
    together, limits per chat over sliding windows, as (messages, seconds) (WeCom: 30 a minute and
    1 000 an hour to one member, beyond which it drops messages without a word), and a gap between two
    messages of one item (Telegram: about one message a second to a chat, however a reply is cut up)."""

    per_chat_interval: float
    global_rate: float
    windows: tuple[tuple[int, float], ...] = ()
    part_interval: float = 0.0


Part = Callable[[], Awaitable[str]]  # sends one message of a reply, returns the channel's id of it


class Progress:
    """The messages of one outbox item that have reached the chat, kept across retries and restarts.

    A reply may go as several messages: a long text in parts, a WeCom card after its words, files after the
    text. Should a later one fail (a 5xx, WeCom's 45033 "too many at once", a crash), the retry sends on from
    the message that did not go, never from the first: the person would read the first ones twice. After each
    message that has more after it, `keep` stores the ids sent so far (the dispatcher writes them to the outbox
    row); the last one is recorded with the item itself. `pause`, where the dispatcher gives one, is awaited
    between two messages sent in one attempt (`Pacing.part_interval`); the first of an attempt is paced by the
    dispatcher itself, as any item is.
    """

    def __init__(self, sent: Sequence[str] = (), keep: Callable[[list[str]], Awaitable[None]] | None = None,
                 pause: Callable[[], Awaitable[None]] | None = None) -> None:
        self.sent = list(sent)
        self._keep = keep
        self._pause = pause

    async def send(self, parts: Sequence[Part]) -> SendResult:
        first = len(self.sent)
        for index, part in enumerate(parts):
            if index < first:
                continue  # went in an earlier attempt
            if index > first and self._pause is not None:
                await self._pause()
            self.sent.append(await part())
            if index < len(parts) - 1 and self._keep is not None:
                await self._keep(list(self.sent))
        return SendResult(list(self.sent))


async def fetch_attachments(inc: Incoming, download: Callable[[Attachment], Awaitable[Attachment]]) -> Incoming:
    """An update with each attachment not yet stored (and not already refused) downloaded: a channel's `fetch`,
    called only for a bound sender."""
    if not inc.attachments:
        return inc
    kept = tuple([a if a.stored_path or a.error else await download(a) for a in inc.attachments])
    return replace(inc, attachments=kept)


class Channel(Protocol):
    name: str

    async def prepare(self, payload: str) -> Incoming | None:
        """Turn a stored payload into an Incoming that describes its files without downloading them; None for
        updates we ignore."""
        ...

    async def fetch(self, inc: Incoming) -> Incoming:
        """The same Incoming with its files downloaded and stored (or marked too large / failed)."""
        ...

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        """Send one outbox item, or raise a DeliveryError. A reply of several messages goes through
        `progress.send`, which skips the messages an earlier attempt delivered."""
        ...
