"""Reporting duties the office is held to, in chat and by the scheduler (seed §4, §17).

- `/report [2026H2]` (office and leaders; default: the current half-year): the half-year report to
  the higher procuratorate as a Word document and its tables as a workbook, sent as two files; the
  office may then mark it as sent (已报送).
- `collect`, a provider the deadline sweep (handlers/oversight/sweep.py) is given by handlers/routes.py, fires:
  - from the 1st of June and of December, every working day until the office marks that half-year's
    report as sent (key halfyear:<period>:<day>); the older report is reminded until the next one's
    month begins;
  - weekly, every protest 抗诉 lodged with the court and not yet filed with the county standing
    committee, until it is (key protest:<id>:<ISO week>).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from bot import callbacks
from handlers.common import roll_up_family, unit_name
from handlers.reports import report_text
from bot.context import Context
from bot.errors import PermissionDeniedError, StaleActionError, UserError
from bot.clock import StoppedClock
from bot.config import ReportConfig
from bot.files import FileStore
from bot.i18n import Translator
from bot.messages import Button, OutFile, Reply
from bot.model import UnitScope
from bot.permissions import may
from handlers.reports import figures as reports
from handlers.oversight.reminders import Make, Reminder, Ticks, keyed
from handlers.reports.figures import HalfYear, HalfYearFigures, PeriodError
from storage import audit, units, reports as report_store
from storage.reports import RegisterEntry


def period_name(_: Translator, period: HalfYear) -> str:
    """2026年下半年 / the second half of 2026"""
    if period.half == 1:
        return _("the first half of {year}", year=str(period.year))
    return _("the second half of {year}", year=str(period.year))


def reminded_period(today: date) -> HalfYear:
    """The half-year whose report the office is working towards: from June the first half's, from
    December the second half's (until the next June)."""
    if 6 <= today.month <= 11:
        return HalfYear(today.year, 1)
    return HalfYear(today.year if today.month == 12 else today.year - 1, 2)


# -- the scheduler's rule ------------------------------------------------------------------


async def collect(ticks: Ticks) -> list[Reminder]:
    """The reporting reminders due today in each unit (the sweep fires each once under its key, in working time)."""
    q, today = ticks.q, ticks.today
    found: list[Reminder] = []
    iso = today.isocalendar()
    for entry in await report_store.unfiled_protests(q, ticks.scope):
        if entry.happened_on <= today:
            found.append(Reminder(f"protest:{entry.id}:{iso.year}-W{iso.week:02d}", "protest_unfiled", None,
                                  ticks.of(entry.unit_id).office, _protest_notice(entry), unit=entry.unit_id))
    period = reminded_period(today)
    sent = await report_store.halfyear_sent_by_unit(q, ticks.scope, period.code)
    for tick in ticks.units:
        if tick.scope.unit not in sent:
            key = keyed(tick.scope, f"halfyear:{period.code}:{today.isoformat()}")
            found.append(Reminder(key, "halfyear", None, tick.office, _halfyear_notice(period, today),
                                  unit=tick.scope.unit))
    return found


def _protest_notice(entry: RegisterEntry) -> Make:
    def build(_: Translator) -> Reply:
        text = _("The protest in {case}, lodged with the court on {day}, has not yet been filed with the standing "
                 "committee of the county people's congress (Article 4 of the {regulation}). Please file it, then "
                 "choose “Filed”.",
                 case=entry.case_name + (f"（{entry.case_number}）" if entry.case_number else ""),
                 day=_.date(entry.happened_on))
        return Reply(text, title=_("Protest not yet filed"),
                     buttons=((Button(_("Filed"), callbacks.encode("npc", "filed", entry.id)),),))
    return build


def _halfyear_notice(period: HalfYear, today: date) -> Make:
    def build(_: Translator) -> Reply:
        name = period_name(_, period)
        if today <= period.last:
            text = _("The report on the liaison work in {period} is due at the higher procuratorate by {day} "
                     "(Article 17 of the {regulation}). Please draw it with {command}, send it, then choose “Sent”.",
                     period=name, day=_.date(period.last), command=f"/report {period.code}")
        else:
            text = _("The report on the liaison work in {period} was due at the higher procuratorate on {day} and "
                     "is not yet marked as sent. Please draw it with {command}, send it, then choose “Sent”.",
                     period=name, day=_.date(period.last), command=f"/report {period.code}")
        return Reply(text, title=_("Half-year report"), buttons=_buttons(_, period, draw=True))
    return build


def _buttons(_: Translator, period: HalfYear, *, draw: bool) -> tuple[tuple[Button, ...], ...]:
    row = [Button(_("Draw the report"), callbacks.encode("report", "draw", period.code))] if draw else []
    row.append(Button(_("Sent"), callbacks.encode("report", "sent", period.code)))
    return (tuple(row),)


# -- in chat -------------------------------------------------------------------------------


def _period(ctx: Context, text: str) -> HalfYear:
    if not text.strip():
        return HalfYear.of(ctx.today)
    try:
        period = HalfYear.parse(text)
    except PeriodError:
        raise UserError("Please name the half-year as {example}: the year followed by {h1} for January to June or "
                        "{h2} for July to December.", example="2026H2", h1="H1", h2="H2") from None
    if period.first > ctx.today:
        raise UserError("The report period, {period}, has not begun yet.", period=period_name(ctx._, period))
    return period


@dataclass(frozen=True)
class Drawn:
    """The report read and written before its transaction (`read_first`): its figures, and its two files."""

    figures: HalfYearFigures
    docx: bytes
    xlsx: bytes


async def read_first(ctx: Context) -> Drawn:
    """/report's, or 生成报告's (report:draw:PERIOD), figures and files, read and written before the update's
    transaction on a connection of its own (bot/inbox.py): at a province's scale the figures take seconds and the
    files a second more, and neither the writer, which every chat's update waits for (a WeCom callback is sent
    again after 5 s), nor the event loop is held meanwhile. `draw` uses them if they are still today's."""
    _allowed(ctx)
    if ctx.inc.command is not None:
        period = _period(ctx, ctx.inc.args)
    else:
        period = _period(ctx, _pressed(ctx.inc.action or "").code)
    papers = await _papers(ctx)
    figures = await _figures(ctx, period)
    return Drawn(figures, *await _files(ctx, figures, papers))


def _pressed(data: str) -> HalfYear:
    """The period of a report:draw button; a stale button's data is refused as such."""
    parts = data.split(":")[1:]
    if len(parts) != 2 or parts[0] not in ("draw", "sent"):
        raise StaleActionError("This button is no longer valid.")
    try:
        return HalfYear.parse(parts[1])
    except PeriodError:
        raise StaleActionError("This button is no longer valid.") from None


async def _papers(ctx: Context) -> tuple[ReportConfig, str]:
    """What the unit's papers carry (its own settings, else the configuration's), and the regulation they cite."""
    return report_text.unit_papers(ctx.config.report, ctx.config.terms.regulation,
                                   await units.get(ctx.tx, ctx.scope.unit))


async def _files(ctx: Context, figures: HalfYearFigures, papers: tuple[ReportConfig, str]) -> tuple[bytes, bytes]:
    """The report as .docx and .xlsx on the unit's papers; rendered on a thread (a second of CPU), no query."""
    paper, regulation = papers
    report = report_text.half_year_report(figures, ctx.now, ctx.config.unit.tz, paper, regulation=regulation)
    return await asyncio.to_thread(report_text.half_year_files, report)


async def _figures(ctx: Context, period: HalfYear) -> HalfYearFigures:
    """The unit's half-year figures; a city's office and leaders report its counties' too, a line each."""
    family = await roll_up_family(ctx)
    scope = UnitScope(ctx.scope.unit, frozenset(u.id for u in family))
    return await reports.half_year(ctx.tx, scope, period, ctx.today, ctx.config.unit.tz, await unit_name(ctx), family)


def _allowed(ctx: Context) -> None:
    if not may(ctx.person, "report", None):
        raise PermissionDeniedError.of("report", None, "Sorry, reports are for the office and leaders.")


async def command(ctx: Context) -> None:
    """/report [PERIOD]: the half-year report as .docx and .xlsx."""
    _allowed(ctx)
    await draw(ctx, _period(ctx, ctx.inc.args))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """report:draw:2026H2 and report:sent:2026H2 (from a reminder or a drawn report)."""
    period = _pressed(":".join(["report", *parts]))
    await ctx.answer()
    if parts[0] == "sent":
        return await mark_sent(ctx, period)
    _allowed(ctx)
    await draw(ctx, _period(ctx, period.code))


async def draw(ctx: Context, period: HalfYear) -> None:
    _, person = ctx._, ctx.person
    assert person is not None
    drawn = ctx.prepared  # read and written first (`read_first`), if it was: the same period, as of today
    if isinstance(drawn, Drawn) and drawn.figures.period == period and drawn.figures.as_of == min(period.last,
                                                                                                  ctx.today):
        figures, docx, xlsx = drawn.figures, drawn.docx, drawn.xlsx
    else:
        figures = await _figures(ctx, period)
        docx, xlsx = await _files(ctx, figures, await _papers(ctx))
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    name = report_text.file_name(period)  # a name its reader would give it, never the period's code
    files = (OutFile(store.put(docx)[1], f"{name}.docx"), OutFile(store.put(xlsx)[1], f"{name}.xlsx"))
    await audit.record(ctx.tx, ctx.now, person.id, "report_drawn", detail={"period": period.code})
    sent_on = await report_store.halfyear_sent_on(ctx.tx, ctx.scope, period.code)
    lines = [summary(_, figures)]
    if sent_on is not None:
        lines.append(_("Marked as sent to the higher procuratorate on {day}.", day=_.date(sent_on)))
    else:
        lines.append(_("Due at the higher procuratorate by {day} (Article 17 of the {regulation}).",
                       day=_.date(period.last)))
    buttons = _buttons(_, period, draw=False) if sent_on is None and may(person, "report_sent", None) else ()
    await ctx.reply(Reply("\n".join(lines), title=_("Report on the liaison work in {period}",
                                                    period=period_name(_, period)), buttons=buttons, files=files))


def summary(_: Translator, f: HalfYearFigures) -> str:
    """The report's main figures in the chat, by the words of their measures (handlers/reports/measures.py)."""
    t, s = f.timeliness, f.satisfaction
    return "\n".join([
        _("Figures as of {day}:", day=_.date(f.as_of)),
        _("Contacts with NPC deputies and CPPCC members: {n}; representatives contacted {contacted}/{total}",
          n=f.contacts, contacted=f.coverage.contacted, total=f.coverage.total),
        _("Registered: {n}; concluded: {handled}; due in the period: {due}, of which concluded on time {on_time}; "
          "overdue, not concluded: {overdue}", n=f.registered, handled=f.handled, due=t.due, on_time=t.on_time,
          overdue=len(f.overdue)),
        _("Replies sent: {n}: satisfied {satisfied}, basically satisfied {basically}, dissatisfied {dissatisfied}, "
          "not rated {unrated}", n=s.replies, satisfied=s.satisfied, basically=s.basically,
          dissatisfied=s.dissatisfied, unrated=s.unrated),
        _("{major} major cases reported to the county people's congress; {protests} protests, {filed} filed",
          major=len(f.major_cases), protests=len(f.protests),
          filed=sum(1 for e in f.protests if e.filed_on is not None)),
    ])


async def mark_sent(ctx: Context, period: HalfYear) -> None:
    """已报送: the office records that the report went to the higher procuratorate today; reminders stop."""
    person = ctx.person
    if not may(person, "report_sent", None):
        raise PermissionDeniedError.of("report_sent", None, "Sorry, only the liaison office can do this.")
    assert person is not None
    today = ctx.today
    if period.first > today:
        raise StaleActionError("This button is no longer valid.")
    _ = ctx._
    if not await report_store.mark_halfyear_sent(ctx.tx, ctx.scope, period.code, today, person.id, ctx.now):
        sent_on = await report_store.halfyear_sent_on(ctx.tx, ctx.scope, period.code)
        await ctx.reply(Reply(_("The report on {period} was marked as sent on {day} already.",
                                period=period_name(_, period), day=_.date(sent_on or today))))
        return
    await audit.record(ctx.tx, ctx.now, person.id, "halfyear_sent", detail={"period": period.code})
    await ctx.reply(Reply(_("The report on {period} is marked as sent to the higher procuratorate on {day}. "
                            "Its reminders stop.", period=period_name(_, period), day=_.date(today))))
