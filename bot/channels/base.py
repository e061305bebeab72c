"""What every channel provides, and how it reports a failed delivery.

A channel turns a stored inbox payload into an Incoming that says what was sent (`prepare`: no file is
downloaded), fetches the files of an update once the core has decided that its sender may send them
(`fetch`: a bound person within the chat's rate, bot/inbox.py; never a stranger's, issue 15 item 4),
outside the database transaction, and delivers one outbox item. A channel may also say how it
is to be paced (`pacing`, else the [outbox] settings), how many of its messages an item becomes
(`cost(chat_id, op, payload)`, else one), and for how long its senders may deliver an update again
(`redelivery_window`, else the inbox's default). Delivery failures are
classified so that the dispatcher can decide, without knowing the transport, whether to
wait, retry, hold or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.messages import Incoming, SendResult


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
    """How fast a channel may be sent to: a gap between two messages to one chat, a rate for all chats
    together, and limits per chat over sliding windows, as (messages, seconds) (WeCom: 30 a minute and
    1 000 an hour to one member, beyond which it drops messages without a word)."""

    per_chat_interval: float
    global_rate: float
    windows: tuple[tuple[int, float], ...] = ()


class Channel(Protocol):
    name: str

    async def prepare(self, payload: str) -> Incoming | None:
        """Turn a stored payload into an Incoming that describes its files without downloading them; None for
        updates we ignore."""
        ...

    async def fetch(self, inc: Incoming) -> Incoming:
        """The same Incoming with its files downloaded and stored (or marked too large / failed)."""
        ...

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any]) -> SendResult:
        """Send one outbox item, or raise a DeliveryError."""
        ...
