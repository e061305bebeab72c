"""Invite links opened in WeCom (issue 14: binding "from a link the office shares").

`bot/channels/wecom_callback.py` builds the link (`bind_link`, 91022 网页授权) and answers its page; this is what
an opening does: who opened it is WeCom's word alone (91023 auth/getuserinfo on the one-time code), and their
"绑定 CODE" is then stored as a callback of theirs would be, so that binding, its refusals and its answer in the
chat are the typed words' own (handlers/people/binding.py).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.channels.base import DeliveryError
from bot.channels.wecom_api import WeComAPI, WeComError
from bot.channels.wecom_callback import EXPIRED, NOT_A_MEMBER, RECEIVED, UNAVAILABLE, USED
from bot.clock import Clock
from handlers.people.binding import live_invite
from storage.db import Database

log = logging.getLogger(__name__)

LINKS_PER_MINUTE = 60  # live invite links checked with WeCom a minute (each is an API call: 90454)
Report = Callable[[WeComError], Awaitable[None]]  # an errcode only the administrators can fix (60020 and the like)


class InviteLinks:
    def __init__(self, api: WeComAPI, db: Database, clock: Clock,
                 store: Callable[[dict[str, str]], Awaitable[bool]]) -> None:
        self.api = api
        self.config = api.config
        self.db = db
        self.clock = clock
        self.store = store  # the channel's: a callback kept in the inbox
        self.monotonic: Callable[[], float] = time.monotonic
        self._opened: dict[str, str] = {}  # 网页授权 codes taken (a reload shows the same page)
        self._locks: dict[str, asyncio.Lock] = {}
        self._checked: collections.deque[float] = collections.deque()  # when live invites were checked with WeCom

    async def open(self, code: str, invite: str, report: Report) -> str:
        """A member back from 网页授权 with an invite link (bot/channels/wecom_callback.py `bind_link`): who they are,
        asked of WeCom (91023 auth/getuserinfo: a member's userid, whether or not in the app's visible range; an
        openid for someone outside the corp), and their "绑定 CODE" kept as if they had typed it — the binding, its
        refusals and its answer in the chat are the typed words' own. What the page then says (a msgid).

        The address is public. An invite that is no invite (or used, or expired) is answered from the database
        alone; only a live one is checked with WeCom, at most LINKS_PER_MINUTE a minute, so that nobody can spend
        the app's API quota or crowd out the members with made-up requests. One opening (its code) is taken once:
        the page reloaded, or opened twice at once, says the same and binds once."""
        key = hashlib.sha256(code.encode()).hexdigest()[:32]
        if key in self._opened:  # the page reloaded: its code is spent, and was taken
            return RECEIVED
        async with self.db.snapshot() as q:
            if await live_invite(q, invite, self.clock.now()) is None:
                return USED
        now = self.monotonic()
        while self._checked and now - self._checked[0] > 60:
            self._checked.popleft()
        if len(self._checked) >= LINKS_PER_MINUTE:
            log.warning("wecom: invite links opened faster than %d a minute; answered 'later'", LINKS_PER_MINUTE)
            return UNAVAILABLE
        self._checked.append(now)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # the same opening twice at once: the second waits for the first, and says the same
                if key in self._opened:
                    return RECEIVED
                said = await self._take(code, invite, key, report)
        finally:
            self._locks.pop(key, None)
        return said

    async def _take(self, code: str, invite: str, key: str, report: Report) -> str:
        try:
            who = await self.api.call("GET", "/cgi-bin/auth/getuserinfo", {"code": code})
        except WeComError as exc:
            if exc.errcode == 40029:  # invalid code: used already, or older than five minutes (91023)
                return EXPIRED
            if exc.errcode == 50001:  # the return address is not on the app's 可信域名 (91023)
                log.warning("wecom: an invite link was refused (50001): wecom.public_url's domain must be the app's "
                            "可信域名 (网页授权及JS-SDK)")
            else:
                await report(exc)
                log.warning("wecom: an invite link could not be checked (errcode %d)", exc.errcode)
            return UNAVAILABLE
        except DeliveryError as exc:
            log.warning("wecom: an invite link could not be checked (%s)", exc)
            return UNAVAILABLE
        userid = str(who.get("userid") or "").strip()
        if not userid:  # an openid: someone outside the corp's contacts, whom the app cannot write to
            return NOT_A_MEMBER
        await self.store({
            "ToUserName": self.config.corp_id, "FromUserName": userid, "AgentID": str(self.config.agent_id),
            "CreateTime": str(int(self.clock.now().timestamp())), "MsgType": "text", "Content": f"绑定 {invite}",
            # one opening, once: the page reloaded with the same code is the same message
            "MsgId": "link-" + key, "Via": "invite link"})
        self._opened[key] = userid  # only once it is kept: a failed store shows "later", and a reload tries again
        while len(self._opened) > 1000:
            self._opened.pop(next(iter(self._opened)))
        return RECEIVED
