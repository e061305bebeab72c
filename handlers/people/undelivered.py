"""Messages that did not reach their person, for the liaison office: who, what they missed, and "reached another way".

A deputy who blocked the bot, left the corp or the WeCom app's range, or whose messages failed or were held after a
send of unknown outcome, misses what the procuratorate owes them (a reply to rate, a progress notice, an invitation).
The office's /inbox names them, the latest first; a name shows what they missed (the matter, when, the words); once
the office has reached them another way it says so, and those messages are no longer shown (a later one is).
"""

from __future__ import annotations

import json

from bot import callbacks
from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.permissions import require
from bot.text import clip
from handlers.labels import listed
from storage import audit, casework, people
from storage.casework import Missed, Unreached
from storage.db import parse_ts

SHOWN_PEOPLE = 20  # the inbox names this many, the latest first; once they are seen to, the next ones
SHOWN_MESSAGES = 5  # a person's latest messages shown, each clipped
MESSAGE_CLIP = 300
NAME_CLIP = 20


def _why(_: Translator, state: str) -> str:
    return {"blocked": _("their account cannot be reached (the bot blocked, or they left WeCom or the app)"),
            "failed": _("the send failed"),
            "held": _("the send's outcome is unknown: it may have arrived")}[state]


def _counts(_: Translator, u: Unreached) -> str:
    parts = [(u.blocked, _("cannot be reached: {n}", n=u.blocked)), (u.failed, _("failed: {n}", n=u.failed)),
             (u.held, _("uncertain: {n}", n=u.held))]
    return listed(_, [text for n, text in parts if n])


async def section(ctx: Context) -> None:
    """The office's /inbox: the people messages did not reach, with a button each, or nothing at all."""
    unreached = await casework.undelivered(ctx.tx, ctx.scope)
    if not unreached:
        return
    _ = ctx._
    shown = unreached[:SHOWN_PEOPLE]
    lines = [_("These people did not receive messages sent to them. Please reach them another way: choose a name "
               "to see what they missed, and once they are reached, choose “Reached another way”."), ""]
    lines += [_("{name} — {counts}; the latest {when}", name=u.name, counts=_counts(_, u),
                when=_.datetime(parse_ts(u.latest))) for u in shown]
    if len(unreached) > len(shown):
        lines.append(_("…and {n} more people, shown once these are done.", n=len(unreached) - len(shown)))
    buttons = tuple((Button(clip(u.name, NAME_CLIP), callbacks.encode("undel", "v", u.person_id)),) for u in shown)
    await ctx.reply(Reply("\n".join(lines), title=_("Messages not delivered"), buttons=buttons))


def _missed(_: Translator, item: Missed) -> str:
    head = " · ".join(filter(None, (_.datetime(parse_ts(item.created_at)), item.matter_number, _why(_, item.state))))
    words = ""
    if item.payload:
        said = Reply.from_json(json.loads(item.payload))
        words = clip("\n".join(filter(None, (said.title, said.text))), MESSAGE_CLIP)
    return f"{head}\n{words or _('(its words are no longer kept)')}"


async def _name(ctx: Context, person_id: int) -> str:
    """The person's name, once it is known they have messages the office's unit is to see to (never another's)."""
    person = await people.get(ctx.tx, person_id)
    return person.name if person is not None else ""


async def show(ctx: Context, person_id: int) -> None:
    require(ctx.person, "manage_accounts")  # pressed again or forwarded: checked on every press
    count, latest = await casework.undelivered_to(ctx.tx, ctx.scope, person_id, SHOWN_MESSAGES)
    if not count:  # seen to already, or not this unit's to see: named to nobody
        raise StaleActionError("This button is no longer valid.")
    _, name = ctx._, await _name(ctx, person_id)
    parts = [_missed(_, item) for item in latest]
    if count > len(latest):
        parts.append(_("…and {n} earlier.", n=count - len(latest)))
    # what was shown, up to its latest: a message that misses them after this is not marked with it
    done = Button(_("Reached another way"), callbacks.encode("undel", "s", person_id, latest[0].id))
    await ctx.reply(Reply("\n\n".join(parts), title=_("Not delivered to {name}: {n}", name=name, n=count),
                          buttons=((done,),)))


async def settle(ctx: Context, person_id: int, up_to: int) -> None:
    require(ctx.person, "manage_accounts")
    settled = await casework.settle_undelivered(ctx.tx, ctx.scope, person_id, up_to, ctx.now)
    if not settled:
        raise UserError("Nothing here waits to be seen to any more: it was marked done already.")
    assert ctx.person is not None
    await audit.record(ctx.tx, ctx.now, ctx.person.id, "undelivered_settled",
                       detail={"person_id": person_id, "messages": settled}, unit=ctx.scope.unit)
    await ctx.reply(Reply(ctx._("Noted: {name} was reached another way; the messages they missed ({n}) are no "
                                "longer shown.", name=await _name(ctx, person_id), n=settled)))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """undel:v:<person id> — what a person missed; undel:s:<person id>:<latest shown> — they were reached another
    way about those (the office)."""
    if parts[:1] == ["v"] and len(parts) == 2:
        await ctx.answer()
        return await show(ctx, callbacks.to_int(parts[1]))
    if parts[:1] == ["s"] and len(parts) == 3:
        await ctx.answer()
        return await settle(ctx, callbacks.to_int(parts[1]), callbacks.to_int(parts[2]))
    raise StaleActionError("This button is no longer valid.")
