"""Extending a matter's time limit (§12): the department asks, with a reason; the office (or the leader the
configuration names) approves a new due date, a month at a time and capped, or refuses."""

from __future__ import annotations

from datetime import date

from bot import domain
from bot.context import Context
from bot.errors import UserError
from bot.matter import life
from bot.matter.states import ExtensionState, Happened
from bot.model import UnitScope
from handlers.matters import notices
from handlers.matters.casework import actor_id, load, ready, record_event, registered
from storage import casework, people

MIN_EXTENSION_REASON = 10


async def request_extension(ctx: Context, matter_id: int, reason: str) -> None:
    """申请延期: the department asks, with a reason; the office (or a leader) decides."""
    matter = await load(ctx, matter_id, "request_extension")
    await ready(ctx, matter, "request_extension")
    check_extension_reason(reason)
    await casework.add_extension(ctx.tx, matter.id, reason, actor_id(ctx), matter.due_date, ctx.now)
    await casework.touch(ctx.tx, ctx.scope, matter.id, ctx.now)
    await record_event(ctx, matter, "extension_requested", public=False, detail={"reason": reason})
    for person_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), ctx.config.casework.extension_approver):
        await notices.to_staff(ctx, person_id, matter, notices.extension_requested(matter, reason))


def check_extension_reason(reason: str) -> None:
    if len(reason.strip()) < MIN_EXTENSION_REASON:
        raise UserError("The reason for the extension is too brief: {have} characters, at least {n} are needed.",
                        have=len(reason.strip()), n=MIN_EXTENSION_REASON)


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
        cap = domain.extension_cap(registered(matter), ctx.config.unit.tz, ctx.config.casework.extension_cap_months)
        if new_due > cap or new_due <= matter.due_date:
            raise UserError("The new due date must be after the present one and at most {months} months after "
                            "registration.", months=ctx.config.casework.extension_cap_months)
        await casework.decide_extension(ctx.tx, pending.id, ExtensionState.APPROVED, actor_id(ctx), ctx.now, new_due, note)
        await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.extend(matter, new_due, registered(matter),
                                                                  ctx.config.unit.tz,
                                                                  ctx.config.casework.extension_cap_months))
        await record_event(ctx, matter, Happened.EXTENDED, public=True, detail={"due": new_due.isoformat()})
        await notices.to_representative(ctx, matter, notices.extended(new_due))
    await notices.to_staff(ctx, pending.requested_by, matter, notices.extension_decided(matter, new_due))

