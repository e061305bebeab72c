"""The representative rates a reply: 满意 / 基本满意 / 不满意, with an optional comment (seed §14)."""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.matter.states import State
from bot.errors import StaleActionError, UserError
from bot.messages import Button, Reply
from bot.router import dialog_button
from bot.model import Dialog
from handlers.matters import casework as cases
from handlers import dialog_state
from handlers.matters import notices
from handlers.dialog_state import RatingData
from handlers.dialogue import open_dialog
from storage import casework, matters

LETTERS = {"s": "satisfied", "b": "basically", "d": "dissatisfied"}
MAX_COMMENT = 1000


async def on_rate(ctx: Context, parts: list[str]) -> None:
    """A rating button under a reply: checked now, then the comment is asked for (or skipped)."""
    if len(parts) != 3 or parts[2] not in LETTERS:
        raise StaleActionError("This button is no longer valid.")
    matter_id, reply_id = callbacks.to_int(parts[0]), callbacks.to_int(parts[1])
    matter = await cases.load(ctx, matter_id, "rate")
    latest = await casework.last_sent_reply(ctx.tx, matter.id)
    if matter.state != State.REPLIED or latest is None or latest.id != reply_id:
        raise UserError("This reply has been rated already, or is not the latest one.")
    await ctx.answer()
    await open_dialog(ctx, RATE, Dialog("rate", "comment", "", dict(RatingData(matter_id=matter_id, reply_id=reply_id,
                                                                             rating=LETTERS[parts[2]]))))


class RatingFlow:
    name = "rate"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("rating a reply")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        skip = Button(ctx._("No comment"), dialog_button(dialog, "skip"))
        if dialog_state.rating(dialog)["rating"] == "dissatisfied":
            text = ctx._("We are sorry. Please tell us what is not satisfactory, so that it can be handled again.")
        else:
            text = ctx._("Thank you. Would you like to add a comment? Send it, or press the button.")
        await ctx.reply(Reply(text, buttons=((skip,),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if choice != "skip":
            raise StaleActionError("This button is no longer valid.")
        await ctx.answer()
        await self._finish(ctx, dialog, "")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        text = ctx.inc.text.strip()
        if not text:
            return await self.prompt(ctx, dialog)
        if len(text) > MAX_COMMENT:
            raise UserError("The comment is too long: at most {max} characters.", max=MAX_COMMENT)
        await self._finish(ctx, dialog, text)

    async def _finish(self, ctx: Context, dialog: Dialog, comment: str) -> None:
        await ctx.end_dialog()
        held = dialog_state.rating(dialog)
        state = await cases.rate(ctx, held["matter_id"], held["reply_id"], held["rating"], comment)
        matter = await matters.get(ctx.tx, held["matter_id"])
        assert matter is not None
        text = notices.rating_thanks(ctx._, matter.number, state, matter.due_date)
        await ctx.reply(Reply(text))


RATE = RatingFlow()
