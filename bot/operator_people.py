"""The operator's commands about people: the roster, access, contacts, departments, staff, WeCom accounts and
invites (`python -m bot ...`, bot/__main__.py). Each returns what to print; a refusal raises Refused and changes
nothing."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from bot.app import App
from bot.channels.wecom_callback import bind_link
from bot.contacts_file import ContactsFileError, describe, read_contacts
from bot.domain import STAFF_ROLES, member_id, normalise_phone
from bot.errors import UserError
from bot.model import Person
from bot.model import UnitScope
from bot.operator import Refused
from bot.operator_papers import running_channels
from bot.operator_units import acting_unit
from bot.roster_file import RosterFileError, RosterRow, read_roster
from handlers.people import access
from handlers.people.accounts import bind_wecom
from handlers.people.binding import create_invite
from storage import access as access_store
from storage import audit, contacts, people, roster, units


PROBLEMS = {
    "missing": "line {line}: {column} is missing",
    "invalid_body": "line {line}: {value!r} is not 人大代表/政协委员 (npc/cppcc)",
    "invalid_supervisor": "line {line}: {value!r} is not 是/否 (yes/no)",
    "invalid_phone": "line {line}: {value!r} is not a phone number",
    "duplicate": "line {line}: {value!r} appears twice in the file",
    "too_long": "line {line}: {column} is too long",
    "no_header": "line {line}: no header row (姓名/name, 类别/body, ...)",
    "missing_column": "the column {column} is missing",
    "unknown_format": "not a CSV or XLSX file ({value})",
    "empty": "the file holds no representatives",
    "too_large": "the file is refused, too large to import: {value}; split it into smaller files",
    "invalid_userid": "line {line}: {value!r} is not a WeCom account (账号: letters, digits and _-@. only, at most 64)",
}


async def import_roster(app: App, args: argparse.Namespace) -> dict[str, Any]:
    try:
        rows = read_roster(args.file)
    except FileNotFoundError:
        raise Refused(f"no such file: {args.file}") from None
    except RosterFileError as exc:
        lines = [PROBLEMS[p.problem].format(line=p.line, column=p.column, value=p.value) for p in exc.problems]
        raise Refused("nothing imported; the file has problems:\n" + "\n".join(lines)) from None
    now = app.clock.now()
    async with app.db.transaction() as tx:
        unit = await acting_unit(tx, args.unit)
        scope = UnitScope.of(unit.id)
        try:
            result = await roster.upsert(tx, scope, rows, now)
        except roster.PhoneElsewhereError as exc:
            prefixes = {u.id: u.prefix for u in await units.listed(tx)}
            lines = [f"line {line}: {name} has the phone number of {other} on {prefixes.get(unit_id, unit_id)}'s "
                     "roster (one number, one person: correct the number or the name)"
                     for line, name, other, unit_id in exc.lines]
            raise Refused("nothing imported:\n" + "\n".join(lines)) from None
        bound, unbound = await _bind_members(tx, now, rows, result.persons, running_channels(app.config))
        missing = await access_store.representatives_not_in(tx, scope, set(result.seen))
        left: list[tuple[int, str]] = []
        if args.disable_missing:
            for person_id, name in missing:
                if await roster.leave(tx, scope, person_id, now):  # on another unit's roster still: only this one ends
                    left.append((person_id, name))
                    continue
                person = await people.get(tx, person_id)
                assert person is not None
                await access.disable(tx, now, None, person)
    message = f"imported {len(rows)} rows: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
    if result.joined:
        message += (f", {len(result.joined)} already on another unit's roster (by the phone number) now on "
                    f"{unit.prefix}'s too: {', '.join(result.joined)}")
    if bound:
        message += f"\n{bound} bound to their WeCom member (the 账号 column)"
    if unbound:
        message += f"\n{len(unbound)} WeCom account(s) of the file not bound, the rest imported:\n" + "\n".join(unbound)
    disabled = [m for m in missing if m not in left]
    if disabled if args.disable_missing else missing:
        names = ", ".join(f"{name} (person {person_id})" for person_id, name in (disabled if args.disable_missing
                                                                                   else missing))
        message += (f"\n{len(disabled if args.disable_missing else missing)} representative(s) no longer on the roster "
                    + ("were disabled" if args.disable_missing else "(to disable them: --disable-missing)")
                    + f": {names}")
    if left:
        names = ", ".join(f"{name} (person {person_id})" for person_id, name in left)
        message += (f"\n{len(left)} representative(s) no longer on {unit.prefix}'s roster and still on another unit's "
                    f"were taken off {unit.prefix}'s only: {names}")
    return {"message": message, "added": result.added, "updated": result.updated, "unchanged": result.unchanged,
            "joined": len(result.joined), "missing": [person_id for person_id, _ in missing],
            "bound": bound, "not_bound": unbound,
            "disabled": bool(args.disable_missing and disabled)}


async def _bind_members(tx: Any, now: datetime, rows: list[RosterRow], persons: tuple[int, ...],
                        running: frozenset[str]) -> tuple[int, list[str]]:
    """The roster's 账号 column: each representative bound to their WeCom member, as `wecom bind` does (the office
    adds the deputies to the corp's contacts, where the account is theirs). A row already bound to its member changes
    nothing; a member bound to someone else, or a person bound to another member (bound by their invite, perhaps:
    the file may be the one that is wrong), is left as it is and listed. How many were bound, and the lines left."""
    bound, left = 0, []
    for row, person_id in zip(rows, persons):
        if row.wecom is None:
            continue
        theirs = [a.external_id for a in await access_store.accounts(tx, person_id) if a.channel == "wecom"]
        if row.wecom in theirs:
            continue
        if theirs:
            left.append(f"line {row.line}: {row.name} is bound to the WeCom member {theirs[0]}, not {row.wecom}; to bind "
                        f"them to {row.wecom}: access unbind --person {person_id} --channel wecom, then import again")
            continue
        person = await people.get(tx, person_id)
        assert person is not None
        try:
            await bind_wecom(tx, now, person, row.wecom, running)
        except UserError as exc:
            left.append(f"line {row.line}: {exc.msgid.format(**exc.params)} Not bound to {row.name}.")
            continue
        bound += 1
    return bound, left


async def change_access(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`access show|disable|enable|unbind|roles`: as the office does with /access in chat, audited (actor: none,
    the operator)."""
    from handlers.people.access import describe
    from bot.i18n import Translator

    now = app.clock.now()
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        try:
            if args.action == "show":
                text = await describe(tx, Translator("en", app.config.unit.tz), person)
                return {"message": text, "person": person.id}
            if args.action == "disable":
                done = await access.disable(tx, now, None, person)
                message = (f"{person.name} (person {person.id}) disabled: {done.accounts} chat account(s) stopped,"
                           f" {done.dialogues} open dialogue(s) ended, {done.withdrawn} unsent message(s) withdrawn")
                if done.open_matters:
                    message += (f"; open matters {', '.join(done.open_matters)} stay with the unit, and what the bot"
                                " would send them goes to the liaison office")
                if done.urged:
                    message += f"; they urge the open matters {', '.join(done.urged)}: reassign them"
                return {"message": message, "person": person.id, "open_matters": done.open_matters,
                        "urged": done.urged}
            if args.action == "enable":
                await access.enable(tx, now, None, person)
                return {"message": f"{person.name} (person {person.id}) enabled again", "person": person.id}
            if args.action == "unbind":
                channel = args.channel.strip().lower()
                account = member_id(args.account) if channel == "wecom" and args.account else args.account
                ended = await access.unbind(tx, now, None, person, channel, account,
                                            running=running_channels(app.config))
                return {"message": f"{person.name} (person {person.id}): {len(ended)} account(s) on {args.channel}"
                                   " unbound", "person": person.id, "unbound": len(ended)}
            given = args.roles.strip()
            roles = frozenset() if given.lower() in ("none", "-", "") else frozenset(
                r.strip() for r in given.split(",") if r.strip())
            await access.set_roles(tx, now, None, person, roles)
            return {"message": f"{person.name} (person {person.id}): roles {','.join(sorted(roles)) or 'none'}",
                    "person": person.id, "roles": sorted(roles)}
        except UserError as exc:
            raise Refused(exc.msgid.format(**exc.params)) from None


async def import_contacts(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """Every row a contact (source 'import'), each row once however often the file is imported; any problem
    in the file or with a name on it, and nothing is imported."""
    now = app.clock.now()
    try:
        rows, problems = read_contacts(args.file, now.astimezone(app.config.unit.tz).date()), []
    except FileNotFoundError:
        raise Refused(f"no such file: {args.file}") from None
    except ContactsFileError as exc:  # the good rows are checked against the roster too: one complete list
        rows, problems = list(exc.rows), list(exc.problems)
    try:
        async with app.db.transaction() as tx:
            unit = await acting_unit(tx, args.unit)
            result = await contacts.import_rows(tx, UnitScope.of(unit.id), rows, now, problems)
    except ContactsFileError as exc:
        lines = [describe(p) for p in exc.problems]
        raise Refused("nothing imported; the file has problems:\n" + "\n".join(lines)) from None
    message = f"imported {len(rows)} rows: {result.added} contacts added, {result.unchanged} already recorded"
    return {"message": message, "added": result.added, "unchanged": result.unchanged}


async def add_department(app: App, args: argparse.Namespace) -> dict[str, Any]:
    name = args.name.strip()
    if not name or len(name) > 50:
        raise Refused("a department name is 1 to 50 characters")
    async with app.db.transaction() as tx:
        unit = await acting_unit(tx, args.unit)
        if await people.department_by_name(tx, UnitScope.of(unit.id), name) is not None:
            raise Refused(f"department {name} of {unit.prefix} exists already")
        dept_id = await people.add_department(tx, name, app.clock.now(), unit=unit.id)
    return {"message": f"department {name} added to {unit.prefix} (id {dept_id})", "id": dept_id}


async def add_staff(app: App, args: argparse.Namespace) -> dict[str, Any]:
    roles = sorted({r.strip() for r in args.roles.split(",") if r.strip()})
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if not roles or unknown:
        raise Refused(f"unknown role(s) {', '.join(unknown) or '(none given)'}; roles are {', '.join(STAFF_ROLES)}")
    name = args.name.strip()
    if not name or len(name) > 50:
        raise Refused("a name is 1 to 50 characters")
    async with app.db.transaction() as tx:
        unit = await acting_unit(tx, args.unit)
        dept_id = None
        if args.department:
            dept_id = await people.department_by_name(tx, UnitScope.of(unit.id), args.department.strip())
            if dept_id is None:
                raise Refused(f"{unit.prefix} has no department {args.department.strip()}; add it first: "
                              f"department add {args.department.strip()} --unit {unit.prefix}")
        if "handler" in roles and dept_id is None:
            raise Refused("a handler belongs to a department: give --department")
        now = app.clock.now()
        person_id = await people.add_staff(tx, name, dept_id, roles, normalise_phone(args.phone), now, unit=unit.id)
        userid = None
        if args.wecom:  # bound at once, in the same transaction: a userid refused adds nobody
            person = await people.get(tx, person_id)
            assert person is not None
            try:
                userid = await bind_wecom(tx, now, person, args.wecom, running_channels(app.config))
            except UserError as exc:
                raise Refused(exc.msgid.format(**exc.params)) from None
    bound = f", bound to the WeCom member {userid}" if userid else ""
    return {"message": f"staff {name} of {unit.prefix} added (person {person_id}, roles {','.join(roles)}){bound}",
            "person": person_id}


async def _person_of(tx: Any, args: argparse.Namespace) -> Person:
    """The person named by --person ID or --name NAME (one only)."""
    if args.person is not None:
        person = await people.get(tx, args.person)
        if person is None:
            raise Refused(f"no person with id {args.person}")
        return person
    found = await people.find_by_name_anywhere(tx, args.name.strip())
    if not found:
        raise Refused(f"nobody named {args.name} on the roster or staff list")
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in found)
        raise Refused(f"{len(found)} people are named {args.name} (ids {ids}); use --person ID")
    return found[0]


async def wecom_member(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`wecom bind`: the person bound to the WeCom member directly; `wecom view`: their presentation."""

    now = app.clock.now()
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        if args.action == "view":
            await people.set_presentation(tx, person.id, None if args.mode == "default" else args.mode, now)
            await audit.record(tx, now, None, "presentation_set", detail={"person_id": person.id,
                                                                        "presentation": args.mode})
            return {"message": f"{person.name} (person {person.id}): choices on WeCom shown as {args.mode}",
                    "person": person.id, "mode": args.mode}
        try:
            userid = await bind_wecom(tx, now, person, args.userid, running_channels(app.config))
        except UserError as exc:
            raise Refused(exc.msgid.format(**exc.params)) from None
    return {"message": f"{person.name} (person {person.id}) bound to the WeCom member {userid}",
            "person": person.id, "userid": userid}


async def make_invite(app: App, args: argparse.Namespace) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        ttl = app.config.binding.invite_ttl_days
        code = await create_invite(tx, person.id, app.clock.now(), ttl, keep_accounts=args.keep_accounts)
    # the t.me link only where Telegram is the channel (or may be: no WeCom); a WeCom unit gives the words
    telegram = bool(app.config.telegram.token) or not app.config.wecom.enabled
    link = f"https://t.me/{app.config.telegram.bot_username}?start={code}" if telegram else None
    wecom_link = bind_link(app.config.wecom, code) if app.config.wecom.enabled else None
    lines = [f"  code: {code}", f"  link: {link}" if link else "",
             f"  WeCom: send the app the message 绑定 {code}" if app.config.wecom.enabled else "",
             f"  WeCom link (opened in WeCom, it binds the member who opens it): {wecom_link}" if wecom_link else "",
             f"  console: /start {code}"]
    message = "\n".join([f"invite for {person.name} (person {person.id}), valid {ttl} days, single use:",
                          *filter(None, lines)])
    return {"message": message, "person": person.id, "code": code, "link": link, "wecom_link": wecom_link}
