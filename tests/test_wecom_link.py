"""Issue 14, "binding by the same one-time invite code, sent as text or from a link the office shares": with
`wecom.public_url` set, an invite is also a link (91022 构造网页授权链接) that binds the member who opens it in
WeCom. The bot learns who opened it from WeCom alone (91023 auth/getuserinfo, a one-time code), and keeps their
"绑定 CODE" in the inbox before the page answers, so that the binding, its refusals and its answer in the chat
are the typed words' own. Over real HTTP against the strict fake WeCom (tests/fakewecom.py)."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.wecom_callback import bind_link
from tests.fakewecom import FakeWeCom
from tests.test_e2e_wecom import add_representative, clock, fake, invite  # noqa: F401 (clock, fake: fixtures)
from tests.wecom_env import FastMonotonic, RunningBot, TickingClock, bot_in_process, outbox_sent, wecom_config

PUBLIC = "https://liaison.lushi.example"
RECEIVED = "已收到。请返回企业微信，在本应用的消息中查看绑定结果。"


async def deputy_and_invite(running: RunningBot) -> tuple[int, str]:
    """王建国 on the roster (as tests/test_e2e_wecom.py adds one), and an invite for him."""
    person = await add_representative(running, "王建国", "D001")
    return person, await invite(running, person)


def the_link(running: RunningBot, fake: FakeWeCom, code: str) -> str:
    """The invite's WeCom link, pointed at the fake's authorize page, and returning to the running bot (the unit's
    HTTPS proxy stands in front of it in production: here the bot's own address is the public one)."""
    config = replace(running.app.config.wecom, public_url=f"http://127.0.0.1:{running.channel.server.port}",
                     oauth_base=fake.api_base)
    link = bind_link(config, code)
    assert link is not None
    return link


async def bound_userid(running: RunningBot, person: int) -> list[str]:
    async with running.app.db.snapshot() as q:
        return [str(r["external_id"]) for r in
                await q.all("SELECT external_id FROM identities WHERE person_id = ? AND channel = 'wecom'", (person,))]


def test_the_link_is_a_wecom_oauth_link_returning_to_the_bot_with_the_invite(tmp_path: Path) -> None:
    """91022: the corp's appid, snsapi_base, the app's agentid, a state of letters and digits only (the invite,
    which may hold - and _, travels in the return address), #wechat_redirect; none without public_url."""
    fake = FakeWeCom()
    fake.api_base = "http://127.0.0.1:1"
    config = wecom_config(tmp_path, fake)
    assert bind_link(config.wecom, "abc-DEF_123456789012345") is None
    link = bind_link(replace(config.wecom, public_url=PUBLIC), "abc-DEF_123456789012345")
    assert link is not None and link.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    assert link.endswith("#wechat_redirect")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert params == {"appid": fake.corp_id, "redirect_uri": f"{PUBLIC}/wecom/bind?invite=abc-DEF_123456789012345",
                      "response_type": "code", "scope": "snsapi_base", "state": "bind",
                      "agentid": str(fake.agent_id)}


async def test_an_invite_link_opened_in_wecom_binds_the_member_who_opened_it(fake: FakeWeCom, clock: TickingClock,
                                                                            tmp_path: Path) -> None:
    async with bot_in_process(wecom_config(tmp_path, fake), fake, clock, FastMonotonic()) as running:
        person, code = await deputy_and_invite(running)
        member = fake.member("wangjianguo", "王建国", via_wechat=True)
        status, page = await member.open_link(the_link(running, fake, code))
        assert status == 200 and RECEIVED in page and "Please go back to this app's messages" in page
        assert code not in page  # the page repeats nothing of the invite
        await outbox_sent(running, fake)
        assert await bound_userid(running, person) == ["wangjianguo"]
        assert any("绑定成功" in m.text for m in member.received)  # the answer is the typed words' own, in the chat
        async with running.app.db.snapshot() as q:  # kept in the inbox first, as a message from the member
            kept = await q.all("SELECT external_id FROM inbox WHERE channel = 'wecom' AND external_id LIKE 'msg:link-%'")
        assert len(kept) == 1


async def test_the_page_reloaded_says_the_same_and_binds_nothing_twice(fake: FakeWeCom, clock: TickingClock,
                                                                      tmp_path: Path) -> None:
    """The code is spent by the first opening (91023: once); a reload of that page is not "expired"."""
    async with bot_in_process(wecom_config(tmp_path, fake), fake, clock, FastMonotonic()) as running:
        person, code = await deputy_and_invite(running)
        member = fake.member("wangjianguo", "王建国")
        back = f"http://127.0.0.1:{running.channel.server.port}/wecom/bind?invite={code}"
        given = fake.oauth_code(member, back)
        # opened twice at once (a double tap), then reloaded: the same address, the same code, the same page
        pages = await asyncio.gather(*(member.open_link(f"{back}&code={given}&state=bind") for _ in range(2)))
        pages.append(await member.open_link(f"{back}&code={given}&state=bind"))
        assert [status for status, _ in pages] == [200, 200, 200] and all(RECEIVED in page for _, page in pages)
        assert fake.requests.count("/cgi-bin/auth/getuserinfo") == 1  # asked once for the one opening
        status, page = await member.open_link(f"{back}&code={fake.oauth_code(member, back)}&state=bind")
        assert status == 403 and "如您此前已打开过，则已绑定成功" in page  # a later opening: the invite is used
        await outbox_sent(running, fake)
        assert await bound_userid(running, person) == ["wangjianguo"]
        assert sum("绑定成功" in m.text for m in member.received) == 1


async def test_an_expired_or_forged_code_a_stranger_or_a_bad_link_binds_nobody(fake: FakeWeCom, clock: TickingClock,
                                                                             tmp_path: Path) -> None:
    """The userid comes from WeCom only: a code WeCom does not know, or one older than five minutes, is "expired";
    someone outside the corp's contacts (an openid) is told to open it as a member; an address without a code
    (declined, or opened outside WeCom) or with a malformed invite is "not complete". None of them keeps anything
    or binds anyone."""
    async with bot_in_process(wecom_config(tmp_path, fake), fake, clock, FastMonotonic()) as running:
        person, code = await deputy_and_invite(running)
        back = f"http://127.0.0.1:{running.channel.server.port}/wecom/bind?invite={code}"
        member = fake.member("wangjianguo", "王建国")
        async with running.app.db.snapshot() as q:
            inbox_before = await q.scalar("SELECT COUNT(*) FROM inbox")
        status, page = await member.open_link(f"{back}&code=made-up&state=bind")
        assert status == 403 and "此链接已失效" in page
        late = fake.oauth_code(member, back)
        clock.advance(minutes=6)
        status, page = await member.open_link(f"{back}&code={late}&state=bind")
        assert status == 403 and "此链接已失效" in page
        status, page = await member.open_link(the_link(running, fake, code), outsider=True)
        assert status == 403 and "须为本单位通讯录中的成员" in page
        port = running.channel.server.port
        status, page = await member.open_link(back.replace(code, "B" * 22) + "&code=c&state=bind")  # no such invite
        assert status == 403 and "此邀请已使用或已过期" in page
        for address in (back,  # no code: declined, or opened outside WeCom
                        f"http://127.0.0.1:{port}/wecom/bind?invite=bad%20invite&code=x&state=bind",
                        f"http://127.0.0.1:{port}/wecom/bind?code=x&state=bind"):
            status, page = await member.open_link(address)
            assert status == 400 and "此链接不完整" in page, address
        await outbox_sent(running, fake)
        async with running.app.db.snapshot() as q:
            assert await q.scalar("SELECT COUNT(*) FROM inbox") == inbox_before
        assert await bound_userid(running, person) == []


async def test_a_return_address_off_the_apps_trusted_domain_is_refused_by_wecom(
        fake: FakeWeCom, clock: TickingClock, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """91023: 50001 when the return address is not on the app's 可信域名 — an operator's setting; the member is told
    to try later, the operator what to set (logged), and nothing is kept."""
    async with bot_in_process(wecom_config(tmp_path, fake), fake, clock, FastMonotonic()) as running:
        person, code = await deputy_and_invite(running)
        fake.trusted_domain = "liaison.lushi.example"
        with caplog.at_level(logging.WARNING, logger="bot.channels.wecom_link"):
            status, page = await fake.member("wangjianguo").open_link(the_link(running, fake, code))
        assert status == 503 and "暂时无法完成" in page
        assert any("50001" in r.getMessage() and "可信域名" in r.getMessage() for r in caplog.records)
        assert await bound_userid(running, person) == []


async def test_a_flood_of_made_up_codes_does_not_spend_wecoms_api(fake: FakeWeCom, clock: TickingClock,
                                                                  tmp_path: Path) -> None:
    """The address is public: an invite that is none is answered from the database alone, never asked of WeCom nor
    counted, so made-up requests crowd nobody out; at most LINKS_PER_MINUTE openings of a live invite a minute are
    checked with WeCom (each is an API call, 90454), the rest told to try later."""
    from bot.channels.wecom_link import LINKS_PER_MINUTE

    async with bot_in_process(wecom_config(tmp_path, fake), fake, clock, FastMonotonic()) as running:
        _person, code = await deputy_and_invite(running)
        back = f"http://127.0.0.1:{running.channel.server.port}/wecom/bind?invite={code}&state=bind"
        running.channel.links.monotonic = lambda: 1000.0  # all within one minute, however slow the machine
        member = fake.member("stranger")
        made_up = back.replace(code, "A" * 22)
        assert {(await member.open_link(f"{made_up}&code=x-{n}"))[0] for n in range(LINKS_PER_MINUTE + 5)} == {403}
        assert fake.requests.count("/cgi-bin/auth/getuserinfo") == 0
        statuses = [(await member.open_link(f"{back}&code=made-up-{n}"))[0] for n in range(LINKS_PER_MINUTE + 5)]
        assert statuses == [403] * LINKS_PER_MINUTE + [503] * 5
        assert fake.requests.count("/cgi-bin/auth/getuserinfo") == LINKS_PER_MINUTE
        running.channel.links.monotonic = lambda: 1061.0  # a minute on: checked again
        assert (await member.open_link(f"{back}&code=made-up-again"))[0] == 403
