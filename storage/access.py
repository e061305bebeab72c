"""Taking access away (SPEC §2, issue 15 item 1): disable a person, unbind a chat account, set staff roles.

SQL only; the use cases (who may, what is audited, what the office is told) are in handlers/people/access.py.
A disabled person keeps their row, their chat accounts (so that enabling them again needs no new
invite), their matters and their history; `people.by_identity` and `people.chats_of` no longer see
them, so every command and press of theirs is answered as from a stranger, and nothing is sent to them.
What was queued for them and not yet sent is withdrawn (state `failed`, "access removed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import ports
from bot.matter.states import ENDED
from bot.model import UnitScope
from storage.db import Tx, literals, ts
from storage.units import within

WITHDRAWN = "access removed"


@dataclass(frozen=True)
class Account:
    channel: str
    external_id: str
    chat_id: str
    bound_at: str


async def accounts(q: Tx, person_id: int) -> list[Account]:
    rows = await q.all("SELECT channel, external_id, chat_id, bound_at FROM identities WHERE person_id = ?"
                       " ORDER BY bound_at, channel, external_id", (person_id,))
    return [Account(r["channel"], r["external_id"], r["chat_id"], r["bound_at"]) for r in rows]


async def disabled_at(q: Tx, person_id: int) -> str | None:
    value = await q.scalar("SELECT disabled_at FROM persons WHERE id = ?", (person_id,))
    return None if value is None else str(value)


async def set_disabled(q: Tx, person_id: int, now: datetime | None) -> bool:
    """Disable (now) or enable (None) a person; False if they were so already."""
    if now is None:
        changed = await q.execute("UPDATE persons SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL",
                                  (person_id,))
    else:
        changed = await q.execute("UPDATE persons SET disabled_at = ?, updated_at = ? WHERE id = ?"
                                  " AND disabled_at IS NULL", (ts(now), ts(now), person_id))
    return changed == 1


async def end_dialogues(q: Tx, chosen: list[Account]) -> int:
    """Drop the open dialogues of these accounts (`channel:external_id`, the router's actor)."""
    ended = 0
    for account in chosen:
        ended += await q.execute("DELETE FROM dialogs WHERE actor = ?", (f"{account.channel}:{account.external_id}",))
    return ended


async def copy_notices(q: Tx, person_id: int, chosen: list[Account], to: tuple[str, str], now: datetime) -> int:
    """The notices queued for the person on these accounts' chats and not yet being sent, copied, whole, for the
    chat `to` (channel, chat id), another account of theirs (an unbound or replaced account: what the person is
    owed still reaches them); `withdraw_messages` then withdraws the originals. Copies, not moves: each is new in
    its chat's queue (after what it holds, and the list a typed number answers there stays that chat's latest),
    and goes whole even if some of its parts reached the old account. Replies to the old account's own actions
    (its dialogue ends with it) and answers to its presses are not copied."""
    copied = 0
    for account in chosen:
        copied += await q.execute(
            "INSERT INTO outbox (channel, chat_id, person_id, op, payload, policy, not_before, created_at, matter_id,"
            " priority) SELECT ?, ?, person_id, op, payload, policy, ?, ?, matter_id, priority FROM outbox"
            " WHERE channel = ? AND chat_id = ? AND state = 'pending' AND op = 'message' AND person_id = ?"
            " AND priority = ? ORDER BY id",
            (*to, ts(now), ts(now), account.channel, account.chat_id, person_id, ports.NOTIFICATION))
    return copied


async def withdraw_messages(q: Tx, person_id: int, chosen: list[Account]) -> int:
    """What is queued for these accounts' chats and not yet being sent: withdrawn, never sent."""
    withdrawn = 0
    for account in chosen:
        withdrawn += await q.execute(
            "UPDATE outbox SET state = 'failed', last_error = ? WHERE channel = ? AND chat_id = ? AND state = 'pending'"
            " AND (person_id = ? OR person_id IS NULL)", (WITHDRAWN, account.channel, account.chat_id, person_id))
    return withdrawn


async def unbind(q: Tx, person_id: int, account: Account) -> None:
    await q.execute("DELETE FROM identities WHERE channel = ? AND external_id = ? AND person_id = ?",
                    (account.channel, account.external_id, person_id))


async def set_roles(q: Tx, person_id: int, roles: frozenset[str]) -> None:
    await q.execute("DELETE FROM person_roles WHERE person_id = ?", (person_id,))
    await q.executemany("INSERT INTO person_roles (person_id, role) VALUES (?, ?)",
                        [(person_id, role) for role in sorted(roles)])


async def representatives_not_in(q: Tx, scope: UnitScope, kept: set[int]) -> list[tuple[int, str]]:
    """(id, name) of the scope's own unit's active representatives other than `kept` (those a re-imported roster
    names)."""
    rows = await q.all("SELECT p.id, p.name FROM persons p JOIN unit_members m ON m.person_id = p.id"
                       " WHERE m.unit_id = ? AND p.disabled_at IS NULL ORDER BY p.name, p.id", (scope.unit,))
    return [(int(r["id"]), str(r["name"])) for r in rows if int(r["id"]) not in kept]


async def open_matters(q: Tx, person_id: int, scope: UnitScope | None) -> list[str]:
    """The numbers of the representative's matters not yet closed (they stay the unit's, and are handled): the
    scope's own units' (a representative on two rosters has matters in each; one unit's office is told of its own),
    or every unit's for the operator (`scope` None)."""
    where = "" if scope is None else f" AND {within(scope)}"
    rows = await q.all(f"SELECT number FROM matters WHERE representative_id = ? AND state NOT IN ({literals(*ENDED)})"
                       f"{where} ORDER BY id", (person_id,))
    return [str(r["number"]) for r in rows]


async def open_matters_urged_by(q: Tx, person_id: int) -> list[str]:
    """The numbers of the open matters this staff member urges (专人催办): to be given to someone else."""
    rows = await q.all(f"SELECT number FROM matters WHERE urger_id = ? AND state NOT IN ({literals(*ENDED)})"
                       " ORDER BY id", (person_id,))
    return [str(r["number"]) for r in rows]


async def invite_keeps_accounts(q: Tx, invite_id: int) -> bool:
    return bool(await q.scalar("SELECT keep_accounts FROM invites WHERE id = ?", (invite_id,)))
