"""A small demo roster, so that anyone can try every flow in the console at once.

Seeded only into an empty database, only when the console runs and `console.demo` is on.
Every demo person is bound to a console identity, so notifications to them show too.
"""

from __future__ import annotations

from datetime import datetime

from bot.model import FIRST_UNIT, UnitScope
from bot.roster_file import RosterRow
from storage import people, roster
from storage.db import Tx

DEPARTMENTS = ("第一检察部", "第二检察部", "第三检察部", "第四检察部", "控告申诉检察部")

REPRESENTATIVES = (
    RosterRow(2, "D001", "王建国", "npc", "农业界", "城关镇农业合作社理事长", "13800000001", True),
    RosterRow(3, "D002", "李秀梅", "cppcc", "教育界", "县第一高级中学教师", "13800000002", False),
    RosterRow(4, "D003", "张伟", "npc", "企业界", "县建材有限公司总经理", "13800000003", False),
    RosterRow(5, "D004", "赵敏", "cppcc", "医药卫生界", "县人民医院副院长", "13800000004", True),
)

STAFF = (
    ("陈静", ["office"], None),
    ("刘洋", ["handler"], "第一检察部"),
    ("吴刚", ["handler", "head"], "控告申诉检察部"),
    ("孙磊", ["discipline"], None),
    ("周明", ["leader"], None),
)


async def seed_if_empty(q: Tx, now: datetime) -> bool:
    """Seed the demo people into an empty database; False if it already had people."""
    if await q.scalar("SELECT COUNT(*) FROM persons"):
        return False
    for name in DEPARTMENTS:
        await people.add_department(q, name, now)
    await roster.upsert(q, UnitScope.of(FIRST_UNIT), list(REPRESENTATIVES), now)
    for name, roles, department in STAFF:
        dept = await people.department_by_name(q, UnitScope.of(FIRST_UNIT), department) if department else None
        await people.add_staff(q, name, dept, roles, "", now)
    return True
