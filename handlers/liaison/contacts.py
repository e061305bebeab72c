"""The contact log in chat (seed §5, §11; SPEC §6).

/contact: the office records a contact step by step — whom (a search by part of a name or a
phone; several representatives, one by one, then Done) → method → day (today, yesterday or a
typed date, never in the future) → note (or none) → confirm → one contact per representative.
/quota (the year's coverage) is in handlers/liaison/quota.py.
`record_reply_contact`: a reply to a matter counts as a contact with its representative.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from bot.context import Context
from bot.contacts_file import METHODS, parse_date
from bot.permissions import require
from bot.errors import DialogOpenError, StaleActionError, UserError
from bot.messages import Button, Reply, rows
from bot.router import dialog_button
from bot.model import Dialog, Person
from bot.matter.model import Matter
from handlers import picker
from handlers.dialog_state import ContactData, contact, given
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from handlers.labels import listed, method_label, representative_line
from storage import audit, contacts

MAX_NOTE: Final = 1000
MAX_CHOSEN: Final = 100
# How a reply to a matter was given (domain.REPLY_VIA) → the contact it counts as (§7).
REPLY_METHODS: Final = {"chat": "letter", "paper": "letter", "in_person": "other"}


async def begin(ctx: Context) -> None:
    """/contact"""
    require(ctx.person, "record_contact")
    await open_dialog(ctx, CONTACT, Dialog("contact", "whom", "",
                                           dict(ContactData(reps=[], method=None, day=None, note=None))))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """The office's menu button for /contact."""
    if parts != ["start"]:
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if ctx.dialog is not None:
        raise DialogOpenError()
    await begin(ctx)


class ContactFlow:
    name = "contact"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("recording a contact")

    async def _chosen(self, ctx: Context, dialog: Dialog) -> list[Person]:
        return [await picker.representative(ctx, i) for i in contact(dialog)["reps"]]

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, step, data = ctx._, dialog.step, contact(dialog)
        cancel = cancel_button(ctx, dialog)
        if step == "whom":
            chosen = await self._chosen(ctx, dialog)
            if not chosen:
                await ctx.reply(Reply(_("Whom did you contact? Please send part of a representative's name, or their "
                                        "phone number. You can add several, one by one."),
                                      title=_("Record a contact"), buttons=((cancel,),)))
                return
            done = Button(_("Done"), dialog_button(dialog, "done"))
            await ctx.reply(Reply(_("Chosen: {names}. To add someone else, send part of their name; when "
                                    "everyone is chosen, choose Done.", names=listed(_, [p.name for p in chosen])),
                                  buttons=((done, cancel),)))
        elif step == "method":
            ways = [Button(method_label(_, m), dialog_button(dialog, m)) for m in METHODS]
            await ctx.reply(Reply(_("How was the contact made?"), buttons=(*rows(ways, 2), (cancel,))))
        elif step == "day":
            days = (Button(_("Today"), dialog_button(dialog, "today")),
                    Button(_("Yesterday"), dialog_button(dialog, "yesterday")))
            await ctx.reply(Reply(_("On what day? Choose an option, or send the date, e.g. 2026-11-20."),
                                  buttons=(days, (cancel,))))
        elif step == "note":
            skip = Button(_("No note"), dialog_button(dialog, "skip"))
            await ctx.reply(Reply(_("Please add a note, e.g. what was discussed or which materials were given; "
                                    "or choose No note."), buttons=((skip, cancel),)))
        elif step == "confirm":
            chosen = await self._chosen(ctx, dialog)
            lines = [_("Contacted ({n}):", n=len(chosen)),
                     *(representative_line(_, p.name, p.body, p.sector) for p in chosen),
                     _("Method: {method}", method=method_label(_, given(data["method"]))),
                     _("Date: {day}", day=_.date(date.fromisoformat(given(data["day"]))))]
            if data["note"]:
                lines.append(_("Note: {note}", note=data["note"]))
            confirm = Button(_("Confirm"), dialog_button(dialog, "confirm"))
            await ctx.reply(Reply("\n".join(lines), title=_("Please check"), buttons=((confirm, cancel),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, permission="record_contact"):
            return
        step, data = dialog.step, contact(dialog)
        if step == "whom" and picker.is_choice(choice):
            return await self._choose(ctx, dialog, await picker.chosen(ctx, choice))
        if step == "whom" and choice == "done" and data["reps"]:
            return await goto(ctx, self, dialog, "method")
        if step == "method" and choice in METHODS:
            data["method"] = choice
            return await goto(ctx, self, dialog, "day")
        if step == "day" and choice in ("today", "yesterday"):
            day = ctx.today - timedelta(days=1 if choice == "yesterday" else 0)
            data["day"] = day.isoformat()
            return await goto(ctx, self, dialog, "note")
        if step == "note" and choice == "skip":
            data["note"] = ""
            return await goto(ctx, self, dialog, "confirm")
        if step == "confirm" and choice == "confirm":
            return await self._record(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "record_contact")
        step, text = dialog.step, ctx.inc.text.strip()
        if step == "whom" and text:
            return await self._search(ctx, dialog, text)
        if step == "day" and text:
            today = ctx.today
            day = parse_date(text, today.year)
            if day is None:
                raise UserError("Sorry, that is not a date. Please send it as 2026-11-20, or choose an option.")
            if day > today:
                raise UserError("{day} is in the future. Please send the day the contact took place.",
                                day=ctx._.date(day))
            contact(dialog)["day"] = day.isoformat()
            return await goto(ctx, self, dialog, "note")
        if step == "note" and text:
            if len(text) > MAX_NOTE:
                raise UserError("The text is too long: at most {max} characters.", max=MAX_NOTE)
            contact(dialog)["note"] = text
            return await goto(ctx, self, dialog, "confirm")
        await ctx.reply(Reply(ctx._("Please choose one of the options.") if step in ("method", "confirm")
                              else ctx._("Please answer in text.")))
        await self.prompt(ctx, dialog)

    async def _search(self, ctx: Context, dialog: Dialog, text: str) -> None:
        """Offer the representatives whose name or phone contains the text, as buttons."""
        last = [Button(ctx._("Done"), dialog_button(dialog, "done"))] if contact(dialog)["reps"] else []
        last.append(cancel_button(ctx, dialog))
        await picker.offer(ctx, dialog, text, last=last)

    async def _choose(self, ctx: Context, dialog: Dialog, rep: Person) -> None:
        chosen = contact(dialog)["reps"]
        if rep.id in chosen:
            await ctx.reply(Reply(ctx._("{name} is already on the list.", name=rep.name)))
            return
        if len(chosen) >= MAX_CHOSEN:
            raise UserError("At most {max} representatives in one record.", max=MAX_CHOSEN)
        chosen.append(rep.id)
        # The same step: the search's other buttons stay valid, so several can be chosen from one list.
        await ctx.save_dialog(dialog, new_step=False)
        await self.prompt(ctx, dialog)

    async def _record(self, ctx: Context, dialog: Dialog) -> None:
        """One contact per chosen representative, with the office member who recorded it."""
        _, person, data = ctx._, ctx.person, contact(dialog)
        assert person is not None
        chosen = await self._chosen(ctx, dialog)
        method = data["method"]
        if method not in METHODS or not chosen:
            raise StaleActionError("This button is no longer valid.")
        day = date.fromisoformat(given(data["day"]))
        today = ctx.today
        if day > today:  # cannot happen through the steps above; the data is stored, so check once more
            raise UserError("{day} is in the future. Please send the day the contact took place.", day=_.date(day))
        staff_id = person.id if person.body is None else None
        for rep in chosen:
            await contacts.add(ctx.tx, ctx.scope.unit, rep.id, method, day, staff_id, data["note"] or "", "chat", ctx.now)
        await audit.record(ctx.tx, ctx.now, person.id, "contact_recorded",
                           detail={"representatives": [p.id for p in chosen], "method": method,
                                   "day": day.isoformat()})
        await ctx.end_dialog()
        cov = await contacts.coverage(ctx.tx, ctx.scope, today.year)
        text = "\n".join([
            _("Contact with {names} recorded: {method}, {day}.", names=listed(_, [p.name for p in chosen]),
              method=method_label(_, method), day=_.date(day)),
            _("This year {contacted}/{total} NPC deputies and CPPCC members have been contacted ({percent}%).",
              contacted=cov.contacted, total=cov.total, percent=cov.percent),
        ])
        await ctx.reply(Reply(text, title=_("Contact recorded")))


CONTACT = ContactFlow()


# -- a reply counts as a contact -----------------------------------------------------------


async def record_reply_contact(ctx: Context, matter: Matter, via: str) -> None:
    """A reply to a matter sent now is a contact with its representative (§7, §11): a letter when given
    in chat or on paper, 'other' when in person; dated the local day, by whoever sends it (when staff),
    recorded once per matter and day however often it is called. Call it in the transaction that
    sends the reply. An unknown `via` is a bug: ValueError."""
    method = REPLY_METHODS.get(via)
    if method is None:
        raise ValueError(f"unknown reply channel {via!r}")
    person = ctx.person
    staff_id = person.id if person is not None and person.body is None else None
    await contacts.add(ctx.tx, matter.unit_id, matter.representative_id, method, ctx.today, staff_id, "", "reply", ctx.now,
                       source_ref=matter.number)
