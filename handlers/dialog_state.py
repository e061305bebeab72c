"""What the matter dialogues hold between their steps, typed per flow so that mypy checks every key
(issue 13): intake (`IntakeData`), an action on a matter — casework and replies — (`ActionData`), and
rating a reply (`RatingData`).

A dialogue's data is stored as JSON that only the bot writes (`storage.dialogs`); each flow reads it
back through its own view here, the same dict object, so what a step changes is what is saved. What a
person sends is checked before it is put in (button data is user input), never after it is read back.
"""

from __future__ import annotations

from typing import Required, TypedDict, cast

from bot.model import Dialog
from storage.matters import StoredFile


class FileData(TypedDict):
    """A file received in a dialogue, kept until the dialogue's end stores it."""

    kind: str
    name: str
    size: int
    mime: str | None
    sha256: str
    path: str


def stored_files(files: list[FileData]) -> list[StoredFile]:
    return [StoredFile(f["kind"], f["name"], int(f["size"] or 0), f["mime"], f["sha256"], f["path"]) for f in files]


class IntakeData(TypedDict, total=False):
    """A matter being submitted (handlers/intake.py), or registered by the office on someone's behalf."""

    text: Required[list[str]]
    files: Required[list[FileData]]
    on_behalf_of: int | None  # present only when the office registers it (checked again on every use)
    via: str | None  # how the office received it
    kind: str
    subject: str
    complainant_name: str
    complainant_contact: str
    disputes: bool  # an appeal disputing our own handling (§14)
    department_id: int | None  # the department that handled it (None: not sure)


class ActionData(TypedDict, total=False):
    """An action on a matter that asks for values first (handlers/actions.py): assign, transfer, reply..."""

    matter_id: Required[int]
    action: Required[str]
    values: Required[dict[str, str]]  # by step name, each checked by its rule when given and again on confirm
    files: Required[list[FileData]]
    reply_id: int  # record_rating: the reply the returned paper form rates, fixed when the dialogue opens


class RatingData(TypedDict):
    """A rating given, its comment asked for (handlers/rating.py)."""

    matter_id: int
    reply_id: int
    rating: str


def intake(dialog: Dialog) -> IntakeData:
    return cast(IntakeData, dialog.data)


def action(dialog: Dialog) -> ActionData:
    return cast(ActionData, dialog.data)


def rating(dialog: Dialog) -> RatingData:
    return cast(RatingData, dialog.data)
