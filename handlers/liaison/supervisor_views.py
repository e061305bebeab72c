"""A law-enforcement supervisor's view on a case discussion (seed §6; SPEC §6).

A case discussion 案件研讨 invites supervisors with the matter's public summary; each invited
supervisor may send a view on it ("Give my view" under the invitation, then text). The view is
recorded on the matter's timeline (internal event 'supervisor_view', audited) and sent to the
handling department (the office, while it has none). Anyone else's view is refused.
"""

from __future__ import annotations

from typing import Final

from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Reply
from bot.permissions import may
from bot.model import Dialog, UnitScope
from bot.matter.model import Matter
from bot.matter import life
from handlers.matters import casework as cases
from handlers.matters import notices
from handlers.liaison.event_notices import public_summary
from handlers.dialogue import cancel_button, cancelled, open_dialog
from handlers.dialog_state import ViewData, view
from storage import casework, events, matters, people
from storage.events import Event

MAX_VIEW: Final = 2000


async def discussion(ctx: Context, event_id: int) -> tuple[Event, Matter]:
    """The case discussion this person may give a view on now: invited, in office, the matter still open."""
    event = await events.get(ctx.tx, ctx.scope, event_id)
    person = ctx.person
    matter = await matters.get(ctx.tx, ctx.scope, event.matter_id) if event is not None and event.matter_id else None
    if event is None or matter is None or event.state == "cancelled":
        raise NotFoundError("No such case discussion.")
    invited = person is not None and await events.invitation(ctx.tx, event_id, person.id) is not None
    if not (may(person, "give_view", None) and invited and person is not None
            and await events.is_supervisor(ctx.tx, UnitScope.of(matter.unit_id), person.id, ctx.today)):  # its unit's
        raise PermissionDeniedError.of("give_view", matter.id, "Only the law-enforcement supervisors invited to this "
                                       "case discussion can give their view on it.")
    if life.is_closed(matter.state):
        raise UserError("{number} is closed; views on it can no longer be given.", number=matter.number)
    return event, matter


async def begin_view(ctx: Context, event_id: int) -> None:
    event, matter = await discussion(ctx, event_id)
    await ctx.answer()
    await open_dialog(ctx, VIEW, Dialog("supervisor_view", "text", "", dict(ViewData(event_id=event.id))))


async def give_view(ctx: Context, event_id: int, text: str) -> Matter:
    """Record the view on the matter's timeline (audited) and send it to whoever handles the matter."""
    event, matter = await discussion(ctx, event_id)
    if not text.strip():
        raise UserError("Please write your view.")
    if len(text) > MAX_VIEW:
        raise UserError("The text is too long: at most {max} characters.", max=MAX_VIEW)
    person = ctx.person
    assert person is not None
    await cases.record_event(ctx, matter, "supervisor_view", public=False,
                             detail={"note": text, "event_id": event.id, "supervisor_id": person.id})
    handlers_ = (await casework.department_staff(ctx.tx, matter.department_id) if matter.department_id
                 else await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), "office"))
    for staff_id in handlers_:
        await notices.to_staff(ctx, staff_id, matter, lambda _: Reply(
            _("The law-enforcement supervisor {name} gives this view on {number}, discussed at {title}:",
              name=person.name, number=matter.number, title=event.title) + "\n" + text,
            title=_("Supervisor's view"), buttons=notices.open_button(_, matter)))
    return matter


class ViewFlow:
    name = "supervisor_view"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("giving your view on a case")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        event, matter = await discussion(ctx, view(dialog)["event_id"])
        cancel = cancel_button(ctx, dialog)
        await ctx.reply(Reply(public_summary(_, matter) + "\n" + _("Please write your view on it, in one message."),
                              title=_("Your view"), buttons=((cancel,),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if not await cancelled(ctx, choice, N_("Cancelled. Nothing was submitted.")):
            raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        text = ctx.inc.text.strip()
        if not text:
            await ctx.reply(Reply(ctx._("Please answer in text.")))
            return await self.prompt(ctx, dialog)
        matter = await give_view(ctx, view(dialog)["event_id"], text)
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("Your view on {number} has been passed to those handling it. Thank you "
                                    "for your supervision.", number=matter.number)))


VIEW = ViewFlow()

