"""The people of the county procuratorate that dialogue tests play, and the little readers of what
they were sent: one cast in one place, so that test modules do not build their own or borrow
another module's.

The regulars keep their names, roles, departments and chats across the suite:

| who | role | department | chat |
|---|---|---|---|
| 陈静 | office | | 3001 |
| 刘洋 | handler | 第一检察部 | 4001 |
| 王芳 | handler | 第二检察部 | 4002 |
| 孙磊 | discipline | | 5001 |
| 周明 | leader | | 6001 |
| 王建国 | NPC deputy | | 1001 |

A module's cast (`People` subclassed) adds the representatives its tests need, with the sectors
and flags those tests are about. `Cast` is the casework cast: a matter from registration to a
rated reply; `Liaison` the events cast: the office, two departments' handlers, four representatives
in their chats and one without.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.fakes import Harness, Sent, User

SHANGHAI = ZoneInfo("Asia/Shanghai")

TABLES = ("matters", "replies", "extensions", "timeline", "dialogs", "audit_log")  # a refusal writes only its answer
REPLY_BODY = "经审查，您反映的占用耕地问题属实，我院已向相关部门发出检察建议，责令其限期整改，目前已恢复耕地原状。"
GROUNDS = "依据《中华人民共和国土地管理法》第七十五条及《人民检察院检察建议工作规定》第十一条。"

FORUM = "2026年度代表委员座谈会"
WHEN_WHERE = "时间：2026年12月4日 09:30\n地点：本院第一会议室"
INVITATION = ("邀请函\n卢氏县人民检察院诚挚邀请您参加：2026年度代表委员座谈会\n类别：座谈会\n" + WHEN_WHERE +
              "\n您是否参加？请在下方选项中选择。")


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local Shanghai time, as the UTC moment the clock holds."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def messages(sent: list[Sent]) -> list[str]:
    """The texts of the messages among what was sent (button answers left out)."""
    return [s.text for s in sent if s.op == "message"]


def answers(sent: list[Sent]) -> list[str]:
    """The texts of the button answers that say something (the silent ones left out)."""
    return [str(s.payload["text"]) for s in sent if s.op == "answer" and s.payload["text"]]


async def bound_deputy(harness: Harness, name: str = "王建国", user_id: str = "1001", lang: str = "zh-hans") -> User:
    """A deputy on the roster (with a phone), bound to the chat `user_id` with an invitation."""
    rep = await harness.add_representative(name, phone=f"1380000{user_id[-4:]}")
    user = harness.user(user_id, language_code=lang)
    await user.say(f"/start {await harness.invite(rep)}")
    return user


async def up_to_the_confirmation(user: User, kind: str = "建议", subject: str = "关于村道路灯",
                                 text: str = "村东头没有路灯。") -> None:
    """The representative's /submit, from its kind to the confirmation shown (a kind of their own: no complainant)."""
    await user.say("/submit")
    await user.press(kind)
    await user.say(subject)
    await user.say(text)
    await user.press("完成")
    await user.press("无附件")


async def submit_suggestion(user: User, subject: str = "关于乡村道路安全", text: str = "建议在村口增设减速带。") -> None:
    """The representative's /submit of a suggestion, from its kind to the confirmation, confirmed."""
    await up_to_the_confirmation(user, "建议", subject, text)
    await user.press("确认提交")


async def appeal_up_to_the_dispute(d: User, unit: str | None = None) -> None:
    """The representative's /submit of an appeal (申诉), up to the question whether it disputes the unit's handling
    (`unit`: the procuratorate chosen first, by one on two units' rosters)."""
    await d.say("/submit")
    if unit is not None:
        await d.press(unit)
    await d.press("申诉")
    await d.say("不服不起诉决定")
    await d.say("当事人认为不起诉决定认定事实有误。")
    await d.press("完成")
    await d.press("无附件")
    await d.say("李四")
    await d.say("13900002222")


STALE = "此选项已失效。"


async def refuses_forged_choices(harness: Harness, user: User, choices: tuple[str, ...],
                                 tables: tuple[str, ...]) -> None:
    """Each choice, pressed as if it were a button of the user's dialogue at its current step (the right
    nonce, forged data: button data is user input), gets only the stale answer and changes nothing in
    `tables` (the dialogue's step and data included when "dialogs" is among them)."""
    buttons = [data for sent in reversed(user.received) for _, data in sent.buttons if data.startswith("d:")]
    assert buttons, "the user has no dialogue button to take the nonce from"
    nonce = buttons[0].split(":")[1]
    before = await harness.dump(*tables)
    for choice in choices:
        pressed = await user.press_data(f"d:{nonce}:{choice}")
        assert [(s.op, s.text) for s in pressed] == [("answer", STALE)], choice
    assert await harness.dump(*tables) == before


class People:
    """A module's cast: the harness, and people bound to their chats."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def bind(self, person_id: int, user_id: str, lang: str = "zh-hans") -> User:
        """The person, bound to the chat `user_id` with an invitation, speaking `lang`."""
        user = self.h.user(user_id, language_code=lang)
        await user.say(f"/start {await self.h.invite(person_id)}")
        return user

    async def staff(self, name: str, roles: list[str], department: str | None, user_id: str,
                    lang: str = "zh-hans") -> tuple[int, User]:
        """A member of staff (the department made if need be), bound to their chat."""
        person = await self.h.add_staff(name, roles, department)
        return person, await self.bind(person, user_id, lang)


class Cast(People):
    """The people of a county procuratorate, bound to their chats, carrying a matter through casework."""

    def __init__(self, harness: Harness, lang: str = "zh-hans") -> None:
        super().__init__(harness)
        self.lang = lang

    async def setup(self) -> None:
        h = self.h
        self.dept1 = await h.add_department("第一检察部")
        self.dept2 = await h.add_department("第二检察部")
        self.office = await self._staff("陈静", ["office"], None, "3001")
        self.handler1 = await self._staff("刘洋", ["handler"], "第一检察部", "4001")
        self.handler2 = await self._staff("王芳", ["handler"], "第二检察部", "4002")
        self.discipline = await self._staff("孙磊", ["discipline"], None, "5001")
        self.leader = await self._staff("周明", ["leader"], None, "6001")
        rep = await h.add_representative("王建国", phone="13800000001")
        self.deputy = await self.bind(rep, "1001")

    async def _staff(self, name: str, roles: list[str], dept: str | None, user_id: str) -> User:
        _, user = await self.staff(name, roles, dept, user_id, self.lang)
        return user

    async def submit_appeal(self, disputed_dept: str | None = None) -> None:
        d = self.deputy
        await appeal_up_to_the_dispute(d)
        if disputed_dept:
            await d.press("是")
            await d.press(disputed_dept)
        else:
            await d.press("否")
        await d.press("确认提交")

    async def assign(self, number: str = "LS-2026-0001", dept: str = "第二检察部") -> None:
        await self.office.say(f"/case {number}")
        await self.office.press("交办")
        await self.office.press(dept)
        await self.office.press("陈静")

    async def conclude_and_reply(self, handler: User, outcome: str = "A类：已解决或基本解决",
                                 body: str = REPLY_BODY, number: str = "LS-2026-0001") -> None:
        await handler.say(f"/case {number}")
        await handler.press("办结")
        await handler.press(outcome)
        await handler.press("起草答复")
        await handler.press("网上答复")
        await handler.say(body)
        await handler.say(GROUNDS)
        await handler.press("确认")

    @classmethod
    async def assigned(cls, harness: Harness) -> Cast:
        """A deputy's appeal, assigned to the second department."""
        cast = cls(harness)
        await cast.setup()
        await cast.submit_appeal()
        await cast.assign()
        return cast

    @classmethod
    async def replied(cls, harness: Harness) -> Cast:
        """A deputy's appeal assigned to the second department, concluded, replied and approved."""
        cast = await cls.assigned(harness)
        await cast.conclude_and_reply(cast.handler2)
        await cast.approve()
        return cast

    async def approve(self, who: User | None = None, label: str = "审批通过") -> list[Sent]:
        approver = who or self.office
        await approver.say("/case LS-2026-0001")
        return await approver.press(label)


async def concluded_and_drafting_a_reply(harness: Harness, via: str | None = None) -> Cast:
    """Handler 2 has concluded LS-2026-0001 (outcome A) and is drafting its reply, given `via` (or asked for
    the way when none is given)."""
    cast = await Cast.assigned(harness)
    h = cast.handler2
    await h.say("/case LS-2026-0001")
    await h.press("办结")
    await h.press("A类：已解决或基本解决")
    await h.say("/case LS-2026-0001")
    await h.press("起草答复")
    if via is not None:
        await h.press(via)
    return cast


async def matter_row(harness: Harness) -> dict[str, object]:
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT * FROM matters WHERE number = 'LS-2026-0001'")
    return dict(row)


class Liaison(People):
    """The office, two departments, four representatives in their chats and one without a chat."""

    async def setup(self) -> None:
        h = self.h
        self.office_id = await h.add_staff("陈静", ["office"])
        self.clerk = await self.bind(self.office_id, "3001")
        self.handler_id = await h.add_staff("刘洋", ["handler"], "第一检察部")
        self.handler = await self.bind(self.handler_id, "4001")
        self.other_handler = await self.bind(await h.add_staff("王芳", ["handler"], "第二检察部"), "4002")
        self.wang_id = await h.add_representative("王建国", phone="13800000001", sector="农业界", supervisor=True)
        self.wang = await self.bind(self.wang_id, "1001")
        self.li_id = await h.add_representative("李秀梅", body="cppcc", phone="13800000002", sector="教育界")
        self.li = await self.bind(self.li_id, "1002")
        self.zhang_id = await h.add_representative("张伟", phone="13800000003", sector="教育界")
        self.zhang = await self.bind(self.zhang_id, "1003")
        self.zhao_id = await h.add_representative("赵敏", body="cppcc", phone="13800000004", sector="医药卫生界")
        self.zhao = await self.bind(self.zhao_id, "1004", "en")
        self.liu_id = await h.add_representative("刘强", phone="13800000005", sector="企业界")  # no chat bound

    async def event(self, whom: str = "全体人大代表、政协委员", when: str = "2026-12-04 09:30",
                    kind: str = "座谈会", title: str = FORUM) -> list[Sent]:
        """The office creates an event step by step, with the first department to prepare."""
        c = self.clerk
        await c.say("/event")
        await c.press(kind)
        await c.say(title)
        await c.say(when)
        await c.say("本院第一会议室")
        await c.press("第一检察部")
        await c.press("完成")
        await c.press(whom)
        return await c.press("确认")

    async def invited(self, event_id: int = 1) -> dict[int, tuple[str, str | None]]:
        async with self.h.db.snapshot() as q:
            rows = await q.all("SELECT person_id, state, reason FROM invitations WHERE event_id = ?", (event_id,))
        return {r[0]: (r[1], r[2]) for r in rows}


# -- a populated world: what the backup, the move to PostgreSQL and the restore carry ---------------------

PHOTO = b"\x89PNG a photo of the site"
DECISION = b"%PDF-1.4 the decision"


async def populated(harness: Harness) -> None:
    """An appeal replied to with a file, and a suggestion with a photo."""
    cast = await concluded_and_drafting_a_reply(harness, "书面答复")
    await cast.handler2.send_file(DECISION, "复查决定书.pdf")
    await cast.handler2.say(REPLY_BODY)
    await cast.handler2.say(GROUNDS)
    await cast.handler2.press("确认")
    await cast.approve()
    d = cast.deputy
    await d.say("/submit")
    await d.press("建议")
    await d.say("关于规范涉企执法的建议")
    await d.say("建议对涉企案件实行专人跟踪。")
    await d.press("完成")
    await d.send_file(PHOTO, "现场.jpg", kind="photo")
    await d.press("附件已发完")
    await d.press("确认提交")
    assert "LS-2026-0002" in d.last
