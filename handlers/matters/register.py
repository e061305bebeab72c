"""Registering a matter: number, timestamp, due date, receipt, and word to the office (seed §3, §12).

"Registered one by one": the matter, its attachments, its first timeline entry, the
representative's receipt and the office's notice are written in one transaction; nothing
is acknowledged before it is committed. A matter the office received by letter, at a
meeting, on a visit or by phone is registered the same way on the representative's behalf
(SPEC §3): the office member gets the receipt, the representative is told in their chat.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.context import Context
from bot.domain import due_date, matter_number
from bot.matter.life import FIRST_STATE
from bot.matter.states import Happened
from bot.errors import StaleActionError
from bot.i18n import N_, Translator
from bot.messages import Reply
from bot.permissions import require
from bot.model import Dialog, Person, UnitScope
from bot.matter.model import Matter, NewMatter
from handlers import picker
from handlers.matters.notices import open_button
from storage import audit, matters, people, units
from handlers import dialog_state
from handlers.labels import (OFFICE_VIA, VIA_REFERRED, VIA_REGISTERED, deputy, kind_label, kind_noun, raised_or_referred,
                             via_label)
from storage.db import Tx, parse_ts
from storage.matters import StoredFile


async def department_name(q: Tx, department_id: object) -> str | None:
    """The department's name; None for no department (or anything that is not an id)."""
    if not isinstance(department_id, int):
        return None
    return await people.department_name(q, department_id)


async def register(ctx: Context, new: NewMatter, files: list[StoredFile], scope: UnitScope | None = None) -> Matter:
    """Give the matter its number and due date in the unit the person acts in (or `scope`'s: the unit a
    representative on several rosters chose), and store it with its files."""
    scope = scope or ctx.scope
    unit = await units.get(ctx.tx, scope.unit)  # the first follows [unit]: its prefix and time zone
    tz = ZoneInfo(unit.timezone)
    local_year = ctx.now.astimezone(tz).year
    sequence = await matters.next_sequence(ctx.tx, unit.prefix, local_year)
    number = matter_number(unit.prefix, local_year, sequence)
    due = due_date(ctx.now, ctx.config.intake.due_months[new.kind], tz)
    matter_id = await matters.insert(ctx.tx, scope, new, number, FIRST_STATE, ctx.now, due)
    await matters.add_files(ctx.tx, matter_id, files, ctx.now)
    actor = ctx.person.id if ctx.person else None
    await matters.add_event(ctx.tx, matter_id, Happened.REGISTERED, actor_id=actor, public=True, now=ctx.now,
                            detail={"via": new.received_via})
    await audit.record(ctx.tx, ctx.now, actor, Happened.REGISTERED, matter_id=matter_id,
                       detail={"kind": new.kind, "via": new.received_via, "representative_id": new.representative_id})
    matter = await matters.get(ctx.tx, scope, matter_id)
    assert matter is not None
    return matter


async def chosen_unit(ctx: Context, data: dialog_state.IntakeData) -> UnitScope:
    """Where the matter goes: the unit the representative chose, checked again (still on its roster), else the unit
    the person acts in."""
    if "unit" not in data:
        return ctx.scope
    if ctx.person is None or data["unit"] not in ctx.person.units or "on_behalf_of" in data:
        raise StaleActionError("This button is no longer valid.")
    return UnitScope.of(data["unit"])


async def register_from_dialog(ctx: Context, dialog: Dialog) -> None:
    """Register what the dialogue gathered: the representative's own submission, or the office's on their behalf."""
    person = ctx.person
    assert person is not None
    data = dialog_state.intake(dialog)
    on_behalf = "on_behalf_of" in data
    if on_behalf:
        require(person, "register_on_behalf")
        rep = await picker.representative(ctx, data["on_behalf_of"])
        if data.get("via") not in OFFICE_VIA:
            raise StaleActionError("This button is no longer valid.")
    else:
        rep = person
    disputes = bool(data.get("disputes"))
    new = NewMatter(
        kind=data["kind"],
        representative_id=rep.id,
        subject=data["subject"],
        body="\n\n".join(data["text"]),
        received_via=str(data["via"]) if on_behalf else "chat",  # one of OFFICE_VIA: checked above
        registered_by=person.id,
        complainant_name=data.get("complainant_name"),
        complainant_contact=data.get("complainant_contact"),
        disputes_own_handling=disputes,
        original_department_id=data.get("department_id") if disputes else None,
    )
    files = dialog_state.stored_files(data["files"])
    matter = await register(ctx, new, files, await chosen_unit(ctx, data))
    await ctx.end_dialog()
    if not on_behalf:
        to = (await units.get(ctx.tx, matter.unit_id)).name if "unit" in data else None  # on several rosters
        await ctx.reply(receipt(ctx._, matter, to))
        await notify_office(ctx, matter)
        return
    told = await ctx.notify(rep.id, lambda _: registered_for_you(_, matter), matter_id=matter.id)
    await ctx.reply(office_receipt(ctx._, matter, rep, told))
    await notify_office(ctx, matter, except_id=person.id)


def receipt(_: Translator, matter: Matter, to: str | None = None) -> Reply:
    """The representative's receipt; `to`: the procuratorate they chose (they are on more than one roster)."""
    text = "\n".join([
        raised_or_referred(_, matter.kind, N_("Thank you. Your {kind} has been registered."),
                           N_("Thank you. The {kind} you referred has been registered."),
                           kind=kind_noun(_, matter.kind)),
        *([_("To: {unit}", unit=to)] if to else []),
        _("Number: {number}", number=matter.number),
        _("Registered: {when}", when=_.datetime(parse_ts(matter.registered_at))),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        _("We will tell you of its progress and reply here. Send {/my} to follow it."),
    ])
    return Reply(text, title=_("Registered"))


def registered_for_you(_: Translator, matter: Matter) -> Reply:
    """The representative's word that the office registered their matter, received another way."""
    text = "\n".join([
        raised_or_referred(_, matter.kind, VIA_REGISTERED[matter.received_via], VIA_REFERRED[matter.received_via],
                           kind=kind_noun(_, matter.kind), number=matter.number),
        _("Registered: {when}", when=_.datetime(parse_ts(matter.registered_at))),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        _("We will tell you of its progress and reply here. Send {/my} to follow it."),
    ])
    return Reply(text, title=_("Registered"))


def office_receipt(_: Translator, matter: Matter, rep: Person, told: bool) -> Reply:
    """The office member's receipt for a matter registered on a representative's behalf."""
    text = "\n".join([
        _("Registered for {name}: {kind}, number {number}.", name=rep.name, kind=kind_label(_, matter.kind),
          number=matter.number),
        _("Received: {via}", via=via_label(_, matter.received_via)),
        _("Registered: {when}", when=_.datetime(parse_ts(matter.registered_at))),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        _("{name} has been told in chat.", name=rep.name) if told else
        _("{name} has no chat account bound and was not told; please let them know the number.", name=rep.name),
    ])
    return Reply(text, title=_("Registered on behalf"))


async def notify_office(ctx: Context, matter: Matter, *, except_id: int | None = None) -> None:
    """Tell every office member (but the one who registered it for somebody) that a new matter waits."""
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    for office_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), "office"):
        if office_id == except_id:
            continue
        await ctx.notify(
            office_id,
            lambda _: Reply(raised_or_referred(_, matter.kind, N_("New {kind} {number} from {name}: {subject}"),
                                               N_("New {kind} {number} referred by {name}: {subject}"),
                                               kind=kind_noun(_, matter.kind), number=matter.number,
                                               name=deputy(_, rep), subject=matter.subject),
                            title=_("New matter"), buttons=open_button(_, matter)),
            matter_id=matter.id,
        )
