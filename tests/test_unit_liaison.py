"""Units (issue 17, docs/design-units.md, green step 1 continued): a unit's liaison work is its own — its events
invite its own representatives and are listed and opened only from it; its supervisors, opinion cards, briefings,
NPC register and half-year report's record are its own; and the sweep reminds each unit's office of its own
(§4 protests, §5 events, §17 the half-year report). Until memberships (step 2) a representative's unit is their
row's `unit_id`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from bot.model import UnitScope
from handlers.oversight.sweep import collect
from handlers.routes import REMINDERS
from storage import briefings, cards, events, reports, units
from storage.db import Tx
from tests.cast import TABLES, at
from tests.fakes import Harness
from tests.test_unit_staff import _counts, two_units

START = datetime(2026, 11, 27, 2, tzinfo=UTC)
FORUM = "灵宝市代表委员座谈会"


async def test_a_units_event_invites_its_own_and_is_opened_only_from_it(harness: Harness) -> None:
    """§5: the county's forum for all its representatives invites the county's deputy, not LS's; LS's office does
    not see it in /events, and a button of it pressed from LS's office finds no such event, changing nothing."""
    ls, county, lb = await two_units(harness)
    seen = _counts(ls.deputy, ls.office)
    c = county.office
    await c.say("/event")
    await c.press("座谈会")
    await c.say(FORUM)
    await c.say("2026-12-04 09:30")
    await c.say("灵宝市院第一会议室")
    assert c.last_buttons() == ["第一检察部", "无需部门准备", "取消"]  # its own department, not LS's two
    await c.press("无需部门准备")
    await c.press("全体人大代表、政协委员")
    confirmed = await c.press("确认")
    assert any("全部 1 名受邀人员" in s.text for s in confirmed)  # the county's one deputy
    assert "灵宝市人民检察院" in county.deputy.received[-1].text  # invited by the county, in its name
    assert county.deputy.last_buttons() == ["参加", "不参加"] and FORUM in county.deputy.received[-1].text
    assert not any(FORUM in s.text for s in ls.deputy.received[seen[ls.deputy.user_id]:])
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT id, unit_id FROM events")
        assert row is not None and row[1] == lb
        event_id = int(row[0])
        assert await events.get(q, UnitScope.of(1), event_id) is None
        assert [e.id for e in await events.planned(q, UnitScope.of(lb))] == [event_id]
        assert await events.planned(q, UnitScope.of(1)) == []
    assert not any(FORUM in s.text for s in await ls.office.say("/events"))
    listing = await c.say("/events")  # the county's office's own list: its event, with a button to open it
    assert any(FORUM in s.text or any(FORUM in label for label, _ in s.buttons) for s in listing)
    await c.press(next(label for s in listing for label, _ in s.buttons if FORUM in label))
    buttons = [data for s in c.received for _label, data in s.buttons if data.startswith("event:")]
    assert buttons, "the county's office was shown the event's buttons"
    before = await harness.dump(*TABLES, "events", "invitations", "event_departments")
    for data in buttons:  # button data is user input: LS's office pressing the county's
        answered = await ls.office.press_data(data)
        assert all(FORUM not in s.text for s in answered), data
    assert await harness.dump(*TABLES, "events", "invitations", "event_departments") == before
    # the county's deputy answers the county's invitation as ever
    await county.deputy.press("参加")
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT state FROM invitations WHERE event_id = ?", (event_id,)) == "accepted"


async def test_cards_briefings_and_supervisors_are_the_units_own(harness: Harness) -> None:
    ls, county, lb = await two_units(harness)
    LS, LB = UnitScope.of(1), UnitScope.of(lb)
    async with harness.db.transaction() as tx:
        everyone = {"kind": "all"}
        assert len(await cards.audience_members(tx, LS, everyone)) == 1  # 王建国
        lb_reps = await cards.audience_members(tx, LB, everyone)
        assert len(lb_reps) == 1 and lb_reps != await cards.audience_members(tx, LS, everyone)
        card = await cards.create(tx, LB, "征求意见", lb_reps[0], everyone, [("您的意见？", "free_text", [])], START)
        assert await cards.get(tx, LS, card) is None and await cards.tally(tx, LS, card) is None
        assert await cards.get(tx, LB, card) is not None
        assert await cards.recent(tx, LS, 10) == [] and [t.card.id for t in await cards.recent(tx, LB, 10)] == [card]
        assert await cards.awaiting_reminder(tx, LS) == []
        briefing = await briefings.create(tx, LB, "通报", "内容", lb_reps[0], everyone, [], START)
        assert await briefings.get(tx, LS, briefing) is None and await briefings.get(tx, LB, briefing) is not None
        await events.appoint(tx, LB, lb_reps[0], date(2026, 11, 27), None, None, START)
        assert [s.person_id for s in await events.supervisors(tx, LB, date(2026, 11, 28))] == lb_reps
        assert lb_reps[0] not in [s.person_id for s in await events.supervisors(tx, LS, date(2026, 11, 28))]


async def test_the_sweep_reminds_each_office_of_its_own_protests_and_half_year_report(harness: Harness) -> None:
    """§4: an unfiled protest is the office's of the unit that lodged it; §17: each unit's half-year report is marked
    sent for that unit alone, and the office of a unit that has not sent it is reminded, under its unit's key."""
    ls, county, lb = await two_units(harness)
    LS, LB = UnitScope.of(1), UnitScope.of(lb)
    async with harness.db.transaction() as tx:
        protest = await reports.add_entry(tx, LB, "protest", None, "张某盗窃案", "(2026)豫1282刑初1号",
                                          date(2026, 11, 20), "", 1, START)
        assert [e.id for e in await reports.unfiled_protests(tx, LB)] == [protest]
        assert await reports.unfiled_protests(tx, LS) == []
        assert await reports.entry(tx, LS, protest) is None
        assert not await reports.mark_filed(tx, LS, protest, date(2026, 11, 25), 1)  # not LS's to file
        assert await reports.mark_halfyear_sent(tx, LS, "2026H2", date(2026, 12, 20), 1, START)
        assert not await reports.mark_halfyear_sent(tx, LS, "2026H2", date(2026, 12, 21), 1, START)
        assert await reports.halfyear_sent_on(tx, LB, "2026H2") is None  # LS's report is not LB's
    seen = _counts(ls.office, county.office)
    harness.clock.set(at(date(2026, 12, 21), 10))  # a Monday, within the half-year report's weeks
    await harness.app.supervise()
    await harness.app.settle()
    county_news = [s.text for s in county.office.received[seen[county.office.user_id]:]]
    ls_news = [s.text for s in ls.office.received[seen[ls.office.user_id]:]]
    assert any("张某盗窃案" in t for t in county_news) and not any("张某盗窃案" in t for t in ls_news)
    async with harness.db.snapshot() as q:
        keys = {r[0] for r in await q.all("SELECT key FROM reminders WHERE rule = 'halfyear'")}
    assert keys == {f"unit{lb}:halfyear:2026H2:2026-12-21"}  # LS marked its report sent; LB has not
    async with harness.db.snapshot() as q:
        assert await reports.halfyear_sent_on(q, LB, "2026H2") is None
        assert await reports.halfyear_sent_on(q, LS, "2026H2") == date(2026, 12, 20)


class _Counting:
    """A snapshot that counts the statements run through it."""

    def __init__(self, q: Tx) -> None:
        self._q, self.statements = q, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._q, name)
        if name not in ("execute", "executemany", "one", "all", "scalar"):
            return attr

        async def counted(*args: Any) -> Any:
            self.statements += 1
            return await attr(*args)
        return counted


async def test_a_steady_sweep_reads_as_much_for_six_units_as_for_two(harness: Harness) -> None:
    """Each area's reminders are read once for all the units (handlers/oversight/reminders.py `Ticks`), not once per
    unit: on PostgreSQL each statement is a round trip, and a tick where nothing is due costs the same for a
    city and its twenty counties as for one county (docs/performance.md §9)."""
    async def statements() -> int:
        async with harness.db.snapshot() as q:
            counting = _Counting(q)
            assert await collect(cast(Tx, counting), harness.app.config, harness.clock.now(), REMINDERS)
        return counting.statements

    async def units_with_a_deputy(prefixes: str) -> None:
        for prefix in prefixes.split():
            async with harness.db.transaction() as tx:
                unit = (await units.add(tx, f"{prefix}县人民检察院", prefix, None, "Asia/Shanghai", START)).id
            await harness.add_representative(f"代表{prefix}", phone=f"1390000{unit:04d}", unit=unit)

    harness.clock.set(at(date(2026, 12, 21), 10))  # a Monday: the bulletin's, the quota's and the report's weeks
    await units_with_a_deputy("AA")
    await harness.app.supervise()  # everything due fires (quota, bulletin, half-year report, supervisors' number)
    two = await statements()
    await units_with_a_deputy("BB CC DD EE")
    fired = await harness.app.supervise()
    assert fired.fired.get("quota") == fired.fired.get("halfyear") == 4  # the new units' own, once each
    assert await statements() == two
