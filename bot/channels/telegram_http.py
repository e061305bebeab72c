"""The HTTP transport of the Telegram channel: python-telegram-bot's requests carried by aiohttp.

python-telegram-bot builds every Bot API request (parameters, files, error answers → exceptions) and
hands it to a `BaseRequest` for the HTTP; its own one, HTTPXRequest, spent more CPU per call than the
bot's whole handling of an update once dozens of sends were in flight (httpx and httpcore, on anyio:
the connection pool's bookkeeping, a per-request `import sniffio`, per-socket polling). aiohttp, which
the WeCom channel will use as well, carries the same requests for about a third of that (measured in
docs/performance.md). The wire format does not change: form-encoded parameters, multipart with files.

Errors keep the meaning PTB gives them, which the dispatcher relies on: a timeout, with the request
possibly delivered, is `TimedOut`; anything else at the HTTP level (refused, dropped, reset, and a
timeout while still waiting for a connection, before anything was sent) is a `NetworkError`, whose
text never holds the token; the Bot API's own error answers are mapped by PTB from the status and body.

As httpx did, proxies come from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); redirects
are not followed (a POST redirected becomes a GET without its body, and would carry the token along).
"""

from __future__ import annotations

import asyncio
import re
import sys
import urllib.request
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECTIONS = 64  # sends in flight at once; more wait for a connection (the pool timeout)
_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")  # as it stands in a Bot API URL: /bot<token>/method
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"]')  # not allowed in a multipart header as they are


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` over one aiohttp session of up to `connections` connections.

    Timeouts as PTB defines them: `connect` to open a connection, `read` between bytes of the answer,
    `pool` to wait for a free connection, `write` for sending the request; each call may override them.
    """

    def __init__(self, connections: int = CONNECTIONS, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 5.0, media_write_timeout: float | None = 20.0) -> None:
        self.connections = connections
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[str, str | None] = {}  # scheme://host[:port] -> its proxy, or None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Aborted TLS connections leak on Pythons before 3.12.7 unless aiohttp cleans them up itself
            # (it warns that the option is obsolete after).
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0, ttl_dns_cache=300,
                                             enable_cleanup_closed=sys.version_info < (3, 12, 7))
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT},
                                                  skip_auto_headers=("Accept-Encoding",))
            # The proxy settings, read once (aiohttp's trust_env reads the environment on every request:
            # 15 % of the bot's throughput).
            self._proxies, self._proxy_of = urllib.request.getproxies(), {}

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        has_files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._media_write if has_files else self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        # aiohttp's `connect` covers waiting for a pooled connection and opening one, and `sock_read` the
        # gap between two pieces of the answer (as httpx's read timeout: a large download may take long,
        # as long as it moves). aiohttp has no write timeout: an upload is bounded by the sum of the four.
        parts = [t for t in (read, write, connect, pool) if t is not None]
        timeout = aiohttp.ClientTimeout(
            total=sum(parts) if has_files and len(parts) == 4 else None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect, sock_read=read)
        data: Any = None
        if request_data is not None:
            data = _form(request_data) if has_files else request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout, proxy=self._proxy(url),
                                             allow_redirects=False) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:  # no connection in time: nothing was sent
            raise NetworkError(f"aiohttp.{type(exc).__name__}: no connection within the timeout") from exc
        except asyncio.TimeoutError as exc:  # aiohttp's ServerTimeoutError too: the request may have arrived
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(_TOKEN.sub("bot<token>", f"aiohttp.{type(exc).__name__}: {exc}")) from exc


    def _proxy(self, url: str) -> str | None:
        """The proxy for `url` from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, unless NO_PROXY names its host."""
        origin = "/".join(url.split("/", 3)[:3])
        if origin not in self._proxy_of:
            scheme, _, host = origin.partition("://")
            proxy = self._proxies.get(scheme) or self._proxies.get("all")
            if proxy and urllib.request.proxy_bypass(host):
                proxy = None
            self._proxy_of[origin] = proxy
        return self._proxy_of[origin]


def _form(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        # A file name comes from a user; as httpx did, what a header cannot hold is percent-encoded.
        safe = _UNSAFE_IN_NAME.sub(lambda m: f"%{ord(m.group()):02X}", filename)
        form.add_field(name, content, filename=safe, content_type=mime)
    return form
