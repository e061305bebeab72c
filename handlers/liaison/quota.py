"""The yearly contacts quota (seed §11: every representative contacted at least once a year). /quota: the
office, leaders and discipline inspection see this calendar year's coverage (in the unit's time zone): how
many were contacted, by body and by sector, and who not yet. The deadline sweep sends the same report to
the office (handlers/oversight/matter_rules.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from bot.context import Context
from bot.errors import PermissionDeniedError
from bot.i18n import Translator
from bot.messages import Reply
from bot.model import UnitScope
from bot.permissions import may
from bot.text import clip
from handlers.common import roll_up_family
from handlers.labels import representative_line
from storage import contacts, units
from storage.contacts import Coverage

QUOTA_NAMES: Final = 50  # names listed by /quota; the rest are counted
LABEL_CLIP: Final = 20  # long names and sectors are shortened in the quota listing


async def quota(ctx: Context) -> None:
    """/quota: this calendar year's coverage (seed §11)."""
    if not may(ctx.person, "quota", None):
        raise PermissionDeniedError.of("quota", None, "This is for the office, discipline inspection and leaders.")
    year = ctx.today.year
    cov = await contacts.coverage(ctx.tx, ctx.scope, year)
    family = await roll_up_family(ctx)
    if len(family) < 2:
        return await ctx.reply(quota_report(ctx._, cov))
    # a city's office and leaders: the counts of its counties too, summed and a line each; the names not yet
    # contacted stay its own (the counties' offices see theirs)
    rolled = await contacts.coverage(ctx.tx, UnitScope(ctx.scope.unit, frozenset(u.id for u in family)), year)
    by_unit = [(u.name, (c := await contacts.coverage(ctx.tx, UnitScope.of(u.id), year)).contacted, c.total)
               for u in family]
    await ctx.reply(quota_report(ctx._, replace(rolled, not_contacted=cov.not_contacted), by_unit,
                                 names_of=family[0].name))


def quota_report(_: Translator, cov: Coverage, by_unit: list[tuple[str, int, int]] | None = None,
                 names_of: str | None = None) -> Reply:
    """Coverage, by unit in a roll-up (`by_unit`: name, contacted, total), by body and sector, then who has not been
    contacted (in a roll-up, of the unit `names_of` alone): at most QUOTA_NAMES names, and as few as it takes to
    keep the message within the text budget of the reader's channel (`_.budget`)."""
    title = _("Contacts in {year}", year=str(cov.year))
    if cov.total == 0:
        return Reply(_("There is no NPC deputy or CPPCC member on the roster yet."), title=title)
    head = [
        _("Contacted {contacted}/{total} NPC deputies and CPPCC members ({percent}%)",
          contacted=cov.contacted, total=cov.total, percent=cov.percent),
        _("NPC deputies: {contacted}/{total}", contacted=cov.by_body["npc"].contacted,
          total=cov.by_body["npc"].total),
        _("CPPCC members: {contacted}/{total}", contacted=cov.by_body["cppcc"].contacted,
          total=cov.by_body["cppcc"].total),
    ]
    if by_unit:  # a roll-up: the figures above are their sum
        head += [_("By unit:"), *(_("{unit}: {contacted}/{total}", unit=name, contacted=contacted, total=total)
                                  for name, contacted, total in by_unit)]
    sectors = [_("{sector}: {contacted}/{total}", sector=clip(s, LABEL_CLIP) if s else _("(no sector)"),
                 contacted=t.contacted, total=t.total) for s, t in cov.by_sector.items()]
    names = [representative_line(_, p.name, p.body, p.sector, limit=LABEL_CLIP) for p in cov.not_contacted]

    def render(n_sectors: int, n_names: int) -> str:
        lines = [*head, _("By sector:"), *sectors[:n_sectors]]
        if n_sectors < len(sectors):
            lines.append(_("…and {n} more sectors", n=len(sectors) - n_sectors))
        if not names:
            lines.append(_("Everyone on the roster has been contacted in {year}.", year=str(cov.year)) if not names_of
                         else _("Everyone of {unit} has been contacted in {year}.", unit=names_of, year=str(cov.year)))
            return "\n".join(lines)
        lines += [_("Not yet contacted ({n}):", n=len(names)) if not names_of
                  else _("Not yet contacted, of {unit} ({n}):", unit=names_of, n=len(names)), *names[:n_names]]
        if n_names < len(names):
            lines.append(_("…and {n} more", n=len(names) - n_names))
        return "\n".join(lines)

    n_sectors, n_names = len(sectors), min(QUOTA_NAMES, len(names))
    text = render(n_sectors, n_names)
    while not _.budget.fits(f"{title}\n{text}") and (n_names or n_sectors):
        if n_names:
            n_names -= 1
        else:
            n_sectors -= 1
        text = render(n_sectors, n_names)
    return Reply(text, title=title)

