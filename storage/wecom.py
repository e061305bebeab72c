"""What the WeCom channel keeps: the shared access token, uploaded media, button cards (a numbered list's choices are read from the outbox)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.db import Tx, parse_ts, ts


async def token(q: Tx, corp_id: str, agent_id: int) -> tuple[str, datetime] | None:
    row = await q.one("SELECT token, expires_at FROM wecom_tokens WHERE corp_id = ? AND agent_id = ?",
                      (corp_id, agent_id))
    return None if row is None else (str(row["token"]), parse_ts(row["expires_at"]))


async def save_token(q: Tx, corp_id: str, agent_id: int, value: str, expires_at: datetime) -> None:
    await q.execute(
        "INSERT INTO wecom_tokens (corp_id, agent_id, token, expires_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (corp_id, agent_id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
        (corp_id, agent_id, value, ts(expires_at)))


async def media(q: Tx, sha256: str, name: str, kind: str, since: datetime) -> str | None:
    """The media_id of this file uploaded after `since` (still valid), if any."""
    value = await q.scalar("SELECT media_id FROM wecom_media WHERE sha256 = ? AND name = ? AND kind = ?"
                           " AND uploaded_at > ?", (sha256, name, kind, ts(since)))
    return None if value is None else str(value)


async def save_media(q: Tx, sha256: str, name: str, kind: str, media_id: str, now: datetime) -> None:
    await q.execute(
        "INSERT INTO wecom_media (sha256, name, kind, media_id, uploaded_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (sha256, name, kind) DO UPDATE SET media_id = excluded.media_id,"
        " uploaded_at = excluded.uploaded_at", (sha256, name, kind, media_id, ts(now)))


async def forget_media(q: Tx, media_id: str) -> None:
    await q.execute("DELETE FROM wecom_media WHERE media_id = ?", (media_id,))


@dataclass(frozen=True)
class Card:
    task_id: str
    userid: str
    buttons: list[tuple[str, str, str]]  # (key, label, data)
    sent_at: datetime
    chosen_at: str | None

    def button(self, key: str) -> tuple[str, str] | None:
        """(label, data) of the button with this key."""
        for k, label, data in self.buttons:
            if k == key:
                return label, data
        return None


async def add_card(q: Tx, task_id: str, userid: str, buttons: list[tuple[str, str, str]], now: datetime) -> None:
    await q.execute("INSERT INTO wecom_cards (task_id, userid, buttons, sent_at) VALUES (?, ?, ?, ?)",
                    (task_id, userid, json.dumps(buttons, ensure_ascii=False), ts(now)))


async def card(q: Tx, task_id: str) -> Card | None:
    row = await q.one("SELECT * FROM wecom_cards WHERE task_id = ?", (task_id,))
    if row is None:
        return None
    buttons = [(str(k), str(label), str(data)) for k, label, data in json.loads(row["buttons"])]
    return Card(row["task_id"], row["userid"], buttons, parse_ts(row["sent_at"]), row["chosen_at"])


async def mark_chosen(q: Tx, task_id: str, now: datetime) -> bool:
    """Record that the card's buttons were replaced by the choice; False if they were already."""
    return await q.execute("UPDATE wecom_cards SET chosen_at = ? WHERE task_id = ? AND chosen_at IS NULL",
                           (ts(now), task_id)) == 1


async def presentations(q: Tx, userids: list[str]) -> dict[str, tuple[str | None, bool, str | None]]:
    """`presentation` of several members in one query: the bound ones by userid (the others are absent)."""
    found: dict[str, tuple[str | None, bool, str | None]] = {}
    for start in range(0, len(userids), 500):
        chunk = userids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in await q.all(
                "SELECT i.external_id, p.presentation, p.body, p.locale FROM identities i JOIN persons p"
                f" ON p.id = i.person_id WHERE i.channel = 'wecom' AND i.external_id IN ({marks})"
                " AND p.disabled_at IS NULL", chunk):
            found[row["external_id"]] = (row["presentation"], row["body"] is not None, row["locale"])
    return found


async def presentation(q: Tx, userid: str) -> tuple[str | None, bool, str | None] | None:
    """(the person's chosen presentation or None, whether they are a representative, their language or None),
    if the member is bound."""
    row = await q.one("SELECT p.presentation, p.body, p.locale FROM identities i JOIN persons p ON p.id = i.person_id"
                      " WHERE i.channel = 'wecom' AND i.external_id = ? AND p.disabled_at IS NULL", (userid,))
    return None if row is None else (row["presentation"], row["body"] is not None, row["locale"])
