"""The records the core's Context keeps (bot/ports.py `Records`), carried out by the storage modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.model import Dialog, Person, UnitScope
from bot.ports import NOTIFICATION
from storage import dialogs, outbox, people
from storage.db import Tx


class StorageRecords:
    async def enqueue(self, q: Tx, *, channel: str, chat_id: str, op: str, payload: dict[str, Any], policy: str,
                      now: datetime, person_id: int | None = None, matter_id: int | None = None,
                      inbox_id: int | None = None, dedup_key: str | None = None,
                      priority: int = NOTIFICATION) -> int | None:
        return await outbox.enqueue(q, channel=channel, chat_id=chat_id, op=op, payload=payload, policy=policy,
                                    now=now, person_id=person_id, matter_id=matter_id, inbox_id=inbox_id,
                                    dedup_key=dedup_key, priority=priority)

    async def person(self, q: Tx, person_id: int) -> Person | None:
        return await people.get(q, person_id)

    async def chats_of(self, q: Tx, person_id: int) -> list[tuple[str, str]]:
        return await people.chats_of(q, person_id)

    async def with_role(self, q: Tx, scope: UnitScope, role: str) -> list[int]:
        """The ids of the people of the scope's unit who hold `role` and whose access is not taken away."""
        return await people.with_role(q, scope, role)

    async def unit_of_matter(self, q: Tx, matter_id: int) -> int:
        """The unit whose matter it is (a deputy's access taken away: their notices go to that unit's office)."""
        return int(await q.scalar("SELECT unit_id FROM matters WHERE id = ?", (matter_id,)))

    async def set_locale(self, q: Tx, person_id: int, locale: str, now: datetime) -> None:
        await people.set_locale(q, person_id, locale, now)

    async def save_dialog(self, q: Tx, actor: str, dialog: Dialog, now: datetime, *, new_step: bool) -> None:
        await dialogs.save(q, actor, dialog, now, new_step=new_step)

    async def clear_dialog(self, q: Tx, actor: str) -> None:
        await dialogs.clear(q, actor)


RECORDS = StorageRecords()
