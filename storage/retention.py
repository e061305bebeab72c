"""Forgetting what is no longer needed: the text of received updates and of sent messages.

The inbox keeps each update as the channel sent it and the outbox each message as it went out:
copies of what deputies and staff wrote, complainants' names and contacts among them, needed only
while the update is handled or the message sent, and for a while after to look into a failure.
Once they are older than `storage.keep_messages_days` their payloads are erased; the rows stay
(ids, states, times: the record that something was received and sent, and the keys that recognise
a redelivery). What the work needs — matters, replies, the timeline, contacts — is in its own tables.
An update not yet handled, and a message not yet sent or given up, are never touched. A dialogue
left untouched for `storage.keep_dialogs_days` (a submission begun and abandoned, with what was typed
into it) is dropped, and the files attached to it that nothing else names are removed from disk.
Once a day, any stored file that nothing has named for `storage.keep_messages_days` is removed too:
one received but refused (an eleventh attachment, a file where text was asked), a report or a chart
sent long ago (both can be drawn again). With `storage.keep_complainant_days` set, a referred case
closed or transferred longer ago than that loses its complainant's name and contact (the default, 0,
keeps them as long as the matter, as archives practice may require).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.files import FileStore
from storage import audit
from storage.db import Database, Tx, ts

BATCH = 500  # rows a transaction: the writer is held for milliseconds, not for a backlog of years
FRESH = timedelta(hours=1)  # a file stored (or stored again) this recently may be about to be referred to

# The outer conditions repeat the inner ones: under PostgreSQL's READ COMMITTED a row refreshed meanwhile
# must not be caught by the list computed before.
_INBOX = ("UPDATE inbox SET payload = '' WHERE payload <> '' AND state <> 'new' AND id IN (SELECT id FROM inbox"
          " WHERE payload <> '' AND received_at < ? AND state <> 'new' ORDER BY received_at LIMIT ?)")
_OUTBOX = ("UPDATE outbox SET payload = '' WHERE payload <> '' AND state NOT IN ('pending', 'sending') AND id IN"
           " (SELECT id FROM outbox WHERE payload <> '' AND created_at < ? AND state NOT IN ('pending', 'sending')"
           " ORDER BY created_at LIMIT ?)")
# (The states as a negation: a positive list would make the planner walk every message sent through
# the state index instead of only the rows still kept through the partial one.)
# WeCom's button cards hold the buttons' labels (a matter's subject may be one).
_WECOM = ("DELETE FROM wecom_cards WHERE task_id IN (SELECT task_id FROM wecom_cards WHERE sent_at < ? LIMIT ?)",)
_DIALOGS = "SELECT actor, data FROM dialogs WHERE updated_at < ? LIMIT ?"
_DROP = "DELETE FROM dialogs WHERE actor = ? AND updated_at < ?"
_NAMED = (  # what may still name a stored file
    "SELECT 1 FROM attachments WHERE sha256 = ?",
    "SELECT 1 FROM briefing_files WHERE sha256 = ?",
    "SELECT 1 FROM dialogs WHERE data LIKE '%' || ? || '%'",
    "SELECT 1 FROM outbox WHERE state IN ('pending', 'sending') AND payload LIKE '%' || ? || '%'",
)


@dataclass
class Forgotten:
    texts: int = 0  # inbox and outbox payloads erased
    dialogues: int = 0  # abandoned dialogues dropped
    files: int = 0  # their files that nothing else named, removed


async def forget_batch(q: Tx, now: datetime, messages_before: datetime, dialogues_before: datetime,
                       store: FileStore, limit: int = BATCH) -> Forgotten:
    """Erase up to `limit` inbox and `limit` outbox payloads from before `messages_before`; drop up to
    `limit` dialogues untouched since `dialogues_before`, and remove the files they held that nothing
    else names (in the transaction, under the single writer, so no handler names one meanwhile)."""
    done = Forgotten()
    for sql in (_INBOX, _OUTBOX, *_WECOM):
        done.texts += await q.execute(sql, (ts(messages_before), limit))
    for row in await q.all(_DIALOGS, (ts(dialogues_before), limit)):
        if not await q.execute(_DROP, (row["actor"], ts(dialogues_before))):
            continue
        done.dialogues += 1
        for digest, path in set(_files_named(json.loads(row["data"]))):
            if not await _named(q, digest) and store.remove(path, unless_stored_after=now - FRESH):
                done.files += 1
    return done


async def _named(q: Tx, digest: str) -> bool:
    for sql in _NAMED:
        if await q.one(sql, (digest,)) is not None:
            return True
    return False


async def forget_unnamed_files(db: Database, store: FileStore, now: datetime, keep: timedelta,
                               batch: int = 200) -> int:
    """Remove every stored file older than `keep` that nothing names (checked under the writer, a batch
    of files a transaction); how many."""
    candidates = await asyncio.to_thread(lambda: list(store.stored_before(now - keep)))  # a walk of the disk
    removed = 0
    for start in range(0, len(candidates), batch):
        async with db.transaction() as tx:
            for digest, path in candidates[start:start + batch]:
                if not await _named(tx, digest) and store.remove(path, unless_stored_after=now - keep):
                    removed += 1
    return removed


def _files_named(value: Any) -> Iterator[tuple[str, str]]:
    """The stored files a dialogue's data holds: wherever an entry has a sha256 and a path."""
    if isinstance(value, dict):
        if isinstance(value.get("sha256"), str) and isinstance(value.get("path"), str):
            yield value["sha256"], value["path"]
        for item in value.values():
            yield from _files_named(item)
    elif isinstance(value, list):
        for item in value:
            yield from _files_named(item)


async def forget_complainants(db: Database, now: datetime, keep: timedelta, *, batches: int = 20) -> int:
    """Erase the complainant's name and contact of referred cases closed or transferred more than `keep` ago
    (`storage.keep_complainant_days`), each erasure on the audit log; return how many cases."""
    total = 0
    for _ in range(batches):
        async with db.transaction() as tx:
            rows = await tx.all(
                "SELECT id FROM matters WHERE state IN ('closed', 'transferred') AND closed_at < ?"
                " AND complainant_erased_at IS NULL"
                " AND (complainant_name IS NOT NULL OR complainant_contact IS NOT NULL) ORDER BY id LIMIT ?",
                ((now - keep).isoformat(), BATCH))  # closed_at is written by isoformat(), not ts()
            for row in rows:
                await tx.execute("UPDATE matters SET complainant_name = NULL, complainant_contact = NULL,"
                                 " complainant_erased_at = ? WHERE id = ?", (ts(now), row["id"]))
                await audit.record(tx, now, None, "complainant.erased", matter_id=int(row["id"]),
                                   detail={"kept_days": keep.days})
        total += len(rows)
        if len(rows) < BATCH:
            break
    return total


async def forget(db: Database, store: FileStore, now: datetime, keep_messages: timedelta, keep_dialogues: timedelta,
                 *, batches: int = 20) -> Forgotten:
    """Forget what is due at `now`, a batch a transaction, at most `batches` batches (the rest, after a
    long time without, on the next ticks)."""
    total = Forgotten()
    for _ in range(batches):
        async with db.transaction() as tx:
            done = await forget_batch(tx, now, now - keep_messages, now - keep_dialogues, store)
        total.texts += done.texts
        total.dialogues += done.dialogues
        total.files += done.files
        if done.texts < BATCH and done.dialogues < BATCH:  # nothing had a full batch left
            break
    return total
