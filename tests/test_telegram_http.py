"""The Telegram channel's HTTP transport (bot/channels/telegram_http.py), over real HTTP on 127.0.0.1:
what it does where aiohttp's defaults and httpx's (which it replaced) differ — proxies, timeouts,
redirects, user-supplied file names, error texts that must not hold the token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_http import AiohttpRequest
from bot.files import FileStore
from bot.messages import Button, OutFile, Reply
from tests.fakebotapi import FakeBotAPI
from tests.fakes import MovableClock
from tests.telegram_env import telegram_config

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(per_chat_interval=0) as server:
        yield server


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    """A one-route HTTP server on 127.0.0.1 (for what the fake Bot API does not do: trickle, redirect)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def request(timeout: float = 2.0, connections: int = 4) -> AiohttpRequest:
    req = AiohttpRequest(connections, read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout,
                         pool_timeout=timeout)
    await req.initialize()
    return req


async def test_proxies_come_from_the_environment_as_with_httpx(fake: FakeBotAPI,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram is blocked in mainland China: a deployment there reaches it through HTTPS_PROXY/HTTP_PROXY."""
    async def nothing(request: web.Request) -> web.StreamResponse:
        return web.Response()

    runner, closed = await serve(nothing)  # a port, then closed
    await runner.cleanup()
    monkeypatch.setenv("HTTP_PROXY", closed)  # a proxy that is not there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    req = await request()
    try:
        with pytest.raises(NetworkError):
            await req.do_request(f"{fake.base_url}{fake.token}/getMe", "POST")
        assert fake.requests == []  # it went to the proxy, not to the server
    finally:
        await req.shutdown()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    req = await request()
    try:
        status, _ = await req.do_request(f"{fake.base_url}{fake.token}/getMe", "POST")
    finally:
        await req.shutdown()
    assert (status, fake.requests) == (200, ["getMe"])


async def test_a_slow_download_that_keeps_moving_is_not_cut_off() -> None:
    """The read timeout is the longest silence, as httpx had it, not a cap on the whole answer: a 20 MB
    attachment through a slow link takes longer than all the timeouts added up."""
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(10):
            await asyncio.sleep(0.1)
            await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(text="late")

    async def route(request: web.Request) -> web.StreamResponse:
        return await (trickle(request) if request.path == "/file" else silent(request))

    runner, base = await serve(route)
    req = await request(timeout=0.2)  # all four together 0.8 s; the download takes 1 s
    try:
        status, body = await req.do_request(f"{base}/file", "GET")
        assert (status, len(body)) == (200, 10_000)
        with pytest.raises(TimedOut):  # a silence longer than the read timeout is still one
            await req.do_request(f"{base}/silent", "GET")
    finally:
        await req.shutdown()
        await runner.cleanup()


async def test_redirects_are_not_followed() -> None:
    """A redirected POST would arrive as a GET without its body (and carry the token elsewhere): it is a
    network error, retried, never a message refused for good."""
    seen: list[str] = []

    async def redirect(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        if request.path.startswith("/elsewhere"):
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: text is empty"},
                                     status=400)
        raise web.HTTPFound("/elsewhere" + request.path)

    runner, base = await serve(redirect)
    req = await request()
    try:
        with pytest.raises(NetworkError):
            await req.post(f"{base}/bot1:SECRET/sendMessage", RequestData())
    finally:
        await req.shutdown()
        await runner.cleanup()
    assert seen == ["/bot1:SECRET/sendMessage"]


async def test_a_network_error_never_shows_the_token() -> None:
    """Delivery errors are logged and stored in the outbox; a Bot API URL holds the token."""
    req = await request()
    try:
        with pytest.raises(NetworkError) as caught:
            await req.do_request("http://127.0.0.1:0:bad/bot123456:SECRET-token_x/sendMessage", "POST")
    finally:
        await req.shutdown()
    assert "SECRET" not in str(caught.value) and "bot<token>" in str(caught.value)


async def test_waiting_too_long_for_a_connection_is_not_an_unknown_outcome(fake: FakeBotAPI) -> None:
    """A request that never got a connection was never sent: a NetworkError (resent), not a TimedOut
    (which holds button answers as possibly delivered)."""
    fake.latency = 0.5
    req = AiohttpRequest(1, read_timeout=2, write_timeout=2, connect_timeout=0.05, pool_timeout=0.05)
    await req.initialize()
    url = f"{fake.base_url}{fake.token}/getMe"
    try:
        first = asyncio.create_task(req.do_request(url, "POST"))
        await fake.wait_until(lambda: fake.in_flight == 1)
        with pytest.raises(NetworkError) as caught:
            await req.do_request(url, "POST")
        assert not isinstance(caught.value, TimedOut)
        assert (await first)[0] == 200
    finally:
        await req.shutdown()
    assert fake.requests == ["getMe"]


async def test_a_file_name_with_line_breaks_or_quotes_is_sent_encoded(fake: FakeBotAPI, tmp_path: Path) -> None:
    """File names come from users; a header cannot hold a line break or a bare quote. Unencoded, aiohttp
    refuses the request and every retry would send the text before the file again."""
    config = telegram_config(tmp_path, fake)
    channel = TelegramChannel(config.telegram, FileStore(tmp_path / "files", MovableClock()), 20)
    await channel.start()
    user = fake.user(7001)
    document = tmp_path / "upload.pdf"
    document.write_bytes(b"%PDF-1.4 test")
    try:
        result = await channel.deliver(str(user.chat_id), "message", Reply(
            "附件", files=(OutFile(str(document), '证据\r\n"第一份".pdf'),)).to_json())
    finally:
        await channel.stop()
    [sent] = fake.messages_to(user.chat_id)  # one file and its words: one message, the words as its caption
    assert len(result.message_ids) == 1 and sent.text == "附件"
    assert (sent.method, sent.file_name, sent.file_bytes) == ("sendDocument", "证据%0D%0A%22第一份%22.pdf",
                                                              b"%PDF-1.4 test")



async def test_a_notice_with_one_file_is_one_message_and_longer_words_go_first(fake: FakeBotAPI,
                                                                              tmp_path: Path) -> None:
    """An assignment notice with its slip (issue 16) is one document captioned with the notice and carrying
    its button: a retry of the file (a 429) can never send the words twice. Words longer than a caption go
    as a message before the file, as before."""
    config = telegram_config(tmp_path, fake)
    channel = TelegramChannel(config.telegram, FileStore(tmp_path / "files", MovableClock()), 20)
    await channel.start()
    user = fake.user(7001)
    document = tmp_path / "slip.docx"
    document.write_bytes(b"PK slip")
    try:
        notice = Reply("LS-2026-0001已交由第二检察部承办。", title="已交办", buttons=((Button("查看", "case:1"),),),
                       files=(OutFile(str(document), "LS-2026-0001交办单.docx"),))
        one = await channel.deliver(str(user.chat_id), "message", notice.to_json())
        long = await channel.deliver(str(user.chat_id), "message",
                                     replace(notice, text="很长的答复。" * 200, buttons=()).to_json())
    finally:
        await channel.stop()
    first, *rest = fake.messages_to(user.chat_id)
    assert len(one.message_ids) == 1
    assert (first.method, first.file_name, first.text) == ("sendDocument", "LS-2026-0001交办单.docx",
                                                           "已交办\nLS-2026-0001已交由第二检察部承办。")
    assert [b[0] for b in first.buttons()] == ["查看"]
    assert len(long.message_ids) == 2 and [m.method for m in rest] == ["sendMessage", "sendDocument"]
