"""Taking access away (SPEC §2, issue 15 item 1): from chat (`/access`) and from the command line.

The office and the administrator can disable a person (every chat account of theirs stops at once,
their open dialogues end, what was queued for them is withdrawn; their matters and history stay),
enable them again, unbind one channel's account, and set a staff member's roles. Each is audited.
Every command and press looks the person up again (`people.by_identity`), so the change holds from
the next update on: a disabled deputy's /submit, a button on an old card, a notification to them.

A disabled representative's open matters stay the unit's and are handled as before (SPEC §4: the
procuratorate owes the reply whatever became of the chat account). What the bot would have sent them
about a matter goes to the liaison office instead, to be passed on in person or on paper
(`Context.notify`), where a reply given that way is recorded as such.

A staff member's new account (an invite, a WeCom binding) ends their other accounts on the same
channel — the lost phone stops receiving a complainant's name — unless the invite was made to keep
them (`python -m bot invite --keep-accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.context import Context
from bot.domain import STAFF_ROLES
from bot.errors import PermissionDeniedError, UserError
from bot.i18n import N_, Msg, Translator
from bot.messages import Reply
from bot.model import UnitScope
from bot.permissions import require
from handlers.labels import listed
from storage import access, audit, people
from storage.access import Account
from storage.db import Tx
from storage.people import Person

VERBS = {"disable": "disable", "停用": "disable", "enable": "enable", "启用": "enable", "unbind": "unbind",
         "解绑": "unbind", "roles": "roles", "角色": "roles", "show": "show", "查看": "show"}
CHANNEL_WORDS = {"企业微信": "wecom", "政务微信": "wecom", "电报": "telegram", "控制台": "console"}
CHANNEL_NAMES = {"telegram": N_("Telegram"), "wecom": N_("WeCom"), "console": N_("console")}
# The Chinese words a clerk types for a role, including those /access show and /help name it by.
ROLE_WORDS = {"办公室": "office", "联络办公室": "office", "承办": "handler", "承办部门": "handler", "业务部门": "handler",
              "承办人": "handler", "部门负责人": "head", "纪检": "discipline", "纪检监察": "discipline", "领导": "leader",
              "院领导": "leader", "管理员": "admin", "系统管理员": "admin"}
NO_ROLES = ("none", "无", "-")
USAGE = N_("Please write: {command} disable NAME, {command} enable NAME, {command} unbind NAME CHANNEL "
           "(telegram or wecom), {command} roles NAME ROLES (comma-separated, or none), or {command} show NAME.")


@dataclass(frozen=True)
class Disabled:
    accounts: int
    dialogues: int
    withdrawn: int
    open_matters: list[str]
    urged: list[str]  # open matters the (staff) person urges: the office gives them to someone else


async def disable(tx: Tx, now: datetime, actor_id: int | None, person: Person,
                  scope: UnitScope | None = None) -> Disabled:
    """Disable the person: all their accounts stop, their dialogues end, what was queued for them is withdrawn.
    `scope`: the unit of the office that does it, whose open matters of theirs it is told of (None: the operator,
    every unit's)."""
    if actor_id == person.id:
        raise UserError("You cannot take away your own access; please ask another member of the liaison office "
                        "or the administrator.")
    chosen = await access.accounts(tx, person.id)
    if not await access.set_disabled(tx, person.id, now):
        raise UserError("The access of {name} is disabled already.", name=person.name)
    dialogues = await access.end_dialogues(tx, chosen)
    withdrawn = await access.withdraw_messages(tx, person.id, chosen)
    matters = await access.open_matters(tx, person.id, scope)
    urged = await access.open_matters_urged_by(tx, person.id)
    await audit.record(tx, now, actor_id, "person_disabled", detail={
        "person_id": person.id, "accounts": len(chosen), "dialogues": dialogues, "withdrawn": withdrawn})
    return Disabled(len(chosen), dialogues, withdrawn, matters, urged)


async def enable(tx: Tx, now: datetime, actor_id: int | None, person: Person) -> None:
    if not await access.set_disabled(tx, person.id, None):
        raise UserError("The access of {name} is not disabled.", name=person.name)
    await audit.record(tx, now, actor_id, "person_enabled", detail={"person_id": person.id})


async def unbind(tx: Tx, now: datetime, actor_id: int | None, person: Person, channel: str,
                 external_id: str | None = None, reason: str = "unbound", *,
                 running: frozenset[str] = frozenset()) -> list[Account]:
    """Unbind the person's accounts on `channel` (one, if `external_id` is given); refused when there is none."""
    chosen = [a for a in await access.accounts(tx, person.id)
              if a.channel == channel and (external_id is None or a.external_id == external_id)]
    if not chosen:
        raise UserError("{name} has no account on {channel}.", name=person.name,
                        channel=Msg(CHANNEL_NAMES.get(channel, channel)))
    await _end(tx, now, actor_id, person, chosen, reason, running)
    return chosen


async def _end(tx: Tx, now: datetime, actor_id: int | None, person: Person, chosen: list[Account],
               reason: str, running: frozenset[str]) -> None:
    """End these accounts; the notices queued for them go to the person's account that remains, on a channel that
    runs (`running`: one that does not would keep them pending unseen), else they are withdrawn."""
    await access.end_dialogues(tx, chosen)
    ending = {(a.channel, a.chat_id) for a in chosen}
    remaining = [chat for chat in await people.chats_of(tx, person.id) if chat not in ending and chat[0] in running]
    if remaining:  # bound elsewhere too (and not disabled): what was queued for them goes there
        await access.copy_notices(tx, person.id, chosen, remaining[0], now)
    await access.withdraw_messages(tx, person.id, chosen)
    for account in chosen:
        await access.unbind(tx, person.id, account)
        await audit.record(tx, now, actor_id, "unbound", detail={
            "person_id": person.id, "channel": account.channel, "reason": reason})


async def end_other_accounts(tx: Tx, now: datetime, person: Person, kept: tuple[str, str],
                             running: frozenset[str] = frozenset()) -> int:
    """A staff member bound a new account (`kept`: channel, external id): their other accounts on that channel
    end (a lost phone receives nothing more). Representatives keep theirs. Returns how many ended."""
    if not person.is_staff:
        return 0
    others = [a for a in await access.accounts(tx, person.id)
              if a.channel == kept[0] and a.external_id != kept[1]]
    if others:
        await _end(tx, now, None, person, others, "replaced", running)
    return len(others)


async def set_roles(tx: Tx, now: datetime, actor: Person | None, person: Person, roles: frozenset[str]) -> None:
    """Replace a staff member's roles (none: they keep their history and can do nothing more)."""
    if actor is not None and actor.id == person.id:
        raise UserError("You cannot change your own roles; please ask another member of the liaison office or the "
                        "administrator.")
    unknown = sorted(roles - set(STAFF_ROLES))
    if unknown:
        raise UserError("Unknown role: {role}. The roles are: liaison office, handling department, department head, "
                        "discipline inspection, leader, administrator (office, handler, head, discipline, leader, "
                        "admin).", role=", ".join(unknown))
    if person.is_representative:
        raise UserError("{name} is a representative; staff roles are for staff.", name=person.name)
    if roles & {"handler", "head"} and person.department_id is None:
        raise UserError("{name} belongs to no department, so cannot be a handler or a department head.",
                        name=person.name)
    if actor is not None and "admin" in (roles ^ person.roles) and "admin" not in actor.roles:
        raise PermissionDeniedError.of("manage_accounts", None, "Only the administrator can give or take the "
                                       "administrator role.")
    if roles == person.roles:
        raise UserError("{name} has these roles already.", name=person.name)
    await access.set_roles(tx, person.id, roles)
    await audit.record(tx, now, actor.id if actor else None, "roles_set", detail={
        "person_id": person.id, "roles": sorted(roles), "before": sorted(person.roles)})


# -- chat: /access -----------------------------------------------------------------------------


async def one_named(ctx: Context, name: str) -> Person:
    found = await people.find_by_name(ctx.tx, ctx.scope, name)
    if not found:
        raise UserError("Nobody named {name} is on the roster or the staff list.", name=name)
    if len(found) > 1:
        raise UserError("Several people are named {name}; please ask the administrator to bind them from the "
                        "command line.", name=name)
    return found[0]


async def command(ctx: Context) -> None:
    """`/access VERB NAME ...` for the liaison office and the administrator."""
    require(ctx.person, "manage_accounts")
    words = ctx.inc.args.split()
    verb = VERBS.get(words[0].lower() if words else "")
    if verb is None or len(words) < 2 or (verb in ("unbind", "roles") and len(words) != 3) or \
            (verb in ("disable", "enable", "show") and len(words) != 2):
        raise UserError(USAGE, command="/access")
    person = await one_named(ctx, words[1])
    actor = ctx.person
    if verb in ("disable", "unbind") and "admin" in person.roles and not (actor and "admin" in actor.roles):
        raise PermissionDeniedError.of("manage_accounts", None, "Only the administrator can take away the access "
                                       "of an administrator.")
    _ = ctx._
    if verb == "show":
        await ctx.reply(Reply(await describe(ctx.tx, _, person)))
    elif verb == "disable":
        done = await disable(ctx.tx, ctx.now, actor.id if actor else None, person, ctx.scope)
        text = _("The access of {name} is disabled: {accounts} chat accounts no longer work, {dialogues} open "
                 "dialogues were ended and {withdrawn} messages not yet sent were withdrawn. Their history stays.",
                 name=person.name, accounts=done.accounts, dialogues=done.dialogues, withdrawn=done.withdrawn)
        if done.open_matters:
            text += "\n" + _("Their open matters stay with the unit and are handled as before: {numbers}. What the "
                             "bot would send them now comes to the liaison office, to pass on in person or on paper.",
                             numbers=listed(_, done.open_matters))
        if done.urged:
            text += "\n" + _("{name} is the urger of these open matters; please reassign them: {numbers}.",
                             name=person.name, numbers=listed(_, done.urged))
        await ctx.reply(Reply(text))
    elif verb == "enable":
        await enable(ctx.tx, ctx.now, actor.id if actor else None, person)
        await ctx.reply(Reply(_("The access of {name} is restored: their chat accounts work again.",
                                name=person.name)))
    elif verb == "unbind":
        channel = CHANNEL_WORDS.get(words[2], words[2].lower())
        await unbind(ctx.tx, ctx.now, actor.id if actor else None, person, channel, running=ctx.channels)
        await ctx.reply(Reply(_("{name}'s account on {channel} is unbound. A new one needs a new invite.",
                                name=person.name, channel=channel_name(_, channel))))
    else:
        given = words[2]
        roles = frozenset() if given.lower() in NO_ROLES else frozenset(
            ROLE_WORDS.get(r.strip(), r.strip().lower()) for r in given.replace("，", ",").replace("、", ",").split(",")
            if r.strip())
        await set_roles(ctx.tx, ctx.now, actor, person, roles)
        await ctx.reply(Reply(_("The roles of {name} are now: {roles}.", name=person.name,
                                roles=role_names(_, roles) or _("none"))))


def channel_name(_: Translator, channel: str) -> str:
    return _(CHANNEL_NAMES[channel]) if channel in CHANNEL_NAMES else channel


def role_names(_: Translator, roles: frozenset[str]) -> str:
    names = {"office": _("liaison office"), "handler": _("handler"), "head": _("department head"),
             "discipline": _("discipline inspection"), "leader": _("leader"), "admin": _("administrator")}
    return listed(_, [names[r] for r in sorted(roles) if r in names])


async def describe(tx: Tx, _: Translator, person: Person) -> str:
    accounts = await access.accounts(tx, person.id)
    state = _("disabled") if await access.disabled_at(tx, person.id) else _("active")
    lines = [_("{name}: access {state}.", name=person.name, state=state)]
    if person.roles:
        lines.append(_("Roles: {roles}.", roles=role_names(_, person.roles)))
    if accounts:
        lines.append(_("Chat accounts: {accounts}.", accounts=listed(_, [channel_name(_, a.channel) for a in accounts])))
    else:
        lines.append(_("No chat account is bound."))
    return "\n".join(lines)
