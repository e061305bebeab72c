"""SPEC §2, §8: the operator's command line `python -m bot [--config PATH] [--json] COMMAND`.

`bot.__main__.main` runs in-process against a configuration file in tmp_path whose database
and files folder are in tmp_path too; afterwards the SQLite file is read with the stdlib
`sqlite3` to check exactly what the command wrote (and, when it refused, that it wrote nothing).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.__main__ import main
from bot.sealing import PHONE, Sealer
from bot.app import App
from bot.config import TOKEN_ENV, load
from tests.fakes import Harness, MovableClock, RecordingChannel

REPO = Path(__file__).resolve().parents[1]
BOT_USERNAME = "LushiJcyLiaisonBot"
CODE = re.compile(r"code: ([A-Za-z0-9_-]{22})\n")

CSV_HEADER = "姓名,类别,界别,单位职务,电话,执法监督员\n"
ROSTER_CSV = CSV_HEADER + (
    "王建国,人大代表,农业界,卢氏县横涧乡某村党支部书记,138 0000 0001,是\n"
    "李秀梅,政协委员,教育界,卢氏县第一高级中学教师,+86 139-0000-0002,否\n"
    "张伟,人大,,卢氏县人民医院医生,,\n"
)
# (name, body, sector, organization, phone, supervisor, roster_key) as the import stores them
ROSTER_ROWS = [
    ("王建国", "npc", "农业界", "卢氏县横涧乡某村党支部书记", "13800000001", 1, "phone:13800000001"),
    ("李秀梅", "cppcc", "教育界", "卢氏县第一高级中学教师", "13900000002", 0, "phone:13900000002"),
    ("张伟", "npc", "", "卢氏县人民医院医生", "", 0, "name:npc:张伟"),
]
PERSON_COLUMNS = "name, body, sector, organization, phone, supervisor, roster_key"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No token from the real environment, and no config.toml picked up from the working folder."""
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[storage]\n"
        f"database = {json.dumps((tmp_path / 'liaison.db').as_posix())}\n"
        f"files_dir = {json.dumps((tmp_path / 'files').as_posix())}\n"
        "[telegram]\n"
        f'bot_username = "{BOT_USERNAME}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "liaison.db"


@pytest.fixture
def cli(config_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    yield Cli(config_path, capsys)


class Cli:
    """Runs `main` with the test's configuration and returns (exit status, stdout, stderr)."""

    def __init__(self, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config_path = config_path
        self.capsys = capsys
        self.clock = MovableClock()  # the command line's clock too: no test reads the machine's date

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop anything printed before
        status = main(["--config", str(self.config_path), *argv], self.clock)
        out, err = self.capsys.readouterr()
        return status, out, err

    def json(self, *argv: str) -> tuple[int, dict[str, Any]]:
        status, out, err = self(*argv, "--json")
        text = out if status == 0 else err
        assert text.endswith("\n") and text.count("\n") == 1, text  # one JSON object on one line
        value = json.loads(text)
        assert isinstance(value, dict)
        return status, value


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def persons(db: Path, with_id: bool = False) -> list[tuple[Any, ...]]:
    """The persons as the roster reads: the phone opened, a phone key shown as the number it digests (both
    are sealed at rest, issue 15 item 5: the raw columns never hold a number)."""
    sealer = Sealer.from_text((db.parent / "liaison.key").read_text("ascii"))
    out = []
    for row in query(db, f"SELECT id, {PERSON_COLUMNS} FROM persons ORDER BY id"):
        person_id, *head, phone, supervisor, key = row
        head = [person_id, *head] if with_id else head
        assert not phone[:1].isdigit()  # sealed, or empty
        opened = sealer.open(phone, PHONE)
        if key and key.startswith("phone:"):
            assert key == "phone:" + sealer.digest(opened, PHONE)
            key = "phone:" + opened
        out.append((*head, opened, supervisor, key))
    return out


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compare before and after to prove nothing changed."""
    tables = [t for (t,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: query(db, f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def write_csv(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "roster.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# -- import-roster -----------------------------------------------------------------------------


def test_import_csv_adds_every_row(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    status, out, err = cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    assert (status, out, err) == (0, "imported 3 rows: 3 added, 0 updated, 0 unchanged\n", "")
    assert persons(db_path) == ROSTER_ROWS
    assert query(db_path, "SELECT COUNT(*) FROM person_roles") == [(0,)]  # representatives hold no staff role


def test_reimport_of_a_changed_csv_updates_and_never_duplicates(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    ids = query(db_path, "SELECT id, name FROM persons ORDER BY id")
    changed = CSV_HEADER + (
        "王建国,人大代表,农业界,卢氏县官道口镇人大主席团,13800000001,是\n"  # organization changed
        "李秀梅,政协委员,教育界,卢氏县第一高级中学教师,13900000002,是\n"  # now a supervisor
        "张伟,人大代表,,卢氏县人民医院医生,,否\n"  # the same, spelled differently
    )
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, changed, "roster-2.csv")))
    assert (status, out) == (0, "imported 3 rows: 0 added, 2 updated, 1 unchanged\n")
    assert persons(db_path) == [
        ("王建国", "npc", "农业界", "卢氏县官道口镇人大主席团", "13800000001", 1, "phone:13800000001"),
        ("李秀梅", "cppcc", "教育界", "卢氏县第一高级中学教师", "13900000002", 1, "phone:13900000002"),
        ROSTER_ROWS[2],
    ]
    assert query(db_path, "SELECT id, name FROM persons ORDER BY id") == ids
    # the same file once more changes nothing at all
    before = dump(db_path)
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, changed, "roster-2.csv")))
    assert (status, out) == (0, "imported 3 rows: 0 added, 0 updated, 3 unchanged\n")
    assert dump(db_path) == before


def test_reimport_adds_only_the_new_person(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    more = ROSTER_CSV + "赵敏,政协委员,经济界,卢氏县某公司经理,13700000004,否\n"
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, more, "roster-2.csv")))
    assert (status, out) == (0, "imported 4 rows: 1 added, 0 updated, 3 unchanged\n")
    assert persons(db_path) == [*ROSTER_ROWS,
                                ("赵敏", "cppcc", "经济界", "卢氏县某公司经理", "13700000004", 0, "phone:13700000004")]


def test_reimport_with_a_changed_phone_updates_the_same_person(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    changed = ROSTER_CSV.replace("138 0000 0001", "13600000009")
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, changed, "roster-2.csv")))
    assert (status, out) == (0, "imported 3 rows: 0 added, 1 updated, 2 unchanged\n")
    assert [(p[0], p[5]) for p in persons(db_path, with_id=True) if p[1] == "王建国"] == [(1, "13600000009")]


def test_import_xlsx_with_english_header(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Name", "Body", "Sector", "Organization", "Phone", "Supervisor"],
        ["Wang Jianguo", "NPC deputy", "Agriculture", "Village committee", 13800000011, "yes"],
        ["Li Xiumei", "cppcc", "Education", "No. 1 High School", "13900000012", "no"],
    ]
    status, out, err = cli("import-roster", str(write_xlsx(tmp_path, rows)))
    assert (status, out, err) == (0, "imported 2 rows: 2 added, 0 updated, 0 unchanged\n", "")
    assert persons(db_path) == [
        ("Wang Jianguo", "npc", "Agriculture", "Village committee", "13800000011", 1, "phone:13800000011"),
        ("Li Xiumei", "cppcc", "Education", "No. 1 High School", "13900000012", 0, "phone:13900000012"),
    ]
    rows[1][3] = "Township people's congress"  # organization changed
    rows[2][5] = "yes"  # now a supervisor
    status, out, _ = cli("import-roster", str(write_xlsx(tmp_path, rows, "roster-2.xlsx")))
    assert (status, out) == (0, "imported 2 rows: 0 added, 2 updated, 0 unchanged\n")
    assert persons(db_path) == [
        ("Wang Jianguo", "npc", "Agriculture", "Township people's congress", "13800000011", 1, "phone:13800000011"),
        ("Li Xiumei", "cppcc", "Education", "No. 1 High School", "13900000012", 1, "phone:13900000012"),
    ]


def test_import_json_output(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ROSTER_CSV)
    assert cli.json("import-roster", str(path)) == (0, {
        "ok": True, "message": "imported 3 rows: 3 added, 0 updated, 0 unchanged",
        "added": 3, "updated": 0, "unchanged": 0, "joined": 0, "missing": [], "disabled": False,
        "bound": 0, "not_bound": [],
    })
    assert cli.json("import-roster", str(path)) == (0, {
        "ok": True, "message": "imported 3 rows: 0 added, 0 updated, 3 unchanged",
        "added": 0, "updated": 0, "unchanged": 3, "joined": 0, "missing": [], "disabled": False,
        "bound": 0, "not_bound": [],
    })


def test_file_with_bad_rows_lists_every_problem_and_imports_nothing(cli: Cli, tmp_path: Path,
                                                                    db_path: Path) -> None:
    bad = (
        "姓名,类别,电话,执法监督员\n"
        "王建国,人大代表,13800000001,是\n"  # line 2: good
        ",人大代表,13800000002,否\n"  # line 3: no name
        "李秀梅,委员,13800000003,否\n"  # line 4: not a body
        "张伟,政协委员,12345,否\n"  # line 5: not a phone number
        "赵敏,政协委员,13800000006,可能\n"  # line 6: not yes/no
        "孙丽,人大代表,13800000001,否\n"  # line 7: the phone of line 2 again
    )
    status, out, err = cli("import-roster", str(write_csv(tmp_path, bad)))
    assert (status, out) == (1, "")
    assert err == (
        "nothing imported; the file has problems:\n"
        "line 3: name is missing\n"
        "line 4: '委员' is not 人大代表/政协委员 (npc/cppcc)\n"
        "line 5: '12345' is not a phone number\n"
        "line 6: '可能' is not 是/否 (yes/no)\n"
        "line 7: '13800000001' appears twice in the file\n"
    )
    assert query(db_path, "SELECT COUNT(*) FROM persons") == [(0,)]  # not even the good line 2


def test_bad_file_after_a_good_import_changes_nothing(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    before = dump(db_path)
    bad = CSV_HEADER + (
        "王建国,人大代表,农业界,新单位,13800000001,是\n"  # a real change, but the file is refused
        "新人,人大代表,,,13800000005,否\n"
        "错行,市民,,,,\n"  # line 4
    )
    status, out, err = cli("import-roster", str(write_csv(tmp_path, bad, "roster-2.csv")))
    assert (status, out) == (1, "")
    assert err == "nothing imported; the file has problems:\nline 4: '市民' is not 人大代表/政协委员 (npc/cppcc)\n"
    assert dump(db_path) == before


def test_file_without_the_required_columns(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    status, out, err = cli("import-roster", str(write_csv(tmp_path, "姓名,电话\n王建国,13800000001\n")))
    assert (status, out) == (1, "")
    assert err == "nothing imported; the file has problems:\nthe column body is missing\n"
    assert query(db_path, "SELECT COUNT(*) FROM persons") == [(0,)]


def test_bad_rows_in_json(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path, CSV_HEADER + "王建国,人大代表,,,123,是\n")
    assert cli.json("import-roster", str(path)) == (1, {
        "ok": False, "error": "nothing imported; the file has problems:\nline 2: '123' is not a phone number",
    })


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx"])
def test_missing_roster_file(cli: Cli, tmp_path: Path, db_path: Path, name: str) -> None:
    path = tmp_path / name
    assert cli("import-roster", str(path)) == (1, "", f"no such file: {path}\n")
    assert cli.json("import-roster", str(path)) == (1, {"ok": False, "error": f"no such file: {path}"})
    assert query(db_path, "SELECT COUNT(*) FROM persons") == [(0,)]


# -- WeCom accounts in the roster (its 账号 column) ------------------------------------------------

WECOM_CSV = "姓名,类别,电话,账号\n" + (
    "王建国,人大代表,13800000001,WangJianGuo\n"  # WeCom's userids are not case-sensitive: kept in lower case
    "李秀梅,政协委员,13900000002,lixiumei\n"
    "张伟,人大代表,,\n"  # no account yet: an invite, as before
)


def wecom_accounts(db: Path) -> list[tuple[Any, ...]]:
    return query(db, "SELECT p.name, i.external_id, i.chat_id, i.last_seen_at FROM identities i"
                     " JOIN persons p ON p.id = i.person_id WHERE i.channel = 'wecom' ORDER BY p.id")


def test_the_roster_binds_each_representative_to_their_wecom_account(cli: Cli, tmp_path: Path,
                                                                     db_path: Path) -> None:
    """The office adds the deputies to the corp's contacts, then imports the roster with their 账号: each is bound
    as `wecom bind` binds one (not yet used: their notices wait for their first message or go where they were);
    the same file again changes nothing."""
    status, out, err = cli("import-roster", str(write_csv(tmp_path, WECOM_CSV)))
    assert (status, err) == (0, "")
    assert out == "imported 3 rows: 3 added, 0 updated, 0 unchanged\n2 bound to their WeCom member (the 账号 column)\n"
    assert wecom_accounts(db_path) == [("王建国", "wangjianguo", "wangjianguo", None),
                                       ("李秀梅", "lixiumei", "lixiumei", None)]
    assert [json.loads(d) for d, in query(db_path, "SELECT detail FROM audit_log WHERE action = 'bound' ORDER BY id")] == [
        {"channel": "wecom", "person_id": 1, "by": "operator"}, {"channel": "wecom", "person_id": 2, "by": "operator"}]
    before = dump(db_path)
    assert cli.json("import-roster", str(write_csv(tmp_path, WECOM_CSV))) == (0, {
        "ok": True, "message": "imported 3 rows: 0 added, 0 updated, 3 unchanged",
        "added": 0, "updated": 0, "unchanged": 3, "joined": 0, "missing": [], "disabled": False,
        "bound": 0, "not_bound": [],
    })
    assert dump(db_path) == before


def test_an_account_added_to_the_roster_later_binds_then(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, WECOM_CSV)))
    later = WECOM_CSV.replace("张伟,人大代表,,", "张伟,人大代表,,zhangwei")
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, later, "roster-2.csv")))
    assert (status, out) == (0, "imported 3 rows: 0 added, 0 updated, 3 unchanged\n1 bound to their WeCom member"
                                " (the 账号 column)\n")
    assert [name for name, *_ in wecom_accounts(db_path)] == ["王建国", "李秀梅", "张伟"]


def test_an_account_that_is_someone_elses_or_a_person_bound_elsewhere_is_left_and_listed(
        cli: Cli, tmp_path: Path, db_path: Path) -> None:
    """The file may be the one that is wrong: a member bound to another person keeps them, and a person bound to
    another member (by their own invite, perhaps) keeps it; each is listed with what to do, the rest is imported."""
    cli("import-roster", str(write_csv(tmp_path, WECOM_CSV)))
    swapped = "姓名,类别,电话,账号\n" + (
        "王建国,人大代表,13800000001,wjg2\n"  # already bound to wangjianguo
        "李秀梅,政协委员,13900000002,lixiumei\n"
        "张伟,人大代表,,wangjianguo\n"  # 王建国's member
        "赵敏,政协委员,13700000004,zhaomin\n"
    )
    status, out, _ = cli("import-roster", str(write_csv(tmp_path, swapped, "roster-2.csv")))
    assert status == 0
    assert out == (
        "imported 4 rows: 1 added, 0 updated, 3 unchanged\n"
        "1 bound to their WeCom member (the 账号 column)\n"
        "2 WeCom account(s) of the file not bound, the rest imported:\n"
        "line 2: 王建国 is bound to the WeCom member wangjianguo, not wjg2; to bind them to wjg2: access unbind"
        " --person 1 --channel wecom, then import again\n"
        "line 4: The WeCom member wangjianguo is already bound to 王建国. Not bound to 张伟.\n"
    )
    assert [(name, userid) for name, userid, *_ in wecom_accounts(db_path)] == [
        ("王建国", "wangjianguo"), ("李秀梅", "lixiumei"), ("赵敏", "zhaomin")]


def test_an_account_still_bound_to_a_disabled_person_is_listed_not_a_crash(cli: Cli, tmp_path: Path,
                                                                          db_path: Path) -> None:
    """Found in review: a past term's deputy, disabled, keeps their WeCom member until unbound; the new roster giving
    that account to someone else stopped the import with a database error. It is listed, with what to do."""
    cli("import-roster", str(write_csv(tmp_path, WECOM_CSV)))
    assert cli("access", "disable", "--name", "李秀梅")[0] == 0
    reused = "姓名,类别,电话,账号\n张伟,人大代表,,lixiumei\n"
    status, out, err = cli("import-roster", str(write_csv(tmp_path, reused, "roster-2.csv")))
    assert (status, err) == (0, "")
    assert ("line 2: The WeCom member lixiumei is still bound to someone whose access was removed; unbind it from "
            "them first. Not bound to 张伟.") in out
    assert [name for name, *_ in wecom_accounts(db_path)] == ["王建国", "李秀梅"]
    assert cli("wecom", "bind", "--name", "张伟", "--userid", "lixiumei")[0] == 1  # the same answer, not a traceback


def test_a_bad_or_repeated_account_refuses_the_file_and_changes_nothing(cli: Cli, tmp_path: Path,
                                                                        db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    before = dump(db_path)
    bad = "姓名,类别,电话,企业微信账号\n" + (
        "王建国,人大代表,13800000001,王建国\n"  # the name, not an account
        "李秀梅,政协委员,13900000002,lixiumei\n"
        "赵敏,政协委员,13700000004,LiXiuMei\n"  # 李秀梅's, in other letters
    )
    status, out, err = cli("import-roster", str(write_csv(tmp_path, bad, "roster-2.csv")))
    assert (status, out) == (1, "")
    assert err == (
        "nothing imported; the file has problems:\n"
        "line 2: '王建国' is not a WeCom account (账号: letters, digits and _-@. only, at most 64)\n"
        "line 4: 'lixiumei' appears twice in the file\n"
    )
    assert dump(db_path) == before


def test_wecom_bind_refuses_what_the_office_would_be_refused(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    """`wecom bind` and the roster's column bind through the office's own rule: a userid that is none, or one bound
    already, is refused and changes nothing."""
    cli("import-roster", str(write_csv(tmp_path, WECOM_CSV)))
    before = dump(db_path)
    assert cli("wecom", "bind", "--name", "张伟", "--userid", "张伟") == (
        1, "", "张伟 is not a WeCom account name (letters, digits and _-@. only).\n")
    assert cli("wecom", "bind", "--name", "张伟", "--userid=_zhangwei") == (  # 90195: a letter or digit first
        1, "", "_zhangwei is not a WeCom account name (letters, digits and _-@. only).\n")
    assert cli("wecom", "bind", "--name", "张伟", "--userid", "LiXiuMei") == (
        1, "", "The WeCom member lixiumei is already bound to 李秀梅.\n")
    assert dump(db_path) == before
    assert cli("wecom", "bind", "--name", "张伟", "--userid", "ZhangWei")[:2] == (
        0, "张伟 (person 3) bound to the WeCom member zhangwei\n")


# -- department add ------------------------------------------------------------------------------


def test_department_add_and_again(cli: Cli, db_path: Path) -> None:
    assert cli("department", "add", "第一检察部") == (0, "department 第一检察部 added to LS (id 1)\n", "")
    assert cli.json("department", "add", " 第二检察部 ") == (0, {
        "ok": True, "message": "department 第二检察部 added to LS (id 2)", "id": 2})
    before = dump(db_path)
    assert cli("department", "add", "第一检察部") == (1, "", "department 第一检察部 of LS exists already\n")
    assert cli("department", "add", " 第一检察部") == (1, "", "department 第一检察部 of LS exists already\n")
    assert cli("department", "add", "   ") == (1, "", "a department name is 1 to 50 characters\n")
    assert dump(db_path) == before
    assert query(db_path, "SELECT id, name FROM departments ORDER BY id") == [(1, "第一检察部"), (2, "第二检察部")]


# -- staff add -----------------------------------------------------------------------------------


def test_staff_add_records_roles_and_department(cli: Cli, db_path: Path) -> None:
    cli("department", "add", "第一检察部")
    status, out, err = cli("staff", "add", "--name", "陈静", "--department", "第一检察部",
                           "--roles", "office,handler", "--phone", "+86 138-0000-0009")
    assert (status, out, err) == (0, "staff 陈静 of LS added (person 1, roles handler,office)\n", "")
    assert query(db_path, "SELECT person_id, role FROM person_roles ORDER BY role") == [(1, "handler"), (1, "office")]
    assert query(db_path, "SELECT id, name, body, department_id, roster_key FROM persons") == [
        (1, "陈静", None, 1, None)]
    assert [p[4] for p in persons(db_path)] == ["13800000009"]  # sealed at rest
    # an office clerk needs no department
    assert cli.json("staff", "add", "--name", "刘洋", "--roles", " office , office ") == (0, {
        "ok": True, "message": "staff 刘洋 of LS added (person 2, roles office)", "person": 2})
    assert query(db_path, "SELECT person_id, role FROM person_roles WHERE person_id = 2") == [(2, "office")]
    assert query(db_path, "SELECT department_id FROM persons WHERE id = 2") == [(None,)]


def test_staff_add_binds_their_wecom_member_at_once_or_adds_nobody(cli: Cli, db_path: Path) -> None:
    """A unit on WeCom adds its staff to the corp first: `staff add --wecom` binds them in the same step; a userid
    that is none, or bound already, is refused and adds nobody."""
    assert cli("staff", "add", "--name", "陈静", "--roles", "office", "--wecom", "ChenJing")[:2] == (
        0, "staff 陈静 of LS added (person 1, roles office), bound to the WeCom member chenjing\n")
    assert wecom_accounts(db_path) == [("陈静", "chenjing", "chenjing", None)]
    before = dump(db_path)
    assert cli("staff", "add", "--name", "赵敏", "--roles", "office", "--wecom", "chenjing") == (
        1, "", "The WeCom member chenjing is already bound to 陈静.\n")
    assert cli("staff", "add", "--name", "赵敏", "--roles", "office", "--wecom", "赵敏") == (
        1, "", "赵敏 is not a WeCom account name (letters, digits and _-@. only).\n")
    assert dump(db_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--department", "第一检察部", "--roles", "office,boss"],
         "unknown role(s) boss; roles are office, handler, head, discipline, leader, admin"),
        (["--department", "第一检察部", "--roles", "Office"],
         "unknown role(s) Office; roles are office, handler, head, discipline, leader, admin"),
        (["--department", "第一检察部", "--roles", " , "],
         "unknown role(s) (none given); roles are office, handler, head, discipline, leader, admin"),
        (["--department", "民事检察部", "--roles", "handler"],
         "LS has no department 民事检察部; add it first: department add 民事检察部 --unit LS"),
        (["--department", "民事检察部", "--roles", "office"],
         "LS has no department 民事检察部; add it first: department add 民事检察部 --unit LS"),
        (["--roles", "office,handler"], "a handler belongs to a department: give --department"),
    ],
)
def test_staff_add_refusals_add_nothing(cli: Cli, db_path: Path, args: list[str], message: str) -> None:
    cli("department", "add", "第一检察部")
    before = dump(db_path)
    assert cli("staff", "add", "--name", "陈静", *args) == (1, "", message + "\n")
    assert dump(db_path) == before
    assert query(db_path, "SELECT COUNT(*) FROM persons") == [(0,)]
    assert query(db_path, "SELECT COUNT(*) FROM person_roles") == [(0,)]


# -- invite --------------------------------------------------------------------------------------


def invite_message(name: str, person: int, code: str) -> str:
    return (f"invite for {name} (person {person}), valid 14 days, single use:\n"
            f"  code: {code}\n  link: https://t.me/{BOT_USERNAME}?start={code}\n  console: /start {code}\n")


def test_invite_prints_code_and_link_and_stores_only_the_hash(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    status, out, err = cli("invite", "--name", "李秀梅")
    match = CODE.search(out)
    assert match is not None, out
    code = match.group(1)
    assert (status, out, err) == (0, invite_message("李秀梅", 2, code), "")
    rows = query(db_path, "SELECT code_hash, person_id, created_at, expires_at, used_at, used_by FROM invites")
    assert len(rows) == 1
    code_hash, person_id, created_at, expires_at, used_at, used_by = rows[0]
    assert (code_hash, person_id, used_at, used_by) == (hashlib.sha256(code.encode()).hexdigest(), 2, None, None)
    created, expires = datetime.fromisoformat(created_at), datetime.fromisoformat(expires_at)
    assert expires - created == timedelta(days=14)
    assert created == cli.clock.now()
    # the code itself is in no row of any table, nor anywhere in the database files
    for table, table_rows in dump(db_path).items():
        for row in table_rows:
            assert all(code not in str(value) for value in row), (table, row)
    for file in tmp_path.glob("liaison.db*"):
        assert code.encode() not in file.read_bytes(), file


def test_invite_json(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    status, value = cli.json("invite", "--name", "王建国")
    assert status == 0
    code = value["code"]
    assert isinstance(code, str) and re.fullmatch(r"[A-Za-z0-9_-]{22}", code)
    assert value == {"ok": True, "message": invite_message("王建国", 1, code).rstrip("\n"), "person": 1,
                     "code": code, "link": f"https://t.me/{BOT_USERNAME}?start={code}", "wecom_link": None}
    assert query(db_path, "SELECT code_hash, person_id FROM invites") == [
        (hashlib.sha256(code.encode()).hexdigest(), 1)]


def test_each_invite_is_a_new_code(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    first = cli.json("invite", "--name", "王建国")[1]["code"]
    second = cli.json("invite", "--name", "王建国")[1]["code"]
    assert first != second
    assert query(db_path, "SELECT person_id FROM invites ORDER BY id") == [(1,), (1,)]


def test_invite_for_staff(cli: Cli, db_path: Path) -> None:
    cli("staff", "add", "--name", "陈静", "--roles", "office")
    status, value = cli.json("invite", "--name", "陈静")
    assert (status, value["person"]) == (0, 1)
    assert query(db_path, "SELECT person_id FROM invites") == [(1,)]


def test_invite_for_an_unknown_name(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    cli("import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    assert cli("invite", "--name", "李四") == (1, "", "nobody named 李四 on the roster or staff list\n")
    assert cli("invite", "--person", "99") == (1, "", "no person with id 99\n")
    assert cli.json("invite", "--name", "李四") == (1, {
        "ok": False, "error": "nobody named 李四 on the roster or staff list"})
    assert query(db_path, "SELECT COUNT(*) FROM invites") == [(0,)]


def test_two_people_with_one_name_need_the_id(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    roster = CSV_HEADER + "王伟,人大代表,农业界,横涧乡,13800000001,否\n王伟,政协委员,教育界,县一中,13800000002,否\n"
    cli("import-roster", str(write_csv(tmp_path, roster)))
    assert cli("invite", "--name", "王伟") == (1, "", "2 people are named 王伟 (ids 1, 2); use --person ID\n")
    assert query(db_path, "SELECT COUNT(*) FROM invites") == [(0,)]
    status, out, err = cli("invite", "--person", "2")
    match = CODE.search(out)
    assert match is not None, out
    assert (status, out, err) == (0, invite_message("王伟", 2, match.group(1)), "")
    assert query(db_path, "SELECT code_hash, person_id FROM invites") == [
        (hashlib.sha256(match.group(1).encode()).hexdigest(), 2)]


async def test_printed_code_binds_the_person(tmp_path: Path, config_path: Path, db_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(config_path, capsys)
    # main() runs its own event loop, so from this async test it runs in a thread
    status, _, _ = await asyncio.to_thread(cli, "import-roster", str(write_csv(tmp_path, ROSTER_CSV)))
    assert status == 0
    status, out, _ = await asyncio.to_thread(cli, "invite", "--name", "王建国")
    match = CODE.search(out)
    assert status == 0 and match is not None, out
    code = match.group(1)

    config = load(config_path, environ={})
    assert config.storage.database == db_path
    clock = cli.clock
    app = await App.open(config, clock)
    try:
        channel = RecordingChannel(app.files)
        app.add_channel(channel)
        await app.dispatcher.recover()
        harness = Harness(app, channel, clock)
        replies = await harness.user("1001").say(f"/start {code}")
        assert "王建国代表，您好！您的账号已绑定成功。" in replies[0].text
        again = await harness.user("1002").say(f"/start {code}")  # single use
        assert again[0].text == "此邀请链接无效，或已过期、已被使用。请向本院办公室索取新的链接。"
    finally:
        await app.close()
    assert query(db_path, "SELECT channel, external_id, person_id FROM identities") == [("test", "1001", 1)]
    assert query(db_path, "SELECT used_by FROM invites") == [("test:1001",)]


# -- configuration and usage ---------------------------------------------------------------------


def test_bad_configuration_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[storage]\ndatabase = "{(tmp_path / "x.db").as_posix()}"\n[telegram]\npoll_timeout = 0\n',
                    encoding="utf-8")
    status = main(["--config", str(path), "department", "add", "第一检察部"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == "configuration error: telegram.poll_timeout: must be a whole number from 1 to 50\n"
    assert not (tmp_path / "x.db").exists()  # stopped before opening anything


def test_config_option_after_the_command(cli: Cli, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["department", "add", "第一检察部", "--config", str(cli.config_path), "--json"], cli.clock)
    out, _ = capsys.readouterr()
    assert (status, json.loads(out)) == (0, {"ok": True, "message": "department 第一检察部 added to LS (id 1)", "id": 1})
    assert query(db_path, "SELECT name FROM departments") == [("第一检察部",)]


def test_help_runs_as_a_real_command() -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m bot")
    for command in ("run", "import-roster", "department", "staff", "invite"):
        assert command in done.stdout
    assert done.stderr == ""


def test_calendar_shows_a_years_exceptions_and_where_they_come_from(cli: Cli, config_path: Path) -> None:
    status, out, _ = cli("calendar", "2026")
    assert status == 0
    assert out.splitlines()[0] == "2026: the mainland calendar of the chinese-calendar package"
    assert "2026-10-01/2026-10-02 (2 days), 2026-10-05/2026-10-07 (3 days)" in out  # National Day, Mon-Fri
    assert "2026-10-10 (Sat)" in out.splitlines()[2]  # the make-up Saturday

    status, out, _ = cli("calendar", "2031")
    assert status == 0 and out.startswith("2031: neither the chinese-calendar package nor [calendar] knows this year")

    with config_path.open("a", encoding="utf-8") as handle:
        handle.write('[calendar]\nholidays = ["2031-01-01", "2031-01-27/2031-01-31"]\nworkdays = ["2031-02-08"]\n')
    status, value = cli.json("calendar", "2031")
    assert (status, value["source"]) == (0, "config")
    assert value["days_off"] == ["2031-01-01", "2031-01-27", "2031-01-28", "2031-01-29", "2031-01-30", "2031-01-31"]
    assert value["working_weekend_days"] == ["2031-02-08"]
    status, out, _ = cli("calendar", "2031")
    assert out.splitlines()[1:] == ["days off, Monday to Friday: 2031-01-01 (Wed), 2031-01-27/2031-01-31 (5 days)",
                                    "working days on a weekend: 2031-02-08 (Sat)"]
    assert cli("calendar", "1999")[0] == 2
