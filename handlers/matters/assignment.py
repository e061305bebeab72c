"""The office decides who handles a matter (§12, §13): it assigns it to a department with a named urger,
re-assigns it to another, or transfers it out to the competent authority with an explanation to the
representative. Each step is checked against the matter's rules (`casework`) and §14 (`departments`)."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.messages import OutFile
from bot.matter import life
from bot.matter.model import Matter, NewMatter
from bot.model import UnitScope
from bot.matter.states import Happened
from handlers.matters import notices, register, slips
from handlers.matters.casework import actor_id, load, ready, record_event, require_state, tell_work_ended
from handlers.matters.departments import check_department
from storage import casework, matters, people, units

MIN_TRANSFER_EXPLANATION = 20
MAX_AUTHORITY = 100


async def assign(ctx: Context, matter_id: int, department_id: int, urger_id: int) -> Matter:
    """Give the matter to a department, with a named office urger (§13); never against §14."""
    matter = await load(ctx, matter_id, "assign")
    require_state(matter, "assign")
    department = await check_department(ctx, matter, department_id, "assign")
    urger = await _urger(ctx, urger_id)
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.assign(matter, department_id, urger_id))
    await _handled_by(ctx, matter, department_id)
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
    assigned = await matters.get(ctx.tx, ctx.scope, matter_id)
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
    old = await people.department_name(ctx.tx, old_id, of_unit=matter.unit_id) or ""
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.reassign(matter, department_id, urger_id))
    await _handled_by(ctx, matter, department_id)
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


async def _handled_by(ctx: Context, matter: Matter, department_id: int) -> None:
    """Record which unit's department handles the matter: a county's below the matter's unit (交办: the matter
    stays the city's), or its own again."""
    unit = await people.department_unit(ctx.tx, department_id)
    handling = None if unit == matter.unit_id else unit
    if handling != matter.handling_unit_id:
        await casework.update(ctx.tx, ctx.scope, matter.id, ctx.now, handling_unit_id=handling)


async def _urger(ctx: Context, urger_id: int) -> people.Person:
    urger = await people.get(ctx.tx, urger_id)
    if urger is None or "office" not in urger.roles:
        raise UserError("The urger must be a member of the office.")
    return urger


def check_authority(authority: str) -> None:
    if not authority.strip():
        raise UserError("Please send the name of the competent authority.")
    if len(authority.strip()) > MAX_AUTHORITY:
        raise UserError("The name of the authority is too long: {n} characters, at most {max}.",
                        n=len(authority.strip()), max=MAX_AUTHORITY)


async def check_not_own(ctx: Context, matter: Matter, authority: str) -> units.Unit | None:
    """The unit of the deployment the authority names, if any; never the matter's own."""
    target = await units.by_name(ctx.tx, authority)
    if target is not None and target.id == matter.unit_id:
        raise UserError("{unit} is this matter's own procuratorate: it cannot be transferred to itself. Please "
                        "send the name of the competent authority.", unit=target.name)
    return target


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
    target = await check_not_own(ctx, matter, authority)
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, life.transfer(matter, authority))
    moved = await _into(ctx, matter, target.id) if target is not None and target.id != matter.unit_id else None
    await record_event(ctx, matter, Happened.TRANSFERRED, public=True,  # /my shows it again
                       detail={"authority": authority.strip(), "note": explanation,
                               **({"matter_id": moved.id, "number": moved.number} if moved else {})})
    await notices.to_representative(ctx, matter, notices.transferred(authority.strip(), explanation,
                                                                     moved.number if moved else None))
    await tell_work_ended(ctx, matter, notices.work_ended_by_transfer(matter, authority.strip()))
    if moved is not None:
        await register.notify_office(ctx, moved)  # the unit it went to: a new matter in its inbox


async def _into(ctx: Context, matter: Matter, unit: int) -> Matter:
    """移送 within the deployment: the matter registered anew in the unit competent for it (its number, due date
    and office), with its content, files and complainant, naming the matter it came from."""
    complainant = await matters.complainant(ctx.tx, matter)
    new = NewMatter(kind=matter.kind, representative_id=matter.representative_id, subject=matter.subject,
                    body=matter.body, received_via="transfer", registered_by=actor_id(ctx),
                    complainant_name=complainant.name or None, complainant_contact=complainant.contact or None,
                    transferred_from_id=matter.id)
    return await register.register(ctx, new, await matters.files(ctx.tx, matter.id), UnitScope.of(unit))

