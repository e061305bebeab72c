"""The deadline sweep's own rules for the matters (seed §12, §13, §16): due soon and overdue, the progress
notice a major matter owes, the weekly urging ladder, matters left untouched, replies left unrated, the
monthly bulletin and the yearly contacts quota. Each rule works out a reminder's key first, cheaply; the
reminder itself is built only for a key that has not fired (handlers/oversight/sweep.py fires it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from bot import domain
from bot.config import Config
from bot.context import Context
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import Happened, State
from bot.model import UnitScope
from handlers.matters import notices
from handlers.oversight import sweep_notices as say
from handlers.oversight.reminders import Make, Reminder, Tick, Ticks, keyed
from handlers.liaison.quota import quota_report
from storage import audit, casework, contacts, matters, people, supervision
from storage.db import Tx, parse_ts

Build = Callable[[Matter], Reminder]
Lazy = tuple[str, int, Build]  # a reminder's key, its matter, and how to build it once the matter is read


def deadline(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
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
            found.append((key, w.id, lambda m: Reminder(key, "due_soon", m, responsible(), say.due_soon(m, left))))
    elif week is not None:  # the weeks counted from the day after the due date: the first one's notice
        # goes at the first working time in it, even a Monday after a Friday's due date
        days = domain.days_overdue(w.due_date, today)
        overdue = f"overdue:{w.id}:{w.due_date}:{week}"
        found.append((overdue, w.id, lambda m: Reminder(overdue, "overdue", m, responsible() + office + discipline,
                                                        say.overdue(m, days))))
    if w.major and left <= s.major_notice_days:
        since, notice = w.since, w.notice
        if notice is None or (since is not None and notice < since):
            if left > 0:
                prompt = f"major_prompt:{w.id}:{w.due_date}"
                found.append((prompt, w.id, lambda m: Reminder(prompt, "major_notice", m, responsible(),
                                                               say.major_prompt(m))))
            else:
                escalate = f"major_escalate:{w.id}:{w.due_date}"
                found.append((escalate, w.id, lambda m: Reminder(escalate, "major_escalate", m, office + discipline,
                                                                 say.major_escalate(m))))
    return found


async def quotas(ticks: Ticks) -> list[Reminder]:
    """§11: every representative contacted once a year — each unit's office is told who of its representatives is
    not yet: monthly, and weekly in May-June and November-December, before the half-year and year-end summaries."""
    today = ticks.today
    if today.month in (5, 6, 11, 12):
        iso = today.isocalendar()
        period = f"quota:{iso.year}-W{iso.week:02d}"
    else:
        period = f"quota:{today:%Y-%m}"
    keys = {tick.scope.unit: keyed(tick.scope, period) for tick in ticks.units}
    done = await supervision.fired(ticks.q, list(keys.values()))
    found: list[Reminder] = []
    for tick in ticks.units:
        key = keys[tick.scope.unit]
        if key in done:  # the coverage is counted only when it is to go out
            continue
        coverage = await contacts.coverage(ticks.q, tick.scope, today.year)
        if coverage.not_contacted:
            found.append(Reminder(key, "quota", None, tick.office, _quota_report(coverage), unit=tick.scope.unit))
    return found


def _quota_report(coverage: contacts.Coverage) -> Make:
    return lambda _: quota_report(_, coverage)


def urging(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
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

        return Reminder(key, "urge", m, [*targets, urger_id], say.urge(m, count, urger_name), effect)

    return [(key, w.id, build)]


def stale(config: Config, w: supervision.Watched, dept: supervision.DepartmentStaff | None, today: date,
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

        return Reminder(key, "stale", m, discipline, say.stale_notice(m, idle, handler_names, head_names), effect)

    return [(key, w.id, build)]


async def bulletins(ticks: Ticks, watched: list[supervision.Watched],
                    staff: dict[int, supervision.DepartmentStaff]) -> list[Reminder]:
    """§13 定期通报: monthly, per department of each unit: open, due within 7 days, overdue (`watched`: the open
    matters), to the unit's departments and leaders."""
    today = ticks.today
    if today.day < ticks.config.supervision.bulletin_day:
        return []
    keys = {tick.scope.unit: keyed(tick.scope, f"bulletin:{today:%Y-%m}") for tick in ticks.units}
    done = await supervision.fired(ticks.q, list(keys.values()))
    found: list[Reminder] = []
    for tick in ticks.units:
        if keys[tick.scope.unit] not in done:
            found.append(await _bulletin(tick, keys[tick.scope.unit],
                                         [w for w in watched if w.unit_id == tick.scope.unit], staff))
    return found


async def _bulletin(tick: Tick, key: str, watched: list[supervision.Watched],
                    staff: dict[int, supervision.DepartmentStaff]) -> Reminder:
    q, today, scope = tick.q, tick.today, tick.scope
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
    for dept_id, name in (await people.department_names(q, scope)).items():  # a county's handling ours too
        n_open, soon, late = counts.get(dept_id, [0, 0, 0])
        rows.append((name, n_open, soon, late))
        dept = staff.get(dept_id)
        recipients += dept.staff if dept else []
    unassigned = counts.get(None, [0])[0]
    head = await audit.head(q)  # printed in the bulletin: the log's head kept outside the database
    return Reminder(key, "bulletin", None, recipients + tick.leaders,
                    say.bulletin_notice(today, rows, unassigned, head), unit=scope.unit)


async def unrated(q: Tx, config: Config, today: date) -> list[Lazy]:
    """A reply not rated is asked about once more after N days, then recorded as unrated."""
    found: list[Lazy] = []
    wait = config.supervision.rerate_days
    waiting = await supervision.unrated(q)
    asking = [item for item in waiting
              if item.asked_again_at is None and (today - _day(config, item.sent_at)).days >= wait]
    texts = await supervision.reply_texts(q, [item.reply_id for item in asking]) if asking else {}
    for item in asking:
        text = texts[item.reply_id]
        key = f"rerate:{item.reply_id}"

        def ask_again(m: Matter, key: str = key, reply_id: int = item.reply_id,
                      text: supervision.ReplyText = text) -> Reminder:
            async def ask(ctx: Context) -> None:
                await supervision.mark_asked_again(ctx.tx, reply_id, ctx.now)

            make = notices.reply(reply_id, text.body, text.grounds, text.via, [], text.kind)(m)
            return Reminder(key, "rerate", m, [m.representative_id], make, ask)

        found.append((key, item.matter_id, ask_again))
    for item in waiting:
        if item.asked_again_at is not None and (today - _day(config, item.asked_again_at)).days >= wait:
            key = f"unrated:{item.reply_id}"

            def record(m: Matter, key: str = key, reply_id: int = item.reply_id) -> Reminder:
                return Reminder(key, "unrated", m, [], say.nothing, _record_unrated(m, reply_id))

            found.append((key, item.matter_id, record))
    return found


def _record_unrated(matter: Matter, reply_id: int) -> Callable[[Context], Awaitable[None]]:
    async def effect(ctx: Context) -> None:
        await casework.set_reply(ctx.tx, reply_id, ctx.now, rating="unrated")
        today = ctx.today
        step = life.rate(matter, "unrated", final_given=False, today=today,
                         reopen_months=ctx.config.casework.reopen_months)
        await casework.save(ctx.tx, UnitScope.of(matter.unit_id), matter.id, ctx.now, step)  # the sweep: every unit
        await matters.add_event(ctx.tx, matter.id, Happened.UNRATED, actor_id=None, public=True, now=ctx.now, detail={})
        await audit.record(ctx.tx, ctx.now, None, "unrated", matter_id=matter.id, detail={"reply_id": reply_id})
    return effect


def _day(config: Config, stamp: str) -> date:
    return parse_ts(stamp).astimezone(config.unit.tz).date()

