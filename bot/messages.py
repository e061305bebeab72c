"""The plain objects that cross the boundary between a channel and the core.

A channel (Telegram, WeCom, the console) turns whatever it receives into an
`Incoming` and turns a `Reply` into whatever it sends. Nothing in here knows a
transport; handlers see only these types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

AttachmentKind = Literal["photo", "document"]


@dataclass(frozen=True)
class Attachment:
    """A file a user sent, as the channel describes it before or after download."""

    kind: AttachmentKind
    file_ref: str  # the channel's handle for the file (Telegram: file_id)
    name: str
    size: int | None
    mime: str | None = None
    sha256: str | None = None  # set once the bytes are stored locally
    stored_path: str | None = None
    error: str | None = None  # "too_large" | "download_failed" when the bytes could not be kept


@dataclass(frozen=True)
class Contact:
    """A phone contact the user shared; `user_id` is whose contact it is, if known."""

    phone: str
    user_id: str | None


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: a message, a command, or a button press."""

    channel: str
    user_id: str  # the channel's stable user id, never a username
    chat_id: str
    text: str = ""
    command: str | None = None  # "start", "submit"... without the slash
    args: str = ""
    action: str | None = None  # button data, exactly as received: user input
    callback_id: str | None = None
    message_id: str | None = None  # the message that carried the pressed button
    attachments: tuple[Attachment, ...] = ()
    contact: Contact | None = None
    language_code: str | None = None
    display_name: str = ""
    # A number typed in answer to a numbered list (personal WeChat shows no buttons): which list it answers
    # is read by its channel in the update's own transaction (`Channel.settle`), then this is None again.
    typed_number: int | None = None
    # a short text that may be a choice's label typed out ("满意", "完成"): it presses that choice if the list holds
    # exactly one so named (`Channel.settle`), else it stays the text it is
    typed_word: str = ""
    # how many choices the list had when the number typed was past its end (and 0 when none): told so, the list kept
    beyond: int = 0

    @property
    def is_button(self) -> bool:
        return self.action is not None

    @property
    def to_settle(self) -> bool:
        """Whether its channel reads which choice it makes, in the update's transaction (`Channel.settle`)."""
        return self.typed_number is not None or bool(self.typed_word)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for storing in the inbox (channels whose native update is this object)."""
        data = asdict(self)
        data["attachments"] = [asdict(a) for a in self.attachments]
        data["contact"] = asdict(self.contact) if self.contact else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incoming:
        fields = dict(data)
        fields["attachments"] = tuple(Attachment(**a) for a in data.get("attachments") or ())
        fields["contact"] = Contact(**data["contact"]) if data.get("contact") else None
        return cls(**fields)


@dataclass(frozen=True)
class Button:
    """A choice under a message. `typed`: what a person may type instead of pressing it (a matter's number, for
    the button that opens the matter a notice names). A channel that shows choices as a numbered list shows such
    a button as that hint, not as a number, and a typed number never presses it: a notice can arrive just as a
    number is typed to answer the list before it, and its number then took the number (bot/channels/wecom.py)."""

    label: str
    data: str
    typed: str = ""


@dataclass(frozen=True)
class OutFile:
    """A file to send with a reply, from local storage."""

    path: str
    name: str
    kind: AttachmentKind = "document"


@dataclass(frozen=True)
class TextBudget:
    """How much text one reply may hold on a channel and still arrive whole, or in well-split parts.

    `unit`: what the channel's limit counts (Telegram: UTF-16 code units; WeCom: bytes of UTF-8);
    `per_message`: one message's limit in that unit, title included; `parts`: how many messages the
    channel may split one long reply into, at line boundaries (1: it must fit in one). Handlers that
    draw long lists (the digest, the quota) ask the budget of the channel of the person they answer.
    """

    unit: Literal["utf16", "utf8"]
    per_message: int
    parts: int = 1

    def size(self, text: str) -> int:
        return len(text.encode("utf-16-le")) // 2 if self.unit == "utf16" else len(text.encode("utf-8"))

    def messages(self, text: str) -> int:
        """How many messages `text` becomes when packed line by line (a longer line alone takes several)."""
        count, used = 0, 0
        for line in text.split("\n"):
            width = self.size(line) + 1
            if width > self.per_message:
                count += 1 + (width - 1) // self.per_message
                used = 0
            elif used and used + width <= self.per_message:
                used += width
            else:
                count += 1
                used = width
        return max(count, 1)

    def fits(self, text: str) -> bool:
        return self.size(text) <= self.per_message if self.parts == 1 else self.messages(text) <= self.parts

    @property
    def chars(self) -> int:
        """Characters of Chinese text (one UTF-16 unit, three UTF-8 bytes each) it surely holds, a line of
        the title aside: the number an office is told."""
        per_char = 1 if self.unit == "utf16" else 3
        return (self.per_message * self.parts) // per_char - 200


@dataclass(frozen=True)
class ChannelTraits:
    """What a channel can carry, for the handlers (they ask for a capability, never test a channel's name):
    its text budget, and whether its users can send documents (WeCom members cannot: pictures, voice,
    video, places and links only, 90239/90240 接收消息)."""

    budget: TextBudget
    documents: bool = True
    popups: bool = True  # a press's answer shows in a pop-up (Telegram); without, an alert is a message in the chat
    words: bool = False  # its members type a command's words ("我的") more easily than "/my" (WeCom in WeChat)
    contact_button: bool = True  # a one-tap "share my phone number" control (Telegram); without, it is typed
    invite_link: bool = True  # an invite is a link opened (Telegram's deep link); without, "绑定 CODE" typed (WeCom)


# The commands a member may type as words where the channel's traits say `words` (WeCom: the same words its
# channel recognises, bot/channels/wecom_text.py): the Chinese messages name them so ("发送“我的”可随时查看")
# instead of as "/my", which a deputy in personal WeChat would have to find on a phone's keyboard.
TYPED_WORDS = {"submit": "提交", "my": "我的", "events": "活动", "cancel": "取消", "help": "帮助", "lang": "语言",
               "inbox": "待办", "overview": "总览"}


def alert_text(traits: ChannelTraits, text: str, *, said_too: bool) -> str:
    """What a press's alert says, when `text` is also said in the chat (`said_too`): on a channel without pop-ups
    the alert is a message itself, and the member is not told the same thing twice."""
    return text if traits.popups or not said_too else ""


# Telegram: 4 096 UTF-16 units a message; 4 000 keeps a margin for the title's formatting.
TELEGRAM_TRAITS = ChannelTraits(TextBudget("utf16", 4000))
_TRAITS: dict[str, ChannelTraits] = {}


def register_traits(channel: str, traits: ChannelTraits) -> None:
    """Called as a channel is added to the app (bot/app.py add_channel)."""
    _TRAITS[channel] = traits


def traits_of(channel: str) -> ChannelTraits:
    """The traits of a channel by its name; Telegram's for one that declares none (the console, tests)."""
    return _TRAITS.get(channel, TELEGRAM_TRAITS)


def rows(buttons: Sequence[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    """Buttons laid out `per_row` to a row (a channel that shows them as a numbered list numbers them in order)."""
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))


@dataclass(frozen=True)
class Reply:
    """What the bot says: plain text (channels escape it), optional bold title, buttons.

    `request_contact` asks the channel for a one-tap "share my phone" control.
    `edit_message_id` replaces an earlier message of the bot instead of sending anew.
    """

    text: str
    title: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    files: tuple[OutFile, ...] = ()
    request_contact: str | None = None  # the label of the share-contact control
    edit_message_id: str | None = None

    def choices(self) -> list[Button]:
        """The buttons a typed number picks, in order: all but those with a `typed` form."""
        return [b for row in self.buttons for b in row if not b.typed]

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "title": self.title,
            "buttons": [[[b.label, b.data, b.typed] if b.typed else [b.label, b.data] for b in row]
                        for row in self.buttons],
            "files": [[f.path, f.name, f.kind] for f in self.files],
            "request_contact": self.request_contact,
            "edit_message_id": self.edit_message_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reply:
        buttons = data.get("buttons") or []
        files = data.get("files") or []
        assert isinstance(buttons, list) and isinstance(files, list)
        return cls(
            text=str(data["text"]),
            title=_opt_str(data.get("title")),
            buttons=tuple(tuple(Button(*map(str, b[:3])) for b in row) for row in buttons),
            files=tuple(OutFile(str(f[0]), str(f[1]), f[2]) for f in files),
            request_contact=_opt_str(data.get("request_contact")),
            edit_message_id=_opt_str(data.get("edit_message_id")),
        )


@dataclass(frozen=True)
class CallbackAnswer:
    """The short acknowledgement of a button press (Telegram: answerCallbackQuery)."""

    callback_id: str
    text: str = ""
    alert: bool = False


@dataclass
class SendResult:
    """What a channel reports back after sending one outbox entry."""

    message_ids: list[str] = field(default_factory=list)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
