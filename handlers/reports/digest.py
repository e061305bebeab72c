"""The leadership digest (SPEC §7, seed §8, §17): the liaison work in figures, weekly and monthly to
every leader through the scheduler's sweep, and on demand with /digest for leaders and the office.

The figures are computed from the database (storage/digest.py) into a `Digest`, then rendered
in the reader's language: a text that fits one Telegram message (long lists cut to their first
ten, the whole list attached as a CSV file), and a chart of the matters not yet concluded by
department, when a font for its labels is installed. A digest names matters by number, kind,
department and dates only: never a subject, a representative or a complainant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot import charts
from bot.config import Config, DigestConfig
from bot.context import Context
from bot.domain import add_months, days_left, days_overdue
from bot.errors import PermissionDeniedError
from bot.export import csv_bytes
from bot.clock import StoppedClock
from bot.files import FileStore
from bot.i18n import N_, Translator
from bot.messages import OutFile, Reply
from bot.permissions import may
from bot.matter.states import State
from handlers.reports import measures, figures as reports
from handlers.reports.digest_chart import chart_labels
from handlers.labels import kind_label
from handlers.reports.measures import Satisfaction, Span, Timeliness, percent
from handlers.oversight.reminders import Reminder, Tick
from storage import contacts, digest as queries, people, reports as report_store, supervision
from storage.db import Tx
from storage.digest import DepartmentLoad, DueItem, UpcomingEvent
from storage.reports import MatterFacts

log = logging.getLogger(__name__)

LIST_LIMIT: Final = 10  # matters listed per section; the rest are counted and attached
SOON_DAYS: Final = 7
CACHE: Final = ("cache", "digest")  # under storage.files_dir: charts and lists waiting to be sent


@dataclass(frozen=True)
class Period:
    """The days a digest reports on, both included; `sent` is the day it was scheduled for."""

    kind: str  # "week" | "month"
    first: date
    last: date
    sent: date

    @property
    def key(self) -> str:
        if self.kind == "week":
            iso = self.sent.isocalendar()
            return f"digest:week:{iso.year}-W{iso.week:02d}"
        return f"digest:month:{self.sent:%Y-%m}"


@dataclass(frozen=True)
class Digest:
    """The figures of a digest: measures of handlers/reports/measures.py over the period (as of its last day),
    the state of things `today`, and satisfaction and contacts over the year so far."""

    period: Period
    today: date
    registered: int  # 登记 in the period
    handled: int  # 办结 in the period
    timeliness: Timeliness  # 到期应办结 in the period
    not_concluded: int  # 未办结 now
    awaiting_reply: int  # 已办结待答复 now
    due_soon: list[DueItem]  # 7日内到期
    overdue: list[DueItem]  # 逾期未办结 now
    owing_notice: list[DueItem]  # 应通报而未通报进展 now
    reopened: int  # 因不满意重新办理 in the period
    reopened_now: int  # being handled again now
    year: int  # of the year-so-far figures below
    satisfaction: Satisfaction  # 答复 sent in the year so far
    contacted: int  # 已联系代表委员 in the year so far
    representatives: int
    events: list[UpcomingEvent]
    half_year_due: date
    departments: list[DepartmentLoad]  # 未办结 now, by department: they add up to `not_concluded`


def half_year_due(today: date) -> date:
    """The next half-year work summary is due on 30 June or 31 December (seed §17)."""
    june = date(today.year, 6, 30)
    return june if today <= june else date(today.year, 12, 31)


def scheduled(config: DigestConfig, today: date) -> list[Period]:
    """The latest weekly and monthly digest due on or before today: the seven days, and the month, before it."""
    weekly = today - timedelta(days=(today.isoweekday() - config.weekly_day) % 7)
    monthly = date(today.year, today.month, config.monthly_day)
    if today < monthly:
        monthly = add_months(monthly, -1)
    return [Period("week", weekly - timedelta(days=7), weekly - timedelta(days=1), weekly),
            Period("month", add_months(monthly, -1), monthly - timedelta(days=1), monthly)]


def on_demand(today: date) -> Period:
    """/digest: the last seven days, today included."""
    return Period("week", today - timedelta(days=6), today, today)


# -- the figures -------------------------------------------------------------------------


async def compute(q: Tx, config: Config, period: Period, today: date) -> Digest:
    """Every figure of the digest for `period`, with the state of the matters as it is `today`."""
    tz = config.unit.tz
    span = Span(period.first, period.last, min(period.last, today), tz)
    facts = await reports.span_facts(q, span)
    names = dict(await people.departments(q))
    start, end = reports.window(period.first, period.last, tz)
    year = period.last.year
    ratings = await report_store.ratings(q, *reports.window(date(year, 1, 1), date(year, 12, 31), tz))
    coverage = await contacts.coverage(q, year)
    horizon = today + timedelta(days=SOON_DAYS) if period.kind == "week" else add_months(today, 1)
    pending = measures.not_concluded(facts, today, tz)

    def items(found: list[MatterFacts]) -> list[DueItem]:
        return [DueItem(m.number, m.kind, names.get(m.department_id) if m.department_id else None, m.due_date,
                        m.major) for m in found]

    return Digest(
        period=period,
        today=today,
        registered=len(measures.registered(facts, span)),
        handled=len(measures.handled(facts, span)),
        timeliness=measures.timeliness(facts, span),
        not_concluded=len(pending),
        awaiting_reply=sum(1 for m in facts if m.state == State.CONCLUDED),
        due_soon=items(measures.due_soon(pending, today, SOON_DAYS, tz)),
        overdue=items(measures.overdue(pending, today, tz)),
        owing_notice=items(measures.owing_notice(facts, today, config.supervision.major_notice_days)),
        reopened=sum((await report_store.dissatisfied(q, start, end)).values()),
        reopened_now=sum(1 for m in facts if m.state == State.REOPENED),
        year=year,
        satisfaction=measures.satisfaction(ratings),
        contacted=coverage.contacted,
        representatives=coverage.total,
        events=await queries.upcoming_events(q, _local_start(today, tz), _local_start(horizon + timedelta(days=1), tz),
                                             tz),
        half_year_due=half_year_due(today),
        departments=load_by_department(pending, names, today),
    )


def load_by_department(pending: list[MatterFacts], names: dict[int, str], today: date) -> list[DepartmentLoad]:
    """未办结 now per department (by id; the unassigned last): within the time limit, 7日内到期, 逾期未办结.
    Departments with none are left out."""
    rows: dict[int | None, list[int]] = {}
    for m in pending:
        row = rows.setdefault(m.department_id, [0, 0, 0])
        left = (m.due_date - today).days
        row[2 if left < 0 else 1 if left <= SOON_DAYS else 0] += 1
    order = sorted(rows, key=lambda d: (d is None, d or 0))
    return [DepartmentLoad(names.get(d) if d is not None else None, *rows[d]) for d in order]


# -- the schedule (a rule of the sweep, handlers/oversight/sweep.py) ----------------------------


async def collect(tick: Tick) -> list[Reminder]:
    """The weekly and the monthly digest, each once, to every leader, from the day it is due."""
    q, config, now, today, leaders = tick.q, tick.config, tick.now, tick.today, tick.leaders
    found: list[Reminder] = []
    if not leaders:
        return found
    for period in scheduled(config.digest, today):
        if await supervision.fired(q, [period.key]):  # computed and drawn only when it is to go out
            continue
        figures = await compute(q, config, period, today)
        locales = {(await _locale(q, config, p)) for p in leaders}
        ready = await prepare(config, figures, sorted(locales), now)
        found.append(Reminder(period.key, f"digest_{period.kind}", None, leaders, _make(figures, ready)))
    return found


async def _locale(q: Tx, config: Config, person_id: int) -> str:
    person = await people.get(q, person_id)
    return (person.locale if person else None) or config.default_locale


def _make(figures: Digest, ready: dict[str, tuple[OutFile, ...]]) -> Callable[[Translator], Reply]:
    return lambda _: reply(_, figures, ready.get(_.locale, ()))


# -- on demand -----------------------------------------------------------------------------


async def command(ctx: Context) -> None:
    """/digest: the weekly figures now, for leaders and the liaison office."""
    if not may(ctx.person, "digest", None):
        raise PermissionDeniedError.of("digest", None, "This is for leaders and the liaison office.")
    today = ctx.today
    figures = await compute(ctx.tx, ctx.config, on_demand(today), today)
    ready = await prepare(ctx.config, figures, [ctx._.locale], ctx.now)
    await ctx.reply(reply(ctx._, figures, ready[ctx._.locale]))


# -- what is said ----------------------------------------------------------------------------


def reply(_: Translator, d: Digest, files: tuple[OutFile, ...]) -> Reply:
    title, text, _cut = render(_, d)
    return Reply(text, title=title, files=files)


def render(_: Translator, d: Digest) -> tuple[str, str, bool]:
    """The title and the text, within the text budget of the reader's channel (`_.budget`: one Telegram
    message, or a few WeCom ones split at lines); True when a list was cut (then the full one is attached)."""
    p = d.period
    title_id = N_("Weekly digest, {first} to {last}") if p.kind == "week" else N_("Monthly digest, {first} to {last}")
    title = _(title_id, first=_.date(p.first), last=_.date(p.last))
    head = _head(_, d)
    sections = [
        (_("Overdue, not concluded ({n}):", n=len(d.overdue)), [_overdue(_, d.today, m) for m in d.overdue]),
        (_("Due within the next 7 days ({n}):", n=len(d.due_soon)), [_due_soon(_, d.today, m) for m in d.due_soon]),
        (_("Owing a progress notice ({n}):", n=len(d.owing_notice)), [_due(_, m) for m in d.owing_notice]),
    ]

    def body(limit: int) -> tuple[str, bool]:
        lines, cut = list(head), False
        for header, items in sections:
            if not items:
                continue
            lines += ["", header, *items[:limit]]
            if len(items) > limit:
                lines.append(_("…and {n} more matters", n=len(items) - limit))
                cut = True
        if cut:
            lines += ["", _("The full list is attached.")]
        return "\n".join(lines), cut

    limit = LIST_LIMIT
    text, cut = body(limit)
    while not _.budget.fits(f"{title}\n{text}") and limit > 0:
        limit -= 1
        text, cut = body(limit)
    return title, text, cut


def _head(_: Translator, d: Digest) -> list[str]:
    """The figures, each named by its measure's words (handlers/reports/measures.py)."""
    t, s = d.timeliness, d.satisfaction
    lines = [
        _("Registered: {registered}; concluded: {handled}", registered=d.registered, handled=d.handled),
        _("Due in the period: {due}, of which concluded on time {on_time}, concluded late {late}, due and not "
          "concluded {due_open}; on-time rate {rate}", due=t.due, on_time=t.on_time, late=t.late, due_open=t.due_open,
          rate=percent(t.rate.value)),
        _("Not yet concluded: {n}, of which overdue {overdue}, due within the next 7 days {soon}; concluded, reply "
          "not yet sent: {awaiting}", n=d.not_concluded, overdue=len(d.overdue), soon=len(d.due_soon),
          awaiting=d.awaiting_reply),
        _("Owing a progress notice (major matters): {n}", n=len(d.owing_notice)),
        _("Handled again after a dissatisfied rating: {n}; being handled again now: {now}", n=d.reopened,
          now=d.reopened_now),
    ]
    if s.replies:
        lines.append(_("Satisfaction in {year}: replies sent {replies}, rated {rated}, response rate {response}; "
                       "satisfied {satisfied}, basically satisfied {basically}, dissatisfied {dissatisfied}; "
                       "satisfaction rate {rate}", year=str(d.year), replies=s.replies, rated=s.rated,
                       response=percent(s.response_rate.value), satisfied=s.satisfied, basically=s.basically,
                       dissatisfied=s.dissatisfied, rate=percent(s.satisfaction_rate.value)))
    else:
        lines.append(_("Satisfaction in {year}: no reply sent yet", year=str(d.year)))
    lines.append(_("Contacts in {year}: representatives contacted {contacted}/{total}, contact coverage {rate}",
                   year=str(d.year), contacted=d.contacted, total=d.representatives,
                   rate=percent(measures.Rate(d.contacted, d.representatives).value)))
    if d.events:
        lines.append(_("Upcoming events:"))
        lines += [f"{_.date(e.day)} · {e.title}" for e in d.events[:LIST_LIMIT]]
        if len(d.events) > LIST_LIMIT:
            lines.append(_("…and {n} more events", n=len(d.events) - LIST_LIMIT))
    else:
        lines.append(_("Upcoming events: none"))
    lines.append(_("Next half-year work summary due: {day}", day=_.date(d.half_year_due)))
    return lines


def _department(_: Translator, m: DueItem | DepartmentLoad) -> str:
    return m.department if m.department is not None else _("not yet assigned")


def _prefix(_: Translator, m: DueItem) -> str:
    mark = "⚠" if m.major else ""
    return f"{mark}{m.number} · {kind_label(_, m.kind)} · {_department(_, m)}"


def _overdue(_: Translator, today: date, m: DueItem) -> str:
    return _("{matter} · due {day}, {n} days overdue", matter=_prefix(_, m), day=_.date(m.due_date),
             n=days_overdue(m.due_date, today))


def _due_soon(_: Translator, today: date, m: DueItem) -> str:
    left = days_left(m.due_date, today)
    if left == 0:
        return _("{matter} · due today", matter=_prefix(_, m))
    return _("{matter} · due {day}, {n} days left", matter=_prefix(_, m), day=_.date(m.due_date), n=left)


def _due(_: Translator, m: DueItem) -> str:
    return _("{matter} · due {day}", matter=_prefix(_, m), day=_.date(m.due_date))



# -- what goes with it: the chart and the full list ---------------------------------------------


async def prepare(config: Config, d: Digest, locales: Sequence[str], now: datetime) -> dict[str, tuple[OutFile, ...]]:
    """The files of the digest in each language: the chart (when a font can draw it) and, when a list was
    cut, the full list; stored under the files folder until they are sent."""
    store = FileStore(config.storage.files_dir.joinpath(*CACHE), StoppedClock(now), base=config.storage.files_dir)
    ready: dict[str, tuple[OutFile, ...]] = {}
    no_font = False
    for locale in locales:
        _ = Translator(locale, config.unit.tz, config.terms)
        files: list[OutFile] = []
        if d.departments:
            title, categories, series, axis = chart_labels(_, d.today, d.departments)
            font = charts.font_for("".join([title, axis, "0123456789", *categories, *(s.label for s in series)]))
            if font is None:
                no_font = True
            else:
                png = await asyncio.to_thread(charts.stacked_bars, title, categories, series, font, axis)
                files.append(OutFile(store.put(png)[1], _("Digest chart, {day}", day=_.date(d.today)) + ".png",
                                     "photo"))
        if render(_, d)[2]:
            files.append(OutFile(store.put(table(_, d))[1], _("Digest list, {day}", day=_.date(d.today)) + ".csv",
                                 "document"))
        ready[locale] = tuple(files)
    if no_font:
        log.warning("digest: no installed font has the chart's characters (install fonts-noto-cjk); "
                    "sent without the chart")
    return ready


def table(_: Translator, d: Digest) -> bytes:
    """Every listed matter as CSV (bot/export.py: UTF-8 with a byte-order mark, text never a formula)."""
    rows: list[list[object]] = [[_("List"), _("Number"), _("Kind"), _("Major"), _("Department"), _("Due date"),
                                 _("Days left (negative: overdue)")]]
    for label, items in ((_(measures.OVERDUE.msgid), d.overdue), (_(measures.DUE_SOON.msgid), d.due_soon),
                         (_(measures.OWING_NOTICE.msgid), d.owing_notice)):
        for m in items:
            rows.append([label, m.number, kind_label(_, m.kind), _("yes") if m.major else "", _department(_, m),
                         m.due_date.isoformat(), days_left(m.due_date, d.today)])
    return csv_bytes(rows)


def _local_start(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of a local day, as an aware moment."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)
