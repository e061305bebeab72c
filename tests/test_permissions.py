"""SPEC §1, seed §13-§14: who may do what to which matter — the whole matrix of roles × actions ×
(own department / another department / own matter / another representative's), through the one
place that decides (`handlers.casework.load`, which every command and button press goes through),
on a real database. Exactly the allowed ones pass; every refusal is audited and changes nothing."""

from __future__ import annotations

import itertools

import pytest

from bot.context import Context
from bot.errors import PermissionDeniedError
from bot.i18n import Translator
from bot.messages import Incoming
from bot.permissions import ACTIONS
from bot.sealing import COMPLAINANT_NAME
from handlers.matters import casework as cases
from storage import people
from storage.records import RECORDS
from tests.fakes import Harness

OFFICE = {"assign", "reassign", "mark_major", "transfer", "cannot_meet", "approve_reply", "return_reply", "register_on_behalf",
          "record_contact", "reply_letter", "record_rating", "quota"}
DEPARTMENT = {"progress", "conclude", "draft_reply", "request_extension"}

# Written out by hand from the spec, not derived from the code under test.
EXPECTED: dict[tuple[str, str], set[str]] = {
    # (who, which matter) -> the actions allowed
    ("office", "dept1"): {"view", "view_personal", "decide_extension", "onsite", *OFFICE},
    ("office", "dept2"): {"view", "view_personal", "decide_extension", "onsite", *OFFICE},
    ("handler1", "dept1"): {"view", "view_personal", *DEPARTMENT},
    ("handler1", "dept2"): set(),
    ("head1", "dept1"): {"view", "view_personal", *DEPARTMENT},
    ("head1", "dept2"): set(),
    ("discipline", "dept1"): {"view", "view_personal", "onsite", "quota"},
    ("discipline", "dept2"): {"view", "view_personal", "onsite", "quota"},
    ("leader", "dept1"): {"view", "leader_approve", "quota"},
    ("leader", "dept2"): {"view", "leader_approve", "quota"},
    ("admin", "dept1"): set(),
    ("admin", "dept2"): set(),
    ("deputy", "dept1"): {"rate"},  # the deputy's own matter
    ("deputy", "dept2"): set(),  # another deputy's matter
}
MATTER_ACTIONS = sorted(ACTIONS - {"register_on_behalf"})


@pytest.fixture
async def world(harness: Harness) -> dict[str, int]:
    ids: dict[str, int] = {}
    ids["d1"] = await harness.add_department("第一检察部")
    ids["d2"] = await harness.add_department("第二检察部")
    ids["office"] = await harness.add_staff("陈静", ["office"])
    ids["handler1"] = await harness.add_staff("刘洋", ["handler"], "第一检察部")
    ids["head1"] = await harness.add_staff("吴刚", ["head"], "第一检察部")
    ids["discipline"] = await harness.add_staff("孙磊", ["discipline"])
    ids["leader"] = await harness.add_staff("周明", ["leader"])
    ids["admin"] = await harness.add_staff("管理员", ["admin"])
    ids["deputy"] = await harness.add_representative("王建国", phone="13800000001")
    other = await harness.add_representative("李秀梅", body="cppcc", phone="13800000002")
    async with harness.db.transaction() as tx:
        for name, rep, dept in (("dept1", ids["deputy"], ids["d1"]), ("dept2", other, ids["d2"])):
            ids[name] = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, department_id,"
                " registered_at, due_date, updated_at, complainant_name) VALUES (?, 'report', ?, '事由', '内容',"
                " 'assigned', ?, '2026-11-27T02:00:00.000+00:00', '2027-02-27', '2026-11-27', ?) RETURNING id",
                (f"LS-2026-000{len(ids)}", rep, dept, tx.sealer.seal("张三", COMPLAINANT_NAME)),
            )
    return ids


async def allowed(harness: Harness, person_id: int, matter_id: int, action: str) -> bool:
    async with harness.db.transaction() as tx:
        person = await people.get(tx, person_id)
        inc = Incoming(channel="test", user_id="x", chat_id="x")
        ctx = Context(tx, inc, harness.clock.now(), harness.app.config, person,
                      Translator("zh_Hans", harness.app.config.unit.tz), records=RECORDS)
        try:
            await cases.load(ctx, matter_id, action)
        except PermissionDeniedError:
            return False
        return True


async def test_the_whole_matrix(harness: Harness, world: dict[str, int]) -> None:
    got: dict[tuple[str, str], set[str]] = {}
    for (who, which), action in itertools.product(EXPECTED, MATTER_ACTIONS):
        if await allowed(harness, world[who], world[which], action):
            got.setdefault((who, which), set()).add(action)
    for key, expected in EXPECTED.items():
        assert got.get(key, set()) == expected - {"register_on_behalf"}, key


async def test_a_leader_decides_extensions_when_so_configured(harness: Harness, world: dict[str, int]) -> None:
    from dataclasses import replace

    from bot.config import CaseworkConfig

    harness.app.config = replace(harness.app.config, casework=CaseworkConfig(extension_approver="leader"))
    assert await allowed(harness, world["leader"], world["dept1"], "decide_extension")
    assert not await allowed(harness, world["office"], world["dept1"], "decide_extension")


async def test_a_refused_button_is_audited_and_changes_nothing(harness: Harness, world: dict[str, int]) -> None:
    """Button data is user input: a handler of another department forging an action on this matter."""
    user = harness.user("4001")
    await user.say(f"/start {await harness.invite(world['handler1'])}")
    before = await harness.dump("matters", "replies", "timeline", "dialogs")
    replies = await user.press_data(f"act:{world['dept2']}:conclude")
    assert [r.payload["text"] for r in replies if r.op == "answer"] == ["未找到该事项。"]
    assert await harness.dump("matters", "replies", "timeline", "dialogs") == before
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT actor_id, action, matter_id FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(row) == (world["handler1"], "refused:conclude", world["dept2"])


async def test_a_deputy_cannot_open_staff_screens(harness: Harness, world: dict[str, int]) -> None:
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(world['deputy'])}")
    before = await harness.dump("matters", "dialogs")
    for command in ("/inbox", f"/case LS-2026-0001", "/overview"):
        replies = await deputy.say(command)
        assert replies[0].text == "此功能仅供本院工作人员使用。"
    assert await harness.dump("matters", "dialogs") == before


async def test_the_complainant_is_withheld_from_leaders(harness: Harness, world: dict[str, int]) -> None:
    """SPEC §1: the complainant's name and contact only for office, the assigned department, discipline."""
    shown = {}
    for who, user_id in (("leader", "6001"), ("office", "3001"), ("discipline", "5001"), ("handler1", "4001")):
        user = harness.user(user_id)
        await user.say(f"/start {await harness.invite(world[who])}")
        card = await user.say("/case " + (await _number(harness, world["dept1"])))
        shown[who] = card[0].text
    assert "群众信息：（已隐去）" in shown["leader"] and "张三" not in shown["leader"]
    for who in ("office", "discipline", "handler1"):
        assert "张三" in shown[who]


async def test_a_referred_cases_files_follow_the_complainants_rule(harness: Harness, world: dict[str, int]) -> None:
    """SPEC §1: a referred case's files may carry the complainant's name, contact or papers: a leader, who
    sees the card with the complainant withheld, gets no 附件 button, and a forged press is refused, audited,
    and sends no file; the office and the handling department receive them."""
    async with harness.db.transaction() as tx:
        await tx.execute("INSERT INTO attachments (matter_id, kind, name, size, sha256, path, created_at)"
                         " VALUES (?, 'document', '控告书.pdf', 5, ?, ?, '2026-11-27')",
                         (world["dept1"], "a" * 64, str(harness.app.config.storage.files_dir / "aa" / ("a" * 64))))
    number = await _number(harness, world["dept1"])
    leader = harness.user("6001")
    await leader.say(f"/start {await harness.invite(world['leader'])}")
    card = await leader.say("/case " + number)
    assert "附件" not in [label for label, _ in card[0].buttons]
    before = await harness.dump("matters", "timeline", "dialogs")
    replies = await leader.press_data(f"act:{world['dept1']}:files")
    assert not [r for r in replies if r.payload.get("files")]
    assert [r.text for r in replies if r.op == "message"] == [
        "转交案件的附件可能含有当事人的个人信息，仅发送给办公室、承办部门和纪检监察部门。"]
    assert await harness.dump("matters", "timeline", "dialogs") == before
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT actor_id, action, matter_id FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(row) == (world["leader"], "refused:view_personal", world["dept1"])
    for who, user_id in (("office", "3001"), ("handler1", "4001")):
        user = harness.user(user_id)
        await user.say(f"/start {await harness.invite(world[who])}")
        card = await user.say("/case " + number)
        assert "附件" in [label for label, _ in card[0].buttons]
        got = await user.press("附件")
        assert [f[1] for r in got for f in r.payload.get("files") or []] == ["控告书.pdf"]


async def _number(harness: Harness, matter_id: int) -> str:
    async with harness.db.snapshot() as q:
        return str(await q.scalar("SELECT number FROM matters WHERE id = ?", (matter_id,)))


# Actions on the unit's records rather than on a matter, by role (written out from the spec).
UNIT_EXPECTED: dict[str, set[str]] = {
    "office": {"npc_register", "report", "report_sent", "ledger", "digest", "manage_cards", "send_briefing",
               "manage_events", "record_attendance", "manage_supervisors", "mark_prepared", "record_contact",
               "quota", "register_on_behalf", "manage_accounts"},
    "handler1": {"mark_prepared"},
    "head1": {"mark_prepared"},
    "discipline": {"quota"},
    "leader": {"report", "digest", "quota"},
    "admin": {"manage_accounts"},
    "deputy": {"give_view"},
}


async def test_the_unit_actions_matrix(harness: Harness, world: dict[str, int]) -> None:
    from bot.permissions import EVENT_ACTIONS, LIAISON_ACTIONS, UNIT_ACTIONS, may

    actions = UNIT_ACTIONS | LIAISON_ACTIONS | EVENT_ACTIONS | {"record_contact", "quota", "register_on_behalf"}
    async with harness.db.snapshot() as q:
        for who, expected in UNIT_EXPECTED.items():
            person = await people.get(q, world[who])
            assert {a for a in actions if may(person, a, None)} == expected, who


async def test_the_matrix_across_units(harness: Harness, world: dict[str, int]) -> None:
    """The unit dimension (issue 17): LB below LS. LS's matter assigned to LB's department (交办): LB's handler and
    head act on it as on their own, LB's office, discipline and leader not at all; LS's office keeps every office
    action on it. LB's own matter: nobody of LS acts on it (a roll-up only reads), a matter of LS's own department
    is not LB's."""
    from datetime import UTC, datetime

    from bot.errors import NotFoundError
    from storage import units

    async with harness.db.transaction() as tx:
        lb = (await units.add(tx, "灵宝市人民检察院", "LB", "LS", "Asia/Shanghai", datetime(2026, 12, 1, tzinfo=UTC))).id
    ids = dict(world)
    lb_dept = await harness.add_department("第一检察部", unit=lb)
    for who, roles in (("lb_office", ["office"]), ("lb_discipline", ["discipline"]), ("lb_leader", ["leader"])):
        ids[who] = await harness.add_staff(who, roles, unit=lb)
    ids["lb_handler"] = await harness.add_staff("lb_handler", ["handler"], "第一检察部", unit=lb)
    ids["lb_head"] = await harness.add_staff("lb_head", ["head"], "第一检察部", unit=lb)
    ids["lb_both"] = await harness.add_staff("lb_both", ["office", "leader", "handler"], "第一检察部", unit=lb)
    lb_rep = await harness.add_representative("张华", phone="13800000009", unit=lb)
    async with harness.db.transaction() as tx:
        await tx.execute("UPDATE matters SET department_id = ?, handling_unit_id = ? WHERE id = ?",
                         (lb_dept, lb, ids["dept2"]))
        ids["lb_own"] = await tx.insert(
            "INSERT INTO matters (number, kind, representative_id, subject, body, state, department_id, registered_at,"
            " due_date, updated_at, unit_id) VALUES ('LB-2026-0001', 'suggestion', ?, '事由', '内容', 'assigned', ?,"
            " '2026-11-27T02:00:00.000+00:00', '2027-02-27', '2026-11-27', ?) RETURNING id", (lb_rep, lb_dept, lb))

    async def may(who: str, which: str, action: str) -> bool:
        try:
            return await allowed(harness, ids[who], ids[which], action)
        except NotFoundError:
            return False

    expected = {
        ("lb_handler", "dept2"): {"view", "view_personal", *DEPARTMENT},
        ("lb_head", "dept2"): {"view", "view_personal", *DEPARTMENT},
        ("lb_both", "dept2"): {"view", "view_personal", *DEPARTMENT},  # its department only, whatever its roles
        ("lb_office", "dept2"): set(), ("lb_discipline", "dept2"): set(), ("lb_leader", "dept2"): set(),
        ("lb_office", "dept1"): set(), ("lb_handler", "dept1"): set(), ("lb_leader", "dept1"): set(),
        ("office", "dept2"): {"view", "view_personal", "decide_extension", "onsite", *OFFICE},
        ("office", "lb_own"): set(), ("leader", "lb_own"): set(), ("discipline", "lb_own"): set(),
        ("handler1", "lb_own"): set(),
        ("lb_office", "lb_own"): {"view", "view_personal", "decide_extension", "onsite", *OFFICE},
        ("lb_handler", "lb_own"): {"view", "view_personal", *DEPARTMENT},
    }
    for (who, which), allowed_actions in expected.items():
        got = {a for a in MATTER_ACTIONS if await may(who, which, a)}
        assert got == allowed_actions - {"register_on_behalf"}, (who, which)
