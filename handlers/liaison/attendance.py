"""Recording who attended an event (seed §5, §15): the invitees, those who accepted marked, ten to a
page; a press marks or unmarks one, a typed name adds someone not invited; Save records them, and each
attendee is logged as a contact of the event's method (`events.record_attendance`). The office's role
is checked again at every step; button data is user input.
"""

from __future__ import annotations

from typing import Final

from bot.context import Context
from bot.errors import DialogOpenError, StaleActionError, UserError
from bot import callbacks
from bot.messages import Button, Reply
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog
from handlers.liaison import events as ev
from handlers import picker
from handlers.dialog_state import AttendData, attend
from handlers.liaison.event_card import card
from handlers.dialogue import cancel_pressed, open_dialog
from storage import contacts, events, people

PAGE: Final = 10


async def begin_attendance(ctx: Context, event_id: int) -> None:
    """From an event's card: the invitees, with those who accepted (or were recorded before) marked."""
    require(ctx.person, "record_attendance")
    event = await ev.load(ctx, event_id)
    ev.require_begun(ctx, event)
    await ctx.answer()
    if ctx.dialog is not None:
        raise DialogOpenError()
    recorded = await events.attendees(ctx.tx, event_id)
    invited = await events.invitations(ctx.tx, event_id)
    chosen = recorded or [i.person_id for i in invited if i.state == "accepted"]
    await open_dialog(ctx, ATTEND, Dialog("event_attend", "mark", "",
                                          dict(AttendData(event_id=event_id, chosen=chosen, page=0, extra=[]))))


def _pages(candidates: list[tuple[int, str]]) -> int:
    return max(1, -(-len(candidates) // PAGE))


class AttendanceFlow:
    name = "event_attend"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("recording attendance")

    async def _candidates(self, ctx: Context, dialog: Dialog) -> list[tuple[int, str]]:
        """The invitees, those who accepted first; then whoever else was recorded or added."""
        event_id = attend(dialog)["event_id"]
        invited = await events.invitations(ctx.tx, event_id)
        order = {"accepted": 0, "invited": 1, "declined": 2}
        found = [(i.person_id, i.name) for i in sorted(invited, key=lambda i: order[i.state])]
        known = {p for p, _ in found}
        for person_id in [*await events.attendees(ctx.tx, event_id), *attend(dialog)["extra"]]:
            person = await people.get(ctx.tx, person_id)
            if person is not None and person_id not in known:
                found.append((person_id, person.name))
                known.add(person_id)
        return found

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, data = ctx._, attend(dialog)
        event = await ev.load(ctx, data["event_id"])
        candidates = await self._candidates(ctx, dialog)
        pages = _pages(candidates)
        page = min(data["page"], pages - 1)
        rows: list[tuple[Button, ...]] = [
            (Button(("✓ " if p in data["chosen"] else "") + name, dialog_button(dialog, callbacks.choice("t", p))),)
            for p, name in candidates[page * PAGE:(page + 1) * PAGE]]
        nav = []
        if page > 0:
            nav.append(Button(_("Previous"), dialog_button(dialog, callbacks.choice("p", page - 1))))
        if page + 1 < pages:
            nav.append(Button(_("Next"), dialog_button(dialog, callbacks.choice("p", page + 1))))
        if nav:
            rows.append(tuple(nav))
        rows.append((Button(_("Save"), dialog_button(dialog, "save")), Button(_("Cancel"), dialog_button(dialog,
                                                                                                          "cancel"))))
        text = "\n".join([
            _("Who attended {title}? Choose a name to mark or unmark it (✓ attended). To add someone who was not "
              "invited, send part of their name. Then choose Save.", title=event.title),
            _("Marked: {n}", n=len(data["chosen"])) + (f" ({page + 1}/{pages})" if pages > 1 else ""),
        ])
        await ctx.reply(Reply(text, title=_("Attendance"), buttons=tuple(rows)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, permission="record_attendance"):
            return
        data = attend(dialog)
        event_id = data["event_id"]
        chosen = data["chosen"]
        if choice == "save":
            return await self._save(ctx, dialog)
        candidates = await self._candidates(ctx, dialog)
        if (page := callbacks.chosen(choice, "p", below=_pages(candidates))) is not None:
            data["page"] = page
        elif (number := callbacks.chosen(choice, "t")) is not None and number in dict(candidates):
            if number in chosen and number in await events.attendees(ctx.tx, event_id):
                person = await people.get(ctx.tx, number)
                raise UserError("{name}'s attendance is recorded already and counted as a contact; it cannot be "
                                "removed here.", name=person.name if person else "?")
            if number in chosen:
                chosen.remove(number)
            else:
                chosen.append(number)
        elif (number := callbacks.chosen(choice, "a")) is not None:
            await picker.representative(ctx, number)
            if number not in dict(candidates):
                data["extra"].append(number)
            if number not in chosen:
                chosen.append(number)
        else:
            raise StaleActionError("This button is no longer valid.")
        await ctx.save_dialog(dialog, new_step=False)
        await self.prompt(ctx, dialog)

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "record_attendance")
        _, text = ctx._, " ".join(ctx.inc.text.split())
        if not text:
            return await self.prompt(ctx, dialog)
        await picker.offer(ctx, dialog, text, ask=_("Who else attended? Choose the name."), prefix="a")

    async def _save(self, ctx: Context, dialog: Dialog) -> None:
        _, data = ctx._, attend(dialog)
        event_id = data["event_id"]
        recorded = await events.attendees(ctx.tx, event_id)
        new = [p for p in data["chosen"] if p not in recorded]
        if not new and not recorded:
            raise UserError("Nobody is marked as attending. Please mark those who came, then choose Save.")
        added = await ev.record_attendance(ctx, event_id, new)
        await ctx.end_dialog()
        event = await ev.load(ctx, event_id)
        cov = await contacts.coverage(ctx.tx, ctx.scope, ctx.today.year)
        text = "\n".join([
            _("Attendance at {title} recorded: {n} attended, {added} newly recorded, each counted as a contact.",
              title=event.title, n=len(recorded) + len(added), added=len(added)),
            _("This year {contacted}/{total} NPC deputies and CPPCC members have been contacted ({percent}%).",
              contacted=cov.contacted, total=cov.total, percent=cov.percent),
        ])
        await ctx.reply(Reply(text, title=_("Attendance recorded")))
        await card(ctx, event_id)


ATTEND = AttendanceFlow()
