"""What the core asks of storage, as protocols storage implements: the transaction a handler works in
(`Tx`) and the few records the `Context` keeps itself — the outbox, the dialogue, a person's chats and
language (`Records`). So bot/context.py imports nothing from storage; `storage.records.RECORDS` is the
implementation the wiring passes in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from bot.model import Dialog, Person, UnitScope
from bot.sealing import Sealer

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

ANSWER: Final = 0
"""Outbox priority of a reply or a button answer to the person acting: sent before any notification waiting."""
NOTIFICATION: Final = 1
"""Outbox priority of receipts to others, notices, reminders, broadcasts."""


class Tx(Protocol):
    """Queries inside one transaction (or one read snapshot)."""

    @property
    def sealer(self) -> Sealer: ...

    async def execute(self, sql: str, params: Params = ()) -> int: ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def insert(self, sql: str, params: Params = ()) -> int: ...

    async def one(self, sql: str, params: Params = ()) -> Row | None: ...

    async def all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def scalar(self, sql: str, params: Params = ()) -> Any: ...


class Records(Protocol):
    """The records a Context writes and reads for itself, each inside the handler's transaction."""

    async def enqueue(self, q: Tx, *, channel: str, chat_id: str, op: str, payload: dict[str, Any], policy: str,
                      now: datetime, person_id: int | None = None, matter_id: int | None = None,
                      inbox_id: int | None = None, dedup_key: str | None = None,
                      priority: int = NOTIFICATION) -> int | None: ...

    async def person(self, q: Tx, person_id: int) -> Person | None: ...

    async def chats_of(self, q: Tx, person_id: int) -> list[tuple[str, str]]: ...

    async def with_role(self, q: Tx, scope: UnitScope, role: str) -> list[int]: ...

    async def unit_of_matter(self, q: Tx, matter_id: int) -> int: ...

    async def set_locale(self, q: Tx, person_id: int, locale: str, now: datetime) -> None: ...

    async def save_dialog(self, q: Tx, actor: str, dialog: Dialog, now: datetime, *, new_step: bool) -> None: ...

    async def clear_dialog(self, q: Tx, actor: str) -> None: ...
