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

This module takes what is sent; what each step shows is intake_screens.py, the order of the steps
and what may be changed intake_steps.py.
"""

from __future__ import annotations

import copy

from bot import callbacks
from bot.context import Context
from bot.domain import KINDS, REFERRED_KINDS, is_referred
from bot.errors import DialogOpenError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog
from handlers import picker
from handlers.matters import attachments, intake_screens, register
from handlers.matters.intake_steps import CHANGES, KEPT, changeable, filled, following, on_behalf
from handlers.dialog_state import FileData, IntakeData, intake, restore
from handlers.labels import KIND_LABELS, OFFICE_VIA, VIA_LABELS
from handlers.dialogue import cancelled, open_dialog
from storage import people

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
        if on_behalf(dialog):
            return ctx._("registering a matter on a representative's behalf")
        return ctx._("submitting a matter")

    # -- prompts -----------------------------------------------------------------------

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        await intake_screens.show(ctx, dialog)

    # -- input -------------------------------------------------------------------------

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancelled(ctx, choice, N_("Cancelled. Nothing was submitted.")):
            return
        step, data = dialog.step, intake(dialog)
        if choice == "undo" and data.get("editing") and "before" in data and step not in ("confirm", "change"):
            return await self._undo(ctx, dialog)  # before the permission: the way out must stay open
        if on_behalf(dialog):
            require(ctx.person, "register_on_behalf")
        if step == "whom" and picker.is_choice(choice) and on_behalf(dialog):
            rep = await picker.chosen(ctx, choice)
            data["on_behalf_of"] = rep.id
            return await self._goto(ctx, dialog, "via")
        if step == "via" and choice in OFFICE_VIA and on_behalf(dialog):
            data["via"] = choice
            return await self._goto(ctx, dialog, "kind")
        unit_id = callbacks.chosen(choice, "unit")
        if step == "unit" and unit_id is not None and not on_behalf(dialog):
            if data.get("unit") != unit_id:  # the department an appeal disputes is the chosen unit's
                data.pop("department_id", None)
            data["unit"] = unit_id
            await register.chosen_unit(ctx, data)  # one of theirs
            return await self._goto(ctx, dialog, following(data, step))
        if step == "kind" and choice in KINDS:
            data["kind"] = choice
            if not is_referred(choice):  # nothing about a citizen is kept that the matter does not need
                data.pop("complainant_name", None)
                data.pop("complainant_contact", None)
            if choice != "appeal":
                data.pop("disputes", None)
                data.pop("department_id", None)
            return await self._goto(ctx, dialog, following(data, step))
        if step == "text" and choice == "next":
            if not data["text"] and data.get("editing"):
                raise UserError("Please write the new content first, or choose No change.")
            if not data["text"]:
                raise UserError("Please write the content first.")
            data.pop("old_text", None)
            return await self._goto(ctx, dialog, following(data, step))
        if step == "files" and choice == "next":
            return await self._goto(ctx, dialog, following(data, step))
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
            return await self._goto(ctx, dialog, "department" if data["disputes"] else following(data, step))
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
        if step == "change" and changed is not None and changeable(data, choice):
            # what 取消修改 brings back, whatever the change then asks for (a kind may ask for a complainant)
            data["before"] = copy.deepcopy({k: v for k, v in data.items() if k not in ("before", "editing", "old_text")})
            data["editing"] = True
            if changed == "text":  # new content replaces the old, which 不修改 brings back
                data["old_text"], data["text"] = data["text"], []
            return await self._goto(ctx, dialog, changed)
        if choice == "keep" and step in KEPT and data.get("editing") and filled(data, step):
            if "old_text" in data:  # the content as it was, and the attachments (photos sent meanwhile go too)
                data["text"] = data.pop("old_text")
                data["files"] = list(data.get("before", {}).get("files", data["files"]))
            return await self._goto(ctx, dialog, following(data, step))
        raise StaleActionError("This button is no longer valid.")

    async def _undo(self, ctx: Context, dialog: Dialog) -> None:
        """取消修改 (or /cancel while changing): the confirmation as it was before 修改. Only the person's own dialogue
        is touched, so no permission is needed; a confirmation that can no longer be shown (the unit it was for is no
        longer theirs, the office's right to register taken away) ends the dialogue instead: a way out always
        remains, as /cancel always was."""
        restore(dialog, intake(dialog)["before"])
        try:
            await intake_screens.summary(ctx, dialog)
            if on_behalf(dialog):
                require(ctx.person, "register_on_behalf")
        except UserError:
            await cancelled(ctx, "cancel", N_("Cancelled. Nothing was submitted."))
            return
        await ctx.answer()
        await ctx.reply(Reply(ctx._("The change is cancelled; nothing was changed.")))
        await self._goto(ctx, dialog, "confirm")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        inc, data, limits = ctx.inc, intake(dialog), ctx.config.intake
        if on_behalf(dialog):  # typed steps as pressed ones: roles change between steps
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
        if step == "whom" and on_behalf(dialog):
            return await self._search(ctx, dialog, text)
        if step == "subject":
            if len(text) > limits.max_subject_chars:
                raise UserError("The subject is too long: {n} characters, at most {max}.", n=len(text),
                                max=limits.max_subject_chars)
            data["subject"] = " ".join(text.split())
            return await self._goto(ctx, dialog, following(data, step))
        if step == "text":
            await self._take_text(ctx, dialog, text)
            return await ctx.save_dialog(dialog, new_step=False)
        if step == "complainant_name":
            if len(text) > MAX_NAME:
                raise UserError("The name is too long: at most {max} characters.", max=MAX_NAME)
            data["complainant_name"] = text
            return await self._goto(ctx, dialog, following(data, step))
        if step == "complainant_contact":
            if len(text) > MAX_CONTACT:
                raise UserError("The contact is too long: at most {max} characters.", max=MAX_CONTACT)
            data["complainant_contact"] = text
            return await self._goto(ctx, dialog, following(data, step))
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
                              buttons=intake_screens.next_or_cancel(ctx, dialog)))

    async def _take_files(self, ctx: Context, dialog: Dialog) -> None:
        files: list[FileData] = intake(dialog)["files"]
        attachments.keep(ctx, files)
        await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(files)),
                              buttons=intake_screens.next_or_cancel(ctx, dialog)))

    async def _goto(self, ctx: Context, dialog: Dialog, step: str) -> None:
        await ctx.answer()
        dialog.step = step
        if step == "confirm":  # a change, if one was under way, is over
            data = intake(dialog)
            data.pop("editing", None)
            data.pop("before", None)
        await ctx.save_dialog(dialog)
        await self.prompt(ctx, dialog)


INTAKE = IntakeFlow()
assert set(KIND_LABELS) == set(KINDS) and set(REFERRED_KINDS) <= set(KINDS) and set(OFFICE_VIA) < set(VIA_LABELS)
