"""Reminders of events and of the supervisors' number (seed §6, §15), fired by the deadline
sweep (handlers/oversight/sweep.py): each once under its key, only in working time, never lost
across a restart. For each planned event that has not begun:

- two days before its day, the office: who has not answered (not on the day it was created:
  nobody has had time to answer yet);
- on the last working day before its day, those who accepted: its time and place;
- each department with a preparation task: on the deadline and each working day after it,
  until the task is marked done or the event begins;
- an hour before it begins, those who accepted and the staff of the departments preparing.
  People are reminded only in working time, so when the hour before falls outside it (an
  event at 09:00 with working hours from 08:30) the reminder goes at the first sweep in
  working time before the start (08:30); when no sweep in working time comes before the
  start (an event at 08:00, or at 19:00) it is not sent: the day-before reminder gave the
  time and place already.

And monthly, the office is told when fewer than 5 or more than 10 supervisors are in office.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot import callbacks
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.workdays import Calendar
from handlers.labels import listed
from handlers.liaison.event_notices import open_button, preparation_task, when_where
from handlers.oversight.reminders import Make, Reminder, Ticks, keyed
from handlers.liaison.supervisors import count_warning
from storage import events, supervision
from storage.events import Event

NAMES_SHOWN = 50


def eve_of(day: date, calendar: Calendar) -> date:
    """The last working day before `day` (Friday for a Monday; before a holiday, the day before it)."""
    eve = day - timedelta(days=1)
    for _ in range(30):
        if calendar.is_workday(eve):
            break
        eve -= timedelta(days=1)
    return eve


async def collect(ticks: Ticks) -> list[Reminder]:
    """The event reminders due now, in every unit. An event's invitations (thousands, for an event with everyone)
    are read only when a reminder that needs them is due and has not fired yet."""
    q, config, today, now = ticks.q, ticks.config, ticks.today, ticks.now
    found: list[Reminder] = []
    tz = config.unit.tz
    staff: dict[int, supervision.DepartmentStaff] | None = None
    coming = [event for event in await events.planned(q, ticks.scope) if now < event.starts_at]
    keys: dict[int, dict[str, str]] = {}
    wanted: dict[int, list[str]] = {}
    for event in coming:
        day = event.starts_at.astimezone(tz).date()
        created = event.created_at.astimezone(tz).date()
        keys[event.id] = {"unanswered": f"event_unanswered:{event.id}", "eve": f"event_eve:{event.id}",
                          "hour": f"event_hour:{event.id}"}
        due = {"unanswered": (day - today).days <= 2 and today > created,
               "eve": eve_of(day, config.calendar) <= today < day,
               "hour": now >= event.starts_at - timedelta(hours=1)}
        wanted[event.id] = [keys[event.id][k] for k, is_due in due.items() if is_due]
    done = await supervision.fired(q, [key for w in wanted.values() for key in w]) if coming else set()
    preparations = await events.preparations_of(q, [event.id for event in coming])
    for event in coming:
        its, office = keys[event.id], ticks.of(event.unit_id).office
        created = event.created_at.astimezone(tz).date()
        pending = set(wanted[event.id]) - done
        invited = await events.invitations(q, event.id) if pending else []
        accepted = [i.person_id for i in invited if i.state == "accepted"]
        silent = [i.name for i in invited if i.state == "invited"]
        if silent and its["unanswered"] in pending:
            found.append(Reminder(its["unanswered"], "event_unanswered", None, office,
                                  _unanswered(event, silent, len(invited)), unit=event.unit_id))
        if accepted and its["eve"] in pending:
            found.append(Reminder(its["eve"], "event_eve", None, accepted, _eve(event), unit=event.unit_id))
        members_of: list[int] = []
        for prep in preparations.get(event.id, []):
            if staff is None:
                staff = await supervision.staff_by_department(q)
            dept = staff.get(prep.department_id)
            members = dept.staff if dept else []
            members_of += members
            if prep.done_at is None and today >= prep.deadline and today > created:
                found.append(Reminder(f"event_prep:{event.id}:{prep.department_id}:{today}", "event_prep", None,
                                      members, preparation_task(event, prep), unit=event.unit_id))
        if its["hour"] in pending and (accepted or members_of):
            found.append(Reminder(its["hour"], "event_hour", None, accepted + members_of, _soon(event),
                                  unit=event.unit_id))
    return found + await _supervisors_warning(ticks)


async def _supervisors_warning(ticks: Ticks) -> list[Reminder]:
    """Each unit's office, once a month, when its number of supervisors in office is out of bounds (§15)."""
    q, today = ticks.q, ticks.today
    keys = {tick.scope.unit: keyed(tick.scope, f"supervisors:{today:%Y-%m}") for tick in ticks.units}
    done = await supervision.fired(q, list(keys.values()))
    found: list[Reminder] = []
    for tick in ticks.units:
        key = keys[tick.scope.unit]
        if key in done:  # counted only until this month's warning has gone out
            continue
        n = len(await events.supervisors(q, tick.scope, today))
        if count_warning(Translator(ticks.config.default_locale, ticks.config.unit.tz), n) is not None:
            found.append(Reminder(key, "supervisors", None, tick.office, _supervisors(n), unit=tick.scope.unit))
    return found


def _unanswered(event: Event, names: list[str], invited: int) -> Make:
    def build(_: Translator) -> Reply:
        shown = listed(_, names, NAMES_SHOWN, gap=" ")
        lines = [_("{n} of the {invited} invited to {title} have not answered:", n=len(names), invited=invited,
                   title=event.title), shown, *when_where(_, event)]
        return Reply("\n".join(lines), title=_("Invitations not answered"), buttons=open_button(_, event))
    return build


def _eve(event: Event) -> Make:
    return lambda _: Reply("\n".join([_("A reminder: you will attend {title}.", title=event.title),
                                      *when_where(_, event), _("Thank you; we look forward to seeing you.")]),
                           title=_("Reminder"))


def _soon(event: Event) -> Make:
    return lambda _: Reply("\n".join([_("{title} begins soon.", title=event.title), *when_where(_, event),
                                      _("Please arrive on time.")]), title=_("Reminder"))


def _supervisors(n: int) -> Make:
    return lambda _: Reply(count_warning(_, n) or "", title=_("Law-enforcement supervisors"), buttons=(
        (Button(_("Law-enforcement supervisors"), callbacks.encode("sv", "list")),),))
