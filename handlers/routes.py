"""The table of every command, button namespace and dialogue, and the list of the areas' reminders the
deadline sweep fires: the only wiring of handlers."""

from __future__ import annotations

from bot.i18n import N_
from bot.router import Routes
from handlers import common, menu
from handlers.liaison import attendance, briefings, card_answers, card_reminders, card_screens, cards, contacts
from handlers.liaison import event_dialogs, event_reminders, event_screens, quota, supervisor_views, supervisors
from handlers.matters import actions, intake, mine, offer, rating, screens
from handlers.oversight import npc_register
from handlers.oversight.reminders import Provider
from handlers.people import access, accounts, binding, undelivered
from handlers.reports import digest, halfyear, ledger

def build() -> Routes:
    return Routes(
        commands={
            "start": binding.start,
            "help": common.show_help,
            "menu": common.show_menu,
            "lang": common.choose_language,
            "cancel": common.cancel,
            "submit": intake.begin,
            "register": intake.begin_on_behalf,
            "my": mine.command,
            "inbox": screens.inbox,
            "case": screens.open_by_number,
            "overview": screens.overview,
            "contact": contacts.begin,
            "quota": quota.quota,
            "card": cards.begin,
            "cards": card_screens.list_cards,
            "brief": briefings.begin,
            "digest": digest.command,
            "event": event_dialogs.begin,
            "events": event_screens.listing,
            "supervisors": supervisors.listing,
            "npc": npc_register.command,
            "report": halfyear.command,
            "view": accounts.choose_view,
            "channel": accounts.choose_channel,
            "wecom": accounts.office_command,
            "ledger": ledger.command,
            "access": access.command,
        },
        buttons={"menu": menu.on_menu, "lang": common.on_language, "my": mine.on_button,
                 "case": screens.on_case, "act": actions.on_act, "rate": rating.on_rate,
                 "register": intake.on_register_button, "contact": contacts.on_button,
                 "card": card_screens.on_button, "brief": briefings.on_button,
                 "event": event_screens.on_button, "sv": supervisors.on_button,
                 "npc": npc_register.on_button, "report": halfyear.on_button,
                 "view": accounts.on_view, "channel": accounts.on_channel, "undel": undelivered.on_button},
        flows={flow.name: flow for flow in (intake.INTAKE, binding.PHONE_FLOW, actions.ACT, rating.RATE,
                                                                contacts.CONTACT, cards.WRITE, card_answers.ANSWER,
                                                                briefings.WRITE, briefings.OPINION,
                                                                event_dialogs.EVENT, event_screens.DECLINE,
                                                                attendance.ATTEND, supervisors.APPOINT,
                                                                supervisor_views.VIEW, npc_register.REGISTER,
                                                                offer.OFFER)},
        # what reads much at a large unit: read before the transaction, off the event loop (bot/inbox.py)
        prepared={"ledger": ledger.prepare, "digest": digest.read_first, "report": halfyear.read_first,
                  "report:draw": halfyear.read_first},
        open_commands=frozenset({"start", "cancel"}),
        dialog_commands=frozenset({"cancel", "help", "lang", "my", "view", "channel"}),  # /my only reads: the dialogue stays open
        prompt_after=frozenset({"help"}),
        light_flows=frozenset({offer.OFFER.name}),
        unbound=common.unbound,
        not_understood=menu.on_text,
        stale_choice=common.stale_choice,
    )


# Each area's reminders, in the order the sweep (handlers/oversight/sweep.py) fires them after the matters' own.
REMINDERS: tuple[Provider, ...] = (halfyear.collect, card_reminders.collect, digest.collect, event_reminders.collect)


# Shown in the channel's command menu (Telegram: setMyCommands), in each language.
MENU_COMMANDS = (
    ("submit", N_("Submit a matter")),
    ("my", N_("My matters")),
    ("cancel", N_("Cancel what you are doing")),
    ("lang", N_("Language")),
    ("help", N_("Help")),
)
