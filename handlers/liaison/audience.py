"""Whom the office sends an opinion card or a briefing to: a step of their dialogues (seed §3, §5), and
what else those two dialogues share: the title, the preview's lines on whom it goes to, the delivery.

All representatives, the NPC deputies, the CPPCC members, one sector 界别, or named people
found by a search (several, one by one, then Done). The choice is kept in the dialogue as
`AudienceData["audience"]` and resolved against the roster only when the thing is sent, so the
preview and the sending count the same people.

The event dialogue (handlers/liaison/event_dialogs.py) asks the same question through a `Scope` of
its own: the choices it offers (the law-enforcement supervisors too; only they and named people for
a case discussion), its question, how many may be named, who may be named, and how a choice is
resolved against the roster.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import N_, Translator
from bot import callbacks
from bot.messages import Button, Reply, rows
from bot.router import dialog_button
from bot.model import Dialog, Person
from handlers import picker
from handlers.dialog_state import audience as held
from handlers.dialogue import Prompting, cancel_button, goto
from handlers.labels import listed
from storage import cards, people

STEPS: Final = ("audience", "sector", "named")
MAX_NAMED: Final = 100
NAMES_SHOWN: Final = 30  # names listed in a message; the rest are counted

KIND_LABELS: Final = {
    "all": N_("All NPC deputies and CPPCC members"),
    "npc": N_("NPC deputies"),
    "cppcc": N_("CPPCC members"),
    "sector": N_("By sector"),
    "named": N_("Named people"),
}


async def _admit_any(ctx: Context, person: Person) -> None:
    """Anyone the search finds may be named (the search offers representatives only)."""


async def _on_roster(ctx: Context, audience: dict[str, Any]) -> list[int]:
    return await cards.audience_members(ctx.tx, ctx.scope, audience)


@dataclass(frozen=True)
class Scope:
    """What one flow's audience question offers: `labels` (choice → label, in the order shown; the
    choices are "all", "npc", "cppcc", "sector", "named" and any kind `resolve` understands, such as
    "supervisors"), the question asked, the buttons per row of the first step, the most people that
    may be named, a check on each person named (raises UserError to refuse), and the roster's ids
    for a chosen audience."""

    labels: Mapping[str, str] = field(default_factory=lambda: KIND_LABELS)
    question: str = N_("Whom is it for?")
    per_row: tuple[int, ...] = (1, 2, 2)
    max_named: int = MAX_NAMED
    admit: Callable[[Context, Person], Awaitable[None]] = _admit_any
    resolve: Callable[[Context, dict[str, Any]], Awaitable[list[int]]] = _on_roster


CARDS: Final = Scope()  # cards and briefings


def describe(_: Translator, audience: dict[str, Any], labels: Mapping[str, str] = KIND_LABELS) -> str:
    """全体代表委员 / 教育界代表委员 / 指定人员."""
    kind = audience.get("kind", "")
    if kind == "sector":
        return _("The sector {sector}", sector=audience.get("sector", ""))
    return _(labels[kind]) if kind in labels else ""


def names(_: Translator, people_: list[str], limit: int = NAMES_SHOWN) -> str:
    """王建国、李秀梅…and 3 more."""
    return listed(_, people_, limit)


async def members(ctx: Context, audience: dict[str, Any]) -> list[Person]:
    """The representatives the audience names, as the roster stands now."""
    found = [await people.get(ctx.tx, i) for i in await _on_roster(ctx, audience)]
    return [p for p in found if p is not None]


async def reachable(ctx: Context, person: Person) -> bool:
    """Whether a message to this person would reach a chat now."""
    return any(channel in ctx.channels for channel, _chat in await people.chats_of(ctx.tx, person.id))


def title(ctx: Context, text: str) -> str:
    """The title of a card or a briefing, white space folded; refused past the length of a matter's subject."""
    limit = ctx.config.intake.max_subject_chars
    if len(text) > limit:
        raise UserError("The title is too long: {n} characters, at most {max}.", n=len(text), max=limit)
    return " ".join(text.split())


async def deliver(ctx: Context, found: list[Person], make: Callable[[Translator], Reply], key: str,
                  record: Callable[[Person, bool], Awaitable[None]]) -> list[str]:
    """Queue `make` to each person found (the outbox paces them; deduplicated by `key>person id`), `record`
    each as sent or not; the names of those it could not reach (no chat bound)."""
    unreached: list[str] = []
    for person in found:
        sent = await ctx.notify(person.id, make, dedup_key=f"{key}>{person.id}")
        await record(person, sent)
        if not sent:
            unreached.append(person.name)
    return unreached


async def preview_lines(ctx: Context, audience: dict[str, Any]) -> list[str]:
    """What a preview says of whom a card or a briefing goes to: the audience and how many it counts now,
    and who of them no message would reach (no chat bound)."""
    _ = ctx._
    found = await members(ctx, audience)
    unreached = [p.name for p in found if not await reachable(ctx, p)]
    lines = [_("To: {audience}, {n} in all", audience=describe(_, audience), n=len(found))]
    if unreached:
        lines.append(_("Not reachable, no chat account bound ({n}): {names}", n=len(unreached),
                       names=names(_, unreached)))
    return lines


def _laid_out(buttons: list[Button], per_row: tuple[int, ...]) -> tuple[tuple[Button, ...], ...]:
    """The buttons in rows of the given sizes, the last size repeated for any left over."""
    laid: list[tuple[Button, ...]] = []
    while (start := sum(len(row) for row in laid)) < len(buttons):
        laid.append(tuple(buttons[start:start + per_row[min(len(laid), len(per_row) - 1)]]))
    return tuple(laid)


async def prompt(ctx: Context, dialog: Dialog, scope: Scope = CARDS) -> None:
    _ = ctx._
    cancel = cancel_button(ctx, dialog)
    if dialog.step == "audience":
        kinds = [Button(_(label), dialog_button(dialog, kind)) for kind, label in scope.labels.items()]
        await ctx.reply(Reply(_(scope.question), buttons=(*_laid_out(kinds, scope.per_row), (cancel,))))
    elif dialog.step == "sector":
        sectors = held(dialog)["sectors"]
        shown = [Button(s, dialog_button(dialog, callbacks.choice("s", i))) for i, s in enumerate(sectors)]
        await ctx.reply(Reply(_("Which sector?"), buttons=(*rows(shown, 1), (cancel,))))
    elif dialog.step == "named":
        chosen = await _chosen(ctx, dialog)
        if not chosen:
            await ctx.reply(Reply(_("Please send part of a representative's name, or their phone number. You can "
                                    "add several, one by one."), buttons=((cancel,),)))
            return
        done = Button(_("Done"), dialog_button(dialog, "done"))
        await ctx.reply(Reply(_("Chosen: {names}. To add someone else, send part of their name; when everyone is "
                                "chosen, choose Done.", names=names(_, [p.name for p in chosen])),
                              buttons=((done, cancel),)))


async def on_choice(ctx: Context, dialog: Dialog, choice: str, scope: Scope = CARDS) -> bool:
    """Take a press in one of the audience steps; True once the audience is chosen (a group with
    nobody on the roster in it is refused: choose again). A choice the scope does not offer is stale."""
    if not await _take_choice(ctx, dialog, choice, scope):
        return False
    if not await scope.resolve(ctx, held(dialog)["audience"]):
        raise UserError("Nobody on the roster is in this group. Please choose again.")
    return True


async def _take_choice(ctx: Context, dialog: Dialog, choice: str, scope: Scope) -> bool:
    data = held(dialog)
    offered = dialog.step == "audience" and choice in scope.labels
    if offered and choice not in ("sector", "named"):
        data["audience"] = {"kind": choice}
        return True
    if offered and choice == "sector":
        data["sectors"] = await people.sectors(ctx.tx, ctx.scope)
        if not data["sectors"]:
            raise UserError("No representative on the roster has a sector.")
        await _goto(ctx, dialog, "sector", scope)
        return False
    if offered and choice == "named":
        data["picked"] = []
        await _goto(ctx, dialog, "named", scope)
        return False
    sectors = data.get("sectors", [])
    if dialog.step == "sector" and (index := callbacks.chosen(choice, "s", below=len(sectors))) is not None:
        data["audience"] = {"kind": "sector", "sector": sectors[index]}
        return True
    if dialog.step == "named" and picker.is_choice(choice):
        await _pick(ctx, dialog, await picker.chosen(ctx, choice), scope)
        return False
    if dialog.step == "named" and choice == "done" and data["picked"]:
        data["audience"] = {"kind": "named", "ids": list(data["picked"])}
        return True
    raise StaleActionError("This button is no longer valid.")


async def choose(ctx: Context, flow: Prompting, dialog: Dialog, choice: str, scope: Scope = CARDS) -> None:
    """A press in an audience step of `flow`; on to its preview (the step "confirm") once the audience is chosen."""
    if await on_choice(ctx, dialog, choice, scope):
        await goto(ctx, flow, dialog, "confirm")


async def on_message(ctx: Context, dialog: Dialog, text: str) -> bool:
    """A message in an audience step: a search when naming people; False when it meant nothing here."""
    if dialog.step != "named" or not text:
        return False
    await _search(ctx, dialog, text)
    return True


async def _goto(ctx: Context, dialog: Dialog, step: str, scope: Scope) -> None:
    dialog.step = step
    await ctx.save_dialog(dialog)
    await prompt(ctx, dialog, scope)


async def _chosen(ctx: Context, dialog: Dialog) -> list[Person]:
    found = [await people.get(ctx.tx, i) for i in held(dialog).get("picked", [])]
    return [p for p in found if p is not None and p.is_representative]


async def _search(ctx: Context, dialog: Dialog, text: str) -> None:
    """Offer the representatives whose name or phone contains the text, as buttons."""
    last = [Button(ctx._("Done"), dialog_button(dialog, "done"))] if held(dialog)["picked"] else []
    last.append(cancel_button(ctx, dialog))
    await picker.offer(ctx, dialog, text, last=last)


async def _pick(ctx: Context, dialog: Dialog, rep: Person, scope: Scope) -> None:
    picked = held(dialog)["picked"]
    if rep.id in picked:
        await ctx.reply(Reply(ctx._("{name} is already on the list.", name=rep.name)))
        return
    await scope.admit(ctx, rep)
    if len(picked) >= scope.max_named:
        raise UserError("At most {max} named people; to reach more, choose a body or a sector.",
                        max=scope.max_named)
    picked.append(rep.id)
    # The same step: the search's other buttons stay valid, so several can be chosen from one list.
    await ctx.save_dialog(dialog, new_step=False)
    await prompt(ctx, dialog, scope)
