"""The WeCom callback server (接收消息与事件, 90238/90930), in the bot's own event loop (aiohttp.web).

GET is WeCom's URL verification when the app's callback URL is saved: the signature is checked over
`echostr`, which is decrypted and answered as plain text. POST carries a message or an event,
encrypted (bot/channels/wecom_crypto.py). It is verified, decrypted, and handed to `store` (the
inbox) BEFORE it is answered: WeCom waits 5 seconds for the answer, then posts the same callback
again, three times in all, and forgets it. The answer is 200 with an empty body (no passive reply:
every answer goes through the outbox). A refused callback — bad signature, another corp's, not
decryptable, or a timestamp too far from the bot's clock (a replay) — is answered 403 and logged
with its reason only (never its body), and changes nothing.

The query is read as it was sent: `echostr` is Base64, whose `+` a form decoder would turn into a
space; WeCom percent-encodes it, but a proxy may not, so both spellings verify.

GET `<path>/bind` is where WeCom's 网页授权 (91022) returns a member who opened an invite link in WeCom
(`bind_link`): with a one-time `code` that names them to the app (91023 getuserinfo, single use, 5 minutes),
and the invite the link carries. `opened` turns the two into the member's "绑定 CODE", kept in the inbox
before the page is answered, so that binding is the one the typed words do, answered in the chat; the page
only says where to look.
"""

from __future__ import annotations

import html
import logging
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.wecom_crypto import CallbackRefused, WeComCrypto, check_timestamp
from bot.clock import Clock
from bot.config import WeComConfig
from bot.i18n import N_, Translator

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a callback is a few hundred bytes; anything this large is not WeCom's
Store = Callable[[dict[str, str]], Awaitable[bool]]  # False: not kept (not the bot's to handle)
Opened = Callable[[str, str], Awaitable[str]]  # (网页授权 code, invite) → what the page says (a msgid of PAGES)
BIND_PATH = "/bind"  # under the callback's path
MAX_OAUTH_CODE = 512  # 91022: "code长度最大为512字节"
_INVITE = re.compile(r"[A-Za-z0-9_-]{8,64}")  # an invite code (handlers/people/binding.py: 22 of these)

# What the page of an opened invite link says, in both languages (who opened it is not known to the bot yet)
RECEIVED = N_("Received. Please go back to this app's messages in WeCom: the binding's result is there.")
EXPIRED = N_("This link has expired (it works once, within five minutes of opening). Please open it again from the "
             "invitation.")
NOT_A_MEMBER = N_("Please open this link in WeCom, as a member of the unit's contacts. If you are not one yet, please "
                  "ask the liaison office.")
UNAVAILABLE = N_("This could not be done just now. Please open the link again in a few minutes.")
INCOMPLETE = N_("This link is not complete. Please open it again from the invitation.")
USED = N_("This invitation has been used, or has expired. If you opened it before, you are bound already: look in this "
          "app's messages. Otherwise, please ask the liaison office for a new one.")
STATUS = {RECEIVED: 200, EXPIRED: 403, NOT_A_MEMBER: 403, USED: 403, INCOMPLETE: 400, UNAVAILABLE: 503}


def bind_link(config: WeComConfig, invite: str) -> str | None:
    """The invite as a link the member opens in WeCom (91022 构造网页授权链接: snsapi_base, the app's agentid;
    `state` may hold only letters and digits, so the invite travels in the return address), or None without
    `wecom.public_url`."""
    if not config.public_url:
        return None
    back = f"{config.public_url}{config.callback_path}{BIND_PATH}?invite={invite}"
    query = urllib.parse.urlencode({"appid": config.corp_id, "redirect_uri": back, "response_type": "code",
                                    "scope": "snsapi_base", "state": "bind", "agentid": str(config.agent_id)},
                                   quote_via=urllib.parse.quote)
    return f"{config.oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect"


def page(said: str, tz: Any) -> str:
    """A small page in both languages, for a phone."""
    lines = [html.escape(Translator(locale, tz)(said), quote=False) for locale in ("zh_Hans", "en")]
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,"
            " initial-scale=1\"><title>绑定 · Binding</title></head><body style=\"font-family:sans-serif;"
            " padding:1.5em; line-height:1.6\">" + "".join(f"<p>{line}</p>" for line in lines) + "</body></html>")


def raw_query(query_string: str) -> dict[str, str]:
    """The query's parameters, percent-decoded but with `+` kept as `+` (Base64, not a form)."""
    params: dict[str, str] = {}
    for pair in query_string.split("&"):
        name, _, value = pair.partition("=")
        if name:
            params.setdefault(urllib.parse.unquote(name), urllib.parse.unquote(value))
    return params


def parse_xml(text: bytes | str) -> dict[str, str]:
    """The child elements of a callback's <xml> as a flat dict (nested ones by their own tags)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # WeCom never sends them; an entity bomb might
        raise CallbackRefused("XML with a DOCTYPE")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise CallbackRefused("not XML") from None
    fields: dict[str, str] = {}
    for element in root.iter():
        if element is not root and len(element) == 0:
            fields.setdefault(element.tag, (element.text or "").strip())
    return fields


class CallbackServer:
    def __init__(self, crypto: WeComCrypto, clock: Clock, store: Store, *, host: str, port: int, path: str,
                 max_skew: float, opened: Opened | None = None, tz: Any = None) -> None:
        self.crypto = crypto
        self.clock = clock
        self.store = store
        self.opened = opened
        self.tz = tz
        self.host, self.port, self.path = host, port, path
        self.max_skew = max_skew
        self.refused = 0
        self.stored = 0
        self._runner: web.AppRunner | None = None

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def start(self) -> int:
        if self._runner is not None:
            return self.port
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(self.path, self._verify_url)
        app.router.add_post(self.path, self._receive)
        app.router.add_get(self.path + BIND_PATH, self._open_link)
        self._runner = web.AppRunner(app, access_log=None)  # an access log would print every query
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("wecom callback server on %s:%d%s", self.host, self.port, self.path)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _open(self, params: dict[str, str], encrypted: str) -> bytes:
        for name in ("msg_signature", "timestamp", "nonce"):
            if not params.get(name):
                raise CallbackRefused(f"no {name}")
        check_timestamp(params["timestamp"], self.clock.now().timestamp(), self.max_skew)
        return self.crypto.open(params["msg_signature"], params["timestamp"], params["nonce"], encrypted)

    async def _verify_url(self, request: web.Request) -> web.Response:
        params = raw_query(request.rel_url.raw_query_string)
        try:
            echo = self._open(params, params.get("echostr", ""))
        except CallbackRefused as exc:
            return self._refuse("URL verification", exc)
        log.info("wecom: callback URL verified")
        return web.Response(body=echo, content_type="text/plain")

    async def _receive(self, request: web.Request) -> web.Response:
        params = raw_query(request.rel_url.raw_query_string)
        try:
            outer = parse_xml(await request.read())
            fields = parse_xml(self._open(params, outer.get("Encrypt", "")))
        except CallbackRefused as exc:
            return self._refuse("callback", exc)
        except (UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
            self.refused += 1
            log.warning("wecom: callback refused (unreadable body)")
            return web.Response(status=400)
        try:
            kept = await self.store(fields)  # committed before the answer: an answer means it is kept
        except Exception:
            log.exception("wecom: callback from %s could not be stored; WeCom will send it again",
                          fields.get("FromUserName", "?"))
            return web.Response(status=500)
        self.stored += kept
        return web.Response(status=200)  # empty: WeCom shows nothing and sends nothing again

    async def _open_link(self, request: web.Request) -> web.Response:
        """A member back from WeCom's 网页授权 with an invite link: their "绑定 CODE" kept (see the module)."""
        code, invite = request.query.get("code", ""), request.query.get("invite", "")
        if self.opened is None or not code or len(code) > MAX_OAUTH_CODE or not _INVITE.fullmatch(invite):
            # no code: the member declined, or the link was opened outside WeCom (91022 returns without one)
            return self._page(INCOMPLETE, 400)
        try:
            said = await self.opened(code, invite)
        except Exception:
            log.exception("wecom: an invite link could not be taken")
            return self._page(UNAVAILABLE, 503)
        return self._page(said, STATUS.get(said, 503))

    def _page(self, said: str, status: int) -> web.Response:
        return web.Response(text=page(said, self.tz), status=status, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})

    def _refuse(self, what: str, exc: CallbackRefused) -> web.Response:
        self.refused += 1
        log.warning("wecom: %s refused (%s)", what, exc.reason)
        return web.Response(status=403)
