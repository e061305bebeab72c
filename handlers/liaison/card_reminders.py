"""The office is reminded, once, of those who have not answered an opinion card (seed §5).

N days (`[cards] remind_after_days`, default 7) after a card was sent, if some representatives
it reached have neither answered nor declined, every office member gets one message naming
them, with the response rate so far. It fires through the deadline sweep (a provider in handlers/routes.py's
REMINDERS), so once per card (key `card_remind:<id>`), in working time only, and after downtime when the bot
comes back; those named are marked `reminded_at`. A closed card is not reminded of.
"""

from __future__ import annotations


from bot import callbacks
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Button, Reply
from handlers.liaison.audience import names
from handlers.oversight.reminders import Make, Reminder, Ticks
from storage import cards
from storage.cards import Card, Tally
from storage.db import parse_ts


async def collect(ticks: Ticks) -> list[Reminder]:
    """The reminders due today: one per card sent N days ago or more that still waits for answers, to its unit's
    office."""
    q, config, today = ticks.q, ticks.config, ticks.today
    found: list[Reminder] = []
    for card in await cards.awaiting_reminder(q, ticks.scope):
        days = (today - parse_ts(card.sent_at).astimezone(config.unit.tz).date()).days
        if days < config.cards.remind_after_days:
            continue
        tick = ticks.of(card.unit_id)
        tally = await cards.tally(q, tick.scope, card.id)
        assert tally is not None
        waiting = [r.name for r in await cards.recipients(q, card.id) if r.status == "waiting"]

        async def mark(ctx: Context, card_id: int = card.id) -> None:
            await cards.mark_reminded(ctx.tx, card_id, ctx.now)

        found.append(Reminder(f"card_remind:{card.id}", "card_remind", None, tick.office,
                              _not_answered(card, days, tally, waiting), mark, unit=card.unit_id))
    return found


def _not_answered(card: Card, days: int, tally: Tally, waiting: list[str]) -> Make:
    def build(_: Translator) -> Reply:
        text = "\n".join([
            _("The opinion card “{title}” was sent {days} days ago: {answered} of {reached} have answered "
              "({percent}%), {declined} declined.", title=card.title, days=days, answered=tally.answered,
              reached=tally.reached, percent=tally.percent, declined=tally.declined),
            _("Not yet answered ({n}):", n=len(waiting)),
            names(_, waiting),
        ])
        button = Button(_("See the answers"), callbacks.encode("card", "v", card.id))
        return Reply(text, title=_("Opinion card not yet answered"), buttons=((button,),))
    return build
