"""Incoming → handler. The one place that turns a UserError into a reply.

Order of routing: a command; else a button (a dialogue step's button, or a namespaced
action); else the text, files or contact of a running dialogue; else a gentle "not
understood" with the menu. A refusal (UserError) rolls back whatever the handler had
changed, to a savepoint taken before it ran, and tells the user why, in their language.
A command or a menu button that a running dialogue blocks is answered the same way everywhere:
which dialogue is open, how to leave it (/cancel), and its step shown again. A refusal marked
`closes_dialog` (a confirm that cannot succeed) ends the dialogue with it.
Every button press is answered exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot import callbacks
from bot.context import Context
from bot.domain import QUOTES, typed_matter_number
from bot.errors import DialogOpenError, PermissionDeniedError, StaleActionError, UserError
from bot.messages import TYPED_WORDS, Incoming, Reply, alert_text
from bot.text import normalise, normalise_opt
from bot.model import Dialog
from storage import audit, dialogs, outbox

log = logging.getLogger(__name__)

Handler = Callable[[Context], Awaitable[None]]
ButtonHandler = Callable[[Context, list[str]], Awaitable[None]]
# A command's long read, done before its transaction on a read-only connection (bot/inbox.py): what it
# returns reaches the command's handler as `ctx.prepared`; None (or a refusal) leaves the handler to do it all.
Preparer = Callable[[Context], Awaitable[object | None]]
DIALOG_NS = "d"
STALE = "This button is no longer valid."  # the generic refusal of a press: a typed number is told it otherwise


class Flow(Protocol):
    """A guided dialogue whose state lives in the dialogs table. A flow with steps that ask for a matter's number as
    text names them in `number_steps` (a frozenset of step names; none if absent): at any other step, a matter's
    number sent as a notice just offered it is the matter asked for, which waits until the dialogue is done
    (`_follows_a_notice`). A flow whose choices some commands stand for at some steps says which in
    `instead_of(dialog, command)` (a choice, or None: the command as it is)."""

    name: str

    async def on_message(self, ctx: Context, dialog: Dialog) -> None: ...

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None: ...

    async def prompt(self, ctx: Context, dialog: Dialog) -> None: ...

    def describe(self, ctx: Context, dialog: Dialog) -> str: ...


@dataclass
class Routes:
    commands: dict[str, Handler] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    open_commands: frozenset[str] = frozenset()  # usable before binding
    open_buttons: frozenset[str] = frozenset()
    dialog_commands: frozenset[str] = frozenset()  # usable in the middle of a dialogue
    # of those, the ones after which the dialogue's step is shown again: their answer holds no list of its own to
    # choose from (/help), so the numbers a member types next answer the step, not an earlier list
    prompt_after: frozenset[str] = frozenset()
    # dialogues that only hold what was offered (a message to submit): a command other than the dialogue commands, or
    # a button of another message, ends them and goes on as if none were open
    light_flows: frozenset[str] = frozenset()
    # commands, and buttons by "namespace:first part" (report:draw), that read much: read first (`prepared_key`)
    prepared: dict[str, Preparer] = field(default_factory=dict)
    unbound: Handler | None = None
    not_understood: Handler | None = None
    # a number typed for a list whose choices no longer hold (WeCom, the console): what to do instead
    stale_choice: Handler | None = None


async def dispatch(ctx: Context, routes: Routes, *, savepoint: str, redo: Callable[[], Awaitable[None]]) -> None:
    """Run the handler for ctx.inc inside the caller's transaction, within a savepoint the caller has opened
    (bot/inbox.py): a refusal rolls the update back to it, `redo` writes again what the caller had written
    inside it before the handler ran (the inbox's own bookkeeping), and the refusal is answered. One
    savepoint an update, not two: each is a statement at every update (a round trip on PostgreSQL)."""
    ctx.inc = as_typed_command(clean(ctx.inc))
    try:
        await _route(ctx, routes)
    except UserError as refusal:
        await ctx.tx.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
        await redo()
        ctx.answered = False
        ctx.outbox_ids.clear()
        log.info("refused %s for %s: %s", _what(ctx, routes), ctx.actor, refusal.msgid)
        if isinstance(refusal, PermissionDeniedError):
            await audit.record(ctx.tx, ctx.now, ctx.person.id if ctx.person else None,
                               f"refused:{refusal.action or _what(ctx, routes)}", matter_id=refusal.matter_id,
                               detail={"channel": ctx.inc.channel})
        open_dialog = await dialogs.load(ctx.tx, ctx.actor)
        typed = ctx.inc.callback_id is None and ctx.inc.action is not None  # a number typed for a list
        if isinstance(refusal, DialogOpenError) and open_dialog is not None:
            await ctx.answer(unchanged=True)  # the press did nothing: pressed again once the dialogue is done
            await _in_dialogue(ctx, routes, open_dialog)
        elif isinstance(refusal, StaleActionError) and typed and (open_dialog is not None or routes.stale_choice):
            # not a dead end: the dialogue's step again, or what one can do (a number of the list went with it); a
            # reason of its own ("filed already") is said as it is
            if refusal.closes_dialog and open_dialog is not None:
                await ctx.end_dialog()
                open_dialog = None
            if open_dialog is None and refusal.msgid == STALE and routes.stale_choice is not None:
                await routes.stale_choice(ctx)
            else:
                await ctx.reply(Reply(ctx._(refusal.msgid, **refusal.params) if refusal.msgid != STALE
                                      else ctx._("This choice is no longer valid.")))
                if open_dialog is not None:
                    await _prompt(ctx, routes.flows[open_dialog.flow], open_dialog)
        else:
            if refusal.closes_dialog and open_dialog is not None:
                await ctx.end_dialog()  # the step that failed cannot succeed: nobody is left on it
            text = ctx._(refusal.msgid, **refusal.params)
            said = ctx.inc.callback_id is None or not isinstance(refusal, StaleActionError)
            if ctx.inc.callback_id is not None:
                await ctx.answer(alert_text(ctx.traits, text, said_too=said), alert=True)
            if said:
                await ctx.reply(Reply(text))
    await ctx.answer()


async def _route(ctx: Context, routes: Routes) -> None:
    inc = ctx.inc
    ctx.dialog = dialog = ctx.dialog if ctx.dialog_read else await dialogs.load(ctx.tx, ctx.actor)
    if dialog is not None and inc.command is not None:
        flow = routes.flows[dialog.flow]
        instead = getattr(flow, "instead_of", None)
        chosen = instead(dialog, inc.command.lower()) if instead is not None else None
        if chosen is not None:  # a command that is one of the dialogue's choices (提交 while a message is offered to
            return await flow.on_choice(ctx, dialog, chosen)  # submit; 取消 while a step is changed: that change)
    if dialog is not None and dialog.flow in routes.light_flows and _moves_on(inc, routes):
        await ctx.end_dialog()
        dialog = None
    if inc.command is not None:
        name = inc.command.lower()
        if ctx.person is None and name not in routes.open_commands:
            return await _unbound(ctx, routes)
        handler = routes.commands.get(name)
        if handler is None:
            raise UserError("Unknown command. Send {/help} to see what you can do.")
        if dialog is not None and name not in routes.dialog_commands:
            return await _in_dialogue(ctx, routes, dialog)
        await handler(ctx)
        if dialog is not None and ctx.dialog is not None:  # /help, /my, /lang: the dialogue waits where it was
            flow = routes.flows[dialog.flow]
            await ctx.reply(Reply(ctx._("You have still not finished {what}. Continue where you left off, or send "
                                        "{/cancel} to leave it.", what=flow.describe(ctx, dialog))))
            if name in routes.prompt_after:
                await _prompt(ctx, flow, ctx.dialog)
        return
    if inc.action is not None:
        namespace, parts = callbacks.decode(inc.action)
        if namespace == DIALOG_NS:
            if dialog is None or len(parts) != 2 or parts[0] != dialog.nonce:
                raise StaleActionError("This button is no longer valid.")
            return await routes.flows[dialog.flow].on_choice(ctx, dialog, parts[1])
        button = routes.buttons.get(namespace)
        if button is None:
            raise StaleActionError("This button is no longer valid.")
        if ctx.person is None and namespace not in routes.open_buttons:
            return await _unbound(ctx, routes)
        return await button(ctx, parts)
    if dialog is not None:
        flow = routes.flows[dialog.flow]
        if await _follows_a_notice(ctx, flow, dialog):
            return await _in_dialogue(ctx, routes, dialog)
        return await flow.on_message(ctx, dialog)
    if ctx.person is None:
        return await _unbound(ctx, routes)
    if routes.not_understood is not None:
        await routes.not_understood(ctx)


async def _follows_a_notice(ctx: Context, flow: Flow, dialog: Dialog) -> bool:
    """Whether a message in a dialogue is a matter's number sent as the notice that came after the dialogue's step
    offers it ("查看事项：发送 LS-2026-0006"): then the matter is what is asked for, which waits as /case does, and
    never becomes the note or the text the step asks for. A number sent otherwise (a deputy's content naming an
    earlier matter; a step that asks for a matter's number, `number_steps`) is the step's text, as any other."""
    inc = ctx.inc
    number = None if inc.attachments else typed_matter_number(inc.text)
    if number is None or dialog.step in getattr(flow, "number_steps", frozenset()):
        return False
    return await outbox.offers_typed(ctx.tx, inc.channel, inc.chat_id, number)


async def _in_dialogue(ctx: Context, routes: Routes, dialog: Dialog) -> None:
    """Say which dialogue is open and how to leave it, then show its step again."""
    flow = routes.flows[dialog.flow]
    await ctx.reply(Reply(ctx._("You have not finished {what}. Please finish it first, or send {/cancel} to leave it.",
                                what=flow.describe(ctx, dialog))))
    await _prompt(ctx, flow, dialog)


def _moves_on(inc: Incoming, routes: Routes) -> bool:
    """Whether the update leaves a light dialogue behind: a command of its own, a button of another message, or a
    matter's number sent alone (it opens that matter)."""
    if inc.command is not None:
        return inc.command.lower() not in routes.dialog_commands
    if inc.action is not None:
        return callbacks.decode(inc.action)[0] != DIALOG_NS
    return not inc.attachments and typed_matter_number(inc.text) is not None


async def _prompt(ctx: Context, flow: Flow, dialog: Dialog) -> None:
    try:
        await flow.prompt(ctx, dialog)
    except UserError:  # its step can no longer be shown (the matter moved on): the sentence before says enough
        log.info("dialogue %s of %s cannot show its step", dialog.flow, ctx.actor)


async def _unbound(ctx: Context, routes: Routes) -> None:
    if routes.unbound is not None:
        await routes.unbound(ctx)


def prepared_key(inc: Incoming) -> str:
    """What names an update's long read in `Routes.prepared`: its command, or its button's namespace and first
    part ("report:draw" of "report:draw:2026H2"); "" for anything else."""
    if inc.command is not None:
        return inc.command.lower()
    if inc.action is not None:
        return ":".join(inc.action.split(":")[:2])
    return ""


def clean(inc: Incoming) -> Incoming:
    """The user's strings as the bot stores them (bot/text.py): whole UTF-8, NFC, no control characters but
    newline and tab."""
    fix, fix_opt = normalise, normalise_opt
    return replace(
        inc, text=fix(inc.text), command=fix_opt(inc.command), args=fix(inc.args), action=fix_opt(inc.action),
        display_name=fix(inc.display_name),
        attachments=tuple(replace(a, name=fix(a.name), mime=fix_opt(a.mime)) for a in inc.attachments),
        contact=replace(inc.contact, phone=fix(inc.contact.phone)) if inc.contact else None,
    )


_WORD_COMMANDS = {word: command for command, word in TYPED_WORDS.items()}


def as_typed_command(inc: Incoming) -> Incoming:
    """A message that is exactly a command's words ("我的", or “我的” copied from a message) is that command, on
    every channel: WeCom's messages name commands so, and a notice written for WeCom may reach the same person on
    Telegram instead (bot/dispatch.py: an account that cannot be reached; an account unbound)."""
    if inc.command is not None or inc.action is not None or inc.attachments or inc.contact is not None:
        return inc
    command = _WORD_COMMANDS.get(inc.text.strip().strip(QUOTES))
    return inc if command is None else replace(inc, command=command, args="")


def dialog_button(dialog: Dialog, choice: str) -> str:
    """Button data for a choice in the current step of a dialogue."""
    return callbacks.encode(DIALOG_NS, dialog.nonce, choice)


def _what(ctx: Context, routes: Routes) -> str:
    """What was refused, for the log: a known command's name, never what the user typed."""
    inc = ctx.inc
    if inc.command:
        return f"/{inc.command.lower()}" if inc.command.lower() in routes.commands else "unknown command"
    if inc.action:
        return "button"
    return "message"
