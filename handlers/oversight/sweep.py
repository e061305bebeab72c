"""Supervision that runs by itself (seed §12, §13, §16): the scheduler's sweep.

Every tick recomputes from the stored state what is due — deadlines coming and passed, the
progress notice a major matter owes, the weekly urging ladder, matters left untouched, the
monthly bulletin, replies left unrated — and fires each reminder at most once under its key
(rule, subject, period) in the `reminders` table, in the same transaction as its messages.
So a restart, a second tick or a tick after downtime never sends anything twice, and what
fell due while the bot was down is sent when it comes back. People are reminded only in
working time (bot/workdays.py); outside it the sweep waits.

The other areas' reminders (events, opinion cards, the half-year report, the digest) are theirs: the
sweep is given them as providers (handlers/oversight/reminders.py; the list is handlers/routes.py's
REMINDERS) and imports none of those areas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot import domain
from bot.config import Config
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Button, Incoming, Reply
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import Happened, State
from handlers.matters import notices
from handlers.oversight.reminders import Make, Provider, Reminder, Tick
from handlers.labels import kind_label
from handlers.liaison.contacts import quota_report
from storage import audit, casework, contacts, matters, people, supervision
from storage.db import Database, Tx, parse_ts
from storage.records import RECORDS

Build = Callable[[Matter], Reminder]
Lazy = tuple[str, int, Build]  # a reminder's key, its matter, and how to build it once the matter is read


FIRE_BATCH = 50
"""Reminders fired per transaction: each with its messages and effects atomically, and a day's hundreds
of them (a province's 09:00 tick) in short transactions rather than one that holds the writer for
seconds while deputies' and staff's updates wait."""


@dataclass
class Sweep:
    """What one sweep found and fired, by rule."""

    fired: dict[str, int] = field(default_factory=dict)
    skipped_outside_hours: bool = False


async def sweep(db: Database, config: Config, now: datetime, channels: frozenset[str],
                providers: Sequence[Provider]) -> Sweep:
    """Fire every reminder that is due now and has not fired before: the matters' own, then each area's
    (`providers`, in order: handlers/routes.py's REMINDERS)."""
    result = Sweep()
    if not config.calendar.is_working_time(now, config.unit.tz, config.supervision.hours):
        result.skipped_outside_hours = True
        return result
    async with db.snapshot() as q:
        candidates = await collect(q, config, now, providers)
        done = await supervision.fired(q, [c.key for c in candidates])
    todo = [c for c in candidates if c.key not in done]
    if not todo:
        return result
    for start in range(0, len(todo), FIRE_BATCH):  # short transactions: people's updates go between them
        async with db.transaction() as tx:
            ctx = system_context(tx, now, config, channels)
            for reminder in todo[start:start + FIRE_BATCH]:
                matter_id = reminder.matter.id if reminder.matter else None
                if not await supervision.fire(tx, reminder.key, reminder.rule, matter_id, now):
                    continue
                if reminder.effect is not None:
                    await reminder.effect(ctx)
                for person_id in dict.fromkeys(reminder.recipients):
                    await ctx.notify(person_id, reminder.make, matter_id=matter_id,
                                     dedup_key=f"{reminder.key}>{person_id}")
                result.fired[reminder.rule] = result.fired.get(reminder.rule, 0) + 1
    return result


def system_context(tx: Tx, now: datetime, config: Config, channels: frozenset[str]) -> Context:
    """A context for what the bot does of itself: no person, no chat to answer."""
    inc = Incoming(channel="system", user_id="scheduler", chat_id="")
    return Context(tx, inc, now, config, None, Translator(config.default_locale, config.unit.tz, config.terms),
                   channels=channels, records=RECORDS)


async def collect(q: Tx, config: Config, now: datetime, providers: Sequence[Provider]) -> list[Reminder]:
    """The reminders due today (the sweep skips any fired before).

    Set-based: the open matters are read once with what their rules look at, and the departments'
    staff once, so a tick costs a few queries however many matters are open. Each rule first works
    out its key, which costs little; the reminder itself (the matter, its recipients, what is said)
    is built only for keys that have not fired, so a tick where nothing is new builds nothing."""
    today = now.astimezone(config.unit.tz).date()
    office = await people.with_role(q, "office")
    discipline = await people.with_role(q, "discipline")
    leaders = await people.with_role(q, "leader")
    watched = await supervision.watched(q)
    staff = await supervision.staff_by_department(q)
    lazy: list[Lazy] = []
    urged: dict[int, int] = {}  # urgings since assignment, of the matters to be urged now: read below, before any build
    for w in watched:
        if w.state in supervision.DEADLINE_STATES:
            dept = staff.get(w.department_id) if w.department_id else None
            lazy += _deadline(config, w, dept, today, office, discipline)
    for w in watched:
        if w.state in supervision.URGED_STATES:
            dept = staff.get(w.department_id) if w.department_id else None
            lazy += _urging(config, w, dept, today, leaders, urged)
            lazy += _stale(config, w, dept, today, discipline)
    lazy += await _unrated(q, config, today)
    done = await supervision.fired(q, [key for key, _id, _build in lazy])
    todo = [(matter_id, build) for key, matter_id, build in lazy if key not in done]
    loaded = await supervision.matters_by_id(q, [matter_id for matter_id, _build in todo])
    urged.update(await supervision.urgings_since_assignment(
        q, [matter_id for key, matter_id, _build in lazy if key.startswith("urge:") and key not in done]))
    found = [build(loaded[matter_id]) for matter_id, build in todo]
    found += await _bulletin(q, config, today, leaders, watched, staff)
    found += await _quota(q, today, office)
    tick = Tick(q, config, now, today, office, leaders)
    for provider in providers:
        found += await provider(tick)
    return found


def _deadline(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
              office: list[int], discipline: list[int]) -> list[Lazy]:
    """§12, §13: due soon (the most urgent threshold reached), overdue (from the day after the due date,
    weekly), and the major matter's progress notice: each as its key and how to build it."""
    s = config.supervision
    found: list[Lazy] = []
    left = domain.days_left(w.due_date, today)
    week = domain.overdue_week(w.due_date, today)
    department_id, urger_id = w.department_id, w.urger_id

    def responsible() -> list[int]:  # the department's staff (the office's while unassigned), and the urger
        return ((dept.staff if dept else []) if department_id else office) + ([urger_id] if urger_id else [])

    if left >= 1:
        threshold = min((d for d in s.due_soon_days if left <= d), default=None)
        if threshold is not None:
            key = f"due:{threshold}:{w.id}:{w.due_date}"
            found.append((key, w.id, lambda m: Reminder(key, "due_soon", m, responsible(), _due_soon(m, left))))
    elif week is not None:  # the weeks counted from the day after the due date: the first one's notice
        # goes at the first working time in it, even a Monday after a Friday's due date
        days = domain.days_overdue(w.due_date, today)
        overdue = f"overdue:{w.id}:{w.due_date}:{week}"
        found.append((overdue, w.id, lambda m: Reminder(overdue, "overdue", m, responsible() + office + discipline,
                                                        _overdue(m, days))))
    if w.major and left <= s.major_notice_days:
        since, notice = w.since, w.notice
        if notice is None or (since is not None and notice < since):
            if left > 0:
                prompt = f"major_prompt:{w.id}:{w.due_date}"
                found.append((prompt, w.id, lambda m: Reminder(prompt, "major_notice", m, responsible(),
                                                               _major_prompt(m))))
            else:
                escalate = f"major_escalate:{w.id}:{w.due_date}"
                found.append((escalate, w.id, lambda m: Reminder(escalate, "major_escalate", m, office + discipline,
                                                                 _major_escalate(m))))
    return found


async def _quota(q: Tx, today: date, office: list[int]) -> list[Reminder]:
    """§11: every representative contacted once a year — the office is told who is not yet: monthly,
    and weekly in May-June and November-December, before the half-year and year-end summaries."""
    if today.month in (5, 6, 11, 12):
        iso = today.isocalendar()
        key = f"quota:{iso.year}-W{iso.week:02d}"
    else:
        key = f"quota:{today:%Y-%m}"
    if await supervision.fired(q, [key]):  # the coverage is counted only when it is to go out
        return []
    coverage = await contacts.coverage(q, today.year)
    if not coverage.not_contacted:
        return []
    return [Reminder(key, "quota", None, office, lambda _: quota_report(_, coverage))]


def _urging(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
            leaders: list[int], urged: dict[int, int]) -> list[Lazy]:
    """§13: a named person urging each case at set intervals, one step up the ladder each time.

    The intervals are counted from the assignment, one urging at most in each (its key); the rung is
    that of the urgings actually sent, so after downtime the one urging owed goes out once, to the
    next person up, never skipping one."""
    assigned = w.assigned_at
    if w.urger_id is None or w.department_id is None or assigned is None:
        return []
    interval = (today - _day(config, assigned)).days // config.supervision.urge_every_days
    if interval < 1:
        return []
    key = f"urge:{w.id}:{assigned}:{interval}"
    urger_id, urger_name = w.urger_id, w.urger_name or ""

    def build(m: Matter) -> Reminder:
        before = urged.get(m.id, 0)
        count, level = before + 1, domain.urging_rung(before)
        if level == 1:
            targets = [i for i, _name in dept.handlers] if dept else []
        elif level == 2:
            targets = [i for i, _name in dept.heads] if dept else []
        else:
            targets = leaders
        targets = targets or (dept.staff if dept else [])

        async def effect(ctx: Context) -> None:
            detail = {"count": count, "level": level}
            await matters.add_event(ctx.tx, m.id, "urged", actor_id=urger_id, public=False, now=ctx.now,
                                    detail=detail)
            await audit.record(ctx.tx, ctx.now, urger_id, "urged", matter_id=m.id, detail=detail)

        return Reminder(key, "urge", m, [*targets, urger_id], _urge(m, count, urger_name), effect)

    return [(key, w.id, build)]


def _stale(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
           discipline: list[int]) -> list[Lazy]:
    """§16: no action for N days: possibly perfunctory — flagged to discipline, naming who is responsible."""
    last = w.last_action
    idle = (today - _day(config, last)).days
    if idle < config.supervision.stale_days or w.department_id is None:
        return []
    key = f"stale:{w.id}:{last}"

    def build(m: Matter) -> Reminder:
        handler_names = "、".join(name for _i, name in (dept.handlers if dept else [])) or "-"
        head_names = "、".join(name for _i, name in (dept.heads if dept else [])) or "-"

        async def effect(ctx: Context) -> None:
            detail = {"idle_days": idle}
            await matters.add_event(ctx.tx, m.id, "stale", actor_id=None, public=False, now=ctx.now, detail=detail)
            await audit.record(ctx.tx, ctx.now, None, "stale_flag", matter_id=m.id, detail=detail)

        return Reminder(key, "stale", m, discipline, _stale_notice(m, idle, handler_names, head_names), effect)

    return [(key, w.id, build)]


async def _bulletin(q: Tx, config: Config, today: date, leaders: list[int], watched: list[supervision.Watched],
                    staff: dict[int, supervision.DepartmentStaff]) -> list[Reminder]:
    """§13 定期通报: monthly, per department: open, due within 7 days, overdue."""
    if today.day < config.supervision.bulletin_day:
        return []
    key = f"bulletin:{today:%Y-%m}"
    if await supervision.fired(q, [key]):
        return []
    counts: dict[int | None, list[int]] = {}
    for w in watched:  # open: the urged states and those not yet assigned
        row = counts.setdefault(w.department_id, [0, 0, 0])
        row[0] += 1
        left = domain.days_left(w.due_date, today)
        if w.state != State.CONCLUDED:
            row[1] += 0 <= left <= 7
            row[2] += domain.days_overdue(w.due_date, today) > 0
    rows: list[tuple[str, int, int, int]] = []
    recipients: list[int] = []
    for dept_id, name in await people.departments(q):
        n_open, soon, late = counts.get(dept_id, [0, 0, 0])
        rows.append((name, n_open, soon, late))
        dept = staff.get(dept_id)
        recipients += dept.staff if dept else []
    unassigned = counts.get(None, [0])[0]
    head = await audit.head(q)  # printed in the bulletin: the log's head kept outside the database
    return [Reminder(key, "bulletin", None, recipients + leaders, _bulletin_notice(today, rows, unassigned, head))]


async def _unrated(q: Tx, config: Config, today: date) -> list[Lazy]:
    """A reply not rated is asked about once more after N days, then recorded as unrated."""
    found: list[Lazy] = []
    wait = config.supervision.rerate_days
    waiting = await supervision.unrated(q)
    asking = [item for item in waiting if item.asked_again_at is None and (today - _day(config, item.sent_at)).days >= wait]
    texts = await supervision.reply_texts(q, [item.reply_id for item in asking]) if asking else {}
    for item in asking:
        text = texts[item.reply_id]
        key = f"rerate:{item.reply_id}"

        def ask_again(m: Matter, key: str = key, reply_id: int = item.reply_id,
                      text: supervision.ReplyText = text) -> Reminder:
            async def ask(ctx: Context) -> None:
                await supervision.mark_asked_again(ctx.tx, reply_id, ctx.now)

            make = notices.reply(reply_id, text.body, text.grounds, text.via, [])(m)
            return Reminder(key, "rerate", m, [m.representative_id], make, ask)

        found.append((key, item.matter_id, ask_again))
    for item in waiting:
        if item.asked_again_at is not None and (today - _day(config, item.asked_again_at)).days >= wait:
            key = f"unrated:{item.reply_id}"

            def record(m: Matter, key: str = key, reply_id: int = item.reply_id) -> Reminder:
                return Reminder(key, "unrated", m, [], _nothing, _record_unrated(m, reply_id))

            found.append((key, item.matter_id, record))
    return found


def _record_unrated(matter: Matter, reply_id: int) -> Callable[[Context], Awaitable[None]]:
    async def effect(ctx: Context) -> None:
        await casework.set_reply(ctx.tx, reply_id, ctx.now, rating="unrated")
        today = ctx.now.astimezone(ctx.config.unit.tz).date()
        await casework.save(ctx.tx, matter.id, ctx.now, life.rate(matter, "unrated", final_given=False, today=today,
                                                                  reopen_months=ctx.config.casework.reopen_months))
        await matters.add_event(ctx.tx, matter.id, Happened.UNRATED, actor_id=None, public=True, now=ctx.now, detail={})
        await audit.record(ctx.tx, ctx.now, None, "unrated", matter_id=matter.id, detail={"reply_id": reply_id})
    return effect


def _day(config: Config, stamp: str) -> date:
    return parse_ts(stamp).astimezone(config.unit.tz).date()


# -- what is said ----------------------------------------------------------------------


def _nothing(_: Translator) -> Reply:
    return Reply("")


def _open(_: Translator, m: Matter) -> tuple[tuple[Button, ...], ...]:
    return notices.open_button(_, m)


def _due_soon(m: Matter, left: int) -> Make:
    return lambda _: Reply(_("{number} ({kind}: {subject}) is due on {day}: {n} days left.", number=m.number,
                             kind=kind_label(_, m.kind), subject=m.subject, day=_.date(m.due_date), n=left),
                           title=_("Deadline approaching"), buttons=_open(_, m))


def _overdue(m: Matter, days: int) -> Make:
    return lambda _: Reply(_("{number} ({kind}: {subject}) is overdue: it was due on {day}, {n} days ago.",
                             number=m.number, kind=kind_label(_, m.kind), subject=m.subject,
                             day=_.date(m.due_date), n=days),
                           title=_("Overdue"), buttons=_open(_, m))


def _major_prompt(m: Matter) -> Make:
    return lambda _: Reply(_("{number} is a major matter due on {day}, and the representative has had no progress "
                             "notice yet. Please send one (a public progress note), as Article 12 of the {regulation} "
                             "asks.", number=m.number, day=_.date(m.due_date)),
                           title=_("Progress notice owed"), buttons=_open(_, m))


def _major_escalate(m: Matter) -> Make:
    return lambda _: Reply(_("{number}, a major matter, reached its due date {day} without a progress notice to the "
                             "representative.", number=m.number, day=_.date(m.due_date)),
                           title=_("Progress notice missing"), buttons=_open(_, m))


def _urge(m: Matter, count: int, urger: str) -> Make:
    return lambda _: Reply(_("Urging no. {count} from {urger}: {number} ({subject}) is due on {day}. Please press on "
                             "with it.", count=count, urger=urger, number=m.number, subject=m.subject,
                             day=_.date(m.due_date)), title=_("Urging"), buttons=_open(_, m))


def _stale_notice(m: Matter, idle: int, handlers_: str, heads: str) -> Make:
    return lambda _: Reply(_("{number}: no action for {n} days; possibly perfunctory handling (Article 16 of the "
                             "{regulation}). Handler: {handlers}; department head: {heads}.", number=m.number, n=idle,
                             handlers=handlers_, heads=heads), title=_("No action"), buttons=_open(_, m))


def _bulletin_notice(today: date, rows: list[tuple[str, int, int, int]], unassigned: int,
                     head: tuple[int, str] | None = None) -> Make:
    def build(_: Translator) -> Reply:
        lines = [_("{name}: {open} open, {soon} due within 7 days, {late} overdue", name=name, open=n_open,
                   soon=soon, late=late) for name, n_open, soon, late in rows]
        lines.append(_("Not yet assigned: {n}", n=unassigned))
        if head is not None:
            lines += ["", _("Audit log: {count} entries; the newest one's check value is {hash}. Please keep this "
                            "bulletin: the value shows later that no earlier entry was removed.",
                            count=head[0], hash=head[1])]
        return Reply("\n".join(lines), title=_("Progress bulletin, {month}", month=_.month(today)))
    return build
