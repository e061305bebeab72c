"""Unit tests of the WeCom channel (bot/channels/wecom*.py): the callback server, the API client, sending,
cards and numbered choices, errcodes, the menu, pacing, configuration.

WeCom is played by `Stub`, a small scripted server on 127.0.0.1 written for these tests (the strict fake
WeCom of tests/fakewecom.py is for the end-to-end tests); callbacks are encrypted with the channel's own
crypto, which tests/test_wecom_crypto.py checks against WeCom's published vectors. Time is the
MovableClock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import App
from bot.channels.base import MaybeDelivered, Pacing, Progress, RateLimited, Rejected, TemporaryFailure, Unreachable
from bot.channels.wecom import WeComChannel, inbox_item
from bot.channels.wecom_api import WeComAPI
from bot.channels.wecom_crypto import WeComCrypto
from bot.channels.wecom_text import MAX_TEXT_BYTES, choice_number, parse_command, split_bytes
from bot.config import WeComConfig
from bot.dispatch import Dispatcher
from bot.messages import Button, Incoming, OutFile, Reply
from storage import outbox, people
from storage import wecom as wecom_store
from storage.records import RECORDS
from tests.fakes import MovableClock
from tests.fakes import test_config as make_config

CORP = "ww1436e0e65a779aee"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"


@dataclass
class Stub:
    """WeCom's API as these tests need it: tokens that rotate (a new one invalidates the last), answers
    scripted per path (`script[path]`: errcodes or callables, used up in order), every request recorded."""

    clock: MovableClock
    script: dict[str, list[Any]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    base: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def calls(self, path: str) -> list[Any]:
        return [body for p, _, body in self.requests if p == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, query = request.path, dict(request.query)
        body: Any = None
        if request.content_type == "multipart/form-data":
            raw = await request.read()
            body = raw
            self.uploads.append((query.get("type", ""), raw))
        elif request.can_read_body:
            body = json.loads(await request.read())
        self.requests.append((path, query, body))
        scripted = self.script.get(path)
        if scripted:
            step = scripted.pop(0)
            if callable(step):
                return await step(request)
            return web.json_response({"errcode": step, "errmsg": f"scripted {step}, from ip: 10.1.2.3"})
        if path == "/cgi-bin/gettoken":
            if query.get("corpsecret") != "s3cret":
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
            self.tokens.append(f"tok{len(self.tokens) + 1}")
            return web.json_response({"errcode": 0, "access_token": self.tokens[-1], "expires_in": 7200})
        if not self.tokens or query.get("access_token") != self.tokens[-1]:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if path == "/cgi-bin/message/send":
            answer: dict[str, Any] = {"errcode": 0, "msgid": f"m{len(self.calls(path))}"}
            if body.get("msgtype") == "template_card":
                answer["response_code"] = f"rc{len(self.calls(path))}"
            return web.json_response(answer)
        if path == "/cgi-bin/media/upload":
            return web.json_response({"errcode": 0, "type": query.get("type"), "media_id": f"media{len(self.uploads)}"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def wecom_config(stub: Stub, **changes: Any) -> WeComConfig:
    base = WeComConfig(corp_id=CORP, agent_id=1000002, secret="s3cret", token=TOKEN, encoding_aes_key=AES_KEY,
                       api_base=stub.base, callback_host="127.0.0.1", callback_port=0, callback_path="/wecom",
                       request_timeout=2.0)
    return replace(base, **changes)


@dataclass
class Env:
    app: App
    channel: WeComChannel
    stub: Stub
    clock: MovableClock
    crypto: WeComCrypto

    async def post(self, fields: dict[str, str], *, timestamp: int | None = None, signature: str | None = None,
                   crypto: WeComCrypto | None = None) -> int:
        """Post a callback as WeCom does; return the HTTP status."""
        plain = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"
        encrypted = (crypto or self.crypto).encrypt(plain.encode())
        stamp = str(int(self.clock.now().timestamp()) if timestamp is None else timestamp)
        nonce = "12345"
        sig = signature or self.crypto.sign(stamp, nonce, encrypted)
        body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        url = f"{self.channel.callback_url}?msg_signature={sig}&timestamp={stamp}&nonce={nonce}"
        async with aiohttp.ClientSession() as session, session.post(url, data=body.encode()) as response:
            assert await response.read() == b""
            return response.status

    async def inbox(self) -> list[tuple[str, str]]:
        async with self.app.db.snapshot() as q:
            return [(r["external_id"], r["payload"]) for r in await q.all("SELECT * FROM inbox ORDER BY id")]


@pytest.fixture
async def env(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Env]:
    stub = Stub(clock)
    await stub.start()
    app = await App.open(make_config(tmp_path, wecom=wecom_config(stub)), clock)
    channel = WeComChannel(app)
    app.add_channel(channel)
    await channel.start()
    yield Env(app, channel, stub, clock, WeComCrypto(TOKEN, AES_KEY, CORP))
    await channel.stop()
    await app.close()
    await stub.stop()


def text_fields(user: str, content: str, msg_id: str, when: int = 1795000000) -> dict[str, str]:
    return {"ToUserName": CORP, "FromUserName": user, "CreateTime": str(when), "MsgType": "text",
            "Content": content, "MsgId": msg_id, "AgentID": "1000002"}


def card_press(env: Env, task_id: str, key: str, code: str = "rcPRESS", user: str = "chenjing") -> dict[str, str]:
    """The fields of a member's press of button `key` on card `task_id`, now (a template_card_event)."""
    return {"ToUserName": CORP, "FromUserName": user, "MsgType": "event", "Event": "template_card_event",
            "CreateTime": str(int(env.clock.now().timestamp())), "TaskId": task_id, "EventKey": key,
            "ResponseCode": code, "AgentID": "1000002"}


async def bind(env: Env, userid: str, *, staff: bool = False, presentation: str | None = None) -> int:
    now = env.clock.now()
    async with env.app.db.transaction() as tx:
        if staff:
            person = await people.add_staff(tx, f"员工{userid}", None, ["office"], "", now)
        else:
            sealed, digest = people.sealed_phone(tx, "13800000000")  # phones are sealed at rest
            person = await tx.insert("INSERT INTO persons (name, body, phone, phone_hash, created_at, updated_at)"
                                     " VALUES (?, 'npc', ?, ?, ?, ?) RETURNING id",
                                     (f"代表{userid}", sealed, digest, now.isoformat(), now.isoformat()))
        await people.bind_identity(tx, "wecom", userid, userid, person, now)
        if presentation:
            await tx.execute("UPDATE persons SET presentation = ? WHERE id = ?", (presentation, person))
    return person


# -- the callback server ----------------------------------------------------------------------


async def test_url_verification_with_echostr_percent_encoded_and_raw(env: Env) -> None:
    """90238: WeCom checks the URL with a GET whose echostr is Base64 — its + and / percent-encoded, or raw
    through a proxy that decoded them; both verify, and the plain echostr is the answer."""
    stamp, nonce = str(int(env.clock.now().timestamp())), "263014780"
    echostr = env.crypto.encrypt(b"1288432023552776189")
    while "+" not in echostr or "/" not in echostr:  # make sure both characters are there
        echostr = env.crypto.encrypt(b"1288432023552776189")
    sig = env.crypto.sign(stamp, nonce, echostr)
    async with aiohttp.ClientSession() as session:
        for spelled in (urllib.parse.quote(echostr, safe=""), echostr):
            url = f"{env.channel.callback_url}?msg_signature={sig}&timestamp={stamp}&nonce={nonce}&echostr={spelled}"
            async with session.get(yarl_raw(url)) as response:
                assert response.status == 200
                assert await response.text() == "1288432023552776189"
        bad = f"{env.channel.callback_url}?msg_signature={'0' * 40}&timestamp={stamp}&nonce={nonce}&echostr=x"
        async with session.get(yarl_raw(bad)) as response:
            assert response.status == 403


def yarl_raw(url: str) -> Any:
    import yarl

    return yarl.URL(url, encoded=True)  # sent exactly as written, + and all


async def test_a_message_is_stored_before_200_and_a_resend_is_stored_once(env: Env) -> None:
    """Inbox first: WeCom resends after 5 s without an answer; the same MsgId is one update."""
    fields = text_fields("wangjianguo", "你好", "10001")
    assert await env.post(fields) == 200
    assert await env.post(fields) == 200  # the resend
    rows = await env.inbox()
    assert [r[0] for r in rows] == ["msg:10001"]
    assert json.loads(rows[0][1])["Content"] == "你好"


async def test_distinct_events_are_not_merged_and_a_resent_event_is_one(env: Env) -> None:
    """Events have no MsgId: keyed on (FromUserName, CreateTime, Event, key, card), two real presses in the
    same second on different buttons, or on the same button a second later, stay two."""
    def press(key: str, when: int) -> dict[str, str]:
        return {"ToUserName": CORP, "FromUserName": "liu", "CreateTime": str(when), "MsgType": "event",
                "Event": "template_card_event", "EventKey": key, "TaskId": "lbtask", "ResponseCode": f"rc{when}{key}",
                "AgentID": "1000002"}
    for fields in (press("b1", 1795000000), press("b1", 1795000000), press("b2", 1795000000),
                   press("b1", 1795000001)):
        assert await env.post(fields) == 200
    clicks = {"ToUserName": CORP, "FromUserName": "liu", "CreateTime": "1795000000", "MsgType": "event",
              "Event": "click", "EventKey": "submit"}
    assert await env.post(clicks) == 200
    assert await env.post(clicks | {"EventKey": "my"}) == 200
    assert len(await env.inbox()) == 5


@pytest.mark.parametrize("how", ["signature", "corp", "stale", "garbage"])
async def test_refused_callbacks_change_nothing(env: Env, how: str, caplog: pytest.LogCaptureFixture) -> None:
    """A bad signature, another corp's message, a replayed old one, an undecryptable body: 403, nothing
    stored, and the log names the reason but never the message."""
    fields = text_fields("wangjianguo", "秘密的意见内容", "20001")
    kwargs: dict[str, Any] = {}
    if how == "signature":
        kwargs["signature"] = "0" * 40
    elif how == "corp":
        kwargs["crypto"] = WeComCrypto(TOKEN, AES_KEY, "ww0000000000000000")
    elif how == "stale":
        kwargs["timestamp"] = int(env.clock.now().timestamp()) - 3600
    with caplog.at_level(logging.INFO):
        if how == "garbage":
            stamp, nonce, encrypted = str(int(env.clock.now().timestamp())), "1", "QUFBQUFBQUFBQUFBQUFBQQ=="
            sig = env.crypto.sign(stamp, nonce, encrypted)
            body = f"<xml><Encrypt>{encrypted}</Encrypt></xml>"
            url = f"{env.channel.callback_url}?msg_signature={sig}&timestamp={stamp}&nonce={nonce}"
            async with aiohttp.ClientSession() as session, session.post(url, data=body) as response:
                status = response.status
        else:
            status = await env.post(fields, **kwargs)
    assert status == 403
    assert await env.inbox() == []
    assert "秘密" not in caplog.text and "refused" in caplog.text


async def test_a_callback_that_cannot_be_stored_is_answered_500_so_wecom_sends_it_again(env: Env,
                                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")
    monkeypatch.setattr(env.app, "store", broken)
    assert await env.post(text_fields("wangjianguo", "你好", "30001")) == 500


async def test_a_callback_of_another_app_is_answered_but_not_kept(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    """90239/90240: every message and app event names its AgentID. A corp whose apps share this callback's Token and
    EncodingAESKey sends another app's callbacks here: answered 200 (WeCom would only send it again), nothing stored,
    and the log names the app, never the message. A callback without AgentID (an event that has none) is kept."""
    with caplog.at_level(logging.DEBUG):
        assert await env.post(text_fields("wangjianguo", "另一个应用的秘密", "40001") | {"AgentID": "999999"}) == 200
        press = {"ToUserName": CORP, "FromUserName": "wangjianguo", "CreateTime": "1795000000", "MsgType": "event",
                 "Event": "click", "EventKey": "my", "AgentID": "1000003"}
        assert await env.post(press) == 200
        assert await env.post({"ToUserName": CORP, "FromUserName": "wangjianguo", "CreateTime": "1795000001",
                               "MsgType": "event", "Event": "enter_agent", "AgentID": "1000002"}) == 200
    assert await env.inbox() == []
    assert env.channel.server.stored == 0
    assert "999999" in caplog.text and "1000003" in caplog.text and "秘密" not in caplog.text
    assert [r.levelname for r in caplog.records if "enter_agent" in r.getMessage()] == ["DEBUG"]  # not a line each
    assert await env.post(text_fields("wangjianguo", "本应用", "40002") | {"AgentID": "1000002"}) == 200
    without = {k: v for k, v in text_fields("wangjianguo", "无编号", "40003").items() if k != "AgentID"}
    assert await env.post(without) == 200
    assert [r[0] for r in await env.inbox()] == ["msg:40002", "msg:40003"]
    assert env.channel.server.stored == 2


def test_only_what_the_bot_handles_is_stored() -> None:
    assert inbox_item({"FromUserName": "a", "MsgType": "event", "Event": "enter_agent", "CreateTime": "1"}) is None
    assert inbox_item({"FromUserName": "a", "MsgType": "event", "Event": "LOCATION", "CreateTime": "1"}) is None
    assert inbox_item({"FromUserName": "", "MsgType": "text", "Content": "x", "MsgId": "8"}) is None  # from nobody
    assert inbox_item({"FromUserName": "a", "MsgType": "text", "Content": "x"}) is None  # no MsgId
    assert inbox_item({"FromUserName": "a", "MsgType": "text", "Content": "x", "MsgId": "7"})[:2] == ("msg:7", "wecom:a")


# -- text ----------------------------------------------------------------------------------------


def test_long_chinese_text_is_split_within_2048_bytes_at_line_breaks() -> None:
    """90236: text.content at most 2 048 bytes; WeCom cuts the rest. 3 000 characters go in parts, none cut."""
    lines = [f"第{i}行：" + "检察院联络代表委员的工作事项。" * 4 for i in range(60)]
    text = "\n".join(lines)
    parts = split_bytes(text)
    assert len(parts) > 1 and all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "\n".join(parts) == text  # every line whole, in order


def test_a_line_longer_than_the_limit_splits_after_a_sentence_then_between_characters() -> None:
    sentence = "这是一句很长的话，" * 30 + "到此为止。"
    parts = split_bytes(sentence * 4)
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "".join(parts) == sentence * 4
    assert parts[0].endswith("。")
    emoji = "😀" * 1000  # 4 bytes each, no breaks at all: cut between characters, never inside one
    parts = split_bytes(emoji)
    assert "".join(parts) == emoji and all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)


def test_typed_commands_in_chinese_and_with_a_slash() -> None:
    assert parse_command("/submit") == ("submit", "")
    assert parse_command("提交") == ("submit", "")
    assert parse_command("提交事项") == ("submit", "")
    assert parse_command(" 我的事项 ") == ("my", "")
    assert parse_command("帮助") == ("help", "")
    assert parse_command("Submit a matter") == ("submit", "")
    # English, without the "/" a phone's keyboard hides: the words /help names (found walking the flow in English)
    assert [parse_command(w) for w in ("submit", "My", "cancel", "inbox", "language", "events")] == [
        ("submit", ""), ("my", ""), ("cancel", ""), ("inbox", ""), ("lang", ""), ("events", "")]
    assert parse_command("submit it please") is None
    assert parse_command("绑定 AbC-123_x") == ("start", "AbC-123_x")
    assert parse_command("绑定：123456") == ("start", "123456")
    assert parse_command("/start 123456") == ("start", "123456")
    assert parse_command("我想提交一条建议") is None
    assert parse_command("绑定 两个 词") is None


def test_choice_numbers() -> None:
    assert [choice_number(t) for t in ("1", "１２", "3.", "0", "123", "一", "")] == [1, 12, 3, None, None, None, None]


# -- the token -----------------------------------------------------------------------------------


async def test_the_token_is_fetched_once_and_shared_by_all_sends(env: Env) -> None:
    await asyncio.gather(*(env.channel.deliver(f"u{i}", "message", Reply("你好").to_json()) for i in range(10)))
    assert len(env.stub.calls("/cgi-bin/gettoken")) == 1
    assert len(env.stub.calls("/cgi-bin/message/send")) == 10


async def test_an_expired_token_is_refreshed_once_and_the_send_retried(env: Env) -> None:
    """42001/40014 (91039): refresh, once, and send again."""
    await env.channel.deliver("u1", "message", Reply("一").to_json())
    env.stub.script["/cgi-bin/message/send"] = [42001]
    await env.channel.deliver("u1", "message", Reply("二").to_json())
    assert len(env.stub.calls("/cgi-bin/gettoken")) == 2
    assert [b["text"]["content"] for b in env.stub.calls("/cgi-bin/message/send")] == ["一", "二", "二"]


async def test_concurrent_token_failures_refresh_once_not_each(env: Env) -> None:
    """Known failure of other WeCom bots: every send that saw the token fail refreshed it, each refresh
    invalidating the one before. Refresh only if the cache still holds the failing token, behind one lock."""
    await env.channel.deliver("u0", "message", Reply("热身").to_json())
    env.stub.tokens.append("rotated-elsewhere")  # WeCom invalidated ours (the stub now accepts only this)
    results = await asyncio.gather(*(env.channel.deliver(f"u{i}", "message", Reply("你好").to_json())
                                     for i in range(8)))
    assert all(r.message_ids for r in results)
    assert len(env.stub.calls("/cgi-bin/gettoken")) == 2  # the first, and exactly one refresh


async def test_a_second_process_uses_the_stored_token_instead_of_invalidating_it(env: Env) -> None:
    await env.channel.deliver("u1", "message", Reply("一").to_json())
    other = WeComAPI(env.app.config.wecom, env.app.db, env.clock)  # another process on the same database
    await other.start()
    try:
        assert await other.token() == env.stub.tokens[-1]
        assert len(env.stub.calls("/cgi-bin/gettoken")) == 1
        env.clock.advance(hours=2)  # expired: refreshed by whichever asks first, once
        fresh = await other.token()
        assert await env.channel.api.token() == fresh
        assert len(env.stub.calls("/cgi-bin/gettoken")) == 2
    finally:
        await other.close()


async def test_every_request_goes_to_the_configured_api_base_token_requests_included(env: Env) -> None:
    """政务微信 and private deployments: gettoken too must use api_base, never qyapi.weixin.qq.com."""
    await env.channel.deliver("u1", "message", Reply("你好").to_json())
    paths = [p for p, _, _ in env.stub.requests]
    assert "/cgi-bin/gettoken" in paths and "/cgi-bin/menu/create" in paths and "/cgi-bin/message/send" in paths


# -- errcodes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("errcode, outcome", [
    (-1, TemporaryFailure), (45009, RateLimited), (45033, RateLimited), (81013, Unreachable),
    (60111, Unreachable), (40058, Rejected), (44004, Rejected), (60020, TemporaryFailure),
])
async def test_errcodes_map_to_the_outbox_outcomes(env: Env, errcode: int, outcome: type) -> None:
    await env.channel.deliver("u1", "message", Reply("热身").to_json())
    env.stub.script["/cgi-bin/message/send"] = [errcode]
    with pytest.raises(outcome):
        await env.channel.deliver("u1", "message", Reply("你好").to_json())


async def test_a_member_listed_as_invalid_is_unreachable(env: Env) -> None:
    """A member who left, or is outside the app's visible range: recorded for the office as a blocked chat is."""
    async def invalid(request: web.Request) -> web.Response:
        return web.json_response({"errcode": 0, "invaliduser": "wangjianguo", "msgid": "m"})
    env.stub.script["/cgi-bin/message/send"] = [invalid]
    with pytest.raises(Unreachable):
        await env.channel.deliver("WangJianGuo", "message", Reply("你好").to_json())


async def test_a_member_listed_as_unlicensed_is_unreachable(env: Env) -> None:
    """90236's answer also lists `unlicenseduser`: members without an interface licence (95652), not reached."""
    async def unlicensed(request: web.Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": "", "unlicenseduser": "a|wangjianguo",
                                  "msgid": "m"})
    env.stub.script["/cgi-bin/message/send"] = [unlicensed]
    with pytest.raises(Unreachable, match="licence"):
        await env.channel.deliver("wangjianguo", "message", Reply("你好").to_json())


async def test_a_token_handed_out_again_near_its_end_is_not_fetched_on_every_call(env: Env) -> None:
    """91039: gettoken answers the same token while it is valid, with the time it has left. One with less than
    twice the early margin left is kept for half of that, not fetched again before every call."""
    async def near_its_end(request: web.Request) -> web.Response:
        env.stub.tokens.append("TOKEN-A")
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": "TOKEN-A", "expires_in": 200})
    await env.channel.deliver("u1", "message", Reply("热身").to_json())
    env.clock.advance(hours=2)  # the first token has ended
    env.stub.script["/cgi-bin/gettoken"] = [near_its_end]
    before = len(env.stub.calls("/cgi-bin/gettoken"))
    for n in range(10):
        await env.channel.deliver("u1", "message", Reply(f"消息{n}").to_json())
    assert len(env.stub.calls("/cgi-bin/gettoken")) == before + 1
    env.clock.advance(seconds=101)  # past half of what was left: fetched again (the stub now hands out a new one)
    await env.channel.deliver("u1", "message", Reply("再一条").to_json())
    assert len(env.stub.calls("/cgi-bin/gettoken")) == before + 2


async def test_http_failures(env: Env) -> None:
    await env.channel.deliver("u1", "message", Reply("热身").to_json())

    async def five_hundred(request: web.Request) -> web.Response:
        return web.Response(status=502)

    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()  # delivered, perhaps, then the connection drops
        return web.Response()
    env.stub.script["/cgi-bin/message/send"] = [five_hundred, hang_up]
    with pytest.raises(TemporaryFailure):
        await env.channel.deliver("u1", "message", Reply("一").to_json())
    with pytest.raises(MaybeDelivered):
        await env.channel.deliver("u1", "message", Reply("二").to_json())


async def test_60020_tells_the_administrator_what_to_do(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    """Known failure: the server's IP not among the app's trusted IPs (60020) left unexplained."""
    admin = await bind(env, "admin1", staff=True)
    async with env.app.db.transaction() as tx:
        await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, 'admin')", (admin,))
    await env.channel.deliver("u1", "message", Reply("热身").to_json())
    env.stub.script["/cgi-bin/message/send"] = [60020, 60020]
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            with pytest.raises(TemporaryFailure):
                await env.channel.deliver("u1", "message", Reply("你好").to_json())
    assert "10.1.2.3" in caplog.text and "企业可信IP" in caplog.text
    async with env.app.db.snapshot() as q:
        rows = await q.all("SELECT chat_id, payload FROM outbox WHERE person_id = ?", (admin,))
    assert len(rows) == 1  # once an hour, not once per failed send
    assert rows[0]["chat_id"] == "admin1" and "10.1.2.3" in rows[0]["payload"] and "可信IP" in rows[0]["payload"]


async def test_60020_reaches_an_administrator_bound_on_telegram_too_there(env: Env) -> None:
    """WeCom refuses this server (60020): an administrator who used WeCom last but is bound on Telegram too is
    told on Telegram, where the message can arrive, not queued behind WeCom's refusals."""
    from tests.fakes import RecordingChannel

    telegram = RecordingChannel(env.app.files)
    telegram.name = "telegram"
    env.app.add_channel(telegram)
    async with env.app.db.transaction() as tx:
        admin = await people.add_staff(tx, "管理员", None, ["admin"], "", env.clock.now())
        await people.bind_identity(tx, "telegram", "555", "555", admin, env.clock.now())
    env.clock.advance(minutes=1)
    async with env.app.db.transaction() as tx:
        await people.bind_identity(tx, "wecom", "admin1", "admin1", admin, env.clock.now())  # the latest
    env.stub.script["/cgi-bin/message/send"] = [60020]
    with pytest.raises(TemporaryFailure):
        await env.channel.deliver("u1", "message", Reply("你好").to_json())
    async with env.app.db.snapshot() as q:
        rows = await q.all("SELECT channel, chat_id FROM outbox WHERE person_id = ?", (admin,))
    assert [(r["channel"], r["chat_id"]) for r in rows] == [("telegram", "555")]


# -- cards and numbered choices -------------------------------------------------------------------


def choice_reply(n: int, text: str = "请选择您的评价。") -> Reply:
    labels = ["满意", "基本满意", "不满意", "第四", "第五", "第六", "第七"]
    return Reply(text, buttons=tuple((Button(labels[i], f"rate:{i}"),) for i in range(n)))


async def test_staff_get_a_button_card_and_a_press_becomes_the_buttons_data(env: Env) -> None:
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(3).to_json())
    card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
    assert card["card_type"] == "button_interaction" and len(card["task_id"]) <= 128
    assert [(b["key"], b["text"]) for b in card["button_list"]] == [("b1", "满意"), ("b2", "基本满意"), ("b3", "不满意")]
    press = card_press(env, card["task_id"], "b2", "rcPRESS")
    inc = await env.channel.prepare(json.dumps(press))
    assert inc is not None and inc.action == "rate:1" and inc.callback_id
    await env.channel.deliver("chenjing", "answer", {"callback_id": inc.callback_id, "text": "", "alert": False})
    update = env.stub.calls("/cgi-bin/message/update_template_card")[-1]
    assert update["response_code"] == "rcPRESS" and update["button"]["replace_name"] == "基本满意"
    again = await env.channel.prepare(json.dumps(press | {"ResponseCode": "rc2", "CreateTime": "2"}))
    assert again is not None and again.action == ""  # an old card cannot be pressed twice: the core refuses ""


async def test_a_response_code_is_passed_back_whole_whatever_it_holds(env: Env) -> None:
    """94888: the press's ResponseCode goes back as it came. The bot keeps it between its own task id, key and time;
    a code with a ":" in it (WeCom promises nothing of its alphabet) is not cut there."""
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(3).to_json())
    card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
    press = card_press(env, card["task_id"], "b3", "rc:a:b+/==")
    inc = await env.channel.prepare(json.dumps(press))
    assert inc is not None and inc.action == "rate:2"
    await env.channel.deliver("chenjing", "answer", {"callback_id": inc.callback_id, "text": "", "alert": False})
    update = env.stub.calls("/cgi-bin/message/update_template_card")[-1]
    assert update["response_code"] == "rc:a:b+/==" and update["button"]["replace_name"] == "不满意"


async def test_a_cards_question_is_its_title_and_is_said_once(env: Env) -> None:
    """A one-line question that fits a card's title (26 characters, 90236) is the title; it used to go under
    a title "请选择：" of its own ("请选择：" / "请选择 LS-2026-0001 的承办部门："). A reply with a title keeps it, and
    a longer question goes under "请选择："."""
    await bind(env, "chenjing", staff=True)
    cards = []
    for reply in (choice_reply(2, "请选择 LS-2026-0001 的承办部门："),
                  Reply("您对本次答复的评价：", title="答复评价", buttons=choice_reply(2).buttons),
                  choice_reply(2, "请选择承办部门。交办后，承办部门的负责人会收到通知，并应在三日内指定承办人。")):
        await env.channel.deliver("chenjing", "message", reply.to_json())
        card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
        cards.append((card["main_title"]["title"], card.get("sub_title_text")))
    assert cards == [("请选择 LS-2026-0001 的承办部门：", None), ("答复评价", "您对本次答复的评价："),
                     ("请选择：", "请选择承办部门。交办后，承办部门的负责人会收到通知，并应在三日内指定承办人。")]


async def test_a_card_without_a_title_is_titled_by_its_first_line_not_asked_to_choose(env: Env) -> None:
    """Found walking the flow as the office: a notice with one button (查看事项) or a prompt with one (取消) went under
    the title "请选择：", though nothing was to be chosen — and the title is what WeCom's chat list previews. A first
    line that fits is the title, the rest under it; one that does not is the title cut short over the whole text
    when the card's one button only goes on; a choice among several keeps "请选择：" (the test above)."""
    await bind(env, "chenjing", staff=True)
    open_it = (Button("查看事项", "case:1"),)
    cancel = (Button("取消", "d:n:cancel"),)
    cards = []
    for reply in (Reply("LS-2026-0002 的答复已审批通过，并已发送给王建国代表。", buttons=(open_it,)),
                  Reply("请选择 LS-2026-0001 的办理结果类别：\nA类：已解决或基本解决", buttons=(open_it, cancel)),
                  Reply("请发送简要事由（不超过 100 个字）。", buttons=(cancel,))):
        await env.channel.deliver("chenjing", "message", reply.to_json())
        card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
        cards.append((card["main_title"]["title"], card.get("sub_title_text")))
    assert cards == [("LS-2026-0002 的答复已审批通过，并已发…", "LS-2026-0002 的答复已审批通过，并已发送给王建国代表。"),
                     ("请选择 LS-2026-0001 的办理结果类别：", "A类：已解决或基本解决"),
                     ("请发送简要事由（不超过 100 个字）。", None)]


async def test_a_refused_press_whose_card_update_fails_is_not_told_twice_on_the_retry(env: Env) -> None:
    """A refused press is answered by its text (WeCom has no pop-up) and the card marked "已失效". Should the card's
    update fail (-1, busy), the retry updates the card and does not send the text again: what went is kept in
    the answer's progress, as for a reply of several messages."""
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(2).to_json())
    task = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]["task_id"]
    payload = {"callback_id": f"{task}:rcREFUSED:b1:{int(env.clock.now().timestamp())}", "text": "此选项已失效。",
               "alert": True}
    env.stub.script["/cgi-bin/message/update_template_card"] = [-1]
    progress = Progress()
    with pytest.raises(TemporaryFailure):
        await env.channel.deliver("chenjing", "answer", payload, progress)
    result = await env.channel.deliver("chenjing", "answer", payload, progress)
    texts = [b["text"]["content"] for b in env.stub.calls("/cgi-bin/message/send") if b["msgtype"] == "text"]
    assert texts == ["此选项已失效。"]  # once
    updates = env.stub.calls("/cgi-bin/message/update_template_card")
    assert [u["button"]["replace_name"] for u in updates] == ["已失效", "已失效"]  # the failed one, then the retry
    assert len(result.message_ids) == 1 and all(result.message_ids)


async def test_a_press_answered_more_than_24_hours_late_does_not_spend_its_lapsed_code(env: Env) -> None:
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(2).to_json())
    task = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]["task_id"]
    pressed = int(env.clock.now().timestamp())
    inc = await env.channel.prepare(json.dumps({"FromUserName": "chenjing", "MsgType": "event", "TaskId": task,
                                                "Event": "template_card_event", "EventKey": "b1",
                                                "ResponseCode": "rcLATE", "CreateTime": str(pressed)}))
    assert inc is not None and inc.callback_id
    env.clock.advance(hours=25)  # the bot was down
    await env.channel.deliver("chenjing", "answer", {"callback_id": inc.callback_id, "text": "", "alert": False})
    assert env.stub.calls("/cgi-bin/message/update_template_card") == []


async def test_a_press_on_someone_elses_or_an_unknown_card_carries_no_data(env: Env) -> None:
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(2).to_json())
    task = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]["task_id"]
    for user, task_id in (("intruder", task), ("chenjing", "lbnosuchtask")):
        inc = await env.channel.prepare(json.dumps({"FromUserName": user, "MsgType": "event", "CreateTime": "1",
                                                    "Event": "template_card_event", "TaskId": task_id,
                                                    "EventKey": "b1", "ResponseCode": "rc"}))
        assert inc is not None and inc.action == ""


async def test_more_choices_than_a_card_holds_fall_back_to_a_numbered_list(env: Env) -> None:
    await bind(env, "chenjing", staff=True)
    await env.channel.deliver("chenjing", "message", choice_reply(7).to_json())
    sent = env.stub.calls("/cgi-bin/message/send")[-1]
    assert sent["msgtype"] == "text" and "7. 第七" in sent["text"]["content"]


async def test_choices_with_labels_too_long_for_a_button_go_on_a_card_by_number(env: Env) -> None:
    """A button shows 10 characters (90236); a matter's number has 12. Such choices used to turn the card into a
    numbered text list, answered by typing. Now the card lists them, numbered, and its buttons show the numbers:
    pressed, a button does what its choice says, and the card shows the number chosen."""
    await bind(env, "chenjing", staff=True)
    reply = Reply("待交办的事项：", buttons=((Button("LS-2026-0001", "case:1"),), (Button("LS-2026-0002", "case:2"),)))
    assert env.channel.cost("chenjing", "message", reply.to_json()) == 1  # a card alone: its words fit on it
    await env.channel.deliver("chenjing", "message", reply.to_json())
    sent = env.stub.calls("/cgi-bin/message/send")
    assert len(sent) == 1 and sent[0]["msgtype"] == "template_card"
    card = sent[0]["template_card"]
    assert (card["main_title"]["title"], card["sub_title_text"]) == ("待交办的事项：", "1. LS-2026-0001\n2. LS-2026-0002")
    assert [(b["key"], b["text"]) for b in card["button_list"]] == [("b1", "1"), ("b2", "2")]
    press = card_press(env, card["task_id"], "b2", "rcPRESS")
    inc = await env.channel.prepare(json.dumps(press))
    assert inc is not None and inc.action == "case:2"
    await env.channel.deliver("chenjing", "answer", {"callback_id": inc.callback_id, "text": "", "alert": False})
    assert env.stub.calls("/cgi-bin/message/update_template_card")[-1]["button"]["replace_name"] == "2"
    # words too long for the card go first, with the list; the card under them asks
    long = Reply("很长的说明。" * 30, buttons=reply.buttons)
    assert env.channel.cost("chenjing", "message", long.to_json()) == 2
    await env.channel.deliver("chenjing", "message", long.to_json())
    text, card = env.stub.calls("/cgi-bin/message/send")[-2:]
    assert text["text"]["content"].endswith("\n\n1. LS-2026-0001\n2. LS-2026-0002")
    assert card["template_card"]["main_title"]["title"] == "请选择：" and "sub_title_text" not in card["template_card"]


async def through_the_outbox(env: Env, userid: str, reply: Reply, *, sent: bool = True) -> int:
    """As the dispatcher does it: queued, claimed (committed before it goes), delivered, recorded sent."""
    async with env.app.db.transaction() as tx:
        item = await outbox.enqueue(tx, channel="wecom", chat_id=userid, op="message", payload=reply.to_json(),
                                    policy="retry", now=env.clock.now())
        assert item is not None and await outbox.claim(tx, [item]) == {item}
    result = await env.channel.deliver(userid, "message", reply.to_json())
    if sent:
        async with env.app.db.transaction() as tx:
            await outbox.mark_sent(tx, item, {"message_ids": result.message_ids}, env.clock.now())
    return item


async def understood(env: Env, channel: WeComChannel, fields: dict[str, str]) -> Incoming | None:
    """What the inbox hands the router: the channel's reading of the callback, settled in the update's
    transaction (which list a typed number answers)."""
    inc = await channel.prepare(json.dumps(fields))
    if inc is None:
        return None
    async with env.app.db.transaction() as tx:
        return await channel.settle(tx, inc)


async def test_representatives_get_numbered_text_and_typing_a_number_presses_it_after_a_restart(env: Env) -> None:
    """Deputies read WeCom in personal WeChat, where cards do not show: numbered choices, answered by number,
    read from the outbox (so also after a restart)."""
    await bind(env, "wangjianguo")
    await through_the_outbox(env, "wangjianguo", choice_reply(3))
    sent = env.stub.calls("/cgi-bin/message/send")[-1]
    assert sent["msgtype"] == "text" and "1. 满意\n2. 基本满意\n3. 不满意" in sent["text"]["content"]
    restarted = WeComChannel(env.app)  # a new process: only the database remembers
    inc = await understood(env, restarted, text_fields("wangjianguo", "3", "40001"))
    assert inc is not None and inc.action == "rate:2" and inc.callback_id is None and inc.typed_number is None
    beyond = await understood(env, restarted, text_fields("wangjianguo", "9", "40002"))
    assert beyond is not None and beyond.action is None and beyond.text == "9" and beyond.typed_number is None


async def test_a_number_typed_while_the_list_is_on_its_way_presses_that_list_not_the_one_before(env: Env) -> None:
    """Found by the WeCom faults drill: a member who answered the moment a list arrived pressed the PREVIOUS
    list's choice (a note went to the wrong matter). A list counts from when the outbox claimed it, before it
    goes; one queued behind it does not count until then; one whose send may have arrived (waiting for its
    retry) still counts."""
    await bind(env, "wangjianguo")
    await through_the_outbox(env, "wangjianguo", Reply("LS-2026-0002", buttons=((Button("进展", "act:2:progress"),),)))
    typed: list[str | None] = []

    async def number_typed() -> str | None:
        inc = await understood(env, env.channel, text_fields("wangjianguo", "1", f"4001{len(typed)}"))
        typed.append(inc.action if inc is not None else None)
        return typed[-1]

    async def answered_on_arrival(request: web.Request) -> web.StreamResponse:
        await number_typed()
        return web.json_response({"errcode": 0, "msgid": "m-new"})

    env.stub.script["/cgi-bin/message/send"] = [answered_on_arrival]
    new = await through_the_outbox(env, "wangjianguo",
                                   Reply("LS-2026-0004", buttons=((Button("进展", "act:4:progress"),),)), sent=False)
    assert typed == ["act:4:progress"]
    async with env.app.db.transaction() as tx:  # its send timed out: it may have arrived, and waits to go again
        await outbox.retry_later(tx, new, env.clock.now(), "maybe delivered", ambiguous=True)
        await outbox.enqueue(tx, channel="wecom", chat_id="wangjianguo", op="message", policy="retry",
                             payload=Reply("LS-2026-0009", buttons=((Button("进展", "act:9:progress"),),)).to_json(),
                             now=env.clock.now())  # queued behind it: not yet seen
    assert await number_typed() == "act:4:progress"


def opens(number: str, matter_id: int) -> Reply:
    """A staff notice about one matter, as handlers/matters/notices.py words it, with its one button."""
    return Reply(f"{number}：关于道路安全的建议", title="新事项",
                 buttons=((Button("查看事项", f"case:{matter_id}", typed=number),),))


async def test_a_notice_arriving_as_a_number_is_typed_does_not_take_the_number(env: Env) -> None:
    """Seen once in the WeCom kill drill: a clerk had matter 0003's card as a numbered list and typed "1" (交办)
    the moment a 新事项 notice about 0006 was claimed for sending; the notice's one choice, "1. 查看事项", was then
    the latest list, the "1" opened 0006, and the assignment never happened. The notice now shows the number to
    send instead of a choice, and a typed number answers the list before it."""
    await bind(env, "chenjing", staff=True, presentation="text")
    await through_the_outbox(env, "chenjing", Reply("LS-2026-0003", buttons=(
        (Button("交办", "act:3:assign"),), (Button("退回", "act:3:return"),))))
    await through_the_outbox(env, "chenjing", opens("LS-2026-0006", 6), sent=False)  # claimed: on its way
    notice = env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    assert notice == "新事项\nLS-2026-0006：关于道路安全的建议\n\n查看事项：发送 LS-2026-0006"
    inc = await understood(env, env.channel, text_fields("chenjing", "1", "50001"))
    assert inc is not None and inc.action == "act:3:assign"
    alone = await understood(env, env.channel, text_fields("chenjing", "LS-2026-0006", "50002"))
    assert alone is not None and alone.action is None and alone.text == "LS-2026-0006"  # opens it (handlers/menu)


async def test_a_typed_number_that_draws_the_report_draws_it_before_its_transaction(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """On WeCom in numbered text, 生成报告 is typed as a number: which choice it is, is read in the store's
    transaction, and the report's figures and files are then drawn before the press's own transaction, as for a
    pressed button (tests/test_read_first.py), not in the store's, which every callback of the moment shares."""
    from handlers.reports import figures

    await bind(env, "chenjing", staff=True, presentation="text")
    await through_the_outbox(env, "chenjing", Reply("请生成并报送半年报告。", buttons=(
        (Button("生成报告", "report:draw:2026H2"), Button("已报送", "report:sent:2026H2")),)))
    read: list[bool] = []
    real = figures.half_year

    async def watched(q: Any, *args: Any) -> Any:
        async with env.app.db.transaction() as tx:  # the writer is free: not inside a transaction
            await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")
        read.append(True)
        return await real(q, *args)

    monkeypatch.setattr(figures, "half_year", watched)
    item = inbox_item(text_fields("chenjing", "1", "70001"))
    assert item is not None
    await asyncio.wait_for(env.app.store("wecom", [item]), timeout=5)
    assert read == []  # not in the store's transaction
    # a list that arrives before the processor's turn does not take the number (from a review: it was read again)
    await through_the_outbox(env, "chenjing", Reply("LS-2026-0003", buttons=((Button("批准", "act:3:approve"),),)))
    await asyncio.wait_for(env.app.settle(), timeout=30)
    assert read == [True]
    kinds = [b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")[2:]]
    assert kinds.count("file") == 2, kinds


async def test_a_number_typed_after_a_card_was_pressed_does_not_press_it_again(env: Env) -> None:
    """A pressed card shows the choice alone (its buttons replaced, 94888): a number typed afterwards, with no
    newer list, is text, not that card's choice again (seen walking the fake: a "1" set the presentation the
    member had just chosen away from). A card not pressed yet still takes a typed number."""
    await bind(env, "chenjing", staff=True, presentation="cards")
    await through_the_outbox(env, "chenjing", Reply("显示方式", buttons=((Button("按钮卡片", "view:cards"),),
                                                                        (Button("编号文字", "view:text"),))))
    card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
    before = await understood(env, env.channel, text_fields("chenjing", "1", "71001"))
    assert before is not None and before.action == "view:cards"
    press = card_press(env, card["task_id"], "b2", "rcVIEW")
    pressed = await env.channel.prepare(json.dumps(press))
    assert pressed is not None and pressed.action == "view:text"
    await env.channel.deliver("chenjing", "answer", {"callback_id": pressed.callback_id, "text": "", "alert": False})
    after = await understood(env, env.channel, text_fields("chenjing", "1", "71002"))
    assert after is not None and after.action is None and after.text == "1"


async def test_a_number_typed_before_the_pressed_cards_update_is_sent_does_not_press_it_again(env: Env) -> None:
    """The press is handled and its answer (the card's update, 94888) queued, but not sent yet: a "1" typed in that
    moment is text too, not the card's choice a second time. A press that changed nothing leaves the card to be
    pressed again, by its button or by number."""
    await bind(env, "chenjing", staff=True, presentation="cards")
    await through_the_outbox(env, "chenjing", Reply("显示方式", buttons=((Button("按钮卡片", "view:cards"),),
                                                                        (Button("编号文字", "view:text"),))))
    card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
    pressed = await env.channel.prepare(json.dumps(card_press(env, card["task_id"], "b2", "rcVIEW")))
    assert pressed is not None and pressed.callback_id is not None

    async def answer_queued(unchanged: bool) -> int:
        payload: dict[str, Any] = {"callback_id": pressed.callback_id, "text": "", "alert": False}
        if unchanged:
            payload["unchanged"] = True
        async with env.app.db.transaction() as tx:  # as ctx.answer does, in the press's transaction
            item = await outbox.enqueue(tx, channel="wecom", chat_id="chenjing", op="answer", payload=payload,
                                        policy="hold", now=env.clock.now())
        assert item is not None
        return item

    first = await answer_queued(unchanged=True)
    async with env.app.db.transaction() as tx:  # another card's press, answered: not this card's
        other = await outbox.enqueue(tx, channel="wecom", chat_id="chenjing", op="answer", policy="hold",
                                     payload={"callback_id": "lbother:rcX:b1:1", "text": "", "alert": False},
                                     now=env.clock.now())
    assert other is not None
    again = await understood(env, env.channel, text_fields("chenjing", "1", "71011"))
    assert again is not None and again.action == "view:cards"
    async with env.app.db.transaction() as tx:
        await outbox.mark_sent(tx, first, {}, env.clock.now())
    update = await answer_queued(unchanged=False)
    typed = await understood(env, env.channel, text_fields("chenjing", "1", "71012"))
    assert typed is not None and typed.action is None and typed.text == "1"
    async with env.app.db.transaction() as tx:  # sent, outcome unknown: the card may show the choice
        await tx.execute("UPDATE outbox SET state = 'held' WHERE id = ?", (update,))
    held = await understood(env, env.channel, text_fields("chenjing", "1", "71013"))
    assert held is not None and held.action is None
    async with env.app.db.transaction() as tx:  # refused by WeCom: the card still shows its buttons
        await tx.execute("UPDATE outbox SET state = 'failed' WHERE id = ?", (update,))
    failed = await understood(env, env.channel, text_fields("chenjing", "1", "71014"))
    assert failed is not None and failed.action == "view:cards"


async def deputy_at_the_body_step(env: Env) -> None:
    """wangjianguo in the middle of /submit, shown its body step's list (完成, 取消: dialogue nonce a1b2c3)."""
    from bot.model import Dialog
    from storage import dialogs

    await bind(env, "wangjianguo")
    async with env.app.db.transaction() as tx:
        await dialogs.save(tx, "wecom:wangjianguo", Dialog("intake", "body", "a1b2c3"), env.clock.now(),
                           new_step=False)
    await through_the_outbox(env, "wangjianguo", Reply("请填写具体内容；写完后请选择“完成”。", buttons=(
        (Button("完成", "d:a1b2c3:done"),), (Button("取消", "d:a1b2c3:cancel"),))))


async def test_in_a_dialogue_a_list_that_just_arrived_does_not_take_the_number_meant_for_its_step(env: Env) -> None:
    """A deputy in the middle of /submit types "1" (完成) as a reply to rate arrives: the number answers the
    dialogue's step, not 1. 满意 — a rating the deputy never gave. Half a minute later, the reply's list is the one
    a number answers; and outside a dialogue the latest list always is."""
    from storage import dialogs

    await deputy_at_the_body_step(env)
    env.clock.advance(seconds=40)
    rate = Reply("对您的建议 LS-2026-0001 的答复……请评价：", buttons=(
        (Button("满意", "rate:1:1:s"),), (Button("基本满意", "rate:1:1:b"),), (Button("不满意", "rate:1:1:d"),)))
    await through_the_outbox(env, "wangjianguo", rate, sent=False)  # claimed: arriving now
    typed = await understood(env, env.channel, text_fields("wangjianguo", "1", "72001"))
    assert typed is not None and typed.action == "d:a1b2c3:done"
    async with env.app.db.transaction() as tx:  # recorded sent, and half a minute goes by
        await tx.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE state = 'sending'",
                         (env.clock.now().isoformat(),))
    env.clock.advance(seconds=31)
    later = await understood(env, env.channel, text_fields("wangjianguo", "1", "72002"))
    assert later is not None and later.action == "rate:1:1:s"
    async with env.app.db.transaction() as tx:
        await dialogs.clear(tx, "wecom:wangjianguo")
    await through_the_outbox(env, "wangjianguo", rate, sent=False)
    outside = await understood(env, env.channel, text_fields("wangjianguo", "2", "72003"))
    assert outside is not None and outside.action == "rate:1:1:b"


async def test_in_a_dialogue_a_list_the_member_asked_for_takes_the_number_and_an_old_dialogue_does_not(
        env: Env) -> None:
    """From a review: /view (or /my) inside a dialogue answers with a list the member asked for: their next number
    answers it, not the dialogue (a "2" for 编号文字 had cancelled the draft). And a dialogue left unanswered for a
    quarter of an hour is not the one a number is meant for: the notice that just came takes it."""
    from storage import inbox

    await deputy_at_the_body_step(env)
    env.clock.advance(seconds=5)
    async with env.app.db.transaction() as tx:  # the member's /view, and its answer with a list
        asked = (await inbox.store(tx, "wecom", [("msg:9", "wecom:wangjianguo", "{}")], env.clock.now()))[0]
        item = await outbox.enqueue(tx, channel="wecom", chat_id="wangjianguo", op="message", policy="retry",
                                    payload=Reply("显示方式", buttons=((Button("按钮卡片", "view:cards"),),
                                                                      (Button("编号文字", "view:text"),))).to_json(),
                                    now=env.clock.now(), inbox_id=asked.id)
        assert item is not None and await outbox.claim(tx, [item]) == {item}
    typed = await understood(env, env.channel, text_fields("wangjianguo", "2", "73001"))
    assert typed is not None and typed.action == "view:text"

    env.clock.advance(minutes=20)  # the dialogue's step, long unanswered; then a reply to rate, just now
    async with env.app.db.transaction() as tx:
        await tx.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE state = 'sending'",
                         ((env.clock.now() - timedelta(minutes=20)).isoformat(),))
    await through_the_outbox(env, "wangjianguo", Reply("LS-2026-0001 的答复，请评价：", buttons=(
        (Button("满意", "rate:1:1:s"),), (Button("不满意", "rate:1:1:d"),))), sent=False)
    rated = await understood(env, env.channel, text_fields("wangjianguo", "1", "73002"))
    assert rated is not None and rated.action == "rate:1:1:s"


async def test_a_card_pressed_with_files_after_it_is_not_pressed_again_by_a_number(env: Env, tmp_path: Path) -> None:
    """From a review: a drawn report's card (已报送) goes with two files after it, so the last id of that reply was a
    file's; the card's press was not found, and a later "1" pressed 已报送 again."""
    await bind(env, "chenjing", staff=True, presentation="cards")
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04 a report")
    await through_the_outbox(env, "chenjing", Reply("报告已生成。", buttons=((Button("已报送", "report:sent:2026H2"),),),
                                                    files=(OutFile(str(path), "报告.docx"),)))
    card = next(b for b in env.stub.calls("/cgi-bin/message/send") if b["msgtype"] == "template_card")
    pressed = await env.channel.prepare(json.dumps(card_press(env, card["template_card"]["task_id"], "b1")))
    assert pressed is not None and pressed.action == "report:sent:2026H2"
    await env.channel.deliver("chenjing", "answer", {"callback_id": pressed.callback_id, "text": "", "alert": False})
    after = await understood(env, env.channel, text_fields("chenjing", "1", "73003"))
    assert after is not None and after.action is None


async def test_a_notice_with_other_choices_numbers_only_those(env: Env) -> None:
    await bind(env, "wangjianguo")
    reply = Reply("LS-2026-0006", buttons=((Button("查看事项", "case:6", typed="LS-2026-0006"),),
                                           (Button("满意", "rate:0"),)))
    await through_the_outbox(env, "wangjianguo", reply)
    content = env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    assert content == "LS-2026-0006\n\n1. 满意\n查看事项：发送 LS-2026-0006\n请回复选项前的数字进行选择。"
    inc = await understood(env, env.channel, text_fields("wangjianguo", "1", "50003"))
    assert inc is not None and inc.action == "rate:0"
    beyond = await understood(env, env.channel, text_fields("wangjianguo", "2", "50004"))
    assert beyond is not None and beyond.action is None and beyond.text == "2"
    assert env.channel.cost("wangjianguo", "message", reply.to_json()) == 1
    assert Reply.from_json(reply.to_json()) == reply  # the typed form survives the outbox


async def test_on_a_card_the_notice_keeps_its_button_but_a_typed_number_still_skips_it(env: Env) -> None:
    await bind(env, "chenjing", staff=True, presentation="cards")
    await through_the_outbox(env, "chenjing", Reply("LS-2026-0003", buttons=((Button("交办", "act:3:assign"),),)))
    await through_the_outbox(env, "chenjing", opens("LS-2026-0006", 6))
    card = env.stub.calls("/cgi-bin/message/send")[-1]["template_card"]
    assert [b["text"] for b in card["button_list"]] == ["查看事项"]
    press = card_press(env, card["task_id"], "b1", "rcOPEN")
    pressed = await env.channel.prepare(json.dumps(press))
    assert pressed is not None and pressed.action == "case:6"
    typed = await understood(env, env.channel, text_fields("chenjing", "1", "50005"))
    assert typed is not None and typed.action == "act:3:assign"


async def test_a_person_who_chose_cards_gets_cards_and_long_text_goes_first(env: Env) -> None:
    await bind(env, "liuyang", presentation="cards")
    await env.channel.deliver("liuyang", "message", choice_reply(2, "很长的说明。" * 40).to_json())
    kinds = [b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")]
    assert kinds == ["text", "template_card"]


async def test_how_each_member_is_shown_messages_is_read_with_the_claim_not_per_send(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher claims the messages that start together in one transaction and the channel reads, in it,
    every one of those members' presentation and language at once (`look_up`); each send then uses what was
    read: no read of its own (at intake, one read a send was a twentieth of the bot's work)."""
    await bind(env, "liuyang", presentation="cards")
    await bind(env, "wangjianguo")  # a representative: numbered text by default
    await bind(env, "chenjing", staff=True, presentation="text")
    async with env.app.db.transaction() as tx:
        for userid in ("liuyang", "wangjianguo", "chenjing", "stranger"):  # the last one is bound to nobody
            await outbox.enqueue(tx, channel="wecom", chat_id=userid, op="message", policy="retry",
                                 payload=choice_reply(2).to_json(), now=env.clock.now())

    async def no_read_per_send(q: Any, userid: str) -> None:
        raise AssertionError(f"a read of its own for {userid}")

    monkeypatch.setattr(wecom_store, "presentation", no_read_per_send)
    await env.app.dispatcher.flush()
    sent = {b["touser"]: b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")}
    assert sent == {"liuyang": "template_card", "wangjianguo": "text", "chenjing": "text", "stranger": "text"}
    assert env.channel.sender._looked_up == {}  # each read was used by its send, none left over


async def test_presentations_are_read_in_chunks_and_leave_out_unbound_and_disabled_members(env: Env) -> None:
    for n in range(3):
        await bind(env, f"m{n}", presentation="cards" if n else None)
    async with env.app.db.transaction() as tx:
        await tx.execute("UPDATE persons SET disabled_at = ? WHERE name = '代表m2'", (env.clock.now().isoformat(),))
    async with env.app.db.snapshot() as q:
        found = await wecom_store.presentations(q, ["m0", "m1", "m2"] + [f"nobody{n}" for n in range(1200)])
    assert found == {"m0": (None, True, None), "m1": ("cards", True, None)}


async def test_a_card_refused_after_its_words_went_is_sent_alone_on_the_retry(env: Env) -> None:
    """The long words went, the card met 45033 (too many at once, 90313; the outbox waits a minute): the retry
    sends the card only — the member reads the words once (the outbox keeps what went, Progress)."""
    await bind(env, "liuyang", presentation="cards")
    progress = Progress()
    env.stub.script["/cgi-bin/message/send"] = [ok, 45033]
    with pytest.raises(RateLimited):
        await env.channel.deliver("liuyang", "message", choice_reply(2, "很长的说明。" * 40).to_json(), progress)
    assert len(progress.sent) == 1
    result = await env.channel.deliver("liuyang", "message", choice_reply(2, "很长的说明。" * 40).to_json(), progress)
    kinds = [b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")]
    assert kinds == ["text", "template_card", "template_card"]
    assert len(result.message_ids) == 2


# -- files ---------------------------------------------------------------------------------------


async def test_a_chinese_file_name_is_sent_raw_and_the_upload_is_reused(env: Env, tmp_path: Path) -> None:
    """Known failure: Chinese file names refused or shown percent-encoded. WeCom reads a plain filename="…"."""
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04 a report")
    reply = Reply("附件", files=(OutFile(str(path), "2026年下半年工作报告.docx"),)).to_json()
    await env.channel.deliver("u1", "message", reply)
    await env.channel.deliver("u2", "message", reply)
    assert len(env.stub.uploads) == 1
    assert 'filename="2026年下半年工作报告.docx"'.encode() in env.stub.uploads[0][1]
    assert b'filelength="13"' in env.stub.uploads[0][1]  # the 13 bytes; 90253: filename, filelength and content-type
    assert b"Content-Type: application/octet-stream" in env.stub.uploads[0][1]
    env.clock.advance(days=3)  # media_id lapses after 3 days (90253): uploaded again
    await env.channel.deliver("u3", "message", reply)
    assert len(env.stub.uploads) == 2


async def test_an_expired_media_id_is_uploaded_again_once(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    reply = Reply("图", files=(OutFile(str(path), "图.png", "photo"),)).to_json()
    await env.channel.deliver("u1", "message", reply)
    env.stub.script["/cgi-bin/message/send"] = [ok, 40007]  # the text goes, then the media_id is refused
    await env.channel.deliver("u1", "message", reply)
    assert len(env.stub.uploads) == 2
    assert [b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")][-3:] == ["text", "image", "image"]


async def ok(request: web.Request) -> web.Response:
    return web.json_response({"errcode": 0, "msgid": "m"})


async def test_files_too_small_or_too_large_for_wecom_are_rejected(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_bytes(b"12345")  # 90253: more than 5 bytes
    with pytest.raises(Rejected):
        await env.channel.deliver("u1", "message", Reply("", files=(OutFile(str(path), "tiny.txt"),)).to_json())


# -- the menu ------------------------------------------------------------------------------------


async def test_the_menu_is_set_at_start_from_the_command_table(env: Env) -> None:
    """90231: at most 3 buttons, 5 under each, names within 16 / 40 bytes; the same table as Telegram's."""
    (menu,) = env.stub.calls("/cgi-bin/menu/create")
    top = menu["button"]
    assert len(top) <= 3
    assert [b["name"] for b in top[:2]] == ["提交事项", "我的事项"]
    assert all(len(b["name"].encode()) <= 16 for b in top)
    subs = top[2]["sub_button"]
    assert len(subs) <= 5 and all(len(b["name"].encode()) <= 40 for b in subs)
    assert [b["key"] for b in top[:2] + subs] == ["submit", "my", "inbox", "cancel", "lang", "help", "view"]
    assert [b["name"] for b in subs] == ["待办", "取消当前操作", "语言", "帮助", "显示方式"]
    for key in ("submit", "inbox"):
        inc = await env.channel.prepare(json.dumps({"FromUserName": "u1", "MsgType": "event", "Event": "click",
                                                    "EventKey": key, "CreateTime": "1"}))
        assert inc is not None and inc.command == key


# -- pacing --------------------------------------------------------------------------------------


async def test_wecom_has_its_own_overall_rate_apart_from_telegrams(env: Env) -> None:
    """90454: message/send is outside WeCom's per-minute API limits; its overall pace is wecom.global_rate, not
    the outbox's Telegram figure; each member's windows (30 a minute, 1 000 an hour) stay whatever it says."""
    app = env.app
    config = replace(app.config, wecom=replace(app.config.wecom, global_rate=120.0),
                     outbox=replace(app.config.outbox, global_rate=5.0))
    app.config = config
    channel = WeComChannel(app)
    assert channel.pacing.global_rate == 120.0
    assert channel.pacing.per_chat_interval == 0.5 and channel.pacing.windows[0] == (25, 60.0)


class Hand:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_outbox_paces_each_member_below_30_a_minute_whatever_the_backlog(tmp_path: Path,
                                                                                   clock: MovableClock) -> None:
    """90236: over 30 a minute or 1 000 an hour to one member, WeCom drops messages silently (errcode 0).
    A backlog of 100 to one member goes out at most 25 in any 60 s; other members are not held up."""
    from tests.fakes import RecordingChannel

    app = await App.open(make_config(tmp_path), clock)
    channel = RecordingChannel(app.files)
    channel.name = "wecom"
    channel.pacing = Pacing(per_chat_interval=0.0, global_rate=1000, windows=((25, 60.0), (900, 3600.0)))  # type: ignore[attr-defined]
    hand = Hand()
    dispatcher = Dispatcher(app.db, {"wecom": channel}, app.config.outbox, clock, monotonic=hand)
    try:
        async with app.db.transaction() as tx:
            for i in range(100):
                await outbox.enqueue(tx, channel="wecom", chat_id="busy", op="message", payload=Reply(f"{i}").to_json(),
                                     policy="retry", now=clock.now())
            await outbox.enqueue(tx, channel="wecom", chat_id="other", op="message", payload=Reply("x").to_json(),
                                 policy="retry", now=clock.now())
        sent_at: list[float] = []
        for _ in range(400):
            before = len(channel.sent)
            await dispatcher._tick()
            await asyncio.gather(*list(dispatcher._inflight.values()))
            sent_at += [hand.now] * (len([s for s in channel.sent[before:] if s.chat_id == "busy"]))
            hand.now += 1.0
        assert len(sent_at) == 100
        assert max(sum(1 for t in sent_at if start <= t < start + 60) for start in sent_at) <= 25
        assert any(s.chat_id == "other" for s in channel.sent[:26])
    finally:
        await app.close()


async def test_an_alert_is_a_message_counted_in_the_members_window(tmp_path: Path, clock: MovableClock) -> None:
    """90236: a press's alert goes to a WeCom member as a text message (no pop-up there), so the member's windows
    count it: 25 messages and 8 alerts to one member never make more than 30 sends in a minute. The alerts
    themselves go at once (an answer is never paced)."""
    from tests.fakes import RecordingChannel

    app = await App.open(make_config(tmp_path), clock)
    channel = RecordingChannel(app.files)
    channel.name = "wecom"
    channel.pacing = Pacing(per_chat_interval=0.0, global_rate=1000, windows=((25, 60.0), (900, 3600.0)))  # type: ignore[attr-defined]
    channel.cost = lambda chat_id, op, payload: (  # type: ignore[attr-defined]
        1 if op == "message" or (op == "answer" and payload.get("alert") and payload.get("text")) else 0)
    hand = Hand()
    dispatcher = Dispatcher(app.db, {"wecom": channel}, app.config.outbox, clock, monotonic=hand)
    try:
        async with app.db.transaction() as tx:
            for i in range(8):
                await outbox.enqueue(tx, channel="wecom", chat_id="busy", op="answer",
                                     payload={"callback_id": f"t{i}:rc:b1:1", "text": f"按钮已失效{i}", "alert": True},
                                     policy="hold", now=clock.now())
            for i in range(30):
                await outbox.enqueue(tx, channel="wecom", chat_id="busy", op="message",
                                     payload=Reply(f"{i}").to_json(), policy="retry", now=clock.now())
        sent_at: list[float] = []
        for _ in range(120):
            before = len(channel.sent)
            await dispatcher._tick()
            await asyncio.gather(*list(dispatcher._inflight.values()))
            sent_at += [hand.now] * len(channel.sent[before:])
            hand.now += 1.0
        assert len(sent_at) == 38
        alerts = [at for at, sent in zip(sent_at, [s for s in channel.sent if s.chat_id == "busy"]) if sent.op == "answer"]
        assert alerts == [float(n) for n in range(8)]  # one a tick, never held for the window
        assert max(sum(1 for t in sent_at if start <= t < start + 60) for start in sent_at) <= 30
        assert sum(1 for t in sent_at if t < 60) < 25 + 8  # the alerts took room from the messages
    finally:
        await app.close()


# -- configuration -------------------------------------------------------------------------------


def test_configuration_names_the_bad_key(tmp_path: Path) -> None:
    from bot.config import load
    from bot.errors import ConfigError

    def load_text(text: str, environ: dict[str, str] | None = None) -> Any:
        path = tmp_path / "c.toml"
        path.write_text(text, encoding="utf-8")
        return load(path, environ={} if environ is None else environ)

    good = (f'[wecom]\ncorp_id = "{CORP}"\nagent_id = 1000002\ntoken = "{TOKEN}"\n'
            f'encoding_aes_key = "{AES_KEY}"\n')
    config = load_text(good, {"LIAISON_WECOM_SECRET": "s3cret"}).wecom
    assert config.enabled and config.secret == "s3cret" and "s3cret" not in repr(config)
    assert load_text(good + 'public_url = "http://127.0.0.1:8110/"\n', {"LIAISON_WECOM_SECRET": "x"}
                     ).wecom.public_url == "http://127.0.0.1:8110"  # the fake's walk, on this machine
    cases = [
        (good, {}, "LIAISON_WECOM_SECRET"),
        (good + 'secret = "s3cret"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.secret"),
        (good.replace(AES_KEY, AES_KEY[:-1]), {"LIAISON_WECOM_SECRET": "x"}, "wecom.encoding_aes_key"),
        (good.replace(TOKEN, "a!"), {"LIAISON_WECOM_SECRET": "x"}, "wecom.token"),
        (good.replace("1000002", "0"), {"LIAISON_WECOM_SECRET": "x"}, "wecom.agent_id"),
        (good + 'api_base = "qyapi.weixin.qq.com"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.api_base"),
        (good + 'representatives = "html"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.representatives"),
        # the invite link's one-time code comes back over public_url: https, or this machine only
        (good + 'public_url = "http://liaison.example.gov.cn"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.public_url"),
        (good + 'public_url = "https://x.example/?a=1"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.public_url"),
        (good + 'oauth_base = "open.weixin.qq.com"\n', {"LIAISON_WECOM_SECRET": "x"}, "wecom.oauth_base"),
    ]
    for text, environ, key in cases:
        with pytest.raises(ConfigError) as caught:
            load_text(text, environ)
        assert caught.value.key == key, text


async def test_deliver_needs_no_network_for_the_timestamps_of_the_test_clock(env: Env) -> None:
    """The callback server checks timestamps on the app's clock (the test's), not the machine's."""
    env.clock.advance(days=400)
    assert await env.post(text_fields("u1", "你好", "50001")) == 200
    assert await env.post(text_fields("u1", "你好", "50002"), timestamp=int((env.clock.now() - timedelta(hours=1)).timestamp())) == 403


# -- several channels at once ---------------------------------------------------------------------


async def _notify(harness: Any, person: int) -> None:
    """A notice to `person` from outside any chat (as a reminder is sent), delivered: where does it go?"""
    from bot.context import Context
    from bot.i18n import Translator
    from bot.messages import Incoming

    async with harness.db.transaction() as tx:
        ctx = Context(tx, Incoming(channel="cli", user_id="op", chat_id=""), harness.clock.now(),
                      harness.app.config, None, Translator("zh_Hans", harness.app.config.unit.tz),
                      channels=frozenset(harness.app.channels), records=RECORDS)
        assert await ctx.notify(person, lambda _: Reply("通知"))
    await harness.app.dispatcher.flush()


def _recorded_wecom(harness: Any) -> Any:
    """A recording channel named "wecom", beside the harness's own (which stands for Telegram)."""
    from tests.fakes import RecordingChannel

    wecom = RecordingChannel(harness.app.files)
    wecom.name = "wecom"
    harness.app.add_channel(wecom)
    return wecom


async def _office_and_deputy(harness: Any) -> tuple[int, int]:
    """The office's clerk (bound as 910) and a deputy, not bound yet."""
    office = await harness.add_staff("陈静", ["office"])
    person = await harness.add_representative("王建国")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "910", "910", office, harness.clock.now())
    return office, person


async def test_a_person_on_two_channels_is_notified_once_where_they_were_last(harness: Any) -> None:
    """SPEC §2: one person may be bound on Telegram and WeCom; each notification reaches them once, on the
    channel they used last."""
    wecom = _recorded_wecom(harness)
    person = await harness.add_representative("王建国")
    now = harness.clock.now()
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "777", "777", person, now)
        harness.clock.advance(minutes=1)
        await people.bind_identity(tx, "wecom", "wangjianguo", "wangjianguo", person, harness.clock.now())

    await _notify(harness, person)  # bound last on WeCom, not used since: WeCom
    assert [s.chat_id for s in wecom.sent] == ["wangjianguo"] and not harness.channel.sent
    harness.clock.advance(minutes=1)
    await harness.user("777").say("/help")  # used Telegram (here: the test channel) since
    before = len(harness.channel.sent)
    await _notify(harness, person)
    assert len(wecom.sent) == 1 and len(harness.channel.sent) == before + 1
    assert harness.channel.sent[-1].chat_id == "777"


async def test_an_account_the_office_binds_is_not_used_until_its_person_writes_from_it(harness: Any) -> None:
    """Issue 14, "on the channel they used last": the office binding a deputy's WeCom member (/wecom NAME USERID, as
    it adds deputies to the corp) is not the deputy's use of it. Their notices stay on the account they use until
    they write from WeCom; then they go there. (A binding by the person's own invite is a use.)"""
    from bot.messages import Incoming

    wecom = _recorded_wecom(harness)
    _office, person = await _office_and_deputy(harness)
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "777", "777", person, harness.clock.now())
    harness.clock.advance(minutes=1)
    assert "王建国已绑定企业微信成员wangjianguo" in (await harness.user("910").say("/wecom 王建国 wangjianguo"))[-1].text

    before = len(harness.channel.sent)
    await _notify(harness, person)  # bound on WeCom by the office a minute ago, never used: where the deputy is
    assert not wecom.sent and harness.channel.sent[before:][-1].chat_id == "777"
    harness.clock.advance(minutes=1)
    written = Incoming(channel="wecom", user_id="wangjianguo", chat_id="wangjianguo", text="我的")
    await harness.app.store("wecom", [("msg:1", "wecom:wangjianguo", json.dumps(written.to_json()))])
    await harness.app.settle()
    assert wecom.sent  # the answer to "我的"
    answered, before = len(wecom.sent), len(harness.channel.sent)
    await _notify(harness, person)  # written from WeCom since: WeCom now
    assert len(wecom.sent) == answered + 1 and wecom.sent[-1].chat_id == "wangjianguo"
    assert len(harness.channel.sent) == before


async def test_an_account_the_office_bound_counts_from_its_first_use_even_when_it_is_the_only_one(
        harness: Any) -> None:
    """A deputy on WeCom alone, bound by the office, writes from it: that is their last use, so a second member the
    office binds later (a new phone) does not take their notices before they write from it."""
    from bot.messages import Incoming

    wecom = _recorded_wecom(harness)
    _office, person = await _office_and_deputy(harness)
    await harness.user("910").say("/wecom 王建国 wangjianguo")
    harness.clock.advance(minutes=1)
    written = Incoming(channel="wecom", user_id="wangjianguo", chat_id="wangjianguo", text="我的")
    await harness.app.store("wecom", [("msg:1", "wecom:wangjianguo", json.dumps(written.to_json()))])
    await harness.app.settle()
    harness.clock.advance(minutes=1)
    await harness.user("910").say("/wecom 王建国 wjg2")
    async with harness.db.snapshot() as q:
        assert await people.chats_of(q, person) == [("wecom", "wangjianguo"), ("wecom", "wjg2")]
    await _notify(harness, person)
    assert wecom.sent[-1].chat_id == "wangjianguo" and wecom.sent[-1].payload["text"] == "通知"


async def _migrated_until(folder: Path, last: int) -> Any:
    """An SQLite database as migrations 1..`last` left it (to test what a later one does to the rows kept)."""
    import shutil

    from storage import migrate
    from storage.db import Database

    older = folder / "older"
    older.mkdir()
    for path in sorted(migrate.MIGRATIONS.glob("*.sql")):
        if int(path.name[:4]) <= last:
            shutil.copy(path, older / path.name)
    db = await Database.open(folder / "x.db")
    await migrate.migrate(db, datetime(2026, 12, 1, tzinfo=UTC), older)
    return db


async def test_the_wecom_userids_kept_before_are_put_in_lower_case(tmp_path: Path) -> None:
    """Migration 0033: the accounts, dialogues, cards and queued messages of WeCom members kept in another case
    before are found under the lower-case userid callbacks are now read as; two accounts of one member in two
    cases are left for the office; other channels' ids are not touched."""
    from storage import migrate

    db = await _migrated_until(tmp_path, 32)
    try:
        async with db.transaction() as tx:
            person = await tx.insert("INSERT INTO persons (name, body, created_at, updated_at)"
                                     " VALUES ('王建国', 'npc', '2026-01-01', '2026-01-01') RETURNING id")
            for channel, userid in (("wecom", "WangJianGuo"), ("telegram", "AbC"), ("wecom", "LiHong"),
                                    ("wecom", "lihong"), ("wecom", "ZhaoL"), ("wecom", "ZHAOL")):
                await tx.execute("INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at)"
                                 " VALUES (?, ?, ?, ?, '2026-03-01')", (channel, userid, person, userid))
            for actor in ("wecom:WangJianGuo", "wecom:ZhaoL", "wecom:ZHAOL"):
                await tx.execute("INSERT INTO dialogs (actor, flow, step, nonce, data, updated_at) VALUES"
                                 " (?, 'submit', 'subject', 'n1', '{}', '2026-03-01')", (actor,))
            await tx.execute("INSERT INTO wecom_cards (task_id, userid, buttons, sent_at) VALUES"
                             " ('t1', 'WangJianGuo', '[]', '2026-03-01')")
        await migrate.migrate(db, datetime(2026, 12, 1, tzinfo=UTC), migrate.MIGRATIONS)
        async with db.snapshot() as q:
            assert sorted(tuple(r) for r in await q.all("SELECT channel, external_id, chat_id FROM identities")) == [
                ("telegram", "AbC", "AbC"), ("wecom", "LiHong", "LiHong"), ("wecom", "ZHAOL", "ZHAOL"),
                ("wecom", "ZhaoL", "ZhaoL"), ("wecom", "lihong", "lihong"), ("wecom", "wangjianguo", "wangjianguo")]
            assert sorted(r[0] for r in await q.all("SELECT actor FROM dialogs")) == [
                "wecom:ZHAOL", "wecom:ZhaoL", "wecom:wangjianguo"]
            assert await q.scalar("SELECT userid FROM wecom_cards") == "wangjianguo"
    finally:
        await db.close()


async def test_the_accounts_bound_before_keep_their_order_when_the_office_bindings_stop_counting_as_a_use(
        tmp_path: Path) -> None:
    """Migration 0032: accounts bound before it counted their binding as their last use; they keep that order."""
    from storage import migrate

    db = await _migrated_until(tmp_path, 31)
    try:
        async with db.transaction() as tx:
            person = await tx.insert("INSERT INTO persons (name, body, created_at, updated_at)"
                                     " VALUES ('王建国', 'npc', '2026-01-01', '2026-01-01') RETURNING id")
            await tx.execute("INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at) VALUES"
                             " ('telegram', '777', ?, '777', '2026-03-01T00:00:00+00:00'),"
                             " ('wecom', 'wangjianguo', ?, 'wangjianguo', '2026-05-01T00:00:00+00:00')",
                             (person, person))
            before = await people.chats_of(tx, person)
        assert (await migrate.migrate(db, datetime(2026, 12, 1, tzinfo=UTC), migrate.MIGRATIONS))[0] == \
            "0032_bound_by_office.sql"
        async with db.snapshot() as q:
            assert await people.chats_of(q, person) == before == [("wecom", "wangjianguo"), ("telegram", "777")]
            assert [r[0] for r in await q.all("SELECT last_seen_at FROM identities ORDER BY bound_at")] == [
                "2026-03-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"]
    finally:
        await db.close()


async def test_an_unreadable_update_from_a_wecom_member_still_gets_the_apology(harness: Any) -> None:
    """The apology was sent only to numeric (Telegram) chat ids; a WeCom chat is the member's userid."""
    from tests.fakes import RecordingChannel

    class Broken(RecordingChannel):
        async def prepare(self, payload: str) -> Any:
            raise ValueError("unreadable")

    wecom = Broken(harness.app.files)
    wecom.name = "wecom"
    harness.app.add_channel(wecom)
    await harness.app.store("wecom", [("msg:1", "wecom:zhangsan", "{}")])
    await harness.app.settle()
    assert [s.chat_id for s in wecom.sent] == ["zhangsan"]
    assert "抱歉" in wecom.sent[0].payload["text"]


# -- binding and presentation ---------------------------------------------------------------------


async def test_binding_by_typed_invite_code_on_wecom(env: Env) -> None:
    """SPEC §2: the same one-time invite code, typed as "绑定 CODE" (WeCom has no deep link)."""
    from handlers.people.binding import create_invite

    async with env.app.db.transaction() as tx:
        person = await tx.insert("INSERT INTO persons (name, body, created_at, updated_at) VALUES"
                                 " ('王建国', 'npc', '2026-01-01', '2026-01-01') RETURNING id")
        code = await create_invite(tx, person, env.clock.now(), 14)
    assert await env.post(text_fields("wangjianguo", f"绑定 {code}", "60001")) == 200
    await env.app.settle()
    async with env.app.db.snapshot() as q:
        bound = await people.by_identity(q, "wecom", "wangjianguo")
    assert bound is not None and bound.id == person
    sent = env.stub.calls("/cgi-bin/message/send")[-1]
    assert sent["touser"] == "wangjianguo" and "王建国" in sent["text"]["content"]
    assert "1. " in sent["text"]["content"]  # a representative: the menu as numbered text


async def deputy_says(env: Env, user: str = "wangjianguo") -> Any:
    """What the member is sent in answer to each text they type, one after the other."""
    ids = iter(range(71000, 72000))

    async def said(text: str) -> list[str]:
        before = len(env.stub.calls("/cgi-bin/message/send"))
        assert await env.post(text_fields(user, text, str(next(ids)))) == 200
        await env.app.settle()
        return [s["text"]["content"] for s in env.stub.calls("/cgi-bin/message/send")[before:]]
    return said


async def test_a_number_typed_for_a_list_that_no_longer_holds_is_told_what_it_can_do(env: Env) -> None:
    """Found walking the README's WeCom flow as a deputy: a number typed after the dialogue its list belonged to had
    ended got only "此选项已失效。", a dead end in personal WeChat. Now the menu comes with it, and its numbers work."""
    await bind(env, "wangjianguo")
    said = await deputy_says(env)
    assert (await submitted_by_numbers(said))[0].startswith("已登记")  # the receipt: no list after it
    stale = await said("1")  # the confirmation's list, its dialogue gone
    assert len(stale) == 1 and stale[0].startswith("此选项已失效。\n请选择您要进行的操作：\n\n1. 提交事项\n2. 我的事项")
    assert (await said("1"))[0].startswith("提交事项\n请选择事项类别")  # the menu's 1


async def test_a_number_past_the_end_of_the_list_is_told_so_and_the_list_stays(env: Env) -> None:
    """Found walking as a deputy: "5" for the three ratings got "not understood" with the main menu, whose numbers
    then replaced the ratings': the reply could no longer be rated by number. Now the member is told which numbers
    the list takes, and nothing replaces it."""
    await bind(env, "wangjianguo")
    await through_the_outbox(env, "wangjianguo", choice_reply(3))
    said = await deputy_says(env)
    assert await said("5") == ["请按上方列表，回复 1 至 3 之间的数字。"]
    inc = await understood(env, env.channel, text_fields("wangjianguo", "3", "71999"))
    assert inc is not None and inc.action == "rate:2"  # the ratings' 3, still


async def test_a_number_past_a_list_whose_dialogue_ended_is_not_told_to_answer_it(env: Env) -> None:
    """Found walking the README's flow: "9" after the receipt was told "回复 1 至 2" — the confirmation's list, whose
    dialogue had ended, so that its 1 would only be "no longer valid". Such a list is not pointed to: the number is
    an ordinary message; nor does a word typed out press it."""
    await bind(env, "wangjianguo")
    said = await deputy_says(env)
    await submitted_by_numbers(said)  # the confirmation's list ended with its dialogue
    assert (await said("9"))[0].startswith("抱歉，未能理解您的消息。")
    await said("/submit")
    await said("1")
    assert (await said("关于路灯的建议"))[0].startswith("请填写具体内容")  # the content step: 1. 完成 2. 取消
    cancelled = await said("2")  # 取消 by its number: the menu follows, as after /cancel
    assert cancelled[0].startswith("已取消，未提交任何内容。\n\n1. 提交事项")
    assert (await said("完成"))[0].startswith("抱歉，未能理解您的消息。")  # the ended step's 完成 is not pressed
    assert (await said("9"))[0] == "请按上方列表，回复 1 至 4 之间的数字。"  # the menu's list is the one that holds


async def submitted_by_numbers(said: Callable[[str], Awaitable[list[str]]]) -> list[str]:
    """A deputy's suggestion submitted in personal WeChat, every choice by its number; the receipt's messages."""
    for typed in ("/submit", "1", "关于路灯的建议", "村东头没有路灯，晚上出行不便。", "1", "1"):
        await said(typed)
    return await said("1")


async def test_a_choice_typed_out_presses_it_and_other_words_stay_words(env: Env) -> None:
    """Found walking as a deputy in personal WeChat: "满意" typed under the ratings, or "建议" at the kind step, was
    "not understood" or "please choose below". A short text that names exactly one choice of the list before the
    member presses it, as its number does; any other text stays the text it is."""
    await bind(env, "wangjianguo")
    await through_the_outbox(env, "wangjianguo", choice_reply(3))
    for typed, action in (("满意", "rate:0"), (" 不满意。", "rate:2"), ("基本满意!", "rate:1")):
        inc = await understood(env, env.channel, text_fields("wangjianguo", typed, f"7300{len(typed)}"))
        assert inc is not None and inc.action == action and inc.typed_word == "", typed
    for typed in ("很满意", "满意吗", "满意满意满意满意满意满意", "满意" * 21):  # not a label; nor longer than any
        inc = await understood(env, env.channel, text_fields("wangjianguo", typed, "73100"))
        assert inc is not None and inc.action is None and inc.text == typed, typed
    # an English label is longer than a card's ten characters; typed out, it presses all the same (found walking
    # 修改 in English: "Keep as it was" typed at the subject step became the subject)
    await through_the_outbox(env, "wangjianguo", Reply("Choose.", buttons=((Button("Back to the summary", "x:back"),),
                                                                         (Button("No change", "x:keep"),))))
    inc = await understood(env, env.channel, text_fields("wangjianguo", "back to the summary", "73200"))
    assert inc is not None and inc.action == "x:back"
    said = await deputy_says(env)
    await said("/submit")
    assert (await said("建议"))[0].startswith("请发送简要事由")  # the kind step's 建议, typed out


async def test_help_in_a_dialogue_shows_its_step_again_so_a_number_answers_the_step(env: Env) -> None:
    """Found walking as a deputy: 帮助 in the middle of a submission ended with the main menu, so a number then typed
    opened 我的事项 instead of answering the step. The step now follows the help (whose menu still works on a card,
    or on Telegram, where a button is pressed on its own message)."""
    await bind(env, "wangjianguo")
    said = await deputy_says(env)
    await said("/submit")
    helped = await said("帮助")
    assert helped[0].startswith("帮助\n")
    assert helped[1] == "您的操作尚未完成：提交事项。请接着完成，或发送“取消”退出。"
    assert helped[2].startswith("提交事项\n请选择事项类别") and "1. 建议" in helped[2]
    assert (await said("1"))[0].startswith("请发送简要事由")  # 建议: the step's 1


async def test_a_member_added_to_the_app_is_told_how_to_begin(env: Env) -> None:
    """90240 subscribe: the office adds a member to the app's visible range. One not yet bound is told how to bind
    (no link on WeCom: ask the office, or send "绑定 CODE"); one the office bound already gets their help and menu.
    Leaving the range (unsubscribe) is not answered: nothing could reach them."""
    def event(user: str, name: str, when: int) -> dict[str, str]:
        return {"ToUserName": CORP, "FromUserName": user, "CreateTime": str(when), "MsgType": "event",
                "Event": name, "AgentID": "1000002"}
    assert await env.post(event("newdeputy", "subscribe", 1795000000)) == 200
    assert await env.post(event("newdeputy", "subscribe", 1795000000)) == 200  # resent: once
    await env.app.settle()
    sent = env.stub.calls("/cgi-bin/message/send")
    assert [s["touser"] for s in sent] == ["newdeputy"] and "“绑定 邀请码”" in sent[0]["text"]["content"]
    await bind(env, "wangjianguo")
    assert await env.post(event("wangjianguo", "subscribe", 1795000001)) == 200
    assert await env.post(event("wangjianguo", "unsubscribe", 1795000002)) == 200
    await env.app.settle()
    sent = env.stub.calls("/cgi-bin/message/send")
    assert [s["touser"] for s in sent] == ["newdeputy", "wangjianguo"]
    assert "1. " in sent[1]["text"]["content"] and "绑定" not in sent[1]["text"]["content"]
    assert [r[0][:3] for r in await env.inbox()] == ["ev:", "ev:"]


async def test_a_kind_of_message_wecom_may_add_is_answered_not_met_with_silence(env: Env) -> None:
    """90239 lists six kinds of message; one WeCom adds later reaches a deputy's app all the same. It is answered as
    an empty message is, in the deputy's language ("not understood", with the menu), once for its resends; nothing
    else is kept."""
    await bind(env, "wangjianguo")
    fields = text_fields("wangjianguo", "", "63001") | {"MsgType": "miniprogram", "Title": "小程序"}
    del fields["Content"]
    assert await env.post(fields) == 200
    assert await env.post(fields) == 200  # WeCom's resend: one update
    await env.app.settle()
    sent = env.stub.calls("/cgi-bin/message/send")
    assert len(sent) == 1 and sent[0]["text"]["content"].startswith("抱歉，未能理解您的消息。")
    async with env.app.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM matters") == 0


async def test_a_voice_message_is_named_by_its_format() -> None:
    """90239: a voice message's Format is amr or speex; the file is named by it (amr when it is not given)."""
    from bot.channels.wecom import _described

    fields = {"MsgType": "voice", "MediaId": "M1", "MsgId": "7", "Format": "speex"}
    assert _described("voice", fields).name == "voice-7.speex"
    assert _described("voice", fields | {"Format": ""}).name == "voice-7.amr"
    assert _described("voice", fields | {"Format": "../x"}).name == "voice-7.x"


async def test_a_stranger_and_a_wrong_code_on_wecom_are_told_of_a_code_not_a_link(env: Env) -> None:
    """WeCom has no link to open: a member not yet bound is told to ask the office to bind them, or for a code sent
    as "绑定 CODE"; a wrong code is called a code. Nothing is bound."""
    assert await env.post(text_fields("stranger", "你好", "61001")) == 200
    await env.app.settle()
    told = env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    assert "“绑定 邀请码”" in told and "链接" not in told
    assert await env.post(text_fields("stranger", "绑定 NOT-A-REAL-CODE-0000", "61002")) == 200
    await env.app.settle()
    told = env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    assert told == "此邀请码无效，或已过期、已被使用。请向本院办公室索取新的邀请码。"
    async with env.app.db.snapshot() as q:
        assert await people.by_identity(q, "wecom", "stranger") is None


async def test_staff_on_wecom_reach_their_inbox_by_its_word_and_their_menu(env: Env) -> None:
    """WeCom has no "/" menu and a phone's keyboard hides "/": staff type “待办” (or press it in their menu) for
    /inbox and “总览” for /overview, and the help names those words, not "/inbox"."""
    await bind(env, "chenjing", staff=True)

    async def said(text: str, msg_id: str) -> list[dict[str, Any]]:
        before = len(env.stub.calls("/cgi-bin/message/send"))
        assert await env.post(text_fields("chenjing", text, msg_id)) == 200
        await env.app.settle()
        return list(env.stub.calls("/cgi-bin/message/send")[before:])

    def words(sent: list[dict[str, Any]]) -> str:
        return "\n".join(s["text"]["content"] if s["msgtype"] == "text" else s["template_card"].get(
            "sub_title_text", "") + s["template_card"]["main_title"]["title"] for s in sent)

    assert words(await said("待办", "62001")) == "待交办\n暂无待交办的新事项。"
    assert words(await said("总览", "62002")) == words(await said("/overview", "62003"))
    helped = await said("帮助", "62004")
    text = words(helped)
    assert "“待办” — 待交办的新登记事项" in text and "“总览” — 按状态查看全部事项" in text and "/inbox" not in text
    menu = helped[-1]["template_card"]
    assert [b["text"] for b in menu["button_list"]][:1] == ["待办"]
    press = {"FromUserName": "chenjing", "MsgType": "event", "Event": "template_card_event", "AgentID": "1000002",
             "CreateTime": str(int(env.clock.now().timestamp())), "TaskId": menu["task_id"], "EventKey": "b1",
             "ResponseCode": "rcMENU", "ToUserName": CORP}
    before = len(env.stub.calls("/cgi-bin/message/send"))
    assert await env.post(press) == 200
    await env.app.settle()
    assert words(list(env.stub.calls("/cgi-bin/message/send")[before:])) == "待交办\n暂无待交办的新事项。"


async def test_a_deputy_who_presses_the_app_menus_to_do_is_told_it_is_for_staff(env: Env) -> None:
    """The app menu is one for every member (90231), and 待办 is in it for staff: a deputy's press is refused as
    the command is, in their language, and changes nothing."""
    await bind(env, "wangjianguo")
    tables = ("matters", "dialogs", "identities", "persons")
    async with env.app.db.snapshot() as q:
        before = {t: [tuple(r) for r in await q.all(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}
    sent = len(env.stub.calls("/cgi-bin/message/send"))
    click = {"FromUserName": "wangjianguo", "MsgType": "event", "Event": "click", "EventKey": "inbox",
             "AgentID": "1000002", "CreateTime": str(int(env.clock.now().timestamp())), "ToUserName": CORP}
    assert await env.post(click) == 200
    await env.app.settle()
    (told,) = env.stub.calls("/cgi-bin/message/send")[sent:]
    assert told["touser"] == "wangjianguo" and told["text"]["content"] == "此功能仅供本院工作人员使用。"
    async with env.app.db.snapshot() as q:
        assert {t: [tuple(r) for r in await q.all(f"SELECT * FROM {t} ORDER BY 1")] for t in tables} == before


async def test_the_inbox_button_is_checked_again_and_refused_to_a_representative(harness: Any) -> None:
    """Button data is user input: "menu:inbox" pressed by a representative (an old or forged button) is refused as
    the command is, and changes nothing."""
    deputy = await harness.add_representative("王建国")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "903", "903", deputy, harness.clock.now())
    wang = harness.user("903")
    await wang.say("/menu")
    assert "待办" not in wang.last_buttons()
    before = await harness.dump("matters", "dialogs", "outbox")
    refused = await wang.press_data("menu:inbox")
    after = await harness.dump("matters", "dialogs", "outbox")
    assert refused[-1].text == (await wang.say("/inbox"))[-1].text  # as the command is refused
    assert "待交办" not in refused[-1].text and "工作人员" in refused[-1].text
    assert after["matters"] == before["matters"] and after["dialogs"] == before["dialogs"]
    async with harness.db.snapshot() as q:  # the refusal is recorded, as every refusal is
        assert await q.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refused:staff_screen'") == 2


async def test_a_head_without_a_department_is_not_offered_the_inbox_that_would_refuse_them(harness: Any) -> None:
    """The menu offers 待办 only to those /inbox has work for, as the help lists it: a department head not (yet)
    given a department has none, and the button would answer with a refusal."""
    head = await harness.add_staff("赵刚", ["head"])
    handler = await harness.add_staff("刘洋", ["handler"], "第一检察部")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "904", "904", head, harness.clock.now())
        await people.bind_identity(tx, "test", "905", "905", handler, harness.clock.now())
    zhao, liu = harness.user("904"), harness.user("905")
    await zhao.say("/menu")
    assert "待办" not in zhao.last_buttons()
    assert "/inbox" not in (await zhao.say("/help"))[-1].text
    await liu.say("/menu")
    assert "待办" in liu.last_buttons()
    assert "本部门" in (await liu.press("待办"))[-1].text


async def test_the_office_binds_a_roster_person_to_a_wecom_member_in_chat(harness: Any) -> None:
    office = await harness.add_staff("陈静", ["office"])
    deputy = await harness.add_representative("王建国")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "900", "900", office, harness.clock.now())
    chen = harness.user("900")
    replies = await chen.say("/wecom 王建国 wangjianguo")
    assert "王建国已绑定企业微信成员wangjianguo" in replies[-1].text
    async with harness.db.snapshot() as q:
        bound = await people.by_identity(q, "wecom", "wangjianguo")
    assert bound is not None and bound.id == deputy
    before = await harness.dump("identities", "audit_log")
    replies = await chen.say("/wecom 陈静 wangjianguo")  # bound already: refused, nothing changed
    assert "已绑定为王建国" in replies[-1].text
    assert await harness.dump("identities", "audit_log") == before
    await chen.say("/wecom 王建国 卡片")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT presentation FROM persons WHERE id = ?", (deputy,)) == "cards"


async def test_only_the_office_binds_members_and_a_refusal_changes_nothing(harness: Any) -> None:
    await harness.add_representative("王建国")
    deputy = await harness.add_representative("李红")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "901", "901", deputy, harness.clock.now())
    before = await harness.dump("identities", "persons")
    replies = await harness.user("901").say("/wecom 王建国 wangjianguo")
    assert "仅供办公室和系统管理员" in replies[-1].text
    assert await harness.dump("identities", "persons") == before


async def test_wecom_userids_are_not_case_sensitive(env: Env) -> None:
    """90236: userids are "不区分大小写，统一转为小写". The office binds 王建国 as it reads the userid in the admin
    console ("WangJianGuo"); WeCom may report the member otherwise: he is the same member, whose messages are his
    and whose cards he may press; a second binding in another case is the same member, refused."""
    await bind(env, "chenjing", staff=True, presentation="cards")
    async with env.app.db.transaction() as tx:
        deputy = await tx.insert("INSERT INTO persons (name, body, created_at, updated_at) VALUES"
                                 " ('王建国', 'npc', '2026-01-01', '2026-01-01') RETURNING id")
    assert await env.post(text_fields("ChenJing", "/wecom 王建国 WangJianGuo", "62001")) == 200
    await env.app.settle()
    assert "王建国已绑定企业微信成员WangJianGuo" in env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    for who, number in (("WANGJIANGUO", "62002"), ("wangjianguo", "62003")):
        assert await env.post(text_fields(who, "我的", number)) == 200
        await env.app.settle()
        sent = env.stub.calls("/cgi-bin/message/send")[-1]
        assert sent["touser"] == "wangjianguo" and "您还没有提交过事项" in sent["text"]["content"], who
    async with env.app.db.snapshot() as q:
        bound = await people.by_identity(q, "wecom", "wangjianguo")
        accounts = [tuple(r) for r in await q.all("SELECT * FROM identities ORDER BY channel, external_id")]
    assert bound is not None and bound.id == deputy
    assert await env.post(text_fields("chenjing", "/wecom 王建国 wangJIANguo", "62004")) == 200
    await env.app.settle()
    assert "已绑定为王建国" in env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    async with env.app.db.snapshot() as q:
        assert [tuple(r) for r in await q.all("SELECT * FROM identities ORDER BY channel, external_id")] == accounts
    card = await _menu_card(env)  # sent to "chenjing", pressed by "ChenJing"
    press = await env.channel.prepare(json.dumps(_menu_card_press(env, card) | {"FromUserName": "ChenJing"}))
    assert press is not None and press.user_id == "chenjing" and press.action != ""


async def test_a_person_changes_their_own_presentation(harness: Any) -> None:
    deputy = await harness.add_representative("王建国")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", "902", "902", deputy, harness.clock.now())
    wang = harness.user("902")
    replies = await wang.say("/view")
    assert "编号文字" in replies[-1].text and wang.last_buttons() == ["按钮卡片", "编号文字"]
    await wang.press("按钮卡片")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT presentation FROM persons WHERE id = ?", (deputy,)) == "cards"


def test_the_command_line_binds_and_sets_the_presentation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    from bot.__main__ import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{(tmp_path / "db.sqlite").as_posix()}"\n'
                      f'files_dir = "{(tmp_path / "files").as_posix()}"\n', encoding="utf-8")
    clock = MovableClock()
    assert main(["--config", str(config), "staff", "add", "--name", "陈静", "--roles", "office"], clock) == 0
    args = ["--config", str(config), "wecom", "bind", "--name", "陈静", "--userid", "ChenJing"]
    assert main(args, clock) == 0
    assert main(args, clock) == 1  # bound already: refused
    assert main(args[:-1] + ["chenjing"], clock) == 1  # the same member in another case (90236): refused
    assert main(["--config", str(config), "wecom", "view", "--name", "陈静", "text"], clock) == 0
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert conn.execute("SELECT external_id FROM identities WHERE channel = 'wecom'").fetchall() == [("chenjing",)]
        assert conn.execute("SELECT presentation FROM persons").fetchall() == [("text",)]
    conn.close()
    unbind = ["--config", str(config), "access", "unbind", "--name", "陈静", "--channel", "wecom", "--account"]
    assert main(unbind + ["CHENJING"], clock) == 0  # named as the office reads it in WeCom's admin console
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM identities WHERE channel = 'wecom'").fetchone() == (0,)
    conn.close()


def test_an_invite_on_a_wecom_only_unit_gives_the_words_to_send_and_no_telegram_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where only WeCom runs, a t.me link would send a deputy to a blocked service: the invite names what to
    send the app instead."""
    from bot.__main__ import main
    from bot.config import TOKEN_ENV, WECOM_SECRET_ENV

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(WECOM_SECRET_ENV, "test-secret")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{(tmp_path / "db.sqlite").as_posix()}"\n'
                      f'files_dir = "{(tmp_path / "files").as_posix()}"\n'
                      '[wecom]\ncorp_id = "ww0000000000fake01"\nagent_id = 1000002\ntoken = "FakeToken2026"\n'
                      'encoding_aes_key = "FakeWeComAesKey0123456789abcdefghijklmnopqr"\n', encoding="utf-8")
    clock = MovableClock()
    assert main(["--config", str(config), "staff", "add", "--name", "陈静", "--roles", "office"], clock) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "invite", "--name", "陈静"], clock) == 0
    out = capsys.readouterr().out
    assert "t.me" not in out and "link:" not in out
    assert re.search(r"WeCom: send the app the message 绑定 [A-Za-z0-9_-]{22}", out), out


async def test_binding_with_the_phone_check_on_wecom_where_there_is_no_share_button(env: Env) -> None:
    """binding.require_phone: Telegram's share-contact button does not exist on WeCom; the member types the
    number instead, taken as their contact only while they are binding."""
    from bot.config import BindingConfig
    from handlers.people.binding import create_invite

    config = replace(env.app.config, binding=BindingConfig(require_phone=True))
    env.app.config = env.app.processor.config = config
    async with env.app.db.transaction() as tx:
        sealed, digest = people.sealed_phone(tx, "13800000001")  # phones are sealed at rest (bot/sealing.py)
        person = await tx.insert("INSERT INTO persons (name, body, phone, phone_hash, created_at, updated_at) VALUES"
                                 " ('王建国', 'npc', ?, ?, '2026-01-01', '2026-01-01') RETURNING id", (sealed, digest))
        code = await create_invite(tx, person, env.clock.now(), 14)
    await env.post(text_fields("wangjianguo", f"绑定 {code}", "70001"))
    await env.app.settle()
    asked = env.stub.calls("/cgi-bin/message/send")[-1]["text"]["content"]
    assert "请直接回复您的手机号码" in asked and "按钮" not in asked  # no button is spoken of where there is none
    await env.post(text_fields("wangjianguo", "138 0000 0001", "70002"))
    await env.app.settle()
    async with env.app.db.snapshot() as q:
        bound = await people.by_identity(q, "wecom", "wangjianguo")
    assert bound is not None and bound.id == person


async def test_run_refuses_wecom_without_its_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.runner import run

    assert await run(make_config(tmp_path), "wecom") == 2
    assert "wecom.corp_id" in capsys.readouterr().err


async def test_cards_and_choices_are_forgotten_with_the_messages(env: Env) -> None:
    """Privacy (storage.keep_messages_days): the labels kept for WeCom's cards go too, and a numbered list's
    choices with the message's text in the outbox (a number typed then presses nothing)."""
    await bind(env, "chenjing", staff=True)
    await bind(env, "wangjianguo")
    await env.channel.deliver("chenjing", "message", choice_reply(2).to_json())
    await through_the_outbox(env, "wangjianguo", choice_reply(2))
    env.clock.advance(days=31)
    await env.app.supervise()
    async with env.app.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM wecom_cards") == 0
        assert await q.scalar("SELECT COUNT(*) FROM outbox WHERE chat_id = 'wangjianguo' AND payload <> ''") == 0
    inc = await env.channel.prepare(json.dumps(text_fields("wangjianguo", "1", "40020")))
    assert inc is not None and inc.action is None and inc.text == "1"


async def test_a_secret_wecom_refuses_stops_start_up_naming_it(tmp_path: Path, clock: MovableClock) -> None:
    from bot.errors import ConfigError

    stub = Stub(clock)
    await stub.start()
    app = await App.open(make_config(tmp_path, wecom=wecom_config(stub, secret="wrong")), clock)
    try:
        channel = WeComChannel(app)
        with pytest.raises(ConfigError) as caught:
            await channel.start()
        assert caught.value.key == "LIAISON_WECOM_SECRET" and "wrong" not in str(caught.value)
    finally:
        await app.close()
        await stub.stop()


async def test_a_stop_asked_while_the_database_opens_is_an_orderly_stop(tmp_path: Path, clock: MovableClock,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM (`systemctl stop`, the drills' end) while the bot opens its database, migrations and all: it stops
    in order with status 0 once the database is open, instead of dying of the signal (status -15)."""
    import gc
    import os
    import signal

    from bot.runner import run

    stub = Stub(clock)
    await stub.start()
    real_open = App.open

    async def open_when_told_to_stop(config: Any, clock: Any = None) -> App:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0)
        return await real_open(config, clock)

    monkeypatch.setattr(App, "open", open_when_told_to_stop)
    try:
        assert await run(make_config(tmp_path, wecom=wecom_config(stub)), "wecom") == 0
    finally:
        gc.unfreeze()
        await stub.stop()


async def test_wecom_unreachable_at_start_up_still_receives_callbacks(tmp_path: Path, clock: MovableClock) -> None:
    stub = Stub(clock)
    await stub.start()
    await stub.stop()  # nobody listens there now
    app = await App.open(make_config(tmp_path, wecom=wecom_config(stub)), clock)
    channel = WeComChannel(app)
    try:
        await channel.start()
        assert channel.server.started and channel.server.port > 0
    finally:
        await channel.stop()
        await app.close()


async def test_a_reply_of_files_alone_sends_no_empty_text(env: Env, tmp_path: Path) -> None:
    """An empty text.content is refused by WeCom (44004): a reply that is only a file sends only the file."""
    path = tmp_path / "chart.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    await env.channel.deliver("u1", "message", Reply("", files=(OutFile(str(path), "图表.png", "photo"),)).to_json())
    assert [b["msgtype"] for b in env.stub.calls("/cgi-bin/message/send")] == ["image"]


async def test_a_restart_does_not_reset_a_members_window(tmp_path: Path, clock: MovableClock) -> None:
    """WeCom counts a member's minute and hour whatever happens to the bot: after a restart, the sends made
    before it still count (from the outbox), so the new process does not push the member over 30 a minute."""
    from tests.fakes import RecordingChannel

    app = await App.open(make_config(tmp_path), clock)
    channel = RecordingChannel(app.files)
    channel.name = "wecom"
    channel.pacing = Pacing(per_chat_interval=0.0, global_rate=1000, windows=((25, 60.0),))  # type: ignore[attr-defined]
    start = clock.now()
    try:
        async with app.db.transaction() as tx:
            for i in range(30):
                await outbox.enqueue(tx, channel="wecom", chat_id="busy", op="message", payload=Reply(f"{i}").to_json(),
                                     policy="retry", now=clock.now())

        async def run(dispatcher: Dispatcher, hand: Hand, seconds: int) -> list[float]:
            sent_at = []
            for _ in range(seconds):
                before = len(channel.sent)
                await dispatcher._tick()
                await asyncio.gather(*list(dispatcher._inflight.values()))
                sent_at += [(clock.now() - start).total_seconds()] * (len(channel.sent) - before)
                hand.now += 1.0
                clock.advance(seconds=1)
            return sent_at

        first = Hand()
        before_restart = await run(Dispatcher(app.db, {"wecom": channel}, app.config.outbox, clock, monotonic=first),
                                   first, 30)
        assert len(before_restart) == 25
        second = Hand()
        second.now = 5000.0  # a new process: its monotonic clock has another origin
        after_restart = await run(Dispatcher(app.db, {"wecom": channel}, app.config.outbox, clock, monotonic=second),
                                  second, 40)
        assert len(after_restart) == 5 and min(after_restart) >= 60.0
    finally:
        await app.close()


async def test_a_picture_a_member_sends_is_fetched_with_media_get(env: Env) -> None:
    """90254 获取临时素材: the bytes of a member's picture, stored like any attachment; too large is refused."""
    picture = b"\xff\xd8\xff" + b"1" * 100

    async def media(request: web.Request) -> web.Response:
        return web.Response(body=picture, content_type="image/jpeg",
                            headers={"Content-Disposition": 'attachment; filename="photo.jpg"'})
    env.stub.script["/cgi-bin/media/get"] = [media]
    fields = {"FromUserName": "wangjianguo", "MsgType": "image", "MediaId": "MEDIA1", "PicUrl": "http://x",
              "MsgId": "80001", "CreateTime": "1"}
    described = await env.channel.prepare(json.dumps(fields))
    assert described is not None and described.attachments[0].stored_path is None  # fetched for a bound sender only
    assert "/cgi-bin/media/get" not in [p for p, _, _ in env.stub.requests]
    inc = await env.channel.fetch(described)
    assert len(inc.attachments) == 1
    item = inc.attachments[0]
    assert item.kind == "photo" and item.error is None and item.size == len(picture)
    assert item.stored_path is not None and env.app.files.resolve(item.stored_path).read_bytes() == picture
    assert env.stub.requests[-1][1]["media_id"] == "MEDIA1"
    env.channel.max_file_bytes = 10
    env.stub.script["/cgi-bin/media/get"] = [media]
    big = await env.channel.prepare(json.dumps(fields | {"MsgId": "80002"}))
    assert big is not None
    big = await env.channel.fetch(big)
    assert big.attachments[0].error == "too_large"


async def test_a_large_picture_arriving_in_many_pieces_is_fetched_whole(env: Env) -> None:
    """A phone's photo is megabytes: it reaches the bot in many reads, and is kept whole, not its first piece."""
    picture = b"\xff\xd8\xff" + bytes(range(256)) * (3 * 4096)  # 3 MiB

    async def media(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg",
                                               "Content-Disposition": 'attachment; filename="photo.jpg"'})
        await response.prepare(request)
        for start in range(0, len(picture), 65536):
            await response.write(picture[start:start + 65536])
            await asyncio.sleep(0)  # the loop turns between the pieces, as a network's would arrive
        await response.write_eof()
        return response
    env.stub.script["/cgi-bin/media/get"] = [media]
    fields = {"FromUserName": "wangjianguo", "MsgType": "image", "MediaId": "MEDIA2", "PicUrl": "http://x",
              "MsgId": "80003", "CreateTime": "1"}
    described = await env.channel.prepare(json.dumps(fields))
    assert described is not None
    item = (await env.channel.fetch(described)).attachments[0]
    assert item.error is None and item.size == len(picture)
    assert item.stored_path is not None and env.app.files.resolve(item.stored_path).read_bytes() == picture


async def test_media_get_answering_an_error_or_no_file_keeps_nothing(env: Env) -> None:
    """90254: an error is a JSON body (errcode); whatever its Content-Type says, or an HTTP status other than 200,
    nothing is kept as the member's picture."""
    async def error_as_octets(request: web.Request) -> web.Response:
        return web.Response(body=b'{"errcode":40007,"errmsg":"invalid media_id"}', content_type="application/octet-stream")

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404, body=b"\xff\xd8\xff not a picture", content_type="image/jpeg")
    for number, step in enumerate((error_as_octets, not_found)):
        env.stub.script["/cgi-bin/media/get"] = [step]
        fields = {"FromUserName": "wangjianguo", "MsgType": "image", "MediaId": f"BAD{number}", "PicUrl": "http://x",
                  "MsgId": f"8101{number}", "CreateTime": "1"}
        described = await env.channel.prepare(json.dumps(fields))
        assert described is not None
        item = (await env.channel.fetch(described)).attachments[0]
        assert item.error is not None and item.stored_path is None, step.__name__


async def test_the_cost_of_an_item_is_the_messages_it_becomes(env: Env) -> None:
    """What the per-member windows count: a numbered list is one text message, a card and its long text two."""
    await bind(env, "wangjianguo")
    await bind(env, "chenjing", staff=True)
    short, long = choice_reply(3).to_json(), choice_reply(3, "很长的说明。" * 40).to_json()
    assert env.channel.cost("wangjianguo", "message", long) == 2  # not sent yet: the larger of the two ways
    await env.channel.deliver("wangjianguo", "message", short)
    await env.channel.deliver("chenjing", "message", short)
    assert env.channel.cost("wangjianguo", "message", long) == 1  # numbered text: one message
    assert env.channel.cost("chenjing", "message", short) == 1  # a card alone
    assert env.channel.cost("chenjing", "message", long) == 2  # the text, then the card
    assert env.channel.cost("wangjianguo", "message", Reply("长" * 2000).to_json()) == 3  # 6 000 bytes


def _menu_card_press(env: Env, card: dict[str, Any]) -> dict[str, str]:
    return card_press(env, card["task_id"], "b1")


async def _menu_card(env: Env) -> dict[str, Any]:
    from bot import callbacks

    reply = Reply("菜单", buttons=((Button("提交事项", callbacks.encode("menu", "submit")),
                                  Button("帮助", callbacks.encode("menu", "help"))),))
    await env.channel.deliver("chenjing", "message", reply.to_json())
    return dict(env.stub.calls("/cgi-bin/message/send")[-1]["template_card"])


async def _card_still_pressable(env: Env, card: dict[str, Any], press: dict[str, str]) -> None:
    assert env.stub.calls("/cgi-bin/message/update_template_card") == []  # the card was left as it was
    async with env.app.db.snapshot() as q:
        stored = await wecom_store.card(q, card["task_id"])
    assert stored is not None and stored.chosen_at is None
    again = await env.channel.prepare(json.dumps(press | {"CreateTime": str(int(press["CreateTime"]) + 9),
                                                          "ResponseCode": "rcAGAIN"}))
    assert again is not None and again.action != ""  # pressed again, it still does what it says


async def test_a_press_that_failed_leaves_the_card_to_be_pressed_again(env: Env, monkeypatch: pytest.MonkeyPatch
                                                                       ) -> None:
    """The handler failed: the apology says nothing was changed and to try again, so the card is not marked with
    the pressed choice (a card so marked cannot be pressed again: the member could not do as told)."""
    await bind(env, "chenjing", staff=True)

    async def broken(ctx: Any, parts: list[str]) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(env.app.processor.routes.buttons, "menu", broken)
    card = await _menu_card(env)
    press = _menu_card_press(env, card)
    assert await env.post(press) == 200
    await env.app.settle()
    texts = [c["text"]["content"] for c in env.stub.calls("/cgi-bin/message/send") if c.get("msgtype") == "text"]
    assert any("未作任何更改" in t for t in texts)
    await _card_still_pressable(env, card, press)


async def test_a_press_refused_while_a_dialogue_is_open_leaves_the_card_to_be_pressed_again(env: Env) -> None:
    """提交事项 pressed while another dialogue is under way: the member is told to finish it first, and the card
    does not say 提交事项 was chosen — nothing was submitted, and it can be pressed once the dialogue is done."""
    from bot.model import Dialog
    from storage import dialogs

    await bind(env, "chenjing", staff=True)
    async with env.app.db.transaction() as tx:
        await dialogs.save(tx, "wecom:chenjing", Dialog("bind", "phone", "", {"invite_id": 1, "person_id": 1}),
                           env.clock.now(), new_step=True)
    card = await _menu_card(env)
    press = _menu_card_press(env, card)
    assert await env.post(press) == 200
    await env.app.settle()
    texts = [c["text"]["content"] for c in env.stub.calls("/cgi-bin/message/send") if c.get("msgtype") == "text"]
    assert any("尚未完成" in t for t in texts)
    await _card_still_pressable(env, card, press)
