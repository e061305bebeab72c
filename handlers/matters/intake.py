"""A representative submits a matter in a guided dialogue (SPEC §3, seed §3, §7, §12, §14).

kind → subject → text (several messages) → attachments → for referred cases the
complainant's name and contact → for an appeal, whether it disputes our own handling and
which department handled it → confirm. The dialogue is stored after every step, so it
survives a restart; /cancel or the cancel button ends it at any step. On confirm the
matter is registered with its number and due date in the same transaction as the receipt.

The office registers a matter received by letter, at a meeting, on a visit or by phone in
the same dialogue, with two steps in front (/register): whom (a search by part of the
name or phone) → how it was received. Its data then holds `on_behalf_of` (the person id,
checked again on every use) and `via`; register.register_from_dialog reads them.
"""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.domain import KINDS, REFERRED_KINDS, is_referred
from bot.errors import DialogOpenError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Button, Reply, rows
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog
from handlers.matters import attachments, register
from handlers import picker
from handlers.dialog_state import FileData, IntakeData, intake
from handlers.labels import KIND_LABELS, OFFICE_VIA, VIA_LABELS, attachments_line, kind_label, raised_or_referred, via_label
from handlers.dialogue import cancelled, open_dialog
from storage import people, units

MAX_NAME = 50
MAX_CONTACT = 100


async def begin(ctx: Context, text: list[str] | None = None, files: list[FileData] | None = None) -> None:
    """/submit; `text` and `files`: what the representative sent before, kept as the content and the attachments
    (handlers/matters/offer.py)."""
    person = ctx.person
    if person is None or not person.is_representative:
        raise PermissionDeniedError("Only NPC deputies and CPPCC members can submit matters here.")
    first = "unit" if len(person.units) > 1 else "kind"  # on several units' rosters: which procuratorate it is for
    data = IntakeData(text=list(text or []), files=list(files or []))
    await open_dialog(ctx, INTAKE, Dialog("intake", first, "", dict(data)))



async def begin_on_behalf(ctx: Context) -> None:
    """/register: the office registers a matter it received another way, for a representative."""
    require(ctx.person, "register_on_behalf")
    await open_dialog(ctx, INTAKE, Dialog("intake", "whom", "",
                                          dict(IntakeData(on_behalf_of=None, via=None, text=[], files=[]))))


async def begin_for(ctx: Context, person_id: int, via: str) -> None:
    """The same registration with whom and how already known (an attendee of an event): it starts at the kind."""
    require(ctx.person, "register_on_behalf")
    rep = await picker.representative(ctx, person_id)
    if via not in OFFICE_VIA:
        raise ValueError(f"unknown channel {via!r}")
    dialog = Dialog("intake", "kind", "", dict(IntakeData(on_behalf_of=rep.id, via=via, text=[], files=[])))
    await ctx.save_dialog(dialog)
    await INTAKE.prompt(ctx, dialog)


async def on_register_button(ctx: Context, parts: list[str]) -> None:
    """The office's menu button for /register."""
    if parts != ["start"]:
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if ctx.dialog is not None:
        raise DialogOpenError()
    await begin_on_behalf(ctx)


class IntakeFlow:
    name = "intake"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        if _on_behalf(dialog):
            return ctx._("registering a matter on a representative's behalf")
        return ctx._("submitting a matter")

    # -- prompts -----------------------------------------------------------------------

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        step = dialog.step
        cancel = Button(_("Cancel"), dialog_button(dialog, "cancel"))
        if step == "whom":
            await ctx.reply(Reply(_("Whose matter is it? Please send part of the representative's name, or their "
                                    "phone number."), title=_("Register on behalf"), buttons=((cancel,),)))
        elif step == "via":
            rep = await picker.representative(ctx, intake(dialog)["on_behalf_of"])
            ways = [Button(via_label(_, v), dialog_button(dialog, v)) for v in OFFICE_VIA]
            await ctx.reply(Reply(_("How was {name}'s matter received?", name=rep.name),
                                  buttons=(*rows(ways, 3), (cancel,))))
        elif step == "unit":
            assert ctx.person is not None
            choices = [Button(unit.name, dialog_button(dialog, callbacks.choice("unit", unit.id)))
                       for unit in await units.listed(ctx.tx) if unit.id in ctx.person.units]
            await ctx.reply(Reply(_("You are on the rosters of more than one procuratorate. Which is this matter for?"),
                                  title=_("Submit a matter"), buttons=(*rows(choices, 1), (cancel,))))
        elif step == "kind":
            kinds = [Button(kind_label(_, k), dialog_button(dialog, k)) for k in KINDS]
            if _on_behalf(dialog):
                rep = await picker.representative(ctx, intake(dialog)["on_behalf_of"])
                title = _("Register on behalf of {name}", name=rep.name)
                text = _("What did {name} raise? A suggestion, criticism or opinion, or a report, accusation or "
                         "appeal that a citizen asked them to pass on.", name=rep.name)
            else:
                title = _("Submit a matter")
                text = _("What would you like to submit? A suggestion, criticism or opinion of your own, or a report, "
                         "accusation or appeal that a citizen has asked you to pass on.")
            await ctx.reply(Reply(text, title=title, buttons=(*rows(kinds, 3), (cancel,))))
        elif step == "subject":
            await ctx.reply(Reply(_("Please send a short subject (at most {n} characters).",
                                    n=ctx.config.intake.max_subject_chars), buttons=((cancel,),)))
        elif step == "text":
            done = Button(_("Done"), dialog_button(dialog, "next"))
            written = sum(len(part) for part in intake(dialog)["text"])
            if written:  # what they wrote before /submit, or before a step was shown again: kept, not asked twice
                ask = _("What you wrote is the content ({n} characters so far). Send more, or choose Done.", n=written)
            else:
                ask = _("Please write the content (at most {max} characters in all). You may send several messages; "
                        "choose Done when you have finished.", max=ctx.config.intake.max_text_chars)
            await ctx.reply(Reply(ask, buttons=((done, cancel),)))
        elif step == "files":
            done = Button(_("No more files") if intake(dialog)["files"] else _("No files"), dialog_button(dialog, "next"))
            limits = {"n": ctx.config.intake.max_attachments, "mb": ctx.config.intake.max_file_mb}
            if ctx.traits.documents:
                ask = _("You may send photos or documents (up to {n}, each at most {mb} MB). "
                        "Choose the option below when there are none or no more.", **limits)
            else:  # WeCom: a member can send an app pictures, not documents (90239)
                ask = _("You may send photos (up to {n}, each at most {mb} MB); a document can be photographed "
                        "page by page, or given to the office. Choose the option below when there are none or no more.",
                        **limits)
            await ctx.reply(Reply(ask, buttons=((done, cancel),)))
        elif step == "complainant_name":
            await ctx.reply(Reply(_("Please send the complainant's name."), buttons=((cancel,),)))
        elif step == "complainant_contact":
            await ctx.reply(Reply(_("Please send the complainant's contact (phone or address)."),
                                  buttons=((cancel,),)))
        elif step == "disputes":
            yes = Button(_("Yes"), dialog_button(dialog, "yes"))
            no = Button(_("No"), dialog_button(dialog, "no"))
            await ctx.reply(Reply(_("Does the appeal dispute how this procuratorate itself handled the case?"),
                                  buttons=((yes, no), (cancel,))))
        elif step == "department":
            departments = await people.departments(ctx.tx, await register.chosen_unit(ctx, intake(dialog)))
            buttons = [Button(name, dialog_button(dialog, callbacks.choice("dept", dept_id)))
                       for dept_id, name in departments]
            buttons.append(Button(_("Not sure"), dialog_button(dialog, "unknown")))
            await ctx.reply(Reply(_("Which department handled it originally? It will not handle the appeal."),
                                  buttons=(*rows(buttons, 1), (cancel,))))
        elif step == "confirm":
            submit = Button(_("Register") if _on_behalf(dialog) else _("Submit"), dialog_button(dialog, "submit"))
            await ctx.reply(Reply(await self.summary(ctx, dialog), title=_("Please check"),
                                  buttons=((submit, cancel),)))

    async def summary(self, ctx: Context, dialog: Dialog) -> str:
        _, data = ctx._, intake(dialog)
        lines = []
        if _on_behalf(dialog):
            rep = await picker.representative(ctx, data["on_behalf_of"])
            lines += [raised_or_referred(_, data["kind"], N_("Raised by: {name}"), N_("Referred by: {name}"),
                                         name=picker.label(_, rep)),
                      _("Received: {via}", via=via_label(_, data["via"] or ""))]
        if "unit" in data:
            lines.append(_("To: {unit}", unit=(await units.get(ctx.tx, (await register.chosen_unit(ctx, data)).unit)).name))
        lines += [
            _("Kind: {kind}", kind=kind_label(_, data["kind"])),
            _("Subject: {subject}", subject=data["subject"]),
            _("Content:"),
            "\n".join(data["text"]),
            attachments_line(_, len(data["files"])),
        ]
        if is_referred(data["kind"]):
            lines += [_("Complainant: {name}, {contact}", name=data["complainant_name"],
                        contact=data["complainant_contact"])]
        if data["kind"] == "appeal":
            if data.get("disputes"):
                dept = await register.department_name(ctx.tx, data.get("department_id")) or _("not sure")
                lines.append(_("Disputes this procuratorate's handling; handled originally by: {dept}", dept=dept))
            else:
                lines.append(_("Does not dispute this procuratorate's handling"))
        return "\n".join(lines)

    # -- input -------------------------------------------------------------------------

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancelled(ctx, choice, N_("Cancelled. Nothing was submitted.")):
            return
        step, data = dialog.step, intake(dialog)
        if _on_behalf(dialog):
            require(ctx.person, "register_on_behalf")
        if step == "whom" and picker.is_choice(choice) and _on_behalf(dialog):
            rep = await picker.chosen(ctx, choice)
            data["on_behalf_of"] = rep.id
            return await self._goto(ctx, dialog, "via")
        if step == "via" and choice in OFFICE_VIA and _on_behalf(dialog):
            data["via"] = choice
            return await self._goto(ctx, dialog, "kind")
        unit_id = callbacks.chosen(choice, "unit")
        if step == "unit" and unit_id is not None and not _on_behalf(dialog):
            data["unit"] = unit_id
            await register.chosen_unit(ctx, data)  # one of theirs
            return await self._goto(ctx, dialog, "kind")
        if step == "kind" and choice in KINDS:
            data["kind"] = choice
            return await self._goto(ctx, dialog, "subject")
        if step == "text" and choice == "next":
            if not data["text"]:
                raise UserError("Please write the content first.")
            return await self._goto(ctx, dialog, "files")
        if step == "files" and choice == "next":
            return await self._goto(ctx, dialog, "complainant_name" if is_referred(data["kind"]) else "confirm")
        if step == "disputes" and choice in ("yes", "no"):
            data["disputes"] = choice == "yes"
            return await self._goto(ctx, dialog, "department" if data["disputes"] else "confirm")
        dept_id = callbacks.chosen(choice, "dept")  # None for "unknown"
        if step == "department" and (choice == "unknown" or dept_id is not None):
            # the list shown, as it stands now
            if dept_id is not None and dept_id not in dict(await people.departments(ctx.tx, await register.chosen_unit(ctx, data))):
                raise StaleActionError("This button is no longer valid.")
            data["department_id"] = dept_id
            return await self._goto(ctx, dialog, "confirm")
        if step == "confirm" and choice == "submit":
            await ctx.answer()
            return await register.register_from_dialog(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        inc, data, limits = ctx.inc, intake(dialog), ctx.config.intake
        text = inc.text.strip()
        step = dialog.step
        if inc.attachments and step in ("text", "files"):
            await self._take_files(ctx, dialog)
            if text and step == "text":
                await self._take_text(ctx, dialog, text)
            return await ctx.save_dialog(dialog, new_step=False)
        if inc.attachments or inc.contact is not None or not text:
            await ctx.reply(Reply(ctx._("Please answer in text.") if step != "files" else
                                  ctx._("Please send a photo or a document, or choose the option below.") if ctx.traits.documents
                                  else ctx._("Please send a photo, or choose the option below.")))
            return await self.prompt(ctx, dialog)
        if step == "whom" and _on_behalf(dialog):
            return await self._search(ctx, dialog, text)
        if step == "subject":
            if len(text) > limits.max_subject_chars:
                raise UserError("The subject is too long: {n} characters, at most {max}.", n=len(text),
                                max=limits.max_subject_chars)
            data["subject"] = " ".join(text.split())
            return await self._goto(ctx, dialog, "text")
        if step == "text":
            await self._take_text(ctx, dialog, text)
            return await ctx.save_dialog(dialog, new_step=False)
        if step == "complainant_name":
            if len(text) > MAX_NAME:
                raise UserError("The name is too long: at most {max} characters.", max=MAX_NAME)
            data["complainant_name"] = text
            return await self._goto(ctx, dialog, "complainant_contact")
        if step == "complainant_contact":
            if len(text) > MAX_CONTACT:
                raise UserError("The contact is too long: at most {max} characters.", max=MAX_CONTACT)
            data["complainant_contact"] = text
            return await self._goto(ctx, dialog, "disputes" if data["kind"] == "appeal" else "confirm")
        await ctx.reply(Reply(ctx._("Please choose one of the options.")))
        await self.prompt(ctx, dialog)

    async def _search(self, ctx: Context, dialog: Dialog, text: str) -> None:
        """Offer the representatives whose name or phone contains the text, as buttons."""
        require(ctx.person, "register_on_behalf")
        await picker.offer(ctx, dialog, text, last=[Button(ctx._("Cancel"), dialog_button(dialog, "cancel"))])

    async def _take_text(self, ctx: Context, dialog: Dialog, text: str) -> None:
        parts = intake(dialog)["text"]
        total = sum(len(p) for p in parts) + len(text)
        if total > ctx.config.intake.max_text_chars:
            kept = total - len(text)
            raise UserError("The content may have at most {max} characters in all: with this message it would have "
                            "{n}. This message was not added; the {kept} characters received before are kept. Please "
                            "send it shorter (at most {room} more characters), or choose Done.",
                            max=ctx.config.intake.max_text_chars, n=total, kept=kept,
                            room=ctx.config.intake.max_text_chars - kept)
        parts.append(text)
        await ctx.reply(Reply(ctx._("Received ({n} characters so far). Send more, or choose Done.", n=total),
                              buttons=self._next_or_cancel(ctx, dialog)))

    async def _take_files(self, ctx: Context, dialog: Dialog) -> None:
        files: list[FileData] = intake(dialog)["files"]
        attachments.keep(ctx, files)
        await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(files)),
                              buttons=self._next_or_cancel(ctx, dialog)))

    def _next_or_cancel(self, ctx: Context, dialog: Dialog) -> tuple[tuple[Button, ...], ...]:
        """Under every answer of the content and files steps: go on, or cancel (SPEC §3: at every step)."""
        _ = ctx._
        label = _("No more files") if dialog.step == "files" else _("Done")
        return ((Button(label, dialog_button(dialog, "next")), Button(_("Cancel"), dialog_button(dialog, "cancel"))),)

    async def _goto(self, ctx: Context, dialog: Dialog, step: str) -> None:
        await ctx.answer()
        dialog.step = step
        await ctx.save_dialog(dialog)
        await self.prompt(ctx, dialog)


def _on_behalf(dialog: Dialog) -> bool:
    """Whether the office is registering this matter for a representative."""
    return "on_behalf_of" in intake(dialog)


INTAKE = IntakeFlow()
assert set(KIND_LABELS) == set(KINDS) and set(REFERRED_KINDS) <= set(KINDS) and set(OFFICE_VIA) < set(VIA_LABELS)
