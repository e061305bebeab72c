"""A representative's words sent outside any dialogue, offered to be submitted as a matter.

A deputy in personal WeChat writes what they want to raise straight into the chat, as they would to a person; it used
to be answered "not understood", and once they had found 提交 they typed it all again. Now a message of some length
from a representative is kept in a short dialogue that asks what to do with it: submit it (its words become the
matter's content, the files sent meanwhile its attachments; the kind and the subject are still asked), see their
matters (a question about one), or neither.

The offer only holds what was sent (`Routes.light_flows`): any other command, a button of another message, or a
matter's number ends it and goes on as if none were open — except 提交 (/submit), which takes what was offered, as
choosing it does. An offer older than an hour is not added to: a message sent later starts afresh.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.messages import Button, Reply
from bot.model import Dialog
from bot.router import dialog_button
from handlers import common
from handlers.dialog_state import FileData, OfferData, offered
from handlers.dialogue import open_dialog
from handlers.matters import attachments, intake, mine
from storage.db import parse_ts, ts

MIN_CHARS = 10  # "你好" or "在吗" is not a matter; "请问我提的建议办得怎么样了" may well be one, or a question about one
FRESH = timedelta(hours=1)  # later words are another message, not more of this one


def worth_offering(ctx: Context) -> bool:
    """A representative's words of some length, or their photo or file (sent first, as one does in WeChat)."""
    person = ctx.person
    return (person is not None and person.is_representative
            and (bool(ctx.inc.attachments) or len(ctx.inc.text.strip()) >= MIN_CHARS))


async def offer(ctx: Context) -> None:
    text = ctx.inc.text.strip()
    _within(ctx, len(text))
    files: list[FileData] = []
    if ctx.inc.attachments:
        attachments.keep(ctx, files)  # refused with the reason past the limits, and nothing opened
    held = OfferData(text=[text] if text else [], files=files, at=ts(ctx.now))
    await open_dialog(ctx, OFFER, Dialog("offer", "choose", "", dict(held)))


class OfferFlow:
    name = "offer"
    commands = {"submit": "submit", "my": "my"}  # typed while offered: what they choose (`bot.router._route`)

    def instead_of(self, dialog: Dialog, command: str) -> str | None:
        return self.commands.get(command)

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("choosing what to do with your message")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        held = offered(dialog)
        written = sum(len(part) for part in held["text"])
        buttons = ((Button(_("Submit it as a matter"), dialog_button(dialog, "submit")),),
                   (Button(_("My matters"), dialog_button(dialog, "my")),),
                   (Button(_("No, thank you"), dialog_button(dialog, "no")),))
        if written:
            text = _("Received ({n} characters). Would you like to submit it as a matter — a suggestion, criticism or "
                     "opinion of yours, or a report, complaint or appeal you pass on? Each is registered, handled and "
                     "answered one by one. Or is it about a matter you submitted before?", n=written)
            if held["files"]:
                text += "\n" + _("Files received with it: {n}.", n=len(held["files"]))
        else:  # a photo first: the words may follow, and join it
            text = _("Received ({n} files). Would you like to submit them with a matter — a suggestion, criticism or "
                     "opinion of yours, or a report, complaint or appeal you pass on? You may also write what it is "
                     "about first. Or are they about a matter you submitted before?", n=len(held["files"]))
        await ctx.reply(Reply(text, buttons=buttons))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if choice not in ("submit", "my", "no"):
            raise StaleActionError("This button is no longer valid.")
        await ctx.answer()
        await ctx.end_dialog()
        held = offered(dialog)
        if choice == "submit":
            return await intake.begin(ctx, held["text"], held["files"])
        if choice == "my":
            return await mine.list_matters(ctx)
        await ctx.reply(Reply(ctx._("Cancelled. Nothing was submitted.")))

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        """More sent while the offer waits: words go with the first (several messages make one content), files are
        kept for the matter; an hour later it is another message."""
        inc, held = ctx.inc, offered(dialog)
        if ctx.now - parse_ts(held["at"]) > FRESH:
            await ctx.end_dialog()
            return await (offer(ctx) if worth_offering(ctx) else common.not_understood(ctx))
        if inc.beyond:  # "5" for its three choices: neither words nor a choice
            await ctx.reply(Reply(common.beyond_the_list(ctx._, inc.beyond)))
            return
        text = inc.text.strip()
        if inc.attachments:
            attachments.keep(ctx, held["files"])  # refused with the reason, and none kept, past the limits
        if text:
            _within(ctx, sum(len(part) for part in held["text"]) + len(text))
            held["text"].append(text)
        if text or inc.attachments:
            await ctx.save_dialog(dialog, new_step=False)
        await self.prompt(ctx, dialog)


OFFER = OfferFlow()


def _within(ctx: Context, total: int) -> None:
    if total > ctx.config.intake.max_text_chars:
        raise UserError("A matter's content may have at most {max} characters; this would have {n}. Please send it "
                        "shorter, or choose Submit a matter and send it in parts.", max=ctx.config.intake.max_text_chars,
                        n=total)
