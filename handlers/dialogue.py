"""Opening a dialogue, moving it to a step, and cancelling it, the one way every flow does it.

A dialogue is opened only when none is open (else the router names the open one and shows its step
again), saved, and shown its first step; moved to another step, it is saved and shows that step; its
Cancel button ends it and says that nothing was done.
"""

from __future__ import annotations

from typing import Protocol

from bot.context import Context
from bot.errors import DialogOpenError
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.router import dialog_button
from bot.model import Dialog
from bot.permissions import require
from handlers.common import menu_or_nothing

NOTHING_CHANGED = N_("Cancelled. Nothing was changed.")


class Prompting(Protocol):
    async def prompt(self, ctx: Context, dialog: Dialog) -> None: ...


async def open_dialog(ctx: Context, flow: Prompting, dialog: Dialog) -> None:
    """Start `dialog` and show its first step; refused while another dialogue is open."""
    if ctx.dialog is not None:
        raise DialogOpenError()
    await ctx.save_dialog(dialog)
    await flow.prompt(ctx, dialog)


async def goto(ctx: Context, flow: Prompting, dialog: Dialog, step: str) -> None:
    """Move `dialog` to `step`, save it and show that step."""
    dialog.step = step
    await ctx.save_dialog(dialog)
    await flow.prompt(ctx, dialog)


def cancel_button(ctx: Context, dialog: Dialog) -> Button:
    return Button(ctx._("Cancel"), dialog_button(dialog, "cancel"))


async def cancelled(ctx: Context, choice: str, said: str = NOTHING_CHANGED) -> bool:
    """On the Cancel button: answer the press, end the dialogue and say `said` (a msgid); True then."""
    if choice != "cancel":
        return False
    await ctx.answer()
    await ctx.end_dialog()
    await ctx.reply(Reply(ctx._(said), buttons=menu_or_nothing(ctx)))  # what next, as after /cancel
    return True


async def cancel_pressed(ctx: Context, choice: str, said: str = NOTHING_CHANGED, *, permission: str | None = None
                         ) -> bool:
    """A press in a dialogue, answered at once: True when it was Cancel (the dialogue ended, `said` said);
    else `permission`, when given, is checked again, since roles change between steps."""
    await ctx.answer()
    if await cancelled(ctx, choice, said):
        return True
    if permission is not None:
        require(ctx.person, permission)
    return False
