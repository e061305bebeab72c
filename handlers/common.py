"""Help, the main menu, language choice, cancel, and what unbound users are told."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks
from bot.context import Context
from bot.errors import StaleActionError
from bot.i18n import LANGUAGE_NAMES, SUPPORTED, Translator
from bot.messages import Button, Reply
from bot.model import Person
from handlers.labels import listed
from storage import access, events, people, units


def role_title(_: Translator, person: Person) -> str:
    """How the bot addresses a person: 代表 / 委员 for representatives, the staff roles otherwise."""
    if person.body == "npc":
        return _("NPC deputy")
    if person.body == "cppcc":
        return _("CPPCC member")
    names = {
        "office": _("liaison office"),
        "handler": _("handler"),
        "head": _("department head"),
        "discipline": _("discipline inspection"),
        "leader": _("leader"),
        "admin": _("administrator"),
    }
    return listed(_, [names[r] for r in sorted(person.roles) if r in names]) or _("staff")


def has_inbox(person: Person) -> bool:
    """Whether /inbox holds work of theirs (as `_inbox_parts` says it): a handler or head with no department has
    none, and would be refused its screen."""
    return bool(person.roles & {"office", "discipline", "leader"}
                or (person.roles & {"handler", "head"} and person.department_id is not None))


def main_menu(_: Translator, person: Person) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    if person.is_representative:
        rows.append((Button(_("Submit a matter"), callbacks.encode("menu", "submit")),
                     Button(_("My matters"), callbacks.encode("menu", "my"))))
    if has_inbox(person):  # what waits for them: the screen staff open most (on WeCom, no "/" to type)
        rows.append((Button(_("To do"), callbacks.encode("menu", "inbox")),))
    if "office" in person.roles:
        rows.append((Button(_("Register on behalf"), callbacks.encode("register", "start")),))
        rows.append((Button(_("Record a contact"), callbacks.encode("contact", "start")),))
    rows.append((Button(_("Language"), callbacks.encode("menu", "lang")),
                 Button(_("Help"), callbacks.encode("menu", "help"))))
    return tuple(rows)


def help_text(_: Translator, person: Person, *, department: str | None = None, supervisor: bool = False,
              wecom: bool = False, channels: int = 1) -> str:
    """What this person can do, role by role: each line says what that role does (SPEC §1)."""
    title = role_title(_, person)
    if department and person.roles & {"handler", "head"}:  # a handler's help names their department
        named = [_("head of {department}", department=department) if "head" in person.roles else
                 _("handler of {department}", department=department)]
        others = sorted(person.roles - {"handler", "head"})
        named += [role_title(_, replace(person, roles=frozenset({role}))) for role in others]
        title = listed(_, named)
    if supervisor:
        title = _("{title}, law-enforcement supervisor", title=title)
    lines = [_("You are registered as {name} ({title}).", name=person.name, title=title)]
    if person.is_representative:
        lines += [
            _("{/submit} — submit a suggestion, criticism or opinion, or refer a report, accusation or appeal"),
            _("{/my} — your matters, their progress and replies"),
            _.command("events") + " — " + _("the events you are invited to, and your answers"),
        ]
    if supervisor:
        lines.append(_("As a law-enforcement supervisor you are invited to case discussions, where you may give your "
                       "view on the case; send {/events} to find your invitations again."))
    owed = _inbox_parts(_, person, department)
    if owed:
        lines.append(_.command("inbox") + " — " + ("；" if _.locale.startswith("zh") else "; ").join(owed))
    if person.roles & {"office", "leader", "handler", "head", "discipline"}:
        lines.append(_("/case NUMBER — open a matter, e.g. /case LS-2026-0001, or send the number alone"))
    if "office" in person.roles:  # the command outside the msgid: the Chinese text shows no English word
        lines.append("/register — " + _("register a matter received by letter, at a meeting, on a visit or by "
                                          "phone, on a representative's behalf"))
        lines.append("/contact — " + _("record a contact with NPC deputies or CPPCC members: a forum, a visit, a "
                                         "letter and the like"))
        lines.append("/card — " + _("send an opinion card to NPC deputies and CPPCC members"))
        lines.append("/cards — " + _("the opinion cards sent: who has answered, who not yet"))
        lines.append("/brief — " + _("send a briefing, with documents, to NPC deputies and CPPCC members"))
        lines.append("/event — " + _("organise an event: a forum, a work report, an inspection, an open day, a visit or "
                                       "a case discussion, with its invitations"))
        lines.append("/events — " + _("the events: who answered what, preparation and attendance"))
        lines.append("/supervisors — " + _("the law-enforcement supervisors: their terms, and their invitations this "
                                             "year"))
    if person.roles & {"office", "leader", "discipline"}:
        lines.append(_.command("overview") + " — " + _("every matter by state"))
        lines.append("/quota — " + _("this year's contacts, and who has not yet been contacted (everyone at least "
                                       "once a year)"))
    if "office" in person.roles:
        lines.append("/npc — " + _("the NPC register: major cases reported to the county people's congress, and "
                                     "protests filed with its standing committee"))
    if person.roles & {"office", "leader"}:
        lines.append("/report — " + _("the half-year report to the higher procuratorate, as a Word document and a "
                                        "workbook"))
    if "office" in person.roles:
        lines.append("/ledger — " + _("the register ledger of the matters registered in a period (this year; or "
                                        "e.g. {half}, {month}), by kind, department or state if you name them",
                                        half="2026H2", month="2026-03"))
    if person.roles & {"office", "admin"}:  # manage_accounts (bot/permissions.py)
        lines.append("/access — " + _("disable a person's access or restore it, unbind one of their chat accounts, or "
                                        "set a staff member's roles; e.g. {command} disable NAME or {command} show "
                                        "NAME", command="/access"))
        if wecom:
            lines.append("/wecom — " + _("bind a person to their WeCom account, e.g. {command} NAME USERID, or set how "
                                           "their choices are shown: {command} NAME cards, text or default",
                                           command="/wecom"))
    if person.roles & {"office", "leader"}:
        lines.append("/digest — " + _("the digest of the last seven days: new, open, due and overdue matters, "
                                        "satisfaction, contacts, with a chart"))
    if channels > 1:  # bound on two channels: where their notices go
        lines.append("/channel — " + _("choose which of your chat accounts your notices go to"))
    lines += [
        _("{/lang} — choose the language"),
        _("{/cancel} — stop what you are doing"),
        _("{/help} — this help"),
    ]
    if person.is_representative:
        lines.append(_("Every matter is registered, handled and answered one by one. Thank you for your supervision."))
    return "\n".join(lines)


def _inbox_parts(_: Translator, person: Person, department: str | None) -> list[str]:
    """What /inbox holds for each of this person's roles."""
    roles, parts = person.roles, []
    if "office" in roles:
        parts.append(_("new and reopened matters to assign, replies to approve, extensions to decide, messages not "
                       "delivered"))
    if roles & {"handler", "head"} and department:
        if "head" in roles:
            parts.append(_("the matters assigned to {department}, which you head: their progress, conclusion and "
                           "replies", department=department))
        else:
            parts.append(_("the matters assigned to {department}: post progress, conclude them, draft their replies",
                           department=department))
    if "discipline" in roles:
        parts.append(_("overdue, long-untouched, reopened and disputed matters, and on-site supervision, each with "
                       "what is owed"))
    if "leader" in roles:
        parts.append(_("the replies of major matters waiting for your approval"))
    return parts


async def help_for(ctx: Context, person: Person) -> str:
    """The help for this person, with their department named and their office as supervisor checked today."""
    department = await people.department_name(ctx.tx, person.department_id) if person.department_id else None
    supervisor = person.is_representative and await events.is_supervisor(
        ctx.tx, ctx.scope, person.id, ctx.today)
    bound = {a.channel for a in await access.accounts(ctx.tx, person.id)}
    return help_text(ctx._, person, department=department, supervisor=supervisor, wecom="wecom" in ctx.channels,
                     channels=len(bound))


async def show_help(ctx: Context) -> None:
    person = ctx.person
    assert person is not None
    await ctx.reply(Reply(await help_for(ctx, person), title=ctx._("Help"), buttons=main_menu(ctx._, person)))


def beyond_the_list(_: Translator, n: int) -> str:
    """What a number typed past the end of a list of `n` choices is told."""
    if n == 1:
        return _("Please reply with 1, as in the list above.")
    return _("Please reply with a number from 1 to {n}, as in the list above.", n=n)


async def stale_choice(ctx: Context) -> None:
    """A number typed for a list that no longer holds (its dialogue ended, its matter moved on): said so, with what
    one can do now — its numbers are the ones a member types next."""
    text = ctx._("This choice is no longer valid.")
    if ctx.person is None:
        await ctx.reply(Reply(text))
        return
    await ctx.reply(Reply(text + "\n" + ctx._("What would you like to do?"), buttons=main_menu(ctx._, ctx.person)))


async def show_menu(ctx: Context) -> None:
    person = ctx.person
    assert person is not None
    await ctx.reply(Reply(ctx._("What would you like to do?"), buttons=main_menu(ctx._, person)))


async def choose_language(ctx: Context) -> None:
    buttons = tuple((Button(LANGUAGE_NAMES[loc], callbacks.encode("lang", loc)),) for loc in SUPPORTED)
    await ctx.reply(Reply(ctx._("Please choose your language."), buttons=buttons))


async def on_language(ctx: Context, parts: list[str]) -> None:
    if len(parts) != 1 or parts[0] not in SUPPORTED:
        raise StaleActionError("This button is no longer valid.")
    await ctx.set_locale(parts[0])
    await ctx.answer()
    await ctx.reply(Reply(ctx._("The language is now English."), buttons=menu_or_nothing(ctx)))


def menu_or_nothing(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    return main_menu(ctx._, ctx.person) if ctx.person is not None else ()


async def cancel(ctx: Context) -> None:
    if ctx.dialog is None:
        await ctx.reply(Reply(ctx._("There is nothing to cancel."), buttons=menu_or_nothing(ctx)))
        return
    await ctx.end_dialog()
    await ctx.reply(Reply(ctx._("Cancelled. Nothing was submitted."), buttons=menu_or_nothing(ctx)))


async def roll_up_family(ctx: Context) -> list[units.Unit]:
    """The units a roll-up of the person's covers: their unit and those below it, for the office and leaders (who
    read their counties' figures, docs/design-units.md); their unit alone for anyone else."""
    if ctx.person is None or not ctx.person.roles & {"office", "leader"}:
        return [await units.get(ctx.tx, ctx.scope.unit)]
    return (await units.roll_up(ctx.tx, ctx.scope.unit))[1]


async def unit_name(ctx: Context) -> str:
    """The name of the unit the person acts in (卢氏县人民检察院), as its messages and papers say it."""
    return (await units.get(ctx.tx, ctx.scope.unit)).name


async def unbound(ctx: Context) -> None:
    if ctx.traits.invite_link:
        text = ctx._("This service is for the people's congress deputies and CPPCC members who work with {unit}, "
                     "and for its staff. To use it, please ask the liaison office for your personal invite link, "
                     "then open the link.", unit=await unit_name(ctx))
    else:  # WeCom: the office binds the member, or gives a code sent as "绑定 CODE" (there is no link to open)
        text = ctx._("This service is for the people's congress deputies and CPPCC members who work with {unit}, "
                     "and for its staff. To use it, please ask the liaison office to bind your account, or for "
                     "your invite code, and send it here after the word {bind}.", unit=await unit_name(ctx),
                     bind="绑定")
    await ctx.reply(Reply(text))


async def not_understood(ctx: Context) -> None:
    person = ctx.person
    assert person is not None
    if ctx.inc.beyond and not ctx.inc.attachments:  # "5" for a list of three: that list stays the one to answer
        await ctx.reply(Reply(beyond_the_list(ctx._, ctx.inc.beyond)))
        return
    if ctx.inc.attachments:
        text = ctx._("To send files with a matter, please start with {/submit}.")
    else:
        text = ctx._("Sorry, I did not understand. Please choose below, or send {/help}.")
    await ctx.reply(Reply(text, buttons=main_menu(ctx._, person)))
