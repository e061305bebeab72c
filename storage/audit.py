"""The audit log: every state change and every permission refusal, append-only and hash-chained.

`record` appends one entry inside the transaction of the change it describes, so the
change and its entry commit (or roll back) together. Each entry's hash is the SHA-256 of
a canonical serialisation of its id, time, actor, action, matter, detail (as stored) and
the previous entry's hash (64 zeros for the first), and the one-row table `audit_head`
holds the number of entries and the newest hash. `verify` recomputes the whole chain
and names the first entry where it breaks: a changed entry (its hash no longer matches),
an entry changed together with its hash (the next entry's `prev_hash` no longer matches),
a removed entry (a gap in the ids), entries removed from the end or appended without the
head (the head disagrees with the log).

What the detail may hold: ids, states, kinds, department ids, counts, reasons in code
form. Never a message body, a reply's text, a rating comment, nor a complainant's name
or contact (SPEC §1): the log is kept forever and cannot be corrected, so personal data
written into it could never be erased. `record` refuses the obvious keys (`FORBIDDEN_KEYS`);
the rest is the caller's duty.

What it proves, and what not:
- Through SQL the log is append-only: triggers refuse UPDATE and DELETE of entries,
  inserts out of chain order (which also stops INSERT OR REPLACE from overwriting one),
  deleting the head, and moving the head other than one step to the newest entry.
- Someone with write access to the database file can drop the triggers and rewrite the
  whole chain and the head consistently; `verify` then finds nothing. The chain proves
  that the log is consistent, not who wrote it. To anchor it, the operator publishes the
  head hash that `python -m bot audit verify` prints (in a signed report, a register, an
  e-mail to discipline inspection): a rewritten history has a different head from the one
  published, and a history truncated to before the published head no longer contains it.
- There is no key: anyone can compute the hashes. A keyed MAC would only move the trust
  to whoever holds the key.
- It fails closed: if the log and its head were made to disagree and the triggers put
  back, `record` (and with it the change it belongs to) is refused until an operator
  restores the database from a backup.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import DATABASE_ERRORS, Row, Tx, ts

GENESIS = "0" * 64
"""The `prev_hash` of the first entry, and the head of an empty log."""

FORBIDDEN_KEYS = frozenset({
    "body", "text", "comment", "note", "grounds", "complainant_name", "complainant_contact", "phone", "contact",
})
"""Detail keys that would carry message bodies or personal data; `record` refuses them."""

HASH_MISMATCH = "hash mismatch"
CHAIN_BROKEN = "chain broken (prev_hash does not match the previous row)"
ID_GAP = "id gap"
HEAD_MISSING = "head missing (audit_head has no row)"
HEAD_MISMATCH = "head mismatch (the newest entry is not the one the head records)"
UNREADABLE = "the audit tables cannot be read"

_BATCH = 1000


@dataclass(frozen=True)
class Broken:
    """The first entry where the chain breaks, and why."""

    id: int
    reason: str


@dataclass(frozen=True)
class Entry:
    """One entry of the log, as stored, with the detail decoded."""

    id: int
    at: str
    actor_id: int | None
    action: str
    matter_id: int | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(entry_id: int, at: str, actor_id: int | None, action: str, matter_id: int | None, detail: str,
               prev_hash: str, unit_id: int | None = None) -> str:
    """SHA-256 (hex) of the canonical serialisation: a compact JSON array of the fields, UTF-8.

    `detail` is the JSON text as stored, so that the hash never depends on how a JSON
    library re-encodes a value. The unit (migration 0028) is the array's last field; an entry from before units
    has none, and its hash is as it was computed then.
    """
    fields = [entry_id, at, actor_id, action, matter_id, detail, prev_hash]
    text = json.dumps(fields if unit_id is None else [*fields, unit_id], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def record(q: Tx, now: datetime, actor_id: int | None, action: str, *, matter_id: int | None = None,
                 detail: dict[str, Any] | None = None, unit: int | None = None) -> int:
    """Append one entry, chained to the last one; returns its id. Call inside the transaction of the change.

    `actor_id` is the person who acted, or None for the system. `detail` holds ids,
    states, kinds and department ids only: never message bodies, replies, comments or a
    complainant's personal data (see the module docstring); keys in `FORBIDDEN_KEYS` are
    refused with ValueError, as are values that are not JSON.

    Reading the last entry and inserting the next is safe because every write runs in
    `Database.transaction()` (BEGIN IMMEDIATE on the single writer).

    The entry's unit: `unit`, else the matter's, else the acting person's, else unit 1 (read with the last
    entry, in the same round trip).
    """
    if not action:
        raise ValueError("an audit entry needs an action")
    detail = detail or {}
    forbidden = sorted(FORBIDDEN_KEYS.intersection(detail))
    if forbidden:
        raise ValueError(f"audit detail must not hold {', '.join(forbidden)}: ids, states and kinds only")
    try:
        detail_text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError("audit detail must hold JSON values only (str, int, finite float, bool, None, list, dict)"
                         ) from None
    last = await q.one(
        "SELECT (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1) AS id,"
        " (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS hash,"
        " COALESCE(?, (SELECT unit_id FROM matters WHERE id = ?), (SELECT unit_id FROM persons WHERE id = ?), 1)"
        " AS unit", (unit, matter_id, actor_id))
    assert last is not None
    entry_id = 1 if last["id"] is None else int(last["id"]) + 1
    prev_hash = GENESIS if last["hash"] is None else str(last["hash"])
    unit_id = int(last["unit"])
    at = ts(now)
    digest = entry_hash(entry_id, at, actor_id, action, matter_id, detail_text, prev_hash, unit_id)
    await q.execute(
        "INSERT INTO audit_log (id, at, actor_id, action, matter_id, detail, prev_hash, hash, unit_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, at, actor_id, action, matter_id, detail_text, prev_hash, digest, unit_id),
    )
    if await q.execute("UPDATE audit_head SET count = count + 1, hash = ? WHERE id = 1", (digest,)) != 1:
        raise RuntimeError("audit_head has no row: the audit log has been tampered with")
    return entry_id


async def verify(q: Tx) -> tuple[int, Broken | None]:
    """`verify_chain`, and a table that cannot be read (dropped, or damaged) reported as broken, never raised."""
    try:
        return await verify_chain(q)
    except DATABASE_ERRORS as exc:
        return 0, Broken(1, f"{UNREADABLE} ({' '.join(str(exc).split())})")


async def verify_chain(q: Tx) -> tuple[int, Broken | None]:
    """Check the whole chain; return (entries checked, first broken entry or None).

    Entries checked counts those found sound before the first broken one (all of them
    when the chain is intact). Per entry, in id order: its id follows the previous one
    (else "id gap", reported at the entry after the gap), its hash matches its fields
    (else "hash mismatch"), its prev_hash is the previous entry's hash (else "chain
    broken"). Then the head: it must record as many entries as there are, and the
    newest hash; entries missing from the end are reported at the first missing id,
    entries beyond the head at the first of them.
    """
    checked = 0
    prev_id = 0
    prev_hash = GENESIS
    while True:
        rows = await q.all("SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (prev_id, _BATCH))
        if not rows:
            break
        for row in rows:
            broken = _check(row, prev_id, prev_hash)
            if broken is not None:
                return checked, broken
            checked += 1
            prev_id, prev_hash = row["id"], row["hash"]
    head = await q.one("SELECT count, hash FROM audit_head WHERE id = 1")
    if head is None:
        return checked, Broken(1, HEAD_MISSING)
    count, head_hash = head["count"], head["hash"]
    counts = f"the head records {count} entries, the log holds {checked}"
    if isinstance(count, int) and count > checked:
        return checked, Broken(prev_id + 1, f"missing ({counts})")
    if isinstance(count, int) and count < checked:
        return checked, Broken(count + 1, f"beyond the head ({counts})")
    if count != checked or head_hash != prev_hash:
        return checked, Broken(prev_id or 1, HEAD_MISMATCH)
    return checked, None


def _unit_of(row: Row) -> int | None:
    """The entry's unit; None for an entry from before units, or a log not yet migrated (a backup checked as it
    is, before the bot opens it)."""
    try:
        return row["unit_id"]  # type: ignore[no-any-return]
    except (IndexError, KeyError):
        return None


def _check(row: Row, prev_id: int, prev_hash: str) -> Broken | None:
    entry_id = row["id"]
    if entry_id != prev_id + 1:
        return Broken(entry_id, ID_GAP)
    try:
        expected = entry_hash(entry_id, row["at"], row["actor_id"], row["action"], row["matter_id"], row["detail"],
                              row["prev_hash"], _unit_of(row))
    except (TypeError, ValueError):  # a value of a type JSON cannot hold (a BLOB written by hand)
        return Broken(entry_id, HASH_MISMATCH)
    if row["hash"] != expected:
        return Broken(entry_id, HASH_MISMATCH)
    if row["prev_hash"] != prev_hash:
        return Broken(entry_id, CHAIN_BROKEN)
    return None


async def unit_entries(q: Tx, unit: int) -> int:
    """How many entries of the log are the unit's (those from before units count as unit 1's)."""
    return int(await q.scalar("SELECT COUNT(*) FROM audit_log WHERE unit_id = ? OR (? = 1 AND unit_id IS NULL)",
                              (unit, unit)))


async def head(q: Tx) -> tuple[int, str] | None:
    """The head as recorded: (number of entries, newest hash); None if its row or its table is missing."""
    try:
        row = await q.one("SELECT count, hash FROM audit_head WHERE id = 1")
    except DATABASE_ERRORS:
        return None
    return None if row is None else (int(row["count"]), str(row["hash"]))


@dataclass(frozen=True)
class Anchor:
    """A head published earlier (in a half-year report, a monthly bulletin): the newest hash then, and the
    number of entries if it was written down."""

    hash: str
    count: int | None = None


_ANCHOR = re.compile(r"(?:(?:^|(?<=\s))(\d+)[:\s]+)?(?<![0-9a-f])([0-9a-f]{64})(?![0-9a-f])")
_ENTRIES = re.compile(r"共(\d+)条")


def parse_anchors(text: str) -> list[Anchor]:
    """Heads from the lines of a file the office keeps (or one --head value): on each line a 64-digit hash,
    optionally right after the number of entries (`1234 3f9a…`, `1234:3f9a…`), or a line copied from a
    report or bulletin ("…共1234条…校验值…3f9a…"); lines without a hash and comments after '#' are skipped."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].lower()
        match = _ANCHOR.search(line)
        if match is None:
            continue
        entries = _ENTRIES.search(line)
        count = match.group(1) or (entries.group(1) if entries else None)
        found.append(Anchor(match.group(2), None if count is None else int(count)))
    return found


async def missing_anchors(q: Tx, anchors: list[Anchor]) -> list[Anchor]:
    """The anchors the log does not hold where they were: each hash must be an entry's (the entry numbered
    `count`, if given). With an intact chain, a hash found proves every entry up to it is as it was; a hash
    not found means entries were removed (the table emptied, its end cut off) or rewritten."""
    missing = []
    for anchor in anchors:
        if anchor.hash == GENESIS and not anchor.count:
            continue  # the head of an empty log: it anchors nothing
        try:
            entry_id = await q.scalar("SELECT id FROM audit_log WHERE hash = ?", (anchor.hash,))
        except DATABASE_ERRORS:
            entry_id = None
        if entry_id is None or anchor.count is not None and int(entry_id) != anchor.count:
            missing.append(anchor)
    return missing


async def entries(q: Tx, matter_id: int) -> list[Entry]:
    """A matter's entries, oldest first (for the staff timeline): staff-only, as the log itself."""
    rows = await q.all("SELECT * FROM audit_log WHERE matter_id = ? ORDER BY id", (matter_id,))
    return [
        Entry(id=row["id"], at=row["at"], actor_id=row["actor_id"], action=row["action"], matter_id=row["matter_id"],
              detail=json.loads(row["detail"]), prev_hash=row["prev_hash"], hash=row["hash"])
        for row in rows
    ]
