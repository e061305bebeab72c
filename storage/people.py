"""Persons (representatives and staff), their roles, chat identities, invites and departments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import normalise_phone
from bot.model import FIRST_UNIT, Dialog, UnitScope, actor_of
from bot.model import Person as Person  # the core's type; named here too for branches in flight
from bot.sealing import PHONE
from storage import dialogs
from storage.db import Row, Tx, ts
from storage.units import within


# A person's roles and further units in the same statement as their row (one round trip where a PostgreSQL
# server is another process; the lookup of every update's sender, docs/performance.md §9)
_WITH_ROLES = ("(SELECT GROUP_CONCAT(role) FROM person_roles WHERE person_id = p.id) AS role_list,"
               " (SELECT GROUP_CONCAT(unit_id) FROM memberships WHERE person_id = p.id) AS unit_list")
# When an account was last used; '' for one the office bound and its person has not written from yet (migration 0032)
_LAST_USE = "COALESCE({0}.last_seen_at, '')"


async def _person(q: Tx, row: Row | None, as_in: int | None = None) -> Person | None:
    """The person of a `persons` row, with their roles and units; `as_in`: as a member of that unit (its body,
    sector and supervisor flag; their first unit's when they are not one of its members)."""
    if row is None:
        return None
    body, sector, supervisor = row["body"], row["sector"], bool(row["supervisor"])
    roles, units = set(), {int(row["unit_id"])} if body is not None else set()
    for r in await q.all("SELECT role, NULL AS unit_id, NULL AS body, NULL AS sector, NULL AS supervisor"
                         " FROM person_roles WHERE person_id = ? UNION ALL"
                         " SELECT NULL, unit_id, body, sector, supervisor FROM memberships WHERE person_id = ?",
                         (row["id"], row["id"])):
        if r["role"] is not None:
            roles.add(str(r["role"]))
            continue
        units.add(int(r["unit_id"]))
        if int(r["unit_id"]) == as_in:
            body, sector, supervisor = r["body"], r["sector"], bool(r["supervisor"])
    return _made(q, row, body, sector, supervisor, roles, units)


def _with_roles(q: Tx, row: Row | None) -> Person | None:
    """The person of a row selected with `_WITH_ROLES`, as their first unit has them."""
    if row is None:
        return None
    units = {int(row["unit_id"])} if row["body"] is not None else set()
    units |= {int(u) for u in (row["unit_list"] or "").split(",") if u}
    return _made(q, row, row["body"], row["sector"], bool(row["supervisor"]),
                 {r for r in (row["role_list"] or "").split(",") if r}, units)


def _made(q: Tx, row: Row, body: str | None, sector: str, supervisor: bool, roles: set[str],
          units: set[int]) -> Person:
    return Person(
        id=row["id"],
        name=row["name"],
        body=body,
        sector=sector,
        organization=row["organization"],
        phone=q.sealer.open(row["phone"], PHONE) if row["phone"] else "",  # sealed at rest (bot/sealing.py)
        supervisor=supervisor,
        department_id=row["department_id"],
        locale=row["locale"],
        roles=frozenset(roles),
        disabled=row["disabled_at"] is not None,
        unit_id=int(row["unit_id"]),
        units=frozenset(units),
    )


async def get(q: Tx, person_id: int, *, as_in: int | None = None) -> Person | None:
    """The person; `as_in`: as a member of that unit (a county's deputy who also sits in the city's congress is
    the city's NPC deputy of their sector there)."""
    if as_in is None:
        return _with_roles(q, await q.one(f"SELECT p.*, {_WITH_ROLES} FROM persons p WHERE p.id = ?", (person_id,)))
    return await _person(q, await q.one("SELECT * FROM persons WHERE id = ?", (person_id,)), as_in)


async def by_identity(q: Tx, channel: str, external_id: str) -> Person | None:
    return (await arriving(q, channel, external_id)).person


async def holder(q: Tx, channel: str, external_id: str) -> tuple[int, str, bool] | None:
    """Who holds this chat account, their access removed or not (`by_identity` sees only the active): (person id,
    name, disabled); None when nobody does. A disabled person keeps their accounts until they are unbound."""
    row = await q.one("SELECT p.id, p.name, p.disabled_at FROM identities i JOIN persons p ON p.id = i.person_id"
                      " WHERE i.channel = ? AND i.external_id = ?", (channel, external_id))
    return None if row is None else (int(row["id"]), str(row["name"]), row["disabled_at"] is not None)


@dataclass(frozen=True)
class Arrival:
    """Who an update comes from, read in one statement (one round trip where a PostgreSQL server is another
    process: docs/performance.md §9)."""

    person: Person | None  # bound to this chat account (None: a stranger, or their access taken away)
    elsewhere: bool  # another of their accounts was used more lately, or this one never: `seen` records it now
    dialog: Dialog | None  # the dialogue under way for this chat account, whether bound or not


async def arriving(q: Tx, channel: str, external_id: str) -> Arrival:
    row = await q.one(
        f"SELECT p.*, {_WITH_ROLES}, (i.last_seen_at IS NULL OR EXISTS (SELECT 1 FROM identities o"
        " WHERE o.person_id = i.person_id"
        " AND NOT (o.channel = i.channel AND o.external_id = i.external_id)"
        f" AND {_LAST_USE.format('o')} >= {_LAST_USE.format('i')})) AS elsewhere,"
        " d.flow AS dialog_flow, d.step AS dialog_step, d.nonce AS dialog_nonce, d.data AS dialog_data"
        " FROM (SELECT CAST(? AS TEXT) AS actor) a LEFT JOIN dialogs d ON d.actor = a.actor"
        " LEFT JOIN identities i ON i.channel = ? AND i.external_id = ?"
        " LEFT JOIN persons p ON p.id = i.person_id AND p.disabled_at IS NULL",  # a disabled person: unbound
        (actor_of(channel, external_id), channel, external_id),
    )
    assert row is not None  # one row, whoever it is
    person = None if row["id"] is None else _with_roles(q, row)
    return Arrival(person, person is not None and bool(row["elsewhere"]),
                   dialogs.of_columns(row["dialog_flow"], row["dialog_step"], row["dialog_nonce"], row["dialog_data"]))


async def find_by_name(q: Tx, scope: UnitScope, name: str) -> list[Person]:
    """The scope's own unit's people of that name (the office acts on its own people only): its staff and the
    representatives on its roster, those whose first unit is another's too (memberships), as its roster has them."""
    rows = await q.all("SELECT * FROM persons WHERE name = ? AND (unit_id = ? OR id IN"
                       " (SELECT person_id FROM memberships WHERE unit_id = ?)) ORDER BY id",
                       (name, scope.unit, scope.unit))
    return [p for p in [await _person(q, r, scope.unit) for r in rows] if p is not None]


async def find_by_name_anywhere(q: Tx, name: str) -> list[Person]:
    """Everyone of that name in whichever unit: the operator's command line and the console, deployment-wide."""
    rows = await q.all("SELECT * FROM persons WHERE name = ? ORDER BY id", (name,))
    return [p for p in [await _person(q, r) for r in rows] if p is not None]


def sealed_phone(q: Tx, phone: str) -> tuple[str, str | None]:
    """A phone number as stored: (sealed text, keyed digest of its digits); ("", None) for none."""
    digits = normalise_phone(phone)
    if not digits:
        return "", None
    return q.sealer.seal(phone, PHONE), q.sealer.digest(digits, PHONE)


async def phone_matches(q: Tx, person_id: int, phone: str) -> bool:
    """Whether `phone` is the number the roster holds for this person (by its keyed digest)."""
    digits = normalise_phone(phone)
    if not digits:
        return False
    marks = ", ".join("?" for _ in q.sealer.key_ids)
    found = await q.scalar(f"SELECT 1 FROM persons WHERE id = ? AND phone_hash IN ({marks})",
                           (person_id, *q.sealer.digests(digits, PHONE)))
    return found is not None


async def add_staff(q: Tx, name: str, department_id: int | None, roles: list[str], phone: str, now: datetime,
                    *, unit: int = FIRST_UNIT) -> int:
    """A member of staff of `unit` (their department, if any, is one of that unit's: the caller checks)."""
    sealed, digest = sealed_phone(q, phone)
    person_id = await q.insert(
        "INSERT INTO persons (name, phone, phone_hash, department_id, created_at, updated_at, unit_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (name, sealed, digest, department_id, ts(now), ts(now), unit),
    )
    await q.executemany(
        "INSERT INTO person_roles (person_id, role) VALUES (?, ?)", [(person_id, role) for role in roles]
    )
    return person_id


async def everyone(q: Tx) -> list[tuple[int, str, str]]:
    """(id, name, body or roles) of every person, for listings."""
    rows = await q.all(
        "SELECT p.id, p.name, COALESCE(p.body, (SELECT MIN(r.role) FROM person_roles r WHERE r.person_id = p.id), '')"
        " AS what FROM persons p ORDER BY p.id"
    )
    return [(int(r["id"]), str(r["name"]), str(r["what"])) for r in rows]


async def with_role(q: Tx, scope: UnitScope, role: str) -> list[int]:
    """The staff of the scope's own unit who hold `role` and whose access is not taken away: whom that unit's
    notices and reminders go to (a county's new matter is told to the county's office, never another unit's)."""
    rows = await q.all("SELECT r.person_id FROM person_roles r JOIN persons p ON p.id = r.person_id"
                       " WHERE r.role = ? AND p.unit_id = ? AND p.disabled_at IS NULL ORDER BY r.person_id",
                       (role, scope.unit))
    return [int(r["person_id"]) for r in rows]


async def with_role_by_unit(q: Tx, role: str) -> dict[int, list[int]]:
    """`with_role` for every unit at once, by unit (the sweep reads each role once a tick, whatever the units)."""
    rows = await q.all("SELECT p.unit_id, r.person_id FROM person_roles r JOIN persons p ON p.id = r.person_id"
                       " WHERE r.role = ? AND p.disabled_at IS NULL ORDER BY r.person_id", (role,))
    found: dict[int, list[int]] = {}
    for r in rows:
        found.setdefault(int(r["unit_id"]), []).append(int(r["person_id"]))
    return found


async def administrators(q: Tx) -> list[int]:
    """Everyone with the admin role, in whichever unit: the deployment's technical alerts (the database full, WeCom
    refusing the server's address) concern the one installation they all run."""
    rows = await q.all("SELECT r.person_id FROM person_roles r JOIN persons p ON p.id = r.person_id"
                       " WHERE r.role = 'admin' AND p.disabled_at IS NULL ORDER BY r.person_id")
    return [int(r["person_id"]) for r in rows]


async def set_locale(q: Tx, person_id: int, locale: str, now: datetime) -> None:
    await q.execute("UPDATE persons SET locale = ?, updated_at = ? WHERE id = ?", (locale, ts(now), person_id))


async def bind_identity(q: Tx, channel: str, external_id: str, chat_id: str, person_id: int, now: datetime,
                        by_office: bool = False) -> None:
    """Bind a chat account to a person. Bound by the person (an invite redeemed from it) it is the account they used
    last; bound `by_office` (a WeCom member the office added to the corp), it is not used until they write from it,
    and their notices stay where they were."""
    await q.execute(
        "INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (channel, external_id, person_id, chat_id, ts(now), None if by_office else ts(now)),
    )


async def seen(q: Tx, channel: str, external_id: str, now: datetime) -> None:
    """Record that the person used this chat account now, so that their notifications go where they were last:
    written only when another of their accounts was the latest, or this one was never used (bound by the office):
    a person on one channel, once they have written, changes nothing."""
    await q.execute(
        "UPDATE identities SET last_seen_at = ? WHERE channel = ? AND external_id = ? AND (last_seen_at IS NULL"
        " OR EXISTS ("
        " SELECT 1 FROM identities o WHERE o.person_id = identities.person_id"
        " AND NOT (o.channel = identities.channel AND o.external_id = identities.external_id)"
        f" AND {_LAST_USE.format('o')} >= {_LAST_USE.format('identities')}))",
        (ts(now), channel, external_id))


async def set_presentation(q: Tx, person_id: int, presentation: str | None, now: datetime) -> None:
    """How choices are shown to the person on WeCom: 'cards', 'text', or None for their role's default."""
    await q.execute("UPDATE persons SET presentation = ?, updated_at = ? WHERE id = ?",
                    (presentation, ts(now), person_id))


async def chats_of(q: Tx, person_id: int) -> list[tuple[str, str]]:
    """Where a person can be reached: (channel, chat_id), on the channel they chose first (`/channel`), else the one
    they used last first (else the last bound)."""
    rows = await q.all(
        "SELECT i.channel, i.chat_id FROM identities i JOIN persons p ON p.id = i.person_id"
        " WHERE i.person_id = ? AND p.disabled_at IS NULL"
        " ORDER BY CASE WHEN i.channel = p.preferred_channel THEN 0 ELSE 1 END,"
        f" {_LAST_USE.format('i')} DESC, i.bound_at DESC", (person_id,)
    )
    return [(r["channel"], r["chat_id"]) for r in rows]


async def preferred_channel(q: Tx, person_id: int) -> str | None:
    value = await q.scalar("SELECT preferred_channel FROM persons WHERE id = ?", (person_id,))
    return None if value is None else str(value)


async def set_preferred_channel(q: Tx, person_id: int, channel: str | None, now: datetime) -> None:
    """The channel the person's notices go to (None: the one they used last)."""
    await q.execute("UPDATE persons SET preferred_channel = ?, updated_at = ? WHERE id = ?",
                    (channel, ts(now), person_id))


# -- invites ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Invite:
    id: int
    person_id: int
    expires_at: str
    used_at: str | None
    keep_accounts: bool = False


async def add_invite(q: Tx, person_id: int, code_hash: str, now: datetime, expires: datetime,
                     keep_accounts: bool = False) -> int:
    return await q.insert(
        "INSERT INTO invites (code_hash, person_id, created_at, expires_at, keep_accounts) VALUES (?, ?, ?, ?, ?)"
        " RETURNING id",
        (code_hash, person_id, ts(now), ts(expires), int(keep_accounts)),
    )


async def invite_by_hash(q: Tx, code_hash: str) -> Invite | None:
    row = await q.one("SELECT * FROM invites WHERE code_hash = ?", (code_hash,))
    if row is None:
        return None
    return Invite(row["id"], row["person_id"], row["expires_at"], row["used_at"], bool(row["keep_accounts"]))


async def use_invite(q: Tx, invite_id: int, used_by: str, now: datetime) -> bool:
    """Mark the invite used; False when somebody used it first or it has expired meanwhile (a binding that
    waited for the phone number is checked again at its last step)."""
    changed = await q.execute(
        "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?",
        (ts(now), used_by, invite_id, ts(now)),
    )
    return changed == 1


# -- departments -----------------------------------------------------------------------


async def add_department(q: Tx, name: str, now: datetime, *, unit: int = FIRST_UNIT) -> int:
    """A department of `unit`; its name is unique within the unit (two units each have their 第一检察部)."""
    return await q.insert(
        "INSERT INTO departments (name, created_at, unit_id) VALUES (?, ?, ?) RETURNING id", (name, ts(now), unit)
    )


async def department_by_name(q: Tx, scope: UnitScope, name: str) -> int | None:
    """The scope's own unit's department of that name."""
    value = await q.scalar("SELECT id FROM departments WHERE unit_id = ? AND name = ?", (scope.unit, name))
    return None if value is None else int(value)


async def department_name(q: Tx, department_id: int, *, of_unit: int | None = None) -> str | None:
    """The department's name; led by its unit's when it is not of `of_unit` (a county's department handling the
    city's matter: 灵宝市人民检察院第一检察部)."""
    row = await q.one("SELECT d.name, d.unit_id, u.name AS unit FROM departments d JOIN units u ON u.id = d.unit_id"
                      " WHERE d.id = ?", (department_id,))
    if row is None:
        return None
    return str(row["name"]) if of_unit is None or int(row["unit_id"]) == of_unit else f"{row['unit']}{row['name']}"


async def department_unit(q: Tx, department_id: int) -> int:
    """The unit the department belongs to."""
    return int(await q.scalar("SELECT unit_id FROM departments WHERE id = ?", (department_id,)))


async def departments(q: Tx, scope: UnitScope) -> list[tuple[int, str]]:
    """The scope's own unit's departments (id, name), in the order they were added: those its matters go to."""
    rows = await q.all("SELECT id, name FROM departments WHERE unit_id = ? ORDER BY id", (scope.unit,))
    return [(r["id"], r["name"]) for r in rows]


async def department_names(q: Tx, scope: UnitScope) -> dict[int, str]:
    """The names of the departments of every unit the scope reads, by id, the scope's own unit's first (reports name
    the departments of the matters they count); with several units each name is led by its unit's (every county
    has a 第一检察部), as is a county's department that handles the unit's matter (交办)."""
    rows = await q.all("SELECT d.id, d.name, d.unit_id, u.name AS unit FROM departments d JOIN units u ON u.id = d.unit_id"
                       f" WHERE {within(scope, 'd.unit_id')} OR d.id IN (SELECT m.department_id FROM matters m"
                       f" WHERE {within(scope, 'm.unit_id')} AND m.handling_unit_id IS NOT NULL)"
                       " ORDER BY CASE WHEN d.unit_id = ? THEN 0 ELSE 1 END, d.unit_id, d.id", (scope.unit,))
    several = len(scope.reads) > 1  # a county's department handling the unit's matter (交办): named with its unit
    return {int(r["id"]): f"{r['unit']}{r['name']}" if several or int(r["unit_id"]) not in scope.reads
            else str(r["name"]) for r in rows}


# -- finding a representative ----------------------------------------------------------


async def search_representatives(q: Tx, scope: UnitScope, text: str, limit: int) -> list[Person]:
    """Representatives whose name contains `text`, or whose phone number it is; by name, at most `limit`.

    A phone is found whole, by its keyed digest: the number itself is sealed (bot/sealing.py), so part
    of a number finds nothing."""
    where, params = "LOWER(p.name) LIKE LOWER(?) ESCAPE '!'", [_contains(text)]
    digits = normalise_phone(text)
    if digits and not text.strip(" +-0123456789"):  # a phone number, perhaps written with spaces or dashes
        where += f" OR p.phone_hash IN ({', '.join('?' for _ in q.sealer.key_ids)})"
        params += q.sealer.digests(digits, PHONE)
    rows = await q.all(
        f"SELECT p.* FROM persons p JOIN unit_members m ON m.person_id = p.id WHERE m.unit_id = ? AND ({where})"
        " ORDER BY p.name, p.id LIMIT ?",
        (scope.unit, *params, limit)
    )
    return [p for p in [await _person(q, r, scope.unit) for r in rows] if p is not None]


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally."""
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


# -- whom to invite ----------------------------------------------------------------------


async def representative_ids(q: Tx, scope: UnitScope, body: str | None = None, sector: str | None = None) -> list[int]:
    """Every representative of the scope's own unit, or those of one body or one sector (as that unit's roster has
    them), NPC deputies first, then by name."""
    where = ["p.disabled_at IS NULL", "m.unit_id = ?"]
    params: list[object] = [scope.unit]
    if body is not None:
        where.append("m.body = ?")
        params.append(body)
    if sector is not None:
        where.append("m.sector = ?")
        params.append(sector)
    rows = await q.all(f"SELECT p.id FROM persons p JOIN unit_members m ON m.person_id = p.id WHERE {' AND '.join(where)}"
                       " ORDER BY CASE m.body WHEN 'npc' THEN 0 ELSE 1 END, p.name, p.id", params)
    return [int(r["id"]) for r in rows]


async def sectors(q: Tx, scope: UnitScope) -> list[str]:
    """The sectors 界别 on the scope's own unit's roster, by name (none blank)."""
    rows = await q.all("SELECT DISTINCT sector FROM unit_members WHERE sector != '' AND unit_id = ?"
                       " ORDER BY sector", (scope.unit,))
    return [str(r["sector"]) for r in rows]
