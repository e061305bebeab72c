"""Forgetting what is no longer needed: the text of received updates and of sent messages.

The inbox keeps each update as the channel sent it and the outbox each message as it went out:
copies of what deputies and staff wrote, complainants' names and contacts among them, needed only
while the update is handled or the message sent, and for a while after to look into a failure.
Once they are older than `storage.keep_messages_days` their payloads are erased; the rows stay
(ids, states, times: the record that something was received and sent, and the keys that recognise
a redelivery). What the work needs — matters, replies, the timeline, contacts — is in its own tables.
An update not yet handled, and a message not yet sent or given up, are never touched. A dialogue
left untouched as long (a submission begun and abandoned, with what was typed into it) is dropped.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, Tx, ts

BATCH = 500  # rows a transaction: the writer is held for milliseconds, not for a backlog of years

_INBOX = ("UPDATE inbox SET payload = '' WHERE id IN (SELECT id FROM inbox WHERE payload <> '' AND received_at < ?"
          " AND state <> 'new' ORDER BY received_at LIMIT ?)")
_OUTBOX = ("UPDATE outbox SET payload = '' WHERE id IN (SELECT id FROM outbox WHERE payload <> '' AND created_at < ?"
           " AND state NOT IN ('pending', 'sending') ORDER BY created_at LIMIT ?)")
# (The states as a negation: a positive list would make the planner walk every message sent through
# the state index instead of only the rows still kept through the partial one.)


_DIALOGS = "DELETE FROM dialogs WHERE actor IN (SELECT actor FROM dialogs WHERE updated_at < ? LIMIT ?)"


async def forget_batch(q: Tx, before: datetime, limit: int = BATCH) -> int:
    """Erase up to `limit` inbox and `limit` outbox payloads, and drop up to `limit` dialogues, from
    before `before`; how many."""
    return sum([await q.execute(sql, (ts(before), limit)) for sql in (_INBOX, _OUTBOX, _DIALOGS)])


async def forget(db: Database, before: datetime, *, batches: int = 20) -> int:
    """Erase the payloads from before `before`, a batch a transaction, at most `batches` batches (the
    rest, after a long time without, on the next ticks); how many were erased."""
    total = 0
    for _ in range(batches):
        async with db.transaction() as tx:
            erased = await forget_batch(tx, before)
        total += erased
        if erased < BATCH:  # neither table had a full batch left
            break
    return total
