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
"""

from __future__ import annotations

import logging
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.wecom_crypto import CallbackRefused, WeComCrypto, check_timestamp
from bot.clock import Clock

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a callback is a few hundred bytes; anything this large is not WeCom's
Store = Callable[[dict[str, str]], Awaitable[bool]]  # False: not kept (not the bot's to handle)


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
                 max_skew: float) -> None:
        self.crypto = crypto
        self.clock = clock
        self.store = store
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

    def _refuse(self, what: str, exc: CallbackRefused) -> web.Response:
        self.refused += 1
        log.warning("wecom: %s refused (%s)", what, exc.reason)
        return web.Response(status=403)
