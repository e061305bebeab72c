"""A strict, in-process fake of the Telegram Bot API for tests.

:class:`FakeBotAPI` is an aiohttp web server listening on ``127.0.0.1`` (any free
port).  python-telegram-bot's real networking talks to it over real HTTP::

    fake = FakeBotAPI()
    await fake.start()
    bot = telegram.Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)

Test code plays the users' side through :class:`FakeUser` (``fake.user(42)``): each
action queues a complete, realistic update that the bot receives via ``getUpdates``.
Everything the bot successfully sends is recorded as a :class:`SentMessage` in
``fake.sent``.

The fake is deliberately *at least as strict* as the real Bot API: it validates
Telegram-HTML (unbalanced tags, bare ``<``, ``>`` or ``&`` and unknown entities are
refused), measures lengths in UTF-16 code units after parsing, checks
``callback_data`` in UTF-8 bytes, refuses double answers to callback queries,
refuses no-op edits, enforces a per-chat and a global flood limit (HTTP 429 with
``retry_after``), answers a superseded long poll with 409, and can inject faults
(429/500/502, held responses, responses lost after delivery, dropped connections)
deterministically through :class:`FaultPlan`.

Deliberate simplifications (all of them refuse rather than accept):

* only ``parse_mode="HTML"`` is implemented; ``Markdown``/``MarkdownV2`` are refused;
* inline keyboard buttons may only carry ``callback_data`` or ``url``;
* only private chats exist (chat id == user id), created with :meth:`FakeBotAPI.user`;
* inline messages (``inline_message_id``) and webhooks are not supported.

The server must be driven from the event loop it was started in (all state is
plain Python touched only from that loop).
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import mimetypes
import random
import re
import string
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

__all__ = [
    "DEFAULT_FAULT_METHODS",
    "FAULT_KINDS",
    "RATE_LIMITED_METHODS",
    "FakeBotAPI",
    "FakeUser",
    "FaultPlan",
    "HtmlParseError",
    "SentMessage",
    "parse_telegram_html",
    "utf16_len",
]

JSONDict = dict[str, Any]

#: Methods that send or edit messages: subject to the flood limits.
RATE_LIMITED_METHODS: frozenset[str] = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)

#: Methods a :class:`FaultPlan` applies to unless told otherwise.
DEFAULT_FAULT_METHODS: frozenset[str] = RATE_LIMITED_METHODS | {"answerCallbackQuery"}

#: Names of the injectable faults, as used in :attr:`FaultPlan.queue` and
#: :attr:`FakeBotAPI.fault_counts`.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "timeout", "timeout_after_delivery", "drop")
#: In :attr:`FaultPlan.queue`: this request goes through (to fault the second of several).
PASS = "pass"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_GETFILE_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_UPDATE_TYPES_NOT_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_API_PATH = re.compile(r"^/bot([^/]*)/([^/]*)$")
_FILE_PATH = re.compile(r"^/file/bot([^/]*)/(.+)$")
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_BOT_COMMAND_IN_TEXT = re.compile(
    r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])"
)
_ASCII_SPACE = " \t\r\n\v\f"


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


class HtmlParseError(ValueError):
    """Raised by :func:`parse_telegram_html` for text the Bot API would refuse."""


# ---------------------------------------------------------------------------
# Telegram HTML
# ---------------------------------------------------------------------------

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")
_TAG_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-")
_ATTR_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output
    language: str | None = None


class _HtmlParser:
    """A hand-written parser of Telegram's HTML subset (strict variant)."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.pos16 = 0
        self.entities: list[JSONDict] = []
        self.stack: list[_OpenTag] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def fail(self, message: str, index: int) -> HtmlParseError:
        return HtmlParseError(f"{message} at byte offset {self.byte_offset(index)}")

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.pos16 += utf16_len(text)

    def decode_entity(self, index: int) -> tuple[str, int]:
        match = _ENTITY_RE.match(self.src, index)
        if match is None:
            raise self.fail(
                "Unescaped '&' (use &amp;) that does not start an HTML entity", index
            )
        body = match.group(1)
        if body.startswith("#"):
            code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.fail(f'Invalid numeric HTML entity "&{body};"', index)
            return chr(code), match.end()
        if body not in _NAMED_ENTITIES:
            raise self.fail(f'Unsupported HTML entity "&{body};"', index)
        return _NAMED_ENTITIES[body], match.end()

    def decode_attribute(self, raw: str, base: int) -> str:
        parts: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "&":
                decoded, end = self.decode_entity(base + i)
                parts.append(decoded)
                i = end - base
            elif ch == "<":
                raise self.fail("Unescaped '<' inside an attribute value", base + i)
            else:
                parts.append(ch)
                i += 1
        return "".join(parts)

    def skip_spaces(self, j: int) -> int:
        while j < len(self.src) and self.src[j] in _ASCII_SPACE:
            j += 1
        return j

    def start_tag(self, i: int) -> int:
        src = self.src
        j = i + 1
        while j < len(src) and src[j] in _TAG_NAME_CHARS:
            j += 1
        name = src[i + 1 : j].lower()
        if name not in _SIMPLE_TAGS:
            if not name:
                raise self.fail("Unescaped '<' (use &lt;) that does not start a tag", i)
            raise self.fail(f'Unsupported start tag "{name}"', i)
        attrs: dict[str, str] = {}
        while True:
            j = self.skip_spaces(j)
            if j >= len(src):
                raise self.fail(f'Unclosed start tag "{name}"', i)
            if src[j] == ">":
                j += 1
                break
            k = j
            while k < len(src) and src[k] in _ATTR_NAME_CHARS:
                k += 1
            if k == j:
                raise self.fail(f'Unexpected character in the tag "{name}"', j)
            attr = src[j:k].lower()
            j = self.skip_spaces(k)
            value = ""
            if j < len(src) and src[j] == "=":
                j = self.skip_spaces(j + 1)
                if j >= len(src):
                    raise self.fail(f'Unclosed start tag "{name}"', i)
                if src[j] in "\"'":
                    end = src.find(src[j], j + 1)
                    if end < 0:
                        raise self.fail(f'Unclosed attribute value in the tag "{name}"', j)
                    value = self.decode_attribute(src[j + 1 : end], j + 1)
                    j = end + 1
                else:
                    k = j
                    while k < len(src) and src[k] not in _ASCII_SPACE and src[k] != ">":
                        k += 1
                    if k == j:
                        raise self.fail(f'Empty attribute value in the tag "{name}"', j)
                    value = self.decode_attribute(src[j:k], j)
                    j = k
            attrs[attr] = value
        self.check_start_tag(name, attrs, i)
        self.stack.append(_OpenTag(name, attrs, self.pos16))
        return j

    def check_start_tag(self, name: str, attrs: dict[str, str], i: int) -> None:
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', i)
        if name == "a" and not attrs.get("href"):
            raise self.fail('Tag "a" must have a non-empty attribute "href"', i)
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise self.fail('Tag "tg-emoji" must have a numeric attribute "emoji-id"', i)
        if name == "tg-time" and not attrs.get("unix", "").isdigit():
            raise self.fail('Tag "tg-time" must have a numeric attribute "unix"', i)
        if any(tag.name in ("code", "pre") for tag in self.stack) and not (
            name == "code" and self.stack and self.stack[-1].name == "pre"
        ):
            raise self.fail(f'Tag "{name}" can\'t be nested in a code or pre entity', i)

    def end_tag(self, i: int) -> int:
        src = self.src
        j = i + 2
        while j < len(src) and src[j] in _TAG_NAME_CHARS:
            j += 1
        name = src[i + 2 : j].lower()
        j = self.skip_spaces(j)
        if j >= len(src) or src[j] != ">":
            raise self.fail("Unclosed end tag", i)
        if not self.stack:
            raise self.fail(f'Unexpected end tag "</{name}>"', i)
        top = self.stack.pop()
        if top.name != name:
            raise self.fail(
                f'Unmatched end tag, expected "</{top.name}>", found "</{name}>"', i
            )
        self.close(top)
        return j + 1

    def close(self, tag: _OpenTag) -> None:
        length = self.pos16 - tag.start
        entity_type = _SIMPLE_TAGS[tag.name]
        klass = tag.attrs.get("class", "")
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            if klass.startswith("language-") and len(klass) > len("language-"):
                self.stack[-1].language = klass[len("language-") :]
                return
        if length <= 0:
            return
        entity: JSONDict = {"type": entity_type, "offset": tag.start, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attrs["href"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        elif tag.name == "tg-time":
            return  # no entity type python-telegram-bot would understand; text is kept
        self.entities.append(entity)

    def run(self) -> tuple[str, list[JSONDict]]:
        src = self.src
        i = 0
        text_start = 0
        while i < len(src):
            ch = src[i]
            if ch not in "<>&":
                i += 1
                continue
            if text_start < i:
                self.emit(src[text_start:i])
            if ch == ">":
                raise self.fail("Unescaped '>' (use &gt;)", i)
            if ch == "&":
                decoded, i = self.decode_entity(i)
                self.emit(decoded)
            elif i + 1 < len(src) and src[i + 1] == "/":
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
            text_start = i
        if text_start < len(src):
            self.emit(src[text_start:])
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities


def parse_telegram_html(source: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-HTML into plain text and message entities (UTF-16 offsets).

    Raises :class:`HtmlParseError` with a reason for anything the Bot API refuses
    (and, deliberately, for a bare ``>`` which the documentation also forbids).
    The text is not yet stripped; see :func:`_finish_text`.
    """
    return _HtmlParser(source).run()


def _finish_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip leading/trailing whitespace like Telegram and shift entities accordingly."""
    stripped = text.strip(_ASCII_SPACE)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_ASCII_SPACE))])
    new_len = utf16_len(stripped)
    result: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(new_len, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# ---------------------------------------------------------------------------
# Public data classes
# ---------------------------------------------------------------------------


@dataclass
class SentMessage:
    """A message the bot sent successfully (and its current state after edits)."""

    chat_id: int
    message_id: int
    method: str
    """``sendMessage``, ``sendPhoto`` or ``sendDocument``."""
    text: str
    """Plain text after parsing HTML and stripping (the caption for media, "" if none)."""
    raw_text: str
    """The text/caption exactly as sent."""
    parse_mode: str | None
    reply_markup: JSONDict | None
    """As sent (JSON-decoded), updated by edits; None once an edit removed it."""
    file_name: str | None = None
    file_bytes: bytes | None = None
    edits: int = 0
    entities: list[JSONDict] = field(default_factory=list)
    date: int = 0
    edit_date: int | None = None
    deleted: bool = False
    file_id: str | None = None
    mime_type: str | None = None
    media: JSONDict | list[JSONDict] | None = None
    """The ``photo`` list or ``document`` object as in the returned Message."""
    history: list[str] = field(default_factory=list)
    """Earlier versions of :attr:`text`, oldest first (one per edit)."""
    sent_at: float = 0.0
    """``time.monotonic()`` when the fake accepted the send (for latency measurements)."""

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard's callback buttons, row-major.

        URL buttons are left out (see :meth:`url_buttons`).
        """
        return [
            (button["text"], button["callback_data"])
            for button in self._inline_buttons()
            if "callback_data" in button
        ]

    def url_buttons(self) -> list[tuple[str, str]]:
        """(label, url) of the inline keyboard's URL buttons, row-major."""
        return [(b["text"], b["url"]) for b in self._inline_buttons() if "url" in b]

    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of a reply keyboard sent with this message, or None."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return None
        return [
            [b if isinstance(b, str) else b["text"] for b in row]
            for row in self.reply_markup["keyboard"]
        ]

    def _inline_buttons(self) -> list[JSONDict]:
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [button for row in self.reply_markup["inline_keyboard"] for button in row]


@dataclass
class FaultPlan:
    """Faults injected into the fake's answers; mutable at run time.

    For every request to a method in :attr:`methods` (plus ``getUpdates`` when
    :attr:`include_get_updates`), first a scripted fault is taken from
    :attr:`queue` if any; otherwise one uniform random number (from the fake's
    seeded generator) picks at most one fault by the probabilities below, in the
    order 429, 500, 502, timeout, timeout_after_delivery, drop.

    * ``429``: answer 429 "Too Many Requests: retry after N" (N = :attr:`retry_after`).
    * ``500`` / ``502``: answer 500 "Internal Server Error" / 502 "Bad Gateway".
    * ``timeout``: hold the response :attr:`timeout_delay` seconds, then close the
      connection without answering; nothing is done.
    * ``timeout_after_delivery``: perform the request (the message is recorded),
      then hold and close as above: the bot cannot know it arrived.
    * ``drop``: close the connection at once without answering; nothing is done.
    """

    p_429: float = 0.0
    p_500: float = 0.0
    p_502: float = 0.0
    p_timeout: float = 0.0
    p_timeout_after_delivery: float = 0.0
    p_drop: float = 0.0
    timeout_delay: float = 30.0
    retry_after: int = 1
    methods: set[str] = field(default_factory=lambda: set(DEFAULT_FAULT_METHODS))
    include_get_updates: bool = False
    queue: list[str] = field(default_factory=list)
    """Scripted faults (names from :data:`FAULT_KINDS`) for the next eligible requests."""

    def applies_to(self, method: str) -> bool:
        """Whether faults may be injected into ``method``."""
        if method == "getUpdates":
            return self.include_get_updates
        return method in self.methods

    def probabilities(self) -> list[tuple[str, float]]:
        """The (fault kind, probability) pairs in decision order."""
        pairs = [
            ("429", self.p_429),
            ("500", self.p_500),
            ("502", self.p_502),
            ("timeout", self.p_timeout),
            ("timeout_after_delivery", self.p_timeout_after_delivery),
            ("drop", self.p_drop),
        ]
        for kind, p in pairs:
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"FaultPlan.p_{kind} must be within 0..1, got {p}")
        return pairs

    def clear(self) -> None:
        """Switch every fault off (probabilities to zero, queue emptied)."""
        self.p_429 = self.p_500 = self.p_502 = 0.0
        self.p_timeout = self.p_timeout_after_delivery = self.p_drop = 0.0
        self.queue.clear()


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Poll:
    event: asyncio.Event
    conflict: bool = False


class _Params:
    """Typed access to request parameters from JSON, query, form or multipart."""

    def __init__(self, values: dict[str, Any], files: dict[str, _Upload]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise _bad(f'Parameter "{name}" is required')
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise _bad(f'Parameter "{name}" is required')
            return None
        if isinstance(value, bool):
            raise _bad(f'Parameter "{name}" must be a number')
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _bad(f'Parameter "{name}" must be a number')

    def number(self, name: str) -> float | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _bad(f'Parameter "{name}" must be a number')
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f'Parameter "{name}" must be a number') from None

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
            return value.lower() in ("true", "1")
        raise _bad(f'Parameter "{name}" must be a Boolean')

    def json_value(self, name: str, error: str) -> Any:
        value = self.raw(name)
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(error) from None


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id).

    Every action queues one update and returns its ``update_id`` (or, for
    :meth:`press`, the callback query id).  Call these from the fake's event loop.
    """

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None = None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.blocked = False
        self.chat_instance = str(api._ids.randrange(10**17, 10**18) * api._ids.choice((-1, 1)))

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def chat_id(self) -> int:
        """The id of the private chat with this user (equal to the user id)."""
        return self.id

    @property
    def received(self) -> list[SentMessage]:
        """Messages the bot sent to this user so far."""
        return self.api.messages_to(self.id)

    def user_json(self) -> JSONDict:
        """This user as a Bot API ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> JSONDict:
        """The private chat with this user as a Bot API ``Chat`` object."""
        data: JSONDict = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.username:
            data["username"] = self.username
        return data

    def _message(self, **content: Any) -> JSONDict:
        message_id = self.api._next_message_id(self.id)
        message: JSONDict = {
            "message_id": message_id,
            "from": self.user_json(),
            "chat": self.chat_json(),
            "date": int(self.api.server_time()),
            **content,
        }
        self.api._incoming[(self.id, message_id)] = message
        return message

    def send_text(self, text: str) -> int:
        """Send a text message; ``/commands`` get ``bot_command`` entities like Telegram."""
        if not text:
            raise ValueError("Telegram users cannot send empty messages")
        content: JSONDict = {"text": text}
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
            for match in _BOT_COMMAND_IN_TEXT.finditer(text)
        ]
        if entities:
            content["entities"] = entities
        return self.api._queue_update("message", self._message(**content))

    def send_photo(self, data: bytes, caption: str | None = None) -> int:
        """Send a photo: the update carries two ``PhotoSize`` objects (thumbnail, full)."""
        sizes = []
        for width, height in ((90, 67), (1280, 960)):
            stored = self.api._store_file("photo", data, len(data), None, "image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": stored.size,
                }
            )
        content: JSONDict = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.api._queue_update("message", self._message(**content))

    def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        *,
        declared_size: int | None = None,
    ) -> int:
        """Send a file; ``declared_size`` claims a size (e.g. 25 MB) without the bytes.

        ``getFile`` refuses files whose (declared) size exceeds 20 MB.
        """
        size = len(data) if declared_size is None else declared_size
        stored = self.api._store_file("document", data, size, file_name, mime_type)
        content: JSONDict = {"document": self.api._document_json(stored)}
        if caption:
            content["caption"] = caption
        return self.api._queue_update("message", self._message(**content))

    def share_contact(
        self,
        phone: str,
        *,
        own: bool = True,
        first_name: str | None = None,
        user_id: int | None = None,
    ) -> int:
        """Share a contact; ``own=False`` shares someone else's (different ``user_id``)."""
        if own:
            contact = {"phone_number": phone, "first_name": self.first_name, "user_id": self.id}
        else:
            other = user_id if user_id is not None else self.id + 1_000_000_000
            if other == self.id:
                raise ValueError("someone else's contact needs a different user_id")
            contact = {
                "phone_number": phone,
                "first_name": first_name or "他人",
                "user_id": other,
            }
        return self.api._queue_update("message", self._message(contact=contact))

    def press(self, message: SentMessage, data: str) -> str:
        """Press an inline button on ``message``; returns the callback query id.

        ``data`` need not belong to one of the message's buttons (tests may forge).
        """
        if message.chat_id != self.id:
            raise ValueError(
                f"message {message.message_id} is in chat {message.chat_id}, not {self.id}"
            )
        query_id = str(self.api._ids.randrange(10**18, 10**19))
        query = {
            "id": query_id,
            "from": self.user_json(),
            "message": self.api._message_json(message),
            "chat_instance": self.chat_instance,
            "data": data,
        }
        self.api._queries[query_id] = query
        self.api._queue_update("callback_query", query)
        return query_id

    def press_button(self, message: SentMessage, label: str) -> str:
        """Press the callback button labelled ``label`` on ``message``."""
        for text, data in message.buttons():
            if text == label:
                return self.press(message, data)
        raise ValueError(f"no callback button {label!r} on message; buttons: {message.buttons()}")

    def block_bot(self) -> None:
        """Block the bot: afterwards sends to this chat get 403."""
        self.blocked = True

    def unblock_bot(self) -> None:
        """Unblock the bot again."""
        self.blocked = False


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

_Handler = Callable[[_Params], Awaitable[Any]]


class FakeBotAPI:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Attributes meant for tests (all mutable, all plain Python):

    * ``sent``: every message the bot sent successfully, in order (:class:`SentMessage`);
    * ``errors``: ``(method, HTTP status, description)`` of every error answer,
      injected faults included (status 0 for held/dropped connections);
    * ``fault_counts``: injected faults by kind (see :data:`FAULT_KINDS`);
    * ``callback_answers``: callback query id -> the (single) accepted answer;
    * ``commands``: ``(scope, language_code or "")`` -> commands; the scope is its
      type, or ``"chat:<id>"`` / ``"chat_administrators:<id>"`` /
      ``"chat_member:<chat>:<user>"`` for the chat-bound scopes;
    * ``chat_actions``: ``(chat_id, action)`` of accepted sendChatAction calls;
    * ``requests``: names of the known API methods called, in arrival order;
    * ``internal_errors``: unexpected exceptions inside the fake (answered 500);
      a test should end with it empty;
    * ``latency``: seconds every API request waits before it is handled (a simulated
      network round trip; 0 by default); ``in_flight`` and ``most_in_flight`` count the
      requests inside that wait now and at most (how many a client sends at once);
    * ``queued_at``: update_id -> ``time.monotonic()`` when the update was queued, and
      ``SentMessage.sent_at`` the moment a message was accepted (latency measurements);
    * ``on_sent``: if set, called with every accepted new message (benchmarks use it
      to wake the simulated user whose chat it is, instead of polling);
    * ``faults`` (:class:`FaultPlan`), ``per_chat_interval``, ``global_rate`` and
      ``clock`` (the time source of the flood limits: ``time.monotonic`` unless a
      test substitutes a manual clock).
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "LiaisonTestBot",
        per_chat_interval: float = 1.0,
        global_rate: float = 30.0,
        latency: float = 0.0,
        seed: int = 0,
        bot_first_name: str = "Liaison Test Bot",
    ) -> None:
        if not _TOKEN_SHAPE.match(token):
            raise ValueError(f"malformed bot token {token!r}")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.per_chat_interval = per_chat_interval
        self.global_rate = global_rate
        self.clock: Callable[[], float] = time.monotonic
        # The dates Telegram stamps on messages come from its servers' clock, not the bot's; the bot
        # never reads them, so the fake's stay the machine's (a test may set them to its own clock).
        self.server_time: Callable[[], float] = time.time
        self.latency = latency
        self.in_flight = self.most_in_flight = 0
        self.queued_at: dict[int, float] = {}
        self.on_sent: Callable[[SentMessage], None] | None = None
        self.faults = FaultPlan()
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self.sent: list[SentMessage] = []
        self.errors: list[tuple[str, int, str]] = []
        self.callback_answers: dict[str, list[JSONDict]] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.requests: list[str] = []  # names of all known API methods called, in order
        self.internal_errors: list[Exception] = []  # unexpected exceptions inside the fake
        self.users: dict[int, FakeUser] = {}
        self.base_url = ""
        self.base_file_url = ""
        self.port = 0

        self._fault_rng = random.Random(seed)
        self._ids = random.Random(seed * 7919 + 17)
        self._updates: collections.deque[JSONDict] = collections.deque()
        self._next_update_id = self._ids.randrange(100_000_000, 900_000_000)
        self._allowed_updates: set[str] | None = None
        self._poll: _Poll | None = None
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._by_chat: dict[int, list[SentMessage]] = {}
        self._incoming: dict[tuple[int, int], JSONDict] = {}
        self._queries: dict[str, JSONDict] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = 0
        self._last_send: dict[int, float] = {}
        self._send_times: collections.deque[float] = collections.deque()
        self._held = 0
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("getUpdates", self._get_updates),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("editMessageText", self._edit_message_text),
            ("editMessageCaption", self._edit_message_caption),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("sendChatAction", self._send_chat_action),
            ("answerCallbackQuery", self._answer_callback_query),
            ("getFile", self._get_file),
        ):
            self._handlers[name.lower()] = (name, handler)

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port; sets the base URLs."""
        if self._runner is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._stopping.clear()
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.base_file_url = f"http://127.0.0.1:{self.port}/file/bot"

    async def stop(self) -> None:
        """Stop the server promptly, releasing held requests and long polls. Idempotent."""
        runner, self._runner = self._runner, None
        self._stopping.set()
        if self._poll is not None:
            self._poll.event.set()
        self._notify()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- test-facing API -------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "测试",
        language_code: str | None = "zh-hans",
        *,
        username: str | None = None,
    ) -> FakeUser:
        """The user (and private chat) with this id, created on first call."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id not in self.users:
            self.users[user_id] = FakeUser(self, user_id, first_name, language_code, username)
        return self.users[user_id]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id`` (deleted ones included, flagged), in order."""
        return list(self._by_chat.get(chat_id, ()))

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (delivered or not)."""
        return len(self._updates)

    @property
    def long_poll_pending(self) -> bool:
        """Whether a getUpdates request is currently waiting for updates."""
        return self._poll is not None

    @property
    def held_requests(self) -> int:
        """Requests currently held by an injected timeout."""
        return self._held

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent to ``chat_id``; return all of them.

        Raises :class:`TimeoutError` with a dump of the fake's state otherwise.
        """
        await self._wait(
            lambda: len(self.messages_to(chat_id)) >= count,
            timeout,
            lambda: f"expected at least {count} message(s) to chat {chat_id}",
        )
        return self.messages_to(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` is true; re-checked on every change and every 50 ms.

        Raises :class:`TimeoutError` with a dump of the fake's state otherwise.
        """
        await self._wait(predicate, timeout, lambda: f"condition {predicate!r} not met")

    def dump(self, chat_id: int | None = None) -> str:
        """A readable summary of the fake's state, for failure messages."""
        lines = []
        messages = self.sent if chat_id is None else self.messages_to(chat_id)
        where = "" if chat_id is None else f" to chat {chat_id}"
        lines.append(f"messages sent{where}: {len(messages)}")
        for m in messages:
            flags = (" [deleted]" if m.deleted else "") + (f" [edits={m.edits}]" if m.edits else "")
            lines.append(f"  #{m.message_id} -> {m.chat_id} {m.method}{flags}: {m.text[:300]!r}")
            if m.buttons():
                lines.append(f"      buttons: {m.buttons()}")
        lines.append(
            f"pending updates: {self.pending_updates}; "
            f"long poll pending: {self.long_poll_pending}"
        )
        lines.append(f"last errors: {self.errors[-10:]}")
        lines.append(f"faults injected: {dict(self.fault_counts)}")
        lines.append(f"last requests: {self.requests[-15:]}")
        return "\n".join(lines)

    # -- internals: waiting ----------------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait(
        self, predicate: Callable[[], bool], timeout: float, what: Callable[[], str]
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s: {what()}\n{self.dump()}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # -- internals: state ------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _queue_update(self, kind: str, payload: JSONDict) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self.queued_at[update_id] = time.monotonic()
        if self._poll is not None:
            self._poll.event.set()
        self._notify()
        return update_id

    def _random_id(self, prefix: str, length: int) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        return prefix + "".join(self._ids.choice(alphabet) for _ in range(length))

    def _store_file(
        self,
        kind: str,
        data: bytes,
        size: int,
        file_name: str | None,
        mime_type: str | None,
        *,
        register: bool = True,
    ) -> _StoredFile:
        self._file_counter += 1
        if kind == "photo":
            path = f"photos/file_{self._file_counter}.jpg"
            file_id = self._random_id("AgACAgUAAxkBAAI", 56)
        else:
            suffix = ""
            if file_name and "." in file_name:
                ext = file_name.rsplit(".", 1)[1]
                if re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
                    suffix = "." + ext.lower()
            path = f"documents/file_{self._file_counter}{suffix}"
            file_id = self._random_id("BQACAgUAAxkBAAI", 56)
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=self._random_id("AgAD", 12),
            kind=kind,
            data=data,
            size=size,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        if register:
            self._register_file(stored)
        return stored

    def _register_file(self, stored: _StoredFile) -> None:
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored

    @staticmethod
    def _document_json(stored: _StoredFile) -> JSONDict:
        data: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name is not None:
            data["file_name"] = stored.file_name
        if stored.mime_type is not None:
            data["mime_type"] = stored.mime_type
        data["file_size"] = stored.size
        return data

    def _bot_json(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _message_json(self, message: SentMessage) -> JSONDict:
        user = self.users[message.chat_id]
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_json(),
            "chat": user.chat_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.method == "sendMessage":
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        else:
            data["photo" if message.method == "sendPhoto" else "document"] = message.media
            if message.text:
                data["caption"] = message.text
                if message.entities:
                    data["caption_entities"] = message.entities
        inline = _inline_markup(message.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        return data

    # -- internals: HTTP ---------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        match = _API_PATH.match(request.path)
        if match:
            return await self._api_request(request, match.group(1), match.group(2))
        match = _FILE_PATH.match(request.path)
        if match:
            return self._download(match.group(1), match.group(2))
        return self._error_response("?", _ApiError(404, "Not Found"))

    def _error_response(self, method: str, error: _ApiError) -> web.Response:
        self.errors.append((method, error.status, error.description))
        body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        self._notify()
        return web.json_response(body, status=error.status)

    def _check_token(self, token: str) -> None:
        if token == self.token:
            return
        if _TOKEN_SHAPE.match(token):
            raise _ApiError(401, "Unauthorized")
        raise _ApiError(404, "Not Found")

    def _download(self, token: str, path: str) -> web.Response:
        try:
            self._check_token(token)
        except _ApiError:
            return self._error_response("file", _ApiError(404, "Not Found"))
        stored = self._files_by_path.get(path)
        if stored is None:
            return self._error_response("file", _ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, _Upload] = {}
        if request.method != "POST" or not request.body_exists:
            return _Params(values, files)
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise _bad("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise _bad("JSON encoded request body must be an object")
            values.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = bytes(await part.read(decode=False))
                    content = part.headers.get("Content-Type")
                    files[part.name] = _Upload(part.filename, content, data)
                else:
                    values[part.name] = await part.text()
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            values.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            await request.read()
        return _Params(values, files)

    def _pick_fault(self, method: str) -> str | None:
        plan = self.faults
        if not plan.applies_to(method):
            return None
        if plan.queue:
            kind = plan.queue.pop(0)
            if kind == PASS:
                return None
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
            return kind
        draw = self._fault_rng.random()
        threshold = 0.0
        for kind, probability in plan.probabilities():
            threshold += probability
            if draw < threshold:
                return kind
        return None

    def _record_fault(self, method: str, kind: str, status: int, description: str) -> None:
        self.fault_counts[kind] += 1
        self.errors.append((method, status, description))
        self._notify()

    async def _hold_and_drop(self, request: web.Request) -> web.StreamResponse:
        self._held += 1
        self._notify()
        try:
            await asyncio.wait_for(self._stopping.wait(), self.faults.timeout_delay)
        except TimeoutError:
            pass
        finally:
            self._held -= 1
        return self._drop(request)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        request.protocol.force_close()
        return web.Response()

    async def _api_request(
        self, request: web.Request, token: str, method: str
    ) -> web.StreamResponse:
        name = method
        try:
            return await self._api_request_inner(request, token, method)
        except Exception as exc:  # a bug in the fake, or input it cannot cope with
            self.internal_errors.append(exc)
            entry = self._handlers.get(method.lower())
            name = entry[0] if entry else method
            return self._error_response(
                name, _ApiError(500, f"Internal Server Error (FakeBotAPI failure: {exc!r})")
            )

    async def _api_request_inner(
        self, request: web.Request, token: str, method: str
    ) -> web.StreamResponse:
        name = method
        try:
            self._check_token(token)
            entry = self._handlers.get(method.lower())
            if entry is None:
                raise _ApiError(404, "Not Found")
            name, handler = entry
            params = await self._read_params(request)
        except _ApiError as error:
            return self._error_response(name, error)
        self.requests.append(name)
        if self.latency > 0:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency)  # simulated network round trip, before anything is done
            finally:
                self.in_flight -= 1

        fault = self._pick_fault(name)
        if fault == "429":
            retry = max(1, int(self.faults.retry_after))
            self.fault_counts[fault] += 1
            return self._error_response(
                name,
                _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}),
            )
        if fault in ("500", "502"):
            self.fault_counts[fault] += 1
            description = "Internal Server Error" if fault == "500" else "Bad Gateway"
            return self._error_response(name, _ApiError(int(fault), description))
        if fault == "timeout":
            self._record_fault(name, fault, 0, "injected timeout: response held, then closed")
            return await self._hold_and_drop(request)
        if fault == "drop":
            self._record_fault(name, fault, 0, "injected drop: closed without a response")
            return self._drop(request)

        try:
            result = await handler(params)
        except _ApiError as error:
            if fault == "timeout_after_delivery":
                self._record_fault(
                    name, fault, 0, f"injected timeout after processing ({error.description})"
                )
                return await self._hold_and_drop(request)
            return self._error_response(name, error)
        finally:
            self._notify()
        if fault == "timeout_after_delivery":
            self._record_fault(name, fault, 0, "injected timeout after delivery: done, no response")
            return await self._hold_and_drop(request)
        return web.json_response({"ok": True, "result": result})

    # -- internals: validation helpers -----------------------------------------

    def _chat(self, params: _Params, name: str = "chat_id") -> FakeUser:
        value = params.raw(name)
        if value is None:
            raise _bad("chat_id is empty")
        try:
            chat_id = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            chat_id = None
        if chat_id is None or chat_id not in self.users:
            raise _bad("chat not found")
        return self.users[chat_id]

    @staticmethod
    def _check_not_blocked(user: FakeUser) -> None:
        if user.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_rate(self, chat_id: int) -> None:
        now = self.clock()
        if self.per_chat_interval > 0 and chat_id in self._last_send:
            left = self._last_send[chat_id] + self.per_chat_interval - now
            if left > 0:
                raise _too_many(left)
        if self.global_rate > 0:
            while self._send_times and self._send_times[0] <= now - 1.0:
                self._send_times.popleft()
            if len(self._send_times) + 1 > self.global_rate:
                raise _too_many(self._send_times[0] + 1.0 - now)

    def _accept_send(self, chat_id: int) -> None:
        now = self.clock()
        self._last_send[chat_id] = now
        self._send_times.append(now)

    @staticmethod
    def _formatted(
        params: _Params, field_name: str, limit: int, too_long: str, *, required: bool
    ) -> tuple[str, str, list[JSONDict], str | None]:
        """(raw, plain, entities, parse_mode) of a text or caption parameter."""
        raw = params.string(field_name) or ""
        parse_mode = params.string("parse_mode") or None
        if parse_mode is not None:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    plain, entities = parse_telegram_html(raw)
                except HtmlParseError as exc:
                    raise _bad(f"can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                raise _bad(
                    "can't parse entities: FakeBotAPI implements only parse_mode HTML, "
                    f"not {parse_mode}"
                )
            else:
                raise _bad("unsupported parse_mode")
        else:
            plain = raw
            entities_field = "caption_entities" if field_name == "caption" else "entities"
            given = params.json_value(entities_field, "can't parse entities JSON object")
            entities = given if isinstance(given, list) else []
        plain, entities = _finish_text(plain, entities)
        if required and not plain:
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad(too_long)
        return raw, plain, entities, parse_mode

    def _markup(self, params: _Params, *, inline_only: bool = False) -> JSONDict | None:
        markup: JSONDict | None = params.json_value(
            "reply_markup", "can't parse reply keyboard markup JSON object"
        )
        if markup is None:
            return None
        _validate_markup(markup)
        if inline_only and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup

    def _upload(self, params: _Params, field_name: str, kind: str) -> _StoredFile:
        upload = params.files.get(field_name)
        value = params.string(field_name)
        if upload is None and value and value.startswith("attach://"):
            upload = params.files.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file {value} not found in the request")
        if upload is not None:
            if not upload.data:
                raise _bad("file must be non-empty")
            if len(upload.data) > MAX_UPLOAD_SIZE:
                raise _ApiError(413, "Request Entity Too Large")
            if kind == "photo":
                if len(upload.data) > MAX_PHOTO_UPLOAD_SIZE:
                    raise _bad("file is too big")
                if not _looks_like_image(upload.data):
                    raise _bad("IMAGE_PROCESS_FAILED")
                return self._store_file(
                    "photo", upload.data, len(upload.data), None, "image/jpeg", register=False
                )
            file_name = upload.filename or "file"
            mime = (
                mimetypes.guess_type(file_name)[0]
                or upload.content_type
                or "application/octet-stream"
            )
            return self._store_file(
                "document", upload.data, len(upload.data), file_name, mime, register=False
            )
        if not value:
            raise _bad(f'Parameter "{field_name}" is required')
        stored = self._files.get(value)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad("type of file mismatch")
        if stored.size > MAX_UPLOAD_SIZE:
            raise _bad("file is too big")
        return stored

    def _edit_target(self, params: _Params) -> tuple[FakeUser, SentMessage]:
        if params.raw("inline_message_id") is not None:
            raise _bad("FakeBotAPI does not support inline messages")
        user = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._messages.get((user.id, message_id))
        if message is None or message.deleted:
            if (user.id, message_id) in self._incoming:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        if message.reply_markup is not None and "inline_keyboard" not in message.reply_markup:
            # "only possible to edit messages without reply_markup or with inline keyboards"
            raise _bad("message can't be edited")
        return user, message

    # -- method handlers -------------------------------------------------------

    async def _get_me(self, params: _Params) -> JSONDict:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.boolean("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _deliverable(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_updates
        kept: collections.deque[JSONDict] = collections.deque()
        for update in self._updates:
            kind = next(k for k in update if k != "update_id")
            if allowed is None:
                if kind in _UPDATE_TYPES_NOT_DEFAULT:
                    continue
            elif kind not in allowed:
                continue
            kept.append(update)
        self._updates = kept
        return list(kept)[:limit]

    async def _get_updates(self, params: _Params) -> list[JSONDict]:
        offset = params.integer("offset")
        limit = params.integer("limit")
        limit = 100 if limit is None else min(100, max(1, limit))
        timeout = params.number("timeout") or 0.0
        allowed = params.json_value("allowed_updates", "can't parse allowed_updates JSON array")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise _bad("allowed_updates must be an array of strings")
            self._allowed_updates = set(allowed) or None

        if self._poll is not None:
            self._poll.conflict = True
            self._poll.event.set()
            self._poll = None

        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        self._notify()

        updates = self._deliverable(limit)
        if updates or timeout <= 0 or self._stopping.is_set():
            return updates
        poll = _Poll(asyncio.Event())
        self._poll = poll
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(poll.event.wait(), remaining)
                except TimeoutError:
                    return []
                poll.event.clear()
                if poll.conflict:
                    raise _ApiError(409, _CONFLICT)
                if self._stopping.is_set():
                    return []
                updates = self._deliverable(limit)
                if updates:
                    return updates
        finally:
            if self._poll is poll:
                self._poll = None

    def _scope_key(self, params: _Params) -> tuple[str, str]:
        scope = params.json_value("scope", "can't parse BotCommandScope JSON object")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad("wrong bot command scope specified")
        kind = str(scope["type"])
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope.get("chat_id")
            if not isinstance(chat_id, int) or chat_id not in self.users:
                raise _bad("chat not found")
            kind = f"{kind}:{chat_id}"
            if scope["type"] == "chat_member":
                if not isinstance(scope.get("user_id"), int):
                    raise _bad("user not found")
                kind += f":{scope['user_id']}"
        language = params.string("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return kind, language

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json_value("commands", "can't parse commands JSON object")
        if commands is None:
            raise _bad('Parameter "commands" is required')
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= utf16_len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> list[JSONDict]:
        return list(self.commands.get(self._scope_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    def _new_message(
        self,
        user: FakeUser,
        method: str,
        raw: str,
        plain: str,
        entities: list[JSONDict],
        parse_mode: str | None,
        markup: JSONDict | None,
        stored: _StoredFile | None = None,
    ) -> JSONDict:
        self._check_not_blocked(user)
        self._check_rate(user.id)
        self._accept_send(user.id)
        message = SentMessage(
            chat_id=user.id,
            message_id=self._next_message_id(user.id),
            method=method,
            text=plain,
            raw_text=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            entities=entities,
            date=int(self.server_time()),
            sent_at=time.monotonic(),
        )
        if stored is not None:
            self._register_file(stored)
            message.file_id = stored.file_id
            message.file_name = stored.file_name
            message.file_bytes = stored.data
            message.mime_type = stored.mime_type
            if stored.kind == "photo":
                message.media = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": 800,
                        "height": 600,
                        "file_size": stored.size,
                    }
                ]
            else:
                message.media = self._document_json(stored)
        self.sent.append(message)
        self._by_chat.setdefault(user.id, []).append(message)
        self._messages[(user.id, message.message_id)] = message
        if self.on_sent is not None:
            self.on_sent(message)
        return self._message_json(message)

    async def _send_message(self, params: _Params) -> JSONDict:
        user = self._chat(params)
        if params.raw("text") is None:
            raise _bad("message text is empty")
        raw, plain, entities, mode = self._formatted(
            params, "text", MAX_TEXT_LENGTH, "message is too long", required=True
        )
        markup = self._markup(params)
        return self._new_message(user, "sendMessage", raw, plain, entities, mode, markup)

    async def _send_media(self, params: _Params, method: str, kind: str) -> JSONDict:
        user = self._chat(params)
        raw, plain, entities, mode = self._formatted(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long", required=False
        )
        markup = self._markup(params)
        stored = self._upload(params, kind, kind)
        return self._new_message(user, method, raw, plain, entities, mode, markup, stored)

    async def _send_photo(self, params: _Params) -> JSONDict:
        return await self._send_media(params, "sendPhoto", "photo")

    async def _send_document(self, params: _Params) -> JSONDict:
        return await self._send_media(params, "sendDocument", "document")

    def _apply_edit(
        self,
        user: FakeUser,
        message: SentMessage,
        new: tuple[str, str, list[JSONDict], str | None] | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        old_inline = _inline_markup(message.reply_markup)
        new_inline = _inline_markup(markup)
        same_content = new is None or (new[1] == message.text and new[2] == message.entities)
        if same_content and new_inline == old_inline:
            raise _bad(_NOT_MODIFIED[len("Bad Request: ") :])
        self._check_not_blocked(user)
        self._check_rate(user.id)
        self._accept_send(user.id)
        if new is not None:
            message.history.append(message.text)
            message.raw_text, message.text, message.entities, message.parse_mode = new
        if markup is not None or old_inline is not None:
            message.reply_markup = markup
        message.edits += 1
        message.edit_date = int(self.server_time())
        return self._message_json(message)

    async def _edit_message_text(self, params: _Params) -> JSONDict:
        user, message = self._edit_target(params)
        if message.method != "sendMessage":
            raise _bad("there is no text in the message to edit")
        if params.raw("text") is None:
            raise _bad("message text is empty")
        new = self._formatted(params, "text", MAX_TEXT_LENGTH, "message is too long", required=True)
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(user, message, new, markup)

    async def _edit_message_caption(self, params: _Params) -> JSONDict:
        user, message = self._edit_target(params)
        if message.method == "sendMessage":
            raise _bad("there is no caption in the message to edit")
        new = self._formatted(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long", required=False
        )
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(user, message, new, markup)

    async def _edit_message_reply_markup(self, params: _Params) -> JSONDict:
        user, message = self._edit_target(params)
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(user, message, None, markup)

    async def _delete_message(self, params: _Params) -> bool:
        user = self._chat(params)
        message_id = params.integer("message_id", required=True)
        assert message_id is not None
        message = self._messages.get((user.id, message_id))
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        if self._incoming.pop((user.id, message_id), None) is not None:
            return True
        raise _bad("message to delete not found")

    async def _send_chat_action(self, params: _Params) -> bool:
        user = self._chat(params)
        action = params.string("action")
        if not action:
            raise _bad('Parameter "action" is required')
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._check_not_blocked(user)
        self.chat_actions.append((user.id, action))
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.string("callback_query_id")
        if not query_id:
            raise _bad('Parameter "callback_query_id" is required')
        if query_id not in self._queries or query_id in self.callback_answers:
            raise _bad(_QUERY_TOO_OLD[len("Bad Request: ") :])
        text = params.string("text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        answer: JSONDict = {"text": text, "show_alert": params.boolean("show_alert")}
        for optional in ("url", "cache_time"):
            if params.raw(optional) is not None:
                answer[optional] = params.raw(optional)
        self.callback_answers[query_id] = [answer]
        return True

    async def _get_file(self, params: _Params) -> JSONDict:
        file_id = params.string("file_id")
        if not file_id:
            raise _bad('Parameter "file_id" is required')
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_GETFILE_SIZE:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }


# ---------------------------------------------------------------------------
# Module-level helpers
# ---------------------------------------------------------------------------


def _too_many(seconds_left: float) -> _ApiError:
    retry = max(1, math.ceil(seconds_left))
    return _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})


def _looks_like_image(data: bytes) -> bool:
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith((b"GIF87a", b"GIF89a"))
        or (data.startswith(b"RIFF") and data[8:12] == b"WEBP")
        or data.startswith(b"BM")
    )


def _inline_markup(markup: JSONDict | None) -> JSONDict | None:
    """The inline keyboard as Telegram returns it in a Message, or None."""
    if not markup or "inline_keyboard" not in markup:
        return None
    rows = []
    for row in markup["inline_keyboard"]:
        rows.append(
            [
                {k: button[k] for k in ("text", "callback_data", "url") if k in button}
                for button in row
            ]
        )
    return {"inline_keyboard": rows}


def _rows(markup: JSONDict, key: str) -> Iterable[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad(f"field \"{key}\" of the reply markup must be an Array of Arrays")
    return rows


def _validate_markup(markup: Any) -> None:
    """Validate a reply_markup object like the Bot API (strict subset)."""
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    kinds = [
        k for k in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply") if k in markup
    ]
    if len(kinds) != 1:
        raise _bad("can't parse reply keyboard markup JSON object")
    kind = kinds[0]
    if kind == "inline_keyboard":
        for row in _rows(markup, kind):
            for button in row:
                if not isinstance(button, dict):
                    raise _bad(
                        "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                    )
                text = button.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise _bad("BUTTON_TEXT_INVALID")
                actions = [k for k in button if k != "text"]
                if not actions:
                    raise _bad("text buttons are unallowed in the inline keyboard")
                if len(actions) != 1 or actions[0] not in ("callback_data", "url"):
                    raise _bad(
                        "can't parse inline keyboard button: exactly one of callback_data or url "
                        f"must be given (FakeBotAPI supports no other button kinds), got {actions}"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                else:
                    url = button["url"]
                    if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                        raise _bad("BUTTON_URL_INVALID")
    elif kind == "keyboard":
        rows = list(_rows(markup, kind))
        if not any(rows):
            raise _bad("keyboard must be non-empty")
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text.strip():
                    raise _bad("BUTTON_TEXT_INVALID")
                if isinstance(button, dict):
                    for flag in ("request_contact", "request_location"):
                        if flag in button and not isinstance(button[flag], bool):
                            raise _bad(
                                f'can\'t parse keyboard button: field "{flag}" must be a Boolean'
                            )
        placeholder = markup.get("input_field_placeholder")
        if placeholder is not None and (not isinstance(placeholder, str) or len(placeholder) > 64):
            raise _bad("input_field_placeholder must be at most 64 characters")
        for flag in ("resize_keyboard", "one_time_keyboard", "is_persistent", "selective"):
            if flag in markup and not isinstance(markup[flag], bool):
                raise _bad(f'can\'t parse reply keyboard markup: field "{flag}" must be a Boolean')
    elif markup[kind] is not True:
        raise _bad(f"can't parse reply keyboard markup: field \"{kind}\" must be true")
