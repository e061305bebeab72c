"""Opinion cards 征求意见卡, the office's side (seed §5; SPEC §6).

/card: the office writes a card step by step — title → questions one by one, each answered in
free text or by choosing among options typed as “选项一/选项二/选项三” → Done → whom it is for
(handlers/liaison/audience.py) → a preview → Send. Sending stores the card and queues one message
per representative through the outbox, which paces them at the channel's rates (a card to 400
representatives takes minutes, not a burst); those with no chat bound are named to the office.
Following the answers (/cards, a card's own screen, closing it) is in handlers/liaison/card_screens.py;
answering in handlers/liaison/card_answers.py.
"""

from __future__ import annotations

from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import StaleActionError, UserError
from bot.i18n import N_, Translator
from bot.text import clip
from bot.messages import Button, Reply
from bot.permissions import require
from bot.router import dialog_button
from bot.model import Dialog, Person
from handlers.common import unit_name
from handlers.liaison import audience
from handlers.dialog_state import CardWriteData, card_write, given
from handlers.dialogue import cancel_button, cancel_pressed, goto, open_dialog
from storage import audit, cards
from storage.cards import Card, Question

MAX_QUESTIONS: Final = 10
MAX_QUESTION: Final = 300
MIN_CHOICES: Final = 2
MAX_CHOICES: Final = 8
MAX_CHOICE: Final = 30  # an option is a button label
SEPARATORS: Final = ("/", "／")


def parse_choices(text: str) -> list[str]:
    """“满意/基本满意/不满意” → the options; a UserError when they are too few, too many or too long."""
    for separator in SEPARATORS[1:]:
        text = text.replace(separator, SEPARATORS[0])
    options = [" ".join(part.split()) for part in text.split(SEPARATORS[0])]
    options = [o for o in options if o]
    if len(options) < MIN_CHOICES or len(options) > MAX_CHOICES:
        raise UserError("Please send {min} to {max} options, separated by “/”, e.g. 满意/基本满意/不满意.",
                        min=MIN_CHOICES, max=MAX_CHOICES)
    if len(set(options)) != len(options):
        raise UserError("Two options are the same. Please send them again, each once.")
    longest = max(options, key=len)
    if len(longest) > MAX_CHOICE:
        raise UserError("The option “{option}” is too long: at most {max} characters.", option=clip(longest, 40),
                        max=MAX_CHOICE)
    return options


def question_lines(_: Translator, questions: list[tuple[str, str, list[str]]]) -> list[str]:
    """1. 您对我院办案工作的总体评价？ / 选项：满意 / 基本满意 / 不满意"""
    lines = []
    for number, (text, kind, choices) in enumerate(questions, start=1):
        lines.append(f"{number}. {text}")
        if kind == "choice":
            lines.append(_("Options: {options}", options=" / ".join(choices)))
    return lines


def card_message(_: Translator, unit: str, card: Card, questions: list[Question]) -> Reply:
    """The card as a representative receives it, with Answer and Decline under it."""
    lines = [_("{unit} sincerely asks for your opinion: “{title}”.", unit=unit, title=card.title),
             _("Questions ({n}):", n=len(questions)),
             *question_lines(_, [(q.text, q.kind, list(q.choices)) for q in questions]),
             "",
             _("Please choose Answer to answer question by question; if you would rather not, choose Decline. Thank "
               "you for your supervision and support.")]
    return Reply("\n".join(lines), title=_("Opinion card"), buttons=card_buttons(_, card.id))


def card_buttons(_: Translator, card_id: int, *, decline: bool = True) -> tuple[tuple[Button, ...], ...]:
    """Answer (and Decline) under a card; given again where a message says they can still be chosen, so that a
    member who answers lists by typing their number (WeCom in WeChat: only the latest list) can."""
    answer = Button(_("Answer"), callbacks.encode("card", "a", card_id))
    return ((answer, Button(_("Decline"), callbacks.encode("card", "x", card_id))),) if decline else ((answer,),)


async def begin(ctx: Context) -> None:
    """/card"""
    require(ctx.person, "manage_cards")
    await open_dialog(ctx, WRITE, Dialog("card_write", "title", "",
                                         dict(CardWriteData(title=None, questions=[], pending=None))))


class CardWriteFlow:
    name = "card_write"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("writing an opinion card")

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _, step, data = ctx._, dialog.step, card_write(dialog)
        cancel = cancel_button(ctx, dialog)
        asked = len(data["questions"])
        if step == "title":
            await ctx.reply(Reply(_("Please send the title of the opinion card (at most {n} characters).",
                                    n=ctx.config.intake.max_subject_chars), title=_("Write an opinion card"),
                                  buttons=((cancel,),)))
        elif step == "question" and not asked:
            await ctx.reply(Reply(_("Please send question 1."), buttons=((cancel,),)))
        elif step == "question":
            done = Button(_("Done"), dialog_button(dialog, "done"))
            await ctx.reply(Reply(_("Question {n} added. Please send question {next}, or choose Done when all the "
                                    "questions are in.", n=asked, next=asked + 1), buttons=((done, cancel),)))
        elif step == "kind":
            free = Button(_("Answered in words"), dialog_button(dialog, "free_text"))
            choice = Button(_("A choice among options"), dialog_button(dialog, "choice"))
            await ctx.reply(Reply(_("How is question {n} answered?", n=asked + 1), buttons=((free, choice), (cancel,))))
        elif step == "choices":
            await ctx.reply(Reply(_("Please send the options, separated by “/”, e.g. 满意/基本满意/不满意 ({min} to "
                                    "{max} options).", min=MIN_CHOICES, max=MAX_CHOICES), buttons=((cancel,),)))
        elif step in audience.STEPS:
            await audience.prompt(ctx, dialog)
        elif step == "confirm":
            await ctx.reply(await self._preview(ctx, dialog))

    async def _preview(self, ctx: Context, dialog: Dialog) -> Reply:
        _, data = ctx._, card_write(dialog)
        lines = [_("Title: {title}", title=data["title"]), *question_lines(_, data["questions"]), "",
                 *await audience.preview_lines(ctx, given(data.get("audience")))]
        send = Button(_("Send"), dialog_button(dialog, "send"))
        cancel = cancel_button(ctx, dialog)
        return Reply("\n".join(lines), title=_("Please check"), buttons=((send, cancel),))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if await cancel_pressed(ctx, choice, N_("Cancelled. Nothing was sent."), permission="manage_cards"):
            return
        step, data = dialog.step, card_write(dialog)
        if step == "question" and choice == "done" and data["questions"]:
            return await goto(ctx, self, dialog, "audience")
        if step == "kind" and choice == "free_text":
            data["questions"].append((given(data["pending"]), "free_text", []))
            return await goto(ctx, self, dialog, self._after_question(dialog))
        if step == "kind" and choice == "choice":
            return await goto(ctx, self, dialog, "choices")
        if step in audience.STEPS:
            return await audience.choose(ctx, self, dialog, choice)
        if step == "confirm" and choice == "send":
            return await self._send(ctx, dialog)
        raise StaleActionError("This button is no longer valid.")

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        require(ctx.person, "manage_cards")
        step, data, text = dialog.step, card_write(dialog), ctx.inc.text.strip()
        if text and not ctx.inc.attachments:
            if step == "title":
                data["title"] = audience.title(ctx, text)
                return await goto(ctx, self, dialog, "question")
            if step == "question":
                if len(text) > MAX_QUESTION:
                    raise UserError("The question is too long: {n} characters, at most {max}.", n=len(text),
                                    max=MAX_QUESTION)
                data["pending"] = text
                return await goto(ctx, self, dialog, "kind")
            if step == "choices":
                data["questions"].append((given(data["pending"]), "choice", parse_choices(text)))
                return await goto(ctx, self, dialog, self._after_question(dialog))
            if step in audience.STEPS and await audience.on_message(ctx, dialog, text):
                return
        await ctx.reply(Reply(ctx._("Please answer in text.") if step in ("title", "question", "choices")
                              else ctx._("Please choose one of the options.")))
        await self.prompt(ctx, dialog)

    def _after_question(self, dialog: Dialog) -> str:
        card_write(dialog)["pending"] = None
        return "question" if len(card_write(dialog)["questions"]) < MAX_QUESTIONS else "audience"

    async def _send(self, ctx: Context, dialog: Dialog) -> None:
        """Store the card and queue it to every representative it is for; name those it cannot reach."""
        _, person, data = ctx._, ctx.person, card_write(dialog)
        assert person is not None
        whom = given(data.get("audience"))
        members = await audience.members(ctx, whom)
        if not members or not data["questions"]:
            raise StaleActionError("This button is no longer valid.")
        card_id = await cards.create(ctx.tx, ctx.scope, given(data["title"]), person.id, whom,
                                     [(t, k, list(c)) for t, k, c in data["questions"]], ctx.now)
        card = await cards.get(ctx.tx, ctx.scope, card_id)
        assert card is not None
        questions = await cards.questions(ctx.tx, card_id)
        unit = await unit_name(ctx)

        async def record(rep: Person, sent: bool) -> None:
            await cards.add_recipient(ctx.tx, card_id, rep.id, ctx.now if sent else None)

        unreached = await audience.deliver(ctx, members, lambda t: card_message(t, unit, card, questions),
                                           f"card:{card_id}", record)
        await audit.record(ctx.tx, ctx.now, person.id, "card_sent",
                           detail={"card_id": card_id, "recipients": len(members),
                                   "reached": len(members) - len(unreached)})
        await ctx.end_dialog()
        lines = [_("The opinion card “{title}” goes to {n} NPC deputies and CPPCC members; the messages go out one "
                   "after another over the next minutes.", title=card.title, n=len(members) - len(unreached))]
        if unreached:
            lines.append(_("Not reached, no chat account bound ({n}): {names}. Please send them the card another "
                           "way.", n=len(unreached), names=audience.names(_, unreached)))
        lines.append(_("Send {command} to see who has answered.", command="/cards"))
        await ctx.reply(Reply("\n".join(lines), title=_("Opinion card sent")))


WRITE = CardWriteFlow()
