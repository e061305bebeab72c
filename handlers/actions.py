"""Staff actions on a matter from its card: a press starts the action, asking for what it needs
(a department, a note, the reply and its grounds) step by step, then carries it out through
`handlers.casework`, which checks permission, state and the clause's rule once more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import callbacks, domain
from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.router import dialog_button
from handlers import attachments
from handlers import casework as cases
from handlers import staff
from handlers.notices import OUTCOME_LABELS, VIA_LABELS
from storage import people
from storage.dialogs import Dialog
from storage.matters import StoredFile

MAX_TEXT = 4000


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # "text" or "choice"
    prompt: str
    files: bool = False


STEPS: dict[str, tuple[Step, ...]] = {
    "assign": (Step("department", "choice", N_("Assign {number} to which department?")),
               Step("urger", "choice", N_("Who in the office urges it (专人催办)?"))),
    "transfer": (Step("authority", "text", N_("Which authority is competent? Please send its name.")),
                 Step("explanation", "text", N_("Please write the explanation for the representative: why it is "
                                                "outside our jurisdiction, and where it goes."))),
    "cannot_meet": (Step("body", "text", N_("Please write the explanation for the representative: what cannot be "
                                            "done, patiently and clearly.")),
                    Step("grounds", "text", N_("Please state the grounds (理由/依据): the law, the rules or the facts."))),
    "progress": (Step("note", "text", N_("Please write the progress note.")),
                 Step("public", "choice", N_("Send this note to the representative as a progress notice?"))),
    "request_extension": (Step("reason", "text", N_("Please give the reason for the extension.")),),
    "decide_extension": (Step("decision", "choice", N_("Extend {number} (now due {day}) to:")),),
    "conclude": (Step("outcome", "choice", N_("Outcome class of {number}:")),),
    "draft_reply": (Step("via", "choice", N_("How is the reply given?")),
                    Step("body", "text", N_("Please write the reply: the outcome of the handling. You may attach "
                                            "files."), files=True),
                    Step("grounds", "text", N_("Please state the grounds (理由/依据): the law, the rules or the facts."))),
    "onsite": (Step("participants", "text", N_("Who took part? (discipline inspection, the office, the department)")),
               Step("findings", "text", N_("What was found, and what was decided?"))),
    "return_reply": (Step("note", "text", N_("What should be changed?")),),
    "leader_return": (Step("note", "text", N_("What should be changed?")),),
}
CONFIRMED = frozenset({"transfer", "cannot_meet", "draft_reply", "onsite"})
REQUIRES = {"unmark_major": "mark_major", "leader_return": "leader_approve", "files": "view"}


async def on_act(ctx: Context, parts: list[str]) -> None:
    """A press on a matter card's action button: re-checked, then done or started."""
    if len(parts) != 2 or parts[1] not in staff.ACTION_LABELS:
        raise StaleActionError("This button is no longer valid.")
    matter_id, action = callbacks.to_int(parts[0]), parts[1]
    await ctx.answer()
    if ctx.dialog is not None:
        raise UserError("Please finish or /cancel what you are doing first.")
    matter = await cases.load(ctx, matter_id, REQUIRES.get(action, action))
    if action in ("mark_major", "unmark_major"):
        if matter.major != (action == "unmark_major"):
            raise StaleActionError("This button is no longer valid.")
        await cases.mark_major(ctx, matter_id)
        return await staff.show(ctx, matter_id)
    if action in ("approve_reply", "leader_approve"):
        await cases.approve_reply(ctx, matter_id, as_leader=action == "leader_approve")
        return await _done(ctx, matter_id)
    if action == "files":
        return await staff.send_files(ctx, matter_id)
    if action in domain.TRANSITIONS:
        cases.require_state(matter, action)
    dialog = Dialog("act", "0", "", {"matter_id": matter_id, "action": action, "values": {}, "files": []})
    await ctx.save_dialog(dialog)
    await ACT.prompt(ctx, dialog)


async def _done(ctx: Context, matter_id: int) -> None:
    await ctx.reply(Reply(ctx._("Done.")))
    await staff.show(ctx, matter_id)


class ActionFlow:
    name = "act"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        action = staff.ACTION_LABELS.get(dialog.data.get("action", ""), N_("an action"))
        return ctx._("“{action}” on a matter", action=ctx._(action))

    def _step(self, dialog: Dialog) -> Step | None:
        steps = STEPS[dialog.data["action"]]
        index = int(dialog.step)
        return steps[index] if index < len(steps) else None

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        matter = await cases.load(ctx, dialog.data["matter_id"], "view")
        cancel = Button(_("Cancel"), dialog_button(dialog, "cancel"))
        step = self._step(dialog)
        if step is None:  # everything collected: show it for confirmation
            confirm = Button(_("Confirm"), dialog_button(dialog, "confirm"))
            values = dialog.data["values"]
            preview = "\n\n".join(str(values[s.name]) if s.kind == "text" else _(VIA_LABELS.get(values[s.name], ""))
                                  for s in STEPS[dialog.data["action"]])
            await ctx.reply(Reply(preview, title=_("Please check"), buttons=((confirm, cancel),)))
            return
        text = _(step.prompt, number=matter.number, day=_.date(matter.due_date))
        rows: list[tuple[Button, ...]] = []
        for value, label in await self._choices(ctx, dialog, step):
            rows.append((Button(label, dialog_button(dialog, value)),))
        await ctx.reply(Reply(text, buttons=(*rows, (cancel,))))

    async def _choices(self, ctx: Context, dialog: Dialog, step: Step) -> list[tuple[str, str]]:
        _ = ctx._
        if step.name == "department":
            return [(str(i), name) for i, name in await people.departments(ctx.tx)]
        if step.name == "urger":
            office = [await people.get(ctx.tx, i) for i in await people.with_role(ctx.tx, "office")]
            return [(str(p.id), p.name) for p in office if p is not None]
        if step.name == "public":
            return [("yes", _("Yes, send it")), ("no", _("No, internal only"))]
        if step.name == "outcome":
            return [(o, _(OUTCOME_LABELS[o])) for o in domain.OUTCOMES]
        if step.name == "via":
            return [(v, _(VIA_LABELS[v])) for v in domain.REPLY_VIA]
        if step.name == "decision":
            matter = await cases.load(ctx, dialog.data["matter_id"], "view")
            days = cases.extension_choices(ctx, matter)
            return [(d.strftime("d%Y%m%d"), _.date(d)) for d in days] + [("refuse", _("Refuse"))]
        return []

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        await ctx.answer()
        if choice == "cancel":
            await ctx.end_dialog()
            await ctx.reply(Reply(ctx._("Cancelled. Nothing was changed.")))
            return
        step = self._step(dialog)
        if step is None:
            if choice != "confirm":
                raise StaleActionError("This button is no longer valid.")
            return await self._execute(ctx, dialog)
        choices = dict(await self._choices(ctx, dialog, step))
        if step.kind != "choice" or choice not in choices:
            raise StaleActionError("This button is no longer valid.")
        if step.name == "department":  # §14, at once: not after the urger has been chosen too
            matter = await cases.load(ctx, dialog.data["matter_id"], "assign")
            cases.check_assignable(matter, int(choice), choices[choice])
        dialog.data["values"][step.name] = choice
        await self._next(ctx, dialog)

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        step = self._step(dialog)
        text = ctx.inc.text.strip()
        if step is not None and step.files and ctx.inc.attachments:
            attachments.keep(ctx, dialog.data["files"])
            await ctx.save_dialog(dialog, new_step=False)
            await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(dialog.data["files"]))))
            if not text:
                return
        if step is None or step.kind != "text" or not text:
            await ctx.reply(Reply(ctx._("Please use the buttons.") if step is None or step.kind == "choice"
                                  else ctx._("Please answer in text.")))
            return await self.prompt(ctx, dialog)
        if len(text) > MAX_TEXT:
            raise UserError("The text is too long: at most {max} characters.", max=MAX_TEXT)
        if step.name == "grounds":  # §14, checked before the preview, so the writer can add to it at once
            cases.check_reply(ctx, dialog.data["values"]["body"], text)
        dialog.data["values"][step.name] = text
        await self._next(ctx, dialog)

    async def _next(self, ctx: Context, dialog: Dialog) -> None:
        dialog.step = str(int(dialog.step) + 1)
        if self._step(dialog) is None and dialog.data["action"] not in CONFIRMED:
            return await self._execute(ctx, dialog)
        await ctx.save_dialog(dialog)
        await self.prompt(ctx, dialog)

    async def _execute(self, ctx: Context, dialog: Dialog) -> None:
        action, matter_id = dialog.data["action"], int(dialog.data["matter_id"])
        v: dict[str, Any] = dialog.data["values"]
        await ctx.end_dialog()
        if action == "assign":
            await cases.assign(ctx, matter_id, int(v["department"]), int(v["urger"]))
        elif action == "transfer":
            await cases.transfer(ctx, matter_id, v["authority"], v["explanation"])
        elif action == "cannot_meet":
            await cases.cannot_meet(ctx, matter_id, v["body"], v["grounds"])
        elif action == "progress":
            await cases.progress(ctx, matter_id, v["note"], v["public"] == "yes")
        elif action == "request_extension":
            await cases.request_extension(ctx, matter_id, v["reason"])
        elif action == "decide_extension":
            decision = v["decision"]
            new_due = None if decision == "refuse" else date(int(decision[1:5]), int(decision[5:7]), int(decision[7:9]))
            await cases.decide_extension(ctx, matter_id, new_due)
        elif action == "conclude":
            await cases.conclude(ctx, matter_id, v["outcome"])
        elif action == "draft_reply":
            files = [StoredFile(f["kind"], f["name"], int(f["size"]), f["mime"], f["sha256"], f["path"])
                     for f in dialog.data["files"]]
            await cases.draft_reply(ctx, matter_id, v["body"], v["grounds"], v["via"], files)
        elif action == "onsite":
            await cases.onsite(ctx, matter_id, v["participants"], v["findings"])
        elif action in ("return_reply", "leader_return"):
            await cases.return_reply(ctx, matter_id, v["note"], as_leader=action == "leader_return")
        await _done(ctx, matter_id)


ACT = ActionFlow()
