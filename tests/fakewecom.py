"""A strict fake of the WeCom (企业微信 / 政务微信) server API and of WeCom members, for tests.

:class:`FakeWeCom` is an aiohttp web server on ``127.0.0.1`` (any free port) that answers
the paths a self-built app calls — ``/cgi-bin/gettoken``, ``/cgi-bin/message/send``,
``/cgi-bin/message/update_template_card``, ``/cgi-bin/media/upload``, ``/cgi-bin/media/get``,
``/cgi-bin/menu/create``, ``/cgi-bin/auth/getuserinfo`` — with WeCom's query parameters, JSON bodies and
errcodes; and a member opening a 网页授权 link (``member.open_link``, 91022)::

    fake = FakeWeCom(clock=clock)
    await fake.start()
    fake.callback_url = "http://127.0.0.1:8080/wecom"     # the bot's callback server
    member = fake.member("wangjianguo", name="王建国")
    await member.send_text("提交")                          # an encrypted callback, as WeCom posts it
    member.received                                        # what the bot's sends put on the phone

The other half is :class:`FakeMember`: each action posts a callback to the bot exactly as
WeCom does (``msg_signature``/``timestamp``/``nonce``, an XML body whose ``Encrypt`` is the
AES-256-CBC ciphertext of the message XML), waits at most ``callback_timeout`` seconds for an
HTTP 200, and otherwise posts it again, at most ``callback_attempts`` times in all.

The encryption here is this module's own (:class:`WeComCipher`, on ``cryptography``); it never
imports the bot's, so a mistake shared by both cannot hide. It is checked in
tests/test_fakewecom.py against the values of WeCom's official sample (sbzhu/weworkapi_python,
callback/Sample.py).

Strictness. Every limit below is WeCom's documented one; the page it comes from is named beside
it (developer.work.weixin.qq.com/document/path/NNNNN, looked up with the search tool). Where the
pages disagree or are silent the fake takes the stricter reading and says so. Things the real
server does *silently* are done silently here too, and counted so tests can see them:

* a member over 30 messages a minute or 1 000 an hour from this app: the send is answered
  errcode 0 and the message is dropped (``fake.dropped[userid]``), never shown (90236, 90454);
* text or markdown over 2 048 bytes: answered errcode 0 and *cut* at 2 048 bytes
  (``Received.truncated``, ``fake.truncated``) — the known failure of long Chinese replies (90236);
* a template card or markdown to a member who uses the app from personal WeChat (the 企业微信插件):
  delivered but not shown (``Received.visible`` False; issue 14, 90236 on markdown).

The fake must be driven from the event loop it was started in. It never logs message bodies.

Standalone (a new user trying the bot without WeCom)::

    python -m tests.fakewecom --port 8900 --callback http://127.0.0.1:8080/wecom

prints the ``[wecom]`` configuration for the bot, then reads member actions from stdin
(``@王建国 提交``, ``@王建国 !press 1``…; ``help`` lists them) and prints what members receive.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import json
import random
import re
import string
import struct
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.clock import SystemClock

__all__ = [
    "DEFAULTS",
    "FAULT_KINDS",
    "CallbackAttempt",
    "Delivery",
    "FakeMember",
    "FakeWeCom",
    "FaultPlan",
    "Received",
    "WeComCipher",
    "WeComCryptoError",
    "WeComUnsupported",
]

JSONDict = dict[str, Any]


class Clock(Protocol):
    def now(self) -> datetime: ...


#: Test values. The AES key is 43 characters of [A-Za-z0-9] as the admin console makes them (90968).
DEFAULTS: dict[str, Any] = {
    "corp_id": "ww0000000000fake01",
    "corp_secret": "fake-app-secret-0001-not-a-real-one",
    "agent_id": 1000002,
    "token": "FakeToken2026",
    "encoding_aes_key": "FakeWeComAesKey0123456789abcdefghijklmnopqr",
}

# --- limits, each from the page named ------------------------------------------------------------

#: 91039 获取access_token: "expires_in … 正常情况下为7200秒".
TOKEN_LIFETIME = timedelta(seconds=7200)
#: 90236 发送应用消息, text and markdown: "最长不超过2048个字节，超过将截断".
TEXT_MAX_BYTES = 2048
#: 90236: touser "最多支持1000个".
MAX_TOUSER = 1000
#: 90236 / 90454: "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发".
PER_MEMBER_PER_MINUTE = 30
PER_MEMBER_PER_HOUR = 1000
#: 90454 访问频率限制: "每应用不可超过账号上限数*200人次/天"; "发消息频率不计入基础频率".
SENDS_PER_ACCOUNT_PER_DAY = 200
#: 90454: "每企业调用单个cgi/api不可超过1万次/分，15万次/小时" (the other APIs).
API_PER_MINUTE = 10_000
API_PER_HOUR = 150_000
#: 90236 template card (按钮交互型): button_list "列表长度不超过6"; key "最长支持1024字节，不可重复";
#: task_id "同一个应用任务id不能重复，只能由数字、字母和“_-@”组成，最长128字节".
CARD_MAX_BUTTONS = 6
#: 90236 (按钮交互型): main_title.title "建议不超过26个字", sub_title_text "建议不超过112个字", button text "建议不超过10个字":
#: advice, not refusals. What passes them is accepted and shown cut ("…") here, and counted in ``truncated``
#: like a text cut at 2 048 bytes: a phone shows no more.
CARD_TITLE_CHARS = 26
CARD_TEXT_CHARS = 112
CARD_BUTTON_CHARS = 10
CARD_KEY_MAX_BYTES = 1024
TASK_ID_MAX_BYTES = 128
TASK_ID_SHAPE = re.compile(r"^[0-9A-Za-z_\-@]+$")
#: 90236 horizontal_content_list "列表长度不超过6", jump_list "不超过3", vertical_content_list "不超过4".
CARD_MAX_HORIZONTAL = 6
CARD_MAX_JUMPS = 3
CARD_MAX_VERTICAL = 4
#: 94888 更新模版卡片消息: response_code "一个code只能调用一次该接口，且只能在72小时内调用". The 90236 text
#: of some years and WxJava say 24 h: the fake enforces the shorter (issue 14 says assume 24 h).
RESPONSE_CODE_LIFETIME = timedelta(hours=24)
#: 90253 上传临时素材: "所有文件size必须大于5个字节"; image 10MB (JPG, PNG), voice 2MB (AMR),
#: video 10MB (MP4), file 20MB; "media_id仅三天内有效".
MEDIA_MIN_BYTES = 6
MEDIA_MAX_BYTES = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024,
                   "video": 10 * 1024 * 1024, "file": 20 * 1024 * 1024}
MEDIA_LIFETIME = timedelta(days=3)
#: 90231 创建菜单 (and the errcodes 40016–40027 of 90313): 1–3 buttons, 1–5 sub-buttons, name ≤ 16
#: bytes (sub-button ≤ 40 bytes — the 40025 text gives no number; 40 is the 90231 table's), key
#: ≤ 128 bytes, url ≤ 1024 bytes.
MENU_MAX_BUTTONS = 3
MENU_MAX_SUB_BUTTONS = 5
MENU_NAME_MAX_BYTES = 16
MENU_SUB_NAME_MAX_BYTES = 40
MENU_KEY_MAX_BYTES = 128
MENU_URL_MAX_BYTES = 1024
MENU_TYPES = frozenset({"click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto",
                        "pic_photo_or_album", "pic_weixin", "location_select", "view_miniprogram"})
#: 90930/90238 接收消息: "企业微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次".
#: ("总共重试三次" is read as three posts in all, the usual reading; a parameter here.)
CALLBACK_TIMEOUT = 5.0
CALLBACK_ATTEMPTS = 3
#: 90930: URL verification "在1秒内响应GET请求".
VERIFY_TIMEOUT = 1.0
#: 90239/96467 消息格式: what a member can send to a self-built app.
MEMBER_MESSAGE_TYPES = ("text", "image", "voice", "video", "location", "link")

#: 90313 全局错误码 — the ones this fake answers.
ERRMSG: dict[int, str] = {
    -1: "system busy",
    40001: "invalid credential, access_token is invalid or not latest",  # also: wrong secret
    40003: "invalid userid",
    40004: "invalid media type",
    40005: "invalid type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40011: "invalid video size",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40022: "invalid sub button level",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40032: "invalid userid list size",
    40035: "invalid parameter",
    40056: "invalid agentid",
    40058: "invalid parameter",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41005: "media data missing",
    41006: "media_id missing",
    41011: "agentid missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44004: "empty content",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    48002: "api forbidden",
    60020: "not allow to access from your ip",
    81013: "user & party & tag all invalid",
}

#: Fault names for :attr:`FaultPlan.queue` and :attr:`FakeWeCom.fault_counts`.
FAULT_KINDS: tuple[str, ...] = ("500", "502", "busy", "drop", "drop_after", "hold", "40014",
                                "42001", "60020", "45009", "45033", "81013", "48002")
_ERRCODE_FAULTS = {"busy": -1, "40014": 40014, "42001": 42001, "60020": 60020, "45009": 45009,
                   "45033": 45033, "81013": 81013, "48002": 48002}
_API_PATHS = ("/cgi-bin/gettoken", "/cgi-bin/message/send", "/cgi-bin/message/update_template_card",
              "/cgi-bin/media/upload", "/cgi-bin/media/get", "/cgi-bin/menu/create", "/cgi-bin/auth/getuserinfo")
#: Paths a :class:`FaultPlan` applies to unless told otherwise.
DEFAULT_FAULT_PATHS = frozenset(_API_PATHS)


OAUTH_CODE_LIFETIME = timedelta(minutes=5)  # 91023: "code只能使用一次，5分钟未被使用自动过期"


class WeComUnsupported(Exception):
    """Something a WeCom member or WeCom itself cannot do (a test asked the impossible)."""


class WeComCryptoError(ValueError):
    """A ciphertext that does not decrypt, pad, or name the expected receiver."""


# ---------------------------------------------------------------------------
# The callback encryption (90968 加解密方案说明), written here independently of the bot
# ---------------------------------------------------------------------------


class WeComCipher:
    """WeCom's callback scheme: AESKey = Base64_Decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC
    with IV = the key's first 16 bytes; plaintext = random(16B) + msg_len(4B, network order) + msg +
    receiveid, PKCS#7-padded to a multiple of **32** bytes (so a pad byte may be 17..32, e.g. the
    official sample's 22, which a 16-byte unpadder refuses); ciphertext Base64-encoded. Signature =
    SHA-1 hex of the four strings token, timestamp, nonce, ciphertext sorted and joined (90968)."""

    BLOCK = 32

    def __init__(self, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters (90968)")
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("EncodingAESKey does not decode to 32 bytes")
        self.token = token
        self.key = key
        self.iv = key[:16]
        self.receiver_id = receiver_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        joined = "".join(sorted((self.token, timestamp, nonce, encrypted)))
        return hashlib.sha1(joined.encode("utf-8")).hexdigest()

    def encrypt(self, message: str | bytes, *, prefix: bytes, receiver_id: str | None = None,
                bad_padding: bool = False) -> str:
        if len(prefix) != 16:
            raise ValueError("the random prefix is 16 bytes")
        msg = message.encode("utf-8") if isinstance(message, str) else message
        receiver = (self.receiver_id if receiver_id is None else receiver_id).encode("utf-8")
        plain = prefix + struct.pack(">I", len(msg)) + msg + receiver
        pad = self.BLOCK - len(plain) % self.BLOCK
        padding = bytes([pad]) * pad
        if bad_padding:  # a pad byte that does not say how many were added
            padding = padding[:-1] + bytes([33])
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        raw = encryptor.update(plain + padding) + encryptor.finalize()
        return base64.b64encode(raw).decode("ascii")

    def decrypt(self, encrypted: str) -> tuple[bytes, str]:
        """Return (message bytes, receiver id); raise :class:`WeComCryptoError` on anything amiss."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:
            raise WeComCryptoError("not Base64") from exc
        if not raw or len(raw) % 16:
            raise WeComCryptoError("not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= self.BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise WeComCryptoError("bad PKCS#7 padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise WeComCryptoError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise WeComCryptoError("message length beyond the plaintext")
        message = plain[20:20 + length]
        try:
            receiver = plain[20 + length:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WeComCryptoError("receiver id is not UTF-8") from exc
        return message, receiver


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(fields: Iterable[tuple[str, str | int]]) -> str:
    parts = []
    for name, value in fields:
        parts.append(f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}>{_cdata(value)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class FaultPlan:
    """Faults injected into the fake's answers; mutable at run time.

    For every request to a path in :attr:`paths`, a scripted fault is taken from :attr:`queue` if
    any; otherwise one draw of the fake's seeded generator picks at most one fault by the
    ``p_*`` probabilities, in the order of :data:`FAULT_KINDS`. See WECOM_CONTRACT.md §4.
    ``"40014"``/``"42001"`` also invalidate the token used (WeCom "may invalidate a token early",
    91039), so the bot must fetch a new one."""

    p: dict[str, float] = field(default_factory=dict)
    """Probability per fault kind, e.g. ``{"500": 0.02, "drop_after": 0.01}``."""
    paths: set[str] = field(default_factory=lambda: set(DEFAULT_FAULT_PATHS))
    queue: list[str] = field(default_factory=list)
    hold_seconds: float = 30.0

    def clear(self) -> None:
        self.p.clear()
        self.queue.clear()


@dataclass
class Received:
    """One message as the member's phone has it."""

    kind: str
    text: str
    msgid: str
    at: datetime
    payload: JSONDict
    card: JSONDict | None = None
    task_id: str | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)
    data: bytes | None = None
    filename: str | None = None
    truncated: bool = False
    visible: bool = True
    passive: bool = False
    updates: list[JSONDict] = field(default_factory=list)
    chosen: str | None = None
    disabled: bool = False
    sent_at: float = 0.0
    """``time.monotonic()`` when the send was accepted (latency measurements)."""


@dataclass
class CallbackAttempt:
    userid: str
    kind: str
    attempt: int
    status: int  # HTTP status, 0 when nothing came back in time (or no connection)
    seconds: float


@dataclass
class Delivery:
    """How one member action went: one callback, posted up to ``callback_attempts`` times."""

    kind: str
    plaintext: str
    msg_id: int | None
    statuses: list[int] = field(default_factory=list)
    body: str = ""

    @property
    def attempts(self) -> int:
        return len(self.statuses)

    @property
    def answered(self) -> bool:
        return 200 in self.statuses


@dataclass
class _Token:
    value: str
    expires: datetime
    valid: bool = True
    expired_early: bool = False


@dataclass
class _Media:
    media_id: str
    kind: str
    data: bytes
    filename: str
    content_type: str
    created: datetime


@dataclass
class _ResponseCode:
    code: str
    task_id: str
    userids: tuple[str, ...]
    expires: datetime
    used: bool = False


@dataclass
class SentRecord:
    """One accepted message/send call."""

    msgid: str
    body: JSONDict
    delivered: list[str]
    dropped: list[str]
    invalid: list[str]
    at: datetime


class _Windows:
    """Sliding one-minute and one-hour windows of event times (seconds, nondecreasing)."""

    def __init__(self) -> None:
        self.minute: collections.deque[float] = collections.deque()
        self.hour: collections.deque[float] = collections.deque()

    def admit(self, now: float, per_minute: int, per_hour: int, *, count_refused: bool) -> bool:
        while self.minute and self.minute[0] <= now - 60:
            self.minute.popleft()
        while self.hour and self.hour[0] <= now - 3600:
            self.hour.popleft()
        ok = len(self.minute) < per_minute and len(self.hour) < per_hour
        if ok or count_refused:
            self.minute.append(now)
            self.hour.append(now)
        return ok


def _shown(text: str, most: int) -> str:
    """What a card shows of a text WeCom advises to keep within `most` characters (90236)."""
    return text if len(text) <= most else text[:most] + "…"


@dataclass
class _OAuthCode:
    """A 网页授权 code (91022): names one member (or an outsider's openid), once, for five minutes."""

    userid: str | None
    openid: str | None
    host: str  # the return address's host: it must be the app's 可信域名 (91023, 50001)
    expires: datetime
    used: bool = False


class _ApiError(Exception):
    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(errcode, detail)
        self.errcode = errcode
        self.detail = detail


# ---------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------


class FakeMember:
    """A member of the corp, as the app sees them (userid), and their phone (``received``)."""

    def __init__(self, api: FakeWeCom, userid: str, name: str, via_wechat: bool) -> None:
        self.api = api
        self.userid = userid
        self.name = name
        self.in_range = True
        self.via_wechat = via_wechat
        self.received: list[Received] = []

    def __repr__(self) -> str:
        return f"FakeMember({self.userid!r}, {self.name!r})"

    # -- what a member does --------------------------------------------------------------------

    async def send_text(self, text: str, **options: Any) -> Delivery:
        if not text:
            raise WeComUnsupported("WeCom members cannot send an empty message")
        return await self._message("text", [("Content", text)], **options)

    async def send_image(self, data: bytes, **options: Any) -> Delivery:
        media = self.api._store_media("image", data, "", "image/jpeg")
        pic_url = f"{self.api.api_base}/wework_pic/{media.media_id}"
        return await self._message("image", [("PicUrl", pic_url), ("MediaId", media.media_id)], **options)

    async def send_voice(self, data: bytes, **options: Any) -> Delivery:
        media = self.api._store_media("voice", data, "", "audio/amr")
        return await self._message("voice", [("MediaId", media.media_id), ("Format", "amr")], **options)

    async def send_video(self, data: bytes, **options: Any) -> Delivery:
        media = self.api._store_media("video", data, "", "video/mp4")
        thumb = self.api._store_media("image", b"\xff\xd8\xff\xe0thumb", "", "image/jpeg")
        return await self._message("video", [("MediaId", media.media_id), ("ThumbMediaId", thumb.media_id)],
                                   **options)

    async def send_location(self, latitude: float, longitude: float, label: str, **options: Any) -> Delivery:
        return await self._message("location", [("Location_X", str(latitude)), ("Location_Y", str(longitude)),
                                                ("Scale", 15), ("Label", label)], **options)

    async def send_link(self, title: str, description: str, url: str, **options: Any) -> Delivery:
        return await self._message("link", [("Title", title), ("Description", description), ("Url", url),
                                            ("PicUrl", "")], **options)

    async def send_file(self, data: bytes, filename: str, **options: Any) -> Delivery:
        raise WeComUnsupported(
            "WeCom does not deliver file messages to a self-built app: 90239/96467 (接收消息与事件, 消息格式) "
            "list text, image, voice, video, location and link only")

    async def click_menu(self, key: str, *, force: bool = False, **options: Any) -> Delivery:
        """Press the app menu's item with this key (it must be a ``click`` item of the menu the
        bot set, unless ``force``)."""
        if not force and key not in self.api.menu_keys():
            raise WeComUnsupported(f"the app menu has no click item {key!r}; it has {sorted(self.api.menu_keys())}")
        return await self._event("click", [("EventKey", key)], **options)

    async def enter_agent(self, **options: Any) -> Delivery:
        return await self._event("enter_agent", [("EventKey", "")], **options)

    def card(self, task_id: str) -> Received:
        for item in reversed(self.received):
            if item.task_id == task_id:
                return item
        raise WeComUnsupported(f"{self.userid} has no card with task_id {task_id!r}")

    def last_card(self) -> Received:
        for item in reversed(self.received):
            if item.kind == "template_card":
                return item
        raise WeComUnsupported(f"{self.userid} has received no card")

    async def open_link(self, url: str, *, outsider: bool = False) -> tuple[int, str]:
        """Open a link in WeCom's browser, as a member does (91022 网页授权): a link to WeCom's authorize page is
        checked as WeCom checks it and, if good, followed to its ``redirect_uri`` with a one-time ``code`` that
        names this member (an ``outsider``: someone outside the corp, whom getuserinfo names by an openid); any
        other link is fetched as it is. Returns the final page's HTTP status and text."""
        return await self.api.open_link(self, url, outsider=outsider)

    async def press(self, task_id: str, button_key: str, *, force: bool = False, **options: Any) -> Delivery:
        """Press a button of a button_interaction card this member received. A button the card
        does not have, or a card whose buttons were replaced (update_template_card), cannot be
        pressed on a phone: that raises unless ``force`` (a forged or stale event)."""
        card_type = "button_interaction"
        if not force:
            card = self.card(task_id)
            if not card.visible:
                raise WeComUnsupported("this member uses personal WeChat, where template cards are not shown")
            if card.disabled:
                raise WeComUnsupported(f"the card {task_id!r} was updated; its buttons cannot be pressed")
            if button_key not in [key for key, _ in card.buttons]:
                raise WeComUnsupported(f"card {task_id!r} has no button {button_key!r}; it has {card.buttons}")
            card_type = str((card.card or {}).get("card_type", card_type))
        code = self.api._new_response_code(task_id, (self.userid,))
        return await self._event("template_card_event", [("EventKey", button_key), ("TaskId", task_id),
                                                          ("CardType", card_type), ("ResponseCode", code)],
                                 **options)

    async def press_label(self, label: str, **options: Any) -> Delivery:
        """Press the button with this text on the latest card that has one."""
        for item in reversed(self.received):
            for key, text in item.buttons:
                if text == label and item.task_id:
                    return await self.press(item.task_id, key, **options)
        raise WeComUnsupported(f"{self.userid} has no card with a button {label!r}")

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until this member has received at least ``count`` messages; return them all."""
        await self.api.wait_until(lambda: len(self.received) >= count, timeout,
                                  what=lambda: f"{self.userid} to have {count} message(s), has {len(self.received)}")
        return self.received

    @property
    def texts(self) -> list[str]:
        return [item.text for item in self.received]

    # -- building callbacks ---------------------------------------------------------------------

    async def _message(self, msg_type: str, fields: list[tuple[str, str | int]], **options: Any) -> Delivery:
        msg_id = self.api._rng.randrange(10**18, 2**63)
        plain = _xml([("ToUserName", self.api.corp_id), ("FromUserName", self.userid),
                      ("CreateTime", self.api._unix()), ("MsgType", msg_type), *fields,
                      ("MsgId", msg_id), ("AgentID", self.api.agent_id)])
        return await self.api._post_callback(self, msg_type, plain, msg_id, **options)

    async def _event(self, event: str, fields: list[tuple[str, str | int]], **options: Any) -> Delivery:
        plain = _xml([("ToUserName", self.api.corp_id), ("FromUserName", self.userid),
                      ("CreateTime", self.api._unix()), ("MsgType", "event"), ("Event", event), *fields,
                      ("AgentID", self.api.agent_id)])
        return await self.api._post_callback(self, event, plain, None, **options)


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


class FakeWeCom:
    """The fake WeCom server (see the module docstring and WECOM_CONTRACT.md).

    Attributes for tests: ``members``, ``sent`` (:class:`SentRecord` per accepted message/send),
    ``dropped`` (userid → silently dropped :class:`Received`), ``truncated`` (msgids cut at 2 048
    bytes), ``requests`` (paths in arrival order), ``errors`` ((path, errcode, errmsg) of every
    non-zero answer, faults included; HTTP faults as errcode = -status), ``fault_counts``,
    ``tokens_issued``, ``callbacks`` (:class:`CallbackAttempt`), ``callback_errors`` (what the fake
    could not accept in the bot's callback answers), ``menu``, ``internal_errors`` (bugs in the
    fake: a test should end with it empty), ``latency`` (seconds every API call waits first),
    ``token_policy`` ("rotate" or "reuse"), ``trusted_ips`` (None: any), ``faults``,
    ``rate_clock`` (monotonic seconds for the per-member and API rate windows; default
    ``time.monotonic``, like the dispatcher's seam), ``clock`` (calendar time: tokens, media,
    response codes, timestamps), ``on_message`` (called with (member, Received) on every delivery).
    """

    def __init__(
        self,
        *,
        corp_id: str = DEFAULTS["corp_id"],
        corp_secret: str = DEFAULTS["corp_secret"],
        agent_id: int = DEFAULTS["agent_id"],
        token: str = DEFAULTS["token"],
        encoding_aes_key: str = DEFAULTS["encoding_aes_key"],
        clock: Clock | None = None,
        callback_timeout: float = CALLBACK_TIMEOUT,
        callback_attempts: int = CALLBACK_ATTEMPTS,
        account_limit: int = 2000,
        seed: int = 0,
        latency: float = 0.0,
    ) -> None:
        self.corp_id = corp_id
        self.corp_secret = corp_secret
        self.agent_id = agent_id
        self.token = token
        self.encoding_aes_key = encoding_aes_key
        self.cipher = WeComCipher(token, encoding_aes_key, corp_id)
        self.clock: Clock = clock or SystemClock()
        self.rate_clock: Callable[[], float] = time.monotonic
        self.callback_timeout = callback_timeout
        self.callback_attempts = callback_attempts
        self.account_limit = account_limit
        self.latency = latency
        self.token_policy = "rotate"
        self.trusted_ips: set[str] | None = None
        self.callback_url: str | None = None
        self.port = 0
        self.api_base = ""

        self.members: dict[str, FakeMember] = {}
        self.sent: list[SentRecord] = []
        self.dropped: collections.defaultdict[str, list[Received]] = collections.defaultdict(list)
        self.truncated: list[str] = []
        self.requests: list[str] = []
        self.errors: list[tuple[str, int, str]] = []
        self.faults = FaultPlan()
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self.tokens_issued = 0
        self.callbacks: list[CallbackAttempt] = []
        self.callback_errors: list[str] = []
        self.menu: JSONDict | None = None
        self.internal_errors: list[Exception] = []
        self.on_message: Callable[[FakeMember, Received], None] | None = None
        self.on_menu: Callable[[JSONDict], None] | None = None
        self.in_flight = 0
        self.most_in_flight = 0

        self._rng = random.Random(seed)
        self._fault_rng = random.Random(seed * 7919 + 3)
        self._tokens: dict[str, _Token] = {}
        self._current_token: _Token | None = None
        self._media: dict[str, _Media] = {}
        self._task_ids: set[str] = set()
        self._codes: dict[str, _ResponseCode] = {}
        self._oauth_codes: dict[str, _OAuthCode] = {}
        self.trusted_domain: str | None = None  # the app's 可信域名 (None: any); a return elsewhere gets 50001 (91023)
        self.links_opened = 0
        self._member_sends: dict[str, _Windows] = {}
        self._api_calls: dict[str, _Windows] = {}
        self._day_sends: dict[str, int] = {}
        self._dedupe: dict[str, datetime] = {}
        self._msgid = self._rng.randrange(10**9, 2 * 10**9)
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (``port`` 0: a free one); set ``port`` and ``api_base``."""
        if self._runner is not None:
            raise RuntimeError("FakeWeCom already started")
        self._stopping.clear()
        app = web.Application(client_max_size=MEDIA_MAX_BYTES["file"] + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.api_base = f"http://127.0.0.1:{self.port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop promptly (held requests are released). Idempotent."""
        runner, self._runner = self._runner, None
        session, self._session = self._session, None
        self._stopping.set()
        self._notify()
        if session is not None:
            await session.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeWeCom:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- test-facing API -----------------------------------------------------------------------

    def member(self, userid: str, name: str | None = None, *, via_wechat: bool = False) -> FakeMember:
        """The member with this userid (case-insensitive, as WeCom's), created on first call."""
        if not re.fullmatch(r"[A-Za-z0-9_.@\-]{1,64}", userid):
            raise ValueError(f"a WeCom userid is 1–64 of letters, digits, _ . @ - (40003): {userid!r}")
        key = userid.lower()
        if key not in self.members:
            self.members[key] = FakeMember(self, userid, name or userid, via_wechat)
        return self.members[key]

    def expire_tokens(self) -> None:
        """Every access_token issued so far answers 42001 from now on."""
        for token in self._tokens.values():
            token.valid = False
            token.expired_early = True

    def menu_keys(self) -> set[str]:
        keys: set[str] = set()
        for button in (self.menu or {}).get("button", []):
            for item in [button, *button.get("sub_button", [])]:
                if item.get("type") == "click" and item.get("key"):
                    keys.add(str(item["key"]))
        return keys

    def encrypt(self, plaintext: str, receiver_id: str | None = None) -> str:
        return self.cipher.encrypt(plaintext, prefix=self._prefix(), receiver_id=receiver_id)

    def decrypt(self, encrypted: str) -> str:
        message, receiver = self.cipher.decrypt(encrypted)
        if receiver != self.corp_id:
            raise WeComCryptoError("receiver id is not this corp")
        return message.decode("utf-8")

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return self.cipher.signature(timestamp, nonce, encrypted)

    async def verify_callback_url(self) -> bool:
        """The GET WeCom makes when the admin saves the callback URL (90930): an encrypted
        echostr; True if the bot answered its plaintext, exactly, within 1 s."""
        if self.callback_url is None or self._session is None:
            raise RuntimeError("no callback_url, or the fake is not started")
        echo = str(self._rng.randrange(10**18, 2**63))
        encrypted = self.encrypt(echo)
        timestamp, nonce = str(self._unix()), self._nonce()
        query = (f"msg_signature={self.signature(timestamp, nonce, encrypted)}&timestamp={timestamp}"
                 f"&nonce={nonce}&echostr={quote(encrypted, safe='')}")
        url = self.callback_url + ("&" if "?" in self.callback_url else "?") + query
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=VERIFY_TIMEOUT)) as resp:
                body = await resp.read()
                return resp.status == 200 and body == echo.encode()
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0,
                         what: Callable[[], str] | None = None) -> None:
        """Wait (on the fake's changes, never sleeping blindly) until ``predicate()``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                detail = what() if what else f"condition {predicate!r} not met"
                raise TimeoutError(f"timed out after {timeout}s: {detail}\n{self.dump()}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    async def next_change(self, timeout: float) -> None:
        """Return at the fake's next change (a request handled, a callback answered), or after `timeout`."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def dump(self, userid: str | None = None) -> str:
        """A readable summary for failure messages (tests only; never logged)."""
        lines = []
        members = [self.members[userid.lower()]] if userid else list(self.members.values())[:20]
        for m in members:
            lines.append(f"{m.userid}: {len(m.received)} received, {len(self.dropped.get(m.userid, []))} dropped")
            for item in m.received[-8:]:
                flags = "".join(f" [{f}]" for f, on in (("truncated", item.truncated), ("hidden", not item.visible),
                                                        ("disabled", item.disabled)) if on)
                lines.append(f"  {item.kind}{flags}: {item.text[:200]!r} {item.buttons or ''}")
        lines.append(f"last errors: {self.errors[-10:]}")
        lines.append(f"faults: {dict(self.fault_counts)}; callback errors: {self.callback_errors[-5:]}")
        lines.append(f"last requests: {self.requests[-12:]}")
        return "\n".join(lines)

    @property
    def dropped_count(self) -> int:
        return sum(len(v) for v in self.dropped.values())

    # -- internals: small helpers -----------------------------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _unix(self) -> int:
        return int(self.clock.now().timestamp())

    def _nonce(self) -> str:
        return str(self._rng.randrange(10**8, 10**10))

    def _prefix(self) -> bytes:
        return "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(16)).encode()

    def _random_id(self, length: int) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _store_media(self, kind: str, data: bytes, filename: str, content_type: str) -> _Media:
        media_id = "3" + self._random_id(63)
        media = _Media(media_id, kind, data, filename or f"{media_id}.{_extension(kind)}", content_type,
                       self.clock.now())
        self._media[media_id] = media
        return media

    def _new_response_code(self, task_id: str, userids: tuple[str, ...]) -> str:
        code = self._random_id(40)
        self._codes[code] = _ResponseCode(code, task_id, userids, self.clock.now() + RESPONSE_CODE_LIFETIME)
        return code

    # -- callbacks to the bot -------------------------------------------------------------------

    async def _post_callback(self, member: FakeMember, kind: str, plain: str, msg_id: int | None, *,
                             repeat: int | None = None, wait: bool = True, tamper: str | None = None
                             ) -> Delivery:
        if not wait:
            task = asyncio.ensure_future(self._post_callback(member, kind, plain, msg_id, repeat=repeat,
                                                             tamper=tamper))
            return task  # type: ignore[return-value]  # documented: wait=False gives the Task
        delivery = Delivery(kind, plain, msg_id)
        if self.callback_url is None or self._session is None:
            return delivery  # no URL set in the admin console: WeCom posts nothing
        posts = repeat if repeat is not None else self.callback_attempts
        for attempt in range(1, posts + 1):
            status, body, seconds = await self._post_once(plain, tamper)
            delivery.statuses.append(status)
            self.callbacks.append(CallbackAttempt(member.userid, kind, attempt, status, seconds))
            self._notify()
            if status == 200:
                delivery.body = body
                if body:
                    self._passive_reply(member, body)
                if repeat is None:
                    break
        return delivery

    async def _post_once(self, plain: str, tamper: str | None) -> tuple[int, str, float]:
        assert self.callback_url is not None and self._session is not None
        receiver = self.corp_id
        if tamper == "corp_id":
            receiver = "ww9999999999other9"
        encrypted = self.cipher.encrypt(plain, prefix=self._prefix(), receiver_id=receiver,
                                        bad_padding=tamper == "padding")
        if tamper == "garbage":
            encrypted = base64.b64encode(bytes(self._rng.randrange(256) for _ in range(64))).decode()
        timestamp = self._unix() - (3600 if tamper == "stale" else 0)
        nonce = self._nonce()
        signature = self.signature(str(timestamp), nonce, encrypted)
        if tamper == "signature":
            signature = hashlib.sha1(b"forged" + signature.encode()).hexdigest()
        if tamper not in (None, "corp_id", "padding", "garbage", "stale", "signature"):
            raise ValueError(f"unknown tamper {tamper!r}")
        body = _xml([("ToUserName", self.corp_id), ("AgentID", str(self.agent_id)), ("Encrypt", encrypted)])
        url = (self.callback_url + ("&" if "?" in self.callback_url else "?")
               + f"msg_signature={signature}&timestamp={timestamp}&nonce={nonce}")
        started = time.monotonic()
        try:
            async with self._session.post(
                url, data=body.encode("utf-8"), headers={"Content-Type": "text/xml"},
                timeout=aiohttp.ClientTimeout(total=self.callback_timeout),
            ) as resp:
                text = await resp.text()
                return resp.status, text, time.monotonic() - started
        except (aiohttp.ClientError, TimeoutError):
            return 0, "", time.monotonic() - started

    def _passive_reply(self, member: FakeMember, body: str) -> None:
        """A non-empty 200 answer is a passive reply (被动回复, 90241): encrypted XML, checked."""
        try:
            root = ET.fromstring(body)
            encrypted = root.findtext("Encrypt") or ""
            signature = root.findtext("MsgSignature") or ""
            timestamp = root.findtext("TimeStamp") or ""
            nonce = root.findtext("Nonce") or ""
            if self.signature(timestamp, nonce, encrypted) != signature:
                raise WeComCryptoError("passive reply signature does not match")
            message = ET.fromstring(self.decrypt(encrypted))
        except (ET.ParseError, WeComCryptoError, UnicodeDecodeError) as exc:
            self.callback_errors.append(f"answer to a callback of {member.userid} is neither empty nor a valid "
                                        f"encrypted reply: {exc}")
            return
        kind = message.findtext("MsgType") or ""
        text = message.findtext("Content") or ""
        self._deliver(member, Received(kind, text, "", self.clock.now(), {"passive": kind}, passive=True,
                                       sent_at=time.monotonic()))

    # -- HTTP dispatch --------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/wework_pic/"):
            media = self._media.get(path.rsplit("/", 1)[-1])
            if media is None:
                return web.Response(status=404)
            return web.Response(body=media.data, content_type=media.content_type)
        if path not in _API_PATHS:
            return web.Response(status=404, text="404 Not Found")
        self.requests.append(path)
        try:
            if self.latency > 0:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.latency)  # a simulated round trip, before anything is done
                finally:
                    self.in_flight -= 1
            fault = self._pick_fault(path)
            if fault in ("500", "502"):
                self._record_fault(path, fault, -int(fault))
                return web.Response(status=int(fault), text="Bad Gateway" if fault == "502" else "Internal Error")
            if fault == "drop":
                self._record_fault(path, fault, 0)
                return self._drop(request)
            if fault == "hold":
                self._record_fault(path, fault, 0)
                try:
                    await asyncio.wait_for(self._stopping.wait(), self.faults.hold_seconds)
                except TimeoutError:
                    pass
                return self._drop(request)
            if fault in _ERRCODE_FAULTS:
                self.fault_counts[fault] += 1  # the errcode answer below records it in errors
                if fault in ("40014", "42001"):
                    used = self._tokens.get(request.query.get("access_token", ""))
                    if used is not None:
                        used.valid = False
                        used.expired_early = fault == "42001"
                return self._error(path, _ERRCODE_FAULTS[fault], "injected")
            try:
                response = await self._handle(path, request)
            except _ApiError as error:
                response = self._error(path, error.errcode, error.detail)
            if fault == "drop_after":
                self._record_fault(path, fault, 0)
                return self._drop(request)
            return response
        except Exception as exc:  # a bug in the fake, or input it cannot cope with
            self.internal_errors.append(exc)
            return web.Response(status=500, text=f"FakeWeCom failure: {exc!r}")
        finally:
            self._notify()

    def _pick_fault(self, path: str) -> str | None:
        plan = self.faults
        if path not in plan.paths:
            return None
        if plan.queue:
            kind = plan.queue.pop(0)
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
            return kind
        if not plan.p:
            return None
        draw = self._fault_rng.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += plan.p.get(kind, 0.0)
            if draw < threshold:
                return kind
        return None

    def _record_fault(self, path: str, kind: str, code: int) -> None:
        self.fault_counts[kind] += 1
        self.errors.append((path, code, f"injected {kind}"))

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    def _error(self, path: str, errcode: int, detail: str = "") -> web.Response:
        hint = self._random_id(16)
        message = ERRMSG.get(errcode, "error") + (f" ({detail})" if detail else "")
        errmsg = (f"{message}, hint: [{self._unix()}_{hint}], from ip: 127.0.0.1, more info at "
                  f"https://open.work.weixin.qq.com/devtool/query?e={errcode}")
        self.errors.append((path, errcode, message))
        return web.json_response({"errcode": errcode, "errmsg": errmsg})

    @staticmethod
    def _ok(**fields: Any) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok", **fields})

    async def _handle(self, path: str, request: web.Request) -> web.StreamResponse:
        if path == "/cgi-bin/gettoken":
            if request.method != "GET":
                raise _ApiError(43001)
            return self._gettoken(request)
        self._check_token(request)
        if self.trusted_ips is not None and (request.remote or "") not in self.trusted_ips:
            raise _ApiError(60020)  # 90313: set the app's 企业可信IP
        if path == "/cgi-bin/media/get":
            if request.method != "GET":
                raise _ApiError(43001)
            self._count_api(path)
            return self._media_get(request)
        if path == "/cgi-bin/auth/getuserinfo":
            if request.method != "GET":
                raise _ApiError(43001)
            self._count_api(path)
            return self._getuserinfo(request)
        if request.method != "POST":
            raise _ApiError(43002)
        if path == "/cgi-bin/media/upload":
            self._count_api(path)
            return await self._media_upload(request)
        body = await self._json(request)
        if path == "/cgi-bin/message/send":
            return self._message_send(body)
        self._count_api(path)
        if path == "/cgi-bin/message/update_template_card":
            return self._update_card(body)
        return self._menu_create(request, body)

    # -- access_token (91039) --------------------------------------------------------------------

    def _gettoken(self, request: web.Request) -> web.Response:
        self._count_api("/cgi-bin/gettoken")
        corpid = request.query.get("corpid")
        secret = request.query.get("corpsecret")
        if not corpid:
            raise _ApiError(41002)
        if not secret:
            raise _ApiError(41004)
        if corpid != self.corp_id:
            raise _ApiError(40013)
        if secret != self.corp_secret:
            raise _ApiError(40001, "corpsecret")
        now = self.clock.now()
        current = self._current_token
        if (self.token_policy == "reuse" and current is not None and current.valid and current.expires > now):
            token = current
        else:
            if current is not None and self.token_policy == "rotate":
                current.valid = False  # superseded: answers 40014 from now on
            token = _Token(self._random_id(64) + self._random_id(64), now + TOKEN_LIFETIME)
            self._tokens[token.value] = token
            self._current_token = token
            self.tokens_issued += 1
        seconds = max(0, int((token.expires - now).total_seconds()))
        return self._ok(access_token=token.value, expires_in=seconds)

    # -- 网页授权 (91022 构造网页授权链接, 91023 获取访问用户身份) ---------------------------------------------

    async def open_link(self, member: FakeMember, url: str, *, outsider: bool = False) -> tuple[int, str]:
        """See :meth:`FakeMember.open_link`. The authorize link is checked as 91022 describes it: this corp's appid,
        response_type=code, scope snsapi_base (or snsapi_privateinfo, with the agentid), a state of at most 128
        letters and digits, the agentid (if given) this app's, and the ``#wechat_redirect`` WeCom's client
        looks for; a bad link does not return (WeCom shows its own error page: status 0 here)."""
        self.links_opened += 1
        authorize = f"{self.api_base}/connect/oauth2/authorize?"
        session = self._session
        assert session is not None
        if not url.startswith(authorize):
            async with session.get(url, allow_redirects=False) as response:
                return response.status, await response.text()
        query, _, fragment = url[len(authorize):].partition("#")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        state = params.get("state", "")
        good = (fragment == "wechat_redirect" and params.get("appid") == self.corp_id
                and params.get("response_type") == "code"
                and params.get("scope") in ("snsapi_base", "snsapi_privateinfo")
                and (params.get("scope") == "snsapi_base" or params.get("agentid"))
                and params.get("agentid", str(self.agent_id)) == str(self.agent_id)
                and len(state) <= 128 and (not state or state.isascii() and state.isalnum())
                and params.get("redirect_uri", "").startswith(("http://", "https://")))
        if not good:
            return 0, "WeCom: the link is not a valid 网页授权 link"
        back = params["redirect_uri"]
        code = self.oauth_code(member, back, outsider=outsider)
        target = back + ("&" if "?" in back else "?") + urllib.parse.urlencode({"code": code, "state": state})
        async with session.get(target, allow_redirects=False) as response:
            return response.status, await response.text()

    def oauth_code(self, member: FakeMember, back: str, *, outsider: bool = False) -> str:
        """A new 网页授权 code naming ``member`` (or an outsider's openid), for a return to ``back``: what WeCom
        gives the member's browser; valid once, for five minutes of ``clock``."""
        code = self._random_id(64)
        self._oauth_codes[code] = _OAuthCode(
            None if outsider else member.userid, f"o{self._random_id(27)}" if outsider else None,
            urllib.parse.urlsplit(back).hostname or "", self.clock.now() + OAUTH_CODE_LIFETIME)
        return code

    def _getuserinfo(self, request: web.Request) -> web.Response:
        code = request.query.get("code", "")
        if not code:
            raise _ApiError(41008)  # missing oauth code
        found = self._oauth_codes.get(code)
        if found is None or found.used or found.expires <= self.clock.now():
            raise _ApiError(40029)  # invalid code: unknown, used once already, or older than five minutes
        if self.trusted_domain is not None and found.host != self.trusted_domain:
            raise _ApiError(50001)  # the return address is not on the app's 可信域名
        found.used = True
        if found.userid is not None:  # a member, in the app's visible range or not
            return self._ok(userid=found.userid)
        return self._ok(openid=found.openid)

    def _check_token(self, request: web.Request) -> None:
        value = request.query.get("access_token")
        if not value:
            raise _ApiError(41001)
        token = self._tokens.get(value)
        if token is None:
            raise _ApiError(40014)
        if token.expired_early or token.expires <= self.clock.now():
            raise _ApiError(42001)
        if not token.valid:
            raise _ApiError(40014)

    def _count_api(self, path: str) -> None:
        """90454 基础频率: at most 10 000 a minute and 150 000 an hour per API (45009)."""
        windows = self._api_calls.setdefault(path, _Windows())
        if not windows.admit(self.rate_clock(), API_PER_MINUTE, API_PER_HOUR, count_refused=False):
            raise _ApiError(45009)

    @staticmethod
    async def _json(request: web.Request) -> JSONDict:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _ApiError(47001, "body is not UTF-8 JSON") from None
        if not isinstance(body, dict):
            raise _ApiError(47001, "body is not a JSON object")
        if _UNICODE_ESCAPE.search(raw.decode("utf-8")):  # 90313 40033: UTF-8, "不含\\uxxxx格式的字符"
            raise _ApiError(40033, "invalid charset: \\uxxxx escapes in the body")
        return body

    def _check_agent(self, value: Any, *, in_query: bool = False) -> None:
        if value is None or value == "":
            raise _ApiError(41011)
        if not in_query and (not isinstance(value, int) or isinstance(value, bool)):  # 90236: agentid 整型
            raise _ApiError(40056, "agentid must be an integer")
        try:
            agent = int(value)
        except (TypeError, ValueError):
            raise _ApiError(40056) from None
        if agent != self.agent_id:
            raise _ApiError(40056)

    # -- message/send (90236) ---------------------------------------------------------------------

    def _message_send(self, body: JSONDict) -> web.Response:
        self._check_agent(body.get("agentid"))
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "markdown", "image", "file", "voice", "video", "template_card"):
            raise _ApiError(40008, f"msgtype {msgtype!r}")
        touser = body.get("touser")
        if not isinstance(touser, str) or not touser.strip():
            raise _ApiError(40035, "touser")  # this fake has no departments or tags
        if touser.strip() == "@all":
            raise _ApiError(40035, "@all is not used by the liaison bot; refused to be safe")
        userids = [u for u in touser.split("|") if u]
        if len(userids) > MAX_TOUSER:
            raise _ApiError(40032)
        content = body.get(msgtype)
        if not isinstance(content, dict):
            raise _ApiError(40035, f"{msgtype} object missing")
        truncated = False
        items: dict[str, Any] = {}
        if msgtype in ("text", "markdown"):
            text = content.get("content")
            if not isinstance(text, str) or not text:
                raise _ApiError(44004)
            raw = text.encode("utf-8")
            if len(raw) > TEXT_MAX_BYTES:  # 90236: "超过将截断" — accepted, and cut
                text = raw[:TEXT_MAX_BYTES].decode("utf-8", errors="ignore")
                truncated = True
            items["text"] = text
        elif msgtype in ("image", "file", "voice", "video"):
            media_id = content.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise _ApiError(41006)
            media = self._media.get(media_id)
            if media is None or self.clock.now() - media.created >= MEDIA_LIFETIME:
                raise _ApiError(40007)
            if msgtype != "file" and media.kind != msgtype:
                raise _ApiError(40007, f"a {media.kind} media_id sent as {msgtype}")
            items.update(data=media.data, filename=media.filename, text=media.filename)
        else:
            items.update(self._check_card(content))
            truncated = bool(items.pop("cut"))
        # duplicate check (90236): the same request JSON within the interval is not delivered again
        if body.get("enable_duplicate_check") in (1, "1"):
            digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            interval = timedelta(seconds=int(body.get("duplicate_check_interval") or 1800))
            seen = self._dedupe.get(digest)
            self._dedupe[digest] = self.clock.now()
            if seen is not None and self.clock.now() - seen < interval:
                self._msgid += 1
                return self._ok(invaliduser="", msgid=str(self._msgid))
        valid: list[FakeMember] = []
        invalid: list[str] = []
        for userid in userids:
            member = self.members.get(userid.lower())
            if member is None or not member.in_range:
                invalid.append(userid.lower())
            elif member not in valid:
                valid.append(member)
        if not valid:
            raise _ApiError(81013)
        self._check_daily_quota(len(valid))
        self._msgid += 1
        msgid = str(self._msgid)
        record = SentRecord(msgid, body, [], [], invalid, self.clock.now())
        if truncated:
            self.truncated.append(msgid)
        fields: JSONDict = {}
        if msgtype == "template_card" and items["buttons"]:
            fields["response_code"] = self._new_response_code(items["task_id"], tuple(m.userid for m in valid))
        for member in valid:
            visible = not (member.via_wechat and msgtype in ("markdown", "template_card"))
            received = Received(msgtype, items.get("text", ""), msgid, self.clock.now(), body,
                                card=items.get("card"), task_id=items.get("task_id"),
                                buttons=list(items.get("buttons", [])), data=items.get("data"),
                                filename=items.get("filename"), truncated=truncated, visible=visible,
                                sent_at=time.monotonic())
            if self._member_rate_ok(member.userid):
                record.delivered.append(member.userid)
                self._deliver(member, received)
            else:
                record.dropped.append(member.userid)
                self.dropped[member.userid].append(received)  # 90236: "超过部分会被丢弃不下发"
        self.sent.append(record)
        return self._ok(invaliduser="|".join(invalid), msgid=msgid, **fields)

    def _deliver(self, member: FakeMember, received: Received) -> None:
        member.received.append(received)
        if self.on_message is not None:
            self.on_message(member, received)

    def _member_rate_ok(self, userid: str) -> bool:
        """90236/90454: 30 a minute and 1 000 an hour per member from this app, sliding windows on
        ``rate_clock`` (stricter than clock-aligned ones); every send counts, dropped ones too."""
        windows = self._member_sends.setdefault(userid, _Windows())
        return windows.admit(self.rate_clock(), PER_MEMBER_PER_MINUTE, PER_MEMBER_PER_HOUR, count_refused=True)

    def _check_daily_quota(self, recipients: int) -> None:
        """90454: each app at most account_limit × 200 recipients a (natural) day. What WeCom answers
        beyond is not documented: 45009 here."""
        day = (self.clock.now() + timedelta(hours=8)).date().isoformat()  # Beijing's natural day
        used = self._day_sends.get(day, 0)
        if used + recipients > self.account_limit * SENDS_PER_ACCOUNT_PER_DAY:
            raise _ApiError(45009, "daily message quota of the app")
        self._day_sends[day] = used + recipients

    def _check_card(self, card: JSONDict, *, update: bool = False) -> JSONDict:
        card_type = card.get("card_type")
        if card_type not in ("text_notice", "news_notice", "button_interaction", "vote_interaction",
                             "multiple_interaction"):
            raise _ApiError(40058, f"card_type {card_type!r}")
        if card_type in ("vote_interaction", "multiple_interaction", "news_notice"):
            raise _ApiError(40058, f"{card_type} is not modelled by this fake; refused rather than faked")
        title = (card.get("main_title") or {}).get("title") if isinstance(card.get("main_title"), dict) else None
        if card_type == "button_interaction" and not title:
            raise _ApiError(40058, "main_title.title is required")
        if card_type == "text_notice" and not title and not card.get("sub_title_text"):
            raise _ApiError(40058, "main_title.title or sub_title_text is required")
        if card_type == "text_notice" and not isinstance(card.get("card_action"), dict):
            raise _ApiError(40058, "card_action is required for text_notice")
        task_id = card.get("task_id")
        buttons: list[tuple[str, str]] = []
        if card_type == "button_interaction" or card.get("action_menu"):
            if not isinstance(task_id, str) or not task_id:
                raise _ApiError(40058, "task_id is required")
            if len(task_id.encode("utf-8")) > TASK_ID_MAX_BYTES or not TASK_ID_SHAPE.match(task_id):
                raise _ApiError(40058, "task_id: at most 128 bytes of digits, letters, _ - @")
            if not update:
                if task_id in self._task_ids:
                    raise _ApiError(40058, "task_id exists: task_ids are unique per app")
        for name, most in (("horizontal_content_list", CARD_MAX_HORIZONTAL), ("jump_list", CARD_MAX_JUMPS),
                           ("vertical_content_list", CARD_MAX_VERTICAL)):
            if len(card.get(name) or []) > most:
                raise _ApiError(40058, f"{name}: at most {most}")
        if card_type == "button_interaction":
            button_list = card.get("button_list")
            if not isinstance(button_list, list) or not 1 <= len(button_list) <= CARD_MAX_BUTTONS:
                raise _ApiError(40058, f"button_list: 1..{CARD_MAX_BUTTONS} buttons")
            keys: set[str] = set()
            for button in button_list:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                    raise _ApiError(40058, "button text is required")
                if button.get("type", 0) not in (0, 1):
                    raise _ApiError(40058, "button type is 0 or 1")
                if button.get("type", 0) == 0:
                    key = button.get("key")
                    if not isinstance(key, str) or not key:
                        raise _ApiError(40058, "button key is required for a callback button")
                    if len(key.encode("utf-8")) > CARD_KEY_MAX_BYTES:
                        raise _ApiError(40058, f"button key over {CARD_KEY_MAX_BYTES} bytes")
                    if key in keys:
                        raise _ApiError(40058, "button keys must differ")
                    keys.add(key)
                    buttons.append((key, _shown(button["text"], CARD_BUTTON_CHARS)))
        if isinstance(task_id, str) and task_id and not update:
            self._task_ids.add(task_id)
        title, sub_title = str(title or ""), str(card.get("sub_title_text") or "")
        long_labels = [b["text"] for b in card.get("button_list") or [] if len(b["text"]) > CARD_BUTTON_CHARS]
        cut = len(title) > CARD_TITLE_CHARS or len(sub_title) > CARD_TEXT_CHARS or bool(long_labels)
        parts = [_shown(title, CARD_TITLE_CHARS), str((card.get("main_title") or {}).get("desc") or ""),
                 _shown(sub_title, CARD_TEXT_CHARS)]
        parts += [f"{h.get('keyname', '')}：{h.get('value', '')}" for h in card.get("horizontal_content_list") or []]
        text = "\n".join(p for p in parts if p)
        return {"text": text, "card": card, "task_id": task_id, "buttons": buttons, "cut": cut}

    # -- update_template_card (94888) ---------------------------------------------------------------

    def _update_card(self, body: JSONDict) -> web.Response:
        self._check_agent(body.get("agentid"))
        code_value = body.get("response_code")
        if not isinstance(code_value, str) or not code_value:
            raise _ApiError(40035, "response_code")
        code = self._codes.get(code_value)
        if code is None:
            raise _ApiError(40035, "unknown response_code")
        if code.used:
            raise _ApiError(40035, "response_code already used: each is single-use (94888)")
        if self.clock.now() >= code.expires:
            raise _ApiError(40035, "response_code expired")
        button = body.get("button")
        new_card = body.get("template_card")
        if isinstance(button, dict):
            replace_name = button.get("replace_name")
            if not isinstance(replace_name, str) or not replace_name:
                raise _ApiError(40035, "button.replace_name")
        elif isinstance(new_card, dict):
            checked = self._check_card(new_card, update=True)
        else:
            raise _ApiError(40035, "button or template_card is required")
        targets = set(code.userids)
        if body.get("atall") in (1, "1"):
            targets = {m.userid for m in self.members.values()}
        elif body.get("userids"):
            wanted = body["userids"]
            if not isinstance(wanted, list) or len(wanted) > MAX_TOUSER:
                raise _ApiError(40035, "userids")
            targets &= {str(u) for u in wanted}
        code.used = True
        invalid = []
        for userid in sorted(targets):
            member = self.members.get(userid.lower())
            if member is None or not member.in_range:
                invalid.append(userid.lower())
                continue
            for item in member.received:
                if item.task_id != code.task_id or item.kind != "template_card":
                    continue
                item.updates.append(body)
                if isinstance(button, dict):
                    item.chosen = str(button["replace_name"])
                    item.disabled = True
                else:
                    item.card = checked["card"]
                    item.text = checked["text"]
                    item.buttons = checked["buttons"]
                    item.disabled = not checked["buttons"]
        return self._ok(invaliduser=invalid)

    # -- media (90253 upload, 90254 get) -----------------------------------------------------------

    async def _media_upload(self, request: web.Request) -> web.Response:
        kind = request.query.get("type")
        if kind not in MEDIA_MAX_BYTES:
            raise _ApiError(40005)
        if not request.content_type.startswith("multipart/form-data"):
            raise _ApiError(41005, "multipart/form-data expected")
        reader = await request.multipart()
        data: bytes | None = None
        filename: str | None = None
        content_type = "application/octet-stream"
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            disposition = part.headers.get("Content-Disposition", "")
            if _disposition_param(disposition, "name") != "media":
                await part.read()
                continue
            filename = _disposition_param(disposition, "filename")
            length = _disposition_param(disposition, "filelength")
            content_type = part.headers.get("Content-Type", content_type)
            data = bytes(await part.read())
            # 90253: the media part "应包含有 filename、filelength、content-type等信息"
            if length is None or not length.isdigit() or int(length) != len(data):
                raise _ApiError(41005, "the media part's filelength is missing or is not its length (90253)")
        if data is None:
            raise _ApiError(41005, 'no form-data part named "media"')
        if filename is None:
            # WeCom reads only filename="…" (raw UTF-8); RFC 2231/5987 filename*= is not understood.
            raise _ApiError(41005, 'the media part has no plain filename="…" parameter')
        if len(data) < MEDIA_MIN_BYTES:
            raise _ApiError(40006, "files must be over 5 bytes (90253)")
        if len(data) > MEDIA_MAX_BYTES[kind]:
            raise _ApiError({"image": 40009, "video": 40011}.get(kind, 40006))
        if kind == "image" and not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
            raise _ApiError(40004, "image: JPG or PNG only (90253)")
        if kind == "voice" and not data.startswith(b"#!AMR"):
            raise _ApiError(40004, "voice: AMR only (90253)")
        if kind == "video" and data[4:8] != b"ftyp":
            raise _ApiError(40004, "video: MP4 only (90253)")
        media = self._store_media(kind, data, filename, content_type)
        return self._ok(type=kind, media_id=media.media_id, created_at=str(int(media.created.timestamp())))

    def _media_get(self, request: web.Request) -> web.StreamResponse:
        media_id = request.query.get("media_id")
        if not media_id:
            raise _ApiError(41006)
        media = self._media.get(media_id)
        if media is None or self.clock.now() - media.created >= MEDIA_LIFETIME:
            raise _ApiError(40007)  # 90254: media_id is valid three days
        headers = {"Content-Disposition": f'attachment; filename="{media.filename}"'}
        return web.Response(body=media.data, content_type=media.content_type, headers=headers)

    # -- menu/create (90231) ----------------------------------------------------------------------

    def _menu_create(self, request: web.Request, body: JSONDict) -> web.Response:
        self._check_agent(request.query.get("agentid"), in_query=True)
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_MAX_BUTTONS:
            raise _ApiError(40016)
        for button in buttons:
            if not isinstance(button, dict):
                raise _ApiError(40017)
            subs = button.get("sub_button")
            _check_menu_name(button.get("name"), MENU_NAME_MAX_BYTES, 40018)
            if subs is not None and subs != []:
                if not isinstance(subs, list) or len(subs) > MENU_MAX_SUB_BUTTONS:
                    raise _ApiError(40023)
                for sub in subs:
                    if not isinstance(sub, dict):
                        raise _ApiError(40024)
                    if sub.get("sub_button"):
                        raise _ApiError(40022)
                    _check_menu_name(sub.get("name"), MENU_SUB_NAME_MAX_BYTES, 40025)
                    _check_menu_action(sub, 40024, 40026, 40027)
            else:
                _check_menu_action(button, 40017, 40019, 40020)
        self.menu = body
        if self.on_menu is not None:
            self.on_menu(body)
        return self._ok()


def _check_menu_name(name: Any, most: int, errcode: int) -> None:
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > most:
        raise _ApiError(errcode)


def _check_menu_action(item: JSONDict, type_code: int, key_code: int, url_code: int) -> None:
    kind = item.get("type")
    if kind not in MENU_TYPES:
        raise _ApiError(type_code)
    if kind == "view":
        url = item.get("url")
        if not isinstance(url, str) or not url or len(url.encode("utf-8")) > MENU_URL_MAX_BYTES:
            raise _ApiError(url_code)
    elif kind != "view_miniprogram":
        key = item.get("key")
        if not isinstance(key, str) or not key or len(key.encode("utf-8")) > MENU_KEY_MAX_BYTES:
            raise _ApiError(key_code)


_DISPOSITION_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


# A \uXXXX escape in JSON text: a backslash that is not itself escaped, then u and four hex digits
_UNICODE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}")


def _disposition_param(header: str, name: str) -> str | None:
    """A plain ``name="value"`` (or unquoted) parameter of a Content-Disposition header, taken as
    written: never decoded from ``name*=`` (RFC 2231/5987), which WeCom ignores."""
    for piece in _DISPOSITION_PARAM.finditer(header):
        key, value = piece.group(1), piece.group(2).strip()
        if key.lower() != name:
            continue
        if value.startswith('"') and value.endswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return value
    return None


def _extension(kind: str) -> str:
    return {"image": "jpg", "voice": "amr", "video": "mp4"}.get(kind, "bin")


# ---------------------------------------------------------------------------
# Standalone mode: python -m tests.fakewecom
# ---------------------------------------------------------------------------

_HELP = """Member actions, one a line (a member is @userid, @名字, or @userid:名字 the first time):
  @王建国 提交                 the member sends this text (binding: @王建国 绑定 123456)
  @王建国 !menu KEY            presses the app menu item KEY (!menu alone lists the menu)
  @王建国 !press N             presses button N of the member's latest card (!press TASKID KEY also works)
  @王建国 !image FILE          sends a picture (JPG or PNG)
  @王建国 !enter               opens the app (enter_agent event)
  @王建国 !open LINK           opens a link in WeCom (an invite's WeCom link binds the member)
  members                      lists the members and their userids
  help                         this text;   quit   stops the fake"""


def _derived_userid(name: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.@\-]{1,64}", name):
        return name
    return "m" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


class _Console:
    def __init__(self, fake: FakeWeCom, out_dir: Path) -> None:
        self.fake = fake
        self.out_dir = out_dir
        self.names: dict[str, FakeMember] = {}
        fake.on_message = self.show
        fake.on_menu = self.menu_set

    def show(self, member: FakeMember, item: Received) -> None:
        who = f"{member.name} ({member.userid})"
        if item.kind in ("text", "markdown"):
            body = item.text + (" …[WeCom cut this message at 2048 bytes]" if item.truncated else "")
            print(f"\n→ {who}:\n{body}", flush=True)
        elif item.kind == "template_card":
            print(f"\n→ {who} [card {item.task_id}]:\n{item.text}", flush=True)
            for n, (key, text) in enumerate(item.buttons, 1):
                print(f"   [{n}] {text}    (!press {n})", flush=True)
        elif item.data is not None:
            target = self.out_dir / f"{member.userid}-{item.msgid}-{item.filename}"
            target.write_bytes(item.data)
            print(f"\n→ {who} [{item.kind}] {item.filename} saved as {target}", flush=True)
        else:
            print(f"\n→ {who} [{item.kind}] {item.text}", flush=True)

    def menu_set(self, menu: JSONDict) -> None:
        names = [b.get("name", "") for b in menu.get("button", [])]
        print(f"(the bot is connected: it set the app menu {' / '.join(names)})", flush=True)

    def resolve(self, token: str) -> FakeMember:
        userid, _, name = token.partition(":")
        if name:
            member = self.fake.member(userid, name)
            self.names[name] = member
            return member
        if token in self.names:
            return self.names[token]
        member = self.fake.member(_derived_userid(token), token)
        if token != member.userid and token not in self.names:
            print(f"(member {token} has userid {member.userid}: bind it with the bot's command line, "
                  f"or send 绑定 and an invite code)", flush=True)
        self.names[token] = member
        return member

    async def run_line(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line in ("quit", "exit"):
            return False
        if line == "help":
            print(_HELP, flush=True)
            return True
        if line == "members":
            for m in self.fake.members.values():
                print(f"  {m.name}: userid {m.userid}, {len(m.received)} received", flush=True)
            return True
        if not line.startswith("@") or " " not in line:
            print("Begin with @member and a space; type help.", flush=True)
            return True
        who, rest = line[1:].split(" ", 1)
        member = self.resolve(who)
        rest = rest.strip()
        try:
            if rest.startswith("!menu"):
                args = rest.split()
                if len(args) == 1:
                    print(json.dumps(self.fake.menu, ensure_ascii=False, indent=1), flush=True)
                    return True
                delivery = await member.click_menu(args[1])
            elif rest.startswith("!press"):
                args = rest.split()
                if len(args) == 2:
                    card = member.last_card()
                    key = card.buttons[int(args[1]) - 1][0]
                    delivery = await member.press(str(card.task_id), key)
                else:
                    delivery = await member.press(args[1], args[2])
            elif rest.startswith("!image"):
                delivery = await member.send_image(Path(rest.split(None, 1)[1]).read_bytes())
            elif rest == "!enter":
                delivery = await member.enter_agent()
            elif rest.startswith("!open"):
                status, text = await member.open_link(rest.split(None, 1)[1])
                shown = re.sub(r"<[^>]+>", " ", text)
                print(f"(the page, HTTP {status}: {' '.join(shown.split())})", flush=True)
                return True
            else:
                delivery = await member.send_text(rest)
        except (WeComUnsupported, IndexError, ValueError, OSError) as exc:
            print(f"(not possible: {exc})", flush=True)
            return True
        if not delivery.answered:
            print(f"(the bot did not answer the callback: HTTP {delivery.statuses}; WeCom gave up)", flush=True)
        return True


async def _standalone(args: argparse.Namespace) -> None:
    fake = FakeWeCom(corp_id=args.corp_id, corp_secret=args.secret, agent_id=args.agent_id, token=args.token,
                     encoding_aes_key=args.aes_key)
    await fake.start(args.port)
    fake.callback_url = args.callback
    out_dir = Path(tempfile.mkdtemp(prefix="fakewecom-"))
    console = _Console(fake, out_dir)
    for token in args.member:  # in the contact list from the start, as the office adds people before binding them
        console.resolve(token)
    parts = urllib.parse.urlsplit(args.callback)
    origin = f"{parts.scheme}://{parts.netloc}"  # the bot's callback server, standing in for its HTTPS proxy
    print(f"""Fake WeCom listening on {fake.api_base}; callbacks go to {args.callback}.
Put this in the bot's configuration file, and the secret in its environment:

[wecom]
corp_id = "{fake.corp_id}"
agent_id = {fake.agent_id}
token = "{fake.token}"
encoding_aes_key = "{fake.encoding_aes_key}"
api_base = "{fake.api_base}"
public_url = "{origin}"
oauth_base = "{fake.api_base}"

    export LIAISON_WECOM_SECRET='{fake.corp_secret}'

Files members receive are saved in {out_dir}.
{_members(fake)}{_HELP}
""", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if not await console.run_line(line):
                break
    finally:
        await fake.stop()


def _members(fake: FakeWeCom) -> str:
    if not fake.members:
        return ""
    listed = ", ".join(f"{m.name} ({m.userid})" for m in fake.members.values())
    return f"In the contact list: {listed}.\n"


def _member_token(text: str) -> str:
    userid, _, name = text.partition(":")
    if not userid or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: give USERID:名字, e.g. chenjing:陈静")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakewecom",
                                     description="A fake WeCom server and members, to try the liaison bot.")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--callback", default="http://127.0.0.1:8080/wecom", help="the bot's callback URL")
    parser.add_argument("--corp-id", default=DEFAULTS["corp_id"])
    parser.add_argument("--agent-id", type=int, default=DEFAULTS["agent_id"])
    parser.add_argument("--secret", default=DEFAULTS["corp_secret"])
    parser.add_argument("--token", default=DEFAULTS["token"])
    parser.add_argument("--aes-key", default=DEFAULTS["encoding_aes_key"])
    parser.add_argument("--member", action="append", default=[], type=_member_token, metavar="USERID:名字",
                        help="a member of the corp's contact list from the start, who can be sent messages before "
                             "they first write (WeCom refuses a userid it does not know, 81013); repeatable")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_standalone(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
