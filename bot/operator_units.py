"""The operator's commands for units (issue 17, docs/design-units.md): `unit list`, `unit add`."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import App
from bot.operator import Refused
from storage import units
from storage.db import Tx


async def acting_unit(q: Tx, prefix: str | None) -> units.Unit:
    """The unit a command acts within: the one `--unit PREFIX` names; without it, the only unit there is, or a
    refusal that lists them (with several, a command never guesses whose department or staff it adds)."""
    found = await units.listed(q)
    if prefix is not None:
        for unit in found:
            if unit.prefix == prefix.strip().upper():
                return unit
        raise Refused(f"no unit has the prefix {prefix}; `unit list` shows them")
    if len(found) == 1:
        return found[0]
    raise Refused("this deployment serves several units: say which with --unit ("
                  + ", ".join(f"{u.prefix} {u.name}" for u in found) + ")")


async def unit_command(app: App, args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "add":
        try:
            async with app.db.transaction() as tx:
                unit = await units.add(tx, args.name, args.prefix, args.parent, args.timezone, app.clock.now())
        except units.UnitError as exc:
            raise Refused(str(exc)) from None
        return {"message": f"unit {unit.name} added (prefix {unit.prefix}, id {unit.id})", "id": unit.id}
    async with app.db.snapshot() as q:
        found = await units.listed(q)
    by_id = {u.id: u for u in found}
    lines = [f"{u.prefix:<8} {u.name}" + (f"  (under {by_id[u.parent_id].prefix})" if u.parent_id in by_id else "")
             for u in found]
    return {"message": "\n".join(lines), "units": [{"id": u.id, "prefix": u.prefix, "name": u.name,
                                                    "parent_id": u.parent_id, "timezone": u.timezone} for u in found]}
