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

SHOWN_PEOPLE = 8  # the inbox names this many; once they are seen to, the next ones
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


async def _person(ctx: Context, person_id: int) -> str:
    require(ctx.person, "manage_accounts")  # pressed again or forwarded: checked on every press
    person = await people.get(ctx.tx, person_id)
    if person is None:
        raise StaleActionError("This button is no longer valid.")
    return person.name


async def show(ctx: Context, person_id: int) -> None:
    name = await _person(ctx, person_id)
    count, latest = await casework.undelivered_to(ctx.tx, ctx.scope, person_id, SHOWN_MESSAGES)
    _ = ctx._
    if not count:
        await ctx.reply(Reply(_("Nothing waits to reach {name}.", name=name)))
        return
    parts = [_missed(_, item) for item in latest]
    if count > len(latest):
        parts.append(_("…and {n} earlier.", n=count - len(latest)))
    done = Button(_("Reached another way"), callbacks.encode("undel", "s", person_id))
    await ctx.reply(Reply("\n\n".join(parts), title=_("Not delivered to {name}: {n}", name=name, n=count),
                          buttons=((done,),)))


async def settle(ctx: Context, person_id: int) -> None:
    name = await _person(ctx, person_id)
    settled = await casework.settle_undelivered(ctx.tx, ctx.scope, person_id, ctx.now)
    if not settled:
        raise UserError("Nothing waits to reach {name}: marked done already.", name=name)
    assert ctx.person is not None
    await audit.record(ctx.tx, ctx.now, ctx.person.id, "undelivered_settled",
                       detail={"person_id": person_id, "messages": settled}, unit=ctx.scope.unit)
    await ctx.reply(Reply(ctx._("Noted: {name} was reached another way; the {n} messages they missed are no longer "
                                "shown.", name=name, n=settled)))


async def on_button(ctx: Context, parts: list[str]) -> None:
    """undel:v|s:<person id> — what a person missed; they were reached another way (the office)."""
    if len(parts) != 2 or parts[0] not in ("v", "s"):
        raise StaleActionError("This button is no longer valid.")
    person_id = callbacks.to_int(parts[1])
    await ctx.answer()
    if parts[0] == "v":
        return await show(ctx, person_id)
    await settle(ctx, person_id)
