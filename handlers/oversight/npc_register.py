"""The NPC register in chat (seed §4; SPEC §6): each major case reported to the county people's congress,
and each protest 抗诉 lodged with the court, which must be filed 备案 with its standing committee.

/npc (the office): this year's register, protests of earlier years still unfiled, and buttons to record
a major case report or a protest, and 已备案 on each protest not yet filed. Recording is a dialogue:
case name → case number (or none) → the matter registered here that it concerns (or none) → the day
it was reported or lodged (today, yesterday or typed; never in the future) → a note (or none) →
confirm. Filing: the day (not before the protest was lodged, never in the future) → confirm. A protest
not yet filed is reminded to the office weekly until it is (handlers/reports/halfyear.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from bot import callbacks
from bot.domain import typed_matter_number
from bot.contacts_file import parse_date
from bot.context import Context
from bot.errors import DialogOpenError, StaleActionError, UserError
from bot.i18n import N_, Translator
from bot.text import clip
from bot.messages import Button, Reply
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog
from handlers.dialog_state import NpcData, given, npc
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from storage import audit, matters, reports
from storage.reports import RegisterEntry

KIND_LABELS: Final = {"major_case_report": N_("Major case report"), "protest": N_("Protest")}
START_LABELS: Final = {"major_case_report": N_("Record a major case report"), "protest": N_("Record a protest")}
KIND_CODES: Final = {"major": "major_case_report", "protest": "protest"}  # in button data
MAX_NAME: Final = 200
MAX_NUMBER: Final = 100
MAX_NOTE: Final = 1000
LIST_LIMIT: Final = 40
FILE_BUTTONS: Final = 10
CLIP: Final = 20
EXAMPLE_DAY: Final = "2026-11-20"


def _case(entry: RegisterEntry) -> str:
    return entry.case_name + (f"（{entry.case_number}）" if entry.case_number else "")


def entry_line(_: Translator, entry: RegisterEntry) -> str:
    line = f"{_.date(entry.happened_on)} · {_(KIND_LABELS[entry.kind])} · {_case(entry)}"
    if entry.kind == "protest":
        line += " · " + (_("filed on {day}", day=_.date(entry.filed_on)) if entry.filed_on else _("not yet filed"))
    return line


async def command(ctx: Context) -> None:
    """/npc"""
    require(ctx.person, "npc_register")
    await show(ctx)


async def show(ctx: Context) -> None:
    _ = ctx._
    year = ctx.today.year
    entries = await reports.entries_between(ctx.tx, ctx.scope, date(year, 1, 1), date(year, 12, 31))
    unfiled = await reports.unfiled_protests(ctx.tx, ctx.scope)
    lines = [entry_line(_, e) for e in entries[-LIST_LIMIT:]] or [_("Nothing recorded in {year} yet.",
                                                                   year=str(year))]
    if len(entries) > LIST_LIMIT:
        lines.insert(0, _("…and {n} earlier", n=len(entries) - LIST_LIMIT))
    earlier = [e for e in unfiled if e.happened_on.year < year]
    if earlier:
        lines += ["", _("Protests of earlier years not yet filed:"), *(entry_line(_, e) for e in earlier)]
    rows: list[tuple[Button, ...]] = [tuple(Button(_(START_LABELS[kind]), callbacks.encode("npc", "new", code))
                                            for code, kind in KIND_CODES.items())]
    rows += [(Button(_("Filed: {case}", case=clip(e.case_name, CLIP)), callbacks.encode("npc", "filed", e.id)),)
             for e in unfiled[:FILE_BUTTONS]]
    await ctx.reply(Reply("\n".join(lines), title=_("NPC register, {year}", year=str(year)), buttons=tuple(rows)))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """npc:new:major, npc:new:protest, npc:filed:<id> (from /npc or a reminder)."""
    if len(parts) != 2 or parts[0] not in ("new", "filed") or (parts[0] == "new" and parts[1] not in KIND_CODES):
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    require(ctx.person, "npc_register")
    if ctx.dialog is not None:
        raise DialogOpenError()
    if parts[0] == "new":
        dialog = Dialog("npc", "case", "", dict(NpcData(kind=KIND_CODES[parts[1]], case=None, number=None, matter=None,
                                                 day=None, note=None)))
    else:
        entry = await _unfiled(ctx, callbacks.to_int(parts[1]))
        dialog = Dialog("npc", "filed_day", "", dict(NpcData(entry=entry.id, day=None)))
    await open_dialog(ctx, REGISTER, dialog)


async def _unfiled(ctx: Context, entry_id: object) -> RegisterEntry:
    entry = await reports.entry(ctx.tx, ctx.scope, entry_id) if isinstance(entry_id, int) else None
    if entry is None or entry.kind != "protest":
        raise StaleActionError("This button is no longer valid.")
    if entry.filed_on is not None:
        raise StaleActionError("This protest has been filed already ({day}).", day=ctx._.date(entry.filed_on))
    return entry


class RegisterFlow:
    name = "npc"
    number_steps = frozenset({"matter"})  # a matter's number asked for as text (bot/router.Flow)

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("recording in the NPC register")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, step, data = ctx._, dialog.step, npc(dialog)
        cancel = cancel_button(ctx, dialog)
        none = Button(_("None"), dialog_button(dialog, "none"))
        days = (Button(_("Today"), dialog_button(dialog, "today")),
                Button(_("Yesterday"), dialog_button(dialog, "yesterday")))
        if step == "case":
            start = START_LABELS[data["kind"]]
            await ctx.reply(Reply(_("Which case? Please send its name."), title=_(start), buttons=((cancel,),)))
        elif step == "number":
            await ctx.reply(Reply(_("Please send the case number (案号), or choose None."), buttons=((none, cancel),)))
        elif step == "matter":
            await ctx.reply(Reply(_("Does it concern a matter registered here? Please send its number, e.g. {example}, "
                                    "or choose None.", example=f"{ctx.config.unit.matter_prefix}-{ctx.today.year}-0001"),
                                  buttons=((none, cancel),)))
        elif step == "day":
            question = (_("On what day was it reported to the county people's congress? Choose an option, or send the "
                          "date, e.g. {example}.", example=EXAMPLE_DAY) if data["kind"] == "major_case_report" else
                        _("On what day was the protest lodged with the court? Choose an option, or send the date, e.g. "
                          "{example}.", example=EXAMPLE_DAY))
            await ctx.reply(Reply(question, buttons=(days, (cancel,))))
        elif step == "note":
            skip = Button(_("No note"), dialog_button(dialog, "none"))
            await ctx.reply(Reply(_("Please add a note, or choose No note."), buttons=((skip, cancel),)))
        elif step == "confirm":
            await ctx.reply(Reply(await self._preview(ctx, dialog), title=_("Please check"),
                                  buttons=((Button(_("Confirm"), dialog_button(dialog, "confirm")), cancel),)))
        elif step == "filed_day":
            entry = await _unfiled(ctx, data["entry"])
            await ctx.reply(Reply(_("On what day was the protest in {case} filed with the standing committee of the county "
                                    "people's congress? Choose an option, or send the date, e.g. {example}.",
                                    case=_case(entry), example=EXAMPLE_DAY), buttons=(days, (cancel,))))
        elif step == "filed_confirm":
            entry = await _unfiled(ctx, data["entry"])
            text = _("The protest in {case}, lodged on {day}, was filed with the standing committee of the county "
                     "people's congress on {filed}.", case=_case(entry), day=_.date(entry.happened_on),
                     filed=_.date(date.fromisoformat(given(data["day"]))))
            await ctx.reply(Reply(text, title=_("Please check"),
                                  buttons=((Button(_("Confirm"), dialog_button(dialog, "confirm")), cancel),)))

    async def _preview(self, ctx: Context, dialog: Dialog) -> str:
        _, data = ctx._, npc(dialog)
        day = _.date(date.fromisoformat(given(data["day"])))
        kind = KIND_LABELS[data["kind"]]
        lines = [_("{label}: {value}", label=_(kind), value=data["case"]),
                 _("Case number: {number}", number=data["number"] or _("none")),
                 _("Reported on: {day}", day=day) if data["kind"] == "major_case_report" else
                 _("Lodged on: {day}", day=day)]
        if data["matter"] is not None:
            matter = await matters.get(ctx.tx, ctx.scope, data["matter"], own=True)
            lines.append(_("Matter: {number}", number=matter.number if matter else "?"))
        if data["note"]:
            lines.append(_("Note: {note}", note=data["note"]))
        return "\n".join(lines)

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, permission="npc_register"):
            return
        step, data = dialog.step, npc(dialog)
        if step == "number" and choice == "none":
            data["number"] = ""
            return await goto(ctx, self, dialog, "matter")
        if step == "matter" and choice == "none":
            return await goto(ctx, self, dialog, "day")
        if step in ("day", "filed_day") and choice in ("today", "yesterday"):
            return await self._take_day(ctx, dialog, ctx.today - timedelta(days=int(choice == "yesterday")))
        if step == "note" and choice == "none":
            data["note"] = ""
            return await goto(ctx, self, dialog, "confirm")
        if step == "confirm" and choice == "confirm":
            return await self._record(ctx, dialog)
        if step == "filed_confirm" and choice == "confirm":
            return await self._file(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "npc_register")
        step, data, text = dialog.step, npc(dialog), " ".join(ctx.inc.text.split())
        limit = {"case": MAX_NAME, "number": MAX_NUMBER, "note": MAX_NOTE}.get(step)
        if limit is not None and len(text) > limit:
            raise UserError("The text is too long: at most {max} characters.", max=limit)
        if step in ("case", "number", "note") and text:
            if step == "case":
                data["case"] = text
            elif step == "number":
                data["number"] = text
            else:
                data["note"] = text
            return await goto(ctx, self, dialog, {"case": "number", "number": "matter", "note": "confirm"}[step])
        if step == "matter" and text:
            matter = await matters.by_number(ctx.tx, ctx.scope, typed_matter_number(text) or text, own=True)
            if matter is None:
                raise UserError("There is no matter {number}. Please send its number, e.g. {example}, or choose None.",
                                number=text[:40], example=f"{ctx.config.unit.matter_prefix}-{ctx.today.year}-0001")
            data["matter"] = matter.id
            return await goto(ctx, self, dialog, "day")
        if step in ("day", "filed_day") and text:
            day = parse_date(text, ctx.today.year)
            if day is None:
                raise UserError("Sorry, that is not a date. Please send it as 2026-11-20, or choose an option.")
            return await self._take_day(ctx, dialog, day)
        await ctx.reply(Reply(ctx._("Please choose one of the options.") if step in ("confirm", "filed_confirm")
                              else ctx._("Please answer in text.")))
        await self.prompt(ctx, dialog)

    async def _take_day(self, ctx: Context, dialog: Dialog, day: date) -> None:
        if day > ctx.today:
            raise UserError("{day} is in the future. Please send a day that has passed.", day=ctx._.date(day))
        if dialog.step == "filed_day":
            entry = await _unfiled(ctx, npc(dialog)["entry"])
            if day < entry.happened_on:
                raise UserError("The protest was lodged on {day}: it cannot have been filed before that.",
                                day=ctx._.date(entry.happened_on))
        npc(dialog)["day"] = day.isoformat()
        await goto(ctx, self, dialog, "note" if dialog.step == "day" else "filed_confirm")

    async def _record(self, ctx: Context, dialog: Dialog) -> None:
        person, data = ctx.person, npc(dialog)
        assert person is not None
        day, case = date.fromisoformat(given(data["day"])), data["case"]
        if data["kind"] not in KIND_LABELS or not case or day > ctx.today:
            raise StaleActionError("This button is no longer valid.")  # stored data, checked once more
        entry_id = await reports.add_entry(ctx.tx, ctx.scope, data["kind"], data["matter"], case, data["number"] or "",
                                           day, data["note"] or "", person.id, ctx.now)
        await audit.record(ctx.tx, ctx.now, person.id, "npc_register_added", matter_id=data["matter"],
                           detail={"entry": entry_id, "kind": data["kind"], "day": day.isoformat()})
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("Recorded in the NPC register.")))
        await show(ctx)

    async def _file(self, ctx: Context, dialog: Dialog) -> None:
        person = ctx.person
        assert person is not None
        entry = await _unfiled(ctx, npc(dialog)["entry"])
        day = date.fromisoformat(given(npc(dialog)["day"]))
        if not entry.happened_on <= day <= ctx.today or not await reports.mark_filed(ctx.tx, ctx.scope, entry.id, day,
                                                                                        person.id):
            raise StaleActionError("This button is no longer valid.")
        await audit.record(ctx.tx, ctx.now, person.id, "protest_filed", matter_id=entry.matter_id,
                           detail={"entry": entry.id, "day": day.isoformat()})
        await ctx.end_dialog()
        await ctx.reply(Reply(ctx._("The filing of the protest in {case} on {day} is recorded. Its reminders stop.",
                                    case=_case(entry), day=ctx._.date(day))))
        await show(ctx)


REGISTER = RegisterFlow()
