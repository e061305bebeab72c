"""The operator's commands for units (issue 17, docs/design-units.md): `unit list`, `unit add`."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import App
from bot.operator import Refused
from storage import units


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
