"""Which departments a matter may go to (§13, §14): those offered for an assignment or a re-assignment,
and the check of the one chosen — the rule of Article 14, and someone there to handle it. Shared by
the use cases (`assignment.py`), the refusal on the press (`casework.ready`) and the chat screens."""

from __future__ import annotations

from bot.context import Context
from bot.errors import NotFoundError, UserError
from bot.matter import life
from bot.matter.model import Matter
from bot.model import UnitScope
from storage import casework, people, units


async def department_choices(ctx: Context, matter: Matter, action: str) -> list[tuple[int, str, bool]]:
    """(id, name, staffed) of the departments to offer for `action` (assign or reassign): all but the present
    one; `staffed` when someone there uses this service (see `check_department`)."""
    return [(i, name, staffed) for i, name, staffed in await _offered(ctx)
            if not (action == "reassign" and i == matter.department_id)]


async def _offered(ctx: Context) -> list[tuple[int, str, bool]]:
    """The acting unit's departments, then those of each county directly below it, named with their unit (交办:
    the city assigns its matter to a county's department, and keeps it, its deadline and its supervision)."""
    found: list[tuple[int, str, bool]] = []
    for unit, scope in [(None, ctx.scope), *[(u, UnitScope.of(u.id)) for u in await units.children(ctx.tx, ctx.scope.unit)]]:
        staffed = await casework.staffed_departments(ctx.tx, scope)
        found += [(i, name if unit is None else f"{unit.name}{name}", i in staffed)
                  for i, name in await people.departments(ctx.tx, scope)]
    return found


async def departments_open_to(ctx: Context, matter: Matter, action: str) -> list[int]:
    """The ids of the departments the matter may go to by `action` now: staffed, and not excluded by §14."""
    return [i for i, _name, staffed in await department_choices(ctx, matter, action) if staffed
            and not life.conflicts(matter, i)]


async def check_department(ctx: Context, matter: Matter, department_id: int, action: str) -> str:
    """The department's name, if the matter may go to it now: §14, and someone there to handle it.

    A department where no handler or head is bound to a chat would receive the matter in silence:
    nobody told, nobody able to record progress, conclude or draft the reply, only the urger's reminders
    going out. The office is refused with the reason, rather than warned: such an assignment can
    only end in a re-assignment, and until it is made the matter stays in the office's own inbox."""
    offered = {i: (name, staffed) for i, name, staffed in await _offered(ctx)}  # the unit's and its counties' only
    department, staffed = offered.get(department_id, (None, False))
    if department is None:
        raise NotFoundError("No such department.")
    if action == "reassign" and department_id == matter.department_id:
        raise UserError("{number} is already handled by {department}. Please choose another department.",
                        number=matter.number, department=department)
    check_assignable(matter, department_id, department)
    if not staffed:
        raise UserError("{department} has no handler who uses this service yet: nobody there would be told of "
                        "{number}, or could act on it. Please choose another department, or ask the administrator "
                        "to add a handler to {department} and send them an invite.", department=department,
                        number=matter.number)
    return department


def check_assignable(matter: Matter, department_id: int, department: str) -> None:
    """§14: refuse the department that handled a disputed case originally, at first and on reopening."""
    if life.conflicts(matter, department_id):
        raise UserError("Under Article 14 of the {regulation}, this appeal disputes the handling of {department}, "
                        "so it cannot be assigned to that department. Please choose another.", department=department)

