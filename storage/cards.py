"""Opinion cards 征求意见卡 (seed §5): cards, their questions, recipients and answers; and the
representatives a card or a briefing goes to (an audience).

A recipient's row is the permission to answer: only the person the card was sent to, once.
`mark_answered` and `mark_declined` change a row only from the state they expect, so two
presses in a race cannot both win.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.model import UnitScope
from storage.db import Row, Tx, ts
from storage.units import acting_in, within

KINDS = ("free_text", "choice")
AUDIENCES = ("all", "npc", "cppcc", "sector", "named")


@dataclass(frozen=True)
class Card:
    id: int
    title: str
    created_by: int
    audience: dict[str, Any]
    sent_at: str
    state: str
    unit_id: int = 1  # the unit that sent it: its answers are that unit's contacts


@dataclass(frozen=True)
class Question:
    id: int
    position: int
    text: str
    kind: str  # "free_text" | "choice"
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    id: int
    card_id: int
    person_id: int
    name: str
    sent_at: str | None
    answered_at: str | None
    declined_at: str | None
    reminded_at: str | None
    matter_id: int | None
    number: str | None  # the number of the opinion matter registered from the answers

    @property
    def status(self) -> str:
        """answered | declined | waiting | unreached"""
        if self.answered_at is not None:
            return "answered"
        if self.declined_at is not None:
            return "declined"
        return "waiting" if self.sent_at is not None else "unreached"


@dataclass(frozen=True)
class Tally:
    """A card with how its recipients stand."""

    card: Card
    recipients: int
    reached: int
    answered: int
    declined: int

    @property
    def waiting(self) -> int:
        return self.reached - self.answered - self.declined

    @property
    def percent(self) -> int:
        """The response rate: answered out of reached, rounded down."""
        return 100 * self.answered // self.reached if self.reached else 0


def _card(row: Row) -> Card:
    return Card(row["id"], row["title"], row["created_by"], json.loads(row["audience"]), row["sent_at"], row["state"],
                int(row["unit_id"]))


async def create(q: Tx, scope: UnitScope, title: str, created_by: int, audience: dict[str, Any],
                 questions: list[tuple[str, str, list[str]]], now: datetime) -> int:
    """Store a card of the scope's own unit as sent now, with its questions (text, kind, choices) in order."""
    card_id = await q.insert(
        "INSERT INTO cards (title, created_by, audience, sent_at, unit_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (title, created_by, json.dumps(audience, ensure_ascii=False), ts(now), scope.unit),
    )
    for position, (text, kind, choices) in enumerate(questions, start=1):
        if kind not in KINDS:
            raise ValueError(f"unknown question kind {kind!r}")
        await q.execute(
            "INSERT INTO card_questions (card_id, position, text, kind, choices) VALUES (?, ?, ?, ?, ?)",
            (card_id, position, text, kind, json.dumps(choices, ensure_ascii=False)),
        )
    return card_id


async def add_recipient(q: Tx, card_id: int, person_id: int, sent_at: datetime | None) -> None:
    await q.execute("INSERT INTO card_recipients (card_id, person_id, sent_at) VALUES (?, ?, ?)",
                    (card_id, person_id, ts(sent_at) if sent_at else None))


async def get(q: Tx, scope: UnitScope, card_id: int) -> Card | None:
    """The card, if it is the scope's own unit's (an id from a button is user input: another's is none; what is
    found is acted on, so never a unit only read)."""
    row = await q.one(f"SELECT * FROM cards WHERE id = ? AND {acting_in(scope)}", (card_id,))
    return None if row is None else _card(row)


async def close(q: Tx, card_id: int, now: datetime) -> bool:
    """Stop taking answers; False when it was closed already."""
    changed = await q.execute("UPDATE cards SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'sent'",
                              (ts(now), card_id))
    return changed == 1


async def questions(q: Tx, card_id: int) -> list[Question]:
    rows = await q.all("SELECT * FROM card_questions WHERE card_id = ? ORDER BY position", (card_id,))
    return [Question(r["id"], r["position"], r["text"], r["kind"], tuple(json.loads(r["choices"]))) for r in rows]


_RECIPIENT = (
    "SELECT r.*, p.name, m.number FROM card_recipients r JOIN persons p ON p.id = r.person_id"
    " LEFT JOIN matters m ON m.id = r.matter_id"
)


def _recipient(row: Row) -> Recipient:
    return Recipient(row["id"], row["card_id"], row["person_id"], row["name"], row["sent_at"], row["answered_at"],
                     row["declined_at"], row["reminded_at"], row["matter_id"], row["number"])


async def recipient(q: Tx, card_id: int, person_id: int) -> Recipient | None:
    row = await q.one(f"{_RECIPIENT} WHERE r.card_id = ? AND r.person_id = ?", (card_id, person_id))
    return None if row is None else _recipient(row)


async def recipients(q: Tx, card_id: int) -> list[Recipient]:
    """Everyone a card was meant for, by name."""
    rows = await q.all(f"{_RECIPIENT} WHERE r.card_id = ? ORDER BY p.name, p.id", (card_id,))
    return [_recipient(r) for r in rows]


async def mark_answered(q: Tx, recipient_id: int, matter_id: int, answers: dict[int, str], now: datetime) -> bool:
    """Record the answers (question id → answer) and the matter; False when answered already."""
    changed = await q.execute(
        "UPDATE card_recipients SET answered_at = ?, declined_at = NULL, matter_id = ?"
        " WHERE id = ? AND answered_at IS NULL",
        (ts(now), matter_id, recipient_id),
    )
    if changed != 1:
        return False
    await q.executemany("INSERT INTO card_answers (recipient_id, question_id, answer) VALUES (?, ?, ?)",
                        [(recipient_id, question, answer) for question, answer in answers.items()])
    return True


async def mark_declined(q: Tx, recipient_id: int, now: datetime) -> bool:
    """Record a decline; False when answered or declined already."""
    changed = await q.execute(
        "UPDATE card_recipients SET declined_at = ? WHERE id = ? AND answered_at IS NULL AND declined_at IS NULL",
        (ts(now), recipient_id),
    )
    return changed == 1


async def answers(q: Tx, recipient_id: int) -> dict[int, str]:
    rows = await q.all("SELECT question_id, answer FROM card_answers WHERE recipient_id = ?", (recipient_id,))
    return {int(r["question_id"]): str(r["answer"]) for r in rows}


_TALLY = (
    "SELECT c.*, COUNT(r.id) AS recipients, COUNT(r.sent_at) AS reached, COUNT(r.answered_at) AS answered,"
    " COUNT(r.declined_at) AS declined FROM cards c LEFT JOIN card_recipients r ON r.card_id = c.id"
)


def _tally(row: Row) -> Tally:
    return Tally(_card(row), int(row["recipients"]), int(row["reached"]), int(row["answered"]), int(row["declined"]))


async def recent(q: Tx, scope: UnitScope, limit: int) -> list[Tally]:
    """The scope's latest cards first, with how they stand."""
    rows = await q.all(f"{_TALLY} WHERE {within(scope, 'c.unit_id')} GROUP BY c.id ORDER BY c.id DESC LIMIT ?",
                       (limit,))
    return [_tally(r) for r in rows]


async def tally(q: Tx, scope: UnitScope, card_id: int) -> Tally | None:
    row = await q.one(f"{_TALLY} WHERE c.id = ? AND {within(scope, 'c.unit_id')} GROUP BY c.id", (card_id,))
    return None if row is None else _tally(row)


async def awaiting_reminder(q: Tx, scope: UnitScope) -> list[Card]:
    """The scope's open cards that some reached recipient has neither answered nor declined, never reminded of."""
    rows = await q.all(
        f"SELECT c.* FROM cards c WHERE c.state = 'sent' AND {within(scope, 'c.unit_id')}"
        " AND EXISTS (SELECT 1 FROM card_recipients r WHERE r.card_id = c.id AND r.sent_at IS NOT NULL"
        "   AND r.answered_at IS NULL AND r.declined_at IS NULL)"
        " AND NOT EXISTS (SELECT 1 FROM card_recipients r WHERE r.card_id = c.id AND r.reminded_at IS NOT NULL)"
        " ORDER BY c.id"
    )
    return [_card(r) for r in rows]


async def mark_reminded(q: Tx, card_id: int, now: datetime) -> int:
    """Mark those not yet answered nor declined as reminded of; return how many."""
    return await q.execute(
        "UPDATE card_recipients SET reminded_at = ? WHERE card_id = ? AND sent_at IS NOT NULL"
        " AND answered_at IS NULL AND declined_at IS NULL",
        (ts(now), card_id),
    )


# -- audiences: whom a card or a briefing goes to --------------------------------------


async def audience_members(q: Tx, scope: UnitScope, audience: dict[str, Any]) -> list[int]:
    """The representatives on the scope's own unit's roster now that an audience names, by name."""
    kind = audience.get("kind")
    params: tuple[object, ...]
    if kind == "all":
        where, params = "1 = 1", ()
    elif kind in ("npc", "cppcc"):
        where, params = "m.body = ?", (kind,)
    elif kind == "sector":
        where, params = "m.sector = ?", (str(audience.get("sector", "")),)
    elif kind == "named":
        ids = [i for i in audience.get("ids", []) if isinstance(i, int) and not isinstance(i, bool)]
        if not ids:
            return []
        where, params = f"p.id IN ({', '.join('?' for _ in ids)})", tuple(ids)
    else:
        raise ValueError(f"unknown audience {audience!r}")
    rows = await q.all(f"SELECT p.id FROM persons p JOIN unit_members m ON m.person_id = p.id WHERE {where}"
                       " AND m.unit_id = ? ORDER BY p.name, p.id", (*params, scope.unit))
    return [int(r["id"]) for r in rows]
