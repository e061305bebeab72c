"""Events (seed §5, §15; SPEC §6): forums, work reports, inspections, open days, home visits and
case discussions, with invitations answered by button, preparation tasks for the departments
named, attendance, and a contact logged for every attendee (seed §11).

The use cases — `create`, `answer`, `mark_prepared`, `record_attendance` — check who may act
and what the event allows now, write the change with its audit entry and queue the messages
it owes, in the caller's one transaction. The dialogues that gather what they need are in
`handlers/liaison/event_dialogs.py`, the office's screens and the buttons in `handlers/liaison/event_screens.py`,
the reminders in `handlers/liaison/event_reminders.py`; the command line's `event add` calls `create` too.
What an event needs is checked in `event_details.py`; what invitees and departments are told is
`event_notices.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_
from bot.permissions import may, require
from bot.matter.model import Matter
from bot.matter import life
from handlers.common import unit_name
from handlers.liaison.event_details import check_details, prepare_by
from handlers.liaison.event_notices import invitation, preparation_task
from storage import audit, casework, contacts, events, matters, people
from storage.events import Event, Preparation

# The contact each attendee gets (SPEC §6 methods). An open day invites deputies to come and see
# the work, as an inspection does; a case discussion is a meeting of no listed method.
CONTACT_METHODS: Final = {
    "forum": "forum", "work_report": "work_report", "inspection": "inspection", "open_day": "inspection",
    "visit": "home_visit", "case_discussion": "other", "other": "other",
}
AUDIENCES: Final = ("all", "npc", "cppcc", "sector", "supervisors", "named")
AUDIENCE_LABELS: Final = {
    "all": N_("All NPC deputies and CPPCC members"),
    "npc": N_("NPC deputies"),
    "cppcc": N_("CPPCC members"),
    "sector": N_("A sector"),
    "supervisors": N_("Law-enforcement supervisors"),
    "named": N_("Named people"),
}
MAX_REASON: Final = 200
NAMES_SHOWN: Final = 30  # per group on an event's card; the rest are counted
LIST_LIMIT: Final = 20


def local_day(ctx: Context, moment: datetime) -> date:
    return moment.astimezone(ctx.config.unit.tz).date()


# -- creating an event -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewEvent:
    kind: str
    title: str
    starts_at: datetime
    place: str
    audience: str  # all | npc | cppcc | sector:NAME | supervisors | named
    departments: list[int] = field(default_factory=list)
    named: list[int] = field(default_factory=list)
    matter_id: int | None = None  # a case discussion's matter


@dataclass(frozen=True)
class Created:
    event_id: int
    invited: int
    reached: int  # invitees with a chat bound, who received the invitation


async def discussable(ctx: Context, matter_id: int | None) -> Matter:
    """The matter of a case discussion: one that is being handled (not closed or transferred)."""
    matter = await matters.get(ctx.tx, ctx.scope, matter_id, own=True) if matter_id is not None else None
    if matter is None:
        raise NotFoundError("No such matter. Please send its number, e.g. LS-2026-0001.")
    if life.is_closed(matter.state):
        raise UserError("{number} is closed; a case discussion is for a matter still being handled.",
                        number=matter.number)
    return matter


async def audience_ids(ctx: Context, audience: str, named: list[int]) -> list[int]:
    """Whom an audience means today."""
    q = ctx.tx
    if audience == "all":
        return await people.representative_ids(q, ctx.scope)
    if audience in ("npc", "cppcc"):
        return await people.representative_ids(q, ctx.scope, body=audience)
    if audience.startswith("sector:"):
        return await people.representative_ids(q, ctx.scope, sector=audience.removeprefix("sector:"))
    if audience == "supervisors":
        return [s.person_id for s in await events.supervisors(q, ctx.scope, ctx.today)]
    if audience == "named":
        found = [await people.get(q, i) for i in dict.fromkeys(named)]
        if not all(p is not None and p.is_representative for p in found):
            raise StaleActionError("This button is no longer valid.")
        return [p.id for p in found if p is not None]
    raise ValueError(f"unknown audience {audience!r}")


async def create(ctx: Context, new: NewEvent, *, operator: bool = False) -> Created:
    """Create the event, its preparation tasks and invitations, and send them; `operator`: from the command line."""
    if not operator:
        require(ctx.person, "manage_events")
    check_details(ctx, kind=new.kind, title=new.title, place=new.place, starts_at=new.starts_at)
    matter = None
    if new.kind == "case_discussion":
        matter = await discussable(ctx, new.matter_id)
        if new.audience not in ("supervisors", "named"):
            raise UserError("A case discussion invites law-enforcement supervisors.")
    invitees = await audience_ids(ctx, new.audience, new.named)
    if matter is not None:
        for person_id in invitees:
            if not await events.is_supervisor(ctx.tx, ctx.scope, person_id, ctx.today):
                person = await people.get(ctx.tx, person_id)
                raise UserError("{name} is not a law-enforcement supervisor; a case discussion invites supervisors "
                                "only.", name=person.name if person else "?")
    if not invitees:
        raise UserError("Nobody on the roster matches; there is nobody to invite.")
    ours = dict(await people.departments(ctx.tx, ctx.scope))
    for department_id in new.departments:
        if department_id not in ours:
            raise NotFoundError("No such department.")
    actor = ctx.person.id if ctx.person else None
    event_id = await events.add(ctx.tx, ctx.scope, new.kind, " ".join(new.title.split()), new.starts_at,
                                " ".join(new.place.split()), matter.id if matter else None, new.audience, actor,
                                ctx.now)
    deadline = prepare_by(local_day(ctx, new.starts_at), ctx.today, ctx.config.calendar)
    for department_id in dict.fromkeys(new.departments):
        await events.add_preparation(ctx.tx, event_id, department_id, deadline)
    await events.invite(ctx.tx, event_id, invitees, ctx.now)
    event = await events.get(ctx.tx, ctx.scope, event_id)
    assert event is not None
    make = invitation(event, matter, await unit_name(ctx))
    reached = 0
    for person_id in invitees:
        reached += await ctx.notify(person_id, make, matter_id=event.matter_id,
                                    dedup_key=f"event:{event_id}:invite:{person_id}")
    for prep in await events.preparations(ctx.tx, event_id):
        for staff_id in await casework.department_staff(ctx.tx, prep.department_id):
            await ctx.notify(staff_id, preparation_task(event, prep, first=True),
                             dedup_key=f"event:{event_id}:task:{prep.department_id}:{staff_id}")
    await audit.record(ctx.tx, ctx.now, actor, "event_created", matter_id=event.matter_id,
                       detail={"event_id": event_id, "kind": new.kind, "audience": new.audience.split(":")[0],
                               "invited": len(invitees), "departments": list(dict.fromkeys(new.departments))})
    return Created(event_id, len(invitees), reached)


# -- answering an invitation ---------------------------------------------------------------------


async def answer(ctx: Context, event_id: int, accept: bool) -> Event:
    """参加 / 不参加: the invitee's own answer, until the event begins; a new answer replaces the old."""
    person = ctx.person
    event = await events.invited_to(ctx.tx, person.id, event_id) if person is not None else None
    mine = await events.invitation(ctx.tx, event_id, person.id) if person is not None and event else None
    if event is None or mine is None or person is None:
        raise NotFoundError("This invitation is not for you, or no longer exists.")
    if event.state != "planned" or ctx.now >= event.starts_at:
        raise UserError("“{title}” has already taken place; the invitation can no longer be answered.",
                        title=event.title)
    state = "accepted" if accept else "declined"
    await events.answer(ctx.tx, event_id, person.id, state, ctx.now)
    await audit.record(ctx.tx, ctx.now, person.id, "event_answered", detail={"event_id": event_id, "answer": state})
    return event


async def give_reason(ctx: Context, event_id: int, reason: str) -> bool:
    """Why the invitee will not attend; False when they have since accepted."""
    person = ctx.person
    assert person is not None
    if len(reason) > MAX_REASON:
        raise UserError("The text is too long: at most {max} characters.", max=MAX_REASON)
    return await events.set_reason(ctx.tx, event_id, person.id, reason)


# -- preparation ---------------------------------------------------------------------------------


async def mark_prepared(ctx: Context, event_id: int, department_id: int) -> tuple[Event, Preparation]:
    """A department (or the office) marks its preparation done."""
    person = ctx.person
    event = await events.get(ctx.tx, ctx.scope, event_id)
    task = next((p for p in await events.preparations(ctx.tx, event_id) if p.department_id == department_id), None) \
        if event is not None else None
    if event is None or task is None:
        raise NotFoundError("No such preparation task.")
    if person is None or not may(person, "mark_prepared", None) or not (
            "office" in person.roles or person.department_id == department_id):
        raise PermissionDeniedError.of("mark_prepared", event.matter_id,
                                       "Only the department concerned or the liaison office can mark this done.")
    if task.done_at is not None or not await events.mark_prepared(ctx.tx, event_id, department_id, person.id,
                                                                  ctx.now):
        raise UserError("The preparation by {department} is marked done already.", department=task.department)
    await audit.record(ctx.tx, ctx.now, person.id, "event_prepared",
                       detail={"event_id": event_id, "department_id": department_id})
    return event, task


# -- attendance, and what it counts for ------------------------------------------------------------


def require_begun(ctx: Context, event: Event) -> None:
    if event.state == "cancelled":
        raise UserError("This event was cancelled.")
    if ctx.now < event.starts_at:
        raise UserError("“{title}” has not begun yet: attendance is recorded once it has.", title=event.title)


async def record_attendance(ctx: Context, event_id: int, person_ids: list[int]) -> list[int]:
    """Record who came; each newcomer gets a contact of the event's method on its day (seed §11)."""
    require(ctx.person, "record_attendance")
    event = await load(ctx, event_id)
    require_begun(ctx, event)
    for person_id in person_ids:
        person = await people.get(ctx.tx, person_id)
        if person is None or not person.is_representative:
            raise StaleActionError("This button is no longer valid.")
    added = await events.record_attendance(ctx.tx, event_id, person_ids, ctx.person.id if ctx.person else None,
                                           ctx.now)
    staff_id = ctx.person.id if ctx.person is not None and ctx.person.body is None else None
    for person_id in added:
        await contacts.add(ctx.tx, ctx.scope.unit, person_id, CONTACT_METHODS[event.kind], local_day(ctx, event.starts_at), staff_id,
                           event.title, "event", ctx.now, source_ref=str(event.id))
    await events.mark_held(ctx.tx, event_id, ctx.now)
    await audit.record(ctx.tx, ctx.now, ctx.person.id if ctx.person else None, "attendance_recorded",
                       matter_id=event.matter_id, detail={"event_id": event_id, "attendees": added})
    return added


# -- the office's screens --------------------------------------------------------------------------


async def load(ctx: Context, event_id: int) -> Event:
    event = await events.get(ctx.tx, ctx.scope, event_id)
    if event is None:
        raise NotFoundError("No such event.")
    return event
