"""Picking a representative, the one way every dialogue does it: the office sends part of a name or
phone number, the matches come back as buttons (`rep<id>`), and the pressed one is read back and
checked again (button data is user input: a representative may have left the roster since).

Used by registering on a representative's behalf, recording contacts, naming whom an event, a card
or a briefing goes to, appointing a law-enforcement supervisor and recording attendance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import Translator
from bot.messages import Button, Reply
from bot.model import Dialog, Person
from bot.router import dialog_button
from handlers.common import role_title
from storage import people

SEARCH_RESULTS: Final = 8  # matches shown as buttons; with more, the office is asked to narrow the search
MAX_SEARCH: Final = 50  # characters of a search
PREFIX: Final = "rep"
ID_DIGITS: Final = callbacks.ID_DIGITS  # an id longer than this is no id of ours


def label(_: Translator, rep: Person) -> str:
    """王建国 · 人大代表 · 教育界: enough to tell two people of one name apart."""
    return " · ".join(part for part in (rep.name, role_title(_, rep), rep.sector) if part)


def is_choice(choice: str, prefix: str = PREFIX) -> bool:
    """Whether a pressed button's data is a representative's (`rep<id>`)."""
    return choice.startswith(prefix)


def chosen_id(choice: str, prefix: str = PREFIX) -> int | None:
    """The id a `rep<id>` choice names; None when it names none."""
    return callbacks.chosen(choice, prefix)


async def representative(ctx: Context, person_id: object) -> Person:
    """The representative of the acting unit a dialogue names; a stale step when the id is not one (now), or one
    of another unit (a button is user input: as if there were none)."""
    rep = None
    if isinstance(person_id, int) and not isinstance(person_id, bool):
        rep = await people.get(ctx.tx, person_id, as_in=ctx.scope.unit)  # as that unit's roster has them
    if rep is None or not rep.is_representative or ctx.scope.unit not in rep.units:
        raise StaleActionError("This button is no longer valid.")
    return rep


async def chosen(ctx: Context, choice: str, prefix: str = PREFIX) -> Person:
    """The representative a pressed `rep<id>` button names; a stale step when it names none."""
    return await representative(ctx, chosen_id(choice, prefix))


async def offer(ctx: Context, dialog: Dialog, text: str, *, last: Sequence[Button] = (),
                ask: str | None = None, prefix: str = PREFIX) -> None:
    """Reply with the representatives whose name or phone contains `text`, a button each, then `last`
    (Done, Cancel...) as the last row; `ask` instead of the usual request to choose."""
    _ = ctx._
    text = " ".join(text.split())
    if len(text) > MAX_SEARCH:
        raise UserError("Please send a shorter part of the name or phone number (at most {max} characters).",
                        max=MAX_SEARCH)
    found = await people.search_representatives(ctx.tx, ctx.scope, text, SEARCH_RESULTS + 1)
    tail = (tuple(last),) if last else ()
    if not found:
        await ctx.reply(Reply(_("No NPC deputy or CPPCC member matches “{text}”. Please send another part "
                                "of the name, or the phone number.", text=text), buttons=tail))
        return
    rows = tuple((Button(label(_, p), dialog_button(dialog, f"{prefix}{p.id}")),) for p in found[:SEARCH_RESULTS])
    if len(found) > SEARCH_RESULTS:
        message = _("More than {n} match; here are the first {n}. Choose one, or send more of the name to "
                    "narrow the search.", n=SEARCH_RESULTS)
    else:
        message = ask or _("Please choose the representative, or send another part of the name.")
    await ctx.reply(Reply(message, buttons=(*rows, *tail)))
