"""Handling a matter: the use cases of the office, the departments, leaders and the representative
(seed §7, §12-§14). Each one re-reads the matter, asks `permissions.may` and the matter's
rules (`bot.matter.life`), carries out the step they decide, records the change on the timeline and in the audit log, and queues
the messages it owes — all in the caller's one transaction. The reply and its approvals are in
`replies.py`; the chat screens in `screens.py` and `actions.py`, which check each value a person gives
with the same rules (`ready`, `check_*`) before the use case applies them again.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import domain
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.messages import OutFile
from bot.permissions import MatterAccess, Policy, may
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import ExtensionState, Happened, ReplyState, State
from handlers.matters import notices, slips
from storage import audit, casework, matters, people
from storage.db import parse_ts

MIN_TRANSFER_EXPLANATION = 20
MIN_EXTENSION_REASON = 10
MAX_AUTHORITY = 100


def policy(ctx: Context) -> Policy:
    return Policy(extension_approver=ctx.config.casework.extension_approver)


async def load(ctx: Context, matter_id: int, action: str) -> Matter:
    """The matter as it is now, if this person may take `action` on it; refusals are audited."""
    matter = await matters.get(ctx.tx, matter_id)
    if matter is None:
        raise NotFoundError("No such matter.")
    if not may(ctx.person, "view", access(matter)) and not may(ctx.person, action, access(matter), policy(ctx)):
        # someone else's matter is answered exactly like one that does not exist, but audited
        raise PermissionDeniedError.of(action, matter.id, "No such matter.")
    if not may(ctx.person, action, access(matter), policy(ctx)):
        raise PermissionDeniedError.of(action, matter.id, "You may not do this to this matter.")
    return matter


def access(matter: Matter) -> MatterAccess:
    return MatterAccess(matter.representative_id, matter.department_id)


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
            raise UserError("No reply of this matter is waiting for your approval.")
    if action in ("assign", "reassign") and not await _departments_open_to(ctx, matter, action):
        raise UserError("No department can take {number} now: none has a handler who uses this service, or Article 14 "
                        "of the {regulation} excludes it. Please ask the administrator to add a handler to a department "
                        "and send them an invite.", number=matter.number)


async def record_event(ctx: Context, matter: Matter, event: str, *, public: bool, detail: dict[str, object]
                       ) -> None:
    actor = ctx.person.id if ctx.person else None
    await matters.add_event(ctx.tx, matter.id, event, actor_id=actor, public=public, now=ctx.now, detail=detail)
    # The timeline shows notes and reasons to those who may read them; the audit log, kept for
    # ever, takes only ids and codes.
    kept = {k: v for k, v in detail.items() if k not in audit.FORBIDDEN_KEYS and k != "reason"}
    await audit.record(ctx.tx, ctx.now, actor, event, matter_id=matter.id, detail=kept)


# -- the office ------------------------------------------------------------------------


async def assign(ctx: Context, matter_id: int, department_id: int, urger_id: int) -> Matter:
    """Give the matter to a department, with a named office urger (§13); never against §14."""
    matter = await load(ctx, matter_id, "assign")
    require_state(matter, "assign")
    department = await check_department(ctx, matter, department_id, "assign")
    urger = await _urger(ctx, urger_id)
    await casework.save(ctx.tx, matter.id, ctx.now, life.assign(matter, department_id, urger_id))
    await record_event(ctx, matter, Happened.ASSIGNED, public=True,
                       detail={"department_id": department_id, "urger_id": urger_id})
    await notices.to_representative(ctx, matter, notices.assigned(department))
    staff = set(await casework.department_staff(ctx.tx, department_id))
    slip = await _slip(ctx, matter.id) if staff - {actor_id(ctx)} else None
    for person_id in sorted({*staff, urger_id}):
        await notices.to_staff(ctx, person_id, matter, notices.new_assignment(
            matter, department, urger.name, (slip,) if slip and person_id in staff else ()))
    return matter


async def _slip(ctx: Context, matter_id: int) -> OutFile:
    """The assignment slip 交办单 of the matter as this transaction leaves it, for its department (who may see
    the complainant: SPEC §1)."""
    assigned = await matters.get(ctx.tx, matter_id)
    assert assigned is not None
    return await slips.slip_file(ctx, assigned, personal=True)


async def reassign(ctx: Context, matter_id: int, department_id: int, urger_id: int, reason: str) -> None:
    """改派: the office gives an assigned, unconcluded matter to another department (§13). Both departments,
    the urgers and the representative are told; §14 holds again; the due date runs on unchanged."""
    matter = await load(ctx, matter_id, "reassign")
    require_state(matter, "reassign")
    department = await check_department(ctx, matter, department_id, "reassign")
    urger = await _urger(ctx, urger_id)
    if not reason.strip():
        raise UserError("Please give the reason for the re-assignment.")
    old_id = matter.department_id or 0
    old = await people.department_name(ctx.tx, old_id) or ""
    await casework.save(ctx.tx, matter.id, ctx.now, life.reassign(matter, department_id, urger_id))
    await record_event(ctx, matter, Happened.REASSIGNED, public=True, detail={
        "from_department_id": matter.department_id, "department_id": department_id, "urger_id": urger_id,
        "reason": reason})
    await notices.to_representative(ctx, matter, notices.reassigned(department))
    leaving = set(await casework.department_staff(ctx.tx, old_id))
    staff = set(await casework.department_staff(ctx.tx, department_id))
    taking = {*staff, urger_id}
    if matter.urger_id:
        taking.add(matter.urger_id)  # an urger replaced hears who urges it now
    slip = await _slip(ctx, matter.id) if staff - {actor_id(ctx)} else None
    for person_id in sorted(taking):
        await notices.to_staff(ctx, person_id, matter, notices.reassigned_here(
            matter, old, department, urger.name, reason, (slip,) if slip and person_id in staff else ()))
    for person_id in sorted(leaving - taking):
        await notices.to_staff(ctx, person_id, matter, notices.reassigned_away(matter, old, department, reason))


async def department_choices(ctx: Context, matter: Matter, action: str) -> list[tuple[int, str, bool]]:
    """(id, name, staffed) of the departments to offer for `action` (assign or reassign): all but the present
    one; `staffed` when someone there uses this service (see `check_department`)."""
    staffed = await casework.staffed_departments(ctx.tx)
    return [(i, name, i in staffed) for i, name in await people.departments(ctx.tx)
            if not (action == "reassign" and i == matter.department_id)]


async def _departments_open_to(ctx: Context, matter: Matter, action: str) -> list[int]:
    return [i for i, _name, staffed in await department_choices(ctx, matter, action) if staffed
            and not life.conflicts(matter, i)]


async def check_department(ctx: Context, matter: Matter, department_id: int, action: str) -> str:
    """The department's name, if the matter may go to it now: §14, and someone there to handle it.

    A department where no handler or head is bound to a chat would receive the matter in silence:
    nobody told, nobody able to record progress, conclude or draft the reply, only the urger's reminders
    going out. The office is refused with the reason, rather than warned: such an assignment can
    only end in a re-assignment, and until it is made the matter stays in the office's own inbox."""
    department = await people.department_name(ctx.tx, department_id)
    if department is None:
        raise NotFoundError("No such department.")
    if action == "reassign" and department_id == matter.department_id:
        raise UserError("{number} is already handled by {department}. Please choose another department.",
                        number=matter.number, department=department)
    check_assignable(matter, department_id, department)
    if department_id not in await casework.staffed_departments(ctx.tx):
        raise UserError("{department} has no handler who uses this service yet: nobody there would be told of "
                        "{number}, or could act on it. Please choose another department, or ask the administrator "
                        "to add a handler to {department} and send them an invite.", department=department,
                        number=matter.number)
    return department


async def _urger(ctx: Context, urger_id: int) -> people.Person:
    urger = await people.get(ctx.tx, urger_id)
    if urger is None or "office" not in urger.roles:
        raise UserError("The urger must be a member of the office.")
    return urger


def check_assignable(matter: Matter, department_id: int, department: str) -> None:
    """§14: refuse the department that handled a disputed case originally, at first and on reopening."""
    if life.conflicts(matter, department_id):
        raise UserError("Under Article 14 of the {regulation}, this appeal disputes the handling of {department}, "
                        "so it cannot be assigned to that department. Please choose another.", department=department)


async def mark_major(ctx: Context, matter_id: int) -> None:
    """Flag a major, difficult or complex matter (§12: it owes progress notices; its reply a leader's approval)."""
    matter = await load(ctx, matter_id, "mark_major")
    require_state(matter, "mark_major")
    await casework.save(ctx.tx, matter.id, ctx.now, life.mark_major(matter))
    await record_event(ctx, matter, "major" if not matter.major else "not_major", public=False, detail={})


def check_authority(authority: str) -> None:
    if not authority.strip():
        raise UserError("Please send the name of the competent authority.")
    if len(authority.strip()) > MAX_AUTHORITY:
        raise UserError("The name of the authority is too long: {n} characters, at most {max}.",
                        n=len(authority.strip()), max=MAX_AUTHORITY)


def check_transfer_explanation(explanation: str) -> None:
    if len(explanation.strip()) < MIN_TRANSFER_EXPLANATION:
        raise UserError("Please explain to the representative, in at least {n} characters, why this is outside "
                        "our jurisdiction; this explanation has {have}.", n=MIN_TRANSFER_EXPLANATION,
                        have=len(explanation.strip()))


async def transfer(ctx: Context, matter_id: int, authority: str, explanation: str) -> None:
    """§12 "receive first, explain, then transfer": record the competent authority, explain, close."""
    matter = await load(ctx, matter_id, "transfer")
    await ready(ctx, matter, "transfer")
    check_authority(authority)
    check_transfer_explanation(explanation)
    await casework.save(ctx.tx, matter.id, ctx.now, life.transfer(matter, authority))
    await record_event(ctx, matter, Happened.TRANSFERRED, public=True,
                       detail={"authority": authority.strip(), "note": explanation})  # /my shows it again
    await notices.to_representative(ctx, matter, notices.transferred(authority.strip(), explanation))
    await tell_work_ended(ctx, matter, notices.work_ended_by_transfer(matter, authority.strip()))


async def tell_work_ended(ctx: Context, matter: Matter, make: notices.StaffNotice, told: int | None = None
                          ) -> None:
    """Everyone the matter was assigned to hears of a change that ends their work: its department and urger
    (but not `told`, who has heard of it already)."""
    targets = set(await casework.department_staff(ctx.tx, matter.department_id)) if matter.department_id else set()
    if matter.urger_id:
        targets.add(matter.urger_id)
    for person_id in sorted(targets - {told}):
        await notices.to_staff(ctx, person_id, matter, make)


# -- the department --------------------------------------------------------------------


async def progress(ctx: Context, matter_id: int, note: str, public: bool) -> None:
    """A progress note; a public one is sent to the representative as a progress notice (§7, §12)."""
    matter = await load(ctx, matter_id, "progress")
    require_state(matter, "progress")
    if not note.strip():
        raise UserError("Please write the progress note.")
    await casework.save(ctx.tx, matter.id, ctx.now, life.progress(matter))  # an empty step still counts as action
    await record_event(ctx, matter, "progress_public" if public else "progress_internal", public=public,
                       detail={"note": note} if public else {"note": note, "internal": True})
    if public:
        await notices.to_representative(ctx, matter, notices.progress(note))


async def request_extension(ctx: Context, matter_id: int, reason: str) -> None:
    """申请延期: the department asks, with a reason; the office (or a leader) decides."""
    matter = await load(ctx, matter_id, "request_extension")
    await ready(ctx, matter, "request_extension")
    check_extension_reason(reason)
    await casework.add_extension(ctx.tx, matter.id, reason, actor_id(ctx), matter.due_date, ctx.now)
    await casework.touch(ctx.tx, matter.id, ctx.now)
    await record_event(ctx, matter, "extension_requested", public=False, detail={"reason": reason})
    for person_id in await people.with_role(ctx.tx, ctx.config.casework.extension_approver):
        await notices.to_staff(ctx, person_id, matter, notices.extension_requested(matter, reason))


def check_extension_reason(reason: str) -> None:
    if len(reason.strip()) < MIN_EXTENSION_REASON:
        raise UserError("The reason for the extension is too brief: {have} characters, at least {n} are needed.",
                        have=len(reason.strip()), n=MIN_EXTENSION_REASON)


def extension_choices(ctx: Context, matter: Matter) -> list[date]:
    """The due dates an extension may grant: a month at a time, capped (§12; at most 6 months)."""
    return life.extension_choices(matter, _registered(matter), ctx.config.unit.tz,
                                  ctx.config.casework.extension_cap_months)


async def decide_extension(ctx: Context, matter_id: int, new_due: date | None, note: str = "") -> None:
    """Approve with a new due date (capped), or refuse; the representative receives a progress notice."""
    matter = await load(ctx, matter_id, "decide_extension")
    pending = await casework.pending_extension(ctx.tx, matter.id)
    if pending is None:
        raise UserError("No extension of this matter is waiting for a decision.")
    if new_due is None:
        await casework.decide_extension(ctx.tx, pending.id, ExtensionState.REFUSED, actor_id(ctx), ctx.now, None, note)
        await record_event(ctx, matter, "extension_refused", public=False, detail={})
    else:
        cap = domain.extension_cap(_registered(matter), ctx.config.unit.tz, ctx.config.casework.extension_cap_months)
        if new_due > cap or new_due <= matter.due_date:
            raise UserError("The new due date must be after the present one and at most {months} months after "
                            "registration.", months=ctx.config.casework.extension_cap_months)
        await casework.decide_extension(ctx.tx, pending.id, ExtensionState.APPROVED, actor_id(ctx), ctx.now, new_due, note)
        await casework.save(ctx.tx, matter.id, ctx.now, life.extend(matter, new_due, _registered(matter),
                                                                  ctx.config.unit.tz,
                                                                  ctx.config.casework.extension_cap_months))
        await record_event(ctx, matter, Happened.EXTENDED, public=True, detail={"due": new_due.isoformat()})
        await notices.to_representative(ctx, matter, notices.extended(new_due))
    await notices.to_staff(ctx, pending.requested_by, matter, notices.extension_decided(matter, new_due))


async def conclude(ctx: Context, matter_id: int, outcome: str) -> None:
    """办结 with an outcome class: A resolved, B being resolved, C planned/limited, D for reference."""
    matter = await load(ctx, matter_id, "conclude")
    require_state(matter, "conclude")
    if outcome not in domain.OUTCOMES:
        raise UserError("Please choose an outcome class.")
    await casework.save(ctx.tx, matter.id, ctx.now, life.conclude(matter, outcome))
    await record_event(ctx, matter, Happened.CONCLUDED, public=True, detail={"outcome": outcome})


async def onsite(ctx: Context, matter_id: int, participants: str, findings: str) -> None:
    """联合现场督办 (§13): discipline inspection, the office and the department on site; its findings recorded."""
    matter = await load(ctx, matter_id, "onsite")
    require_state(matter, "onsite")
    if not participants.strip() or not findings.strip():
        raise UserError("Please name the participants and record the findings.")
    await casework.touch(ctx.tx, matter.id, ctx.now)
    await record_event(ctx, matter, "onsite", public=False, detail={"note": f"{participants}\n{findings}"})
    for person_id in await casework.department_staff(ctx.tx, matter.department_id or 0):
        await notices.to_staff(ctx, person_id, matter, notices.onsite_recorded(matter, findings))


# -- the representative ----------------------------------------------------------------


async def rate(ctx: Context, matter_id: int, reply_id: int, rating: str, comment: str, *, on_paper: bool = False
               ) -> State:
    """§14: 满意 / 基本满意 / 不满意; 不满意 reopens with a new clock and alerts office and discipline.
    `on_paper`: the office records the feedback form 征询意见表 returned for a reply given on paper (seed §7);
    it counts exactly as the representative's own rating, and the representative is told it was recorded."""
    matter = await load(ctx, matter_id, "record_rating" if on_paper else "rate")
    last = await paper_reply_to_rate(ctx, matter) if on_paper else await casework.last_sent_reply(ctx.tx, matter.id)
    if matter.state != State.REPLIED or last is None or last.id != reply_id or last.rating not in (None, "unrated"):
        raise UserError("This reply has been rated already, or is not the latest one.")
    if rating not in domain.RATINGS:
        raise UserError("Please choose one of the buttons.")
    await casework.set_reply(ctx.tx, last.id, ctx.now, rating=rating, rating_note=comment or None)
    step = life.rate(matter, rating, final_given=last.kind == "final",
                     today=ctx.now.astimezone(ctx.config.unit.tz).date(), reopen_months=ctx.config.casework.reopen_months)
    state = step.state
    assert state is not None
    await casework.save(ctx.tx, matter.id, ctx.now, step)
    await record_event(ctx, matter, f"rated_{rating}", public=True,
                       detail={"reply_id": last.id, **({"on_paper": True} if on_paper else {})})
    due = step.due_date or matter.due_date  # a new one only when it reopens
    if on_paper:
        await notices.to_representative(ctx, matter, notices.paper_rating_recorded(rating, state, due))
    if state == State.REOPENED:
        await _announce_reopening(ctx, matter, comment, due)
    elif matter.department_id is not None:
        for person_id in await casework.department_staff(ctx.tx, matter.department_id):
            await notices.to_staff(ctx, person_id, matter, await notices.rated(ctx, matter, rating))
    return state


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


async def _announce_reopening(ctx: Context, matter: Matter, comment: str, due: date) -> None:
    """§14: 不满意 reopens the matter: the timeline shows the new due date; office and discipline inspection
    are alerted; the department that handled it and the urger are told it comes back, and by when. (The
    department that takes it next — another one, for a disputed appeal — hears it from the assignment.)"""
    await record_event(ctx, matter, Happened.REOPENED, public=True, detail={"due": due.isoformat()})
    alerted: set[int] = set()
    alert = await notices.dissatisfied(ctx, matter, comment)
    for role in ("office", "discipline"):
        for person_id in await people.with_role(ctx.tx, role):
            alerted.add(person_id)
            await notices.to_staff(ctx, person_id, matter, alert)
    told = set(await casework.department_staff(ctx.tx, matter.department_id)) if matter.department_id else set()
    if matter.urger_id:
        told.add(matter.urger_id)
    back = await notices.reopened(ctx, matter, due)
    for person_id in sorted(told - alerted):
        await notices.to_staff(ctx, person_id, matter, back)


def actor_id(ctx: Context) -> int:
    assert ctx.person is not None
    return ctx.person.id


def _registered(matter: Matter) -> datetime:
    return parse_ts(matter.registered_at)
