"""Opinion cards 征求意见卡, the representative's side (seed §3, §5, §11).

Under the card: Answer starts a dialogue that asks the questions one by one (a choice by its
buttons, free text typed; Skip leaves a question out) and shows the answers for a last check;
Submit registers them as one opinion 意见 matter on the representative's behalf (received by
opinion card), handled and answered like any other, counts as a contact by opinion card, and
the office is told as of any new matter. Decline records that they will not fill it in.

Who may answer is decided by the card's recipient row, on every press: only the person the
card was sent to, and once. A second Answer after answering is refused, saying so. Declining
is not final: Answer still works afterwards (the decline is then replaced by the answer),
but once answered a card cannot be declined. A closed card takes neither.
"""

from __future__ import annotations

from typing import Final

from bot import callbacks
from bot.context import Context
from bot.errors import DialogOpenError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import Translator
from bot.messages import Button, Reply, rows
from bot.router import dialog_button
from bot.model import Dialog, UnitScope
from bot.matter.model import NewMatter
from handlers.matters import register
from handlers.dialog_state import CardAnswerData
from handlers.dialog_state import card_answer as held
from handlers.dialogue import cancel_button, goto, open_dialog
from handlers.liaison.cards import card_buttons
from storage import audit, cards, contacts, people
from storage.cards import Card, Question, Recipient

MAX_ANSWER: Final = 2000


async def _recipient(ctx: Context, card_id: int) -> tuple[Card, Recipient]:
    """The card and this person's row on it; refused unless it was sent to them."""
    person = ctx.person
    card = await cards.get(ctx.tx, ctx.scope, card_id)
    found = await cards.recipient(ctx.tx, card_id, person.id) if person is not None and card is not None else None
    if card is None or found is None or found.sent_at is None:
        raise PermissionDeniedError.of("answer_card", None, "This opinion card was not sent to you.")
    return card, found


def _refuse_answered(card: Card, recipient: Recipient) -> None:
    if recipient.answered_at is not None:
        raise UserError("You have answered the opinion card “{title}” already; your answers were registered as "
                        "{number}. Thank you.", title=card.title, number=recipient.number or "")


def _refuse_closed(card: Card) -> None:
    if card.state != "sent":
        raise UserError("The opinion card “{title}” is closed and takes no more answers. Thank you all the same.",
                        title=card.title)


async def begin(ctx: Context, card_id: int) -> None:
    """The Answer button under a card."""
    card, recipient = await _recipient(ctx, card_id)
    _refuse_answered(card, recipient)
    _refuse_closed(card)
    if ctx.dialog is not None:
        raise DialogOpenError()
    count = len(await cards.questions(ctx.tx, card_id))
    await open_dialog(ctx, ANSWER, Dialog("card_answer", "1", "",
                                           dict(CardAnswerData(card_id=card_id, answers=[None] * count))))


async def decline(ctx: Context, card_id: int) -> None:
    """The Decline button under a card."""
    card, recipient = await _recipient(ctx, card_id)
    _refuse_answered(card, recipient)
    _refuse_closed(card)
    if recipient.declined_at is not None:
        raise UserError("You have already said you will not fill in the opinion card “{title}”. Should you change "
                        "your mind, you can still choose Answer under it.", title=card.title)
    if ctx.dialog is not None:
        raise DialogOpenError()
    await _decline(ctx, card, recipient)


async def _decline(ctx: Context, card: Card, recipient: Recipient) -> None:
    if not await cards.mark_declined(ctx.tx, recipient.id, ctx.now):
        raise StaleActionError("This button is no longer valid.")
    await audit.record(ctx.tx, ctx.now, recipient.person_id, "card_declined", detail={"card_id": card.id})
    await ctx.reply(Reply(ctx._("Noted: you will not fill in the opinion card “{title}”. Thank you all the same. "
                                "Should you change your mind, you can still choose Answer under it.",
                                title=card.title), buttons=card_buttons(ctx._, card.id, decline=False)))


def answers_text(_: Translator, card: Card, questions: list[Question], answers: list[str | None]) -> str:
    """The questions with the answers given, as the body of the opinion matter and for the last check."""
    blocks = []
    for q, answer in zip(questions, answers):
        blocks.append(f"{q.position}. {q.text}\n" + (_("Answer: {answer}", answer=answer) if answer is not None
                                                    else _("(skipped)")))
    return "\n\n".join(blocks)


def matter_body(_: Translator, card: Card, questions: list[Question], answers: list[str | None]) -> str:
    """The body of the opinion matter registered from a card's answers."""
    return _("Answers to the opinion card “{title}”:", title=card.title) + "\n\n" + \
        answers_text(_, card, questions, answers)


class CardAnswerFlow:
    name = "card_answer"

    def describe(self, ctx: Context, dialog: Dialog) -> str:
        return ctx._("answering an opinion card")

    async def _load(self, ctx: Context, dialog: Dialog) -> tuple[Card, Recipient, list[Question]]:
        card, recipient = await _recipient(ctx, held(dialog)["card_id"])
        questions = await cards.questions(ctx.tx, card.id)
        if len(questions) != len(held(dialog)["answers"]):
            raise StaleActionError("This button is no longer valid.")
        return card, recipient, questions

    async def prompt(self, ctx: Context, dialog: Dialog) -> None:
        _ = ctx._
        card, _recipient_, questions = await self._load(ctx, dialog)
        cancel = cancel_button(ctx, dialog)
        if dialog.step == "confirm":
            answers = held(dialog)["answers"]
            if all(a is None for a in answers):
                again = Button(_("Answer again"), dialog_button(dialog, "again"))
                no = Button(_("Decline"), dialog_button(dialog, "decline"))
                await ctx.reply(Reply(_("You skipped every question, so there is nothing to submit. You can answer "
                                        "again, or decline."), buttons=((again, no), (cancel,))))
                return
            submit = Button(_("Submit"), dialog_button(dialog, "submit"))
            await ctx.reply(Reply(_("“{title}”", title=card.title) + "\n\n" + answers_text(_, card, questions, answers),
                                  title=_("Please check"), buttons=((submit, cancel),)))
            return
        question = questions[int(dialog.step) - 1]
        skip = Button(_("Skip"), dialog_button(dialog, "skip"))
        text = _("Question {k} of {n}: {question}", k=question.position, n=len(questions), question=question.text)
        if question.kind == "choice":
            options = [Button(option, dialog_button(dialog, callbacks.choice("o", i)))
                       for i, option in enumerate(question.choices)]
            await ctx.reply(Reply(text + "\n" + _("Please choose:"), buttons=(*rows(options, 1), (skip, cancel))))
        else:
            await ctx.reply(Reply(text + "\n" + _("Please write your answer."), buttons=((skip, cancel),)))

    async def on_choice(self, ctx: Context, dialog: Dialog, choice: str) -> None:
        if choice == "cancel":  # the card's own choices again with it: the latest list a typed number answers
            await ctx.answer()
            await ctx.end_dialog()
            await ctx.reply(Reply(ctx._("Cancelled. Nothing was submitted. You can choose Answer under the card again "
                                        "at any time."), buttons=card_buttons(ctx._, held(dialog)["card_id"])))
            return
        await ctx.answer()
        card, recipient, questions = await self._load(ctx, dialog)
        _refuse_answered(card, recipient)
        _refuse_closed(card)
        answers = held(dialog)["answers"]
        if dialog.step == "confirm":
            if choice == "submit" and any(a is not None for a in answers):
                return await self._submit(ctx, dialog, card, recipient, questions)
            if choice == "again" and all(a is None for a in answers):
                return await self._goto(ctx, dialog, "1")
            if choice == "decline" and all(a is None for a in answers):
                await ctx.end_dialog()
                if recipient.declined_at is None:
                    return await _decline(ctx, card, recipient)
                await ctx.reply(Reply(ctx._("Noted. Thank you all the same.")))
                return
            raise StaleActionError("This button is no longer valid.")
        index = int(dialog.step) - 1
        question = questions[index]
        if choice == "skip":
            answers[index] = None
        elif question.kind == "choice" and (
                option := callbacks.chosen(choice, "o", below=len(question.choices))) is not None:
            answers[index] = question.choices[option]
        else:
            raise StaleActionError("This button is no longer valid.")
        await self._next(ctx, dialog, len(questions))

    async def on_message(self, ctx: Context, dialog: Dialog) -> None:
        card, recipient, questions = await self._load(ctx, dialog)
        text = ctx.inc.text.strip()
        if dialog.step != "confirm" and not ctx.inc.attachments and text:
            index = int(dialog.step) - 1
            if questions[index].kind == "free_text":
                _refuse_answered(card, recipient)
                if len(text) > MAX_ANSWER:
                    raise UserError("The answer is too long: {n} characters, at most {max}.", n=len(text),
                                    max=MAX_ANSWER)
                held(dialog)["answers"][index] = text
                return await self._next(ctx, dialog, len(questions))
        free = dialog.step != "confirm" and questions[int(dialog.step) - 1].kind == "free_text"
        await ctx.reply(Reply(ctx._("Please answer in text.") if free else ctx._("Please choose one of the options.")))
        await self.prompt(ctx, dialog)

    async def _next(self, ctx: Context, dialog: Dialog, count: int) -> None:
        step = int(dialog.step)
        await self._goto(ctx, dialog, str(step + 1) if step < count else "confirm")

    async def _goto(self, ctx: Context, dialog: Dialog, step: str) -> None:
        if step == "1":
            held(dialog)["answers"] = [None] * len(held(dialog)["answers"])
        await goto(ctx, self, dialog, step)

    async def _submit(self, ctx: Context, dialog: Dialog, card: Card, recipient: Recipient,
                      questions: list[Question]) -> None:
        """Register the answers as an opinion matter, record them and the contact, tell everyone concerned."""
        rep = ctx.person
        assert rep is not None
        answers = held(dialog)["answers"]
        subject = card.title[:ctx.config.intake.max_subject_chars]
        # the matter is a record of the office: in the unit's language, whatever the representative's
        body = matter_body(ctx.translator(None), card, questions, answers)
        new = NewMatter(kind="opinion", representative_id=rep.id, subject=subject, body=body, received_via="card",
                        registered_by=rep.id)
        matter = await register.register(ctx, new, [], UnitScope.of(card.unit_id))  # the unit that asked
        given = {q.id: a for q, a in zip(questions, answers) if a is not None}
        if not await cards.mark_answered(ctx.tx, recipient.id, matter.id, given, ctx.now):
            raise UserError("You have answered the opinion card “{title}” already. Thank you.", title=card.title)
        author = await people.get(ctx.tx, card.created_by)
        staff_id = author.id if author is not None and author.body is None else None
        await contacts.add(ctx.tx, card.unit_id, rep.id, "opinion_card", ctx.today, staff_id, card.title, "card", ctx.now,
                           source_ref=f"card:{card.id}")
        await audit.record(ctx.tx, ctx.now, rep.id, "card_answered", matter_id=matter.id,
                           detail={"card_id": card.id, "answered": len(given), "questions": len(questions)})
        await ctx.end_dialog()
        receipt = register.receipt(ctx._, matter)
        received = ctx._("Your answers to the opinion card “{title}” have been received.", title=card.title)
        await ctx.reply(Reply(received + "\n" + receipt.text, title=receipt.title))
        await register.notify_office(ctx, matter)


ANSWER = CardAnswerFlow()
