"""Staff actions on a matter from its card: a press starts the action, asking for what it needs
(a department, a note, the reply and its grounds) step by step, then carries it out through
its use case, which checks permission, state and the clause's rule once more. What each action asks for
and the rule of each value are in `action_steps.py`; this module is the dialogue.

What cannot succeed is said as early as it is known: an action the matter's state (or a request
already waiting) rules out is refused on the press, before anything is asked for; each value is
checked as it is given, by the same rule the action applies, and only that value is asked for again;
a confirm screen shows what will be done, with a button to change each value; a reply's files are
taken at any of its steps. If the confirm still fails (someone else acted on the matter meanwhile),
the dialogue ends with the reason, so that nobody is left on a screen that cannot succeed.
"""

from __future__ import annotations

import logging

from bot import callbacks
from bot.context import Context
from bot.errors import DialogOpenError, NotFoundError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_
from bot.messages import Button, Reply, rows
from bot.router import dialog_button
from bot.model import Dialog
from bot.matter.model import Matter
from handlers.matters import assignment, attachments, extensions
from handlers.matters import casework as cases
from handlers.matters import replies
from handlers.matters import screens
from handlers.matters.action_steps import CONFIRMED, REQUIRES, STEPS, WITH_FILES, Step, carry_out, check, choices
from handlers.dialog_state import ActionData
from handlers.dialog_state import action as held
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from storage import casework, people

log = logging.getLogger(__name__)


async def on_act(ctx: Context, parts: list[str]) -> None:
    """A press on a matter card's action button: re-checked, then done or started."""
    if len(parts) != 2 or parts[1] not in screens.ACTION_LABELS:
        raise StaleActionError("This button is no longer valid.")
    matter_id, action = callbacks.to_int(parts[0]), parts[1]
    await ctx.answer()
    if ctx.dialog is not None:
        raise DialogOpenError()
    matter = await cases.load(ctx, matter_id, REQUIRES.get(action, action))
    if action in ("mark_major", "unmark_major"):
        if matter.major != (action == "unmark_major"):
            raise StaleActionError("This button is no longer valid.")
        await cases.mark_major(ctx, matter_id)
        return await screens.show(ctx, matter_id)
    if action in ("approve_reply", "leader_approve"):
        await replies.approve_reply(ctx, matter_id, as_leader=action == "leader_approve")
        return await _done(ctx, matter_id, action)
    if action == "files":
        return await screens.send_files(ctx, matter_id)
    await cases.ready(ctx, matter, action)  # refused now, not after the person has written what it needs
    data = ActionData(matter_id=matter_id, action=action, values={}, files=[], number=matter.number)
    if action == "record_rating":  # the form rates the reply it was sent with, whatever comes after
        data["reply_id"] = (await cases.paper_reply_to_rate(ctx, matter)).id
    await open_dialog(ctx, ACT, Dialog("act", "0", "", dict(data)))


async def _done(ctx: Context, matter_id: int, action: str) -> None:
    """Said once an action is carried out — where the matter goes next, when it goes to someone — then its card."""
    _ = ctx._
    if action == "draft_reply":
        said = _("The reply has gone to the office for approval; you will be told when it is sent or returned.")
    elif action in ("approve_reply", "leader_approve"):
        waiting = await casework.open_reply(ctx.tx, matter_id)  # still open: a leader approves it too (§14)
        said = (_("Approved; it now waits for a leader's approval.") if waiting is not None
                else _("Approved and sent to the representative."))
    elif action == "cannot_meet":
        waiting = await casework.open_reply(ctx.tx, matter_id)
        said = (_("The explanation now waits for a leader's approval.") if waiting is not None
                else _("The explanation was sent to the representative."))
    else:
        said = _("Done.")
    await ctx.reply(Reply(said))
    await screens.show(ctx, matter_id)


class ActionFlow:
    name = "act"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        data = held(dialog)
        action = ctx._(screens.ACTION_LABELS.get(data["action"], N_("an action")))
        if "number" in data:
            return ctx._("“{action}” on {number}", action=action, number=data["number"])
        return ctx._("“{action}” on a matter", action=action)

    def _steps(self, dialog: Dialog) -> tuple[Step, ...]:
        return STEPS[held(dialog)["action"]]

    def _step(self, dialog: Dialog) -> Step | None:
        steps = self._steps(dialog)
        index = int(dialog.step)
        return steps[index] if index < len(steps) else None

    async def _matter(self, ctx: Context, dialog: Dialog) -> Matter:
        """The matter, if this person may still take the action on it; else the dialogue ends with the reason."""
        action = held(dialog)["action"]
        try:
            return await cases.load(ctx, held(dialog)["matter_id"], REQUIRES.get(action, action))
        except (PermissionDeniedError, NotFoundError) as refusal:
            refusal.closes_dialog = True  # e.g. the matter was re-assigned away from this department meanwhile
            raise

    # -- screens -----------------------------------------------------------------------

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        matter = await self._matter(ctx, dialog)
        step = self._step(dialog)
        if step is None:
            return await self._confirm_screen(ctx, dialog, matter)
        limits = ctx.config.casework
        department = await people.department_name(ctx.tx, matter.department_id or 0, of_unit=matter.unit_id) or ""
        text = _(step.prompt, number=matter.number, day=_.date(matter.due_date), department=department,
                 min_outcome=limits.min_outcome_chars, min_grounds=limits.min_grounds_chars, min_reply=limits.min_reply_chars,
                 min_explanation=assignment.MIN_TRANSFER_EXPLANATION, min_reason=extensions.MIN_EXTENSION_REASON)
        if step.kind == "text" and step.name in held(dialog)["values"]:  # being changed: what it says now, to copy
            text += "\n\n" + _("Now:") + "\n" + str(held(dialog)["values"][step.name])
        rows: list[tuple[Button, ...]] = [(Button(label, dialog_button(dialog, value)),)
                                          for value, label in await choices(ctx, held(dialog)["action"], step, matter)]
        if held(dialog)["action"] in CONFIRMED:  # what was written before can be changed from here too
            rows += [(b,) for b in self._change_buttons(ctx, dialog, only_text=True)]
        rows.append((cancel_button(ctx, dialog),))
        await ctx.reply(Reply(text, buttons=tuple(rows)))

    async def _confirm_screen(self, ctx: Context, dialog: Dialog, matter: Matter) -> None:
        _ = ctx._
        action, values = held(dialog)["action"], held(dialog)["values"]
        lines = [f"{_(screens.ACTION_LABELS[action])} · {matter.number}"]
        for step in self._steps(dialog):
            if step.kind == "text":
                lines += ["", _("{label}:", label=_(step.label)), str(values[step.name]) or _("(none)")]
            else:
                shown = dict(await choices(ctx, held(dialog)["action"], step, matter)).get(values[step.name], "")
                lines.append(_("{label}: {value}", label=_(step.label), value=shown))
        if action in WITH_FILES:
            names = [str(f["name"]) for f in held(dialog)["files"]]
            lines += ["", _("Attachments: {names}", names="、".join(names)) if names else _("No attachments")]
        confirm = Button(_("Confirm"), dialog_button(dialog, "confirm"))
        cancel = cancel_button(ctx, dialog)
        changes = self._change_buttons(ctx, dialog, only_text=False)
        await ctx.reply(Reply("\n".join(lines), title=_("Please check"),
                              buttons=((confirm, cancel), *rows(changes, 2))))

    def _change_buttons(self, ctx: Context, dialog: Dialog, *, only_text: bool) -> list[Button]:
        values = held(dialog)["values"]
        return [Button(ctx._("Change: {label}", label=ctx._(s.label)),
                       dialog_button(dialog, callbacks.choice("change", i)))
                for i, s in enumerate(self._steps(dialog))
                if s.name in values and i != int(dialog.step) and (s.kind == "text" or not only_text)]

    # -- input -------------------------------------------------------------------------

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice):
            return
        steps = self._steps(dialog)
        if (change := callbacks.chosen(choice, "change", below=len(steps))) is not None:
            return await goto(ctx, self, dialog, str(change))
        step = self._step(dialog)
        if step is None:
            if choice != "confirm":
                raise StaleActionError("This button is no longer valid.")
            return await self._confirm(ctx, dialog)
        matter = await self._matter(ctx, dialog)
        offered = dict(await choices(ctx, held(dialog)["action"], step, matter))
        if choice not in offered:
            raise StaleActionError("This button is no longer valid.")
        # a text step's button writes nothing (no comments on the form), or a unit's name (the competent authority)
        value = choice if step.kind == "choice" else offered[choice] if step.name == "authority" else ""
        await self._take(ctx, dialog, matter, step, value)

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        step = self._step(dialog)
        text = ctx.inc.text.strip()
        if ctx.inc.attachments and held(dialog)["action"] in WITH_FILES:
            attachments.keep(ctx, held(dialog)["files"])
            await ctx.save_dialog(dialog, new_step=False)
            await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(held(dialog)["files"]))))
            if step is None or step.kind == "choice":  # the confirm screen (now naming it) or the buttons again
                return await self.prompt(ctx, dialog)
            if not text:
                return
        if step is None or step.kind != "text" or not text:
            await ctx.reply(Reply(ctx._("Please choose one of the options.") if step is None or step.kind == "choice"
                                  else ctx._("Please answer in text.")))
            return await self.prompt(ctx, dialog)
        await self._take(ctx, dialog, await self._matter(ctx, dialog), step, text)

    async def _take(self, ctx: Context, dialog: Dialog, matter: Matter, step: Step, value: str) -> None:
        """Keep a value the action's rule accepts; else say why and ask for that value again, changing nothing."""
        try:
            await check(ctx, held(dialog)["action"], held(dialog)["values"], matter, step, value)
        except (PermissionDeniedError, NotFoundError, StaleActionError):
            raise
        except UserError as refusal:
            log.info("refused %s.%s for %s: %s", held(dialog)["action"], step.name, ctx.actor, refusal.msgid)
            await ctx.reply(Reply(ctx._(refusal.msgid, **refusal.params)))
            return await self.prompt(ctx, dialog)
        held(dialog)["values"][step.name] = value
        await self._next(ctx, dialog)

    async def _next(self, ctx: Context, dialog: Dialog) -> None:
        """On to the first value still missing; when none is, to the confirm screen, or done."""
        values = held(dialog)["values"]
        steps = self._steps(dialog)
        missing = next((i for i, s in enumerate(steps) if s.name not in values), len(steps))
        if missing == len(steps) and held(dialog)["action"] not in CONFIRMED:
            return await self._execute(ctx, dialog)
        await goto(ctx, self, dialog, str(missing))

    async def _confirm(self, ctx: Context, dialog: Dialog) -> None:
        """Every value once more by its rule (back to the first that no longer passes), then the action."""
        matter = await self._matter(ctx, dialog)
        for index, step in enumerate(self._steps(dialog)):
            try:
                await check(ctx, held(dialog)["action"], held(dialog)["values"], matter, step,
                            held(dialog)["values"][step.name])
            except (PermissionDeniedError, NotFoundError, StaleActionError):
                raise
            except UserError as refusal:
                await ctx.reply(Reply(ctx._(refusal.msgid, **refusal.params)))
                del held(dialog)["values"][step.name]
                return await goto(ctx, self, dialog, str(index))
        await self._execute(ctx, dialog)

    async def _execute(self, ctx: Context, dialog: Dialog) -> None:
        try:
            await ctx.end_dialog()
            await carry_out(ctx, held(dialog))
            await _done(ctx, int(held(dialog)["matter_id"]), held(dialog)["action"])
        except UserError as refusal:
            refusal.closes_dialog = True  # it cannot succeed as it stands: the person is not left on this step
            raise


ACT = ActionFlow()
