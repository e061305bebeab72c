"""The main menu's buttons (menu:submit|my|inbox|lang|help): the one place that reaches into several areas, so
handlers/common.py, which every area uses, imports none of them."""

from __future__ import annotations

from bot.context import Context
from bot.errors import DialogOpenError, StaleActionError
from handlers import common
from handlers.matters import intake, mine, screens


async def on_menu(ctx: Context, parts: list[str]) -> None:
    actions = {"submit": intake.begin, "my": mine.list_matters, "lang": common.choose_language,
               "help": common.show_help, "inbox": screens.inbox}
    if len(parts) != 1 or parts[0] not in actions:
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if ctx.dialog is not None and parts[0] in ("submit", "inbox"):  # as their commands: one's matters, help and
        # language work in a dialogue
        raise DialogOpenError()
    await actions[parts[0]](ctx)
