"""The outbox: every message owed to someone, written in the same transaction as its cause.

States: pending → sending → sent; on a transient failure back to pending with a later
`not_before`; `blocked` when the user blocked the bot; `failed` after too many attempts
or a permanent refusal; `held` when a send was in flight at a crash and its policy says
a possible duplicate is worse than a delay (a person at the office decides).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any

from bot import ports
from storage.db import Row, Tx, parse_ts, ts


ANSWER = ports.ANSWER  # a reply or a button answer to the person acting: sent before any notification waiting
NOTIFICATION = ports.NOTIFICATION  # receipts to others, notices, reminders, broadcasts


@dataclass(frozen=True)
class Item:
    """A message at the head of its queue. Its payload is read from the stored JSON when first used: a tick of
    the dispatcher looks at every chat's head and sends only those whose pace allows (bot/dispatch.py)."""

    id: int
    channel: str
    chat_id: str
    op: str
    stored_payload: str
    policy: str
    attempts: int
    matter_id: int | None
    stored_result: str | None = None

    @cached_property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.stored_payload)
        return payload

    @cached_property
    def sent(self) -> tuple[str, ...]:
        """The ids of the messages an earlier attempt delivered (bot.channels.base.Progress)."""
        return tuple((json.loads(self.stored_result) if self.stored_result else {}).get("message_ids") or ())


async def enqueue(
    q: Tx,
    *,
    channel: str,
    chat_id: str,
    op: str,
    payload: dict[str, Any],
    policy: str,
    now: datetime,
    person_id: int | None = None,
    matter_id: int | None = None,
    inbox_id: int | None = None,
    dedup_key: str | None = None,
    priority: int = NOTIFICATION,
) -> int | None:
    """Queue one message; with a dedup_key already queued, do nothing and return None."""
    row = await q.one(
        "INSERT INTO outbox (channel, chat_id, person_id, op, payload, policy, not_before, created_at,"
        " matter_id, inbox_id, dedup_key, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        (
            channel, chat_id, person_id, op, json.dumps(payload, ensure_ascii=False), policy,
            ts(now), ts(now), matter_id, inbox_id, dedup_key, priority,
        ),
    )
    return None if row is None else int(row[0])


HEADS_SQL = (
    "SELECT o.id, o.channel, o.chat_id, o.op, o.payload, o.policy, o.attempts, o.matter_id, o.result FROM outbox o"
    " WHERE o.state = 'pending' AND o.priority = ? AND o.channel = ? AND o.not_before <= ? AND o.id = ("
    "   SELECT MIN(p.id) FROM outbox p WHERE p.channel = o.channel AND p.chat_id = o.chat_id"
    "   AND p.op = o.op AND p.state IN ('pending', 'sending'))"
    " ORDER BY o.not_before, o.id LIMIT ?"
)


def _item(r: Any) -> Item:
    """A head read for sending, with the messages of it that already went (Progress: a retry goes on from there)."""
    return Item(r["id"], r["channel"], r["chat_id"], r["op"], r["payload"], r["policy"], r["attempts"], r["matter_id"],
                r["result"])


async def heads(q: Tx, now: datetime, channels: Iterable[str], limit: int = 500) -> list[Item]:
    """The next item of each (channel, chat, op) queue of these channels, if it is due: later ones wait their turn.

    Answers to the person acting before notifications, then earliest due first (ties in the order
    written): a deputy's button pressed during a broadcast is answered at once, not after it. One query
    per priority and channel, each in the order of the `outbox_due` index, so it walks the index and stops
    at `limit` heads, whatever the backlog; ordered by id alone, it had to check and sort every due item
    on every tick (40 ms at 20 000 pending). Each channel's own `limit`: a backlog on one (a briefing
    waiting for WeCom's pace) never keeps another's messages from being looked at (migration 0030).
    """
    rows: list[Any] = []
    for channel in channels:
        found = list(await q.all(HEADS_SQL, (ANSWER, channel, ts(now), limit)))
        if len(found) < limit:
            found += await q.all(HEADS_SQL, (NOTIFICATION, channel, ts(now), limit - len(found)))
        rows += found
    return [_item(r) for r in rows]


async def heads_among(q: Tx, item_ids: list[int]) -> list[Item]:
    """Those of the given items that are pending and first in their queue, whenever they are due (retries due by
    the monotonic clock while the wall clock was stepped back: bot/dispatch.py)."""
    if not item_ids:
        return []
    marks = ", ".join("?" * len(item_ids))
    rows = await q.all(
        "SELECT o.id, o.channel, o.chat_id, o.op, o.payload, o.policy, o.attempts, o.matter_id, o.result FROM outbox o"
        f" WHERE o.id IN ({marks}) AND o.state = 'pending' AND o.id = ("
        "   SELECT MIN(p.id) FROM outbox p WHERE p.channel = o.channel AND p.chat_id = o.chat_id"
        "   AND p.op = o.op AND p.state IN ('pending', 'sending')) ORDER BY o.id", item_ids)
    return [_item(r) for r in rows]


async def settle_due_times(q: Tx, now: datetime, longest: timedelta) -> int:
    """Pending items due further ahead than `longest` (no wait is that long: the clock was stepped back since
    they were written) become due now; returns how many."""
    return await q.execute("UPDATE outbox SET not_before = ? WHERE state = 'pending' AND not_before > ?",
                           (ts(now), ts(now + longest)))


@dataclass(frozen=True)
class Shown:
    """A message with choices that may have been seen (`shown_lists`): the ids of its messages as the channel knows
    them (words, a card, files), what it carried, when it was recorded sent (None while being sent, or waiting for
    a retry after a send that may have arrived: either way, just now), and whether it answered something the chat
    itself sent (`asked`; a notice caused by another's update or by the sweep was not)."""

    message_ids: tuple[str, ...]
    payload: dict[str, Any]
    sent_at: datetime | None
    asked: bool

    @property
    def message_id(self) -> str:
        return self.message_ids[-1]


async def shown_lists(q: Tx, channel: str, chat_id: str, look_back: int = 20, *, edits: bool = True) -> list[Shown]:
    """The messages to a chat with numbered choices that may have been seen, latest first: the numbers a person
    types answer such a list (WeCom's numbered text; the console after a restart shows one again).

    "May have been seen": sent, being sent (claimed, so committed before it goes: a person may answer the moment
    it arrives), or tried before and waiting for its retry (a send of unknown outcome may have arrived). A
    message queued behind has not been seen, and its list is not the one a number answers. `edits=False` for a
    channel that shows no edit of an earlier message (WeCom): an edit's buttons were never shown there. The id
    is the channel's message id once known, else `outbox-<id>`. A message whose every button has a typed form
    (a notice's "Open the matter": its number is typed instead) is not a list a number answers. Only the last
    `look_back` messages are looked at (and none whose text has been erased, storage/retention)."""
    found = []
    for row in await _seen(q, channel, chat_id, look_back):
        payload = json.loads(row["payload"]) if row["payload"] else {}
        numbered = any(len(b) < 3 for line in payload.get("buttons") or () for b in line)  # bot.messages.Button
        if numbered and (edits or payload.get("edit_message_id") is None):
            ids = (json.loads(row["result"]) if row["result"] else {}).get("message_ids") or [f"outbox-{row['id']}"]
            found.append(Shown(tuple(str(i) for i in ids), payload,
                               parse_ts(row["sent_at"]) if row["sent_at"] else None,
                               row["chat_key"] == f"{channel}:{chat_id}"))
    return found


async def _seen(q: Tx, channel: str, chat_id: str, look_back: int) -> list[Row]:
    """The last `look_back` messages to a chat that may have been seen (`shown_lists`), latest first."""
    return await q.all("SELECT o.id, o.payload, o.result, o.sent_at, i.chat_key FROM outbox o"
                       " LEFT JOIN inbox i ON i.id = o.inbox_id WHERE o.channel = ? AND o.chat_id = ?"
                       " AND o.op = 'message' AND (o.state IN ('sent', 'sending') OR (o.state = 'pending'"
                       " AND o.attempts > 0)) ORDER BY o.id DESC LIMIT ?", (channel, chat_id, look_back))


async def offers_typed(q: Tx, channel: str, chat_id: str, typed: str, look_back: int = 20) -> bool:
    """Whether the latest message with buttons that the chat may have seen offers `typed` as a button's typed form
    (bot.messages.Button: a notice's "查看事项：发送 LS-2026-0006"): what a person sends it for is that button."""
    for row in await _seen(q, channel, chat_id, look_back):
        payload = json.loads(row["payload"]) if row["payload"] else {}
        lines = payload.get("buttons") or ()
        if any(lines) and payload.get("edit_message_id") is None:
            return any(len(b) >= 3 and b[2] == typed for line in lines for b in line)
    return False


async def unsent_answers(q: Tx, channel: str, chat_id: str) -> list[dict[str, Any]]:
    """The payloads of the chat's button answers not yet known to be done: queued, being sent, or sent with an
    unknown outcome ('held')."""
    rows = await q.all("SELECT payload FROM outbox WHERE channel = ? AND chat_id = ? AND op = 'answer'"
                       " AND state IN ('pending', 'sending', 'held')", (channel, chat_id))
    return [json.loads(row["payload"]) for row in rows if row["payload"]]


async def last_buttons(q: Tx, channel: str, chat_id: str, look_back: int = 20, *,
                       edits: bool = True) -> tuple[str, dict[str, Any]] | None:
    """The latest of `shown_lists`, as (message id, payload); None if there is none."""
    lists = await shown_lists(q, channel, chat_id, look_back, edits=edits)
    return (lists[0].message_id, lists[0].payload) if lists else None


async def claim(q: Tx, item_ids: list[int]) -> set[int]:
    """Claim pending items for sending, all in one statement; return the ids claimed (still pending)."""
    if not item_ids:
        return set()
    marks = ", ".join("?" * len(item_ids))
    rows = await q.all(
        f"UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id IN ({marks}) AND state = 'pending'"
        " RETURNING id",
        item_ids,
    )
    return {int(r[0]) for r in rows}


async def keep_progress(q: Tx, item_id: int, message_ids: list[str]) -> None:
    """Remember which messages of an item not yet sent in full have reached the chat (bot.channels.base.Progress)."""
    await q.execute("UPDATE outbox SET result = ? WHERE id = ? AND state = 'sending'",
                    (json.dumps({"message_ids": message_ids, "partial": True}), item_id))


async def mark_sent(q: Tx, item_id: int, result: dict[str, Any], now: datetime) -> None:
    await mark_sent_many(q, [(item_id, result)], now)


async def mark_sent_many(q: Tx, results: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
    """Record several sends at once (the dispatcher commits the sends that finished together)."""
    await q.executemany(
        "UPDATE outbox SET state = 'sent', sent_at = ?, result = ? WHERE id = ?",
        [(ts(now), json.dumps(result), item_id) for item_id, result in results],
    )


async def retry_later(q: Tx, item_id: int, not_before: datetime, error: str, *, ambiguous: bool = False,
                      refund: bool = False) -> None:
    """Back to pending. `ambiguous` counts a send that may have arrived (a retry may duplicate it);
    `refund` gives back the attempt (a rate limit is not a failure)."""
    await q.execute(
        "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?, ambiguous = ambiguous + ?,"
        " attempts = attempts - ? WHERE id = ?",
        (ts(not_before), error, int(ambiguous), int(refund), item_id),
    )


async def give_up(q: Tx, item_id: int, state: str, error: str) -> None:
    await q.execute("UPDATE outbox SET state = ?, last_error = ? WHERE id = ?", (state, error, item_id))


ELSEWHERE = "elsewhere:"  # the dedup key of a message sent again on another account (`send_elsewhere`)


async def owner(q: Tx, item_id: int) -> tuple[int | None, bool]:
    """Whose message an item is (the person it was written for, if any), and whether it is itself one sent again
    elsewhere (never sent on again: two unreachable accounts would pass it back and forth)."""
    row = await q.one("SELECT person_id, dedup_key FROM outbox WHERE id = ?", (item_id,))
    if row is None:
        return None, False
    return row["person_id"], str(row["dedup_key"] or "").startswith(ELSEWHERE)


async def send_elsewhere(q: Tx, item_id: int, to: tuple[str, str], now: datetime) -> int | None:
    """A copy of the item for the chat `to` (channel, chat id): the same person's other account."""
    row = await q.one(
        "INSERT INTO outbox (channel, chat_id, person_id, op, payload, policy, not_before, created_at, matter_id,"
        " dedup_key, priority) SELECT ?, ?, person_id, op, payload, policy, ?, ?, matter_id, ?, priority FROM outbox"
        " WHERE id = ? ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        (to[0], to[1], ts(now), ts(now), f"{ELSEWHERE}{item_id}", item_id))
    return None if row is None else int(row[0])


async def recover(q: Tx) -> dict[str, int]:
    """After a crash: entries caught mid-send are retried or held, by their policy."""
    retried = await q.execute(
        "UPDATE outbox SET state = 'pending', last_error = 'in flight at restart', ambiguous = ambiguous + 1"
        " WHERE state = 'sending' AND policy = 'retry'"
    )
    held = await q.execute(
        "UPDATE outbox SET state = 'held', last_error = 'in flight at restart', ambiguous = ambiguous + 1"
        " WHERE state = 'sending' AND policy = 'hold'"
    )
    return {"retried": retried, "held": held}


async def sent_since(q: Tx, channel: str, since: datetime) -> list[tuple[str, str, dict[str, Any], datetime]]:
    """(chat_id, op, payload, sent_at) of the channel's messages sent after `since`, oldest first: the pacing
    windows of a channel that limits each chat per hour, after a restart. Written within a day before (the
    partial index of kept payloads; an item waits longer than that only while its chat is paced)."""
    rows = await q.all(
        "SELECT chat_id, op, payload, sent_at FROM outbox WHERE payload <> '' AND created_at > ? AND channel = ?"
        " AND state = 'sent' AND sent_at > ? ORDER BY sent_at",
        (ts(since - timedelta(days=1)), channel, ts(since)))
    return [(r["chat_id"], r["op"], json.loads(r["payload"]), parse_ts(r["sent_at"])) for r in rows]


async def counts(q: Tx) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await q.all("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")}
