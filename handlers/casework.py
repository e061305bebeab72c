"""Handling a matter: the use cases of the office, the departments, leaders and the representative
(seed §7, §12-§14). Each one re-reads the matter, asks `permissions.may` and `domain.can`,
applies the clause's rule, records the change on the timeline and in the audit log, and queues
the messages it owes — all in the caller's one transaction. The chat screens are in `staff.py`.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import domain
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.messages import OutFile
from bot.permissions import MatterAccess, Policy, may
from handlers import notices
from handlers.contacts import record_reply_contact
from storage import audit, casework, matters, people
from storage.db import parse_ts
from storage.matters import Matter, StoredFile


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
    if not domain.can(action, matter.state, owes_final_reply=matter.owes_final_reply):
        raise UserError("Matter {number} is now “{state}”: this cannot be done at this stage.",
                        number=matter.number, state=notices.state_word(matter.state))


async def _record(ctx: Context, matter: Matter, event: str, *, public: bool, detail: dict[str, object]) -> None:
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
    department = await people.department_name(ctx.tx, department_id)
    urger = await people.get(ctx.tx, urger_id)
    if department is None:
        raise NotFoundError("No such department.")
    if urger is None or "office" not in urger.roles:
        raise UserError("The urger must be a member of the office.")
    check_assignable(matter, department_id, department)
    await casework.update(ctx.tx, matter.id, ctx.now, state="assigned", department_id=department_id,
                          urger_id=urger_id)
    await _record(ctx, matter, "assigned", public=True, detail={"department_id": department_id, "urger_id": urger_id})
    await notices.to_representative(ctx, matter, notices.assigned(department))
    for person_id in {*await casework.department_staff(ctx.tx, department_id), urger_id}:
        await notices.to_staff(ctx, person_id, matter, notices.new_assignment(matter, department, urger.name))
    return matter


def check_assignable(matter: Matter, department_id: int, department: str) -> None:
    """§14: refuse the department that handled a disputed case originally, at first and on reopening."""
    if domain.conflicts_with_original(matter.disputes_own_handling, matter.original_department_id, department_id):
        raise UserError("Under Article 14 of the {regulation}, this appeal disputes the handling of {department}, "
                        "so it cannot be assigned to that department. Please choose another.", department=department)


async def mark_major(ctx: Context, matter_id: int) -> None:
    """Flag a major, difficult or complex matter (§12: it owes progress notices; its reply a leader's approval)."""
    matter = await load(ctx, matter_id, "mark_major")
    require_state(matter, "mark_major")
    await casework.update(ctx.tx, matter.id, ctx.now, major=int(not matter.major))
    await _record(ctx, matter, "major" if not matter.major else "not_major", public=False, detail={})


async def transfer(ctx: Context, matter_id: int, authority: str, explanation: str) -> None:
    """§12 "receive first, explain, then transfer": record the competent authority, explain, close."""
    matter = await load(ctx, matter_id, "transfer")
    require_state(matter, "transfer")
    if len(explanation.strip()) < 20:
        raise UserError("Please explain to the representative, in at least {n} characters, why this is outside "
                        "our jurisdiction.", n=20)
    await casework.update(ctx.tx, matter.id, ctx.now, state="transferred", transferred_to=authority,
                          closed_at=ctx.now)
    await _record(ctx, matter, "transferred", public=True, detail={"authority": authority, "note": explanation})
    await notices.to_representative(ctx, matter, notices.transferred(authority, explanation))


async def cannot_meet(ctx: Context, matter_id: int, explanation: str, grounds: str) -> None:
    """§12: a request that cannot be met is explained patiently; the explanation is the reply."""
    matter = await load(ctx, matter_id, "cannot_meet")
    require_state(matter, "cannot_meet")
    check_reply(ctx, explanation, grounds)
    reply_id = await casework.add_reply(ctx.tx, matter.id, "cannot_meet", explanation, grounds, "chat", "sent",
                                        _actor(ctx), ctx.now)
    await casework.update(ctx.tx, matter.id, ctx.now, state="replied")
    await _record(ctx, matter, "cannot_meet", public=True, detail={"reply_id": reply_id})
    await notices.to_representative(ctx, matter, notices.reply(reply_id, explanation, grounds, "chat", []))
    await record_reply_contact(ctx, matter, "chat")  # a reply is a contact too (seed §11)


# -- the department --------------------------------------------------------------------


async def progress(ctx: Context, matter_id: int, note: str, public: bool) -> None:
    """A progress note; a public one is sent to the representative as a progress notice (§7, §12)."""
    matter = await load(ctx, matter_id, "progress")
    require_state(matter, "progress")
    if not note.strip():
        raise UserError("Please write the progress note.")
    if matter.state == "assigned":
        await casework.update(ctx.tx, matter.id, ctx.now, state="in_progress")
    else:
        await casework.touch(ctx.tx, matter.id, ctx.now)
    await _record(ctx, matter, "progress_public" if public else "progress_internal", public=public,
                  detail={"note": note} if public else {"note": note, "internal": True})
    if public:
        await notices.to_representative(ctx, matter, notices.progress(note))


async def request_extension(ctx: Context, matter_id: int, reason: str) -> None:
    """申请延期: the department asks, with a reason; the office (or a leader) decides."""
    matter = await load(ctx, matter_id, "request_extension")
    require_state(matter, "request_extension")
    if await casework.pending_extension(ctx.tx, matter.id) is not None:
        raise UserError("An extension of this matter is already waiting for a decision.")
    if len(reason.strip()) < 10:
        raise UserError("Please give the reason for the extension (at least {n} characters).", n=10)
    await casework.add_extension(ctx.tx, matter.id, reason, _actor(ctx), matter.due_date, ctx.now)
    await casework.touch(ctx.tx, matter.id, ctx.now)
    await _record(ctx, matter, "extension_requested", public=False, detail={"reason": reason})
    for person_id in await people.with_role(ctx.tx, ctx.config.casework.extension_approver):
        await notices.to_staff(ctx, person_id, matter, notices.extension_requested(matter, reason))


def extension_choices(ctx: Context, matter: Matter) -> list[date]:
    """The due dates an extension may grant: a month at a time, capped (§12; at most 6 months)."""
    cap = domain.extension_cap(_registered(matter), ctx.config.unit.tz, ctx.config.casework.extension_cap_months)
    choices = [domain.add_months(matter.due_date, n) for n in (1, 2, 3)]
    return sorted({min(day, cap) for day in choices if day > matter.due_date and min(day, cap) > matter.due_date})


async def decide_extension(ctx: Context, matter_id: int, new_due: date | None, note: str = "") -> None:
    """Approve with a new due date (capped), or refuse; the representative receives a progress notice."""
    matter = await load(ctx, matter_id, "decide_extension")
    pending = await casework.pending_extension(ctx.tx, matter.id)
    if pending is None:
        raise UserError("No extension of this matter is waiting for a decision.")
    if new_due is None:
        await casework.decide_extension(ctx.tx, pending.id, "refused", _actor(ctx), ctx.now, None, note)
        await _record(ctx, matter, "extension_refused", public=False, detail={})
    else:
        cap = domain.extension_cap(_registered(matter), ctx.config.unit.tz, ctx.config.casework.extension_cap_months)
        if new_due > cap or new_due <= matter.due_date:
            raise UserError("The new due date must be after the present one and at most {months} months after "
                            "registration.", months=ctx.config.casework.extension_cap_months)
        await casework.decide_extension(ctx.tx, pending.id, "approved", _actor(ctx), ctx.now, new_due, note)
        await casework.update(ctx.tx, matter.id, ctx.now, due_date=new_due)
        await _record(ctx, matter, "extended", public=True, detail={"due": new_due.isoformat()})
        await notices.to_representative(ctx, matter, notices.extended(new_due))
    await notices.to_staff(ctx, pending.requested_by, matter, notices.extension_decided(matter, new_due))


async def conclude(ctx: Context, matter_id: int, outcome: str) -> None:
    """办结 with an outcome class: A resolved, B being resolved, C planned/limited, D for reference."""
    matter = await load(ctx, matter_id, "conclude")
    require_state(matter, "conclude")
    if outcome not in domain.OUTCOMES:
        raise UserError("Please choose an outcome class.")
    await casework.update(ctx.tx, matter.id, ctx.now, state="concluded", outcome=outcome,
                          owes_final_reply=int(outcome in domain.OWES_FINAL_REPLY), concluded_at=ctx.now)
    await _record(ctx, matter, "concluded", public=True, detail={"outcome": outcome})


async def draft_reply(ctx: Context, matter_id: int, body: str, grounds: str, via: str,
                      files: list[StoredFile]) -> int:
    """The department drafts the reply (§14: outcome and grounds, not too brief); the office approves."""
    matter = await load(ctx, matter_id, "draft_reply")
    require_state(matter, "draft_reply")
    if await casework.open_reply(ctx.tx, matter.id) is not None:
        raise UserError("A reply to this matter is already waiting for approval.")
    if via not in domain.REPLY_VIA:
        raise UserError("Please choose how the reply is given.")
    check_reply(ctx, body, grounds)
    kind = "final" if matter.state == "rated" else "reply"
    reply_id = await casework.add_reply(ctx.tx, matter.id, kind, body, grounds, via, "draft", _actor(ctx), ctx.now)
    await matters.add_files(ctx.tx, matter.id, files, ctx.now, reply_id=reply_id)
    await casework.touch(ctx.tx, matter.id, ctx.now)
    await _record(ctx, matter, "reply_drafted", public=False, detail={"reply_id": reply_id, "via": via})
    for person_id in await people.with_role(ctx.tx, "office"):
        await notices.to_staff(ctx, person_id, matter, notices.reply_to_approve(matter))
    return reply_id


def check_reply(ctx: Context, body: str, grounds: str) -> None:
    problem = domain.reply_problem(body, grounds, ctx.config.casework.min_reply_chars)
    if problem == "no_grounds":
        raise UserError("Under Article 14 of the {regulation}, a reply must give its grounds (理由/依据). "
                        "Please state them.")
    if problem == "too_short":
        raise UserError("Under Article 14 of the {regulation}, a reply must not be too brief: it has {n} "
                        "characters, at least {min} are needed for the outcome and its grounds.",
                        n=len(body.strip()) + len(grounds.strip()), min=ctx.config.casework.min_reply_chars)


async def approve_reply(ctx: Context, matter_id: int, as_leader: bool = False) -> None:
    """The office approves; a major matter's reply then also needs a leader's; then it goes out."""
    matter = await load(ctx, matter_id, "leader_approve" if as_leader else "approve_reply")
    draft = await casework.open_reply(ctx.tx, matter.id)
    expected = "awaiting_leader" if as_leader else "draft"
    if draft is None or draft.state != expected:
        raise UserError("No reply of this matter is waiting for your approval.")
    if not as_leader and matter.major and ctx.config.casework.leader_approves_major:
        await casework.set_reply(ctx.tx, draft.id, ctx.now, state="awaiting_leader", approved_by=_actor(ctx))
        await _record(ctx, matter, "reply_to_leader", public=False, detail={"reply_id": draft.id})
        for person_id in await people.with_role(ctx.tx, "leader"):
            await notices.to_staff(ctx, person_id, matter, notices.reply_to_approve(matter))
        return
    fields = {"leader_by": _actor(ctx)} if as_leader else {"approved_by": _actor(ctx)}
    await casework.set_reply(ctx.tx, draft.id, ctx.now, state="sent", **fields)
    await casework.update(ctx.tx, matter.id, ctx.now, state="replied")
    await _record(ctx, matter, "replied", public=True, detail={"reply_id": draft.id, "via": draft.via})
    stored = await matters.files(ctx.tx, matter.id, reply_id=draft.id)
    files = [OutFile(f.path, f.name, "photo" if f.kind == "photo" else "document") for f in stored]
    await notices.to_representative(ctx, matter, notices.reply(draft.id, draft.body, draft.grounds, draft.via,
                                                               files))
    await notices.to_staff(ctx, draft.drafted_by, matter, await notices.reply_sent(ctx, matter))
    await record_reply_contact(ctx, matter, draft.via)  # a reply is a contact too (seed §11)


async def return_reply(ctx: Context, matter_id: int, note: str, as_leader: bool = False) -> None:
    """Send the draft back to the department with a comment."""
    matter = await load(ctx, matter_id, "leader_approve" if as_leader else "return_reply")
    draft = await casework.open_reply(ctx.tx, matter.id)
    if draft is None or draft.state != ("awaiting_leader" if as_leader else "draft"):
        raise UserError("No reply of this matter is waiting for your approval.")
    if not note.strip():
        raise UserError("Please say what should be changed.")
    await casework.set_reply(ctx.tx, draft.id, ctx.now, state="returned", return_note=note)
    await _record(ctx, matter, "reply_returned", public=False, detail={"reply_id": draft.id, "note": note})
    await notices.to_staff(ctx, draft.drafted_by, matter, notices.reply_returned(matter, note))


async def onsite(ctx: Context, matter_id: int, participants: str, findings: str) -> None:
    """联合现场督办 (§13): discipline inspection, the office and the department on site; its findings recorded."""
    matter = await load(ctx, matter_id, "onsite")
    require_state(matter, "onsite")
    if not participants.strip() or not findings.strip():
        raise UserError("Please name the participants and record the findings.")
    await casework.touch(ctx.tx, matter.id, ctx.now)
    await _record(ctx, matter, "onsite", public=False, detail={"note": f"{participants}\n{findings}"})
    for person_id in await casework.department_staff(ctx.tx, matter.department_id or 0):
        await notices.to_staff(ctx, person_id, matter, notices.onsite_recorded(matter, findings))


# -- the representative ----------------------------------------------------------------


async def rate(ctx: Context, matter_id: int, reply_id: int, rating: str, comment: str) -> str:
    """§14: 满意 / 基本满意 / 不满意; 不满意 reopens with a new clock and alerts office and discipline."""
    matter = await load(ctx, matter_id, "rate")
    last = await casework.last_sent_reply(ctx.tx, matter.id)
    if matter.state != "replied" or last is None or last.id != reply_id or last.rating not in (None, "unrated"):
        raise UserError("This reply has been rated already, or is not the latest one.")
    if rating not in domain.RATINGS:
        raise UserError("Please choose one of the buttons.")
    await casework.set_reply(ctx.tx, last.id, ctx.now, rating=rating, rating_note=comment or None)
    state = domain.after_rating(rating, matter.outcome, final_given=last.kind == "final")
    changes: dict[str, object] = {"state": state}
    if state == "reopened":
        tz = ctx.config.unit.tz
        changes.update(reopened=matter.reopened + 1, outcome=None, owes_final_reply=0, due_date=domain.add_months(
            ctx.now.astimezone(tz).date(), ctx.config.casework.reopen_months))
    if state == "closed":
        changes["closed_at"] = ctx.now
    await casework.update(ctx.tx, matter.id, ctx.now, **changes)
    await _record(ctx, matter, f"rated_{rating}", public=True, detail={"reply_id": last.id})
    if state == "reopened":
        for role in ("office", "discipline"):
            for person_id in await people.with_role(ctx.tx, role):
                await notices.to_staff(ctx, person_id, matter, await notices.dissatisfied(ctx, matter, comment))
    elif matter.department_id is not None:
        for person_id in await casework.department_staff(ctx.tx, matter.department_id):
            await notices.to_staff(ctx, person_id, matter, await notices.rated(ctx, matter, rating))
    return state


def _actor(ctx: Context) -> int:
    assert ctx.person is not None
    return ctx.person.id


def _registered(matter: Matter) -> datetime:
    return parse_ts(matter.registered_at)
