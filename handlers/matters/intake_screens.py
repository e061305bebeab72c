"""What each step of a submission shows (handlers/matters/intake.py): its question and choices, the confirmation's
summary, and the one way back under a step — Cancel, or while a step is changed from the confirmation 不修改 where it
holds a value, else 取消修改 (a change never drops the whole matter).
"""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.domain import KINDS, is_referred
from bot.i18n import N_
from bot.messages import Button, Reply, rows
from bot.router import dialog_button
from bot.model import Dialog
from handlers import picker
from handlers.dialog_state import intake
from handlers.labels import OFFICE_VIA, attachments_line, complainant_line, kind_label, raised_or_referred, via_label
from handlers.matters import register
from handlers.matters.intake_steps import CHANGES, KEPT, changeable, filled, on_behalf
from storage import people, units


async def show(ctx: Context, dialog: Dialog) -> None:
    """The step's screen: its question, what it holds now when changed from the confirmation, its choices."""
    _ = ctx._
    step, data = dialog.step, intake(dialog)
    cancel = Button(_("Cancel"), dialog_button(dialog, "cancel"))
    # asked again from the confirmation's 修改: the present value shown (`now`), and one way back, never the
    # Cancel that would drop the whole matter: 不修改 where the step has a value to keep, else 取消修改
    changing = step in KEPT and data.get("editing", False) and filled(data, step)
    back = (way_back(ctx, dialog),)
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
        if on_behalf(dialog):
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
        await ctx.reply(Reply(ask, buttons=next_or_cancel(ctx, dialog)))
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
        await ctx.reply(Reply(ask, buttons=next_or_cancel(ctx, dialog)))
    elif step == "complainant_name":
        ask = (_("Please send the name of the citizen who asked the representative to pass it on (the reporter, "
                 "accuser or appellant).") if on_behalf(dialog) else _("Please send the complainant's name."))
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
        submit = Button(_("Register") if on_behalf(dialog) else _("Submit"), dialog_button(dialog, "submit"))
        change = Button(_("Change"), dialog_button(dialog, "change"))
        await ctx.reply(Reply(await summary(ctx, dialog), title=_("Please check"),
                              buttons=((submit, change), (cancel,))))
    elif step == "change":
        offered = [Button(_(label), dialog_button(dialog, choice)) for choice, label, _step in CHANGES
                   if changeable(data, choice)]
        to_summary = Button(_("Back to the summary"), dialog_button(dialog, "back"))
        await ctx.reply(Reply(_("What would you like to change?"), buttons=(*rows(offered, 3), (to_summary,))))


async def summary(ctx: Context, dialog: Dialog) -> str:
    """The confirmation's text: every value the matter will be registered with."""
    _, data = ctx._, intake(dialog)
    lines = []
    if on_behalf(dialog):
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


def next_or_cancel(ctx: Context, dialog: Dialog) -> tuple[tuple[Button, ...], ...]:
    """Under the content and files steps and every answer to them: go on, (files sent: remove them all,) and the
    way back — Cancel (SPEC §3: at every step), or while changing from the confirmation 不修改 / 取消修改."""
    _, data = ctx._, intake(dialog)
    if dialog.step == "files":
        go_on = Button(_("No more files") if data["files"] else _("No files"), dialog_button(dialog, "next"))
        if data["files"]:
            return ((go_on, Button(_("Remove all attachments"), dialog_button(dialog, "clear"))),
                    (way_back(ctx, dialog),))
    else:
        go_on = Button(_("Done"), dialog_button(dialog, "next"))
    return ((go_on, way_back(ctx, dialog)),)


def way_back(ctx: Context, dialog: Dialog) -> Button:
    """Cancel; or, while a step is changed from the confirmation, 不修改 where it has a value to keep, else
    取消修改 (back to the confirmation as it was before 修改): a change never drops the whole matter."""
    data = intake(dialog)
    if not data.get("editing"):
        return Button(ctx._("Cancel"), dialog_button(dialog, "cancel"))
    if dialog.step in KEPT and filled(data, dialog.step):
        return Button(ctx._("No change"), dialog_button(dialog, "keep"))
    return Button(ctx._("Cancel the change"), dialog_button(dialog, "undo"))
