"""Handling a matter: what every use case of the office, the departments, leaders and the representative
(seed §7, §12-§14) shares, and the small steps of handling it. Each use case re-reads the matter (`load`:
`permissions.may`), asks the matter's rules (`bot.matter.life`, `ready`), carries out the step they decide,
records the change on the timeline and in the audit log (`record_event`), and queues the messages it owes
— all in the caller's one transaction. Assigning, re-assigning and transferring are in `assignment.py`
(the departments open to a matter in `departments.py`), extensions in `extensions.py`, the
representative's rating in `rating.py`, the reply and its approvals in `replies.py`; the chat screens in
`screens.py` and `actions.py`, which check each value a person gives with the same rules (`ready`,
`check_*`) before the use case applies them again.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import domain
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.permissions import MatterAccess, Policy, may
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import Happened, ReplyState, State
from handlers.matters import notices
from handlers.matters.departments import departments_open_to
from storage import audit, casework, matters
from storage.db import parse_ts


def policy(ctx: Context) -> Policy:
    return Policy(extension_approver=ctx.config.casework.extension_approver)


async def load(ctx: Context, matter_id: int, action: str) -> Matter:
    """The matter as it is now, if this person may take `action` on it; refusals are audited."""
    matter = await matters.get(ctx.tx, ctx.scope, matter_id)
    if matter is None:
        raise NotFoundError("No such matter.")
    if not may(ctx.person, "view", access(matter)) and not may(ctx.person, action, access(matter), policy(ctx)):
        # someone else's matter is answered exactly like one that does not exist, but audited
        raise PermissionDeniedError.of(action, matter.id, "No such matter.")
    if not may(ctx.person, action, access(matter), policy(ctx)):
        raise PermissionDeniedError.of(action, matter.id, "You may not do this to this matter.")
    return matter


def access(matter: Matter) -> MatterAccess:
    return MatterAccess(matter.representative_id, matter.department_id, matter.unit_id)


def require_state(matter: Matter, action: str) -> None:
    if not life.allowed(action, matter.state, owes_final_reply=matter.owes_final_reply):
        raise UserError("Matter {number} is now “{state}”: this cannot be done at this stage.",
                        number=matter.number, state=notices.state_word(matter.state))


async def ready(ctx: Context, matter: Matter, action: str) -> None:
    """Refuse now, before anything is asked for, what `action` could not do to the matter as it stands."""
    if action in life.TRANSITIONS:
        require_state(matter, action)
    if action in ("cannot_meet", "draft_reply") and await casework.open_reply(ctx.tx, matter.id) is not None:
        raise UserError("A reply to this matter is already waiting for approval.")
    if action == "transfer" and await casework.open_reply(ctx.tx, matter.id) is not None:
        raise UserError("A reply to {number} is waiting for approval; it must be approved or returned before the "
                        "matter can be transferred.", number=matter.number)
    if action == "request_extension":
        if await casework.pending_extension(ctx.tx, matter.id) is not None:
            raise UserError("An extension of this matter is already waiting for a decision.")
        if not extension_choices(ctx, matter):
            raise UserError("{number} is due on {day}, the latest date an extension may reach ({months} months after "
                            "registration, Article 12 of the {regulation}): no further extension can be asked for.",
                            number=matter.number,
                            day=ctx._.date(matter.due_date), months=ctx.config.casework.extension_cap_months)
    if action == "record_rating":
        await paper_reply_to_rate(ctx, matter)
    if action == "decide_extension" and await casework.pending_extension(ctx.tx, matter.id) is None:
        raise UserError("No extension of this matter is waiting for a decision.")
    if action in ("return_reply", "leader_return"):
        draft = await casework.open_reply(ctx.tx, matter.id)
        if draft is None or draft.state != (ReplyState.AWAITING_LEADER if action == "leader_return" else ReplyState.DRAFT):
            raise UserError("No reply to this matter is waiting for your approval.")
    if action in ("assign", "reassign") and not await departments_open_to(ctx, matter, action):
        raise UserError("No department can take {number} now: none has a handler who uses this service, or Article 14 "
                        "of the {regulation} excludes it. Please ask the administrator to add a handler to a department "
                        "and send them an invite.", number=matter.number)


def extension_choices(ctx: Context, matter: Matter) -> list[date]:
    """The due dates an extension may grant: a month at a time, capped (§12; at most 6 months)."""
    return life.extension_choices(matter, registered(matter), ctx.config.unit.tz,
                                  ctx.config.casework.extension_cap_months)


async def paper_reply_to_rate(ctx: Context, matter: Matter) -> casework.ReplyRecord:
    """The latest reply, given on paper and waiting for its rating: what a returned feedback form rates."""
    last = await casework.last_sent_reply(ctx.tx, matter.id)
    if last is None or last.via != "paper":
        raise UserError("{number} has no reply given on paper: there is no feedback form to record.",
                        number=matter.number)
    if matter.state != State.REPLIED or last.rating not in (None, "unrated"):
        raise UserError("The latest reply to {number} has been rated already: a feedback form cannot be recorded for "
                        "it.", number=matter.number)
    return last


async def record_event(ctx: Context, matter: Matter, event: str, *, public: bool, detail: dict[str, object]
                       ) -> None:
    actor = ctx.person.id if ctx.person else None
    await matters.add_event(ctx.tx, matter.id, event, actor_id=actor, public=public, now=ctx.now, detail=detail)
    # The timeline shows notes and reasons to those who may read them; the audit log, kept for
    # ever, takes only ids and codes.
    kept = {k: v for k, v in detail.items() if k not in audit.FORBIDDEN_KEYS and k != "reason"}
    await audit.record(ctx.tx, ctx.now, actor, event, matter_id=matter.id, detail=kept)


async def assigned_people(ctx: Context, matter: Matter) -> set[int]:
    """Those the matter is assigned to now: its department's staff and its urger."""
    found = set(await casework.department_staff(ctx.tx, matter.department_id)) if matter.department_id else set()
    if matter.urger_id:
        found.add(matter.urger_id)
    return found


async def tell_work_ended(ctx: Context, matter: Matter, make: notices.StaffNotice, told: int | None = None
                          ) -> None:
    """Everyone the matter was assigned to hears of a change that ends their work: its department and urger
    (but not `told`, who has heard of it already)."""
    for person_id in sorted(await assigned_people(ctx, matter) - {told}):
        await notices.to_staff(ctx, person_id, matter, make)


def actor_id(ctx: Context) -> int:
    assert ctx.person is not None
    return ctx.person.id


def registered(matter: Matter) -> datetime:
    """When the matter was registered: where its clocks start."""
    return parse_ts(matter.registered_at)


# -- the smaller steps: marking major, progress notes, conclusion, joint on-site supervision --------


async def mark_major(ctx: Context, matter_id: int) -> None:
    """Flag a major, difficult or complex matter (§12: it owes progress notices; its reply a leader's approval)."""
    matter = await load(ctx, matter_id, "mark_major")
    require_state(matter, "mark_major")
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.mark_major(matter))
    await record_event(ctx, matter, "major" if not matter.major else "not_major", public=False, detail={})


async def progress(ctx: Context, matter_id: int, note: str, public: bool) -> None:
    """A progress note; a public one is sent to the representative as a progress notice (§7, §12)."""
    matter = await load(ctx, matter_id, "progress")
    require_state(matter, "progress")
    if not note.strip():
        raise UserError("Please write the progress note.")
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.progress(matter))  # an empty step still counts as action
    await record_event(ctx, matter, "progress_public" if public else "progress_internal", public=public,
                       detail={"note": note} if public else {"note": note, "internal": True})
    if public:
        await notices.to_representative(ctx, matter, notices.progress(note))


async def conclude(ctx: Context, matter_id: int, outcome: str) -> None:
    """办结 with an outcome class: A resolved, B being resolved, C planned/limited, D for reference."""
    matter = await load(ctx, matter_id, "conclude")
    require_state(matter, "conclude")
    if outcome not in domain.OUTCOMES:
        raise UserError("Please choose an outcome class.")
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.conclude(matter, outcome))
    await record_event(ctx, matter, Happened.CONCLUDED, public=True, detail={"outcome": outcome})


async def onsite(ctx: Context, matter_id: int, participants: str, findings: str) -> None:
    """联合现场督办 (§13): discipline inspection, the office and the department on site; its findings recorded."""
    matter = await load(ctx, matter_id, "onsite")
    require_state(matter, "onsite")
    if not participants.strip() or not findings.strip():
        raise UserError("Please name the participants and record the findings.")
    await casework.touch(ctx.tx, ctx.scope, matter.id, ctx.now)
    await record_event(ctx, matter, "onsite", public=False, detail={"note": f"{participants}\n{findings}"})
    for person_id in await casework.department_staff(ctx.tx, matter.department_id or 0):
        await notices.to_staff(ctx, person_id, matter, notices.onsite_recorded(matter, findings))
