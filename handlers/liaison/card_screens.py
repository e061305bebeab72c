"""Following an opinion card's answers, the office's side (seed §5; SPEC §6): /cards, the latest cards with
their response rate; a card's own screen lists who answered (with the number of the opinion matter
registered), who declined, who not yet, who was not reached; the office can close a card there. And the
card's buttons: answer and decline (handlers/liaison/card_answers.py), view and close.
"""

from __future__ import annotations

from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import NotFoundError, StaleActionError, UserError
from bot.i18n import Translator
from bot.text import clip
from bot.messages import Button, Reply
from bot.permissions import require
from handlers.liaison import audience, card_answers
from storage import audit, cards, people
from storage.cards import Tally
from storage.db import parse_ts

LIST_LIMIT: Final = 10
LABEL_CLIP: Final = 30


async def list_cards(ctx: Context) -> None:
    """/cards: the latest cards and their response rates."""
    require(ctx.person, "manage_cards")
    _ = ctx._
    found = await cards.recent(ctx.tx, ctx.scope, LIST_LIMIT)
    if not found:
        await ctx.reply(Reply(_("No opinion card has been sent yet. Send {command} to write one.", command="/card"),
                              title=_("Opinion cards")))
        return
    lines = [_tally_line(_, t) for t in found]
    buttons = tuple((Button(clip(t.card.title, LABEL_CLIP), callbacks.encode("card", "v", t.card.id)),)
                    for t in found)
    await ctx.reply(Reply("\n".join(lines), title=_("Opinion cards"), buttons=buttons))


def _tally_line(_: Translator, t: Tally) -> str:
    line = _("“{title}”, sent {day}: {answered}/{reached} answered ({percent}%)", title=t.card.title,
             day=_.date(parse_ts(t.card.sent_at).astimezone(_.tz).date()), answered=t.answered, reached=t.reached,
             percent=t.percent)
    return line + (_(" (closed)") if t.card.state == "closed" else "")


async def show(ctx: Context, card_id: int) -> None:
    """A card's response: sent, answered (with the matters), declined, not yet, not reached."""
    require(ctx.person, "manage_cards")
    _ = ctx._
    t = await cards.tally(ctx.tx, ctx.scope, card_id)
    if t is None:
        raise NotFoundError("No such opinion card.")
    author = await people.get(ctx.tx, t.card.created_by)
    by_status: dict[str, list[str]] = {"answered": [], "declined": [], "waiting": [], "unreached": []}
    for r in await cards.recipients(ctx.tx, card_id):
        by_status[r.status].append(_("{name} ({number})", name=r.name, number=r.number) if r.number else r.name)
    lines = [
        _("Sent {when} by {name}, to: {audience}", when=_.datetime(parse_ts(t.card.sent_at)),
          name=author.name if author else "", audience=audience.describe(_, t.card.audience)),
        _("Reached {reached} of {total}: answered {answered} ({percent}%), declined {declined}, not yet {waiting}.",
          reached=t.reached, total=t.recipients, answered=t.answered, percent=t.percent, declined=t.declined,
          waiting=t.waiting),
    ]
    headings = {"answered": _("Answered ({n}):", n=len(by_status["answered"])),
                "declined": _("Declined ({n}):", n=len(by_status["declined"])),
                "waiting": _("Not yet answered ({n}):", n=len(by_status["waiting"])),
                "unreached": _("Not reached, no chat account bound ({n}):", n=len(by_status["unreached"]))}
    for status, heading in headings.items():
        if by_status[status]:
            lines += [heading, audience.names(_, by_status[status])]
    buttons: tuple[tuple[Button, ...], ...] = ()
    if t.card.state == "closed":
        lines.append(_("Closed: no more answers are taken."))
    else:
        buttons = ((Button(_("Close the card"), callbacks.encode("card", "c", card_id)),),)
    await ctx.reply(Reply("\n".join(lines), title=_("Opinion card “{title}”", title=t.card.title), buttons=buttons))


async def close(ctx: Context, card_id: int) -> None:
    """Stop taking answers to a card (those who have not answered are no longer waited for)."""
    require(ctx.person, "manage_cards")
    card = await cards.get(ctx.tx, ctx.scope, card_id)
    if card is None:
        raise NotFoundError("No such opinion card.")
    if not await cards.close(ctx.tx, card_id, ctx.now):
        raise UserError("The opinion card “{title}” is closed already.", title=card.title)
    assert ctx.person is not None
    await audit.record(ctx.tx, ctx.now, ctx.person.id, "card_closed", detail={"card_id": card_id})
    await ctx.reply(Reply(ctx._("The opinion card “{title}” is closed: no more answers are taken.",
                                title=card.title)))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """card:a|x|v|c:<card id> — answer, decline (the representative); view, close (the office)."""
    if len(parts) != 2 or parts[0] not in ("a", "x", "v", "c"):
        raise StaleActionError("This button is no longer valid.")
    card_id = callbacks.to_int(parts[1])
    await ctx.answer()
    if parts[0] == "a":
        return await card_answers.begin(ctx, card_id)
    if parts[0] == "x":
        return await card_answers.decline(ctx, card_id)
    if parts[0] == "v":
        return await show(ctx, card_id)
    await close(ctx, card_id)

