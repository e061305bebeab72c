"""The operator's commands about events and papers: an event with its invitations, the audit chain's check, the
half-year report, the assessment and the ledger (`python -m bot ...`, bot/__main__.py). Each returns what to
print; a refusal raises Refused and changes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Config
from bot.errors import UserError
from bot.operator import Refused
from bot.model import UnitScope
from bot.operator_units import acting_unit
from storage import audit, people, units
from storage.records import RECORDS


async def add_event(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`event add`: the event, its preparation tasks and invitations, as the office creates one in chat; the
    invitations are queued for the channel the bot runs on (Telegram with a token, else the console)."""
    from bot.context import Context
    from bot.i18n import Translator
    from bot.messages import Incoming
    from handlers.liaison import event_details, events
    from storage import matters

    config, now = app.config, app.clock.now()
    starts_at = event_details.parse_when(args.at, config.unit.tz)
    if starts_at is None:
        raise Refused(f"--at {args.at!r} is not a date and time like 2026-12-05 09:30")
    invite = args.invite.strip()
    sector = invite.startswith("sector:") and bool(invite.removeprefix("sector:").strip())
    if invite not in ("all", "npc", "cppcc", "supervisors") and not sector:
        raise Refused("--invite is all, npc, cppcc, supervisors or sector:NAME")
    if bool(args.matter) != (args.kind == "case_discussion"):
        raise Refused("a case discussion, and only a case discussion, needs --matter")
    channels = running_channels(config)
    async with app.db.transaction() as tx:
        unit = await acting_unit(tx, args.unit)
        scope = UnitScope.of(unit.id)
        departments = []
        for name in args.department:
            department = await people.department_by_name(tx, scope, name.strip())
            if department is None:
                raise Refused(f"{unit.prefix} has no department {name.strip()}; add it first: "
                              f"department add {name.strip()} --unit {unit.prefix}")
            departments.append(department)
        matter = await matters.by_number(tx, scope, args.matter, own=True) if args.matter else None
        if args.matter and matter is None:
            raise Refused(f"no matter {args.matter} in {unit.prefix}")
        ctx = Context(tx, Incoming(channel="cli", user_id="operator", chat_id=""), now, config, None,
                      Translator("en", config.unit.tz, config.terms), channels=channels, records=RECORDS, unit=unit.id)
        new = events.NewEvent(kind=args.kind, title=args.title, starts_at=starts_at, place=args.place,
                              audience=invite, departments=departments, matter_id=matter.id if matter else None)
        try:
            created = await events.create(ctx, new, operator=True)
        except UserError as exc:
            raise Refused(ctx._(exc.msgid, **exc.params)) from None
    message = (f"event {created.event_id} created: {created.invited} invited, {created.reached} with a chat bound; "
               "the bot sends the invitations")
    return {"message": message, "event": created.event_id, "invited": created.invited, "reached": created.reached}


def running_channels(config: Config) -> frozenset[str]:
    """The channels `run` starts with this configuration: where queued messages can go."""
    names = {name for name, on in (("telegram", bool(config.telegram.token)), ("wecom", config.wecom.enabled)) if on}
    return frozenset(names or {"console"})


async def verify_audit(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`audit verify [--head HASH] [--heads FILE]`: recompute the chain; a broken one is refused (exit 1) naming
    the first broken entry, and so is a head published earlier that the log no longer holds (entries removed
    from its end, or the table emptied: the chain alone cannot tell, the published head can)."""
    anchors = [a for value in args.head for a in audit.parse_anchors(value.replace(":", " "))]
    if len(anchors) != len(args.head):
        raise Refused("--head takes a 64-digit hash, or COUNT:HASH, as the audit verify output or a report prints it")
    if args.heads is not None:
        try:
            from_file = audit.parse_anchors(args.heads.read_text("utf-8"))
        except OSError as exc:
            raise Refused(f"cannot read {args.heads}: {exc.strerror}") from None
        if not from_file:
            raise Refused(f"{args.heads} holds no head (a 64-digit hash on a line)")
        anchors += from_file
    async with app.db.snapshot() as q:
        unit = None
        if args.unit is not None:
            unit = await units.by_prefix(q, args.unit.strip().upper())
            if unit is None:
                raise Refused(f"no unit {args.unit!r}: {', '.join(u.prefix for u in await units.listed(q))}")
        checked, broken = await audit.verify(q)
        head = await audit.head(q)
        missing = await audit.missing_anchors(q, anchors)
        own = await audit.unit_entries(q, unit.id) if unit is not None and broken is None else None
    head_hash = None if head is None else head[1]
    if broken is not None:
        raise Refused(f"audit log broken at entry {broken.id}: {broken.reason}",
                      entries=checked, broken=broken.id, reason=broken.reason, head=head_hash)
    if missing:
        first = missing[0]
        where = f"entry {first.count}, " if first.count is not None else ""
        raise Refused(f"audit log cut short or rewritten: the head published earlier ({where}{first.hash}) is not in "
                      f"it; it holds {checked} entries now. Put back the last backup that holds it, and find out who "
                      "had the database file", entries=checked, broken=None, reason="published head missing",
                      head=head_hash, missing=[a.hash for a in missing])
    message = f"audit log intact: {checked} entries, head {head_hash}"
    result: dict[str, Any] = {"entries": checked, "broken": None, "reason": None, "head": head_hash}
    if unit is not None and own is not None:  # one chain: verified whole, the unit's entries among them
        message += f"; {own} of them {unit.prefix}'s"
        result["unit_entries"] = own
    if anchors:
        message += f"; the {len(anchors)} head(s) published earlier are in it"
        result["anchors"] = len(anchors)
    return {"message": message, **result}


async def draw_report(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`report half-year PERIOD --out FILE.docx` (and FILE.xlsx) or `report assessment YEAR --out FILE.xlsx`,
    as of today in the unit's time zone; an existing file is replaced."""
    from bot import office_files
    from handlers.reports import assessment_text, report_text
    from handlers.reports import figures as reports

    config, out = app.config, Path(args.out)
    today = app.clock.now().astimezone(config.unit.tz).date()
    if args.action == "half-year":
        try:
            period = reports.HalfYear.parse(args.period)
        except reports.PeriodError:
            raise Refused(f"{args.period!r} is not a half-year: write 2026H1 (January-June) or 2026H2 "
                          "(July-December)") from None
        if out.suffix.lower() != ".docx":
            raise Refused(f"--out {out} must be a .docx file (the workbook is written beside it)")
        if period.first > today:
            raise Refused(f"the half-year {period.code} has not begun")
        async with app.db.snapshot() as q:
            unit = await acting_unit(q, args.unit)
            scope, family = await units.roll_up(q, unit.id)  # a city's report covers its counties, a line each
            figures = await reports.half_year(q, scope, period, today, config.unit.tz, unit.name, family)
        papers, regulation = report_text.unit_papers(config.report, config.terms.regulation, unit)
        docx, xlsx = report_text.half_year_files(
            report_text.half_year_report(figures, app.clock.now(), config.unit.tz, papers, args.to, regulation))
        workbook = out.with_suffix(".xlsx")
        office_files.save(out, docx)
        office_files.save(workbook, xlsx)
        return {"message": f"half-year report {period.code} (as of {figures.as_of}) written to {out} and {workbook}",
                "period": period.code, "as_of": figures.as_of.isoformat(), "docx": str(out), "xlsx": str(workbook),
                "registered": figures.registered, "contacts": figures.contacts}
    if args.action == "ledger":
        return await draw_ledger(app, args)
    try:
        year = reports.parse_year(args.year)
    except reports.PeriodError:
        raise Refused(f"{args.year!r} is not a year, e.g. 2026") from None
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"--out {out} must be an .xlsx file")
    if year > today.year:
        raise Refused(f"the year {year} has not begun")
    async with app.db.snapshot() as q:
        unit = await acting_unit(q, args.unit)
        scope, _family = await units.roll_up(q, unit.id)  # a city's assessment covers its counties' departments
        assessed = await reports.assessment(q, scope, year, today, config.unit.tz, unit.name)
    office_files.save(out, assessment_text.assessment_file(assessed, app.clock.now(), config.unit.tz))
    return {"message": f"assessment {year} (as of {assessed.as_of}) written to {out}", "year": year,
            "as_of": assessed.as_of.isoformat(), "xlsx": str(out), "departments": len(assessed.departments),
            "staff": len(assessed.staff)}



async def draw_ledger(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`report ledger PERIOD --out FILE.xlsx [--kind K] [--department D] [--state S]`, on a snapshot."""
    from bot import office_files
    from handlers.reports import ledger
    from storage import people as people_store

    config, out = app.config, Path(args.out)
    now = app.clock.now()
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"--out {out} must be an .xlsx file")
    if ledger.period(args.period, now.astimezone(config.unit.tz).date()) is None:
        raise Refused(f"{args.period!r} is not a period: write 2026, 2026H1, 2026-03 or 2026-01-01..2026-03-31")
    async with app.db.snapshot() as q:
        unit = await acting_unit(q, args.unit)
        scope = UnitScope.of(unit.id)
        try:
            found = ledger.parse([args.period, *args.kind, *args.department, *args.state],
                                 now.astimezone(config.unit.tz).date(), list((await people_store.department_names(q, scope)).items()))
        except ledger.FilterError as exc:
            raise Refused(f"{exc.params['word']!r} is not a kind, a department or a state") from None
        data, count = await ledger.ledger_file(q, scope, found, unit.name, now, config.unit.tz)
    office_files.save(out, data)
    return {"message": f"ledger {found.first}..{found.last}: {count} matters written to {out}",
            "first": found.first.isoformat(), "last": found.last.isoformat(), "matters": count, "xlsx": str(out)}
