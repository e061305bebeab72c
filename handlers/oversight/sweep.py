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
REMINDERS) and imports none of those areas. The sweep's own rules for the matters are in
handlers/oversight/matter_rules.py, what they say in handlers/oversight/sweep_notices.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Incoming
from bot.model import UnitScope
from handlers.oversight import matter_rules as rules
from handlers.oversight.reminders import Provider, Reminder, Tick, Ticks
from storage import people, supervision, units
from storage.db import Database, Tx
from storage.records import RECORDS


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
    # read on a connection of its own, off the event loop: at a province's scale the set-based read of every
    # open matter takes a good part of a second (docs/performance.md §3), and chats are served meanwhile
    async with db.long_read() as q:
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
                unit = reminder.matter.unit_id if reminder.matter else reminder.unit
                if not await supervision.fire(tx, reminder.key, reminder.rule, matter_id, now, unit):
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
    # by unit: a matter's reminders go to its own unit's office, discipline inspection and leaders
    office = await people.with_role_by_unit(q, "office")
    discipline = await people.with_role_by_unit(q, "discipline")
    leaders = await people.with_role_by_unit(q, "leader")
    watched = await supervision.watched(q)
    staff = await supervision.staff_by_department(q)
    lazy: list[rules.Lazy] = []
    urged: dict[int, int] = {}  # urgings since assignment, of the matters to be urged now: read below, before any build
    for w in watched:
        if w.state in supervision.DEADLINE_STATES:
            dept = staff.get(w.department_id) if w.department_id else None
            lazy += rules.deadline(config, w, dept, today, office.get(w.unit_id, []), discipline.get(w.unit_id, []))
    for w in watched:
        if w.state in supervision.URGED_STATES:
            dept = staff.get(w.department_id) if w.department_id else None
            lazy += rules.urging(config, w, dept, today, leaders.get(w.unit_id, []), urged)
            lazy += rules.stale(config, w, dept, today, discipline.get(w.unit_id, []))
    lazy += await rules.unrated(q, config, today)
    done = await supervision.fired(q, [key for key, _id, _build in lazy])
    todo = [(matter_id, build) for key, matter_id, build in lazy if key not in done]
    loaded = await supervision.matters_by_id(q, [matter_id for matter_id, _build in todo])
    urged.update(await supervision.urgings_since_assignment(
        q, [matter_id for key, matter_id, _build in lazy if key.startswith("urge:") and key not in done]))
    found = [build(loaded[matter_id]) for matter_id, build in todo]
    # each unit's own bulletin, quota and areas' reminders, to its own staff: each read once for all the units
    ticks = Ticks(q, config, now, today, tuple(
        Tick(q, config, now, today, office.get(unit.id, []), leaders.get(unit.id, []), UnitScope.of(unit.id))
        for unit in await units.listed(q)))
    found += await rules.bulletins(ticks, watched, staff)
    found += await rules.quotas(ticks)
    for provider in providers:
        found += await provider(ticks)
    return found
