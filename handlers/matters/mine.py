"""/my: a representative's own matters, each opening to everything the procuratorate told them about it
(SPEC §3, §4, §7): progress notices, the transfer's explanation, every reply with its grounds and files, and
the rating they gave.

A representative never sees another's matter, nor an internal note or a draft: opening one that is not
theirs is answered exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date

from bot import callbacks
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, StaleActionError, UserError
from bot.messages import Button, OutFile, Reply
from bot.matter.model import Matter
from bot.matter.states import Happened, State
from handlers.labels import attachments_line, event_label, kind_label, state_label
from handlers.matters.notices import RATING_LABELS, VIA_LABELS
from storage import casework, matters, people
from storage.casework import SentReply
from storage.db import parse_ts
from storage.matters import Event

PAGE = 8


async def list_matters(ctx: Context, offset: int = 0) -> None:
    person = ctx.person
    if person is None or not person.is_representative:
        raise PermissionDeniedError("Only NPC deputies and CPPCC members have matters here.")
    _ = ctx._
    total = await matters.count_of_representative(ctx.tx, ctx.scope, person.id)
    if total == 0:
        await ctx.reply(Reply(_("You have not submitted any matter yet. Send {/submit} to begin."),
                              buttons=((Button(_("Submit a matter"), callbacks.encode("menu", "submit")),),)))
        return
    if offset >= total:
        raise StaleActionError("This button is no longer valid.")
    page = await matters.of_representative(ctx.tx, ctx.scope, person.id, PAGE, offset)
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
    title = (_("Your matters ({first}–{last} of {total})", first=offset + 1, last=offset + len(page), total=total)
             if len(page) < total else _("Your matters ({total})", total=total))  # all on one page: no "1–1 of 1"
    await ctx.reply(Reply("\n\n".join(lines), title=title, buttons=tuple(buttons)))


async def command(ctx: Context) -> None:
    await list_matters(ctx)


async def on_button(ctx: Context, parts: list[str]) -> None:
    """my:open:MATTER, my:page:OFFSET, my:files:MATTER:REPLY (REPLY 0: the representative's own files)."""
    if not parts or (parts[0], len(parts)) not in (("open", 2), ("page", 2), ("files", 3)):
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if parts[0] == "page":
        await list_matters(ctx, callbacks.to_int(parts[1]))
    elif parts[0] == "files":
        await send_files(ctx, callbacks.to_int(parts[1]), callbacks.to_int(parts[2]))
    else:
        await show_matter(ctx, callbacks.to_int(parts[1]))


async def own_matter(ctx: Context, matter_id: int) -> Matter:
    """The matter, if it is this representative's; anyone else's is answered exactly like one that does not exist."""
    person = ctx.person
    matter = await matters.get(ctx.tx, ctx.scope, matter_id)
    if person is None or matter is None or matter.representative_id != person.id:
        raise NotFoundError("No such matter.")
    return matter


async def show_matter(ctx: Context, matter_id: int) -> None:
    """A matter as its representative follows it: every message the procuratorate sent about it — progress notices,
    the transfer's explanation, each reply with its grounds (its files sent again by a button) — and the rating
    they gave; never an internal note, a draft, or anything of another representative's (SPEC §4, §7)."""
    matter = await own_matter(ctx, matter_id)
    _ = ctx._
    files = await matters.files(ctx.tx, matter.id)
    replies = await casework.sent_replies(ctx.tx, matter.id)
    lines = [
        _("Kind: {kind}", kind=kind_label(_, matter.kind)),
        _("Subject: {subject}", subject=matter.subject),
        _("Status: {state}", state=state_label(_, matter.state)),
        _("To be concluded by: {day}", day=_.date(matter.due_date)),
        attachments_line(_, len(files)),
        "",
        _("Progress:"),
    ]
    buttons: list[tuple[Button, ...]] = []
    for event in await matters.events(ctx.tx, matter.id, public_only=True):
        entry, reply = await _entry(ctx, event, replies, matter.unit_id)
        lines.append(f"{_.datetime(parse_ts(event.at))}  {entry}")
        if reply is not None and await matters.files(ctx.tx, matter.id, reply_id=reply.id):
            buttons.append((Button(_("Files of reply {n}", n=reply.round), callbacks.encode("my", "files", matter.id,
                                                                                         reply.id)),))
    if files:
        buttons.append((Button(_("My attachments"), callbacks.encode("my", "files", matter.id, 0)),))
    latest = list(replies.values())[-1] if replies else None
    if matter.state == State.REPLIED and latest is not None and latest.rating is None:
        lines += ["", _("Are you satisfied with how it was handled?")]
        buttons += [(Button(_(RATING_LABELS[r]), callbacks.encode("rate", matter.id, latest.id, r[0])),)
                    for r in ("satisfied", "basically", "dissatisfied")]
    buttons.append((Button(_("My matters"), callbacks.encode("my", "page", 0)),))
    await ctx.reply(Reply("\n".join(lines), title=matter.number, buttons=tuple(buttons)))


async def _entry(ctx: Context, event: Event, replies: dict[int, SentReply],
                 unit: int) -> tuple[str, SentReply | None]:
    """One public moment of the timeline, in the words that were sent to the representative then."""
    _, detail = ctx._, event.detail
    reply = replies.get(detail["reply_id"]) if isinstance(detail.get("reply_id"), int) else None
    if event.event == Happened.ASSIGNED and isinstance(detail.get("department_id"), int):
        department = await people.department_name(ctx.tx, detail["department_id"], of_unit=unit)
        if department:
            return _("Assigned to {department}", department=department), None
    if event.event == "progress_public" and detail.get("note"):
        return _("Progress notice: {note}", note=detail["note"]), None
    if event.event == "extended" and detail.get("due"):
        return _("Deadline extended to {day}", day=_.date(date.fromisoformat(detail["due"]))), None
    if event.event == Happened.REOPENED and detail.get("due"):  # the date the staff's card shows, said to them too
        return _("Reopened, to be concluded by {day}", day=_.date(date.fromisoformat(detail["due"]))), None
    if event.event == Happened.TRANSFERRED and detail.get("authority"):
        text = _("Transferred to {authority}", authority=detail["authority"])
        if detail.get("note"):
            text += "\n" + _("Our explanation: {note}", note=detail["note"])
        return text, None
    if event.event in (Happened.REPLIED, Happened.CANNOT_MEET) and reply is not None:
        head = _("Reply:") if event.event == Happened.REPLIED else _("Explanation (the request cannot be met):")
        text = "\n".join([head, reply.body, _("Grounds:"), reply.grounds])
        if reply.via != "chat":
            text += "\n" + _("This reply was also given {via}.", via=_(VIA_LABELS[reply.via]))
        return text, reply
    if event.event.startswith("rated_") and reply is not None and reply.rating in RATING_LABELS:
        text = _("Your rating: {rating}", rating=_(RATING_LABELS[reply.rating]))
        if reply.rating_note:
            text += "\n" + _("Your comment: {comment}", comment=reply.rating_note)
        return text, None
    return event_label(_, event.event), None


async def send_files(ctx: Context, matter_id: int, reply_id: int) -> None:
    """Send again the files of one of the matter's replies (or, for 0, those the representative attached)."""
    matter = await own_matter(ctx, matter_id)
    if reply_id and reply_id not in await casework.sent_replies(ctx.tx, matter.id):
        raise NotFoundError("No such matter.")  # a draft, or another matter's reply: as if it did not exist
    stored = await matters.files(ctx.tx, matter.id, reply_id=reply_id or None)
    if not stored:
        raise UserError("This matter has no files.")
    out = tuple(OutFile(f.path, f.name, "photo" if f.kind == "photo" else "document") for f in stored)
    await ctx.reply(Reply(ctx._("Files of {number}:", number=matter.number), files=out))
