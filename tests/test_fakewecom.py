"""The fake WeCom's own tests: it refuses what WeCom refuses, drops what WeCom drops silently,
and posts callbacks the way WeCom does (issue 14). The pages cited are WeCom's documents
(developer.work.weixin.qq.com/document/path/NNNNN)."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from tests.fakes import MovableClock
from tests.fakewecom import (
    CARD_MAX_BUTTONS,
    FakeWeCom,
    WeComCipher,
    WeComCryptoError,
    WeComUnsupported,
    _Console,
)
from tests.telegram_env import ROOT

PNG = b"\x89PNG\r\n\x1a\n" + b"picture" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg" * 40
PDF = b"%PDF-1.4\n" + b"report" * 50

# The official sample (sbzhu/weworkapi_python, callback/Sample.py, before its 2025 commit that
# blanked the token and key; the issue quotes the key).
SAMPLE_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
SAMPLE_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SAMPLE_CORP = "ww1436e0e65a779aee"
SAMPLE_ECHO = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
SAMPLE_MSG = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNsh"
    "w2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010w"
    "sHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQ"
    "VDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def fake(clock: MovableClock) -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom(clock=clock) as server:
        yield server
    assert not server.internal_errors


class Api:
    """A bare client of the fake, the way a WeCom app calls it."""

    def __init__(self, fake: FakeWeCom, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session
        self.token = ""

    async def get(self, path: str, **query: Any) -> dict[str, Any]:
        async with self.session.get(self.fake.api_base + path, params=query) as resp:
            return dict(await resp.json())

    async def post(self, path: str, body: Any, *, token: str | None = None, **query: Any) -> dict[str, Any]:
        params = {"access_token": self.token if token is None else token, **query}
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        async with self.session.post(self.fake.api_base + path, params=params, data=data) as resp:
            return dict(await resp.json())

    async def fetch_token(self) -> str:
        answer = await self.get("/cgi-bin/gettoken", corpid=self.fake.corp_id, corpsecret=self.fake.corp_secret)
        assert answer["errcode"] == 0 and answer["expires_in"] == 7200
        self.token = str(answer["access_token"])
        return self.token

    async def text(self, touser: str, content: str, **extra: Any) -> dict[str, Any]:
        return await self.post("/cgi-bin/message/send", {"touser": touser, "msgtype": "text",
                                                          "agentid": self.fake.agent_id,
                                                          "text": {"content": content}, **extra})

    async def card(self, touser: str, task_id: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
        return await self.post("/cgi-bin/message/send", {
            "touser": touser, "msgtype": "template_card", "agentid": self.fake.agent_id,
            "template_card": {"card_type": "button_interaction", "task_id": task_id,
                              "main_title": {"title": "请您评价", "desc": "LS-2026-0001"},
                              "button_list": [{"text": t, "key": k} for k, t in buttons]}})

    async def upload(self, kind: str, data: bytes, disposition: str, *, length: bool = True) -> dict[str, Any]:
        """A multipart upload written by hand, so the Content-Disposition is exactly as given (with its filelength
        added when it names none and `length`)."""
        if length and "filelength" not in disposition:
            disposition += f"; filelength={len(data)}"
        boundary = "----fakewecomtestboundary"
        body = (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        async with self.session.post(self.fake.api_base + "/cgi-bin/media/upload",
                                     params={"access_token": self.token, "type": kind}, data=io.BytesIO(body),
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}) as resp:
            return dict(await resp.json())


@pytest.fixture
async def api(fake: FakeWeCom) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        client = Api(fake, session)
        await client.fetch_token()
        yield client


# --- the cipher against WeCom's published values (90968) ------------------------------------------


def test_cipher_matches_the_official_sample_url_verification_and_message() -> None:
    cipher = WeComCipher(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP)
    assert cipher.signature("1476416373", "47744683", SAMPLE_ECHO) == "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
    assert cipher.decrypt(SAMPLE_ECHO) == (b"1288432023552776189", SAMPLE_CORP)
    assert cipher.signature("1476422779", "1597212914", SAMPLE_MSG) == "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
    message, receiver = cipher.decrypt(SAMPLE_MSG)
    assert receiver == SAMPLE_CORP
    root = ET.fromstring(message.decode())
    assert (root.findtext("FromUserName"), root.findtext("Content")) == ("ChenJiaShun", "你好")


def test_cipher_pads_to_32_byte_blocks_like_the_sample_whose_pad_is_22() -> None:
    """The sample message's last byte is 22: PKCS#7 to 32-byte blocks (90968), not AES's 16."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    cipher = WeComCipher(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP)
    raw = __import__("base64").b64decode(SAMPLE_MSG)
    decryptor = Cipher(algorithms.AES(cipher.key), modes.CBC(cipher.iv)).decryptor()
    assert (decryptor.update(raw) + decryptor.finalize())[-1] == 22
    ours = cipher.encrypt("<xml/>", prefix=b"0123456789abcdef")
    assert cipher.decrypt(ours) == (b"<xml/>", SAMPLE_CORP)
    assert len(__import__("base64").b64decode(ours)) % 32 == 0


def test_cipher_refuses_bad_padding_garbage_and_reports_the_receiver() -> None:
    cipher = WeComCipher(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP)
    with pytest.raises(WeComCryptoError):
        cipher.decrypt(cipher.encrypt("<xml/>", prefix=b"0" * 16, bad_padding=True))
    with pytest.raises(WeComCryptoError):
        cipher.decrypt("not base64 at all!")
    with pytest.raises(WeComCryptoError):
        cipher.decrypt("AAAA")
    other = cipher.encrypt("<xml/>", prefix=b"0" * 16, receiver_id="wwsomeoneelse")
    assert cipher.decrypt(other)[1] == "wwsomeoneelse"
    with pytest.raises(ValueError):
        WeComCipher("t", "short", SAMPLE_CORP)


# --- access_token (91039) ------------------------------------------------------------------------


async def test_gettoken_refuses_wrong_or_missing_credentials(fake: FakeWeCom, api: Api) -> None:
    get = api.get
    assert (await get("/cgi-bin/gettoken", corpid="wwother", corpsecret=fake.corp_secret))["errcode"] == 40013
    assert (await get("/cgi-bin/gettoken", corpid=fake.corp_id, corpsecret="wrong"))["errcode"] == 40001
    assert (await get("/cgi-bin/gettoken", corpsecret=fake.corp_secret))["errcode"] == 41002
    assert (await get("/cgi-bin/gettoken", corpid=fake.corp_id))["errcode"] == 41004
    assert fake.tokens_issued == 1


async def test_token_lives_7200_seconds_on_the_clock(fake: FakeWeCom, api: Api, clock: MovableClock) -> None:
    """91039: expires_in 7200; the fake's expiry follows the test's clock, not the machine's."""
    fake.member("wang")
    clock.advance(seconds=7199)
    assert (await api.text("wang", "还在"))["errcode"] == 0
    clock.advance(seconds=1)
    assert (await api.text("wang", "过期"))["errcode"] == 42001
    assert (await api.post("/cgi-bin/message/send", {}, token=""))["errcode"] == 41001
    assert (await api.post("/cgi-bin/message/send", {}, token="forged"))["errcode"] == 40014
    await api.fetch_token()
    assert (await api.text("wang", "新的"))["errcode"] == 0
    assert [r.text for r in fake.member("wang").received] == ["还在", "新的"]


async def test_a_refresh_invalidates_the_previous_token_unless_reuse(fake: FakeWeCom, api: Api) -> None:
    """The strict default: two processes refreshing on their own invalidate each other."""
    fake.member("wang")
    first = api.token
    second = await api.fetch_token()
    assert first != second
    assert (await api.text("wang", "x", ) )["errcode"] == 0
    assert (await api.post("/cgi-bin/message/send", {}, token=first))["errcode"] == 40014
    fake.token_policy = "reuse"  # the older 91039 text: the same token while it is valid
    assert await api.fetch_token() == second
    fake.expire_tokens()
    assert (await api.text("wang", "x"))["errcode"] == 42001
    assert await api.fetch_token() != second


# --- message/send (90236) ------------------------------------------------------------------------


async def test_text_send_checks_agent_type_content_and_recipients(fake: FakeWeCom, api: Api) -> None:
    wang, li = fake.member("wang", "王建国"), fake.member("li", "李明")
    base = {"touser": "wang", "msgtype": "text", "text": {"content": "您好"}}
    send = api.post
    assert (await send("/cgi-bin/message/send", base))["errcode"] == 41011
    assert (await send("/cgi-bin/message/send", {**base, "agentid": 1}))["errcode"] == 40056
    assert (await send("/cgi-bin/message/send", {**base, "agentid": fake.agent_id, "msgtype": "news"}))["errcode"] == 40008
    assert (await send("/cgi-bin/message/send", {**base, "agentid": fake.agent_id, "text": {"content": ""}}))["errcode"] == 44004
    assert (await send("/cgi-bin/message/send", b"{not json"))["errcode"] == 47001
    assert (await api.text("|".join(f"u{i}" for i in range(1001)), "x"))["errcode"] == 40032
    assert (await api.text("nobody|ghost", "x"))["errcode"] == 81013
    assert not wang.received and not fake.sent  # nothing refused reached anyone
    li.in_range = False
    answer = await api.text("WANG|li|ghost", "您好")
    assert answer["errcode"] == 0 and answer["invaliduser"] == "li|ghost" and answer["msgid"]
    assert [(r.kind, r.text) for r in wang.received] == [("text", "您好")]
    assert not li.received


async def test_text_over_2048_bytes_is_accepted_and_cut(fake: FakeWeCom, api: Api) -> None:
    """90236: "最长不超过2048个字节，超过将截断" — the known failure of long Chinese replies (≈ 680 characters)."""
    wang = fake.member("wang")
    long = "检" * 700  # 2 100 bytes
    assert (await api.text("wang", long))["errcode"] == 0
    got = wang.received[0]
    assert got.truncated and got.text == "检" * 682 and len(got.text.encode()) <= 2048
    assert fake.truncated == [got.msgid]
    assert (await api.text("wang", "检" * 682))["errcode"] == 0 and not wang.received[1].truncated


async def test_a_card_beyond_the_advised_lengths_is_accepted_and_shown_cut(fake: FakeWeCom, api: Api) -> None:
    """90236 advises a button of at most 10 characters (a title 26, a text 112): what passes is not refused, but a
    phone does not show it whole; the fake shows it cut and counts it with the texts cut at 2 048 bytes."""
    wang = fake.member("wang")
    assert (await api.card("wang", "t-long", [("b1", "查看 LS-2026-0001"), ("b2", "满意")]))["errcode"] == 0
    got = wang.received[0]
    assert got.buttons == [("b1", "查看 LS-2026…"), ("b2", "满意")] and got.truncated
    assert fake.truncated == [got.msgid]
    assert (await api.card("wang", "t-fits", [("b1", "LS-2026-01"), ("b2", "满意")]))["errcode"] == 0
    assert not wang.received[1].truncated and fake.truncated == [got.msgid]


async def test_over_30_a_minute_to_one_member_is_dropped_silently(fake: FakeWeCom, api: Api) -> None:
    """90236/90454: "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发"."""
    now = [1000.0]
    fake.rate_clock = lambda: now[0]
    wang, li = fake.member("wang"), fake.member("li")
    answers = [await api.text("wang", f"第{i}条") for i in range(31)]
    assert all(a["errcode"] == 0 for a in answers)  # WeCom says nothing
    assert len(wang.received) == 30 and [r.text for r in fake.dropped["wang"]] == ["第30条"]
    assert (await api.text("li", "别人不受影响"))["errcode"] == 0 and len(li.received) == 1
    now[0] += 59.9
    await api.text("wang", "还是太快")
    assert len(fake.dropped["wang"]) == 2
    now[0] += 0.2  # the first 30 are a minute old now (the dropped one still counts)
    await api.text("wang", "可以了")
    assert wang.received[-1].text == "可以了"


async def test_over_1000_an_hour_to_one_member_is_dropped(fake: FakeWeCom, api: Api) -> None:
    now = [0.0]
    fake.rate_clock = lambda: now[0]
    wang = fake.member("wang")
    for i in range(1001):
        now[0] += 2.5  # 24 a minute: within the minute limit
        await api.text("wang", str(i))
    assert len(wang.received) == 1000 and len(fake.dropped["wang"]) == 1
    assert fake.dropped_count == 1


async def test_daily_quota_of_the_app(clock: MovableClock) -> None:
    """90454: each app at most 账号上限数 × 200 recipients a day."""
    async with FakeWeCom(clock=clock, account_limit=1) as fake, aiohttp.ClientSession() as session:
        api = Api(fake, session)
        await api.fetch_token()
        fake.rate_clock = iter(range(0, 10**7, 100)).__next__  # never the per-member limit
        fake.member("wang")
        for _ in range(200):
            assert (await api.text("wang", "x"))["errcode"] == 0
        assert (await api.text("wang", "x"))["errcode"] == 45009
        clock.advance(days=1)
        await api.fetch_token()
        assert (await api.text("wang", "x"))["errcode"] == 0


async def test_markdown_and_cards_are_not_shown_in_personal_wechat(fake: FakeWeCom, api: Api) -> None:
    deputy = fake.member("deputy", via_wechat=True)
    await api.post("/cgi-bin/message/send", {"touser": "deputy", "msgtype": "markdown", "agentid": fake.agent_id,
                                              "markdown": {"content": "**要点**"}})
    await api.card("deputy", "task-1", [("ok", "满意")])
    await api.text("deputy", "请回复数字 1")
    assert [(r.kind, r.visible) for r in deputy.received] == [("markdown", False), ("template_card", False),
                                                              ("text", True)]
    with pytest.raises(WeComUnsupported):
        await deputy.press("task-1", "ok")


# --- template cards (90236) and their update (94888) ---------------------------------------------


async def test_button_cards_are_checked_against_the_limits(fake: FakeWeCom, api: Api) -> None:
    fake.member("wang")
    six = [(f"k{i}", f"选项{i}") for i in range(CARD_MAX_BUTTONS)]
    assert (await api.card("wang", "t-7", [*six, ("k6", "第七")]))["errcode"] == 40058
    assert (await api.card("wang", "中文任务", six))["errcode"] == 40058  # digits, letters, _-@ only
    assert (await api.card("wang", "t" * 129, six))["errcode"] == 40058
    assert (await api.card("wang", "t-dup-key", [("k", "一"), ("k", "二")]))["errcode"] == 40058
    assert (await api.card("wang", "t-long-key", [("k" * 1025, "一")]))["errcode"] == 40058
    no_title = {"touser": "wang", "msgtype": "template_card", "agentid": fake.agent_id,
                "template_card": {"card_type": "button_interaction", "task_id": "t-x",
                                  "button_list": [{"text": "一", "key": "k"}]}}
    assert (await api.post("/cgi-bin/message/send", no_title))["errcode"] == 40058
    answer = await api.card("wang", "t-ok", six)
    assert answer["errcode"] == 0 and answer["response_code"]
    assert (await api.card("wang", "t-ok", six))["errcode"] == 40058  # task_id unique per app
    assert [r.task_id for r in fake.member("wang").received] == ["t-ok"]


async def test_response_codes_are_single_use_and_live_24_hours(fake: FakeWeCom, api: Api,
                                                              clock: MovableClock) -> None:
    """94888: "一个code只能调用一次该接口"; 72 h in the page, 24 h elsewhere: the fake takes 24 h."""
    wang = fake.member("wang")
    seen: list[str] = []

    async def bot(request: web.Request) -> web.Response:
        seen.append(_decrypt(fake, await request.text()))
        return web.Response(text="")

    async with _server(bot) as url:
        fake.callback_url = url
        sent = await api.card("wang", "rate-1", [("sat", "满意"), ("unsat", "不满意")])
        update = {"userids": ["wang"], "agentid": fake.agent_id, "button": {"replace_name": "已评价：满意"}}
        delivery = await wang.press("rate-1", "sat")
        assert delivery.answered and delivery.msg_id is None
        event = ET.fromstring(seen[0])
        assert (event.findtext("Event"), event.findtext("TaskId"), event.findtext("EventKey"),
                event.findtext("CardType")) == ("template_card_event", "rate-1", "sat", "button_interaction")
        press_code = event.findtext("ResponseCode")
        assert press_code and press_code != sent["response_code"]
        ok = await api.post("/cgi-bin/message/update_template_card", {**update, "response_code": press_code})
        assert ok["errcode"] == 0
        again = await api.post("/cgi-bin/message/update_template_card", {**update, "response_code": press_code})
        assert again["errcode"] == 40035
        card = wang.card("rate-1")
        assert card.chosen == "已评价：满意" and card.disabled and len(card.updates) == 1
        with pytest.raises(WeComUnsupported):
            await wang.press("rate-1", "unsat")  # an updated card cannot be pressed on the phone
        forged = await wang.press("rate-1", "unsat", force=True)  # … but a forged event can be posted
        assert forged.answered
        clock.advance(hours=24)
        await api.fetch_token()
        late = await api.post("/cgi-bin/message/update_template_card",
                              {**update, "response_code": sent["response_code"]})
        assert late["errcode"] == 40035
        assert (await api.post("/cgi-bin/message/update_template_card", {**update, "response_code": "nope"}))["errcode"] == 40035
        with pytest.raises(WeComUnsupported):
            await wang.press("rate-1", "no-such-key")
        with pytest.raises(WeComUnsupported):
            await wang.press("never-sent", "sat")


# --- media (90253, 90254) -------------------------------------------------------------------------


async def test_a_body_with_unicode_escapes_or_a_text_agentid_is_refused(fake: FakeWeCom, api: Api) -> None:
    """90313 40033: "不合法的字符集，请确认字符集是否为UTF-8且不含\\uxxxx格式的字符" (json.dumps' default, ensure_ascii,
    writes Chinese so); 90236: agentid is an integer. A literal backslash-u typed by a member, escaped, is text."""
    wang = fake.member("wang")
    body = {"touser": "wang", "msgtype": "text", "agentid": fake.agent_id, "text": {"content": "你好"}}
    assert (await api.post("/cgi-bin/message/send", json.dumps(body).encode()))["errcode"] == 40033
    assert (await api.post("/cgi-bin/message/send", body | {"agentid": str(fake.agent_id)}))["errcode"] == 40056
    assert not wang.received
    typed = body | {"text": {"content": "路径 C:\\u0041 你好"}}
    assert (await api.post("/cgi-bin/message/send", typed))["errcode"] == 0
    assert (await api.post("/cgi-bin/message/send", body))["errcode"] == 0
    assert [r.text for r in wang.received] == ["路径 C:\\u0041 你好", "你好"]


async def test_upload_keeps_a_raw_utf8_chinese_name_and_refuses_rfc2231_only(fake: FakeWeCom, api: Api) -> None:
    """Chinese file names: WeCom reads filename="…" as raw UTF-8 and does not understand filename*=."""
    wang = fake.member("wang")
    ok = await api.upload("file", PDF, 'form-data; name="media"; filename="答复意见书.pdf"; filelength=309')
    assert ok["errcode"] == 0 and ok["type"] == "file"
    star = await api.upload("file", PDF, "form-data; name=\"media\"; filename*=utf-8''%E7%AD%94%E5%A4%8D.pdf")
    assert star["errcode"] == 41005
    encoded = await api.upload("file", PDF, 'form-data; name="media"; filename="%E7%AD%94%E5%A4%8D.pdf"')
    await api.post("/cgi-bin/message/send", {"touser": "wang", "msgtype": "file", "agentid": fake.agent_id,
                                              "file": {"media_id": ok["media_id"]}})
    await api.post("/cgi-bin/message/send", {"touser": "wang", "msgtype": "file", "agentid": fake.agent_id,
                                              "file": {"media_id": encoded["media_id"]}})
    assert [r.filename for r in wang.received] == ["答复意见书.pdf", "%E7%AD%94%E5%A4%8D.pdf"]  # shown as sent
    assert wang.received[0].data == PDF


async def test_upload_needs_the_parts_filelength(fake: FakeWeCom, api: Api) -> None:
    """90253: the media part "应包含有 filename、filelength、content-type等信息"."""
    part = 'form-data; name="media"; filename="答复意见书.pdf"'
    assert (await api.upload("file", PDF, part, length=False))["errcode"] == 41005
    assert (await api.upload("file", PDF, part + f"; filelength={len(PDF) - 1}"))["errcode"] == 41005
    assert (await api.upload("file", PDF, part + f'; filelength="{len(PDF)}"'))["errcode"] == 0


async def test_upload_refuses_wrong_sizes_and_types(fake: FakeWeCom, api: Api) -> None:
    part = 'form-data; name="media"; filename="a.png"'
    assert (await api.upload("image", b"\x89PNG", part))["errcode"] == 40006  # must be over 5 bytes
    assert (await api.upload("image", PDF, part))["errcode"] == 40004  # JPG or PNG only
    assert (await api.upload("image", PNG + b"\0" * (10 * 1024 * 1024), part))["errcode"] == 40009
    assert (await api.upload("file", PDF + b"\0" * (20 * 1024 * 1024), part))["errcode"] == 40006
    assert (await api.upload("sticker", PNG, part))["errcode"] == 40005
    assert (await api.upload("image", PNG, 'form-data; name="file"; filename="a.png"'))["errcode"] == 41005
    assert (await api.upload("image", JPEG, part))["errcode"] == 0


async def test_media_ids_live_three_days(fake: FakeWeCom, api: Api, clock: MovableClock) -> None:
    wang = fake.member("wang")
    uploaded = await api.upload("image", PNG, 'form-data; name="media"; filename="p.png"')
    body = {"touser": "wang", "msgtype": "image", "agentid": fake.agent_id, "image": {"media_id": uploaded["media_id"]}}
    assert (await api.post("/cgi-bin/message/send", body))["errcode"] == 0
    async with api.session.get(fake.api_base + "/cgi-bin/media/get",
                               params={"access_token": api.token, "media_id": uploaded["media_id"]}) as resp:
        assert await resp.read() == PNG
    clock.advance(days=3)
    await api.fetch_token()
    assert (await api.post("/cgi-bin/message/send", body))["errcode"] == 40007
    assert (await api.get("/cgi-bin/media/get", access_token=api.token, media_id=uploaded["media_id"]))["errcode"] == 40007
    file_body = {**body, "msgtype": "file", "file": {"media_id": "unknown"}}
    assert (await api.post("/cgi-bin/message/send", file_body))["errcode"] == 40007
    assert len(wang.received) == 1


# --- menu (90231) --------------------------------------------------------------------------------


async def test_menu_limits_and_clicks(fake: FakeWeCom, api: Api) -> None:
    def click(name: str, key: str) -> dict[str, str]:
        return {"type": "click", "name": name, "key": key}

    create = lambda menu: api.post("/cgi-bin/menu/create", {"button": menu}, agentid=fake.agent_id)  # noqa: E731
    assert (await create([click("一", "a")] * 4))["errcode"] == 40016
    assert (await create([click("提交事项和其他长名", "a")]))["errcode"] == 40018  # 27 bytes > 16
    assert (await create([click("提交", "k" * 129)]))["errcode"] == 40019
    assert (await create([{"name": "更多", "sub_button": [click("帮助", "h")] * 6}]))["errcode"] == 40023
    assert (await create([{"type": "bogus", "name": "x", "key": "x"}]))["errcode"] == 40017
    assert (await api.post("/cgi-bin/menu/create", {"button": [click("a", "a")]}, agentid=1))["errcode"] == 40056
    assert fake.menu is None
    menu = [click("提交事项", "submit"), click("我的事项", "my"),
            {"name": "更多", "sub_button": [click("帮助", "help"), click("语言", "lang")]}]
    assert (await create(menu))["errcode"] == 0
    assert fake.menu_keys() == {"submit", "my", "help", "lang"}
    with pytest.raises(WeComUnsupported):
        await fake.member("wang").click_menu("delete_everything")


# --- callbacks (90930, 90238, 90968) --------------------------------------------------------------


def _decrypt(fake: FakeWeCom, body: str) -> str:
    return fake.decrypt(ET.fromstring(body).findtext("Encrypt") or "")


class _Bot:
    """A bare callback server: checks each post as a careful receiver would, records it."""

    def __init__(self, fake: FakeWeCom) -> None:
        self.fake = fake
        self.posts: list[tuple[dict[str, str], str]] = []
        self.answer: Callable[[int], Awaitable[web.Response]] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        body = await request.text()
        outer = ET.fromstring(body)
        encrypted = outer.findtext("Encrypt") or ""
        assert outer.findtext("ToUserName") == self.fake.corp_id
        assert self.fake.signature(query["timestamp"], query["nonce"], encrypted) == query["msg_signature"]
        self.posts.append((query, self.fake.decrypt(encrypted)))
        if self.answer is not None:
            return await self.answer(len(self.posts))
        return web.Response(text="")


@pytest.fixture
async def bot(fake: FakeWeCom) -> AsyncIterator[_Bot]:
    receiver = _Bot(fake)
    async with _server(receiver.handle) as url:
        fake.callback_url = url
        yield receiver


class _server:  # noqa: N801 - used as `async with _server(handler) as url`
    def __init__(self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        self.handler = handler
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/wecom", self.handler)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/wecom"

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_member_messages_arrive_encrypted_signed_and_shaped_as_wecom_sends_them(
        fake: FakeWeCom, bot: _Bot, clock: MovableClock) -> None:
    wang = fake.member("wang", "王建国")
    delivery = await wang.send_text("提交 ]]> 事项")
    assert delivery.answered and delivery.attempts == 1
    query, plain = bot.posts[0]
    root = ET.fromstring(plain)
    assert root.findtext("Content") == "提交 ]]> 事项"  # CDATA split where it must be
    assert (root.findtext("ToUserName"), root.findtext("FromUserName"), root.findtext("MsgType")) == (
        fake.corp_id, "wang", "text")
    assert int(root.findtext("CreateTime") or 0) == int(clock.now().timestamp()) == int(query["timestamp"])
    assert int(root.findtext("MsgId") or 0) == delivery.msg_id and root.findtext("AgentID") == str(fake.agent_id)
    image = await wang.send_image(PNG)
    pic = ET.fromstring(bot.posts[1][1])
    assert pic.findtext("MsgType") == "image" and image.msg_id != delivery.msg_id
    async with aiohttp.ClientSession() as session:
        api = Api(fake, session)
        await api.fetch_token()
        async with session.get(fake.api_base + "/cgi-bin/media/get",
                               params={"access_token": api.token, "media_id": pic.findtext("MediaId")}) as resp:
            assert await resp.read() == PNG
        async with session.get(pic.findtext("PicUrl") or "") as resp:
            assert await resp.read() == PNG
    await wang.enter_agent()
    await wang.send_location(31.2, 121.5, "检察院")
    kinds = [ET.fromstring(p).findtext("MsgType") for _, p in bot.posts]
    assert kinds == ["text", "image", "event", "location"]
    with pytest.raises(WeComUnsupported):
        await wang.send_file(PDF, "证据.pdf")  # 90239: members cannot send files to an app
    with pytest.raises(WeComUnsupported):
        await wang.send_text("")


async def test_a_slow_answer_gets_the_same_callback_again(clock: MovableClock) -> None:
    """90930: WeCom waits 5 s (here 0.2 s), then posts the same message again, three posts in all."""
    async with FakeWeCom(clock=clock, callback_timeout=0.2) as fake:
        release = asyncio.Event()
        receiver = _Bot(fake)

        async def slow_first(n: int) -> web.Response:
            if n == 1:
                await release.wait()  # the bot is busy: no answer before WeCom gives up on this post
            return web.Response(text="")

        receiver.answer = slow_first
        async with _server(receiver.handle) as url:
            fake.callback_url = url
            delivery = await fake.member("wang").send_text("您好")
            release.set()
        assert delivery.statuses == [0, 200] and delivery.answered
        (q1, p1), (q2, p2) = receiver.posts
        assert p1 == p2 and q1["nonce"] != q2["nonce"]  # the same message, freshly wrapped
        assert [c.attempt for c in fake.callbacks] == [1, 2]


async def test_callbacks_never_answered_are_posted_three_times_then_given_up(fake: FakeWeCom, bot: _Bot) -> None:
    async def refuse(n: int) -> web.Response:
        return web.Response(status=503)

    bot.answer = refuse
    delivery = await fake.member("wang").send_text("您好")
    assert delivery.statuses == [503, 503, 503] and not delivery.answered
    fake.callback_url = "http://127.0.0.1:9/nowhere"  # nobody listening
    assert (await fake.member("wang").send_text("再试")).statuses == [0, 0, 0]
    fake.callback_url = None
    assert (await fake.member("wang").send_text("没有回调地址")).attempts == 0


async def test_repeat_posts_the_identical_message_regardless(fake: FakeWeCom, bot: _Bot) -> None:
    delivery = await fake.member("wang").press("t", "k", force=True, repeat=3)
    assert delivery.statuses == [200, 200, 200]
    assert len({p for _, p in bot.posts}) == 1


async def test_tampered_callbacks_for_refusal_tests(fake: FakeWeCom) -> None:
    seen: list[tuple[dict[str, str], str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(({k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}, await request.text()))
        return web.Response(text="")

    async with _server(record) as url:
        fake.callback_url = url
        wang = fake.member("wang")
        for tamper in ("signature", "corp_id", "stale", "garbage", "padding"):
            await wang.send_text("x", tamper=tamper)
    checks = []
    for query, body in seen:
        encrypted = ET.fromstring(body).findtext("Encrypt") or ""
        signed = fake.signature(query["timestamp"], query["nonce"], encrypted) == query["msg_signature"]
        try:
            fake.decrypt(encrypted)
            readable = True
        except WeComCryptoError:
            readable = False
        checks.append((signed, readable))
    assert checks == [(False, True), (True, False), (True, True), (True, False), (True, False)]
    assert int(seen[2][0]["timestamp"]) == int(fake.clock.now().timestamp()) - 3600


async def test_verify_callback_url_sends_a_percent_encoded_echostr(fake: FakeWeCom) -> None:
    async def echo(request: web.Request) -> web.Response:
        q = request.query  # aiohttp decodes %2B, %2F, %3D
        assert fake.signature(q["timestamp"], q["nonce"], q["echostr"]) == q["msg_signature"]
        return web.Response(text=fake.decrypt(q["echostr"]))

    async with _server(echo) as url:
        fake.callback_url = url
        assert await fake.verify_callback_url()

    async def wrong(request: web.Request) -> web.Response:
        return web.Response(text=request.query["echostr"])  # not decrypted

    async with _server(wrong) as url:
        fake.callback_url = url
        assert not await fake.verify_callback_url()


async def test_passive_replies_are_checked_and_shown(fake: FakeWeCom, bot: _Bot) -> None:
    wang = fake.member("wang")

    async def reply(n: int) -> web.Response:
        if n == 2:
            return web.Response(text="success")  # neither empty nor an encrypted reply
        plain = ("<xml><ToUserName><![CDATA[wang]]></ToUserName><FromUserName><![CDATA[corp]]></FromUserName>"
                 "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[已收到]]></Content></xml>")
        encrypted = fake.encrypt(plain)
        signature = fake.signature("1", "2", encrypted)
        return web.Response(text=f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]>"
                                 f"</MsgSignature><TimeStamp>1</TimeStamp><Nonce><![CDATA[2]]></Nonce></xml>")

    bot.answer = reply
    await wang.send_text("一")
    await wang.send_text("二")
    assert [(r.text, r.passive) for r in wang.received] == [("已收到", True)]
    assert len(fake.callback_errors) == 1


# --- faults (contract §4) --------------------------------------------------------------------------


async def test_faults_answer_as_scripted_and_drop_after_delivers(fake: FakeWeCom, api: Api) -> None:
    wang = fake.member("wang")
    fake.faults.queue.extend(["500", "502", "busy", "45009", "81013", "60020", "48002"])
    statuses = []
    for _ in range(7):
        async with api.session.post(fake.api_base + "/cgi-bin/message/send", params={"access_token": api.token},
                                    json={"touser": "wang", "msgtype": "text", "agentid": fake.agent_id,
                                          "text": {"content": "x"}}) as resp:
            statuses.append(resp.status if resp.status != 200 else (await resp.json())["errcode"])
    assert statuses == [500, 502, -1, 45009, 81013, 60020, 48002]
    assert not wang.received
    fake.faults.queue.append("drop")
    with pytest.raises(aiohttp.ClientError):
        await api.text("wang", "丢了")
    assert not wang.received
    fake.faults.queue.append("drop_after")
    with pytest.raises(aiohttp.ClientError):
        await api.text("wang", "送到了，但不知道")
    assert [r.text for r in wang.received] == ["送到了，但不知道"]  # "maybe delivered"
    assert fake.fault_counts["drop"] == fake.fault_counts["drop_after"] == 1


async def test_token_faults_invalidate_the_token(fake: FakeWeCom, api: Api) -> None:
    fake.member("wang")
    fake.faults.queue.append("42001")
    assert (await api.text("wang", "x"))["errcode"] == 42001
    assert (await api.text("wang", "x"))["errcode"] == 42001  # the same token stays dead
    await api.fetch_token()
    assert (await api.text("wang", "x"))["errcode"] == 0


async def test_untrusted_ip_is_refused_with_60020(fake: FakeWeCom, api: Api) -> None:
    fake.member("wang")
    fake.trusted_ips = {"10.0.0.1"}
    assert (await api.text("wang", "x"))["errcode"] == 60020
    fake.trusted_ips = {"127.0.0.1"}
    assert (await api.text("wang", "x"))["errcode"] == 0


async def test_unknown_paths_are_404_and_methods_are_checked(fake: FakeWeCom, api: Api) -> None:
    async with api.session.get(fake.api_base + "/cgi-bin/user/get") as resp:
        assert resp.status == 404
    assert (await api.get("/cgi-bin/message/send", access_token=api.token))["errcode"] == 43002


# --- standalone mode ---------------------------------------------------------------------------------


async def test_console_walks_a_member_through_messages_and_cards(fake: FakeWeCom, tmp_path: Any,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The standalone mode's line commands, against a tiny bot that answers every text with a card."""
    async with aiohttp.ClientSession() as session:
        api = Api(fake, session)
        await api.fetch_token()
        count = 0

        async def card_bot(request: web.Request) -> web.Response:
            nonlocal count
            plain = ET.fromstring(_decrypt(fake, await request.text()))
            if plain.findtext("MsgType") == "text":
                count += 1
                asyncio.get_running_loop().create_task(
                    api.card(plain.findtext("FromUserName") or "", f"t{count}", [("a", "同意"), ("b", "不同意")]))
            else:
                asyncio.get_running_loop().create_task(api.text(plain.findtext("FromUserName") or "",
                                                                f"按下：{plain.findtext('EventKey')}"))
            return web.Response(text="")

        async with _server(card_bot) as url:
            fake.callback_url = url
            console = _Console(fake, tmp_path)
            assert await console.run_line("@wangjianguo:王建国 你好")
            await fake.wait_until(lambda: bool(fake.member("wangjianguo").received))
            assert await console.run_line("@王建国 !press 2")
            await fake.wait_until(lambda: len(fake.member("wangjianguo").received) == 2)
            assert await console.run_line("@李明 您好")
            await fake.wait_until(lambda: len(fake.members) == 2 and bool(list(fake.members.values())[1].received))
            assert not await console.run_line("quit")
    out = capsys.readouterr().out
    assert "→ 王建国 (wangjianguo) [card t1]" in out and "[2] 不同意" in out and "按下：b" in out
    assert "member 李明 has userid m" in out


@pytest.mark.slow(1)
def test_standalone_prints_the_config_and_stops_on_quit() -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.fakewecom", "--port", "0", "--callback",
                           "http://127.0.0.1:9/wecom"], input="help\nquit\n", capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "[wecom]" in proc.stdout and 'api_base = "http://127.0.0.1:' in proc.stdout
    assert "@王建国 提交" in proc.stdout


@pytest.mark.slow(26)
async def test_the_readme_walkthrough_from_a_members_message_to_its_rating(tmp_path: Path) -> None:
    """README "Trying it without WeCom", as a new user would do it: the documented fake command, the bot's
    command line (roster, staff, WeCom binding, an invite), `python -m bot run`, then every member's step
    typed into the fake — a deputy's suggestion to the office's approved reply and the deputy's 满意."""
    import os
    import re as regex

    from tests.wecom_env import free_port

    python = sys.executable
    fake_port, bot_port = free_port(), free_port()
    fake = await asyncio.create_subprocess_exec(
        python, "-m", "tests.fakewecom", "--port", str(fake_port), "--callback",
        f"http://127.0.0.1:{bot_port}/wecom", "--member", "wangjianguo:王建国", "--member", "chenjing:陈静",
        "--member", "liuyang:刘洋", cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    assert fake.stdin is not None and fake.stdout is not None
    lines: list[str] = []
    changed = asyncio.Event()

    async def read() -> None:
        assert fake.stdout is not None
        while line := await fake.stdout.readline():
            lines.append(line.decode())
            changed.set()

    reader = asyncio.create_task(read())

    async def seen(pattern: str, since: int, timeout: float = 60) -> str:
        async with asyncio.timeout(timeout):
            while not regex.search(pattern, "".join(lines[since:])):
                changed.clear()
                await changed.wait()
        return "".join(lines[since:])

    bot: subprocess.Popen[bytes] | None = None
    try:
        printed = await seen(r"LIAISON_WECOM_SECRET='", 0)
        section = printed[printed.index("[wecom]"):printed.index("export")].strip()
        secret = regex.search(r"LIAISON_WECOM_SECRET='([^']+)'", printed).group(1)  # type: ignore[union-attr]
        config = tmp_path / "config.toml"
        config.write_text(f'[storage]\ndatabase = "{tmp_path}/bot.db"\nfiles_dir = "{tmp_path}/files"\n{section}\n'
                          f'callback_port = {bot_port}\n', "utf-8")
        roster = tmp_path / "roster.csv"
        roster.write_text("姓名,类别,电话\n王建国,人大代表,13800000001\n",  # as README gives it
                          "utf-8")
        env = {**os.environ, "LIAISON_WECOM_SECRET": secret, "PYTHONPATH": str(ROOT)}

        def cli(*args: str) -> str:
            done = subprocess.run([python, "-m", "bot", "--config", str(config), *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout

        cli("import-roster", str(roster))
        cli("department", "add", "第一检察部")
        cli("staff", "add", "--name", "陈静", "--roles", "office", "--wecom", "chenjing")
        cli("staff", "add", "--name", "刘洋", "--roles", "handler", "--department", "第一检察部", "--wecom", "liuyang")
        invited = cli("invite", "--name", "王建国")
        assert regex.search(r"绑定 \S+", invited)  # the typed way, beside the link
        link = regex.search(r"WeCom link \(.*?\): (\S+)", invited).group(1)  # type: ignore[union-attr]
        start = len(lines)
        with (tmp_path / "bot.log").open("wb") as log:
            bot = subprocess.Popen([python, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        await seen("the bot is connected", start)

        async def say(line: str, expect: str) -> str:
            since = len(lines)
            fake.stdin.write((line + "\n").encode())  # type: ignore[union-attr]
            await fake.stdin.drain()  # type: ignore[union-attr]
            return await seen(expect, since)

        def offered(who: str, label: str) -> str | None:
            """What the user types to choose `label` on the screen: a card's button is pressed with !press N, a
            numbered list answered by typing N; None while it is not shown."""
            for line in reversed(lines):
                card = regex.match(r"\s*\[(\d+)\] (.+?)\s+\(!press", line)
                if card and card.group(2) == label:
                    return f"@{who} !press {card.group(1)}"
                listed = regex.match(r"(\d+)\. (.+)$", line.strip())
                if listed and listed.group(2) == label:
                    return f"@{who} {listed.group(1)}"
            return None

        async def choose(who: str, label: str, expect: str, timeout: float = 60) -> str:
            """As the user reads the screen, once `label` is on it: the fake prints a card's text before its
            buttons, so the prompt the last step waited for may be read while its buttons are still coming."""
            try:
                async with asyncio.timeout(timeout):
                    while (typed := offered(who, label)) is None:
                        changed.clear()
                        await changed.wait()
            except TimeoutError:
                raise AssertionError(f"{label!r} not offered:\n{''.join(lines[-30:])}") from None
            return await say(typed, expect)

        await say(f"@wangjianguo !open {link}", "绑定成功")  # README's other way: the invite's WeCom link
        await say("@wangjianguo 提交", "1. 建议")
        await choose("wangjianguo", "建议", "事由")
        await say("@wangjianguo 村道路灯维修", "具体内容")
        await say("@wangjianguo 村东头没有路灯，晚上出行不便，建议尽快安装。", "完成")
        await choose("wangjianguo", "完成", "无附件")
        await choose("wangjianguo", "无附件", "确认提交")
        receipt = await choose("wangjianguo", "确认提交", r"LS-\d{4}-\d{4}")
        number = regex.search(r"LS-\d{4}-\d{4}", receipt).group(0)  # type: ignore[union-attr]
        await seen("发送“我的”可随时查看", start)  # the words a deputy types in WeChat, not "/my"
        await seen(rf"→ 陈静 \(chenjing\)[^:\n]*:\n[^→]*新事项[^→]*{number}", start)  # the office is told at once
        await say(f"@chenjing /case {number}", "交办")
        await choose("chenjing", "交办", "第一检察部")
        await choose("chenjing", "第一检察部", "催办人")
        await choose("chenjing", "陈静", "已交由第一检察部承办")
        await say(f"@liuyang /case {number}", "办结")
        await choose("liuyang", "办结", "A类")
        await choose("liuyang", "A类：已解决或基本解决", "已完成")
        await say(f"@liuyang /case {number}", "起草答复")
        await choose("liuyang", "起草答复", "网上答复")
        await choose("liuyang", "网上答复", "答复")
        await say("@liuyang 经调查，村东头道路照明缺失情况属实。我院已向县住房和城乡建设局发出检察建议，督促其在三十日内完成"
                  "路灯安装，该局已书面回复并启动施工。", "理由")
        await say("@liuyang 依据《人民检察院检察建议工作规定》第十一条。", "确认")
        await choose("liuyang", "确认", "审批")
        await say(f"@chenjing /case {number}", "审批通过")
        await choose("chenjing", "审批通过", "满意")
        await choose("wangjianguo", "满意", "不补充意见")
        await choose("wangjianguo", "不补充意见", "感谢您的评价和监督。")
        await seen(r"→ 刘洋 \(liuyang\)[^:\n]*:\n[^→]*评价为：满意", start)  # the handler is told of the rating
    finally:
        if bot is not None:
            bot.terminate()
            bot.wait(timeout=30)
        if fake.returncode is None:
            fake.stdin.write(b"quit\n")
            await fake.stdin.drain()
            await asyncio.wait_for(fake.wait(), 30)
        await reader
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT state FROM matters").fetchall() == [("closed",)]
        assert conn.execute("SELECT rating FROM replies").fetchall() == [("satisfied",)]
        # every message reached its member: the staff were in the contact list before they first wrote
        assert conn.execute("SELECT state, chat_id, op FROM outbox WHERE state <> 'sent'").fetchall() == []
