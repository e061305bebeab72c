"""Whom the office sends an opinion card or a briefing to: a step of their dialogues (seed §3, §5).

All representatives, the NPC deputies, the CPPCC members, one sector 界别, or named people
found by a search (several, one by one, then Done). The choice is kept in the dialogue as
`AudienceData["audience"]` and resolved against the roster only when the thing is sent, so the
preview and the sending count the same people.
"""

from __future__ import annotations

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


def describe(_: Translator, audience: dict[str, Any]) -> str:
    """全体代表委员 / 界别：教育界 / 指定人员."""
    kind = audience.get("kind", "")
    if kind == "sector":
        return _("Sector: {sector}", sector=audience.get("sector", ""))
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else ""


def names(_: Translator, people_: list[str], limit: int = NAMES_SHOWN) -> str:
    """王建国、李秀梅…and 3 more."""
    joined = ("、" if _.locale.startswith("zh") else ", ").join(people_[:limit])
    if len(people_) > limit:
        joined += _("…and {n} more", n=len(people_) - limit)
    return joined


async def members(ctx: Context, audience: dict[str, Any]) -> list[Person]:
    """The representatives the audience names, as the roster stands now."""
    found = [await people.get(ctx.tx, i) for i in await cards.audience_members(ctx.tx, audience)]
    return [p for p in found if p is not None]


async def reachable(ctx: Context, person: Person) -> bool:
    """Whether a message to this person would reach a chat now."""
    return any(channel in ctx.channels for channel, _chat in await people.chats_of(ctx.tx, person.id))


async def prompt(ctx: Context, dialog: Dialog) -> None:
    _ = ctx._
    cancel = Button(_("Cancel"), dialog_button(dialog, "cancel"))
    if dialog.step == "audience":
        kinds = [Button(_(label), dialog_button(dialog, kind)) for kind, label in KIND_LABELS.items()]
        await ctx.reply(Reply(_("Whom is it for?"), buttons=((kinds[0],), tuple(kinds[1:3]), tuple(kinds[3:]),
                                                             (cancel,))))
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
                                "chosen, press Done.", names=names(_, [p.name for p in chosen])),
                              buttons=((done, cancel),)))


async def on_choice(ctx: Context, dialog: Dialog, choice: str) -> bool:
    """Take a press in one of the audience steps; True once the audience is chosen (a group with
    nobody on the roster in it is refused: choose again)."""
    if not await _take_choice(ctx, dialog, choice):
        return False
    if not await members(ctx, held(dialog)["audience"]):
        raise UserError("Nobody on the roster is in this group. Please choose again.")
    return True


async def _take_choice(ctx: Context, dialog: Dialog, choice: str) -> bool:
    data = held(dialog)
    if dialog.step == "audience" and choice in ("all", "npc", "cppcc"):
        data["audience"] = {"kind": choice}
        return True
    if dialog.step == "audience" and choice == "sector":
        data["sectors"] = await cards.sectors(ctx.tx)
        if not data["sectors"]:
            raise UserError("No representative on the roster has a sector.")
        await _goto(ctx, dialog, "sector")
        return False
    if dialog.step == "audience" and choice == "named":
        data["picked"] = []
        await _goto(ctx, dialog, "named")
        return False
    sectors = data.get("sectors", [])
    if dialog.step == "sector" and (index := callbacks.chosen(choice, "s", below=len(sectors))) is not None:
        data["audience"] = {"kind": "sector", "sector": sectors[index]}
        return True
    if dialog.step == "named" and picker.is_choice(choice):
        await _pick(ctx, dialog, await picker.chosen(ctx, choice))
        return False
    if dialog.step == "named" and choice == "done" and data["picked"]:
        data["audience"] = {"kind": "named", "ids": list(data["picked"])}
        return True
    raise StaleActionError("This button is no longer valid.")


async def on_message(ctx: Context, dialog: Dialog, text: str) -> bool:
    """A message in an audience step: a search when naming people; False when it meant nothing here."""
    if dialog.step != "named" or not text:
        return False
    await _search(ctx, dialog, text)
    return True


async def _goto(ctx: Context, dialog: Dialog, step: str) -> None:
    dialog.step = step
    await ctx.save_dialog(dialog)
    await prompt(ctx, dialog)


async def _chosen(ctx: Context, dialog: Dialog) -> list[Person]:
    found = [await people.get(ctx.tx, i) for i in held(dialog).get("picked", [])]
    return [p for p in found if p is not None and p.is_representative]


async def _search(ctx: Context, dialog: Dialog, text: str) -> None:
    """Offer the representatives whose name or phone contains the text, as buttons."""
    last = [Button(ctx._("Done"), dialog_button(dialog, "done"))] if held(dialog)["picked"] else []
    last.append(Button(ctx._("Cancel"), dialog_button(dialog, "cancel")))
    await picker.offer(ctx, dialog, text, last=last)


async def _pick(ctx: Context, dialog: Dialog, rep: Person) -> None:
    picked = held(dialog)["picked"]
    if rep.id in picked:
        await ctx.reply(Reply(ctx._("{name} is already on the list.", name=rep.name)))
        return
    if len(picked) >= MAX_NAMED:
        raise UserError("At most {max} named people; to reach more, choose a body or a sector.", max=MAX_NAMED)
    picked.append(rep.id)
    # The same step: the search's other buttons stay valid, so several can be chosen from one list.
    await ctx.save_dialog(dialog, new_step=False)
    await prompt(ctx, dialog)
