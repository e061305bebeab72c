"""The Telegram channel: all python-telegram-bot code lives here.

Receiving is **inbox first**: each batch from getUpdates is committed to the inbox
before the next getUpdates confirms it (Telegram forgets updates below the offset it
is sent). Stock polling confirms before handlers run and loses the backlog on a crash,
so PTB's Application and Updater are not used; its Bot does the HTTP. A 409 (another
instance polling), 429, 5xx or a dropped connection never stops the loop: it waits and
polls again.

Sending renders a Reply as HTML with every piece of user text escaped, splits text
over Telegram's 4096-character limit at line breaks (buttons go with the last part;
both in telegram_text.py), and maps Telegram's errors onto the delivery errors the
dispatcher understands.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import replace
from functools import partial
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

os.environ.setdefault("PTB_TIMEDELTA", "true")  # PTB's documented opt-in: durations as timedelta

from telegram import (  # noqa: E402
    Bot,
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.request import BaseRequest  # noqa: E402
from telegram.constants import MessageEntityType, ParseMode  # noqa: E402
from telegram.error import (  # noqa: E402
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.base import (  # noqa: E402
    MaybeDelivered, Progress, RateLimited, Rejected, TemporaryFailure, Unreachable, fetch_attachments)
from bot.channels.telegram_http import AiohttpRequest  # noqa: E402
from bot.channels.telegram_text import render_html, split_text, utf16_len, utf16_prefix  # noqa: E402
from bot.config import TelegramConfig  # noqa: E402
from bot.files import FileStore  # noqa: E402
from bot.health import StoreUnavailable  # noqa: E402
from bot.i18n import SUPPORTED, Translator  # noqa: E402
from bot.messages import Attachment, Contact, Incoming, OutFile, Reply, SendResult  # noqa: E402
from bot.waiting import wait_a_while  # noqa: E402
from handlers.routes import MENU_COMMANDS  # noqa: E402
from storage import inbox  # noqa: E402

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

NAME = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
_UTC = ZoneInfo("UTC")  # command descriptions hold no dates


class _Bot(Bot):
    """PTB's Bot, with one more call: a Bot API method by name, its answer as Telegram's JSON.

    The same request, defaults and error mapping as `send_message` & co. (both go through `_post`),
    without parsing every answer into objects of which the bot keeps one id; on the hot paths (each
    answer sent, each getUpdates) that parsing cost as much as the bot's own handling of an update.
    PTB's public `do_api_request` does the same but warns when the method has a typed twin."""

    async def call(self, method: str, params: dict[str, Any], *, read_timeout: float | None = None) -> Any:
        return await self._post(method, params,
                                read_timeout=BaseRequest.DEFAULT_NONE if read_timeout is None else read_timeout)


CAPTION_LIMIT = 1024  # a file's caption, in UTF-16 units (Telegram counts them after parsing; the HTML is longer)


class TelegramChannel:
    name = NAME

    def __init__(self, config: TelegramConfig, files: FileStore, max_file_mb: int) -> None:
        self.config = config
        self.files = files
        self.max_file_bytes = max_file_mb * 1024 * 1024
        timeout = config.request_timeout
        self.sender = AiohttpRequest(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout,
                                     pool_timeout=timeout)
        self.bot = _Bot(
            config.token,
            base_url=config.base_url,
            base_file_url=config.base_file_url,
            request=self.sender,
            # getUpdates gets its own connection; PTB adds the long-poll timeout to its read timeout.
            get_updates_request=AiohttpRequest(1, read_timeout=timeout, connect_timeout=timeout),
        )
        self.username = config.bot_username
        self.polls = 0
        self.backoff_start = 1.0  # seconds before polling again after a failure, doubling up to 30

    async def start(self) -> None:
        await self.bot.initialize()  # getMe: fails at once on a wrong token
        self.username = self.bot.username
        await self._set_commands()

    async def try_start(self, stop: asyncio.Event | None = None) -> bool:
        """Start; False, after one line saying why, only if Telegram refuses the token (never shown).

        Anything passing — the Bot API unreachable, a 5xx, a timeout, a dropped connection, a 429 —
        is logged and tried again with back-off (1 s doubling to 30 s; a 429's own wait), until it
        works or `stop` is set, so a network hiccup at start-up never leaves the bot stopped."""
        delay = self.backoff_start
        while True:
            try:
                await self.start()
                return True
            except InvalidToken:
                log.error("telegram.token: Telegram refused the token (revoked or mistyped?)")
                return False
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("start-up: Telegram asks to wait %.0fs (429); waiting", wait)
            except NetworkError as exc:  # TimedOut and the 5xx answers are NetworkErrors too
                wait = delay
                log.warning("start-up: the Bot API cannot be reached (%s; check telegram.base_url if this"
                            " persists); retrying in %.0fs", type(exc).__name__, wait)
                delay = min(delay * 2, 30.0)
            if stop is None:
                await asyncio.sleep(wait)
            elif await wait_a_while(stop, wait):
                return False  # asked to stop while waiting

    async def stop(self) -> None:
        await self.bot.shutdown()  # safe also when start() failed half-way

    async def _set_commands(self) -> None:
        for locale in SUPPORTED:
            _ = Translator(locale, _UTC)
            commands = [BotCommand(name, _(description)) for name, description in MENU_COMMANDS]
            language = "zh" if locale == "zh_Hans" else "en"
            await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=language)
        # Users whose app speaks neither language get the default: Simplified Chinese.
        _ = Translator("zh_Hans", _UTC)
        await self.bot.set_my_commands([BotCommand(n, _(d)) for n, d in MENU_COMMANDS])

    # -- receiving ------------------------------------------------------------------------

    async def receive(self, app: App) -> None:
        async with app.db.snapshot() as q:
            last = await inbox.last_external_id(q, NAME)
        offset = int(last) + 1 if last is not None else None
        delay = self.backoff_start
        full = app.health.backoff()
        while True:
            try:
                updates = await self._get_updates(offset)
            except InvalidToken:
                raise
            except Conflict:
                log.error("getUpdates: 409 conflict: another instance is polling with this token; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except (TimedOut, NetworkError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = self.backoff_start
            self.polls += 1
            if not updates:
                continue
            items = [(str(u["update_id"]), _chat_key(u), json.dumps(u, ensure_ascii=False)) for u in updates]
            try:
                added = await app.store(NAME, items)  # committed: only now may the next call confirm them
            except StoreUnavailable:  # a full disk (bot/health.py): not confirmed; Telegram keeps them
                await full.wait()
                continue
            full.reset()
            last_id = int(updates[-1]["update_id"])
            log.info("stored %d updates (%d new), up to %d", len(items), added, last_id)
            offset = last_id + 1

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """getUpdates, its updates as Telegram sent them: they are stored as they are and parsed once,
        when handled (`prepare`); PTB's get_updates would parse each into objects only to be written
        back out. The read timeout is the long poll's plus the configured one, as PTB reckons it."""
        poll = self.config.poll_timeout
        try:
            result = await self.bot.call(
                "getUpdates", {"offset": offset, "timeout": poll, "allowed_updates": ALLOWED_UPDATES},
                read_timeout=self.config.request_timeout + poll)
        except (KeyError, TypeError, ValueError) as exc:  # an answer PTB could not read (no "result"...)
            raise NetworkError(f"getUpdates: an answer that could not be read ({type(exc).__name__})") from exc
        if not isinstance(result, list):
            raise NetworkError("getUpdates answered something that is not a list of updates")
        updates = [u for u in result if isinstance(u, dict) and type(u.get("update_id")) is int]
        if len(updates) < len(result):  # Telegram never sends these; a broken proxy might
            if not updates:
                raise NetworkError(f"getUpdates: none of {len(result)} entries is an update")
            log.warning("getUpdates: %d of %d entries are not updates; skipped", len(result) - len(updates),
                        len(result))
        return updates

    async def prepare(self, payload: str) -> Incoming | None:
        update = Update.de_json(json.loads(payload), self.bot)
        if update is None:
            return None
        return to_incoming(update)  # what was sent: its files are fetched only for a bound sender (`fetch`)

    async def fetch(self, inc: Incoming) -> Incoming:
        return await fetch_attachments(inc, self._download)

    async def _download(self, item: Attachment) -> Attachment:
        if item.size is not None and item.size > self.max_file_bytes:
            return _with(item, error="too_large")
        for attempt in range(3):
            try:
                file = await self.bot.get_file(item.file_ref)
                data = bytes(await file.download_as_bytearray())
            except BadRequest as exc:
                too_big = "too big" in exc.message.lower()
                log.warning("file download refused: %s", exc.message)
                return _with(item, error="too_large" if too_big else "download_failed")
            except (TimedOut, NetworkError) as exc:
                log.warning("file download failed (%s), attempt %d", type(exc).__name__, attempt + 1)
                await asyncio.sleep(0.5 * 2 ** attempt)
                continue
            if len(data) > self.max_file_bytes:
                return _with(item, error="too_large")
            digest, path = self.files.put(data)
            return _with(item, sha256=digest, stored_path=path, size=len(data))
        return _with(item, error="download_failed")

    # -- sending --------------------------------------------------------------------------

    def cost(self, chat_id: str, op: str, payload: dict[str, Any]) -> int:
        """How many messages an item becomes: the dispatcher counts each in the global rate and sends them a
        chat's interval apart (Telegram: about one message a second to a chat, 30 a second in all)."""
        if op != "message":
            return 0  # a button's answer is not a message
        reply = Reply.from_json(payload)
        if reply.edit_message_id is not None:
            return 1
        html = render_html(reply)
        return 1 if _captioned(reply, html) else len(split_text(html)) + len(reply.files)

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        try:
            if op == "answer":
                await self.bot.call("answerCallbackQuery", {
                    "callback_query_id": payload["callback_id"],
                    "text": utf16_prefix(str(payload["text"]), 200) or None,  # 0-200 characters, as Telegram counts
                    "show_alert": bool(payload.get("alert"))})
                return SendResult()
            return await self._send_reply(int(chat_id), Reply.from_json(payload), progress)
        except RetryAfter as exc:
            raise RateLimited(_seconds(exc.retry_after)) from exc
        except TimedOut as exc:
            raise MaybeDelivered(type(exc).__name__) from exc
        except Forbidden as exc:
            raise Unreachable(exc.message) from exc
        except BadRequest as exc:
            reason = exc.message.lower()  # PTB rewrites Telegram's text: "Bad Request: m..." -> "M..."
            if "message is not modified" in reason:
                return SendResult()  # the edit was made already
            if "chat not found" in reason:
                raise Unreachable(exc.message) from exc
            raise Rejected(exc.message) from exc
        except InvalidToken as exc:
            raise TemporaryFailure("invalid token") from exc
        except NetworkError as exc:  # 5xx, refused or dropped connections
            raise TemporaryFailure(f"{type(exc).__name__}: {exc.message}") from exc
        except TelegramError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc.message}") from exc

    # The frequent calls go through `_Bot.call`, Telegram's answer unparsed: only the message id is kept.
    async def _send_reply(self, chat_id: int, reply: Reply, progress: Progress | None = None) -> SendResult:
        if reply.edit_message_id is not None:
            await self.bot.call("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": int(reply.edit_message_id)})
            return SendResult()
        markup = _markup(reply)
        html = render_html(reply)
        if _captioned(reply, html):
            # one file with its words and buttons is one message (a notice with its paper): were the words sent
            # apart, a 429 on the file would have the whole reply, words and all, sent again
            item = reply.files[0]
            message = await self._send_file(chat_id, Path(item.path), item.name, item.kind, caption=html, markup=markup)
            return SendResult([str(message.message_id)])
        texts = split_text(html)

        async def text(index: int) -> str:
            sent = await self.bot.call("sendMessage", {
                "chat_id": chat_id, "text": texts[index], "parse_mode": ParseMode.HTML,
                "reply_markup": markup if index == len(texts) - 1 else None})
            if not isinstance(sent, dict) or "message_id" not in sent:  # accepted, but not as documented
                raise MaybeDelivered("sendMessage answered without a message")
            return str(sent["message_id"])

        async def file(item: OutFile) -> str:
            return str((await self._send_file(chat_id, Path(item.path), item.name, item.kind)).message_id)

        return await (progress or Progress()).send([*(partial(text, i) for i in range(len(texts))),
                                    *(partial(file, item) for item in reply.files)])

    async def _send_file(self, chat_id: int, path: Path, name: str, kind: str, caption: str | None = None,
                         markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
                         ) -> Message:
        with path.open("rb") as handle:
            upload = InputFile(handle, filename=name)
            mode = ParseMode.HTML if caption else None
            if kind == "photo":
                return await self.bot.send_photo(chat_id, upload, caption=caption, parse_mode=mode, reply_markup=markup)
            return await self.bot.send_document(chat_id, upload, caption=caption, parse_mode=mode, reply_markup=markup)


def _captioned(reply: Reply, html: str) -> bool:
    """Whether a reply goes as its one file with the words as its caption (measured as Telegram measures)."""
    return len(reply.files) == 1 and 0 < utf16_len(html) <= CAPTION_LIMIT


def _markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if reply.request_contact:
        button = KeyboardButton(reply.request_contact, request_contact=True)
        return ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons]
        )
    return None


def to_incoming(update: Update) -> Incoming | None:
    """Turn a Telegram update into an Incoming; None for what the bot does not handle (groups, edits...)."""
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        return Incoming(
            channel=NAME, user_id=str(query.from_user.id), chat_id=str(chat_id), action=query.data or "",
            callback_id=query.id, message_id=str(message.message_id) if message is not None else None,
            language_code=query.from_user.language_code, display_name=query.from_user.first_name,
        )
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return None
    user = message.from_user
    text = message.text or message.caption or ""
    command, args = None, ""
    entities = message.entities or ()
    if message.text and entities and entities[0].type == MessageEntityType.BOT_COMMAND and entities[0].offset == 0:
        word = text[1:entities[0].length]
        command, args = word.split("@")[0], text[entities[0].length:].strip()
    attachments: list[Attachment] = []
    if message.photo:
        largest = message.photo[-1]
        attachments.append(Attachment("photo", largest.file_id, f"photo-{largest.file_unique_id}.jpg",
                                      largest.file_size, "image/jpeg"))
    if message.document is not None:
        doc = message.document
        attachments.append(Attachment("document", doc.file_id, doc.file_name or "document", doc.file_size,
                                      doc.mime_type))
    contact = None
    if message.contact is not None:
        owner = message.contact.user_id
        contact = Contact(message.contact.phone_number, str(owner) if owner is not None else None)
    return Incoming(
        channel=NAME, user_id=str(user.id), chat_id=str(message.chat.id), text=text, command=command, args=args,
        attachments=tuple(attachments), contact=contact, language_code=user.language_code,
        display_name=user.first_name, message_id=str(message.message_id),
    )


def _chat_key(update: dict[str, Any]) -> str:
    """The chat an update (as Telegram sent it) belongs to, which orders its handling; as PTB's
    `effective_chat`: a message's chat, or a button's message's chat, else the update's own key."""
    for name, value in update.items():
        if name == "update_id" or not isinstance(value, dict):
            continue
        message = value.get("message")
        chat = value.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        if isinstance(chat, dict) and "id" in chat:
            return f"{NAME}:{chat['id']}"
    return f"{NAME}:update-{update['update_id']}"


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _with(item: Attachment, **changes: Any) -> Attachment:
    return replace(item, **changes)
