"""The table of every command, button namespace and dialogue: the only wiring of handlers."""

from __future__ import annotations

from bot.i18n import N_
from bot.router import Routes
from handlers import binding, common, intake, mine


def build() -> Routes:
    return Routes(
        commands={
            "start": binding.start,
            "help": common.show_help,
            "menu": common.show_menu,
            "lang": common.choose_language,
            "cancel": common.cancel,
            "submit": intake.begin,
            "my": mine.command,
        },
        buttons={"menu": common.on_menu, "lang": common.on_language, "my": mine.on_button},
        flows={intake.INTAKE.name: intake.INTAKE, binding.PHONE_FLOW.name: binding.PHONE_FLOW},
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
