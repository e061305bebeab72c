"""Briefings (seed §2, §5; SPEC §6): the office sends text and documents — the procuratorate's
work report, news of its work — to all or some representatives.

/brief: title → text → files (documents or photos, then Done) → whom it is for
(handlers/liaison/audience.py) → a preview → Send. Each representative with a chat bound gets the
briefing through the outbox, and that delivery is recorded at once as a contact by documents
赠送资料 (the outbox guarantees it arrives); those with no chat bound are named to the office
as not reached. Under the briefing, “Give an opinion” lets the representative reply: the text,
a last check, then an opinion 意见 matter registered on their behalf with the briefing's title
in its subject, handled and answered like any other.

Contacts made by a briefing are recorded with source 'card' and source_ref 'briefing:<id>': the
contact log has no source of its own for briefings (storage/contacts.py SOURCES).
"""

from __future__ import annotations

from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_, Translator
from bot.messages import Button, OutFile, Reply, traits_of
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog, Person, UnitScope
from bot.matter.model import NewMatter
from bot.text import clip
from handlers.matters import attachments, register
from handlers.liaison import audience
from handlers.dialog_state import BriefOpinionData, BriefWriteData, brief_opinion, brief_write, given, stored_files
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from storage import audit, briefings, contacts
from storage.briefings import Briefing

MAX_TEXT: Final = 3500  # at most, and within what every running channel delivers whole (text_limit)
BRIEFING_SOURCE: Final = "card"


async def begin(ctx: Context) -> None:
    """/brief"""
    require(ctx.person, "send_briefing")
    await open_dialog(ctx, WRITE, Dialog("brief_write", "title", "",
                                         dict(BriefWriteData(title=None, text=None, files=[]))))


def text_limit(ctx: Context) -> int:
    """The longest briefing text the office is told it may send: what every running channel delivers whole
    (Telegram: one message) or in well-split parts (WeCom: a few messages, bot/channels/wecom.py TRAITS)."""
    return min([MAX_TEXT, *(traits_of(c).budget.chars for c in ctx.channels)])


class BriefingWriteFlow:
    name = "brief_write"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("sending a briefing")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, step, data = ctx._, dialog.step, brief_write(dialog)
        cancel = cancel_button(ctx, dialog)
        if step == "title":
            await ctx.reply(Reply(_("Please send the title of the briefing (at most {n} characters).",
                                    n=ctx.config.intake.max_subject_chars), title=_("Send a briefing"),
                                  buttons=((cancel,),)))
        elif step == "text":
            await ctx.reply(Reply(_("Please send the text of the briefing, in one message (at most {max} "
                                    "characters).", max=text_limit(ctx)), buttons=((cancel,),)))
        elif step == "files":
            done = Button(_("Done"), dialog_button(dialog, "next"))
            mb = ctx.config.intake.max_file_mb
            ask = (_("Please send the documents to go with it (e.g. the work report), each at most {mb} MB; choose "
                     "Done when they are all sent, or if there are none.", mb=mb) if ctx.traits.documents else
                   _("Please send the pictures to go with it (e.g. the pages of the work report), each at most {mb} "
                     "MB: WeCom cannot bring documents to the bot. Choose Done when they are all sent, or if there "
                     "are none.", mb=mb))
            await ctx.reply(Reply(ask, buttons=((done, cancel),)))
        elif step in audience.STEPS:
            await audience.prompt(ctx, dialog)
        elif step == "confirm":
            lines = [_("Title: {title}", title=data["title"]), given(data["text"]), "",
                     _("Documents ({n}): {names}", n=len(data["files"]),
                       names=audience.names(_, [str(f["name"]) for f in data["files"]])) if data["files"]
                     else _("No documents"),
                     *await audience.preview_lines(ctx, given(data.get("audience")))]
            send = Button(_("Send"), dialog_button(dialog, "send"))
            await ctx.reply(Reply("\n".join(lines), title=_("Please check"), buttons=((send, cancel),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, N_("Cancelled. Nothing was sent."), permission="send_briefing"):
            return
        step = dialog.step
        if step == "files" and choice == "next":
            return await goto(ctx, self, dialog, "audience")
        if step in audience.STEPS:
            return await audience.choose(ctx, self, dialog, choice)
        if step == "confirm" and choice == "send":
            return await self._send(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "send_briefing")
        step, data, text = dialog.step, brief_write(dialog), ctx.inc.text.strip()
        if step == "files" and ctx.inc.attachments:
            return await self._take_files(ctx, dialog)
        if text and not ctx.inc.attachments:
            if step == "title":
                data["title"] = audience.title(ctx, text)
                return await goto(ctx, self, dialog, "text")
            if step == "text":
                if len(text) > text_limit(ctx) or not all(
                        traits_of(c).budget.fits(f"{data.get('title', '')}\n{text}") for c in ctx.channels):
                    raise UserError("The text is too long: at most {max} characters.", max=text_limit(ctx))
                data["text"] = text
                return await goto(ctx, self, dialog, "files")
            if step in audience.STEPS and await audience.on_message(ctx, dialog, text):
                return
        if step == "files":
            await ctx.reply(Reply(ctx._("Please send a photo or a document, or choose the option below.") if ctx.traits.documents
                                  else ctx._("Please send a photo, or choose the option below.")))
        else:
            await ctx.reply(Reply(ctx._("Please answer in text.") if step in ("title", "text")
                                  else ctx._("Please choose one of the options.")))
        await self.prompt(ctx, dialog)

    async def _take_files(self, ctx: Context, dialog: Dialog) -> None:
        files = brief_write(dialog)["files"]
        attachments.keep(ctx, files)
        await ctx.save_dialog(dialog, new_step=False)
        await ctx.reply(Reply(ctx._("File received ({n} in all).", n=len(files)),
                              buttons=((Button(ctx._("Done"), dialog_button(dialog, "next")),),)))

    async def _send(self, ctx: Context, dialog: Dialog) -> None:
        """Store the briefing; queue it to every representative it is for, each delivery a contact."""
        _, person, data = ctx._, ctx.person, brief_write(dialog)
        assert person is not None
        whom = given(data.get("audience"))
        members = await audience.members(ctx, whom)
        title, text = data["title"], data["text"]
        if not members or not title or not text:
            raise StaleActionError("This button is no longer valid.")
        files = stored_files(data["files"])
        briefing_id = await briefings.create(ctx.tx, ctx.scope, title, text, person.id, whom, files, ctx.now)
        briefing = await briefings.get(ctx.tx, ctx.scope, briefing_id)
        assert briefing is not None
        out = tuple(OutFile(f.path, f.name, "photo" if f.kind == "photo" else "document") for f in files)
        today = ctx.today
        staff_id = person.id if person.body is None else None

        async def record(rep: Person, sent: bool) -> None:
            await briefings.add_recipient(ctx.tx, briefing_id, rep.id, ctx.now if sent else None)
            if sent:  # a delivery is a contact by documents (seed §11)
                await contacts.add(ctx.tx, ctx.scope.unit, rep.id, "documents", today, staff_id, briefing.title, BRIEFING_SOURCE,
                                   ctx.now, source_ref=f"briefing:{briefing_id}")

        unreached = await audience.deliver(ctx, members, lambda t: _briefing(t, briefing, out),
                                           f"briefing:{briefing_id}", record)
        await audit.record(ctx.tx, ctx.now, person.id, "briefing_sent",
                           detail={"briefing_id": briefing_id, "recipients": len(members),
                                   "reached": len(members) - len(unreached), "files": len(files)})
        await ctx.end_dialog()
        lines = [_("The briefing “{title}” goes to {n} NPC deputies and CPPCC members; the messages go out one after "
                   "another over the next minutes. Each delivery is recorded as a contact (documents).",
                   title=briefing.title, n=len(members) - len(unreached))]
        if unreached:
            lines.append(_("Not reached, no chat account bound ({n}): {names}. Please send them the briefing another "
                           "way.", n=len(unreached), names=audience.names(_, unreached)))
        await ctx.reply(Reply("\n".join(lines), title=_("Briefing sent")))


def _briefing(_: Translator, briefing: Briefing, files: tuple[OutFile, ...]) -> Reply:
    """The briefing as a representative receives it, with its documents and “Give an opinion” under it."""
    text = briefing.text + "\n\n" + _("Should you have an opinion on it, please choose “Give an opinion”. Thank you "
                                      "for your supervision and support.")
    button = Button(_("Give an opinion"), callbacks.encode("brief", "o", briefing.id))
    return Reply(text, title=briefing.title, buttons=((button,),), files=files)


WRITE = BriefingWriteFlow()


# -- an opinion in reply ---------------------------------------------------------------


async def on_button(ctx: Context, parts: list[str]) -> None:
    """brief:o:<briefing id> — the representative gives an opinion on a briefing sent to them."""
    if len(parts) != 2 or parts[0] != "o":
        raise StaleActionError("This button is no longer valid.")
    briefing_id = callbacks.to_int(parts[1])
    await ctx.answer()
    briefing = await _delivered(ctx, briefing_id)
    await open_dialog(ctx, OPINION, Dialog("brief_opinion", "text", "",
                                           dict(BriefOpinionData(briefing_id=briefing.id, text=None))))


async def _delivered(ctx: Context, briefing_id: int) -> Briefing:
    """The briefing, if it was sent to this person; refused otherwise."""
    briefing = await briefings.get(ctx.tx, ctx.scope, briefing_id)
    person = ctx.person
    if briefing is None or person is None or not await briefings.was_delivered(ctx.tx, briefing_id, person.id):
        raise PermissionDeniedError.of("reply_briefing", None, "This briefing was not sent to you.")
    return briefing


def opinion_subject(_: Translator, title: str, limit: int) -> str:
    """关于工作简报《title》的意见, the title shortened to fit the subject's limit."""
    subject = _("Opinion on the briefing “{title}”", title=title)
    over = len(subject) - limit
    return subject if over <= 0 else _("Opinion on the briefing “{title}”", title=clip(title, len(title) - over))


class BriefingOpinionFlow:
    name = "brief_opinion"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("giving an opinion on a briefing")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        briefing = await _delivered(ctx, brief_opinion(dialog)["briefing_id"])
        cancel = cancel_button(ctx, dialog)
        if dialog.step == "text":
            await ctx.reply(Reply(_("Please write your opinion on the briefing “{title}”.", title=briefing.title),
                                  title=_("Give an opinion"), buttons=((cancel,),)))
        elif dialog.step == "confirm":
            submit = Button(_("Submit"), dialog_button(dialog, "submit"))
            opinion = given(brief_opinion(dialog)["text"])
            text = _("Opinion on the briefing “{title}”", title=briefing.title) + "\n" + opinion
            await ctx.reply(Reply(text, title=_("Please check"), buttons=((submit, cancel),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, N_("Cancelled. Nothing was submitted.")):
            return
        if dialog.step == "confirm" and choice == "submit" and brief_opinion(dialog)["text"]:
            return await self._submit(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        text = ctx.inc.text.strip()
        if dialog.step == "text" and text and not ctx.inc.attachments:
            await _delivered(ctx, brief_opinion(dialog)["briefing_id"])
            if len(text) > ctx.config.intake.max_text_chars:
                raise UserError("The text is too long: at most {max} characters.", max=ctx.config.intake.max_text_chars)
            brief_opinion(dialog)["text"] = text
            return await goto(ctx, self, dialog, "confirm")
        await ctx.reply(Reply(ctx._("Please answer in text.") if dialog.step == "text"
                              else ctx._("Please choose one of the options.")))
        await self.prompt(ctx, dialog)

    async def _submit(self, ctx: Context, dialog: Dialog) -> None:
        rep = ctx.person
        assert rep is not None
        briefing = await _delivered(ctx, brief_opinion(dialog)["briefing_id"])
        # the matter is a record of the office: its subject in the unit's language, whatever the representative's
        subject = opinion_subject(ctx.translator(None), briefing.title, ctx.config.intake.max_subject_chars)
        body = given(brief_opinion(dialog)["text"])
        new = NewMatter(kind="opinion", representative_id=rep.id, subject=subject, body=body,
                        received_via="briefing", registered_by=rep.id)
        matter = await register.register(ctx, new, [], UnitScope.of(briefing.unit_id))  # the unit that sent it
        await briefings.add_opinion(ctx.tx, briefing.id, rep.id, matter.id)
        await ctx.end_dialog()
        await ctx.reply(register.receipt(ctx._, matter))
        await register.notify_office(ctx, matter)


OPINION = BriefingOpinionFlow()
