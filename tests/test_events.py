"""Seed §5, §11, §15: events — created by the office in chat or from the command line, invitations
answered by button, preparation tasks reminded until done, reminders in working time only,
attendance counted as contacts, an opinion raised at an event registered in one step; every
refusal changing nothing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.config import TOKEN_ENV
from tests.cast import FORUM, INVITATION, WHEN_WHERE, Liaison, answers, at, messages, refuses_forged_choices
from tests.fakes import Harness, MovableClock, User

TABLES = ("events", "event_departments", "invitations", "attendance", "contacts", "matters", "timeline", "dialogs")
REFUSED = "抱歉，只有办公室可以组织联络活动。"


@pytest.fixture
async def cast(harness: Harness) -> Liaison:
    cast = Liaison(harness)
    await cast.setup()
    return cast


# -- creating an event ------------------------------------------------------------------------------


async def test_the_office_creates_a_forum_in_chat_and_every_invitee_is_invited_in_their_language(
        cast: Liaison) -> None:
    c = cast.clerk
    assert messages(await c.say("/event")) == ["创建联络活动\n请选择活动类型。"]
    assert c.last_buttons() == ["座谈会", "工作汇报会", "邀请视察", "检察开放日", "登门走访", "案件研讨", "其他", "取消"]
    assert messages(await c.press("座谈会")) == ["请发送活动名称（不超过100个字）。"]
    assert messages(await c.say(FORUM)) == ["活动何时开始？请发送日期和时间，例如 2026-12-05 09:30。"]
    assert messages(await c.say("2026-12-04 09:30")) == ["活动在何处举行？请发送地点。"]
    assert messages(await c.say("本院第一会议室")) == ["哪些部门需要提前准备？请逐一选择，然后选择“完成”。"]
    assert c.last_buttons() == ["第一检察部", "第二检察部", "无需部门准备", "取消"]
    await c.press("第一检察部")
    assert c.last_buttons() == ["✓ 第一检察部", "第二检察部", "完成", "取消"]
    assert messages(await c.press("完成")) == ["邀请哪些人员？"]
    assert c.last_buttons() == ["全体人大代表、政协委员", "人大代表", "政协委员", "某一界别", "执法监督员", "指定人员", "取消"]
    assert messages(await c.press("全体人大代表、政协委员")) == [
        "请核对\n类别：座谈会\n名称：2026年度代表委员座谈会\n" + WHEN_WHERE +
        "\n准备部门：第一检察部，2026年12月1日前完成\n邀请：全体人大代表、政协委员（共 5 人）"]
    assert messages(await c.press("确认")) == [
        "活动已创建\n活动已创建。共邀请 5 人，其中 4 人已通过本平台收到邀请。\n1 人尚未绑定账号，未能收到邀请，请通过其他方式邀请。",
        "2026年度代表委员座谈会\n座谈会 · 2026年12月4日 09:30 · 本院第一会议室\n第一检察部准备工作（2026年12月1日前）：尚未完成\n"
        "已邀请 5 人：参加 0 人，不参加 0 人，未回复 5 人。\n未答复：刘强、张伟、王建国、李秀梅、赵敏"]
    for deputy in (cast.wang, cast.li, cast.zhang):
        assert deputy.last == INVITATION and deputy.last_buttons() == ["参加", "不参加"]
    assert cast.zhao.last == ("Invitation\n卢氏县人民检察院 sincerely invites you to: 2026年度代表委员座谈会\nKind: Forum\n"
                              "Time: December 4, 2026 09:30\nPlace: 本院第一会议室\n"
                              "Will you attend? Please choose an option below.")
    assert cast.handler.last == ("准备任务\n请第一检察部为以下活动做好准备：2026年度代表委员座谈会。\n" + WHEN_WHERE +
                                 "\n请于2026年12月1日前做好准备，按时到场（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十五条）。准备完毕后请选择下方选项。")
    assert not [s for s in cast.other_handler.received if "准备任务" in s.text]  # not the second department's
    async with cast.h.db.snapshot() as q:
        event = tuple(await q.one("SELECT kind, title, starts_at, place, matter_id, audience, created_by, state"
                                  " FROM events"))
        prep = tuple(await q.one("SELECT event_id, department_id, deadline, done_at FROM event_departments"))
        audit = tuple(await q.one("SELECT actor_id, action, detail FROM audit_log WHERE action = 'event_created'"))
    assert event == ("forum", FORUM, "2026-12-04T01:30:00.000+00:00", "本院第一会议室", None, "all", cast.office_id,
                     "planned")
    assert prep == (1, 1, "2026-12-01", None)  # three working days before Friday 4 December
    assert await cast.invited() == {p: ("invited", None) for p in (cast.wang_id, cast.li_id, cast.zhang_id,
                                                                  cast.zhao_id, cast.liu_id)}
    assert audit == (cast.office_id, "event_created",
                     '{"audience":"all","departments":[1],"event_id":1,"invited":5,"kind":"forum"}')


async def report_meeting_until_departments(cast: Liaison) -> User:
    """The office's /event for a work report meeting, up to the departments to prepare."""
    c = cast.clerk
    await c.say("/event")
    await c.press("工作汇报会")
    await c.say("向代表委员汇报检察工作")
    await c.say("2026/12/10 15:00")
    await c.say("本院三楼会议室")
    return c


@pytest.mark.parametrize(("whom", "search", "expected"), [
    ("人大代表", [], ["wang", "zhang", "liu"]),
    ("政协委员", [], ["li", "zhao"]),
    ("某一界别", ["教育界"], ["li", "zhang"]),
    ("执法监督员", [], ["wang"]),
    ("指定人员", ["秀梅", "李秀梅 · 政协委员 · 教育界", "刘", "刘强 · 人大代表 · 企业界"], ["li", "liu"]),
])
async def test_whom_to_invite_a_body_a_sector_the_supervisors_or_named_people(
        cast: Liaison, whom: str, search: list[str], expected: list[str]) -> None:
    c = await report_meeting_until_departments(cast)
    await c.press("无需部门准备")
    await c.press(whom)
    if whom == "某一界别":
        assert c.last_buttons() == ["企业界", "农业界", "医药卫生界", "教育界", "取消"]
        await c.press(search[0])
    elif whom == "指定人员":
        for text, label in zip(search[::2], search[1::2]):
            await c.say(text)
            await c.press(label)
        assert c.last == "已选择：李秀梅、刘强。如需添加其他人员，请继续发送姓名；全部选好后，请选择“完成”。"
        await c.press("完成")
    summary = c.last
    await c.press("确认")
    ids = {name: getattr(cast, f"{name}_id") for name in ("wang", "li", "zhang", "zhao", "liu")}
    assert set(await cast.invited()) == {ids[n] for n in expected}
    assert f"（共 {len(expected)} 人）" in summary
    async with cast.h.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM event_departments") == 0


async def test_whom_to_invite_is_the_audience_step_cards_use_and_is_stored_as_before(cast: Liaison) -> None:
    """Issue 13: the event's whom step is the audience step of cards and briefings (its sector list, its
    name search, its description of the choice), and the event's audience is stored as it always was:
    "sector:<name>", or "named" with the people invited."""
    c = await report_meeting_until_departments(cast)
    await c.press("无需部门准备")
    assert messages(await c.press("某一界别")) == ["请选择界别。"]
    summary = await c.press("教育界")
    assert "\n邀请：教育界代表委员（共 2 人）" in messages(summary)[0]  # described as a card's preview describes it
    await c.press("确认")

    c = await report_meeting_until_departments(cast)
    await c.press("无需部门准备")
    await c.press("指定人员")
    await c.say("秀梅")
    await c.press("李秀梅 · 政协委员 · 教育界")
    await c.say("秀梅")
    assert messages(await c.press("李秀梅 · 政协委员 · 教育界")) == ["李秀梅已在名单中。"]
    await c.say("13800000005")  # by phone, as the shared search allows
    assert messages(await c.press("刘强 · 人大代表 · 企业界")) == [
        "已选择：李秀梅、刘强。如需添加其他人员，请继续发送姓名；全部选好后，请选择“完成”。"]
    assert "\n邀请：李秀梅、刘强（共 2 人）" in messages(await c.press("完成"))[0]
    await c.press("确认")
    async with cast.h.db.snapshot() as q:
        stored = [tuple(r) for r in await q.all("SELECT id, audience FROM events ORDER BY id")]
    assert stored == [(1, "sector:教育界"), (2, "named")]
    assert set(await cast.invited(1)) == {cast.li_id, cast.zhang_id}
    assert set(await cast.invited(2)) == {cast.li_id, cast.liu_id}


async def test_bad_input_in_the_dialogue_is_explained_and_nothing_is_created(cast: Liaison) -> None:
    c = cast.clerk
    await c.say("/event")
    await c.press("座谈会")
    before = await cast.h.dump(*TABLES)
    assert messages(await c.say("标" * 101)) == ["活动名称应为1至100个字。"]
    await c.say(FORUM)
    assert messages(await c.say("下周五上午")) == ["抱歉，无法识别该日期和时间。请按 2026-12-05 09:30 的格式发送。"]
    assert messages(await c.say("2026-11-26 09:30")) == ["2026年11月26日 09:30已过，请填写今后的时间。"]
    assert messages(await c.say("2026-02-30 09:30")) == ["抱歉，无法识别该日期和时间。请按 2026-12-05 09:30 的格式发送。"]
    assert messages(await c.say("2026年12月4日 9:30")) == ["活动在何处举行？请发送地点。"]  # written the Chinese way
    await c.say("本院第一会议室")
    assert answers(await c.press_data("event:open:99")) == ["未找到该活动。"]  # forged: no such event
    assert messages(await c.say("/cancel")) == ["已取消，未提交任何内容。"]
    after = await cast.h.dump(*TABLES)
    assert after["events"] == before["events"] == [] and after["dialogs"] == []


async def test_a_staff_member_without_the_office_role_cannot_organise_events(cast: Liaison) -> None:
    await cast.event()
    before = await cast.h.dump(*TABLES)
    handler = cast.handler
    assert messages(await handler.say("/event")) == [REFUSED]
    assert messages(await handler.say("/events")) == [REFUSED]
    assert answers(await handler.press_data("event:open:1")) == [REFUSED]
    assert answers(await handler.press_data("event:att:1")) == ["抱歉，只有办公室可以登记出席情况。"]
    assert answers(await cast.wang.press_data("event:opr:1:1")) == ["抱歉，只有办公室可以代为登记代表委员的事项。"]
    assert messages(await cast.wang.say("/event")) == [REFUSED]
    assert await cast.h.dump(*TABLES) == before
    async with cast.h.db.snapshot() as q:
        refused = [r[0] for r in await q.all("SELECT action FROM audit_log WHERE action LIKE 'refused:%' ORDER BY id")]
    assert refused == ["refused:manage_events", "refused:manage_events", "refused:manage_events",
                       "refused:record_attendance", "refused:register_on_behalf", "refused:manage_events"]


# -- answering ----------------------------------------------------------------------------------------


async def test_invitees_accept_or_decline_with_a_reason_and_the_office_sees_who_answered_what(cast: Liaison) -> None:
    await cast.event()
    accepted = await cast.wang.press("参加")
    assert messages(accepted) == ["感谢您！您将参加：2026年度代表委员座谈会。\n" + WHEN_WHERE + "\n我们将在活动前一天提醒您。"]
    assert messages(await cast.li.press("不参加")) == [
        "已记录：您不参加2026年度代表委员座谈会。如方便，请告诉我们原因：直接发送，或选择下方选项。"]
    assert messages(await cast.li.say("当天在外地出差")) == ["感谢您！办公室将看到您说明的原因。"]
    await cast.zhang.press("不参加")
    assert messages(await cast.zhang.press("不说明原因")) == ["感谢您的告知。"]
    await cast.zhao.press("Not attend")
    await cast.zhao.press("Attend")  # a change of mind, before the event: the new answer stands
    assert cast.zhao.last.startswith("Thank you. You will attend: 2026年度代表委员座谈会.")
    assert await cast.invited() == {cast.wang_id: ("accepted", None), cast.li_id: ("declined", "当天在外地出差"),
                                    cast.zhang_id: ("declined", None), cast.zhao_id: ("accepted", None),
                                    cast.liu_id: ("invited", None)}
    listing = await cast.clerk.say("/events")
    assert messages(listing) == ["联络活动\n2026年12月4日 09:30 · 座谈会 · 2026年度代表委员座谈会\n已邀请 5 人，确认参加 2 人"]
    card = await cast.clerk.press("2026年12月4日 2026年度代表委员座谈会")
    assert messages(card) == [
        "2026年度代表委员座谈会\n座谈会 · 2026年12月4日 09:30 · 本院第一会议室\n第一检察部准备工作（2026年12月1日前）：尚未完成\n"
        "已邀请 5 人：参加 2 人，不参加 2 人，未回复 1 人。\n参加：王建国、赵敏\n不参加：张伟、李秀梅（当天在外地出差）\n未答复：刘强"]
    assert cast.clerk.last_buttons() == ["准备完毕：第一检察部"]  # attendance only once it has begun
    async with cast.h.db.snapshot() as q:
        logged = [r[0] for r in await q.all("SELECT detail FROM audit_log WHERE action = 'event_answered' ORDER BY id")]
    assert logged[0] == '{"answer":"accepted","event_id":1}' and len(logged) == 5  # never the reason


async def test_an_answer_after_the_event_has_begun_is_refused_and_changes_nothing(cast: Liaison) -> None:
    await cast.event()
    cast.h.clock.set(at(date(2026, 12, 4), 9, 30))
    before = await cast.h.dump(*TABLES)
    refused = await cast.wang.press("参加")
    assert answers(refused) == messages(refused) == ["2026年度代表委员座谈会已经举行，无法再回复该邀请。"]
    assert await cast.h.dump(*TABLES) == before
    forged = await cast.handler.press_data("event:yes:1")  # not invited at all
    assert answers(forged) == ["该邀请不是发给您的，或已不存在。"]
    assert await cast.h.dump(*TABLES) == before


# -- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text("[storage]\n"
                    f"database = {json.dumps((tmp_path / 'liaison.db').as_posix())}\n"
                    f"files_dir = {json.dumps((tmp_path / 'files').as_posix())}\n", encoding="utf-8")
    return path


def cli(config_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["--config", str(config_path), *argv], MovableClock())
    out, err = capsys.readouterr()
    return status, out, err


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def everything(db: Path) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    for (table,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        yield table, query(db, f"SELECT * FROM {table} ORDER BY 1")


def test_the_operator_creates_an_event_from_the_command_line(config_path: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """On the real clock: an event in 2099 (Thursday 15 January; Monday to Friday are working days)."""
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,类别,界别,单位职务,电话,执法监督员\n王建国,人大代表,农业界,村支书,13800000001,是\n"
                      "李秀梅,政协委员,教育界,教师,13900000002,否\n张伟,人大代表,教育界,医生,13700000003,否\n", "utf-8")
    assert cli(config_path, capsys, "import-roster", str(roster))[0] == 0
    assert cli(config_path, capsys, "department", "add", "第一检察部")[0] == 0
    db = tmp_path / "liaison.db"
    with closing(sqlite3.connect(db)) as conn, conn:  # 李秀梅 has bound her chat on the console
        conn.execute("INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at) VALUES"
                     " ('console', 'li', 2, 'li', '2026-01-01T00:00:00.000+00:00')")
    before = dict(everything(db))
    args = ["event", "add", "--kind", "forum", "--title", "教育界代表委员座谈会", "--place", "本院第一会议室",
            "--invite", "sector:教育界"]
    for bad, error in [
        (["--at", "2099-01-15 9点半"], "--at '2099-01-15 9点半' is not a date and time like 2026-12-05 09:30\n"),
        (["--at", "2020-01-15 09:30"], "January 15, 2020 09:30 has passed. Please give a time in the future.\n"),
        (["--at", "2099-01-15 09:30", "--department", "第九检察部"],
         "LS has no department 第九检察部; add it first: department add 第九检察部 --unit LS\n"),
        (["--at", "2099-01-15 09:30", "--matter", "LS-2026-0001"],
         "a case discussion, and only a case discussion, needs --matter\n"),
    ]:
        assert cli(config_path, capsys, *args, *bad) == (1, "", error)
        assert dict(everything(db)) == before
    status, out, err = cli(config_path, capsys, *args, "--at", "2099-01-15 09:30", "--department", "第一检察部")
    assert (status, out, err) == (0, "event 1 created: 2 invited, 1 with a chat bound; the bot sends the invitations\n",
                                  "")
    assert query(db, "SELECT kind, title, starts_at, audience, created_by FROM events") == [
        ("forum", "教育界代表委员座谈会", "2099-01-15T01:30:00.000+00:00", "sector:教育界", None)]
    assert query(db, "SELECT person_id, state FROM invitations ORDER BY person_id") == [(2, "invited"), (3, "invited")]
    assert query(db, "SELECT department_id, deadline FROM event_departments") == [(1, "2099-01-12")]
    queued = query(db, "SELECT channel, chat_id, state, dedup_key, payload FROM outbox")
    assert [row[:4] for row in queued] == [("console", "li", "pending", "event:1:invite:2")]
    assert json.loads(queued[0][4])["text"].startswith("卢氏县人民检察院诚挚邀请您参加：教育界代表委员座谈会")


# -- preparation and reminders ---------------------------------------------------------------------------


async def tick(harness: Harness, day: date, hour: int, minute: int = 0) -> dict[str, int]:
    harness.clock.set(at(day, hour, minute))
    result = await harness.app.supervise()
    await harness.app.settle()
    return {rule: n for rule, n in result.fired.items() if rule.startswith("event_")}


def texts(user: User, since: int, title: str) -> list[str]:
    """What the user was told since then under this title (other rules remind the office too: the quota...)."""
    return [s.text for s in user.received[since:] if s.op == "message" and s.text.startswith(title + "\n")]


async def test_reminders_two_days_before_the_day_before_and_preparation_until_done(cast: Liaison) -> None:
    """Friday 27 November: a forum on Friday 4 December 09:30; the first department prepares by Tuesday 1st."""
    h = cast.h
    await cast.event()
    await cast.wang.press("参加")
    await cast.li.press("不参加")
    await cast.li.press("不说明原因")
    seen = {u.user_id: len(u.received) for u in (cast.clerk, cast.handler, cast.wang, cast.li)}
    assert await tick(h, date(2026, 11, 30), 9) == {}  # Monday: nothing yet
    assert await tick(h, date(2026, 12, 1), 9) == {"event_prep": 1}  # the deadline
    assert await tick(h, date(2026, 12, 1), 15) == {}  # once a day
    assert await tick(h, date(2026, 12, 2), 9) == {"event_unanswered": 1, "event_prep": 1}  # two days before
    assert texts(cast.clerk, seen["3001"], "邀请未回复") == [
        "邀请未回复\n2026年度代表委员座谈会已邀请 5 人，尚有 3 人未答复：\n刘强、张伟、赵敏\n" + WHEN_WHERE]
    assert texts(cast.handler, seen["4001"], "准备任务") == [
        "准备任务\n提醒：第一检察部尚未完成以下活动的准备工作：2026年度代表委员座谈会。\n" + WHEN_WHERE +
        "\n请于2026年12月1日前做好准备，按时到场（《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》第十五条）。准备完毕后请选择下方选项。"] * 2
    done = await cast.handler.press("准备完毕")
    assert messages(done) == ["已标记完成：第一检察部为2026年度代表委员座谈会所做的准备工作。"]
    assert cast.clerk.last == "第一检察部已完成2026年度代表委员座谈会的准备工作。"
    again = await cast.handler.press("准备完毕")
    assert answers(again) == ["第一检察部的准备工作已标记为完成。"]
    assert await tick(h, date(2026, 12, 3), 9) == {"event_eve": 1}  # the day before: those who accepted
    assert texts(cast.wang, seen["1001"], "提醒") == [
        "提醒\n温馨提醒：您将参加2026年度代表委员座谈会。\n" + WHEN_WHERE + "\n感谢您的支持，恭候您的光临。"]
    assert texts(cast.li, seen["1002"], "提醒") == []
    assert await tick(h, date(2026, 12, 4), 8, 20) == {}  # before working hours
    assert await tick(h, date(2026, 12, 4), 8, 30) == {"event_hour": 1}  # an hour before 09:30
    assert texts(cast.wang, seen["1001"], "提醒")[-1] == "提醒\n2026年度代表委员座谈会即将开始。\n" + WHEN_WHERE + "\n请准时到场。"
    assert texts(cast.handler, seen["4001"], "提醒")[-1].startswith("提醒\n2026年度代表委员座谈会即将开始。")
    assert await tick(h, date(2026, 12, 4), 8, 40) == {}
    async with h.db.snapshot() as q:
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE rule LIKE 'event_%' ORDER BY fired_at, key")]
    assert keys == ["event_prep:1:1:2026-12-01", "event_prep:1:1:2026-12-02", "event_unanswered:1", "event_eve:1",
                    "event_hour:1"]


async def test_the_hour_before_falls_in_working_time_or_is_skipped(cast: Liaison) -> None:
    """Working hours 08:30-18:00: an event at 15:00 is announced at 14:00; at 09:00, at the first sweep from
    08:30; at 08:00 or 19:00 no sweep in working time comes before it, and the day-before reminder must do."""
    h = cast.h
    for n, when in enumerate(["2026-12-07 15:00", "2026-12-07 09:00", "2026-12-07 08:00", "2026-12-07 19:00"]):
        await cast.event(whom="执法监督员", when=when, title=f"活动{n + 1}")
        await cast.wang.press("参加")
    fired: list[tuple[str, str]] = []
    for hour, minute in [(7, 50), (8, 10), (8, 30), (8, 40), (13, 50), (14, 0), (14, 10), (17, 50), (18, 10),
                         (18, 50), (19, 10)]:
        if await tick(h, date(2026, 12, 7), hour, minute):
            async with h.db.snapshot() as q:
                fired += [(r[0], f"{hour:02d}:{minute:02d}") for r in await q.all(
                    "SELECT key FROM reminders WHERE rule = 'event_hour' AND fired_at = ?",
                    (h.clock.now().isoformat(timespec="milliseconds"),))]
    assert fired == [("event_hour:2", "08:30"), ("event_hour:1", "14:00")]
    assert texts(cast.wang, 0, "提醒").count("提醒\n活动1即将开始。\n时间：2026年12月7日 15:00\n地点：本院第一会议室\n请准时到场。") == 1


# -- attendance ---------------------------------------------------------------------------------------------


async def test_attendance_counts_every_attendee_as_a_contact_and_quota_shows_them(cast: Liaison) -> None:
    await cast.event()
    await cast.wang.press("参加")
    await cast.zhao.press("Attend")
    c = cast.clerk
    early = await c.press_data("event:att:1")
    assert answers(early) == ["“2026年度代表委员座谈会”尚未开始，活动开始后方可登记出席情况。"]
    cast.h.clock.set(at(date(2026, 12, 4), 11))
    await c.say("/events")
    await c.press("2026年12月4日 2026年度代表委员座谈会")
    assert c.last_buttons() == ["登记出席", "准备完毕：第一检察部"]
    start = await c.press("登记出席")
    assert messages(start) == [
        "出席情况\n哪些人员出席了2026年度代表委员座谈会？选择姓名可标记或取消标记（✓ 表示出席）。如有未受邀人员出席，"
        "请发送其姓名中的部分文字。完成后请选择“保存”。\n已标记：2 人"]
    assert c.last_buttons() == ["✓ 王建国", "✓ 赵敏", "刘强", "张伟", "李秀梅", "保存", "取消"]
    await c.press("✓ 赵敏")  # accepted, but did not come
    await c.press("张伟")  # did not answer, but came
    assert c.last_buttons() == ["✓ 王建国", "赵敏", "刘强", "✓ 张伟", "李秀梅", "保存", "取消"]
    saved = await c.press("保存")
    assert messages(saved)[0] == ("出席情况已登记\n2026年度代表委员座谈会出席情况已登记：出席 2 人，本次新登记 2 人，均计入联系次数。\n"
                                  "今年已联系 2/5 名代表委员（40%）。")
    assert messages(saved)[1].endswith("实际出席（2 人）：张伟、王建国")
    async with cast.h.db.snapshot() as q:
        logged = [tuple(r) for r in await q.all(
            "SELECT representative_id, method, contacted_on, staff_id, note, source, source_ref FROM contacts"
            " ORDER BY representative_id")]
        state = await q.scalar("SELECT state FROM events")
    assert logged == [(p, "forum", "2026-12-04", cast.office_id, FORUM, "event", "1")
                      for p in (cast.wang_id, cast.zhang_id)]
    assert state == "held"
    quota = messages(await c.say("/quota"))[0]
    assert quota.startswith("2026年联系情况\n已联系 2/5 名代表委员（40%）")
    assert "王建国" not in quota.split("尚未联系")[1] and "张伟" not in quota.split("尚未联系")[1]
    # afterwards someone not invited is found to have come; those recorded cannot be unmarked
    await c.say("/events")
    await c.press("2026年12月4日 2026年度代表委员座谈会")
    await c.press("登记出席")
    before = await cast.h.dump(*TABLES)
    assert answers(await c.press("✓ 王建国")) == ["王建国的出席情况已登记并计入联系次数，此处不能取消。"]
    assert await cast.h.dump(*TABLES) == before
    assert messages(await c.say("赵敏")) == ["还有哪位出席？请选择姓名。"]
    await c.press("赵敏 · 政协委员 · 医药卫生界")
    await c.press("保存")
    assert cast.h.clock.now() and messages(await c.say("/quota"))[0].startswith("2026年联系情况\n已联系 3/5 名代表委员（60%）")


async def test_an_opinion_raised_at_the_event_is_registered_as_a_matter_in_one_step(cast: Liaison) -> None:
    await cast.event()
    await cast.wang.press("参加")
    cast.h.clock.set(at(date(2026, 12, 4), 11))
    c = cast.clerk
    await c.press_data("event:att:1")
    await c.press("保存")
    await c.press("登记会上提出的意见")
    assert c.last_buttons() == ["王建国"]
    started = await c.press("王建国")
    assert messages(started)[0].startswith("代王建国登记事项\n王建国提出的是哪类事项？")
    await c.press("意见")
    await c.say("关于加强未成年人检察工作")
    await c.say("王建国代表在座谈会上建议加强未成年人检察工作。")
    await c.press("完成")
    await c.press("无附件")
    await c.press("确认登记")
    async with cast.h.db.snapshot() as q:
        row = tuple(await q.one("SELECT number, kind, representative_id, received_via, registered_by FROM matters"))
    assert row == ("LS-2026-0001", "opinion", cast.wang_id, "meeting", cast.office_id)
    assert cast.wang.last.startswith("已登记\n您在会议上提出的意见已登记，编号：LS-2026-0001。")
    # only an attendee, and only for the office
    before = await cast.h.dump(*TABLES)
    assert answers(await c.press_data(f"event:opr:1:{cast.li_id}")) == ["此选项已失效。"]
    assert await cast.h.dump(*TABLES) == before


async def test_a_preparation_is_marked_done_by_its_own_department_or_the_office_only(cast: Liaison) -> None:
    await cast.event()
    before = await cast.h.dump(*TABLES)
    refused = await cast.other_handler.press_data("event:prep:1:1")
    assert answers(refused) == ["只有相关部门或办公室可以标记准备完毕。"]
    assert answers(await cast.wang.press_data("event:prep:1:1")) == ["只有相关部门或办公室可以标记准备完毕。"]
    assert answers(await cast.handler.press_data("event:prep:1:2")) == ["未找到该准备任务。"]
    assert await cast.h.dump(*TABLES) == before
    await cast.clerk.press("准备完毕：第一检察部")
    async with cast.h.db.snapshot() as q:
        assert tuple(await q.one("SELECT done_by FROM event_departments")) == (cast.office_id,)


async def test_attendance_of_a_large_event_is_marked_page_by_page(cast: Liaison) -> None:
    for n in range(8):
        await cast.h.add_representative(f"代表{n + 1}", phone=f"1360000000{n}", sector="农业界")
    await cast.event()
    cast.h.clock.set(at(date(2026, 12, 4), 11))
    c = cast.clerk
    first = await c.press_data("event:att:1")
    assert messages(first)[0].endswith("\n已标记：0 人 (1/2)")
    assert c.last_buttons()[-3:] == ["下一页", "保存", "取消"] and len(c.last_buttons()) == 13
    await c.press("下一页")
    assert c.last_buttons() == ["王建国", "李秀梅", "赵敏", "上一页", "保存", "取消"]
    await c.press("王建国")
    assert c.last_buttons()[0] == "✓ 王建国" and c.last.endswith("\n已标记：1 人 (2/2)")
    await c.press("上一页")
    await c.press("代表1")
    assert messages(await c.press("保存"))[0].startswith("出席情况已登记\n2026年度代表委员座谈会出席情况已登记：出席 2 人")


# -- forged choices -----------------------------------------------------------------------------------------


async def test_a_forged_department_or_sector_in_the_event_dialogue_is_stale_and_changes_nothing(
        cast: Liaison) -> None:
    """A department the list did not show, a sector past the list shown, or data that names no number, pressed
    with the dialogue's own nonce: the stale answer, and the dialogue and the tables are as they were."""
    c = await report_meeting_until_departments(cast)
    await refuses_forged_choices(cast.h, c, ("d99", "d", "dx", "d-1", "d１", "d" + "9" * 13, "s0"), TABLES)
    await c.press("第一检察部")
    await c.press("完成")
    await c.press("某一界别")
    assert c.last_buttons() == ["企业界", "农业界", "医药卫生界", "教育界", "取消"]
    await refuses_forged_choices(cast.h, c, ("s4", "s99", "s", "sx", "s-1", "d1"), TABLES)
    assert "（共 2 人）" in messages(await c.press("教育界"))[0]  # the sector still chosen from the list shown


async def test_a_forged_choice_in_the_whom_step_is_stale_and_changes_nothing(cast: Liaison) -> None:
    """Issue 13: data the shared audience step did not offer — a sector or a department at the first
    question, Done with nobody named, a body while naming people, a person who is not on the roster —
    pressed with the dialogue's own nonce: the stale answer, and the dialogue and the tables are as they were."""
    c = await report_meeting_until_departments(cast)
    await c.press("无需部门准备")
    await refuses_forged_choices(cast.h, c, ("s0", "d1", "done", "confirm", "rep1", "everyone", "kind"), TABLES)
    await c.press("指定人员")
    await refuses_forged_choices(cast.h, c, ("done", "all", "supervisors", "s0", "rep999", "repx", "confirm"),
                                 TABLES)
    await c.say("秀梅")
    await c.press("李秀梅 · 政协委员 · 教育界")
    await refuses_forged_choices(cast.h, c, ("sector", "s0", "rep999", "npc"), TABLES)
    assert "（共 1 人）" in messages(await c.press("完成"))[0]  # the one named from the list shown


async def test_a_forged_attendance_choice_is_stale_and_changes_nothing(cast: Liaison) -> None:
    """A page past the last one shown, a person not on the list, or data that names nobody: the stale answer,
    and neither the marks nor the page nor the tables change."""
    await cast.event()
    await cast.wang.press("参加")
    c = cast.clerk
    cast.h.clock.set(at(date(2026, 12, 4), 11))
    await c.say("/events")
    await c.press("2026年12月4日 2026年度代表委员座谈会")
    await c.press("登记出席")
    assert c.last_buttons() == ["✓ 王建国", "刘强", "张伟", "李秀梅", "赵敏", "保存", "取消"]
    await refuses_forged_choices(cast.h, c, ("p1", "p99", "p", "t999", "tx", "t", "a999", "ax", "x1"), TABLES)
    await c.press("保存")
    async with cast.h.db.snapshot() as q:
        assert [r[0] for r in await q.all("SELECT person_id FROM attendance")] == [cast.wang_id]
