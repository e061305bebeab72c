"""What the dialogues hold between their steps, typed per flow so that mypy checks every key (issue 13):
intake (`IntakeData`), an action on a matter — casework and replies — (`ActionData`), rating a reply
(`RatingData`); the liaison flows — a contact, an event, its attendance and a declined invitation, an
opinion card written and answered, a briefing written and an opinion on it, the NPC register, a
supervisor appointed and their view, binding an invitation — each its own view below. A flow reads
`dialog.data` only through its view (tests/test_dialog_state.py checks it).

A dialogue's data is stored as JSON that only the bot writes (`storage.dialogs`); each flow reads it
back through its own view here, the same dict object, so what a step changes is what is saved. What a
person sends is checked before it is put in (button data is user input), never after it is read back.
"""

from __future__ import annotations

from typing import Any, Required, TypedDict, TypeVar, cast

from bot.errors import StaleActionError
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
    """A matter being submitted (handlers/matters/intake.py), or registered by the office on someone's behalf."""

    text: Required[list[str]]
    files: Required[list[FileData]]
    on_behalf_of: int | None  # present only when the office registers it (checked again on every use)
    unit: int  # the unit it goes to, chosen by a representative on several units' rosters (checked again)
    via: str | None  # how the office received it
    kind: str
    subject: str
    complainant_name: str
    complainant_contact: str
    disputes: bool  # an appeal disputing our own handling (§14)
    department_id: int | None  # the department that handled it (None: not sure)
    editing: bool  # a step asked again from the confirmation's 修改: back to the confirmation after it
    old_text: list[str]  # the content while new content is being written in its place (不修改 brings it back)
    before: dict[str, Any]  # the whole of it when 修改 was pressed (取消修改 brings it back)


class ActionData(TypedDict, total=False):
    """An action on a matter that asks for values first (handlers/matters/actions.py, its steps in
    action_steps.py): assign, transfer, reply..."""

    matter_id: Required[int]
    action: Required[str]
    values: Required[dict[str, str]]  # by step name, each checked by its rule when given and again on confirm
    files: Required[list[FileData]]
    reply_id: int  # record_rating: the reply the returned paper form rates, fixed when the dialogue opens
    number: str  # the matter's number, to name it while the dialogue waits (absent in dialogues opened before)


class RatingData(TypedDict):
    """A rating given, its comment asked for (handlers/matters/rating.py)."""

    matter_id: int
    reply_id: int
    rating: str


def intake(dialog: Dialog) -> IntakeData:
    return cast(IntakeData, dialog.data)


def restore(dialog: Dialog, earlier: dict[str, Any]) -> None:
    """The dialogue's data put back whole as a flow copied it earlier (intake's 取消修改: `IntakeData.before`)."""
    dialog.data.clear()
    dialog.data.update(earlier)


def action(dialog: Dialog) -> ActionData:
    return cast(ActionData, dialog.data)


def rating(dialog: Dialog) -> RatingData:
    return cast(RatingData, dialog.data)


T = TypeVar("T")


def given(value: T | None) -> T:
    """A value an earlier step gathered, read at a later one: the steps fill it before they lead there, so
    missing it means the dialogue is not what this step expects (a forged or stale press)."""
    if value is None:
        raise StaleActionError("This button is no longer valid.")
    return value


class ContactData(TypedDict):
    """A contact being recorded (handlers/liaison/contacts.py): filled in step by step."""

    reps: list[int]  # the representatives chosen, each checked when chosen and again on confirm
    method: str | None  # one of bot.contacts_file.METHODS
    day: str | None  # ISO date, never in the future
    note: str | None  # "" for none


class EventData(TypedDict):
    """An event being created (handlers/liaison/event_dialogs.py)."""

    kind: str | None
    matter_id: int | None  # the matter a case discussion is about
    title: str | None
    starts_at: str | None  # ISO date and time, aware
    place: str | None
    departments: list[int]  # those that must prepare for it
    audience: dict[str, Any] | None  # the audience step's choice (AudienceData); event_dialogs.stored converts it
    sectors: list[str]  # the sectors offered, by the index of their button
    picked: list[int]  # the named people chosen so far


class AttendData(TypedDict):
    """Attendance at an event being marked (handlers/liaison/attendance.py)."""

    event_id: int
    chosen: list[int]
    page: int
    extra: list[int]  # attended without an invitation, added by a search


class OfferData(TypedDict):
    """What a representative wrote outside any dialogue, offered to be submitted as a matter (handlers/matters/offer.py):
    the words, the files sent with them since, and when the offer was made (ISO time)."""

    text: list[str]
    files: list[FileData]
    at: str


class DeclineData(TypedDict):
    """A reason for declining an invitation being asked for (handlers/liaison/event_screens.py)."""

    event_id: int
    title: str


class AudienceData(TypedDict, total=False):
    """The audience steps a card or a briefing shares (handlers/liaison/audience.py)."""

    audience: dict[str, Any]  # {"kind": ..., "sector"/"ids": ...}, resolved by storage.cards.audience_members
    sectors: list[str]  # the sectors offered, by the index of their button
    picked: list[int]  # the named people chosen so far


class CardWriteData(AudienceData, total=False):
    """An opinion card being written (handlers/liaison/cards.py)."""

    title: Required[str | None]
    # (text, kind, options) each; JSON gives the triple back as a list, unpacked the same way
    questions: Required[list[tuple[str, str, list[str]]]]
    pending: Required[str | None]  # the question whose kind is being asked


class CardAnswerData(TypedDict):
    """An opinion card being answered (handlers/liaison/card_answers.py): one answer per question, None if skipped."""

    card_id: int
    answers: list[str | None]


class BriefWriteData(AudienceData, total=False):
    """A briefing being written (handlers/liaison/briefings.py)."""

    title: Required[str | None]
    text: Required[str | None]
    files: Required[list[FileData]]


class BriefOpinionData(TypedDict):
    """An opinion on a briefing being written (handlers/liaison/briefings.py)."""

    briefing_id: int
    text: str | None


class NpcData(TypedDict, total=False):
    """An entry of the NPC register being added — kind, case, number, matter, day, note — or an entry's
    filing day being given — entry, day (handlers/oversight/npc_register.py)."""

    kind: str
    case: str | None
    number: str | None
    matter: int | None
    note: str | None
    entry: int
    day: Required[str | None]  # ISO date


class AppointData(TypedDict):
    """A supervisor being appointed (handlers/liaison/supervisors.py)."""

    person_id: int | None


class ViewData(TypedDict):
    """A supervisor's view on a case discussion being written (handlers/liaison/supervisors.py)."""

    event_id: int


class BindData(TypedDict):
    """An invitation being bound to this chat account (handlers/people/binding.py)."""

    invite_id: int
    person_id: int


def contact(dialog: Dialog) -> ContactData:
    return cast(ContactData, dialog.data)


def event(dialog: Dialog) -> EventData:
    return cast(EventData, dialog.data)


def attend(dialog: Dialog) -> AttendData:
    return cast(AttendData, dialog.data)


def offered(dialog: Dialog) -> OfferData:
    return cast(OfferData, dialog.data)


def decline(dialog: Dialog) -> DeclineData:
    return cast(DeclineData, dialog.data)


def audience(dialog: Dialog) -> AudienceData:
    return cast(AudienceData, dialog.data)


def card_write(dialog: Dialog) -> CardWriteData:
    return cast(CardWriteData, dialog.data)


def card_answer(dialog: Dialog) -> CardAnswerData:
    return cast(CardAnswerData, dialog.data)


def brief_write(dialog: Dialog) -> BriefWriteData:
    return cast(BriefWriteData, dialog.data)


def brief_opinion(dialog: Dialog) -> BriefOpinionData:
    return cast(BriefOpinionData, dialog.data)


def npc(dialog: Dialog) -> NpcData:
    return cast(NpcData, dialog.data)


def appoint(dialog: Dialog) -> AppointData:
    return cast(AppointData, dialog.data)


def view(dialog: Dialog) -> ViewData:
    return cast(ViewData, dialog.data)


def bind(dialog: Dialog) -> BindData:
    return cast(BindData, dialog.data)
