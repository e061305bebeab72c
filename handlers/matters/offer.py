"""A representative's words sent outside any dialogue, offered to be submitted as a matter.

A deputy in personal WeChat writes what they want to raise straight into the chat, as they would to a person; it used
to be answered "not understood", and once they had found 提交 they typed it all again. Now a message of some length
from a representative is kept in a short dialogue that asks what to do with it: submit it (its words become the
matter's content, the kind and the subject still asked), see their matters (a question about one), or neither. Any
command, or a button of another message, simply ends the offer (`Routes.light_flows`).
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.messages import Button, Reply
from bot.model import Dialog
from handlers.dialog_state import OfferData, offered
from bot.router import dialog_button
from handlers.dialogue import open_dialog
from handlers.matters import intake, mine

MIN_CHARS = 10  # "你好" or "在吗" is not a matter; "请问我提的建议办得怎么样了" may well be one, or a question about one


def worth_offering(ctx: Context) -> bool:
    person = ctx.person
    return (person is not None and person.is_representative and not ctx.inc.attachments
            and len(ctx.inc.text.strip()) >= MIN_CHARS)


async def offer(ctx: Context) -> None:
    text = ctx.inc.text.strip()
    _within(ctx, len(text))
    await open_dialog(ctx, OFFER, Dialog("offer", "choose", "", dict(OfferData(text=[text]))))


class OfferFlow:
    name = "offer"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("choosing what to do with your message")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        written = sum(len(part) for part in offered(dialog)["text"])
        buttons = ((Button(_("Submit it as a matter"), dialog_button(dialog, "submit")),),
                   (Button(_("My matters"), dialog_button(dialog, "my")),),
                   (Button(_("No, thank you"), dialog_button(dialog, "no")),))
        await ctx.reply(Reply(_("Received ({n} characters). Would you like to submit it as a matter — a suggestion, "
                                "criticism or opinion of yours, or a report, complaint or appeal you pass on? Each is "
                                "registered, handled and answered one by one. Or is it about a matter you submitted "
                                "before?", n=written), buttons=buttons))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if choice not in ("submit", "my", "no"):
            raise StaleActionError("This button is no longer valid.")
        await ctx.answer()
        await ctx.end_dialog()
        if choice == "submit":
            return await intake.begin(ctx, offered(dialog)["text"])
        if choice == "my":
            return await mine.list_matters(ctx)
        await ctx.reply(Reply(ctx._("Cancelled. Nothing was submitted.")))

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        """More words while the offer waits: they go with the first (several messages make one content)."""
        text = ctx.inc.text.strip()
        if text and not ctx.inc.attachments:
            parts = offered(dialog)["text"]
            _within(ctx, sum(len(part) for part in parts) + len(text))
            parts.append(text)
            await ctx.save_dialog(dialog, new_step=False)
        await self.prompt(ctx, dialog)


OFFER = OfferFlow()


def _within(ctx: Context, total: int) -> None:
    if total > ctx.config.intake.max_text_chars:
        raise UserError("A matter's content may have at most {max} characters; this would have {n}. Please send it "
                        "shorter, or choose Submit a matter and send it in parts.", max=ctx.config.intake.max_text_chars,
                        n=total)
