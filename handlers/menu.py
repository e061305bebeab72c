"""The main menu's buttons (menu:submit|my|inbox|lang|help), and a matter's number sent alone: the one place that
reaches into several areas, so handlers/common.py, which every area uses, imports none of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.context import Context
from bot.errors import DialogOpenError, NotFoundError, StaleActionError
from bot.domain import typed_matter_number
from handlers import common
from handlers.matters import intake, mine, offer, screens
from storage import matters



async def on_menu(ctx: Context, parts: list[str]) -> None:
    actions: dict[str, Callable[[Context], Awaitable[None]]] = {
        "submit": intake.begin, "my": mine.list_matters, "lang": common.choose_language, "help": common.show_help,
        "inbox": screens.inbox}
    if len(parts) != 1 or parts[0] not in actions:
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if ctx.dialog is not None and parts[0] in ("submit", "inbox"):  # as their commands: one's matters, help and
        # language work in a dialogue
        raise DialogOpenError()
    await actions[parts[0]](ctx)


async def on_text(ctx: Context) -> None:
    """A message outside any dialogue. A matter's number alone ("LS-2026-0001", as a receipt or a notice names it;
    typed or copied, on a phone where "/case" is awkward to type) opens that matter: for staff its card, as /case
    does; for a representative their own matter, as /my's button does (another's is answered as no matter at all).
    A representative's words of some length are offered to be submitted (handlers/matters/offer.py). Anything else is
    not understood."""
    number = typed_matter_number(ctx.inc.text)
    person = ctx.person
    if number is None and not ctx.inc.beyond and offer.worth_offering(ctx):  # a deputy's words: to submit them?
        return await offer.offer(ctx)
    if ctx.inc.attachments or person is None or number is None:
        return await common.not_understood(ctx)
    if person.is_staff:
        return await screens.open_number(ctx, number, alone=True)
    matter = await matters.by_number(ctx.tx, ctx.scope, number)
    if matter is None:
        raise NotFoundError("No such matter.")
    await mine.show_matter(ctx, matter.id)
