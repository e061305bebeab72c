"""The chat dialogue in which the office creates an event (/event); attendance is in handlers/liaison/attendance.py.

/event: kind → (a case discussion: the matter's number) → title → date and time (2026-12-05
09:30) → place → departments to prepare (several, then Done) → whom to invite (everyone, a body,
a sector, the supervisors, or named people found by search) → confirm → `events.create`.
Every step checks the office's role again; button data is user input. Whom to invite is the
audience step cards and briefings use (handlers/liaison/audience.py), given this flow's `Scope`; its
choice becomes the stored event audience ("all", "npc", "cppcc", "supervisors", "sector:NAME",
"named") in one place, `stored`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import N_
from bot import callbacks
from bot.domain import typed_matter_number
from bot.messages import Button, Reply, rows
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog, Person
from handlers.labels import listed
from handlers.liaison import audience, event_details, event_notices, events as ev
from handlers.liaison.event_card import card
from handlers.dialog_state import EventData, event, given
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from storage import events, matters, people

MAX_NAMED: Final = 200


def stored(choice: dict[str, Any]) -> tuple[str, list[int]]:
    """The audience component's choice as the events module stores it: the audience and the named people."""
    kind = str(choice.get("kind", ""))
    if kind == "sector":
        return "sector:" + str(choice.get("sector", "")), []
    if kind == "named":
        return "named", [i for i in choice.get("ids", []) if isinstance(i, int) and not isinstance(i, bool)]
    return kind, []


async def _invitees(ctx: Context, choice: dict[str, Any]) -> list[int]:
    return await ev.audience_ids(ctx, *stored(choice))


async def _supervisors_only(ctx: Context, person: Person) -> None:
    if not await events.is_supervisor(ctx.tx, ctx.scope, person.id, ctx.today):
        raise UserError("{name} is not a law-enforcement supervisor; a case discussion invites supervisors "
                        "only.", name=person.name)


def _scope_of(kinds: tuple[str, ...], **more: Any) -> audience.Scope:
    return audience.Scope(labels={k: ev.AUDIENCE_LABELS[k] for k in kinds}, question=N_("Whom to invite?"),
                          per_row=(1,), max_named=MAX_NAMED, resolve=_invitees, **more)


OPEN: Final = _scope_of(ev.AUDIENCES)
CASE_DISCUSSION: Final = _scope_of(("supervisors", "named"), admit=_supervisors_only)


def _scope(dialog: Dialog) -> audience.Scope:
    """A case discussion invites the law-enforcement supervisors only."""
    return CASE_DISCUSSION if event(dialog)["kind"] == "case_discussion" else OPEN


async def begin(ctx: Context) -> None:
    """/event"""
    require(ctx.person, "manage_events")
    await open_dialog(ctx, EVENT, Dialog("event", "kind", "",
                                         dict(EventData(kind=None, matter_id=None, title=None, starts_at=None,
                                                        place=None, departments=[], audience=None, sectors=[],
                                                        picked=[]))))


class EventFlow:
    name = "event"
    number_steps = frozenset({"matter"})  # a matter's number asked for as text (bot/router.Flow)

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("creating an event")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, step, data = ctx._, dialog.step, event(dialog)
        cancel = cancel_button(ctx, dialog)
        if step == "kind":
            kinds = [Button(event_notices.kind_name(_, k), dialog_button(dialog, k)) for k in event_notices.KIND_LABELS]
            await ctx.reply(Reply(_("What kind of event is it?"), title=_("New event"),
                                  buttons=(*rows(kinds, 2), (cancel,))))
        elif step == "matter":
            await ctx.reply(Reply(_("Which matter is to be discussed? Please send its number, e.g. LS-2026-0001."),
                                  buttons=((cancel,),)))
        elif step == "title":
            await ctx.reply(Reply(_("Please send the title of the event (at most {max} characters).",
                                    max=event_details.MAX_TITLE), buttons=((cancel,),)))
        elif step == "when":
            await ctx.reply(Reply(_("When does it begin? Please send the date and time, e.g. 2026-12-05 09:30."),
                                  buttons=((cancel,),)))
        elif step == "place":
            await ctx.reply(Reply(_("Where is it held? Please send the place."), buttons=((cancel,),)))
        elif step == "departments":
            marked = data["departments"]
            departments = [Button(("✓ " if d in marked else "") + name, dialog_button(dialog, callbacks.choice("d", d)))
                           for d, name in await people.departments(ctx.tx, ctx.scope)]
            done = Button(_("Done") if marked else _("No department"), dialog_button(dialog, "done"))
            await ctx.reply(Reply(_("Which departments must prepare for it? Choose each one, then Done."),
                                  buttons=(*rows(departments, 1), (done, cancel))))
        elif step in audience.STEPS:
            await audience.prompt(ctx, dialog, _scope(dialog))
        elif step == "confirm":
            confirm = Button(_("Confirm"), dialog_button(dialog, "confirm"))
            await ctx.reply(Reply(await self.summary(ctx, dialog), title=_("Please check"),
                                  buttons=((confirm, cancel),)))

    async def summary(self, ctx: Context, dialog: Dialog) -> str:
        _, data = ctx._, event(dialog)
        starts_at = datetime.fromisoformat(given(data["starts_at"]))
        lines = [_("Kind: {kind}", kind=event_notices.kind_name(_, given(data["kind"]))),
                 _("Title: {title}", title=data["title"]),
                 _("Time: {when}", when=_.datetime(starts_at)),
                 _("Place: {place}", place=data["place"])]
        if data["matter_id"] is not None:
            lines.append(event_notices.public_summary(_, await ev.discussable(ctx, data["matter_id"])))
        names = [n for d, n in await people.departments(ctx.tx, ctx.scope) if d in data["departments"]]
        if names:
            deadline = event_details.prepare_by(ev.local_day(ctx, starts_at), ctx.today, ctx.config.calendar)
            lines.append(_("To prepare: {departments}, by {day}", departments=listed(_, names),
                           day=_.date(deadline)))
        choice = given(data["audience"])
        invitees = await _invitees(ctx, choice)
        if choice.get("kind") == "named":
            whom = listed(_, [p.name for p in [await people.get(ctx.tx, i) for i in invitees] if p is not None])
        else:
            whom = audience.describe(_, choice, _scope(dialog).labels)
        lines.append(_("Invited: {whom} ({n} in all)", whom=whom, n=len(invitees)))
        return "\n".join(lines)

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, permission="manage_events"):
            return
        step, data = dialog.step, event(dialog)
        if step == "kind" and choice in event_notices.KIND_LABELS:
            data["kind"] = choice
            return await goto(ctx, self, dialog, "matter" if choice == "case_discussion" else "title")
        if step == "departments" and (department_id := callbacks.chosen(choice, "d")) is not None:
            if department_id not in dict(await people.departments(ctx.tx, ctx.scope)):  # the list shown, as it stands now
                raise StaleActionError("This button is no longer valid.")
            chosen = data["departments"]
            if department_id in chosen:
                chosen.remove(department_id)
            else:
                chosen.append(department_id)
            await ctx.save_dialog(dialog, new_step=False)
            return await self.prompt(ctx, dialog)
        if step == "departments" and choice == "done":
            return await goto(ctx, self, dialog, "audience")
        if step in audience.STEPS:
            return await audience.choose(ctx, self, dialog, choice, _scope(dialog))
        if step == "confirm" and choice == "confirm":
            return await self._create(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "manage_events")
        step, data, text = dialog.step, event(dialog), " ".join(ctx.inc.text.split())
        if step in audience.STEPS and await audience.on_message(ctx, dialog, text):
            return None
        buttons_only = step in ("kind", "departments", "confirm", *audience.STEPS)
        if not text or buttons_only:
            await ctx.reply(Reply(ctx._("Please choose one of the options.") if buttons_only else ctx._("Please answer in text.")))
            return await self.prompt(ctx, dialog)
        if step == "matter":
            matter = await matters.by_number(ctx.tx, ctx.scope, typed_matter_number(text) or text[:30], own=True)
            data["matter_id"] = (await ev.discussable(ctx, matter.id if matter else None)).id
            return await goto(ctx, self, dialog, "title")
        if step == "title":
            event_details.check_details(ctx, title=text)
            data["title"] = text
            return await goto(ctx, self, dialog, "when")
        if step == "when":
            starts_at = event_details.parse_when(text, ctx.config.unit.tz)
            if starts_at is None:
                raise UserError("Sorry, that is not a date and time. Please send it as 2026-12-05 09:30.")
            event_details.check_details(ctx, starts_at=starts_at)
            data["starts_at"] = starts_at.isoformat()
            return await goto(ctx, self, dialog, "place")
        if step == "place":
            event_details.check_details(ctx, place=text)
            data["place"] = text
            return await goto(ctx, self, dialog, "departments")

    async def _create(self, ctx: Context, dialog: Dialog) -> None:
        data = event(dialog)
        whom, named = stored(given(data["audience"]))
        created = await ev.create(ctx, ev.NewEvent(
            kind=given(data["kind"]), title=given(data["title"]),
            starts_at=datetime.fromisoformat(given(data["starts_at"])), place=given(data["place"]),
            audience=whom, departments=list(data["departments"]), named=named,
            matter_id=data["matter_id"]))
        await ctx.end_dialog()
        _ = ctx._
        if created.reached == created.invited:
            text = _("The event is created, and the invitation has gone to everyone invited ({n}).", n=created.invited)
        else:
            text = _("The event is created. Of the {invited} invited, {reached} received the invitation here.",
                     invited=created.invited, reached=created.reached)
        if created.reached < created.invited:
            text += "\n" + _("{n} have no chat account bound and were not reached; please invite them another way.",
                             n=created.invited - created.reached)
        await ctx.reply(Reply(text, title=_("Event created")))
        await card(ctx, created.event_id)


EVENT = EventFlow()
