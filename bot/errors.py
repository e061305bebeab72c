"""The project's exceptions.

    LiaisonError            base of everything raised on purpose
    ├── ConfigError         a bad configuration; stops start-up, names the key
    └── UserError           an expected refusal; the router renders it in the user's language
        ├── PermissionDeniedError   this person may not do this (to this matter, now)
        ├── NotFoundError           the thing referred to does not exist or is not visible
        ├── StaleActionError        a button or step that is over
        └── DialogOpenError         something else was asked for while a dialogue is open

A refusal from a dialogue's last step (its confirm) can set `closes_dialog`: the dialogue
then ends with the refusal, so that nobody is left on a confirm screen that cannot succeed.

A UserError carries a catalog message id and its parameters, never rendered text, so that
it can be shown in whichever language the person reading it uses. Anything else that
escapes a handler is a bug: the router logs it with its traceback and the user receives
a generic apology, never the exception text.
"""

from __future__ import annotations

from bot.i18n import N_


class LiaisonError(Exception):
    """Base of all errors raised on purpose by this project."""


class ConfigError(LiaisonError):
    """The configuration is unusable; the message names the key and what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class UserError(LiaisonError):
    """A business refusal to show the user: `msgid` is looked up in the catalogs."""

    closes_dialog: bool = False

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


class PermissionDeniedError(UserError):
    """The person may not do this; `action` and `matter_id` go to the audit log."""

    action: str | None = None
    matter_id: int | None = None

    @classmethod
    def of(cls, action: str, matter_id: int | None, msgid: str, **params: object) -> PermissionDeniedError:
        error = cls(msgid, **params)
        error.action, error.matter_id = action, matter_id
        return error


class NotFoundError(UserError):
    """The thing does not exist, or is not visible to this person."""


class StaleActionError(UserError):
    """A button or a dialogue step that no longer applies."""


class DialogOpenError(UserError):
    """Another command or menu button was pressed in the middle of a dialogue: the router says which
    dialogue is open and how to leave it (/cancel), and shows its step again."""

    def __init__(self) -> None:
        super().__init__(N_("Please finish or {/cancel} what you are doing first."))  # said when none is open after all
