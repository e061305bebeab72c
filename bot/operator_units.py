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


def _papers(args: argparse.Namespace) -> dict[str, str | None]:
    """The paper settings given on the command line ("-" or "" puts one back to the configuration's)."""
    given = {name: getattr(args, name) for name in units.PAPERS if getattr(args, name, None) is not None}
    return {name: None if value.strip() in ("", "-") else value.strip() for name, value in given.items()}


async def unit_command(app: App, args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "add":
        given = {name: value for name, value in _papers(args).items() if value is not None}
        timezone = app.config.unit.timezone
        if args.timezone not in (None, timezone):
            # the sweep's working hours, every "today" and the deadlines counted from it are the deployment's: a city
            # and its counties share one (the mainland is Asia/Shanghai); a unit elsewhere is another deployment
            raise Refused(f"the units of a deployment share its time zone ([unit] timezone = {timezone}); "
                          f"a unit in {args.timezone} needs a deployment of its own")
        try:
            async with app.db.transaction() as tx:
                unit = await units.add(tx, args.name, args.prefix, args.parent, timezone, app.clock.now(), given)
        except units.UnitError as exc:
            raise Refused(str(exc)) from None
        message = f"unit {unit.name} added (prefix {unit.prefix}, id {unit.id})"
        if "regulation" not in unit.papers:
            message += ("; its papers cite the regulation of [terms] until it has its own: "
                        f"unit set {unit.prefix} --regulation TITLE")
        return {"message": message, "id": unit.id, "papers": unit.papers}
    if args.action == "set":
        papers = _papers(args)
        if not papers:
            raise Refused("nothing to set: give --document-number, --addressee, --issuer, --signer, --copy-to or "
                          "--regulation")
        try:
            async with app.db.transaction() as tx:
                unit = await acting_unit(tx, args.prefix)
                if "addressee" in papers and papers["addressee"] is None:  # back to the unit above it
                    parent = None if unit.parent_id is None else await units.get(tx, unit.parent_id)
                    papers["addressee"] = parent.name if parent else ""
                for blank in ("signer", "issuer", "copy_to"):  # blank, not unit 1's
                    if blank in papers and papers[blank] is None:
                        papers[blank] = ""
                await units.set_papers(tx, unit.id, papers)
                unit = await units.get(tx, unit.id)
        except units.UnitError as exc:
            raise Refused(str(exc)) from None
        shown = ", ".join(f"{name} {value}" for name, value in unit.papers.items()) or "the configuration's"
        return {"message": f"{unit.prefix}'s papers: {shown}", "papers": unit.papers}
    async with app.db.snapshot() as q:
        found = await units.listed(q)
    by_id = {u.id: u for u in found}
    lines = [f"{u.prefix:<8} {u.name}" + (f"  (under {by_id[u.parent_id].prefix})" if u.parent_id in by_id else "")
             for u in found]
    return {"message": "\n".join(lines), "units": [{"id": u.id, "prefix": u.prefix, "name": u.name,
                                                    "parent_id": u.parent_id, "timezone": u.timezone} for u in found]}
