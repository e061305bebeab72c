"""The representative rates a reply: 满意 / 基本满意 / 不满意, with an optional comment (seed §14); 不满意
reopens the matter. The office records a rating returned on paper through the same use case (`rate`)."""

from __future__ import annotations

from datetime import date

from bot import callbacks, domain
from bot.context import Context
from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import Happened, State
from bot.errors import StaleActionError, UserError
from bot.messages import Button, Reply
from bot.router import dialog_button
from bot.model import Dialog, UnitScope
from handlers.matters import casework as cases
from handlers import dialog_state
from handlers.matters import notices
from handlers.dialog_state import RatingData
from handlers.dialogue import open_dialog
from storage import casework, matters, people

LETTERS = {"s": "satisfied", "b": "basically", "d": "dissatisfied"}
MAX_COMMENT = 1000


async def rate(ctx: Context, matter_id: int, reply_id: int, rating: str, comment: str, *, on_paper: bool = False
               ) -> State:
    """§14: 满意 / 基本满意 / 不满意; 不满意 reopens with a new clock and alerts office and discipline.
    `on_paper`: the office records the feedback form 征询意见表 returned for a reply given on paper (seed §7);
    it counts exactly as the representative's own rating, and the representative is told it was recorded."""
    matter = await cases.load(ctx, matter_id, "record_rating" if on_paper else "rate")
    last = (await cases.paper_reply_to_rate(ctx, matter) if on_paper
            else await casework.last_sent_reply(ctx.tx, matter.id))
    if matter.state != State.REPLIED or last is None or last.id != reply_id or last.rating not in (None, "unrated"):
        raise UserError("This reply has been rated already, or is not the latest one.")
    if rating not in domain.RATINGS:
        raise UserError("Please choose one of the options below.")
    await casework.set_reply(ctx.tx, last.id, ctx.now, rating=rating, rating_note=comment or None)
    step = life.rate(matter, rating, final_given=last.kind == "final",
                     today=ctx.today, reopen_months=ctx.config.casework.reopen_months)
    state = step.state
    assert state is not None
    await casework.save(ctx.tx, ctx.scope, matter.id, ctx.now, step)
    await cases.record_event(ctx, matter, f"rated_{rating}", public=True,
                       detail={"reply_id": last.id, **({"on_paper": True} if on_paper else {})})
    due = step.due_date or matter.due_date  # a new one only when it reopens
    if on_paper:
        await notices.to_representative(ctx, matter, notices.paper_rating_recorded(rating, state, due))
    if state == State.REOPENED:
        await _announce_reopening(ctx, matter, comment, due)
    elif matter.department_id is not None:
        for person_id in await casework.department_staff(ctx.tx, matter.department_id):
            await notices.to_staff(ctx, person_id, matter, await notices.rated(ctx, matter, rating))
    return state


async def _announce_reopening(ctx: Context, matter: Matter, comment: str, due: date) -> None:
    """§14: 不满意 reopens the matter: the timeline shows the new due date; office and discipline inspection
    are alerted; the department that handled it and the urger are told it comes back, and by when. (The
    department that takes it next — another one, for a disputed appeal — hears it from the assignment.)"""
    await cases.record_event(ctx, matter, Happened.REOPENED, public=True, detail={"due": due.isoformat()})
    alerted: set[int] = set()
    alert = await notices.dissatisfied(ctx, matter, comment)
    for role in ("office", "discipline"):
        for person_id in await people.with_role(ctx.tx, UnitScope.of(matter.unit_id), role):
            alerted.add(person_id)
            await notices.to_staff(ctx, person_id, matter, alert)
    back = await notices.reopened(ctx, matter, due, comment)
    for person_id in sorted(await cases.assigned_people(ctx, matter) - alerted):
        await notices.to_staff(ctx, person_id, matter, back)


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
            text = ctx._("Thank you. Would you like to add a comment? Send it, or choose the option below.")
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
        state = await rate(ctx, held["matter_id"], held["reply_id"], held["rating"], comment)
        matter = await matters.get(ctx.tx, ctx.scope, held["matter_id"])
        assert matter is not None
        text = notices.rating_thanks(ctx._, matter.number, state, matter.due_date)
        await ctx.reply(Reply(text))


RATE = RatingFlow()
