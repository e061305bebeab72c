"""Dialogue state per actor (channel:external_id), stored so that a dialogue survives a restart."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from bot.model import Dialog as Dialog  # the core's type; named here too for branches in flight
from bot.model import actor_of as actor_of
from storage.db import Tx, ts


async def load(q: Tx, actor: str) -> Dialog | None:
    row = await q.one("SELECT flow, step, nonce, data FROM dialogs WHERE actor = ?", (actor,))
    return None if row is None else of_columns(row["flow"], row["step"], row["nonce"], row["data"])


def of_columns(flow: str | None, step: str, nonce: str, data: str) -> Dialog | None:
    """The dialogue of a `dialogs` row's columns, read in another statement (storage/people.py `arriving`)."""
    return None if flow is None else Dialog(flow, step, nonce, json.loads(data))


async def save(q: Tx, actor: str, dialog: Dialog, now: datetime, *, new_step: bool) -> None:
    """Store the dialogue; with `new_step` the nonce changes, so the old step's buttons go stale."""
    if new_step:
        dialog.nonce = secrets.token_hex(3)
    await q.execute(
        "INSERT INTO dialogs (actor, flow, step, nonce, data, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (actor) DO UPDATE SET flow = excluded.flow, step = excluded.step,"
        " nonce = excluded.nonce, data = excluded.data, updated_at = excluded.updated_at",
        (actor, dialog.flow, dialog.step, dialog.nonce, json.dumps(dialog.data, ensure_ascii=False), ts(now)),
    )


async def clear(q: Tx, actor: str) -> None:
    await q.execute("DELETE FROM dialogs WHERE actor = ?", (actor,))
