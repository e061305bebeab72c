"""The register ledger 登记台账 (seed §3 "逐一登记"): every matter registered in a span, one row each, with
what a county office's ledger records of it. Read in one query through the index on the registration
time, filtered by kind, department and state in SQL; the rows are yielded as they are read, in order of
registration, so a year of a large unit is never held whole.

The ledger is the office's: it names the representative and the subject, never a complainant (SPEC §1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.matter.states import ExtensionState, ReplyState
from bot.model import UnitScope
from storage.db import Tx, literals, ts
from storage.units import within

SENT, APPROVED = literals(ReplyState.SENT), literals(ExtensionState.APPROVED)

NO_DEPARTMENT = 0  # in `departments`: the matters with none


@dataclass(frozen=True)
class LedgerRow:
    id: int
    number: str
    registered_at: str
    representative: str
    body: str  # npc | cppcc
    kind: str
    subject: str
    received_via: str
    department: str | None
    urger: str | None
    due_date: date
    extended_to: date | None  # the latest approved extension
    major: bool
    state: str
    outcome: str | None
    transferred_to: str | None
    concluded_at: str | None
    closed_at: str | None
    first_reply_at: str | None
    reply_at: str | None  # the latest reply sent: when, how, what kind, its rating
    reply_via: str | None
    reply_kind: str | None
    rating: str | None
    reopened: int


async def rows(q: Tx, scope: UnitScope, start: datetime, end: datetime, *, kinds: Sequence[str] = (), departments: Sequence[int] = (),
               states: Sequence[str] = (), due_before: date | None = None, batch: int = 5000
               ) -> AsyncIterator[LedgerRow]:
    """The scope's matters registered in [start, end) — selected with a day's slack either side: the caller cuts
    the exact local days — of these kinds, departments (NO_DEPARTMENT: none) and states (empty: all), due
    before `due_before` if given; in order of registration, read `batch` at a time along the index."""
    # The period's index leads: the filters below are written so that no index of theirs is chosen instead
    # (without statistics SQLite would take the index on the state, read every closed matter and sort them).
    where = ["m.registered_at >= ?", "m.registered_at < ?"]
    params: list[object] = [ts(start - timedelta(days=1)), ts(end + timedelta(days=1))]
    if kinds:
        where.append(f"m.kind IN ({', '.join('?' for _ in kinds)})")
        params += kinds
    if departments:
        named = [d for d in departments if d != NO_DEPARTMENT]
        either = []
        if named:
            either.append(f"m.department_id + 0 IN ({', '.join('?' for _ in named)})")
            params += named
        if NO_DEPARTMENT in departments:
            either.append("m.department_id IS NULL")
        where.append(f"({' OR '.join(either)})")
    if states:
        where.append(f"m.state || '' IN ({', '.join('?' for _ in states)})")
        params += states
    if due_before is not None:
        where.append("m.due_date || '' < ?")
        params.append(due_before.isoformat())
    sql = (
        "SELECT m.id, m.number, m.registered_at, p.name AS representative, COALESCE(mb.body, p.body) AS body, m.kind,"
        " m.subject, m.received_via,"
        " CASE WHEN d.unit_id <> m.unit_id THEN du.name || d.name ELSE d.name END AS department, u.name AS urger, m.due_date, m.major, m.state, m.outcome, m.transferred_to,"
        " m.concluded_at, m.closed_at, m.reopened,"
        f" (SELECT MAX(CASE WHEN e.state = {APPROVED} THEN e.new_due END) FROM extensions e WHERE e.matter_id = m.id)"
        " AS extended_to,"
        " (SELECT MIN(COALESCE(f.sent_at, f.drafted_at)) FROM replies f WHERE f.matter_id = m.id"
        f"  AND f.state = {SENT}) AS first_reply_at,"
        " COALESCE(r.sent_at, r.drafted_at) AS reply_at, r.via AS reply_via, r.kind AS reply_kind, r.rating"
        " FROM matters m JOIN persons p ON p.id = m.representative_id"
        " LEFT JOIN memberships mb ON mb.person_id = p.id AND mb.unit_id = m.unit_id"  # as the unit's roster has them
        " LEFT JOIN departments d ON d.id = m.department_id LEFT JOIN persons u ON u.id = m.urger_id"
        " LEFT JOIN units du ON du.id = d.unit_id"  # a county's department handling the matter (交办): with its unit
        " LEFT JOIN replies r ON r.id = (SELECT MAX(l.id) FROM replies l WHERE l.matter_id = m.id"
        f" AND l.state = {SENT})"
        f" WHERE {' AND '.join(where)} AND {within(scope, 'm.unit_id + 0')} AND (m.registered_at, m.id) > (?, ?)"
        " ORDER BY m.registered_at, m.id LIMIT ?"
    )
    after: tuple[str, int] = ("", 0)
    while True:
        found = await q.all(sql, (*params, *after, batch))
        for r in found:
            yield LedgerRow(
                r["id"], r["number"], r["registered_at"], r["representative"], r["body"] or "", r["kind"], r["subject"],
                r["received_via"], r["department"], r["urger"], date.fromisoformat(r["due_date"]),
                date.fromisoformat(r["extended_to"]) if r["extended_to"] else None, bool(r["major"]), r["state"],
                r["outcome"], r["transferred_to"], r["concluded_at"], r["closed_at"], r["first_reply_at"], r["reply_at"],
                r["reply_via"], r["reply_kind"], r["rating"], int(r["reopened"] or 0))
        if len(found) < batch:
            return
        after = (found[-1]["registered_at"], found[-1]["id"])
