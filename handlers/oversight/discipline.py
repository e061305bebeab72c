"""Discipline inspection's /inbox: the second line of supervision (SPEC §1, seed §13, §16).

Five lists, each matter with what is owed on it and by whom: overdue matters (the §12 deadline passed
without a conclusion), matters nobody has acted on for `supervision.stale_days` (possibly perfunctory,
§16), reopened matters (after a 不满意 rating, §14), appeals disputing this procuratorate's own handling
(which must never go back to the department that handled them, §14), and matters under joint on-site
supervision (§13). Only discipline inspection (and the office, which shares the on-site work) reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot import callbacks
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.matter.model import Matter
from bot.matter.states import State
from handlers.labels import kind_label
from storage import casework, oversight, people
from storage.db import parse_ts

LIMIT = 20  # matters listed per list; the header counts them all up to this


async def inbox(ctx: Context) -> None:
    """What discipline inspection watches now, list by list, each matter with what is owed."""
    _, tz = ctx._, ctx.config.unit.tz
    today = ctx.today
    names = await people.department_names(ctx.tx, ctx.scope)  # a county's handling the unit's matter too
    stale_days = ctx.config.supervision.stale_days
    overdue = await oversight.overdue(ctx.tx, ctx.scope, today, LIMIT)
    stale = await oversight.idle_since(ctx.tx, ctx.scope, ctx.now - timedelta(days=stale_days), LIMIT)
    reopened = await casework.matters_in(ctx.tx, ctx.scope, (State.REOPENED,), limit=LIMIT)
    disputed = await oversight.disputed_appeals(ctx.tx, ctx.scope, LIMIT)
    onsite = await oversight.under_onsite_supervision(ctx.tx, ctx.scope, LIMIT)
    counts = (len(overdue), len(stale), len(reopened), len(disputed), len(onsite))
    if not any(counts):
        await ctx.reply(Reply(_("Nothing needs your supervision now: no matter is overdue, untouched, reopened or "
                                "disputed, and none is under on-site supervision."), title=_("Supervision")))
        return
    await ctx.reply(Reply(_("Overdue: {overdue}; no action for {days} days or more: {stale}; reopened: {reopened}; "
                            "appeals disputing our handling: {disputed}; under on-site supervision: {onsite}.",
                            overdue=counts[0], days=stale_days, stale=counts[1], reopened=counts[2],
                            disputed=counts[3], onsite=counts[4]), title=_("Supervision")))

    def dept(m: Matter) -> str:
        return names.get(m.department_id or 0) or _("not yet assigned")

    if overdue:
        await _section(ctx, _("Overdue ({n})", n=len(overdue)), [
            (m, _("{number} · {department} · {n} days overdue (due {day})", number=m.number, department=dept(m),
                  n=(today - m.due_date).days, day=_.date(m.due_date)), _owed(_, m, dept(m))) for m in overdue])
    if stale:
        await _section(ctx, _("No action for {n} days or more ({count})", n=stale_days, count=len(stale)), [
            (m, _("{number} · {department} · last action {day}", number=m.number, department=dept(m),
                  day=_.date(last.astimezone(tz).date())),
             _owed(_, m, dept(m)) + _("; possibly perfunctory handling (Article 16 of the {regulation})"))
            for m, last in stale])
    if reopened:
        await _section(ctx, _("Reopened after a dissatisfied rating ({n})", n=len(reopened)), [
            (m, _("{number} · {department} · due {day}", number=m.number, department=dept(m), day=_.date(m.due_date)),
             _owed(_, m, dept(m))) for m in reopened])
    if disputed:
        await _section(ctx, _("Appeals disputing this procuratorate's handling ({n})", n=len(disputed)),
                       [(m, *_disputed(_, m, names, _owed(_, m, dept(m)))) for m in disputed])
    if onsite:
        await _section(ctx, _("Under joint on-site supervision ({n})", n=len(onsite)), [
            (o.matter, _("{number} · {department} · last on site {day}", number=o.matter.number,
                         department=dept(o.matter), day=_.date(parse_ts(o.at).astimezone(tz).date())),
             _("{department} to act on the findings: {findings}", department=dept(o.matter),
               findings=_findings(o.detail))) for o in onsite])


def _owed(_: Translator, m: Matter, department: str) -> str:
    """What the matter waits for now, and from whom."""
    if m.state == State.REGISTERED or m.department_id is None:
        return _("the office to assign it")
    if m.state == State.REOPENED:
        return _("the office to assign it again, to be handled again and replied to by {day}", day=_.date(m.due_date))
    if m.state == State.CONCLUDED or (m.state == State.RATED and m.owes_final_reply):
        return _("{department} to reply", department=department)
    if m.state == State.REPLIED:
        return _("the representative's rating of the reply")
    return _("{department} to conclude it and reply", department=department)


def _disputed(_: Translator, m: Matter, names: dict[int, str], owed: str) -> tuple[str, str]:
    original = names.get(m.original_department_id or 0) or _("not sure")
    current = names.get(m.department_id or 0)
    line = _("{number} · handled originally by {original} · now {department}", number=m.number, original=original,
             department=current or _("not yet assigned"))
    if m.department_id is not None and m.department_id == m.original_department_id:
        return line, _("⚠ it is with the department whose handling it disputes: to be assigned to another "
                       "(Article 14 of the {regulation})")
    return line, owed + _("; never by {original} (Article 14 of the {regulation})", original=original)


async def _section(ctx: Context, title: str, items: Sequence[tuple[Matter, str, str]]) -> None:
    """One list: each matter's line, its kind and subject, and what is owed; a button opens its card."""
    _ = ctx._
    text = "\n\n".join("\n".join([head, _("{label}: {value}", label=kind_label(_, m.kind), value=m.subject),
                                   _("Owed: {owed}", owed=owed)]) for m, head, owed in items)
    buttons = tuple((Button(m.number, callbacks.encode("case", m.id)),) for m, _head, _owed in items)
    await ctx.reply(Reply(text, title=title, buttons=buttons))


def _findings(detail: dict[str, object]) -> str:
    """The findings of an on-site record: its note holds the participants, then the findings."""
    note = str(detail.get("note") or "")
    return note.split("\n", 1)[1] if "\n" in note else note
