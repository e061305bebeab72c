"""The table of every command, button namespace and dialogue: the only wiring of handlers."""

from __future__ import annotations

from bot.i18n import N_
from bot.router import Routes
from handlers import actions, binding, common, contacts, intake, mine, rating, staff


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
            "inbox": staff.inbox,
            "case": staff.open_by_number,
            "overview": staff.overview,
            "contact": contacts.begin,
            "quota": contacts.quota,
        },
        buttons={"menu": common.on_menu, "lang": common.on_language, "my": mine.on_button,
                 "case": staff.on_case, "act": actions.on_act, "rate": rating.on_rate,
                 "register": intake.on_register_button, "contact": contacts.on_button},
        flows={flow.name: flow for flow in (intake.INTAKE, binding.PHONE_FLOW, actions.ACT, rating.RATE,
                                                                contacts.CONTACT)},
        open_commands=frozenset({"start", "cancel"}),
        dialog_commands=frozenset({"cancel", "help", "lang"}),
        unbound=common.unbound,
        not_understood=common.not_understood,
    )


# Shown in the channel's command menu (Telegram: setMyCommands), in each language.
MENU_COMMANDS = (
    ("submit", N_("Submit a matter")),
    ("my", N_("My matters")),
    ("cancel", N_("Cancel what you are doing")),
    ("lang", N_("Language")),
    ("help", N_("Help")),
)
