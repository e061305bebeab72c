"""Units (issue 17, docs/design-units.md, green step 1 continued): a second unit of the deployment has its own
departments (their names unique within the unit: both have a 第一检察部) and its own staff, added with `--unit`
on the command line; a matter's notices, choices and reminders stay within its unit — a county's new matter is told
to the county's office, assigned among the county's departments, urged by the county's staff, and never shown to
another unit's. Until memberships (step 2) a representative's unit is their row's `unit_id`."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.messages import Reply
from bot.model import UnitScope
from storage import migrate, people, units
from storage.db import Database
from tests.cast import (STALE, TABLES, Cast, People, appeal_up_to_the_dispute, at, refuses_forged_choices,
                        submit_suggestion)
from tests.fakes import Harness, MovableClock, User

START = datetime(2026, 12, 1, tzinfo=UTC)


async def _lb(harness: Harness) -> int:
    async with harness.db.transaction() as tx:
        return (await units.add(tx, "灵宝市人民检察院", "LB", None, "Asia/Shanghai", START)).id  # LS's neighbour


class County(People):
    """The second unit's people: an office, a handler and a head in its own 第一检察部, discipline, a leader and a
    deputy of its congress."""

    async def setup(self, unit: int) -> None:
        h = self.h
        self.dept1 = await h.add_department("第一检察部", unit=unit)
        self.office = await self.bind(await h.add_staff("李娜", ["office"], unit=unit), "7001")
        self.handler = await self.bind(await h.add_staff("赵强", ["handler"], "第一检察部", unit=unit), "7002")
        self.head = await self.bind(await h.add_staff("钱军", ["head"], "第一检察部", unit=unit), "7003")
        self.discipline = await self.bind(await h.add_staff("冯丽", ["discipline"], unit=unit), "7004")
        self.leader = await self.bind(await h.add_staff("韩涛", ["leader"], unit=unit), "7005")
        self.deputy = await self.bind(await h.add_representative("张华", phone="13800000009", unit=unit), "7006")


async def two_units(harness: Harness) -> tuple[Cast, County, int]:
    """LS's people (tests/cast.py's Cast) and LB's (County), each bound to their chats; LB's unit id."""
    ls = Cast(harness)
    await ls.setup()
    lb = await _lb(harness)
    county = County(harness)
    await county.setup(lb)
    return ls, county, lb


async def _county_suggestion(harness: Harness) -> tuple[Cast, County, int]:
    """LS's people, LB's, and LB's deputy's suggestion LB-2026-0001, registered."""
    ls, county, lb = await two_units(harness)
    await submit_suggestion(county.deputy)
    return ls, county, lb


def _mentions(user: User, since: int, text: str) -> bool:
    return any(text in s.text for s in user.received[since:])


def _counts(*users: User) -> dict[str, int]:
    """How many messages each user has had so far, by chat: what came after is what a step sent them."""
    return {u.user_id: len(u.received) for u in users}


async def test_two_units_each_have_a_first_department_and_a_unit_has_it_once(harness: Harness) -> None:
    lb = await _lb(harness)
    ls_dept = await harness.add_department("第一检察部")
    lb_dept = await harness.add_department("第一检察部", unit=lb)
    assert ls_dept != lb_dept
    async with harness.db.snapshot() as q:
        assert await people.departments(q, UnitScope.of(1)) == [(ls_dept, "第一检察部")]
        assert await people.departments(q, UnitScope.of(lb)) == [(lb_dept, "第一检察部")]
        assert await people.department_by_name(q, UnitScope.of(lb), "第一检察部") == lb_dept
    before = await harness.dump("departments")
    with pytest.raises(Exception) as refused:  # the engine's own refusal: (unit, name) is unique
        await harness.add_department("第一检察部", unit=lb)
    assert "unique" in str(refused.value).lower()
    assert await harness.dump("departments") == before


async def test_a_county_matter_stays_within_the_county(harness: Harness) -> None:
    """Its office is told, not the other unit's; the office assigns it among its own departments and names its own
    urger; its department's handler is told; the other unit's handlers of a department of the same name are not."""
    ls, county, lb = await two_units(harness)
    ls_staff = (ls.office, ls.handler1, ls.discipline, ls.leader)
    ls_seen = _counts(*ls_staff)

    await submit_suggestion(county.deputy)
    assert _mentions(county.deputy, 0, "LB-2026-0001")
    assert _mentions(county.office, 0, "LB-2026-0001")  # its office is told of the new matter
    assert not any(_mentions(u, ls_seen[u.user_id], "LB-2026-0001") for u in ls_staff)

    await county.office.say("/case LB-2026-0001")
    await county.office.press("交办")
    assert "第二检察部" not in county.office.last_buttons()  # LS's; the county has only its own 第一检察部
    await county.office.press("第一检察部")
    assert "陈静" not in county.office.last_buttons()  # the urger is one of the county's office
    await county.office.press("李娜")
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT unit_id, department_id, urger_id FROM matters WHERE number = 'LB-2026-0001'")
        assert row is not None and tuple(row)[:2] == (lb, county.dept1)
    assert _mentions(county.handler, 0, "LB-2026-0001")
    assert not any(_mentions(u, ls_seen[u.user_id], "LB-2026-0001") for u in ls_staff)
    assert not _mentions(ls.handler1, 0, "LB-2026-0001")  # LS's 第一检察部 is another department


async def test_another_units_department_pressed_on_an_assignment_is_refused(harness: Harness) -> None:
    ls, county, _ = await _county_suggestion(harness)
    await county.office.say("/case LB-2026-0001")
    await county.office.press("交办")
    offered = [data for s in reversed(county.office.received) for label, data in s.buttons if label == "第一检察部"][0]
    assert offered.endswith(str(county.dept1))
    forged = re.sub(r"\d+$", str(ls.dept2), offered)  # LS's 第二检察部, staffed, pressed in LB's dialogue
    before = await harness.dump(*TABLES)
    answered = await county.office.press_data(forged)
    assert [s.text for s in answered] == [STALE]  # not among those offered: as if there were none
    assert await harness.dump(*TABLES) == before


async def test_a_representative_of_another_unit_cannot_be_registered_for(harness: Harness) -> None:
    """The office registers on behalf of its own unit's representatives only; searching finds none of another's."""
    ls = Cast(harness)
    await ls.setup()
    lb = await _lb(harness)
    await harness.add_representative("张华", phone="13800000009", unit=lb)
    await ls.office.say("/register")
    found = await ls.office.say("张华")
    assert not any("张华" in label for s in found for label, _ in s.buttons)
    assert not any("张华" in label for label in ls.office.last_buttons())


async def test_the_sweep_reminds_each_units_own_staff(harness: Harness) -> None:
    """§12 §13 §16: an overdue county matter reaches the county's department, office and discipline inspection; the
    monthly bulletin of each unit goes to its own departments and leaders, under keys of their own."""
    ls, county, lb = await _county_suggestion(harness)
    await county.office.say("/case LB-2026-0001")
    await county.office.press("交办")
    await county.office.press("第一检察部")
    await county.office.press("李娜")
    seen = _counts(ls.office, ls.handler1, ls.handler2, ls.discipline, ls.leader,
                   county.office, county.handler, county.discipline, county.leader)
    async with harness.db.transaction() as tx:  # its due date passed eleven days before the tick
        await tx.execute("UPDATE matters SET due_date = '2026-12-10' WHERE number = 'LB-2026-0001'")
    harness.clock.set(at(date(2026, 12, 21), 10))  # a Monday
    await harness.app.supervise()
    await harness.app.settle()
    for user in (county.office, county.handler, county.discipline):
        assert _mentions(user, seen[user.user_id], "LB-2026-0001"), user.user_id  # overdue: both lines
    for user in (ls.office, ls.handler1, ls.handler2, ls.discipline, ls.leader):
        assert not _mentions(user, seen[user.user_id], "LB-2026-0001"), user.user_id
    async with harness.db.snapshot() as q:
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE key LIKE '%bulletin:%' ORDER BY key")]
    assert keys == ["bulletin:2026-12", f"unit{lb}:bulletin:2026-12"]  # unit 1's as before units
    async with harness.db.snapshot() as q:  # §6: each unit's office warned of its own supervisors' number
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE key LIKE '%supervisors:%' ORDER BY key")]
    assert keys == ["supervisors:2026-12", f"unit{lb}:supervisors:2026-12"]
    async with harness.db.snapshot() as q:  # each reminder recorded as its unit's: the matter's, else the unit's own
        fired = [tuple(r) for r in await q.all("SELECT r.key, r.unit_id, m.unit_id FROM reminders r"
                                               " LEFT JOIN matters m ON m.id = r.matter_id")]
    assert fired and all(unit == (matter_unit or (lb if key.startswith(f"unit{lb}:") else 1))
                         for key, unit, matter_unit in fired), fired
    assert any(unit == lb and matter_unit == lb for _key, unit, matter_unit in fired)  # the overdue LB matter
    [county_bulletin] = _starting(county.leader, seen, "办理进展情况定期通报（2026年12月）")
    assert "第一检察部：在办 1 件" in county_bulletin and "第二检察部" not in county_bulletin
    [ls_bulletin] = _starting(ls.leader, seen, "办理进展情况定期通报（2026年12月）")
    assert "第一检察部：在办 0 件" in ls_bulletin and "第二检察部：在办 0 件" in ls_bulletin
    # the leaders' monthly digest, each unit's its own: the county's lists its overdue matter, LS's does not
    [county_digest] = _starting(county.leader, seen, "联络工作月报")
    assert "LB-2026-0001" in county_digest and "已联系代表委员 0/1 名" in county_digest
    [ls_digest] = _starting(ls.leader, seen, "联络工作月报")
    assert "LB-2026-0001" not in ls_digest


def _starting(user: User, seen: dict[str, int], head: str) -> list[str]:
    return [s.text for s in user.received[seen[user.user_id]:] if s.text.startswith(head)]


# -- the command line ------------------------------------------------------------------------------


def _command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], more: str = "") -> Callable[..., tuple[int, str]]:
    """`python -m bot ARGS` on a configuration of LS's own in `tmp_path` (and `more` of it): (exit code, what it
    printed)."""
    from bot.__main__ import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "data" / "liaison.db"}"\n'
                      f'files_dir = "{tmp_path / "files"}"\nkey_file = "{tmp_path / "liaison.key"}"\n'
                      '[unit]\nname = "卢氏县人民检察院"\nmatter_prefix = "LS"\n' + more, "utf-8")

    def run(*argv: str) -> tuple[int, str]:
        code = main(["--config", str(config), *argv], MovableClock())
        printed = capsys.readouterr()
        return code, printed.out + printed.err

    return run


def test_department_and_staff_add_take_the_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _command_line(tmp_path, capsys)
    assert run("department", "add", "第一检察部")[0] == 0  # one unit: no --unit needed
    assert run("unit", "add", "--name", "灵宝市人民检察院", "--prefix", "LB", "--parent", "LS")[0] == 0
    code, out = run("department", "add", "第二检察部")
    assert code != 0 and "--unit" in out and "LB 灵宝市人民检察院" in out  # several: never a guess
    assert run("department", "add", "第一检察部", "--unit", "LB")[0] == 0
    code, out = run("department", "add", "第一检察部", "--unit", "LB")
    assert code != 0 and "exists already" in out
    code, out = run("department", "add", "第一检察部", "--unit", "XX")
    assert code != 0 and "no unit has the prefix XX" in out
    code, out = run("staff", "add", "--name", "赵强", "--roles", "handler", "--department", "第一检察部", "--unit", "LB")
    assert code == 0 and "of LB" in out
    code, out = run("staff", "add", "--name", "王芳", "--roles", "handler", "--department", "第二检察部", "--unit", "LB")
    assert code != 0 and "LB has no department 第二检察部; add it first: department add 第二检察部 --unit LB" in out
    database = sqlite3.connect(tmp_path / "data" / "liaison.db")
    try:
        assert database.execute("SELECT d.unit_id, d.name FROM departments d ORDER BY d.id").fetchall() == \
            [(1, "第一检察部"), (2, "第一检察部")]
        assert database.execute("SELECT p.name, p.unit_id, d.unit_id FROM persons p JOIN departments d"
                                " ON d.id = p.department_id").fetchall() == [("赵强", 2, 2)]
    finally:
        database.close()


# -- the migration runner's rebuilds ------------------------------------------------------------


def _migrations(folder: Path, second: str) -> Path:
    folder.mkdir()
    (folder / "0001_first.sql").write_text(
        "CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n"
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id));\n"
        "INSERT INTO parents (id, name) VALUES (1, 'a'), (2, 'b');\n"
        "INSERT INTO children (parent_id) VALUES (1), (2);\n", "utf-8")
    (folder / "0002_rebuild.sql").write_text(second, "utf-8")
    return folder


REBUILD = ("-- foreign keys off\n"
           "CREATE TABLE parents_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, unit INTEGER NOT NULL DEFAULT 1,"
           " UNIQUE (unit, name));\n"
           "INSERT INTO parents_new (id, name) SELECT id, name FROM parents{where};\n"
           "DROP TABLE parents;\n"
           "ALTER TABLE parents_new RENAME TO parents;\n")


async def test_a_rebuilding_migration_runs_with_foreign_keys_off_and_keeps_every_reference(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    try:
        assert await migrate.migrate(db, START, _migrations(tmp_path / "m", REBUILD.format(where=""))) == \
            ["0001_first.sql", "0002_rebuild.sql"]
        async with db.transaction() as tx:
            assert await tx.scalar("PRAGMA foreign_keys") == 1  # on again
            await tx.execute("INSERT INTO parents (name, unit) VALUES ('a', 2)")  # the new UNIQUE
            assert [tuple(r) for r in await tx.all("SELECT c.id, p.name FROM children c JOIN parents p"
                                                   " ON p.id = c.parent_id ORDER BY c.id")] == [(1, "a"), (2, "b")]
            with pytest.raises(sqlite3.IntegrityError):  # and enforced
                await tx.execute("INSERT INTO children (parent_id) VALUES (99)")
    finally:
        await db.close()


async def test_a_rebuild_that_would_break_a_reference_is_refused_and_nothing_of_it_kept(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    folder = _migrations(tmp_path / "m", REBUILD.format(where=" WHERE id = 1"))  # parent 2 lost: a child orphaned
    try:
        with pytest.raises(migrate.MigrationError, match="0002_rebuild.sql would break a reference"):
            await migrate.migrate(db, START, folder)
        async with db.transaction() as tx:
            assert await tx.scalar("PRAGMA foreign_keys") == 1
            assert [r[0] for r in await tx.all("SELECT version FROM schema_migrations")] == [1]
            assert [tuple(r) for r in await tx.all("SELECT * FROM parents ORDER BY id")] == [(1, "a"), (2, "b")]
            with pytest.raises(sqlite3.IntegrityError):  # 0001's UNIQUE (name) as it was
                await tx.execute("INSERT INTO parents (name) VALUES ('a')")
    finally:
        await db.close()


def test_events_contacts_and_reports_from_the_command_line_are_a_units_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`event add`, `import-contacts` and `report` act within the unit `--unit` names; with several units and no
    `--unit` they refuse to guess, and the event invites only that unit's representatives."""
    run = _command_line(tmp_path, capsys)
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,类别,界别,电话\n王建国,人大代表,农业界,13800000001\n", "utf-8")
    assert run("import-roster", str(roster))[0] == 0  # LS's deputy
    assert run("unit", "add", "--name", "灵宝市人民检察院", "--prefix", "LB", "--parent", "LS")[0] == 0
    assert run("staff", "add", "--name", "李娜", "--roles", "office", "--unit", "LB")[0] == 0
    lb_roster = tmp_path / "lb.csv"
    lb_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,教育界,13800000009\n", "utf-8")
    assert run("import-roster", str(lb_roster), "--unit", "LB")[0] == 0  # LB's deputy
    database = sqlite3.connect(tmp_path / "data" / "liaison.db")
    try:
        event = ["event", "add", "--kind", "forum", "--title", "座谈会", "--at", "2099-01-15 09:30",
                 "--place", "会议室", "--invite", "all"]
        code, out = run(*event)
        assert code != 0 and "--unit" in out
        code, out = run(*event, "--unit", "LB")
        assert code == 0 and "1 invited" in out
        assert database.execute("SELECT e.unit_id, p.name FROM events e JOIN invitations i ON i.event_id = e.id"
                                " JOIN persons p ON p.id = i.person_id").fetchall() == [(2, "张华")]
        contacts = tmp_path / "contacts.csv"
        contacts.write_text("姓名,方式,日期,工作人员,备注\n张华,座谈会,2026-06-20,李娜,\n", "utf-8")
        code, out = run("import-contacts", str(contacts), "--unit", "LS")
        assert code != 0 and "张华" in out  # not LS's representative, nor 李娜 LS's staff
        assert run("import-contacts", str(contacts), "--unit", "LB") == (0, "imported 1 rows: 1 contacts added, "
                                                                            "0 already recorded\n")
        assert database.execute("SELECT unit_id FROM contacts").fetchall() == [(2,)]
        code, out = run("report", "ledger", "2026", "--out", str(tmp_path / "ledger.xlsx"))
        assert code != 0 and "--unit" in out
        code, out = run("report", "ledger", "2026", "--out", str(tmp_path / "ledger.xlsx"), "--unit", "LB")
        assert code == 0 and "0 matters" in out
        code, out = run("report", "half-year", "2026H2", "--out", str(tmp_path / "lb.docx"), "--unit", "LB")
        assert code == 0 and (tmp_path / "lb.docx").exists()
    finally:
        database.close()


def test_each_unit_imports_its_own_roster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two counties each have a 张华 (a name is a unit's own); re-importing LB's roster updates LB's and disables
    only LB's missing; a phone on another unit's roster makes that person a member of LB too (one person, a
    membership per unit, found again by its own key), whatever key the first unit keeps them under; taking them off
    one unit's roster ends that membership and disables nobody."""
    run = _command_line(tmp_path, capsys)
    ls_roster, lb_roster = tmp_path / "ls.csv", tmp_path / "lb.csv"
    ls_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,农业界,\n王建国,人大代表,农业界,13800000001\n", "utf-8")
    lb_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,教育界,\n李娜,政协委员,教育界,\n", "utf-8")
    assert run("import-roster", str(ls_roster))[0] == 0
    assert run("unit", "add", "--name", "灵宝市人民检察院", "--prefix", "LB", "--parent", "LS")[0] == 0
    code, out = run("import-roster", str(lb_roster))
    assert code != 0 and "--unit" in out
    assert run("import-roster", str(lb_roster), "--unit", "LB") == (0, "imported 2 rows: 2 added, 0 updated, "
                                                                        "0 unchanged\n")
    database = sqlite3.connect(tmp_path / "data" / "liaison.db")
    try:
        def roster() -> list[tuple[object, ...]]:
            return database.execute("SELECT name, sector, unit_id, disabled_at IS NOT NULL FROM persons"
                                    " ORDER BY unit_id, name").fetchall()

        assert roster() == [("张华", "农业界", 1, 0), ("王建国", "农业界", 1, 0), ("张华", "教育界", 2, 0),
                            ("李娜", "教育界", 2, 0)]
        lb_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,科技界,\n", "utf-8")
        code, out = run("import-roster", str(lb_roster), "--unit", "LB", "--disable-missing")
        assert code == 0 and "1 updated" in out and "李娜" in out and "王建国" not in out
        assert roster() == [("张华", "农业界", 1, 0), ("王建国", "农业界", 1, 0), ("张华", "科技界", 2, 0),
                            ("李娜", "教育界", 2, 1)]
        before = roster()
        lb_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,科技界,\n赵敏,政协委员,教育界,\n"
                             "王建国,人大代表,农业界,13800000001\n", "utf-8")
        code, out = run("import-roster", str(lb_roster), "--unit", "LB")
        assert (code, out) == (0, "imported 3 rows: 1 added, 0 updated, 1 unchanged, 1 already on another unit's "
                                  "roster (by the phone number) now on LB's too: 王建国\n")
        assert roster() == [*before, ("赵敏", "教育界", 2, 0)]  # 王建国: one person

        def memberships() -> list[tuple[object, ...]]:
            return database.execute("SELECT p.name, m.unit_id, m.body, m.sector FROM memberships m"
                                    " JOIN persons p ON p.id = m.person_id ORDER BY p.name, m.unit_id").fetchall()

        assert memberships() == [("王建国", 2, "npc", "农业界")]
        code, out = run("import-roster", str(lb_roster), "--unit", "LB")
        assert (code, out) == (0, "imported 3 rows: 0 added, 0 updated, 3 unchanged\n")  # found again
        lb_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,科技界,\n赵敏,政协委员,教育界,\n"
                             "王建国,政协委员,科技界,13800000001\n", "utf-8")
        assert run("import-roster", str(lb_roster), "--unit", "LB") == (
            0, "imported 3 rows: 0 added, 1 updated, 2 unchanged\n")
        assert memberships() == [("王建国", 2, "cppcc", "科技界")]  # LB's own body and sector
        assert roster()[1] == ("王建国", "农业界", 1, 0)  # LS's untouched
        lb_roster.write_text("编号,姓名,类别,界别,电话\n17,孙丽,政协委员,教育界,13800000017\n", "utf-8")
        code, out = run("import-roster", str(lb_roster), "--unit", "LB", "--disable-missing")
        assert code == 0 and "赵敏" in out and "were disabled" in out  # on LB's roster only
        assert "1 representative(s) no longer on LB's roster and still on another unit's were taken off LB's only: 王建国" in out
        assert memberships() == [] and roster()[1] == ("王建国", "农业界", 1, 0)  # not disabled
        ls_roster.write_text("姓名,类别,界别,电话\n张华,人大代表,农业界,\n王建国,人大代表,农业界,13800000001\n"
                             "孙丽,政协委员,教育界,13800000017\n", "utf-8")
        code, out = run("import-roster", str(ls_roster), "--unit", "LS")
        assert code == 0 and "1 already on another unit's roster" in out  # found by the phone, whatever her key
        assert memberships() == [("孙丽", 1, "cppcc", "教育界")]
    finally:
        database.close()


async def test_the_office_manages_access_of_its_own_units_people_only(harness: Harness) -> None:
    """/access and /wecom find people by name within the office's own unit: LB's office cannot disable LS's deputy
    or take LS's office's roles (nothing changed); a disabled LB deputy's notices go to LB's office, not LS's."""
    ls, county, lb = await two_units(harness)
    before = await harness.dump(*TABLES, "person_roles", "identities")
    for command, name in (("/access 停用 王建国", "王建国"), ("/access 停用 陈静", "陈静"),
                          ("/wecom 陈静 zhangsan", "陈静")):
        answered = await county.office.say(command)
        assert answered[-1].text == f"名册和工作人员名单中没有名为{name}的人员。", command
    assert await harness.dump(*TABLES, "person_roles", "identities") == before
    await submit_suggestion(county.deputy)  # LB-2026-0001
    await county.office.say("/access 停用 张华")  # LB's own deputy
    seen = _counts(ls.office, county.office)
    async with harness.db.snapshot() as q:
        person = await q.one("SELECT id, disabled_at FROM persons WHERE name = '张华'")
        matter_id = await q.scalar("SELECT id FROM matters WHERE number = 'LB-2026-0001'")
    assert person is not None and person["disabled_at"] is not None
    # a notice the bot owes the disabled deputy about their matter (from the sweep, acting as unit 1) goes to their
    # unit's office, to be passed on
    from handlers.oversight.sweep import system_context

    async with harness.db.transaction() as tx:
        ctx = system_context(tx, harness.clock.now(), harness.app.config, frozenset({"test"}))
        assert ctx.scope.unit == 1
        assert await ctx.notify(int(person["id"]), lambda _: Reply("测试通知"), matter_id=int(matter_id))
    await harness.app.settle()
    forwarded = [s.text for s in county.office.received[seen[county.office.user_id]:]]
    assert any(t.startswith("张华的账号已停用") and "测试通知" in t for t in forwarded)
    assert not any("测试通知" in s.text for s in ls.office.received[seen[ls.office.user_id]:])


async def test_an_appeal_names_only_a_department_of_its_own_unit(harness: Harness) -> None:
    """§14: the department whose handling an appeal disputes is one of the unit's own: LS's, pressed in LB's
    dialogue, is refused and changes nothing."""
    ls, county, _ = await two_units(harness)
    d = county.deputy
    await appeal_up_to_the_dispute(d)
    await d.press("是")
    assert d.last_buttons()[:1] == ["第一检察部"] and "第二检察部" not in d.last_buttons()  # LB's only
    await refuses_forged_choices(harness, d, (f"dept{ls.dept1}", f"dept{ls.dept2}"), ("dialogs", *TABLES))


def test_a_units_papers_carry_its_own_number_addressee_and_regulation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§17: the half-year report a county sends up carries its own name, document number, addressee and regulation;
    a new unit's number leaves the abbreviation blank (never unit 1's 卢检), its addressee the unit above it;
    `unit set` gives its own; unit 1's follow the configuration."""
    import docx

    run = _command_line(tmp_path, capsys, '[report]\nsigner = "张签"\ncopy_to = "卢氏县人大常委会"\n')
    code, out = run("unit", "add", "--name", "洛阳市人民检察院", "--prefix", "LY", "--timezone", "Asia/Urumqi")
    assert code != 0 and "share its time zone ([unit] timezone = Asia/Shanghai)" in out  # one time zone: refused
    code, out = run("unit", "list")
    assert "洛阳" not in out  # nothing added
    code, out = run("unit", "add", "--name", "洛阳市人民检察院", "--prefix", "LY", "--timezone", "Asia/Shanghai")
    assert code == 0 and "unit set LY --regulation" in out  # told its papers cite [terms]' regulation until then
    assert run("unit", "add", "--name", "灵宝市人民检察院", "--prefix", "LB", "--parent", "LY")[0] == 0

    def papers(prefix: str) -> str:
        out = tmp_path / f"{prefix}.docx"
        code, printed = run("report", "half-year", "2026H2", "--out", str(out), "--unit", prefix)
        assert code == 0, printed
        document = docx.Document(str(out))
        return "\n".join([p.text for p in document.paragraphs] +
                         [c.text for t in document.tables for r in t.rows for c in r.cells])

    page = papers("LB")
    assert "灵宝市人民检察院文件" in page and "〔2026〕　号" in page and "卢检" not in page
    assert "洛阳市人民检察院：" in page and "三门峡" not in page  # the unit above it, not [report]'s addressee
    assert "张签" not in page and "卢氏县人大常委会" not in page  # unit 1's signer and copies are not LB's
    assert "灵宝市人民检察院办公室" in page  # its own office issues it
    assert "洛阳市人民检察院：" not in papers("LY") and "三门峡市人民检察院：" not in papers("LY")  # the top: none
    code, out = run("unit", "set", "LB", "--document-number", "灵检〔{year}〕　号",
                    "--regulation", "灵宝市人民检察院联系人大代表政协委员工作办法")
    assert code == 0 and "document_number 灵检〔{year}〕　号" in out
    page = papers("LB")
    assert "灵检〔2026〕　号" in page and "《灵宝市人民检察院联系人大代表政协委员工作办法》" in page
    code, out = run("unit", "set", "LS", "--addressee", "别处")
    assert code != 0 and "[report] and [terms]" in out
    assert "卢检〔2026〕　号" in papers("LS") and "张签" in papers("LS")  # unit 1's, from the configuration
    code, out = run("unit", "set", "LB")
    assert code != 0 and "nothing to set" in out
    assert run("unit", "set", "LB", "--addressee", "某处")[0] == 0 and "某处：" in papers("LB")
    assert run("unit", "set", "LB", "--addressee", "-")[0] == 0 and "洛阳市人民检察院：" in papers("LB")  # back
