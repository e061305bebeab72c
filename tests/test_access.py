"""SPEC §2 "access can be taken away at once" (issue 15 item 1): disable, enable, unbind, roles, the roster.

From chat (`/access`, the office and the administrator) and from the command line; each audited; every
refusal changes nothing. Each check made on a press or a command sees the change from the next update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.context import Context
from bot.i18n import Translator
from bot.messages import Incoming, Reply
from storage import audit
from storage.records import RECORDS
from tests.fakes import Harness, MovableClock, User
from tests.cast import submit_suggestion

TABLES = ("persons", "person_roles", "identities", "dialogs", "outbox", "audit_log", "invites", "matters")
UNBOUND = "本平台面向"  # the start of the answer to a stranger (handlers/common.py `unbound`)


async def bound(harness: Harness, person_id: int, user_id: str) -> User:
    user = harness.user(user_id)
    await user.say(f"/start {await harness.invite(person_id)}")
    return user


async def office_and_deputy(harness: Harness) -> tuple[User, User, int]:
    clerk = await bound(harness, await harness.add_staff("陈静", ["office"]), "3001")
    rep = await harness.add_representative("王建国")
    return clerk, await bound(harness, rep, "1001"), rep


async def audit_actions(harness: Harness) -> list[str]:
    async with harness.db.snapshot() as q:
        return [str(r["action"]) for r in await q.all("SELECT action FROM audit_log ORDER BY id")]


async def queue_notice(harness: Harness, person_id: int, text: str, matter_id: int) -> bool:
    """A notice to a person as a handler or the scheduler writes one (Context.notify), not yet sent."""
    async with harness.db.transaction() as tx:
        ctx = Context(tx, Incoming(channel="test", user_id="system", chat_id="system"), harness.clock.now(),
                      harness.app.config, None, Translator("zh_Hans", harness.app.config.unit.tz),
                      channels=frozenset({"test"}), records=RECORDS)
        return await ctx.notify(person_id, lambda _: Reply(text), matter_id=matter_id)


async def test_a_disabled_deputy_is_a_stranger_on_every_account_at_once(harness: Harness) -> None:
    """SPEC §2, §9: disabled by the office, both of the deputy's accounts stop at once: the open dialogue ends,
    /submit and a button of the old dialogue are answered as to a stranger; matters and history stay."""
    clerk, deputy, rep = await office_and_deputy(harness)
    second = await bound(harness, rep, "1002")  # a deputy keeps several accounts (Telegram and WeCom)
    await submit_suggestion(deputy)
    await deputy.say("/submit")  # a dialogue left open, its buttons on the screen
    assert await harness.count("dialogs", "actor = 'test:1001'") == 1

    told = await clerk.say("/access 停用 王建国")
    assert told[-1].text == ("已停用王建国的账号：2个账号即时失效，1项未完成的操作已结束，0条尚未发出的消息已撤回。"
                             "其既往记录予以保留。\n其尚未办结的事项仍由本院照常办理：LS-2026-0001。此后应告知其本人的"
                             "消息将转至本院办公室，由办公室以当面或书面方式转达。")
    assert await harness.count("dialogs") == 0
    for account in (deputy, second):
        assert (await account.say("/submit"))[0].text.startswith(UNBOUND)
        assert (await account.say("/my"))[0].text.startswith(UNBOUND)
    pressed = await deputy.press("建议")  # the kind buttons of the dialogue that was open
    assert [s.text for s in pressed if s.op == "answer"] == ["此选项已失效。"]
    assert await harness.count("dialogs") == 0 and await harness.count("matters") == 1
    assert await harness.count("identities", "person_id = ?", (rep,)) == 2  # kept: enabling needs no new invite
    assert "person_disabled" in await audit_actions(harness)
    async with harness.db.snapshot() as q:
        assert (await audit.verify(q))[1] is None

    assert (await clerk.say("/access 启用 王建国"))[-1].text == "已恢复王建国的账号，其账号可以继续使用。"
    assert "LS-2026-0001" in (await deputy.say("/my"))[0].text


async def test_what_a_disabled_deputy_is_owed_goes_to_the_office_and_what_was_queued_is_withdrawn(
        harness: Harness) -> None:
    """SPEC §2, §4 §7 feedback: the matters of a disabled deputy stay handled; a notice queued before the disabling
    is never sent to their chat, and one written after it reaches the office, to be passed on in person or on
    paper."""
    clerk, deputy, rep = await office_and_deputy(harness)
    await submit_suggestion(deputy)
    assert await queue_notice(harness, rep, "LS-2026-0001 已交第一检察部办理。", 1)
    sent_before = len(deputy.received)
    await clerk.say("/access 停用 王建国")
    assert len(deputy.received) == sent_before  # the queued notice was withdrawn, not sent
    assert await harness.count("outbox", "state = 'failed' AND last_error = 'access removed'") == 1

    assert await queue_notice(harness, rep, "LS-2026-0001 已办结。", 1)
    await harness.app.dispatcher.flush()
    assert len(deputy.received) == sent_before
    assert clerk.last == ("王建国的账号已停用。请以当面或书面方式转达以下内容，并如实记录转达方式：\n\n"
                          "LS-2026-0001 已办结。")


async def test_access_refusals_change_nothing(harness: Harness) -> None:
    """SPEC §1 (admin: accounts), §9: a deputy, a handler, the office on itself or on an administrator, an unknown
    role, a staff role for a deputy, a second disabling: refused with the reason, nothing changed."""
    clerk, deputy, rep = await office_and_deputy(harness)
    handler = await bound(harness, await harness.add_staff("赵强", ["handler"], "第一检察部"), "4001")
    await bound(harness, await harness.add_staff("李管", ["admin"]), "5001")
    attempts = [
        (deputy, "/access 停用 陈静", "此功能仅供办公室和系统管理员使用。"),
        (handler, "/access 停用 王建国", "此功能仅供办公室和系统管理员使用。"),
        (clerk, "/access 停用 陈静", "不能停用本人的账号，请由办公室其他工作人员或系统管理员办理。"),
        (clerk, "/access 停用 李管", "只有系统管理员可以停用管理员的账号。"),
        (clerk, "/access 角色 赵强 办公室、主任", "未知角色：主任。可设角色为：办公室、承办、部门负责人、纪检、领导、管理员。"),
        (clerk, "/access 角色 王建国 办公室", "王建国是代表委员，工作人员角色仅适用于工作人员。"),
        (clerk, "/access 角色 陈静 领导", "不能更改本人的角色，请由办公室其他工作人员或系统管理员办理。"),
        (clerk, "/access 角色 赵强 管理员", "只有系统管理员可以授予或取消管理员角色。"),
        (clerk, "/access 启用 王建国", "王建国的账号未被停用。"),
        (clerk, "/access 解绑 王建国 企业微信", "王建国在企业微信上没有绑定账号。"),
        (clerk, "/access 停用", None),
    ]
    for user, text, expected in attempts:
        before = await harness.dump(*TABLES[:-1])
        got = await user.say(text)
        if expected is None:
            assert got[-1].text.startswith("请按以下格式发送："), got[-1].text
        else:
            assert got[-1].text == expected, text
        after = await harness.dump(*TABLES[:-1])
        kept = [t for t in TABLES[:-1] if t not in ("outbox", "audit_log")]  # the refusal's answer; a denial's audit
        assert {t: after[t] for t in kept} == {t: before[t] for t in kept}, text
    await clerk.say("/access 停用 王建国")
    before = await harness.dump(*TABLES)
    assert (await clerk.say("/access 停用 王建国"))[-1].text == "王建国的账号已处于停用状态。"
    after = await harness.dump(*TABLES)
    kept = [t for t in TABLES if t != "outbox"]
    assert {t: after[t] for t in kept} == {t: before[t] for t in kept}


async def test_a_role_taken_away_holds_from_the_next_command(harness: Harness) -> None:
    """SPEC §1: the office changes a handler's roles; the handler's next /inbox sees it; audited."""
    clerk, _deputy, _rep = await office_and_deputy(harness)
    handler = await bound(harness, await harness.add_staff("赵强", ["handler"], "第一检察部"), "4001")
    inbox_before = (await handler.say("/inbox"))[-1].text
    assert (await clerk.say("/access 角色 赵强 领导"))[-1].text == "赵强的角色已设为：院领导。"
    assert (await handler.say("/inbox"))[-1].text != inbox_before
    assert (await clerk.say("/access 查看 赵强"))[-1].text == "赵强：账号状态正常。\n角色：院领导。\n已绑定的账号：test。"
    assert "roles_set" in await audit_actions(harness)
    # the words /access show and /help name a role by are the words a clerk may type for it
    assert (await clerk.say("/access 角色 赵强 院领导、业务部门"))[-1].text == "赵强的角色已设为：承办人、院领导。"
    assert (await clerk.say("/access 角色 赵强 无"))[-1].text == "赵强的角色已设为：无。"
    async with harness.db.snapshot() as q:
        assert await q.all("SELECT role FROM person_roles WHERE person_id = (SELECT id FROM persons WHERE name = '赵强')"
                           ) == []


async def test_unbinding_one_account_ends_it_and_its_dialogue(harness: Harness) -> None:
    """SPEC §2: the office unbinds the deputy's account on one channel: it is a stranger's from the next message;
    the person stays enabled and can be invited again."""
    clerk, deputy, rep = await office_and_deputy(harness)
    await deputy.say("/submit")
    assert (await clerk.say("/access 解绑 王建国 test"))[-1].text == (
        "已解除王建国在test上的账号绑定。如需重新绑定，须另发邀请。")
    assert await harness.count("identities", "person_id = ?", (rep,)) == 0
    assert await harness.count("dialogs") == 0
    assert (await deputy.say("/submit"))[0].text.startswith(UNBOUND)
    again = await deputy.say(f"/start {await harness.invite(rep)}")
    assert "绑定成功" in again[0].text


async def test_what_was_queued_for_an_unbound_account_goes_to_the_persons_other_account(harness: Harness) -> None:
    """A deputy bound on two channels, WeCom used last: a notice is queued to WeCom, then the office unbinds the
    WeCom account (a lost phone). The notice goes to the account that stays, not withdrawn as if the deputy had
    lost access altogether; a press's answer on the old account is withdrawn (it answers nothing there now)."""
    from handlers.people import access
    from storage import people
    from tests.test_dispatch import bound_on_two, notice

    rep, wecom = await bound_on_two(harness)
    await notice(harness, rep, "LS-2026-0001 已答复")
    async with harness.db.transaction() as tx:
        person = await people.get(tx, rep)
        assert person is not None
        await access.unbind(tx, harness.clock.now(), None, person, "wecom", running=frozenset(harness.app.channels))
    await harness.app.dispatcher.flush()
    assert [(s.chat_id, s.text) for s in harness.channel.sent] == [("777", "LS-2026-0001 已答复")]
    assert wecom.sent == []


async def test_an_unbound_accounts_notices_go_whole_to_a_running_channel_and_nothing_else_moves(
        harness: Harness) -> None:
    """What goes to the remaining account: each notice whole, as a new message there (one whose first part reached
    the lost phone goes from its start), and only notices — a reply to the old account's own dialogue is withdrawn
    with it. A remaining account on a channel that does not run gets nothing (it would wait there unseen): the
    notices are withdrawn, as they were before, for the office to see."""
    from handlers.people import access
    from storage import outbox, people
    from tests.test_dispatch import bound_on_two, notice

    rep, _wecom = await bound_on_two(harness)
    await notice(harness, rep, "第一段\n第二段")
    async with harness.db.transaction() as tx:
        first = await q_one(tx, "SELECT id FROM outbox WHERE chat_id = 'wjg'")
        await tx.execute("UPDATE outbox SET result = ? WHERE id = ?",  # its first part went to the lost phone
                         ('{"message_ids": ["wecom-part-1"]}', first))
        await outbox.enqueue(tx, channel="wecom", chat_id="wjg", person_id=rep, op="message", policy="retry",
                             payload=Reply("请填写具体内容").to_json(), now=harness.clock.now(), priority=outbox.ANSWER)
        person = await people.get(tx, rep)
        assert person is not None
        await access.unbind(tx, harness.clock.now(), None, person, "wecom", running=frozenset(harness.app.channels))
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all("SELECT channel, state, result FROM outbox ORDER BY id")]
    assert rows == [("wecom", "failed", '{"message_ids": ["wecom-part-1"]}'), ("wecom", "failed", None),
                    ("test", "pending", None)]

    rep2, _ = await bound_on_two(harness, "王建华", "778", "wjh")
    await notice(harness, rep2, "LS-2026-0002 已答复")
    async with harness.db.transaction() as tx:
        person = await people.get(tx, rep2)
        assert person is not None
        await access.unbind(tx, harness.clock.now(), None, person, "wecom", running=frozenset({"wecom"}))
        assert await q_one(tx, "SELECT COUNT(*) FROM outbox WHERE person_id = ? AND state = 'pending'", (rep2,)) == 0


async def q_one(tx: Any, sql: str, params: tuple[Any, ...] = ()) -> int:
    return int(await tx.scalar(sql, params))


async def test_a_staff_members_new_account_ends_the_old_one_unless_kept(harness: Harness) -> None:
    """Issue 15 item 1: an office clerk who binds a new phone no longer receives anything on the lost one (a
    complainant's name through /case); an invite made with keep_accounts keeps both; a deputy keeps both."""
    clerk_id = await harness.add_staff("陈静", ["office"])
    old = await bound(harness, clerk_id, "3001")
    new = await bound(harness, clerk_id, "3002")
    assert "绑定成功" in new.last
    assert (await old.say("/inbox"))[0].text.startswith(UNBOUND)
    async with harness.db.snapshot() as q:
        rows = await q.all("SELECT action, detail FROM audit_log WHERE action = 'unbound'")
    assert len(rows) == 1 and '"reason":"replaced"' in rows[0]["detail"]

    from handlers.people.binding import create_invite
    async with harness.db.transaction() as tx:
        code = await create_invite(tx, clerk_id, harness.clock.now(), 7, keep_accounts=True)
    third = harness.user("3003")
    await third.say(f"/start {code}")
    assert await harness.count("identities", "person_id = ?", (clerk_id,)) == 2

    rep = await harness.add_representative("王建国")
    await bound(harness, rep, "1001")
    await bound(harness, rep, "1002")
    assert await harness.count("identities", "person_id = ?", (rep,)) == 2


async def test_a_disabled_persons_invite_binds_nothing(harness: Harness) -> None:
    """SPEC §2: an invite made before the disabling does not bind; nothing changed."""
    clerk, _deputy, _rep = await office_and_deputy(harness)
    other = await harness.add_representative("李秀梅", phone="13900000002")
    code = await harness.invite(other)
    await clerk.say("/access 停用 李秀梅")
    before = await harness.dump("identities", "invites", "dialogs", "persons")
    got = await harness.user("1009").say(f"/start {code}")
    assert got[0].text == "您使用本平台的权限已停用。如有疑问，请与本院办公室联系。"
    assert await harness.dump("identities", "invites", "dialogs", "persons") == before


# -- the command line --------------------------------------------------------------------------


def run_cli(config: Path, clock: MovableClock, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["--config", str(config), *argv], clock)
    out, err = capsys.readouterr()
    return status, out + err


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIAISON_TELEGRAM_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndatabase = "{(tmp_path / "liaison.db").as_posix()}"\n'
                    f'files_dir = "{(tmp_path / "files").as_posix()}"\n', encoding="utf-8")
    return path


def test_a_reimported_roster_lists_who_is_missing_and_disables_them_only_when_told(
        cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SPEC §2: a deputy dropped from the re-imported roster is listed; `--disable-missing` disables them (audited);
    the CLI's access commands do what /access does, and refuse with nothing changed."""
    import sqlite3

    clock = MovableClock()
    header = "姓名,类别,界别,单位职务,电话,执法监督员\n"
    first = tmp_path / "roster.csv"
    first.write_text(header + "王建国,人大代表,农业界,村支书,13800000001,否\n李秀梅,政协委员,教育界,教师,13900000002,否\n",
                     encoding="utf-8")
    second = tmp_path / "roster-2.csv"
    second.write_text(header + "王建国,人大代表,农业界,村支书,13800000001,否\n", encoding="utf-8")
    db = tmp_path / "liaison.db"

    def disabled() -> list[str]:
        with sqlite3.connect(db) as conn:
            return [r[0] for r in conn.execute("SELECT name FROM persons WHERE disabled_at IS NOT NULL ORDER BY id")]

    assert run_cli(cli_config, clock, capsys, "import-roster", str(first))[0] == 0
    status, out = run_cli(cli_config, clock, capsys, "import-roster", str(second))
    assert status == 0 and "1 representative(s) no longer on the roster (to disable them: --disable-missing): 李秀梅" in out
    assert disabled() == []
    status, out = run_cli(cli_config, clock, capsys, "import-roster", str(second), "--disable-missing")
    assert status == 0 and "were disabled: 李秀梅" in out
    assert disabled() == ["李秀梅"]
    status, out = run_cli(cli_config, clock, capsys, "access", "disable", "--name", "李秀梅")
    assert status == 1 and "disabled already" in out
    assert run_cli(cli_config, clock, capsys, "access", "enable", "--name", "李秀梅")[0] == 0
    assert disabled() == []
    assert run_cli(cli_config, clock, capsys, "access", "disable", "--name", "王建国")[0] == 0
    assert disabled() == ["王建国"]
    assert run_cli(cli_config, clock, capsys, "staff", "add", "--name", "陈静", "--roles", "office")[0] == 0
    status, out = run_cli(cli_config, clock, capsys, "access", "roles", "--name", "陈静", "--roles", "office,boss")
    assert status == 1 and "Unknown role: boss" in out
    assert run_cli(cli_config, clock, capsys, "access", "roles", "--name", "陈静", "--roles", "leader")[0] == 0
    status, out = run_cli(cli_config, clock, capsys, "access", "unbind", "--name", "陈静", "--channel", "telegram")
    assert status == 1 and "has no account" in out
    with sqlite3.connect(db) as conn:
        roles = [r[0] for r in conn.execute("SELECT role FROM person_roles")]
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert roles == ["leader"]
    assert actions == ["person_disabled", "person_enabled", "person_disabled", "roles_set"]


async def test_disabling_an_urger_names_the_matters_to_reassign(harness: Harness) -> None:
    """SPEC §5 (seed §13 专人催办): a disabled office clerk's reminders would go nowhere: the office is told which
    open matters they urge, to give them to someone else."""
    clerk, deputy, _rep = await office_and_deputy(harness)
    urger_id = await harness.add_staff("周敏", ["office"])
    await bound(harness, urger_id, "3002")
    await submit_suggestion(deputy)
    async with harness.db.transaction() as tx:
        await tx.execute("UPDATE matters SET urger_id = ?", (urger_id,))
    told = await clerk.say("/access 停用 周敏")
    assert told[-1].text.endswith("周敏是以下未办结事项的催办人，请另行指定：LS-2026-0001。")
