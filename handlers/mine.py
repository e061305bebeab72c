"""/my: a representative's own matters, each opening to its public timeline (SPEC §3, §4).

A representative never sees another's matter: opening one that is not theirs is
answered exactly like one that does not exist.
"""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, StaleActionError
from bot.messages import Button, Reply
from handlers.labels import attachments_line, event_label, kind_label, state_label
from storage import matters
from storage.db import parse_ts

PAGE = 8


async def list_matters(ctx: Context, offset: int = 0) -> None:
    person = ctx.person
    if person is None or not person.is_representative:
        raise PermissionDeniedError("Only NPC deputies and CPPCC members have matters here.")
    _ = ctx._
    total = await matters.count_of_representative(ctx.tx, person.id)
    if total == 0:
        await ctx.reply(Reply(_("You have not submitted any matter yet. Send /submit to begin."),
                              buttons=((Button(_("Submit a matter"), callbacks.encode("menu", "submit")),),)))
        return
    if offset >= total:
        raise StaleActionError("This button is no longer valid.")
    page = await matters.of_representative(ctx.tx, person.id, PAGE, offset)
    lines: list[str] = []
    buttons: list[tuple[Button, ...]] = []
    for m in page:
        lines.append(f"{m.number} · {kind_label(_, m.kind)} · {state_label(_, m.state)}\n{m.subject}")
        buttons.append((Button(m.number, callbacks.encode("my", "open", m.id)),))
    nav = []
    if offset > 0:
        nav.append(Button(_("Newer"), callbacks.encode("my", "page", max(offset - PAGE, 0))))
    if offset + PAGE < total:
        nav.append(Button(_("Older"), callbacks.encode("my", "page", offset + PAGE)))
    if nav:
        buttons.append(tuple(nav))
    title = _("Your matters ({first}–{last} of {total})", first=offset + 1, last=offset + len(page), total=total)
    await ctx.reply(Reply("\n\n".join(lines), title=title, buttons=tuple(buttons)))


async def command(ctx: Context) -> None:
    await list_matters(ctx)


async def on_button(ctx: Context, parts: list[str]) -> None:
    if len(parts) != 2 or parts[0] not in ("open", "page"):
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if parts[0] == "page":
        await list_matters(ctx, callbacks.to_int(parts[1]))
    else:
        await show_matter(ctx, callbacks.to_int(parts[1]))


async def show_matter(ctx: Context, matter_id: int) -> None:
    person = ctx.person
    matter = await matters.get(ctx.tx, matter_id)
    if person is None or matter is None or matter.representative_id != person.id:
        raise NotFoundError("No such matter.")
    _ = ctx._
    files = await matters.files(ctx.tx, matter.id)
    lines = [
        _("Kind: {kind}", kind=kind_label(_, matter.kind)),
        _("Subject: {subject}", subject=matter.subject),
        _("Status: {state}", state=state_label(_, matter.state)),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        attachments_line(_, len(files)),
        "",
        _("Progress:"),
    ]
    for event in await matters.events(ctx.tx, matter.id, public_only=True):
        lines.append(f"{_.datetime(parse_ts(event.at))}  {event_label(_, event.event)}")
    await ctx.reply(Reply("\n".join(lines), title=matter.number))
