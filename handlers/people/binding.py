"""Binding a chat account to a roster person by a one-time invite code (SPEC §2).

`/start <code>` (Telegram's deep link t.me/<bot>?start=<code>) looks the code up by its
hash; a wrong, used or expired code gets one message that reveals nothing about which.
With `binding.require_phone`, the person then shares their own phone contact by button
and it must match the roster before the account is bound.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.model import Dialog
from handlers.people import access
from handlers.common import help_for, main_menu, unbound
from handlers.labels import deputy
from handlers.dialog_state import BindData
from handlers.dialog_state import bind as held
from storage import access as access_store
from storage import audit, people
from storage.db import Tx, parse_ts



def _invalid_code(ctx: Context) -> UserError:
    """One answer for a wrong, used or expired code: it must reveal nothing about which. A link where invites are
    links (Telegram), a code where they are typed (WeCom: 绑定 CODE)."""
    if ctx.traits.invite_link:
        return UserError("This invite link is not valid, or it has expired or been used. "
                         "Please ask the liaison office for a new one.")
    return UserError("This invite code is not valid, or it has expired or been used. "
                     "Please ask the liaison office for a new one.")


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invite(q: Tx, person_id: int, now: datetime, ttl_days: int, keep_accounts: bool = False) -> str:
    """Make a new invite code for a person; only its hash is stored. A staff member's account bound with it ends
    their other accounts on the same channel, unless `keep_accounts`."""
    code = secrets.token_urlsafe(16)  # 22 characters of [A-Za-z0-9_-]: fits a deep link's start parameter
    await people.add_invite(q, person_id, hash_code(code), now, now + timedelta(days=ttl_days), keep_accounts)
    return code


async def live_invite(q: Tx, code: str, now: datetime) -> people.Invite | None:
    """The invite this code names, if it may still bind: not used, not expired (a WeCom invite link asks this too,
    before it spends an API call: bot/channels/wecom_link.py)."""
    invite = await people.invite_by_hash(q, hash_code(code[:64]))
    if invite is None or invite.used_at is not None or parse_ts(invite.expires_at) <= now:
        return None
    return invite


async def start(ctx: Context) -> None:
    code = ctx.inc.args.strip()
    if ctx.person is not None:
        if code:
            raise UserError("This account is already bound to {name}. If that is not right, please contact the "
                            "liaison office.", name=ctx.person.name)
        await ctx.reply(Reply(await help_for(ctx, ctx.person), buttons=main_menu(ctx._, ctx.person)))
        return
    if not code:
        await unbound(ctx)
        return
    invite = await live_invite(ctx.tx, code, ctx.now)
    if invite is None:
        raise _invalid_code(ctx)
    await _refuse_disabled(ctx, invite.person_id)
    if ctx.config.binding.require_phone:
        dialog = Dialog("bind", "phone", "", dict(BindData(invite_id=invite.id, person_id=invite.person_id)))
        await ctx.save_dialog(dialog)
        await PHONE_FLOW.prompt(ctx, dialog)
        return
    await _bind(ctx, invite.id, invite.person_id)


async def _bind(ctx: Context, invite_id: int, person_id: int) -> None:
    await _refuse_disabled(ctx, person_id)  # checked again: the office may have disabled them meanwhile
    if not await people.use_invite(ctx.tx, invite_id, ctx.actor, ctx.now):
        raise _invalid_code(ctx)
    await people.bind_identity(ctx.tx, ctx.inc.channel, ctx.inc.user_id, ctx.inc.chat_id, person_id, ctx.now)
    await audit.record(ctx.tx, ctx.now, person_id, "bound", detail={"channel": ctx.inc.channel,
                                                                   "invite_id": invite_id})
    person = await people.get(ctx.tx, person_id)
    assert person is not None
    if not await access_store.invite_keeps_accounts(ctx.tx, invite_id):  # a staff member's new phone: the old ends
        await access.end_other_accounts(ctx.tx, ctx.now, person, (ctx.inc.channel, ctx.inc.user_id),
                                        ctx.channels)
    if person.locale is None:
        await people.set_locale(ctx.tx, person_id, ctx._.locale, ctx.now)
    ctx.person = person
    # 王建国代表 / 李秀梅委员 as a deputy is addressed; staff by their name ("王芳（业务部门）" addressed a person as a
    # department). Who they are registered as follows in the help.
    greeting = ctx._("Welcome, {name}. Your account is now bound.", name=deputy(ctx._, person))
    await ctx.reply(Reply(greeting + "\n\n" + await help_for(ctx, person), buttons=main_menu(ctx._, person)))


async def _refuse_disabled(ctx: Context, person_id: int) -> None:
    person = await people.get(ctx.tx, person_id)
    if person is None or person.disabled:
        error = UserError("Your access to this service has been withdrawn. If you think this is a mistake, please "
                          "contact the liaison office.")
        error.closes_dialog = True  # the binding cannot finish: nobody is left on its step
        raise error


class PhoneFlow:
    """Confirm the binding with the phone number the roster holds."""

    name = "bind"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("confirming your phone number")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        if ctx.traits.contact_button:
            text = ctx._("To finish, please share your phone number with the button below, so that we can check it "
                         "against our records. Send {/cancel} to stop.")
        else:  # WeCom: no such button, the number is typed (a message that spoke of a button confused members)
            text = ctx._("To finish, please reply with your mobile phone number, so that we can check it against "
                         "our records. Send {/cancel} to stop.")
        await ctx.reply(Reply(text, request_contact=ctx._("Share my phone number")))

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        contact = ctx.inc.contact
        if contact is None:
            return await self.prompt(ctx, dialog)
        if contact.user_id != ctx.inc.user_id:
            raise UserError("Please share your own phone number, with the button below.")
        person = await people.get(ctx.tx, held(dialog)["person_id"])
        if person is None or not await people.phone_matches(ctx.tx, person.id, contact.phone):  # by keyed digest
            raise UserError("This number does not match our records. Please contact the liaison office.")
        await ctx.end_dialog()
        await _bind(ctx, held(dialog)["invite_id"], person.id)

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        await self.prompt(ctx, dialog)


PHONE_FLOW = PhoneFlow()
