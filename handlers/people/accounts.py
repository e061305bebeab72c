"""Chat accounts beside the invite code: how choices are shown on WeCom, where notices go, and the office binding
a WeCom member.

`/view` (显示方式): a person chooses button cards or numbered text for WeCom (deputies reading WeCom in
personal WeChat see no cards). `/channel`: a person bound on two channels chooses which one their notices go
to, or the one they used last (issue 14; storage/people.chats_of). `/wecom NAME USERID`: the office binds a roster person to a WeCom
member directly, as the office usually adds deputies to the corp itself (SPEC §2); `/wecom NAME
cards|text|default` sets that person's presentation.
"""

from __future__ import annotations

from datetime import datetime

from bot import callbacks
from bot.context import Context
from bot.domain import member_id, valid_userid
from bot.errors import StaleActionError, UserError
from bot.messages import Button, Reply
from bot.model import Person
from bot.permissions import require
from handlers.people import access
from storage import access as stored_access, audit, people
from storage.db import Tx

WECOM = "wecom"
MODES = ("cards", "text")
MODE_WORDS = {"卡片": "cards", "文字": "text", "默认": "default"}


def mode_name(ctx: Context, mode: str) -> str:
    return ctx._("button cards") if mode == "cards" else ctx._("numbered text")


async def choose_view(ctx: Context) -> None:
    """`/view`: the two presentations, by button (or by number, on WeCom's numbered text)."""
    person = ctx.person
    assert person is not None
    current = await current_mode(ctx, person)
    buttons = tuple((Button(mode_name(ctx, m), callbacks.encode("view", m)),) for m in MODES)
    await ctx.reply(Reply(ctx._("On WeCom, choices are now shown as {mode}. Cards have buttons to press; numbered "
                                "text works everywhere, also in WeChat, by replying with the number. Which do you "
                                "prefer?", mode=mode_name(ctx, current)), buttons=buttons))


async def on_view(ctx: Context, parts: list[str]) -> None:
    person = ctx.person
    if person is None or len(parts) != 1 or parts[0] not in MODES:
        raise StaleActionError("This button is no longer valid.")
    await people.set_presentation(ctx.tx, person.id, parts[0], ctx.now)
    await ctx.answer()
    await ctx.reply(Reply(ctx._("Done: on WeCom, choices are shown as {mode} from now on.",
                                mode=mode_name(ctx, parts[0]))))


LAST = "last"  # the /channel choice: the channel used last


async def choose_channel(ctx: Context) -> None:
    """`/channel`: where the person's notices go, when they are bound on more than one channel."""
    person = ctx.person
    assert person is not None
    _ = ctx._
    channels = sorted({a.channel for a in await stored_access.accounts(ctx.tx, person.id)})
    if len(channels) < 2:
        await ctx.reply(Reply(_("You have one chat account: your notices come here.")))
        return
    chosen = await people.preferred_channel(ctx.tx, person.id)
    now = access.channel_name(_, chosen) if chosen in channels else _("the one you used last")
    buttons = tuple((Button(access.channel_name(_, c), callbacks.encode("channel", c)),) for c in channels)
    await ctx.reply(Reply(_("Your notices go to {channel}. Where should they go?", channel=now),
                          buttons=(*buttons, (Button(_("The one I used last"), callbacks.encode("channel", LAST)),))))


async def on_channel(ctx: Context, parts: list[str]) -> None:
    """A choice of `/channel`, checked again: one of the person's channels now (an account may have been unbound
    since the list was shown), or the one used last."""
    person = ctx.person
    if person is None or len(parts) != 1:
        raise StaleActionError("This button is no longer valid.")
    channels = {a.channel for a in await stored_access.accounts(ctx.tx, person.id)}
    if parts[0] != LAST and parts[0] not in channels:
        raise StaleActionError("This button is no longer valid.")
    chosen = None if parts[0] == LAST else parts[0]
    await people.set_preferred_channel(ctx.tx, person.id, chosen, ctx.now)
    await ctx.answer()
    where = access.channel_name(ctx._, chosen) if chosen else ctx._("the one you used last")
    await ctx.reply(Reply(ctx._("Done: your notices go to {channel} from now on.", channel=where)))


async def current_mode(ctx: Context, person: Person) -> str:
    chosen = await ctx.tx.scalar("SELECT presentation FROM persons WHERE id = ?", (person.id,))
    if chosen in MODES:
        return str(chosen)
    return ctx.config.wecom.representatives if person.is_representative else ctx.config.wecom.staff


async def office_command(ctx: Context) -> None:
    """`/wecom NAME USERID` binds; `/wecom NAME cards|text|default` sets how choices are shown."""
    require(ctx.person, "manage_accounts")
    words = ctx.inc.args.split()
    if len(words) != 2:
        raise UserError("Please write: {command} NAME USERID to bind a person to a WeCom member, or {command} NAME "
                        "cards, text or default to set how choices are shown to them.", command="/wecom")
    name, value = words
    value = MODE_WORDS.get(value, value)
    person = await access.one_named(ctx, name)
    if value in (*MODES, "default"):
        await people.set_presentation(ctx.tx, person.id, None if value == "default" else value, ctx.now)
        await audit.record(ctx.tx, ctx.now, ctx.person.id if ctx.person else None, "presentation_set",
                           detail={"person_id": person.id, "presentation": value})
        await ctx.reply(Reply(ctx._("{name}: the presentation on WeCom is set.", name=person.name)))
        return
    await bind_member(ctx, person, value)
    await ctx.reply(Reply(ctx._("{name} is now bound to the WeCom member {userid}.", name=person.name,
                                userid=value)))


async def bind_member(ctx: Context, person: Person, userid: str) -> None:
    """Bind `person` to the WeCom member `userid`, refusing a userid bound already (to anyone)."""
    await bind_wecom(ctx.tx, ctx.now, person, userid, ctx.channels, actor=ctx.person, unit=ctx.scope.unit)


async def bind_wecom(tx: Tx, now: datetime, person: Person, userid: str, running: frozenset[str], *,
                     actor: Person | None = None, unit: int | None = None) -> str:
    """The office's binding of `person` to the WeCom member `userid` (the office's /wecom, the operator's `wecom bind`
    and a roster's 账号 column): the userid as kept; UserError when it is no userid or is bound already. `unit`: the
    office's, which may name only its own people as the holder; None for the operator, who sees every unit's."""
    if not valid_userid(userid.strip()):
        raise UserError("{userid} is not a WeCom account name (letters, digits and _-@. only).", userid=userid)
    userid = member_id(userid)
    holder = await people.by_identity(tx, WECOM, userid)
    if holder is not None and unit is not None and unit not in holder.member_of:  # not ours to name
        raise UserError("The WeCom member {userid} is already bound to someone of another procuratorate.",
                        userid=userid)
    if holder is not None:
        raise UserError("The WeCom member {userid} is already bound to {name}.", userid=userid, name=holder.name)
    kept = await people.holder(tx, WECOM, userid)
    if kept is not None:  # a person whose access was removed keeps their accounts until unbound (a past term's)
        raise UserError("The WeCom member {userid} is still bound to someone whose access was removed; unbind it "
                        "from them first.", userid=userid)
    await people.bind_identity(tx, WECOM, userid, userid, person.id, now, by_office=True)
    await audit.record(tx, now, actor.id if actor else None, "bound",
                       detail={"channel": WECOM, "person_id": person.id, "by": "office" if actor else "operator"})
    await access.end_other_accounts(tx, now, person, (WECOM, userid), running)  # a staff member's old member ends
    return userid
