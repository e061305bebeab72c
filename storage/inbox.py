"""The inbox: every update a channel received, stored before it is confirmed to the sender.

`store` ignores an update already stored (a channel may deliver it again after a crash
between our commit and its confirmation); `pending` lists what is not yet processed;
marking an entry done happens in the same transaction as the work it caused.

A channel's ids are unique only for a while: Telegram numbers updates in sequence but, after a week
without any, starts again from a random number, which may be one the inbox holds from long ago. An
update is delivered again only while it is unconfirmed, and Telegram keeps nothing for more than a
day, so an id already stored more than `REDELIVERY_WINDOW` ago names a new update: the old entry's id
is set aside (`<id>#<entry>`) and the new one stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Tx, ts


@dataclass(frozen=True)
class Entry:
    id: int
    channel: str
    external_id: str
    chat_key: str
    payload: str


REDELIVERY_WINDOW = timedelta(days=2)  # Telegram keeps an unconfirmed update for at most 24 hours


STORE_BATCH = 100  # rows an INSERT carries (Telegram's getUpdates gives at most 100): 500 values, within SQLite's limit


async def store(q: Tx, channel: str, items: list[tuple[str, str, str]], now: datetime,
                window: timedelta = REDELIVERY_WINDOW) -> list[Entry]:
    """Store (external_id, chat_key, payload) items; return the new entries, in the order they came. An id
    stored more than `window` ago (the channel's redelivery window) names a new update."""
    added: list[Entry] = []
    for start in range(0, len(items), STORE_BATCH):
        batch = items[start:start + STORE_BATCH]
        # Two statements a batch, whatever its size (a poll's updates: round trips on PostgreSQL, docs/performance.md
        # §9), and the batch inserted in the order it came, so that it is handled in that order: first the ids
        # stored long ago and now used again are set aside, then the batch goes in, and what was received already
        # (a redelivery, or the same id twice in one batch) is not inserted
        await q.execute(
            "UPDATE inbox SET external_id = external_id || '#' || CAST(id AS TEXT) WHERE channel = ? AND"
            f" external_id IN ({', '.join('?' * len(batch))}) AND received_at < ?",
            (channel, *[external_id for external_id, _key, _payload in batch], ts(now - window)))
        rows = await q.all(
            "INSERT INTO inbox (channel, external_id, chat_key, payload, received_at) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?)"] * len(batch))
            + " ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, external_id",
            [v for external_id, chat_key, payload in batch for v in (channel, external_id, chat_key, payload, ts(now))])
        first = {external_id: (chat_key, payload) for external_id, chat_key, payload in reversed(batch)}
        # RETURNING's order is not the rows' on every engine: the ids, given in insertion order, are
        added += sorted((Entry(int(r["id"]), channel, str(r["external_id"]), *first[str(r["external_id"])])
                         for r in rows), key=lambda entry: entry.id)
    return added


async def waiting_chats(q: Tx, before_id: int) -> set[str]:
    """The chats with an update stored before `before_id` and not yet processed (few: the processor's backlog)."""
    rows = await q.all("SELECT DISTINCT chat_key FROM inbox WHERE state = 'new' AND id < ?", (before_id,))
    return {str(r["chat_key"]) for r in rows}


async def pending(q: Tx, limit: int = 500, after_id: int = 0) -> list[Entry]:
    rows = await q.all(
        "SELECT id, channel, external_id, chat_key, payload FROM inbox WHERE state = 'new' AND id > ?"
        " ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [Entry(r["id"], r["channel"], r["external_id"], r["chat_key"], r["payload"]) for r in rows]


async def finish(q: Tx, entry_id: int, state: str, now: datetime) -> bool:
    """Mark an entry processed; False if it already was (it must never be processed twice)."""
    changed = await q.execute(
        "UPDATE inbox SET state = ?, processed_at = ? WHERE id = ? AND state = 'new'", (state, ts(now), entry_id)
    )
    return changed == 1


async def last_external_id(q: Tx, channel: str) -> str | None:
    row = await q.one("SELECT external_id FROM inbox WHERE channel = ? ORDER BY id DESC LIMIT 1", (channel,))
    return None if row is None else str(row["external_id"])


async def forget_payload(q: Tx, entry_id: int) -> None:
    """Erase what an update carried at once (one beyond its chat's limit: nothing of it is kept)."""
    await q.execute("UPDATE inbox SET payload = '' WHERE id = ?", (entry_id,))
