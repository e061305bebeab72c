"""Units (issue 17, docs/design-units.md, step 3 begun): the city's leaders and office read their counties'
figures in a read-only roll-up. A city (三门峡, SMX) and two counties under it (灵宝 LB, 渑池 MC), a deputy in each
submitting matters: the city's digest has a line per unit and its figures are the sum of the counties' and its
own, number by number, each county's digest being its own alone; a county never sees the city's or the other
county's matters, and the city's office still acts on its own matters only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from storage import units
from tests.cast import People, submit_suggestion
from tests.fakes import Harness, User

START = datetime(2026, 11, 27, 2, tzinfo=UTC)
HEAD = re.compile(r"登记：(\d+) 件；办结：(\d+) 件")
OPEN = re.compile(r"未办结：(\d+) 件（逾期未办结 (\d+) 件")
LINE = re.compile(r"^(\S+人民检察院)：登记 (\d+) 件，办结 (\d+) 件，未办结 (\d+) 件，其中逾期 (\d+) 件$", re.M)


class Unit(People):
    """A unit's office, leader and one deputy, bound to their chats."""

    async def setup(self, unit: int, n: int) -> None:
        h = self.h
        self.unit = unit
        self.office = await self.bind(await h.add_staff(f"办公室{n}", ["office"], unit=unit), f"{n}01")
        self.leader = await self.bind(await h.add_staff(f"领导{n}", ["leader"], unit=unit), f"{n}02")
        self.deputy = await self.bind(await h.add_representative(f"代表{n}", phone=f"1380000{n:04d}", unit=unit),
                                      f"{n}03")
        self.discipline = await self.bind(await h.add_staff(f"纪检{n}", ["discipline"], unit=unit), f"{n}04")


async def _city_and_counties(harness: Harness) -> tuple[Unit, Unit, Unit]:
    async with harness.db.transaction() as tx:
        smx = (await units.add(tx, "三门峡市人民检察院", "SMX", None, "Asia/Shanghai", START)).id
        lb = (await units.add(tx, "灵宝市人民检察院", "LB", "SMX", "Asia/Shanghai", START)).id
        mc = (await units.add(tx, "渑池县人民检察院", "MC", "SMX", "Asia/Shanghai", START)).id
    found = []
    for n, unit in enumerate((smx, lb, mc), start=7):
        people = Unit(harness)
        await people.setup(unit, n)
        found.append(people)
    city, county_a, county_b = found
    return city, county_a, county_b


def _figures(text: str) -> tuple[int, ...]:
    head, still = HEAD.search(text), OPEN.search(text)
    assert head is not None and still is not None, text
    return int(head[1]), int(head[2]), int(still[1]), int(still[2])


async def _digest(user: User) -> str:
    return "\n".join(s.text for s in await user.say("/digest") if s.op == "message")


async def test_the_citys_digest_is_its_counties_and_its_own_summed_number_by_number(harness: Harness) -> None:
    city, lb, mc = await _city_and_counties(harness)
    await submit_suggestion(city.deputy, "关于市区道路的建议")
    for _ in range(2):
        await submit_suggestion(lb.deputy, "关于灵宝道路的建议")
    await submit_suggestion(mc.deputy, "关于渑池道路的建议")

    # a county's digest is its own alone: no line per unit, none of the others' numbers
    own = {}
    for name, county in (("灵宝市人民检察院", lb), ("渑池县人民检察院", mc)):
        text = await _digest(county.leader)
        assert "各单位" not in text and "SMX-" not in text
        own[name] = _figures(text)
    assert own == {"灵宝市人民检察院": (2, 0, 2, 0), "渑池县人民检察院": (1, 0, 1, 0)}
    rolled = await _digest(city.leader)
    assert "各单位（以上数字为各单位合计）：" in rolled
    lines = {m[1]: tuple(int(x) for x in m.groups()[1:]) for m in LINE.finditer(rolled)}
    assert list(lines) == ["三门峡市人民检察院", "灵宝市人民检察院", "渑池县人民检察院"]  # the city first
    assert lines["三门峡市人民检察院"] == (1, 0, 1, 0)  # its own deputy's one matter
    for name, figures in own.items():  # each county's line is that county's own digest
        assert lines[name] == figures, name
    summed = tuple(sum(v[i] for v in lines.values()) for i in range(4))
    assert _figures(rolled) == summed == (4, 0, 4, 0)  # the roll-up: its counties' and its own, summed
    assert _figures(await _digest(city.office)) == summed  # the city's office reads the same roll-up


async def test_a_roll_up_reads_and_never_acts_on_a_countys_matters(harness: Harness) -> None:
    city, lb, _mc = await _city_and_counties(harness)
    await submit_suggestion(lb.deputy, "关于灵宝道路的建议")
    assert (await city.office.say("/case LB-2026-0001"))[0].text.startswith("没有该事项。")
    assert "LB-2026-0001" not in " ".join(s.text for s in await city.office.say("/inbox"))
    assert (await lb.office.say("/case LB-2026-0001"))[0].text.startswith("LB-2026-0001")
    async with harness.db.snapshot() as q:
        scope, family = await units.roll_up(q, city.unit)
        assert scope.unit == city.unit and scope.reads == {city.unit, lb.unit, _mc.unit}
        assert [u.prefix for u in family] == ["SMX", "LB", "MC"]
        lb_scope, lb_family = await units.roll_up(q, lb.unit)
        assert lb_scope.reads == {lb.unit} and [u.prefix for u in lb_family] == ["LB"]


async def test_the_citys_quota_reads_its_counties_representatives_with_a_line_per_unit(harness: Harness) -> None:
    """§11: the city's office sees the contact coverage of its own representatives and its counties', summed, with a
    line per unit; a county's office its own alone."""
    city, lb, mc = await _city_and_counties(harness)
    rolled = (await city.office.say("/quota"))[-1].text.splitlines()
    assert rolled[1] == "已联系 0/3 名代表委员（0%）"  # the three units' representatives, summed
    at = rolled.index("各单位：")
    assert rolled[at + 1:at + 4] == ["三门峡市人民检察院：0/1", "灵宝市人民检察院：0/1", "渑池县人民检察院：0/1"]
    # the names not yet contacted: the city's own (each county's office sees its own)
    assert rolled[rolled.index("其中三门峡市人民检察院尚未联系（1 名）："):][1:] == ["代表7 · 人大代表"]
    own = (await lb.office.say("/quota"))[-1].text
    assert own.splitlines()[1] == "已联系 0/1 名代表委员（0%）" and "各单位" not in own
    assert "代表8" in own and "代表9" not in own and "代表7" not in own  # LB's own deputy, not MC's or the city's


async def test_the_citys_overview_counts_its_counties_matters_by_state_and_lists_its_own(harness: Harness) -> None:
    city, lb, mc = await _city_and_counties(harness)
    await submit_suggestion(city.deputy, "关于市区道路的建议")
    for _ in range(2):
        await submit_suggestion(lb.deputy, "关于灵宝道路的建议")
    answered = await city.leader.say("/overview")
    listed = answered[0]
    assert "SMX-2026-0001" in listed.text and "LB-2026-0001" not in listed.text  # the list: its own, to act on
    assert answered[-1].text.splitlines() == ["各单位：", "三门峡市人民检察院：已登记 1", "灵宝市人民检察院：已登记 2",
                                               "渑池县人民检察院：0"]
    own = await lb.leader.say("/overview")
    assert len(own) == 1 and "LB-2026-0002" in own[0].text and "SMX-" not in own[0].text
    # the city's discipline inspection reads its own unit alone (roll-ups are for the office and the leaders)
    watched = await city.discipline.say("/overview")
    assert len(watched) == 1 and "各单位" not in watched[0].text
    assert "各单位" not in (await city.discipline.say("/quota"))[-1].text


async def test_a_roll_up_covers_the_whole_tree_below_and_nothing_beside(harness: Harness) -> None:
    """A province over the city over its counties: each reads itself and everything below it, never a sibling or
    the unit above; a unit named its own parent (a mistake in the table) is not walked twice."""
    async with harness.db.transaction() as tx:
        add = [("河南省人民检察院", "HN", None), ("三门峡市人民检察院", "SMX", "HN"), ("灵宝市人民检察院", "LB", "SMX"),
               ("渑池县人民检察院", "MC", "SMX"), ("洛阳市人民检察院", "LY", "HN"), ("偃师区人民检察院", "YS", "LY")]
        ids = {prefix: (await units.add(tx, name, prefix, parent, "Asia/Shanghai", START)).id
               for name, prefix, parent in add}
        reads = {prefix: {u.prefix for u in (await units.roll_up(tx, i))[1]} for prefix, i in ids.items()}
        await tx.execute("UPDATE units SET parent_id = id WHERE prefix = 'MC'")
        assert [u.prefix for u in (await units.roll_up(tx, ids["MC"]))[1]] == ["MC"]
    assert reads == {"HN": {"HN", "SMX", "LB", "MC", "LY", "YS"}, "SMX": {"SMX", "LB", "MC"}, "LB": {"LB"},
                     "MC": {"MC"}, "LY": {"LY", "YS"}, "YS": {"YS"}}


async def test_the_citys_half_year_report_has_a_line_per_unit_that_add_up(harness: Harness) -> None:
    """§17: the city's half-year report to the province covers its counties: a table with a line per unit, its
    total row the report's own figures; a county's report has no such table."""
    from tests.reports_world import files_of, read_docx

    city, lb, mc = await _city_and_counties(harness)
    await submit_suggestion(city.deputy, "关于市区道路的建议")
    for _ in range(2):
        await submit_suggestion(lb.deputy, "关于灵宝道路的建议")
    await submit_suggestion(mc.deputy, "关于渑池道路的建议")

    def docx_of(sent: list) -> tuple[list[str], dict[str, list[list[str]]]]:  # type: ignore[type-arg]
        path = files_of(sent)[0][0]
        paragraphs, tables = read_docx(path if Path(path).is_absolute() else harness.app.files.root / path)
        return paragraphs, dict(tables)

    paragraphs, tables = docx_of(await city.office.say("/report 2026H2"))
    [table] = [rows for caption, rows in tables.items() if "各院受理办理及联系情况" in caption]
    assert table[0] == ["单位", "登记", "办结", "到期应办结", "按期办结", "未办结", "逾期未办结", "代表委员", "已联系"]
    assert [row[:2] + row[5:6] + row[7:8] for row in table[1:]] == [
        ["三门峡市人民检察院", "1", "1", "1"], ["灵宝市人民检察院", "2", "2", "1"], ["渑池县人民检察院", "1", "1", "1"],
        ["合计", "4", "4", "3"]]
    assert any("以上情况包括本院和所辖2个院" in p for p in paragraphs)
    assert any("共登记代表委员提出的建议、批评、意见和转交的举报、控告、申诉4件" in p for p in paragraphs)  # the total
    paragraphs, tables = docx_of(await lb.office.say("/report 2026H2"))
    assert not any("各院" in caption for caption in tables) and not any("所辖" in p for p in paragraphs)
    assert any("申诉2件" in p for p in paragraphs)


async def test_s19_the_citys_assessment_covers_its_counties_departments_and_staff(harness: Harness) -> None:
    """§19: the city's yearly assessment (`report assessment 2026 --unit SMX`) has a row for each department of
    the city and of its counties (named with their unit), their staff, and a total over all; a county's its own."""
    from handlers.reports import figures
    from bot.model import UnitScope

    city, lb, mc = await _city_and_counties(harness)
    for unit in (city, lb, mc):
        await harness.add_department("第一检察部", unit=unit.unit)
    await submit_suggestion(city.deputy, "关于市区道路的建议")
    for _ in range(2):
        await submit_suggestion(lb.deputy, "关于灵宝道路的建议")
    await submit_suggestion(mc.deputy, "关于渑池道路的建议")
    today = harness.clock.now().date()
    async with harness.db.snapshot() as q:
        scope, _family = await units.roll_up(q, city.unit)
        rolled = await figures.assessment(q, scope, 2026, today, harness.app.config.unit.tz, "三门峡市人民检察院")
        county = await figures.assessment(q, UnitScope.of(lb.unit), 2026, today, harness.app.config.unit.tz,
                                          "灵宝市人民检察院")
    assert [d.name for d in rolled.departments if d.name] == [
        "三门峡市人民检察院第一检察部", "灵宝市人民检察院第一检察部", "渑池县人民检察院第一检察部"]
    assert rolled.total.registered == 4 and county.total.registered == 2
    assert {s.name for s in rolled.staff} >= {"办公室7", "办公室8", "办公室9"}
    assert [d.name for d in county.departments if d.name] == ["第一检察部"] and "办公室7" not in {
        s.name for s in county.staff}
