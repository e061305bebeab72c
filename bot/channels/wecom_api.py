"""The WeCom server API as the channel uses it: one access token, shared, and WeCom's errcodes.

Every request goes to the configured `api_base` (WeCom's, 政务微信's, a private deployment's, a
local fake), the token request included. The access token (91039 获取access_token: valid
`expires_in` seconds, 7 200) is cached for its lifetime in the database, shared by every process
of the installation, and refreshed only when it has expired or a call answers 40014 (invalid),
42001 (expired) or 42009 — and then only if the cache still holds the token that failed, behind one
lock: WeCom may invalidate the previous token when a new one is issued, so processes refreshing on
their own would invalidate each other's in turn.

Transport failures are reported in the dispatcher's terms (bot/channels/base.py): nothing sent
(refused connection, no connection in time, HTTP 5xx) is a `TemporaryFailure`; a request that may
have arrived (a timeout or a dropped connection after sending) is `MaybeDelivered`. WeCom's own
refusals (errcode ≠ 0) are `WeComError`, which the channel maps (bot/channels/wecom.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.channels.base import MaybeDelivered, TemporaryFailure
from bot.clock import Clock
from bot.config import WeComConfig
from storage import wecom as store
from storage.db import Database

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40014, 42001, 42009})  # 90313 全局错误码: invalid / expired access_token
_ERROR_START = b'{"errcode"'  # how an error's body begins (90254: media/get answers a file, or an error in JSON)
EARLY = timedelta(minutes=5)  # refresh this long before the token's announced end (half its life, if shorter)


class WeComError(Exception):
    """WeCom answered an errcode other than 0; `errmsg` may name the server's IP (60020), never a secret."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{path}: errcode {errcode} ({errmsg[:200]})")
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg


class WeComAPI:
    def __init__(self, config: WeComConfig, db: Database, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.base = config.api_base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)
        self._lock = asyncio.Lock()
        self.token_requests = 0

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.request_timeout,
                                            sock_read=self.config.request_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout, skip_auto_headers=("Accept-Encoding",))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # -- the token ----------------------------------------------------------------------

    async def token(self) -> str:
        """A token believed valid: this process's, the one another process stored, or a new one."""
        if self._token is not None and self.clock.now() < self._expires:
            return self._token
        return await self._refresh(failed=self._token)

    async def _refresh(self, failed: str | None) -> str:
        """A token other than `failed`: one refreshed meanwhile (here or by another process), else a new one."""
        async with self._lock:
            now = self.clock.now()
            if self._token is not None and self._token != failed and now < self._expires:
                return self._token  # refreshed by another call of this process while this one waited
            async with self.db.snapshot() as q:
                stored = await store.token(q, self.config.corp_id, self.config.agent_id)
            if stored is not None and stored[0] != failed and now < stored[1]:
                self._token, self._expires = stored  # another process refreshed it: use theirs
                return stored[0]
            data = await self._request("GET", "/cgi-bin/gettoken",
                                       {"corpid": self.config.corp_id, "corpsecret": self.config.secret},
                                       idempotent=True)
            self.token_requests += 1
            value, lifetime = data.get("access_token"), data.get("expires_in", 7200)
            if not isinstance(value, str) or not value or not isinstance(lifetime, int) or lifetime <= 0:
                raise TemporaryFailure("gettoken answered without a token")
            # kept until EARLY before its end; a token handed out again with less life left than twice that (gettoken
            # answers the same token while it is valid, 91039) until half of what is left: not fetched on every call
            expires = now + timedelta(seconds=lifetime) - min(EARLY, timedelta(seconds=lifetime) / 2)
            async with self.db.transaction() as tx:
                await store.save_token(tx, self.config.corp_id, self.config.agent_id, value, expires)
            self._token, self._expires = value, expires
            log.info("wecom: new access token, valid %d s", lifetime)
            return value

    # -- calls --------------------------------------------------------------------------

    async def call(self, method: str, path: str, params: dict[str, str] | None = None, *,
                   body: dict[str, Any] | None = None, form: aiohttp.MultipartWriter | None = None,
                   idempotent: bool = False) -> dict[str, Any]:
        """Call an API method with the token; on a token error, refresh it (see the module) and try once more."""
        for attempt in (1, 2):
            current = await self.token()
            try:
                return await self._request(method, path, {**(params or {}), "access_token": current},
                                           body=body, form=form, idempotent=idempotent)
            except WeComError as exc:
                if exc.errcode not in TOKEN_ERRORS or attempt == 2:
                    raise
                log.info("wecom %s: token refused (%d); refreshing", path, exc.errcode)
                await self._refresh(failed=current)
        raise AssertionError("unreachable")

    async def download(self, media_id: str, max_bytes: int) -> tuple[bytes, str | None, str | None]:
        """media/get (90254): the bytes, the file name WeCom gives and its type; WeComError for an errcode,
        ValueError if larger than `max_bytes`."""
        for attempt in (1, 2):
            current = await self.token()
            session = self._require_session()
            url = f"{self.base}/cgi-bin/media/get"
            try:
                async with session.get(url, params={"access_token": current, "media_id": media_id},
                                       allow_redirects=False) as response:
                    if response.status != 200:  # not the file (90254 promises it with 200): never kept as one
                        raise TemporaryFailure(f"media/get: HTTP {response.status}")
                    kind = response.headers.get("Content-Type", "")
                    head = await _read_up_to(response.content, len(_ERROR_START))
                    if "json" in kind or "text/plain" in kind or head == _ERROR_START:  # an error, whatever its type
                        data = _decode(head + await response.read(), "/cgi-bin/media/get")
                        error = WeComError("/cgi-bin/media/get", int(data.get("errcode", -1)),
                                           str(data.get("errmsg", "")))
                        if error.errcode in TOKEN_ERRORS and attempt == 1:
                            await self._refresh(failed=current)
                            continue
                        raise error
                    if response.content_length is not None and response.content_length > max_bytes:
                        raise ValueError("too large")
                    data_bytes = head + await _read_up_to(response.content, max_bytes + 1 - len(head))
                    if len(data_bytes) > max_bytes:
                        raise ValueError("too large")
                    return data_bytes, _filename(response.headers.get("Content-Disposition", "")), kind or None
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise TemporaryFailure(f"media/get: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, params: dict[str, str], *, body: dict[str, Any] | None = None,
                       form: aiohttp.MultipartWriter | None = None, idempotent: bool = False) -> dict[str, Any]:
        session = self._require_session()
        url = f"{self.base}{path}"
        data: Any = form
        headers = {}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with session.request(method, url, params=params, data=data, headers=headers,
                                       allow_redirects=False) as response:
                raw = await response.read()
                status = response.status
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
            raise TemporaryFailure(f"{path}: cannot connect ({type(exc).__name__})") from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise TemporaryFailure(f"{path}: no connection in time") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            if idempotent:
                raise TemporaryFailure(f"{path}: {type(exc).__name__}") from exc
            raise MaybeDelivered(f"{path}: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:
            raise TemporaryFailure(f"{path}: HTTP {status}")
        if status != 200:
            raise WeComError(path, -2, f"HTTP {status}")
        answer = _decode(raw, path)
        errcode = answer.get("errcode", 0)
        if not isinstance(errcode, int):
            raise MaybeDelivered(f"{path}: an answer without a numeric errcode")
        if errcode != 0:
            raise WeComError(path, errcode, str(answer.get("errmsg", "")))
        return answer

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise RuntimeError("WeComAPI is not started")
        return self._session


async def _read_up_to(stream: aiohttp.StreamReader, size: int) -> bytes:
    """`size` bytes of the body, or all of it if shorter: a stream's read() gives only what has arrived so far."""
    pieces: list[bytes] = []
    while size > 0:
        piece = await stream.read(size)
        if not piece:
            break
        pieces.append(piece)
        size -= len(piece)
    return b"".join(pieces)


def _decode(raw: bytes, path: str) -> dict[str, Any]:
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MaybeDelivered(f"{path}: an answer that is not JSON") from None
    if not isinstance(answer, dict):
        raise MaybeDelivered(f"{path}: an answer that is not a JSON object")
    return answer


def _filename(disposition: str) -> str | None:
    """The file name of a Content-Disposition header as WeCom writes it: filename="…" in raw UTF-8."""
    for part in disposition.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename" and value:
            value = value.strip().strip('"')
            try:  # aiohttp gives the header decoded as Latin-1; WeCom's bytes are UTF-8
                value = value.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass
            return value or None
    return None
