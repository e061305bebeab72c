"""An event's card as the office sees it (seed §5, §15): who answered what, the preparation, attendance, and
the buttons for what to do next. The screens (handlers/liaison/event_screens.py) open it, and so do the
dialogues that create an event and record its attendance when they end."""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.permissions import may, require
from handlers.labels import listed
from handlers.liaison import event_notices, events as ev
from storage import events, matters, people
from storage.events import Invitation


def _names(_: Translator, items: list[str]) -> str:
    return listed(_, items, ev.NAMES_SHOWN, gap=" ")


async def card(ctx: Context, event_id: int) -> None:
    """An event as the office sees it: who answered what, the preparation, attendance; what to do next."""
    require(ctx.person, "manage_events")
    event = await ev.load(ctx, event_id)
    _ = ctx._
    lines = [f"{event_notices.kind_name(_, event.kind)} · {_.datetime(event.starts_at)} · {event.place}"]
    if event.matter_id is not None:
        matter = await matters.get(ctx.tx, ctx.scope, event.matter_id)
        if matter is not None:
            lines.append(event_notices.public_summary(_, matter))
    preps = await events.preparations(ctx.tx, event_id)
    for prep in preps:
        lines.append(_("Preparation by {department}, due {day}: done", department=prep.department,
                       day=_.date(prep.deadline)) if prep.done_at else
                     _("Preparation by {department}, due {day}: not yet done", department=prep.department,
                       day=_.date(prep.deadline)))
    invited = await events.invitations(ctx.tx, event_id)
    groups: dict[str, list[Invitation]] = {s: [i for i in invited if i.state == s] for s in events.ANSWERS}
    lines.append(_("Invited {n}: {accepted} will attend, {declined} will not, {open} have not answered.",
                   n=len(invited), accepted=len(groups["accepted"]), declined=len(groups["declined"]),
                   open=len(groups["invited"])))
    if groups["accepted"]:
        lines.append(_("Will attend: {names}", names=_names(_, [i.name for i in groups["accepted"]])))
    if groups["declined"]:
        lines.append(_("Will not attend: {names}", names=_names(_, [
            f"{i.name}（{i.reason[:30]}）" if i.reason else i.name for i in groups["declined"]])))
    if groups["invited"]:
        lines.append(_("Not answered: {names}", names=_names(_, [i.name for i in groups["invited"]])))
    present = await events.attendees(ctx.tx, event_id)
    if present:
        names = {i.person_id: i.name for i in invited}
        for person_id in present:
            if person_id not in names:
                person = await people.get(ctx.tx, person_id)
                names[person_id] = person.name if person else "?"
        lines.append(_("Attended ({n}): {names}", n=len(present), names=_names(_, [names[p] for p in present])))
    rows: list[tuple[Button, ...]] = []
    if event.state != "cancelled" and ctx.now >= event.starts_at and may(ctx.person, "record_attendance", None):
        rows.append((Button(_("Record attendance"), callbacks.encode("event", "att", event.id)),))
    if present and may(ctx.person, "register_on_behalf", None):
        rows.append((Button(_("Register an opinion raised here"), callbacks.encode("event", "op", event.id)),))
    for prep in preps:
        if prep.done_at is None and event.state == "planned":
            rows.append((Button(_("Preparation done: {department}", department=prep.department),
                                callbacks.encode("event", "prep", event.id, prep.department_id)),))
    await ctx.reply(Reply("\n".join(lines), title=event.title, buttons=tuple(rows)))
