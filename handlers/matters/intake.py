"""A representative submits a matter in a guided dialogue (SPEC §3, seed §3, §7, §12, §14).

kind → subject → text (several messages) → attachments → for referred cases the
complainant's name and contact → for an appeal, whether it disputes our own handling and
which department handled it → confirm. The dialogue is stored after every step, so it
survives a restart; /cancel or the cancel button ends it at any step. On confirm the
matter is registered with its number and due date in the same transaction as the receipt.

At the confirmation, 修改 (change) lists what can be changed: the kind, the subject, the content,
the attachments, the complainant and, for an appeal, whether it disputes our own handling. The
chosen step is asked again, with its present value and 不修改 (keep it) beside it; then only what
the change makes necessary (a kind that now needs a complainant asks for one), and the
confirmation again. New content replaces the old; a kind that no longer needs the complainant's
data drops it (nothing about a citizen is kept that the matter does not need).

The office registers a matter received by letter, at a meeting, on a visit or by phone in
the same dialogue, with two steps in front (/register): whom (a search by part of the
name or phone) → how it was received. Its data then holds `on_behalf_of` (the person id,
checked again on every use) and `via`; register.register_from_dialog reads them.
"""

from __future__ import annotations

import copy

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
from handlers.dialog_state import FileData, IntakeData, intake, restore
from handlers.labels import (KIND_LABELS, OFFICE_VIA, VIA_LABELS, attachments_line, complainant_line, kind_label,
                             raised_or_referred, via_label)
from handlers.dialogue import cancelled, open_dialog
from storage import people, units

MAX_NAME = 50
MAX_CONTACT = 100

# the steps of a representative's submission, in order; `_following` skips what does not apply
ORDER = ("unit", "kind", "subject", "text", "files", "complainant_name", "complainant_contact", "disputes", "department",
         "confirm")
# what the confirmation's 修改 offers: the choice, its label, and the step it asks again
CHANGES = (("unit", N_("Procuratorate"), "unit"), ("kind", N_("Kind"), "kind"), ("subject", N_("Subject"), "subject"), ("text", N_("Content"), "text"),
           ("files", N_("Attachments"), "files"), ("complainant", N_("Complainant"), "complainant_name"),
           ("disputes", N_("Whether it disputes our handling"), "disputes"))
KEPT = ("unit", "kind", "subject", "text", "complainant_name", "complainant_contact", "disputes", "department")  # the steps with 不修改


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

    def instead_of(self, dialog: Dialog, command: str) -> str | None:
        """/cancel (取消 typed) while a step is changed from the confirmation cancels the change, not the matter; at
        the list of what to change, it goes back to the confirmation (the only way that list offers)."""
        data = intake(dialog)
        if command != "cancel":
            return None
        if dialog.step == "change":
            return "back"
        return "undo" if data.get("editing") and "before" in data else None

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        if _on_behalf(dialog):
            return ctx._("registering a matter on a representative's behalf")
        return ctx._("submitting a matter")

    # -- prompts -----------------------------------------------------------------------

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        step, data = dialog.step, intake(dialog)
        cancel = Button(_("Cancel"), dialog_button(dialog, "cancel"))
        # asked again from the confirmation's 修改: the present value shown (`now`), and one way back, never the
        # Cancel that would drop the whole matter: 不修改 where the step has a value to keep, else 取消修改
        changing = step in KEPT and data.get("editing", False) and _filled(data, step)
        back = (self._way_back(ctx, dialog),)
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
            listed = [unit for unit in await units.listed(ctx.tx) if unit.id in ctx.person.units]
            choices = [Button(unit.name, dialog_button(dialog, callbacks.choice("unit", unit.id))) for unit in listed]
            ask = _("You are on the rosters of more than one procuratorate. Which is this matter for?")
            if changing:
                ask = _("The procuratorate now: {unit}", unit=next((u.name for u in listed if u.id == data["unit"]),
                                                                    "")) + "\n" + ask
            await ctx.reply(Reply(ask, title=_("Submit a matter"), buttons=(*rows(choices, 1), back)))
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
            if changing:
                text = _("The kind now: {kind}", kind=kind_label(_, data["kind"])) + "\n" + text
            await ctx.reply(Reply(text, title=title, buttons=(*rows(kinds, 3), back)))
        elif step == "subject":
            ask = _("Please send a short subject (at most {n} characters).", n=ctx.config.intake.max_subject_chars)
            if changing:
                ask = _("The subject now: {subject}", subject=data["subject"]) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=(back,)))
        elif step == "text":
            written = sum(len(part) for part in data["text"])
            if written:  # what they wrote before /submit, or before a step was shown again: kept, not asked twice
                ask = _("What you wrote is the content ({n} characters so far). Send more, or choose Done.", n=written)
            elif changing:
                ask = _("Please write the new content (at most {max} characters in all): it replaces what you wrote "
                        "before. You may send several messages; choose Done when you have finished.",
                        max=ctx.config.intake.max_text_chars)
            else:
                ask = _("Please write the content (at most {max} characters in all). You may send several messages; "
                        "choose Done when you have finished.", max=ctx.config.intake.max_text_chars)
            await ctx.reply(Reply(ask, buttons=self._next_or_cancel(ctx, dialog)))
        elif step == "files":
            limits = {"n": ctx.config.intake.max_attachments, "mb": ctx.config.intake.max_file_mb}
            if ctx.traits.documents:
                ask = _("You may send photos or documents (up to {n}, each at most {mb} MB). "
                        "Choose the option below when there are none or no more.", **limits)
            else:  # WeCom: a member can send an app pictures, not documents (90239)
                ask = _("You may send photos (up to {n}, each at most {mb} MB); a document can be photographed "
                        "page by page, or given to the office. Choose the option below when there are none or no more.",
                        **limits)
            if data["files"]:  # sent already (before /submit, or before 修改): they may be removed and sent again
                ask = _("Attachments so far: {n}.", n=len(data["files"])) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=self._next_or_cancel(ctx, dialog)))
        elif step == "complainant_name":
            ask = (_("Please send the name of the citizen who asked the representative to pass it on (the reporter, "
                     "accuser or appellant).") if _on_behalf(dialog) else _("Please send the complainant's name."))
            if changing:
                ask = _("The complainant's name now: {name}", name=data["complainant_name"]) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=(back,)))
        elif step == "complainant_contact":
            ask = _("Please send the complainant's contact (phone or address).")
            if changing:
                ask = _("The complainant's contact now: {contact}", contact=data["complainant_contact"]) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=(back,)))
        elif step == "disputes":
            yes = Button(_("Yes"), dialog_button(dialog, "yes"))
            no = Button(_("No"), dialog_button(dialog, "no"))
            ask = _("Does the appeal dispute how this procuratorate itself handled the case?")
            if changing:
                ask = _("Your answer now: {answer}", answer=_("Yes") if data["disputes"] else _("No")) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=((yes, no), back)))
        elif step == "department":
            departments = await people.departments(ctx.tx, await register.chosen_unit(ctx, intake(dialog)))
            buttons = [Button(name, dialog_button(dialog, callbacks.choice("dept", dept_id)))
                       for dept_id, name in departments]
            buttons.append(Button(_("Not sure"), dialog_button(dialog, "unknown")))
            ask = _("Which department handled it originally? It will not handle the appeal.")
            if changing:
                dept = await register.department_name(ctx.tx, data["department_id"]) or _("not sure")
                ask = _("The department now: {dept}", dept=dept) + "\n" + ask
            await ctx.reply(Reply(ask, buttons=(*rows(buttons, 1), back)))
        elif step == "confirm":
            submit = Button(_("Register") if _on_behalf(dialog) else _("Submit"), dialog_button(dialog, "submit"))
            change = Button(_("Change"), dialog_button(dialog, "change"))
            await ctx.reply(Reply(await self.summary(ctx, dialog), title=_("Please check"),
                                  buttons=((submit, change), (cancel,))))
        elif step == "change":
            offered = [Button(_(label), dialog_button(dialog, choice)) for choice, label, _step in CHANGES
                       if _changeable(data, choice)]
            to_summary = Button(_("Back to the summary"), dialog_button(dialog, "back"))
            await ctx.reply(Reply(_("What would you like to change?"), buttons=(*rows(offered, 3), (to_summary,))))

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
            lines.append(complainant_line(_, data["kind"], data["complainant_name"], data["complainant_contact"]))
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
        if choice == "undo" and data.get("editing") and "before" in data and step not in ("confirm", "change"):
            return await self._undo(ctx, dialog)  # before the permission: the way out must stay open
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
            if data.get("unit") != unit_id:  # the department an appeal disputes is the chosen unit's
                data.pop("department_id", None)
            data["unit"] = unit_id
            await register.chosen_unit(ctx, data)  # one of theirs
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "kind" and choice in KINDS:
            data["kind"] = choice
            if not is_referred(choice):  # nothing about a citizen is kept that the matter does not need
                data.pop("complainant_name", None)
                data.pop("complainant_contact", None)
            if choice != "appeal":
                data.pop("disputes", None)
                data.pop("department_id", None)
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "text" and choice == "next":
            if not data["text"] and data.get("editing"):
                raise UserError("Please write the new content first, or choose No change.")
            if not data["text"]:
                raise UserError("Please write the content first.")
            data.pop("old_text", None)
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "files" and choice == "next":
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "files" and choice == "clear" and data["files"]:
            data["files"] = []  # the stored files nothing names are removed by the retention sweep
            await ctx.answer()
            await ctx.reply(Reply(ctx._("All attachments removed.")))
            return await self._goto(ctx, dialog, "files")
        if step == "disputes" and choice in ("yes", "no"):
            data["disputes"] = choice == "yes"
            if not data["disputes"]:
                data.pop("department_id", None)
            # yes: which department, asked again when changing (the change may be of the department)
            return await self._goto(ctx, dialog, "department" if data["disputes"] else _following(data, step))
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
        if step == "confirm" and choice == "change":
            return await self._goto(ctx, dialog, "change")
        if step == "change" and choice == "back":
            return await self._goto(ctx, dialog, "confirm")
        changed = {c: target for c, _label, target in CHANGES}.get(choice)
        if step == "change" and changed is not None and _changeable(data, choice):
            # what 取消修改 brings back, whatever the change then asks for (a kind may ask for a complainant)
            data["before"] = copy.deepcopy({k: v for k, v in data.items() if k not in ("before", "editing", "old_text")})
            data["editing"] = True
            if changed == "text":  # new content replaces the old, which 不修改 brings back
                data["old_text"], data["text"] = data["text"], []
            return await self._goto(ctx, dialog, changed)
        if choice == "keep" and step in KEPT and data.get("editing") and _filled(data, step):
            if "old_text" in data:  # the content as it was, and the attachments (photos sent meanwhile go too)
                data["text"] = data.pop("old_text")
                data["files"] = list(data.get("before", {}).get("files", data["files"]))
            return await self._goto(ctx, dialog, _following(data, step))
        raise StaleActionError("This button is no longer valid.")

    async def _undo(self, ctx: Context, dialog: Dialog) -> None:
        """取消修改 (or /cancel while changing): the confirmation as it was before 修改. Only the person's own dialogue
        is touched, so no permission is needed; a confirmation that can no longer be shown (the unit it was for is no
        longer theirs, the office's right to register taken away) ends the dialogue instead: a way out always
        remains, as /cancel always was."""
        restore(dialog, intake(dialog)["before"])
        try:
            await self.summary(ctx, dialog)
            if _on_behalf(dialog):
                require(ctx.person, "register_on_behalf")
        except UserError:
            await cancelled(ctx, "cancel", N_("Cancelled. Nothing was submitted."))
            return
        await ctx.answer()
        await ctx.reply(Reply(ctx._("The change is cancelled; nothing was changed.")))
        await self._goto(ctx, dialog, "confirm")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        inc, data, limits = ctx.inc, intake(dialog), ctx.config.intake
        if _on_behalf(dialog):  # typed steps as pressed ones: roles change between steps
            require(ctx.person, "register_on_behalf")
        text = inc.text.strip()
        step = dialog.step
        if inc.attachments and step in ("text", "files"):
            await self._take_files(ctx, dialog)
            if text and step == "text":
                await self._take_text(ctx, dialog, text)
            return await ctx.save_dialog(dialog, new_step=False)
        if inc.attachments and step == "confirm":  # one more photo, found at the last moment: kept, and counted
            attachments.keep(ctx, data["files"])
            await ctx.save_dialog(dialog, new_step=False)
            await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(data["files"]))))
            return await self.prompt(ctx, dialog)
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
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "text":
            await self._take_text(ctx, dialog, text)
            return await ctx.save_dialog(dialog, new_step=False)
        if step == "complainant_name":
            if len(text) > MAX_NAME:
                raise UserError("The name is too long: at most {max} characters.", max=MAX_NAME)
            data["complainant_name"] = text
            return await self._goto(ctx, dialog, _following(data, step))
        if step == "complainant_contact":
            if len(text) > MAX_CONTACT:
                raise UserError("The contact is too long: at most {max} characters.", max=MAX_CONTACT)
            data["complainant_contact"] = text
            return await self._goto(ctx, dialog, _following(data, step))
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
        """Under the content and files steps and every answer to them: go on, (files sent: remove them all,) and the
        way back — Cancel (SPEC §3: at every step), or while changing from the confirmation 不修改 / 取消修改."""
        _, data = ctx._, intake(dialog)
        if dialog.step == "files":
            go_on = Button(_("No more files") if data["files"] else _("No files"), dialog_button(dialog, "next"))
            if data["files"]:
                return ((go_on, Button(_("Remove all attachments"), dialog_button(dialog, "clear"))),
                        (self._way_back(ctx, dialog),))
        else:
            go_on = Button(_("Done"), dialog_button(dialog, "next"))
        return ((go_on, self._way_back(ctx, dialog)),)

    def _way_back(self, ctx: Context, dialog: Dialog) -> Button:
        """Cancel; or, while a step is changed from the confirmation, 不修改 where it has a value to keep, else
        取消修改 (back to the confirmation as it was before 修改): a change never drops the whole matter."""
        data = intake(dialog)
        if not data.get("editing"):
            return Button(ctx._("Cancel"), dialog_button(dialog, "cancel"))
        if dialog.step in KEPT and _filled(data, dialog.step):
            return Button(ctx._("No change"), dialog_button(dialog, "keep"))
        return Button(ctx._("Cancel the change"), dialog_button(dialog, "undo"))

    async def _goto(self, ctx: Context, dialog: Dialog, step: str) -> None:
        await ctx.answer()
        dialog.step = step
        if step == "confirm":  # a change, if one was under way, is over
            data = intake(dialog)
            data.pop("editing", None)
            data.pop("before", None)
        await ctx.save_dialog(dialog)
        await self.prompt(ctx, dialog)


def _applies(data: IntakeData, step: str) -> bool:
    """Whether a step is asked for this matter: the complainant for referred cases, the disputed handling for an
    appeal, the original department when it disputes ours."""
    if step in ("complainant_name", "complainant_contact"):
        return is_referred(data["kind"])
    if step == "disputes":
        return data["kind"] == "appeal"
    if step == "department":
        return data["kind"] == "appeal" and bool(data.get("disputes"))
    if step == "unit":
        return "unit" in data
    return True


def _filled(data: IntakeData, step: str) -> bool:
    """Whether a step has its answer (the attachments always do: none is an answer)."""
    if step == "text":
        return bool(data["text"] or data.get("old_text"))
    if step == "department":
        return "department_id" in data
    return step == "files" or step in data


def _following(data: IntakeData, step: str) -> str:
    """The step after `step`: the next that applies; while changing from the confirmation, the next that still
    lacks its answer (the complainant's contact always follows their name: the two are changed together), else the
    confirmation."""
    changing = data.get("editing", False)
    for later in ORDER[ORDER.index(step) + 1:]:
        if not _applies(data, later):
            continue
        if changing and _filled(data, later) and not (step == "complainant_name" and later == "complainant_contact"):
            continue
        return later
    return "confirm"


def _changeable(data: IntakeData, choice: str) -> bool:
    """What the confirmation's 修改 offers for this matter."""
    if choice == "unit":  # asked of a representative on several units' rosters
        return "unit" in data
    if choice == "complainant":
        return is_referred(data["kind"])
    if choice == "disputes":
        return data["kind"] == "appeal"
    return True


def _on_behalf(dialog: Dialog) -> bool:
    """Whether the office is registering this matter for a representative."""
    return "on_behalf_of" in intake(dialog)


INTAKE = IntakeFlow()
assert set(KIND_LABELS) == set(KINDS) and set(REFERRED_KINDS) <= set(KINDS) and set(OFFICE_VIA) < set(VIA_LABELS)
