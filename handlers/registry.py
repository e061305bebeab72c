"""Registering a matter: number, timestamp, due date, receipt, and word to the office (seed §3, §12).

"Registered one by one": the matter, its attachments, its first timeline entry, the
representative's receipt and the office's notice are written in one transaction; nothing
is acknowledged before it is committed.
"""

from __future__ import annotations

from bot.context import Context
from bot.domain import REGISTERED, due_date, matter_number
from bot.i18n import Translator
from bot.messages import Reply
from storage import matters, people
from handlers.labels import kind_label
from storage.db import Tx, parse_ts
from storage.dialogs import Dialog
from storage.matters import Matter, NewMatter, StoredFile


async def department_name(q: Tx, department_id: object) -> str | None:
    """The department's name; None for no department (or anything that is not an id)."""
    if not isinstance(department_id, int):
        return None
    return await people.department_name(q, department_id)


async def register(ctx: Context, new: NewMatter, files: list[StoredFile]) -> Matter:
    """Give the matter its number and due date and store it with its files."""
    unit = ctx.config.unit
    local_year = ctx.now.astimezone(unit.tz).year
    sequence = await matters.next_sequence(ctx.tx, unit.matter_prefix, local_year)
    number = matter_number(unit.matter_prefix, local_year, sequence)
    due = due_date(ctx.now, ctx.config.intake.due_months[new.kind], unit.tz)
    matter_id = await matters.insert(ctx.tx, new, number, REGISTERED, ctx.now, due)
    await matters.add_files(ctx.tx, matter_id, files, ctx.now)
    await matters.add_event(ctx.tx, matter_id, "registered", actor_id=ctx.person.id if ctx.person else None,
                            public=True, now=ctx.now, detail={"via": new.received_via})
    matter = await matters.get(ctx.tx, matter_id)
    assert matter is not None
    return matter


async def register_from_dialog(ctx: Context, dialog: Dialog) -> None:
    person = ctx.person
    assert person is not None
    data = dialog.data
    disputes = bool(data.get("disputes"))
    new = NewMatter(
        kind=data["kind"],
        representative_id=person.id,
        subject=data["subject"],
        body="\n\n".join(data["text"]),
        received_via="chat",
        registered_by=person.id,
        complainant_name=data.get("complainant_name"),
        complainant_contact=data.get("complainant_contact"),
        disputes_own_handling=disputes,
        original_department_id=data.get("department_id") if disputes else None,
    )
    files = [StoredFile(f["kind"], f["name"], int(f["size"] or 0), f["mime"], f["sha256"], f["path"])
             for f in data["files"]]
    matter = await register(ctx, new, files)
    await ctx.end_dialog()
    await ctx.reply(receipt(ctx._, matter))
    await notify_office(ctx, matter)


def receipt(_: Translator, matter: Matter) -> Reply:
    text = "\n".join([
        _("Thank you. Your {kind} has been registered.", kind=kind_label(_, matter.kind)),
        _("Number: {number}", number=matter.number),
        _("Registered: {when}", when=_.datetime(parse_ts(matter.registered_at))),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        _("We will tell you of its progress and reply here. Send /my to follow it."),
    ])
    return Reply(text, title=_("Registered"))


async def notify_office(ctx: Context, matter: Matter) -> None:
    """Tell every office member that a new matter waits to be assigned."""
    rep = await people.get(ctx.tx, matter.representative_id)
    for office_id in await people.with_role(ctx.tx, "office"):
        await ctx.notify(
            office_id,
            lambda _: Reply(_("New {kind} {number} from {name}: {subject}", kind=kind_label(_, matter.kind),
                              number=matter.number, name=rep.name if rep else "", subject=matter.subject),
                            title=_("New matter")),
            matter_id=matter.id,
        )

