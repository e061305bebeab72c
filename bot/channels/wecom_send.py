"""WeCom, sending: what an outbox item becomes (text split at 2 048 bytes, a button card or a numbered list,
pictures and files through media/upload, 90236/90253), a press answered on its card (94888), and what an
errcode means for the outbox (90313). The channel (bot/channels/wecom.py) receives, owns the API client and
hands its sends here."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.channels.base import (
    DeliveryError,
    Part,
    Progress,
    RateLimited,
    Rejected,
    TemporaryFailure,
    Unreachable,
)
from bot.channels.wecom_api import TOKEN_ERRORS, WeComAPI, WeComError
from bot.channels.wecom_text import numbered, split_bytes
from bot.i18n import Translator
from bot.messages import Button, OutFile, Reply, SendResult
from bot.text import clip
from bot.ports import Tx
from storage import outbox, people
from storage import wecom as store

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.channels.wecom")
_CHANNEL = "wecom"  # bot/channels/wecom.py NAME: the outbox's name of the channel this module sends for

# 90236 发送应用消息, 模板卡片消息 按钮交互型: button_list "列表长度不超过6"; button text "建议不超过10个字";
# main_title.title "建议不超过26个字"; sub_title_text "建议不超过112个字"; task_id "最长128字节", of digits,
# letters and "_-@", unique within the app. A choice that does not fit goes out as a numbered list.
CARD_BUTTONS = 6
BUTTON_TEXT_CHARS = 10
CARD_TITLE_CHARS = 26
CARD_TEXT_CHARS = 112
# 90253 上传临时素材: every file more than 5 bytes; image 10 MB (JPG, PNG); file 20 MB; media_id valid 3 days.
MIN_FILE_BYTES = 6
IMAGE_MAX_BYTES = 10 * 1024 * 1024
FILE_MAX_BYTES = 20 * 1024 * 1024
MEDIA_REUSE = timedelta(days=3) - timedelta(hours=1)  # a margin: never send a media_id about to lapse
# 90313 全局错误码, the ones that decide what the outbox does.
BUSY = frozenset({-1})
RATE_LIMITED = frozenset({45009, 45033, 45011})  # api freq / concurrency out of limit
NOT_REACHABLE = frozenset({81013, 60111, 40003, 46004})  # left the corp, outside the visible range, no such user
MISCONFIGURED = frozenset({40001, 40013, 40056, 48002, 60011})  # secret, corpid, agentid, no permission
IP_NOT_TRUSTED = 60020
MEDIA_EXPIRED = 40007
RESPONSE_CODE_VALID = timedelta(hours=24)  # 94888 says 72 h; older pages and WxJava 24 h: assume the shorter
TASK_PREFIX = "lb"  # of a card's task_id, which is its id in the outbox too: told apart from WeCom's msgids


@dataclass(frozen=True)
class Viewer:
    """How to show a message to a member: their presentation and language."""

    mode: str  # "cards" | "text"
    _: Translator


class WeComSender:
    def __init__(self, app: App, api: WeComAPI) -> None:
        self.app = app
        self.config = app.config.wecom
        self.db = app.db
        self.clock = app.clock
        self.files = app.files
        self.api = api
        self.alerts = 0
        self._translators: dict[str, Translator] = {}
        self._modes: dict[str, str] = {}  # each member's presentation as last sent
        self._looked_up: dict[str, Viewer] = {}  # read with the outbox's claim, for the send that follows it

    def cost(self, chat_id: str, op: str, payload: dict[str, Any]) -> int:
        """How many WeCom messages an outbox item becomes — what the member's limits count — as the member's
        presentation (as last seen; unknown: the larger of the two) will send it. A press's answer is one when it
        carries an alert (a text message: WeCom has no pop-up), else none (the card's update is not a message)."""
        if op == "answer":
            return 1 if payload.get("alert") and payload.get("text") else 0
        if op != "message":
            return 0
        reply = Reply.from_json(payload)
        buttons = [b for row in reply.buttons for b in row]
        body = "\n".join(filter(None, (reply.title, reply.text)))
        listed = numbered(body, buttons, self._translator(None)) + " " * 80 if buttons else body
        as_text = len(split_bytes(listed)) if listed.strip() else 0
        mode = self._modes.get(chat_id)
        carded = _card_form(reply, buttons)
        if carded is not None and mode != "text":
            on_card = carded[0]
            short = _short(on_card)
            words = "\n".join(filter(None, (on_card.title, on_card.text)))
            as_card = (0 if short or not words.strip() else len(split_bytes(words))) + 1
            count = as_card if mode == "cards" else max(as_card, as_text)
        else:
            count = as_text
        return count + len(reply.files)

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        try:
            if op == "answer":
                return await self._answer(chat_id, payload, progress)
            reply = Reply.from_json(payload)
            if reply.edit_message_id is not None:
                return SendResult()  # a card's buttons are replaced when pressed (the answer); nothing else to do
            return await self._send_reply(chat_id, reply, progress)
        except WeComError as exc:
            raise await self._classify(exc) from exc

    async def _send_reply(self, chat_id: str, reply: Reply, progress: Progress | None = None) -> SendResult:
        viewer = await self._viewer(chat_id)
        _ = viewer._
        buttons = [b for row in reply.buttons for b in row]
        body = "\n".join(filter(None, (reply.title, reply.text)))
        # A typed number answers this list from the moment the outbox claimed the message, before it goes
        # (outbox.last_buttons): a number never presses a choice of the list before it (that acted on the
        # wrong matter), whether the choices are shown as a card or as numbered text.
        parts: list[Part] = []
        carded = _card_form(reply, buttons) if viewer.mode == "cards" else None
        if carded is not None:
            on_card, shown = carded
            short = _short(on_card)
            words = "\n".join(filter(None, (on_card.title, on_card.text)))
            if not short and words.strip():
                parts += [partial(self._send_text, chat_id, part) for part in split_bytes(words)]
            parts.append(partial(self._send_card, chat_id, on_card, shown, _, short))
        else:
            text = numbered(body, buttons, _) if buttons else body  # a phone is typed (its
            # request_contact control does not exist here: the core asks for it in words, ChannelTraits.contact_button)
            # a file alone: no empty text (44004)
            parts += [partial(self._send_text, chat_id, part) for part in (split_bytes(text) if text.strip() else [])]
        parts += [partial(self._send_file, chat_id, item) for item in reply.files]
        return await (progress or Progress()).send(parts)

    async def _send(self, chat_id: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        answer = await self.api.call("POST", "/cgi-bin/message/send", body={
            "touser": chat_id, "msgtype": msgtype, "agentid": self.config.agent_id, msgtype: content})
        invalid = str(answer.get("invaliduser") or "").lower().split("|")
        if chat_id.lower() in invalid:  # accepted, but not for this member (left, or outside the visible range)
            raise Unreachable("invaliduser: the member left the corp or is outside the app's visible range")
        if chat_id.lower() in str(answer.get("unlicenseduser") or "").lower().split("|"):
            # accepted, but the member has no interface licence (基础账号; 90236's answer, 95652 for when it applies)
            raise Unreachable("unlicenseduser: the member has no WeCom interface licence for this app")
        return answer

    async def _send_text(self, chat_id: str, text: str) -> str:
        return str((await self._send(chat_id, "text", {"content": text})).get("msgid", ""))

    async def _send_card(self, chat_id: str, reply: Reply, buttons: list[Button], _: Translator,
                         short: bool) -> str:
        task_id = TASK_PREFIX + secrets.token_hex(16)  # unique within the app, as 90236 requires
        keyed = [(f"b{index}", b.label, b.data) for index, b in enumerate(buttons, 1)]
        async with self.db.transaction() as tx:  # stored first: a press may come back at once
            await store.add_card(tx, task_id, chat_id, keyed, self.clock.now())
        title, text = _card_words(reply, short, len(buttons), _)
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": {"title": title},  # required for this card type (90236)
            "task_id": task_id,
            "button_list": [{"text": label, "style": 1, "key": key} for key, label, _data in keyed],
        }
        if text:
            card["sub_title_text"] = text
        await self._send(chat_id, "template_card", card)
        return task_id  # the card's id here, as its press names it: a typed number finds whether it was pressed

    async def _send_file(self, chat_id: str, item: OutFile) -> str:
        data = Path(item.path).read_bytes()
        if not MIN_FILE_BYTES <= len(data) <= FILE_MAX_BYTES:
            raise Rejected(f"a file of {len(data)} bytes: WeCom takes {MIN_FILE_BYTES} bytes to 20 MB (90253)")
        kind = "image" if item.kind == "photo" and _is_jpg_or_png(data) and len(data) <= IMAGE_MAX_BYTES else "file"
        for attempt in (1, 2):
            media_id = await self._media(data, item.name, kind)
            try:
                answer = await self._send(chat_id, kind, {"media_id": media_id})
            except WeComError as exc:
                if exc.errcode != MEDIA_EXPIRED or attempt == 2:
                    raise
                async with self.db.transaction() as tx:  # lapsed early: upload again, once
                    await store.forget_media(tx, media_id)
                continue
            return str(answer.get("msgid", ""))
        raise AssertionError("unreachable")

    async def _media(self, data: bytes, name: str, kind: str) -> str:
        """The media_id of these bytes under this name: uploaded once, reused while valid (90253: 3 days)."""
        digest = hashlib.sha256(data).hexdigest()
        shown = _file_name(name)
        now = self.clock.now()
        async with self.db.snapshot() as q:
            known = await store.media(q, digest, shown, kind, now - MEDIA_REUSE)
        if known is not None:
            return known
        import aiohttp  # the form is the API client's business, but its file name is ours

        # 90253: the part named "media" carries filename, filelength and content-type. WeCom shows the name from a
        # plain filename="…" in raw UTF-8 (aiohttp would percent-encode it unless told not to quote).
        form = aiohttp.MultipartWriter("form-data")
        part = form.append(data, {"Content-Type": "application/octet-stream"})
        part.set_content_disposition("form-data", quote_fields=False, name="media", filename=shown,
                                     filelength=str(len(data)))
        answer = await self.api.call("POST", "/cgi-bin/media/upload", {"type": kind}, form=form, idempotent=True)
        media_id = str(answer.get("media_id") or "")
        if not media_id:
            raise TemporaryFailure("media/upload answered without a media_id")
        async with self.db.transaction() as tx:
            await store.save_media(tx, digest, shown, kind, media_id, now)
        return media_id

    async def _answer(self, chat_id: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        """A press answered: the card's buttons are replaced by what was chosen (update_template_card, with the
        press's single-use response code), and a refusal, which WeCom cannot show in a pop-up, comes as text
        first. The two go through `progress`: should the card's update fail, its retry does not say the text
        again."""
        viewer = await self._viewer(chat_id)  # read with the claim (look_up): taken now, used or not
        alert, text = bool(payload.get("alert")), str(payload.get("text") or "")
        parts: list[Part] = [partial(self._send_text, chat_id, text)] if alert and text else []
        if not payload.get("unchanged"):  # the press did nothing: the card stays as it was, to be pressed again
            parts.append(partial(self._update_card, chat_id, str(payload.get("callback_id") or ""), alert, viewer))
        sent = await (progress or Progress()).send(parts)
        return SendResult([message_id for message_id in sent.message_ids if message_id])

    async def _update_card(self, chat_id: str, callback_id: str, alert: bool, viewer: Viewer) -> str:
        """The pressed card shows what was chosen, or "无效" for a refused press; "" (it is not a message)."""
        # task_id:response_code:key:time (bot/channels/wecom.py _event): the task id, the key and the time are the
        # bot's or digits; the response code, WeCom's, is what lies between, whatever it holds
        task_id, _colon, rest = callback_id.partition(":")
        response_code, key, pressed = (rest.rsplit(":", 2) if rest.count(":") >= 2 else [rest, "", ""])
        async with self.db.snapshot() as q:
            card = await store.card(q, task_id) if task_id else None
        if card is None or card.userid != chat_id or not response_code or card.chosen_at is not None:
            return ""
        if pressed.isdigit() and self.clock.now().timestamp() - int(pressed) > RESPONSE_CODE_VALID.total_seconds():
            return ""  # answered too late (the bot was down): the code has lapsed
        found = card.button(key)
        replace = viewer._("Not valid") if alert or found is None else found[0]
        await self.api.call("POST", "/cgi-bin/message/update_template_card", body={
            "userids": [chat_id], "agentid": self.config.agent_id, "response_code": response_code,
            "button": {"replace_name": replace}})
        async with self.db.transaction() as tx:
            await store.mark_chosen(tx, task_id, self.clock.now())
        return ""

    async def look_up(self, q: Tx, chat_ids: list[str]) -> None:
        """Read, with the outbox's claim (one query for every member whose message starts now), how each of
        them is shown their messages: the send that follows uses it instead of a read of its own."""
        if len(self._looked_up) > 10_000:  # claimed but never delivered (a channel stopped): forget them
            self._looked_up.clear()
        found = await store.presentations(q, chat_ids)
        for chat_id in chat_ids:
            self._looked_up[chat_id] = self._viewer_of(chat_id, found.get(chat_id))

    async def _viewer(self, chat_id: str) -> Viewer:
        viewer = self._looked_up.pop(chat_id, None)
        if viewer is not None:
            return viewer
        async with self.db.snapshot() as q:
            found = await store.presentation(q, chat_id)
        return self._viewer_of(chat_id, found)

    def _viewer_of(self, chat_id: str, found: tuple[str | None, bool, str | None] | None) -> Viewer:
        if found is None:  # not bound (yet): as a representative would see it
            viewer = Viewer(self.config.representatives, self._translator(None))
        else:
            chosen, representative, locale = found
            viewer = Viewer(chosen or (self.config.representatives if representative else self.config.staff),
                            self._translator(locale))
        self._modes[chat_id] = viewer.mode  # for `cost`, which cannot ask the database
        return viewer

    def _translator(self, locale: str | None) -> Translator:
        key = locale or self.app.config.default_locale
        if key not in self._translators:
            self._translators[key] = Translator(key, self.app.config.unit.tz)
        return self._translators[key]

    # -- errors ---------------------------------------------------------------------------

    async def _classify(self, exc: WeComError) -> DeliveryError:
        """What an errcode means for the outbox (90313 全局错误码)."""
        code = exc.errcode
        if code in BUSY:
            return TemporaryFailure(f"errcode {code}: busy")
        if code in RATE_LIMITED:
            return RateLimited(60.0)
        if code in NOT_REACHABLE:
            return Unreachable(f"errcode {code}: not a member the app can reach (left, or outside its visible range)")
        if code in TOKEN_ERRORS:
            return TemporaryFailure(f"errcode {code}: the access token was refused twice")
        if code == IP_NOT_TRUSTED or code in MISCONFIGURED:
            await self.report(exc)
            return TemporaryFailure(f"errcode {code}: configuration (see the log)")
        return Rejected(f"errcode {code}")

    async def report(self, exc: WeComError) -> None:
        """Tell the operator (log) and the administrators (a message, once an hour) what to do about an error
        only they can fix: above all 60020, this server's IP not among the app's trusted IPs."""
        ip = _ip_in(exc.errmsg)
        if exc.errcode == IP_NOT_TRUSTED:
            log.error("wecom: errcode 60020: WeCom refuses requests from this server's IP address %s. In the WeCom "
                      "admin console open 应用管理 → the app → 企业可信IP and add it; messages wait in the outbox "
                      "until then.", ip or "(not given)")
            make = _ip_alert(ip)
        elif exc.errcode in MISCONFIGURED:
            log.error("wecom: errcode %d on %s: check wecom.corp_id, wecom.agent_id, LIAISON_WECOM_SECRET and the "
                      "app's API permissions", exc.errcode, exc.path)
            return
        else:
            return
        self.alerts += 1
        now = self.clock.now()
        hour = now.strftime("%Y%m%d%H")
        async with self.db.transaction() as tx:
            for person_id in await people.administrators(tx):
                person = await people.get(tx, person_id)
                chats = [c for c in await people.chats_of(tx, person_id) if c[0] in self.app.channels]
                # WeCom refuses this server: an administrator bound elsewhere too is told there, where it arrives
                chats = [c for c in chats if c[0] != _CHANNEL] + [c for c in chats if c[0] == _CHANNEL]
                if person is None or not chats:
                    continue
                _ = Translator(person.locale or self.app.config.default_locale, self.app.config.unit.tz)
                await outbox.enqueue(tx, channel=chats[0][0], chat_id=chats[0][1], op="message",
                                     payload=Reply(make(_)).to_json(), policy="retry", now=now,
                                     person_id=person_id, dedup_key=f"wecom-{exc.errcode}:{hour}:{person_id}")
        self.app.dispatcher.wake()


def _card_words(reply: Reply, short: bool, choices: int, _: Translator) -> tuple[str, str]:
    """A card's title and text. Its own title where it has one; else the text's first line when it fits ("请选择
    LS-2026-0001 的承办部门：" under "请选择：" said it twice; and the title is what WeCom's chat list previews); else
    "请选择：" over the text when it asks for a choice, or the first line cut short when its one button only goes on
    (a notice's 查看事项, a prompt's 取消: "请选择：" over those asked nothing). A reply too long for a card (not
    `short`) went as text before it, and the card only carries the buttons under its title."""
    if short and reply.title:
        return reply.title, reply.text
    first, _newline, rest = reply.text.strip().partition("\n")
    first = first.strip()
    if first and len(first) <= CARD_TITLE_CHARS:
        return first, rest.strip() if short else ""
    if choices > 1 or not first:
        return _("Please choose:"), reply.text if short else ""
    return clip(first, CARD_TITLE_CHARS), reply.text if short else ""


def _card_form(reply: Reply, buttons: list[Button]) -> tuple[Reply, list[Button]] | None:
    """How a reply's choices go on a button card: as they are when every label fits a button (90236: 10
    characters); when one does not (a matter's number, an event's title), the card's words list the choices
    numbered, and each button shows its number. None when they cannot go on a card: more choices than a card
    holds (a numbered text list instead), none at all, or a phone to be shared (asked for in words)."""
    if not buttons or len(buttons) > CARD_BUTTONS or reply.request_contact:
        return None
    if all(0 < len(b.label) <= BUTTON_TEXT_CHARS for b in buttons):
        return reply, buttons
    if any(b.typed for b in buttons):  # its number is what a typed number picks: never a button with a typed form
        return None
    listed = "\n".join(f"{index}. {b.label}" for index, b in enumerate(buttons, 1))
    text = f"{reply.text}\n\n{listed}" if reply.text.strip() else listed
    return replace(reply, text=text), [replace(b, label=str(index)) for index, b in enumerate(buttons, 1)]


def _short(reply: Reply) -> bool:
    """Whether a reply's words fit on its card (90236: a title of 26 characters, a text of 112), not as a text first."""
    return len(reply.title or "") <= CARD_TITLE_CHARS and len(reply.text) <= CARD_TEXT_CHARS


def _is_jpg_or_png(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")


def _file_name(name: str) -> str:
    """A name WeCom shows as it is: no path separators, colons, quotes or control characters."""
    cleaned = re.sub(r'[\x00-\x1f\x7f/\\:"]', "_", name).strip() or "file"
    return cleaned[:120]


def _ip_in(errmsg: str) -> str | None:
    found = re.search(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b", errmsg)
    return found.group(1) if found else None


def _ip_alert(ip: str | None) -> Any:
    def make(_: Translator) -> str:
        return _("WeCom refuses the bot's requests: this server's address {ip} is not among the app's trusted "
                 "addresses. In the WeCom admin console, open {apps}, then this app, then {setting}, add the "
                 "address and save. Messages wait meanwhile, and go out once it is added.",
                 ip=ip or "?", apps="应用管理", setting="企业可信IP")
    return make
