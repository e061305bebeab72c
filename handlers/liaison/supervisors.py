"""Law-enforcement supervisors 执法监督员 (seed §6; SPEC §6).

/supervisors: the office sees who is in office and their terms, is warned when fewer than 5 or
more than 10 are, and sees how the year's case-discussion invitations are spread among them;
it appoints one (a search by name, then the term's last day) or removes one (a button, then
confirm). The roster's flag appoints those the office has recorded no term for.

A supervisor's view on a case discussion 案件研讨 is handlers/liaison/supervisor_views.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog, Person
from handlers import picker
from handlers.liaison import supervisor_views
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from handlers.dialog_state import AppointData, appoint
from storage import audit, events, people

FEWEST: Final = 5  # seed §6: 5 to 10 supervisors
MOST: Final = 10
TERM_YEARS: Final = 5  # the term of a people's congress: offered as the default term


def count_warning(_: Translator, n: int) -> str | None:
    """Seed §6: 5 to 10 supervisors; the words for the office when there are not."""
    if n < FEWEST:
        return _("Only {n} law-enforcement supervisors are in office; Article 6 of the {regulation} asks for 5 to 10. "
                 "Please appoint more.", n=n)
    if n > MOST:
        return _("{n} law-enforcement supervisors are in office; Article 6 of the {regulation} asks for 5 to 10.", n=n)
    return None


def _term(_: Translator, starts_on: date | None, ends_on: date | None) -> str:
    if starts_on is None:
        return _("appointed on the roster; term not recorded")
    if ends_on is None:
        return _("in office since {day}", day=_.date(starts_on))
    return _("term {first} to {last}", first=_.date(starts_on), last=_.date(ends_on))


def _year_bounds(ctx: Context, year: int) -> tuple[datetime, datetime]:
    tz = ctx.config.unit.tz
    return (datetime(year, 1, 1, tzinfo=tz).astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC))


async def listing(ctx: Context) -> None:
    """/supervisors"""
    require(ctx.person, "manage_supervisors")
    _ = ctx._
    today = ctx.today
    found = await events.supervisors(ctx.tx, ctx.scope, today)
    spread = await events.discussion_invitations(ctx.tx, ctx.scope, *_year_bounds(ctx, today.year))
    lines = [_("In office: {n} (Article 6 of the {regulation}: 5 to 10).", n=len(found))]
    warning = count_warning(_, len(found))
    if warning:
        lines.append("⚠ " + warning)
    rows: list[tuple[Button, ...]] = []
    for s in found:
        invited, attended = spread.get(s.person_id, (0, 0))
        person = await people.get(ctx.tx, s.person_id)
        label = picker.label(_, person) if person else s.name
        lines += ["", label, _term(_, s.starts_on, s.ends_on),
                  _("Case discussions in {year}: invited {invited}, attended {attended}", year=str(today.year),
                    invited=invited, attended=attended)]
        rows.append((Button(_("Remove {name}", name=s.name), callbacks.encode("sv", "rm", s.person_id)),))
    if not found:
        lines.append(_("No law-enforcement supervisor is in office."))
    rows.insert(0, (Button(_("Appoint a supervisor"), callbacks.encode("sv", "add")),))
    await ctx.reply(Reply("\n".join(lines), title=_("Law-enforcement supervisors"), buttons=tuple(rows)))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """sv:list, sv:add, sv:rm:PERSON, sv:rmok:PERSON (the office); sv:view:EVENT (an invited supervisor)."""
    if parts == ["list"]:
        require(ctx.person, "manage_supervisors")
        await ctx.answer()
        return await listing(ctx)
    if parts == ["add"]:
        require(ctx.person, "manage_supervisors")
        await ctx.answer()
        return await open_dialog(ctx, APPOINT, Dialog("supervisor_appoint", "whom", "",
                                                      dict(AppointData(person_id=None))))
    if len(parts) != 2 or parts[0] not in ("rm", "rmok", "view"):
        raise StaleActionError("This button is no longer valid.")
    number = callbacks.to_int(parts[1])
    if parts[0] == "view":
        return await supervisor_views.begin_view(ctx, number)
    require(ctx.person, "manage_supervisors")
    person = await people.get(ctx.tx, number, as_in=ctx.scope.unit)
    if person is not None and ctx.scope.unit not in person.member_of:  # another unit's: as if there were none
        person = None
    if person is None or not await events.is_supervisor(ctx.tx, ctx.scope, person.id, ctx.today):
        raise UserError("{name} is not a law-enforcement supervisor now.", name=person.name if person else "?")
    await ctx.answer()
    _ = ctx._
    if parts[0] == "rm":
        confirm = Button(_("Confirm"), callbacks.encode("sv", "rmok", person.id))
        await ctx.reply(Reply(_("Remove {name} from the law-enforcement supervisors, from today?", name=person.name),
                              buttons=((confirm,),)))
        return
    await events.remove_supervisor(ctx.tx, ctx.scope, person.id, ctx.today, ctx.person.id if ctx.person else None,
                                   ctx.now)
    await audit.record(ctx.tx, ctx.now, ctx.person.id if ctx.person else None, "supervisor_removed",
                       detail={"person_id": person.id})
    await ctx.reply(Reply(_("{name} is no longer a law-enforcement supervisor.", name=person.name)))
    await listing(ctx)


def default_end(today: date) -> date:
    """The last day of a term of TERM_YEARS years from today."""
    try:
        return today.replace(year=today.year + TERM_YEARS) - timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + TERM_YEARS, day=28)


async def _appointee(ctx: Context, dialog: Dialog) -> Person | None:
    person_id = appoint(dialog)["person_id"]
    return None if person_id is None else await people.get(ctx.tx, person_id)


class AppointFlow:
    """Appoint a supervisor: whom (a search) → the term's last day → done."""

    name = "supervisor_appoint"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("appointing a law-enforcement supervisor")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        cancel = cancel_button(ctx, dialog)
        if dialog.step == "whom":
            await ctx.reply(Reply(_("Whom to appoint? Please send part of the representative's name, or their phone "
                                    "number."), title=_("Appoint a supervisor"), buttons=((cancel,),)))
            return
        person = await _appointee(ctx, dialog)
        end = default_end(ctx.today)
        term = Button(_("{years} years, until {day}", years=TERM_YEARS, day=_.date(end)),
                      dialog_button(dialog, "default"))
        await ctx.reply(Reply(_("Until when is {name} appointed? Choose the option below, or send the last day of the term, "
                                "e.g. 2031-12-31.", name=person.name if person else "?"),
                              buttons=((term,), (cancel,))))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, permission="manage_supervisors"):
            return
        if dialog.step == "whom" and picker.is_choice(choice):
            person = await picker.chosen(ctx, choice)
            today = ctx.today
            term = [s for s in await events.supervisors(ctx.tx, ctx.scope, today) if s.person_id == person.id]
            if term and term[0].starts_on is not None:
                raise UserError("{name} is a law-enforcement supervisor already.", name=person.name)
            appoint(dialog)["person_id"] = person.id
            return await goto(ctx, self, dialog, "until")
        if dialog.step == "until" and choice == "default":
            return await self._appoint(ctx, dialog, default_end(ctx.today))
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        from bot.contacts_file import parse_date

        require(ctx.person, "manage_supervisors")
        _, text = ctx._, " ".join(ctx.inc.text.split())
        if not text:
            return await self.prompt(ctx, dialog)
        if dialog.step == "until":
            today = ctx.today
            day = parse_date(text, today.year)
            if day is None:
                raise UserError("Sorry, that is not a date. Please send it as 2031-12-31, or choose an option.")
            if day <= today:
                raise UserError("The term must end after today.")
            return await self._appoint(ctx, dialog, day)
        await picker.offer(ctx, dialog, text, last=[cancel_button(ctx, dialog)])

    async def _appoint(self, ctx: Context, dialog: Dialog, ends_on: date) -> None:
        person = await _appointee(ctx, dialog)
        if person is None or not person.is_representative:
            raise StaleActionError("This button is no longer valid.")
        actor = ctx.person.id if ctx.person else None
        await events.appoint(ctx.tx, ctx.scope, person.id, ctx.today, ends_on, actor, ctx.now)
        await audit.record(ctx.tx, ctx.now, actor, "supervisor_appointed",
                           detail={"person_id": person.id, "ends_on": ends_on.isoformat()})
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("{name} is appointed law-enforcement supervisor until {day}.", name=person.name,
                                    day=ctx._.date(ends_on))))
        await listing(ctx)


APPOINT = AppointFlow()
