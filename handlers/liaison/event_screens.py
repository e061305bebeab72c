"""The office's screens of events and the buttons under events' messages (seed §5, §15).

/events lists the events of the last 30 days and those to come; each opens to its card: who
answered what (with the reasons given), the preparation, attendance, and the buttons for what
the office may do next. Invitees answer 参加 / 不参加 under their invitation, and may then say why
not; departments mark their preparation done under its task. Every press is checked again by
the use cases in `handlers/liaison/events.py`.
"""

from __future__ import annotations

from datetime import timedelta

from bot import callbacks
from bot.context import Context
from bot.errors import DialogOpenError, StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.permissions import may, require
from bot.router import dialog_button
from bot.model import Dialog
from handlers.liaison import event_notices, events as ev
from handlers.liaison.attendance import begin_attendance
from handlers.dialog_state import DeclineData, decline
from handlers.matters.intake import begin_for
from handlers.liaison.event_card import card
from storage import events, matters, people, units
from storage.events import Event


async def on_answer(ctx: Context, event_id: int, accept: bool) -> None:
    """参加 / 不参加 under an invitation; after 不参加, the reason is asked for (it is optional)."""
    event = await ev.answer(ctx, event_id, accept)
    await ctx.answer()
    _ = ctx._
    if accept:
        held = ctx.dialog
        if held is not None and held.flow == "event_decline" and decline(held)["event_id"] == event_id:
            await ctx.end_dialog()
        await ctx.reply(Reply("\n".join([_("Thank you. You will attend: {title}.", title=event.title),
                                         *event_notices.when_where(_, event),
                                         _("We will remind you the day before.")])))
        return
    if ctx.dialog is not None:  # in the middle of something else: the answer stands, no reason asked
        await ctx.reply(Reply(_("Noted: you will not attend {title}. Thank you for letting us know.",
                                title=event.title)))
        return
    await ask_reason(ctx, event)


async def on_prepared(ctx: Context, event_id: int, department_id: int) -> None:
    """准备完毕 under a preparation task (or on the card): the office is told."""
    event, task = await ev.mark_prepared(ctx, event_id, department_id)
    await ctx.answer()
    await ctx.reply(Reply(ctx._("Marked done: the preparation by {department} for {title}.",
                                department=task.department, title=event.title)))
    for office_id in await people.with_role(ctx.tx, ctx.scope, "office"):
        if ctx.person is None or office_id != ctx.person.id:
            await ctx.notify(office_id, lambda _: Reply(_("{department} has finished preparing for {title}.",
                                                          department=task.department, title=event.title),
                                                        buttons=event_notices.open_button(_, event)))


async def on_opinions(ctx: Context, event_id: int) -> None:
    """The attendees, each a button that registers what they raised at the event as a matter."""
    require(ctx.person, "register_on_behalf")
    event = await ev.load(ctx, event_id)
    present = await events.attendees(ctx.tx, event_id)
    if not present:
        raise UserError("No attendance has been recorded for this event yet.")
    await ctx.answer()
    _ = ctx._
    rows = []
    for person_id in present[:ev.LIST_LIMIT * 2]:
        person = await people.get(ctx.tx, person_id)
        if person is not None:
            rows.append((Button(person.name, callbacks.encode("event", "opr", event_id, person_id)),))
    await ctx.reply(Reply(_("Whose opinion, raised at {title}, is to be registered? It is registered as received "
                            "at a meeting.", title=event.title), buttons=tuple(rows)))


async def on_register_opinion(ctx: Context, event_id: int, person_id: int) -> None:
    """One press: the on-behalf registration, with the attendee chosen and 'at a meeting' as the channel."""
    require(ctx.person, "register_on_behalf")
    await ev.load(ctx, event_id)
    if person_id not in await events.attendees(ctx.tx, event_id):
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if ctx.dialog is not None:
        raise DialogOpenError()
    await begin_for(ctx, person_id, "meeting")


ANSWER_WORDS = {"invited": N_("not answered yet"), "accepted": N_("you will attend"),
                "declined": N_("you will not attend")}


async def listing(ctx: Context) -> None:
    """/events: for the office, the events of the last 30 days and those to come; for a representative, the
    events they are invited to."""
    if not may(ctx.person, "manage_events", None) and ctx.person is not None and ctx.person.is_representative:
        return await my_invitations(ctx)
    require(ctx.person, "manage_events")
    _ = ctx._
    found = await events.starting_from(ctx.tx, ctx.scope, ctx.now - timedelta(days=30), ev.LIST_LIMIT)
    if not found:
        await ctx.reply(Reply(_("No event yet. To create one, send:") + " /event", title=_("Events")))
        return
    lines, rows = [], []
    for event in found:
        invited = await events.invitations(ctx.tx, event.id)
        accepted = sum(1 for i in invited if i.state == "accepted")
        lines.append(_("{when} · {kind} · {title}\naccepted {accepted} of {invited}", when=_.datetime(event.starts_at),
                       kind=event_notices.kind_name(_, event.kind), title=event.title, accepted=accepted,
                       invited=len(invited)))
        rows.append((Button(f"{_.date(ev.local_day(ctx, event.starts_at))} {event.title}"[:60],
                            callbacks.encode("event", "open", event.id)),))
    await ctx.reply(Reply("\n\n".join(lines), title=_("Events"), buttons=tuple(rows)))


async def my_invitations(ctx: Context) -> None:
    """A representative's invitations, to find them again: each event to come as its invitation, with the answer
    given so far and the buttons to answer (or change it); those of the last 30 days in one list."""
    person, _ = ctx.person, ctx._
    assert person is not None
    found = await events.invited(ctx.tx, person.id, ctx.now - timedelta(days=30), ev.LIST_LIMIT)
    if not found:
        await ctx.reply(Reply(_("You have no invitation to an event at present. The liaison office invites NPC "
                                "deputies and CPPCC members to forums, inspections and other events here."),
                              title=_("My invitations")))
        return
    past = [(event, answer) for event, answer in found if event.state != "planned" or event.starts_at <= ctx.now]
    if past:
        lines = [_("{when} · {title} · {answer}", when=_.date(ev.local_day(ctx, event.starts_at)), title=event.title,
                   answer=_(ANSWER_WORDS[answer])) for event, answer in past]
        await ctx.reply(Reply("\n".join(lines), title=_("Past invitations (last 30 days)")))
    for event, answer in found:
        if (event, answer) in past:
            continue
        matter = await matters.get(ctx.tx, ctx.scope, event.matter_id) if event.matter_id else None
        invitation = event_notices.invitation(event, matter, (await units.get(ctx.tx, event.unit_id)).name)(_)
        text = invitation.text + "\n" + _("Your answer so far: {answer}", answer=_(ANSWER_WORDS[answer]))
        await ctx.reply(Reply(text, title=invitation.title, buttons=invitation.buttons))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """event:yes|no|open|att|op:ID, event:prep:ID:DEPARTMENT, event:opr:ID:PERSON — checked again on every press."""
    verbs = {"yes": 1, "no": 1, "open": 1, "att": 1, "op": 1, "prep": 2, "opr": 2}
    if not parts or parts[0] not in verbs or len(parts) != verbs[parts[0]] + 1:
        raise StaleActionError("This button is no longer valid.")
    verb, ids = parts[0], [callbacks.to_int(p) for p in parts[1:]]
    if verb in ("yes", "no"):
        return await on_answer(ctx, ids[0], verb == "yes")
    if verb == "prep":
        return await on_prepared(ctx, ids[0], ids[1])
    if verb == "op":
        return await on_opinions(ctx, ids[0])
    if verb == "opr":
        return await on_register_opinion(ctx, ids[0], ids[1])
    if verb == "att":
        return await begin_attendance(ctx, ids[0])
    await ctx.answer()
    await card(ctx, ids[0])


# -- declining, with a reason ----------------------------------------------------------------------


async def ask_reason(ctx: Context, event: Event) -> None:
    dialog = Dialog("event_decline", "reason", "", dict(DeclineData(event_id=event.id, title=event.title)))
    await ctx.save_dialog(dialog)
    await DECLINE.prompt(ctx, dialog)


class DeclineFlow:
    name = "event_decline"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("answering an invitation")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        skip = Button(ctx._("No reason"), dialog_button(dialog, "skip"))
        await ctx.reply(Reply(ctx._("Noted: you will not attend {title}. If you wish, please tell us why: send it, "
                                    "or choose the option below.", title=decline(dialog)["title"]), buttons=((skip,),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if choice != "skip":
            raise StaleActionError("This button is no longer valid.")
        await ctx.answer()
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("Thank you for letting us know.")))

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        text = " ".join(ctx.inc.text.split())
        if not text:
            return await self.prompt(ctx, dialog)
        kept = await ev.give_reason(ctx, decline(dialog)["event_id"], text)
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("Thank you; the liaison office will see your reason.") if kept
                              else ctx._("Thank you for letting us know.")))


DECLINE = DeclineFlow()
