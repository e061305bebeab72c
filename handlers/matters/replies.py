"""A matter's reply (seed §7, §12, §14): the department drafts it, the office approves it, a major matter's
also a leader; the office's explanation that a request cannot be met is a reply too, with the same
approvals. §14's quality rule (the outcome and its grounds, each not too brief, nor the whole) is
checked here, the same way when each part is typed and when the reply is made.
"""

from __future__ import annotations

from bot import domain
from bot.context import Context
from bot.errors import UserError
from bot.messages import OutFile
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import Happened, ReplyState
from bot.model import UnitScope
from handlers.matters import notices
from handlers.matters.casework import actor_id, load, ready, record_event, tell_work_ended
from handlers.liaison.contacts import record_reply_contact
from storage import casework, matters, people
from storage.casework import ReplyRecord
from storage.matters import StoredFile


async def cannot_meet(ctx: Context, matter_id: int, explanation: str, grounds: str,
                      files: list[StoredFile] | None = None) -> bool:
    """§12: a request that cannot be met is explained patiently; the explanation is the reply, so it takes the
    approvals a reply takes: the office writes it, and a major matter's needs a leader's too (§14). True when sent."""
    matter = await load(ctx, matter_id, "cannot_meet")
    await ready(ctx, matter, "cannot_meet")
    check_reply(ctx, explanation, grounds)
    state = life.approval_after_office(matter, ctx.config.casework.leader_approves_major)
    to_leader = state == ReplyState.AWAITING_LEADER
    reply_id = await casework.add_reply(ctx.tx, matter.id, "cannot_meet", explanation, grounds, "chat", state,
                                        actor_id(ctx), ctx.now)
    await matters.add_files(ctx.tx, matter.id, files or [], ctx.now, reply_id=reply_id)
    if to_leader:
        await casework.set_reply(ctx.tx, reply_id, ctx.now, approved_by=actor_id(ctx))
        await casework.touch(ctx.tx, ctx.scope, matter.id, ctx.now)
        await record_event(ctx, matter, "reply_to_leader", public=False, detail={"reply_id": reply_id})
        for person_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), "leader"):
            await notices.to_staff(ctx, person_id, matter, notices.reply_to_approve(matter))
        return False
    sent = await casework.reply(ctx.tx, reply_id)
    assert sent is not None
    await _send_reply(ctx, matter, sent)
    return True


async def draft_reply(ctx: Context, matter_id: int, body: str, grounds: str, via: str,
                      files: list[StoredFile]) -> int:
    """The department drafts the reply (§14: outcome and grounds, not too brief); the office approves."""
    matter = await load(ctx, matter_id, "draft_reply")
    await ready(ctx, matter, "draft_reply")
    if via not in domain.REPLY_VIA:
        raise UserError("Please choose how the reply is given.")
    check_reply(ctx, body, grounds)
    kind = life.reply_kind(matter)
    reply_id = await casework.add_reply(ctx.tx, matter.id, kind, body, grounds, via, ReplyState.DRAFT, actor_id(ctx), ctx.now)
    await matters.add_files(ctx.tx, matter.id, files, ctx.now, reply_id=reply_id)
    await casework.touch(ctx.tx, ctx.scope, matter.id, ctx.now)
    await record_event(ctx, matter, "reply_drafted", public=False, detail={"reply_id": reply_id, "via": via})
    for person_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), "office"):
        await notices.to_staff(ctx, person_id, matter, notices.reply_to_approve(matter))
    return reply_id


def reply_minimums(ctx: Context) -> domain.ReplyMinimums:
    c = ctx.config.casework
    return domain.ReplyMinimums(outcome=c.min_outcome_chars, grounds=c.min_grounds_chars, whole=c.min_reply_chars)


def check_reply(ctx: Context, body: str | None, grounds: str | None) -> None:
    """§14, each part against its own minimum and the whole against its own; a part not written yet (None) waits."""
    least = reply_minimums(ctx)
    problem = domain.reply_problem(body, grounds, least)
    a, b = len((body or "").strip()), len((grounds or "").strip())
    if problem == "outcome":
        raise UserError("Under Article 14 of the {regulation}, the statement of the outcome is too brief: {n} "
                        "characters, at least {min} are needed. Please say what was done, and with what result.",
                        n=a, min=least.outcome)
    if problem == "grounds":
        raise UserError("Under Article 14 of the {regulation}, a reply must give its grounds (理由/依据) in at least "
                        "{min} characters; these have {n}. Please state the law, the rules or the facts it rests on.",
                        n=b, min=least.grounds)
    if problem == "whole":
        raise UserError("Under Article 14 of the {regulation}, the reply is too brief: {n} characters in all (outcome "
                        "{a}, grounds {b}), at least {min} are needed. Please write the grounds more fully, or change "
                        "the outcome.",
                        n=a + b, a=a, b=b, min=least.whole)


async def approve_reply(ctx: Context, matter_id: int, as_leader: bool = False) -> None:
    """The office approves; a major matter's reply then also needs a leader's; then it goes out."""
    matter = await load(ctx, matter_id, "leader_approve" if as_leader else "approve_reply")
    draft = await casework.open_reply(ctx.tx, matter.id)
    expected = ReplyState.AWAITING_LEADER if as_leader else ReplyState.DRAFT
    if draft is None or draft.state != expected:
        raise UserError("No reply to this matter is waiting for your approval.")
    if not as_leader and life.needs_leader(matter, ctx.config.casework.leader_approves_major):
        await casework.set_reply(ctx.tx, draft.id, ctx.now, state=ReplyState.AWAITING_LEADER,
                                 approved_by=actor_id(ctx))
        await record_event(ctx, matter, "reply_to_leader", public=False, detail={"reply_id": draft.id})
        for person_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), "leader"):
            await notices.to_staff(ctx, person_id, matter, notices.reply_to_approve(matter))
        return
    fields = {"leader_by": actor_id(ctx)} if as_leader else {"approved_by": actor_id(ctx)}
    await casework.set_reply(ctx.tx, draft.id, ctx.now, state=ReplyState.SENT, **fields)
    await _send_reply(ctx, matter, draft)


async def _send_reply(ctx: Context, matter: Matter, reply: ReplyRecord) -> None:
    """The reply goes to the representative with its files; whoever wrote it is told; a cannot-be-met
    explanation also ends the department's work, and they are told so."""
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.reply_sent(matter))
    event = Happened.CANNOT_MEET if reply.kind == "cannot_meet" else Happened.REPLIED
    await record_event(ctx, matter, event, public=True, detail={"reply_id": reply.id, "via": reply.via})
    stored = await matters.files(ctx.tx, matter.id, reply_id=reply.id)
    files = [OutFile(f.path, f.name, "photo" if f.kind == "photo" else "document") for f in stored]
    await notices.to_representative(ctx, matter, notices.reply(reply.id, reply.body, reply.grounds, reply.via, files,
                                                               reply.kind))
    await notices.to_staff(ctx, reply.drafted_by, matter, await notices.reply_sent(ctx, matter))
    if reply.kind == "cannot_meet":
        await tell_work_ended(ctx, matter, notices.work_ended_by_cannot_meet(matter), told=reply.drafted_by)
    await record_reply_contact(ctx, matter, reply.via)  # a reply is a contact too (seed §11)


async def return_reply(ctx: Context, matter_id: int, note: str, as_leader: bool = False) -> None:
    """Send the draft back to the department with a comment."""
    matter = await load(ctx, matter_id, "leader_approve" if as_leader else "return_reply")
    await ready(ctx, matter, "leader_return" if as_leader else "return_reply")
    draft = await casework.open_reply(ctx.tx, matter.id)
    assert draft is not None
    if not note.strip():
        raise UserError("Please say what should be changed.")
    await casework.set_reply(ctx.tx, draft.id, ctx.now, state=ReplyState.RETURNED, return_note=note)
    await record_event(ctx, matter, "reply_returned", public=False, detail={"reply_id": draft.id, "note": note})
    await notices.to_staff(ctx, draft.drafted_by, matter, notices.reply_returned(matter, note))
