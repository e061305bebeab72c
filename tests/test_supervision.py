"""Seed §12, §13, §16: supervision that runs by itself, exactly once per cause and period, in
working time only, surviving restarts — driven by a clock the test moves, never by sleeping."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bot.app import App
from bot.model import UnitScope
from bot.workdays import MAINLAND
from tests.cast import SHANGHAI, at
from tests.fakes import Harness, RecordingChannel


class World:
    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def setup(self) -> None:
        h = self.h
        self.dept = await h.add_department("第一检察部")
        self.office = await h.add_staff("陈静", ["office"])
        self.handler = await h.add_staff("刘洋", ["handler"], "第一检察部")
        self.head = await h.add_staff("吴刚", ["head"], "第一检察部")
        self.discipline = await h.add_staff("孙磊", ["discipline"])
        self.leader = await h.add_staff("周明", ["leader"])
        self.deputy = await h.add_representative("王建国", phone="13800000001")
        for n, person in enumerate([self.office, self.handler, self.head, self.discipline, self.leader, self.deputy]):
            await h.user(f"u{person}").say(f"/start {await h.invite(person)}")

    async def matter(self, registered: date, *, state: str = "assigned", major: bool = False,
                     due: date | None = None, assigned: bool = True) -> int:
        """A matter as the office left it: registered, assigned on the same day with an urger."""
        from bot.domain import add_months

        stamp = at(registered, 10).isoformat(timespec="milliseconds")
        async with self.h.db.transaction() as tx:
            count = await tx.scalar("SELECT COUNT(*) FROM matters")
            matter_id = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, major, department_id,"
                " urger_id, registered_at, due_date, updated_at, last_action_at) VALUES"
                " (?, 'report', ?, ?, '内容', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (f"LS-2026-{count + 1:04d}", self.deputy, f"事项{count + 1}", state, int(major),
                 self.dept if assigned else None, self.office if assigned else None, stamp,
                 (due or add_months(registered, 3)).isoformat(), stamp, stamp),
            )
            await tx.execute("INSERT INTO timeline (matter_id, at, event, public, detail) VALUES (?, ?, 'registered',"
                             " 1, '{}')", (matter_id, stamp))
            if assigned:
                await tx.execute("INSERT INTO timeline (matter_id, at, actor_id, event, public, detail) VALUES"
                                 " (?, ?, ?, 'assigned', 1, '{}')", (matter_id, stamp, self.office))
        return matter_id

    async def tick(self, moment: datetime) -> dict[str, int]:
        self.h.clock.set(moment)
        result = await self.h.app.supervise()
        await self.h.app.settle()
        return result.fired

    async def fired(self) -> list[tuple[str, str]]:
        async with self.h.db.snapshot() as q:
            return [(r["rule"], r["fired_at"]) for r in await q.all("SELECT rule, fired_at FROM reminders ORDER BY key")]

    def texts_to(self, person_id: int) -> list[str]:
        return [s.text for s in self.h.channel.sent if s.chat_id == f"u{person_id}" and s.op == "message"]


@pytest.fixture
async def world(harness: Harness) -> World:
    w = World(harness)
    await w.setup()
    return w


def test_the_mainland_calendar_counts_holidays_and_make_up_days() -> None:
    assert not MAINLAND.is_workday(date(2026, 10, 1))  # National Day
    assert MAINLAND.is_workday(date(2026, 10, 10))  # a Saturday worked in exchange (调休)
    assert not MAINLAND.is_workday(date(2026, 2, 17))  # Spring Festival
    assert MAINLAND.is_workday(date(2027, 3, 1)) and not MAINLAND.is_workday(date(2027, 3, 6))  # beyond the package: Mon-Fri
    hours = (datetime.strptime("08:30", "%H:%M").time(), datetime.strptime("18:00", "%H:%M").time())
    assert MAINLAND.is_working_time(at(date(2026, 11, 27), 8, 30), SHANGHAI, hours)
    assert not MAINLAND.is_working_time(at(date(2026, 11, 27), 8, 29), SHANGHAI, hours)
    assert not MAINLAND.is_working_time(at(date(2026, 11, 27), 18, 0), SHANGHAI, hours)


def test_declared_days_correct_the_package_and_stand_in_for_a_year_it_lacks(caplog: pytest.LogCaptureFixture) -> None:
    """The State Council publishes a year's schedule in November; the package may follow months later.
    Until then the office declares the year under [calendar]: no guessing, and no warning."""
    from bot.workdays import Calendar, parse_days

    calendar = Calendar(parse_days(["2027-01-01", "2027-02-08/2027-02-12", "2026-11-27"]),
                        parse_days(["2027-02-20"]))
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        assert not calendar.is_workday(date(2027, 2, 10))  # declared off (a Wednesday)
        assert calendar.is_workday(date(2027, 2, 20))  # declared worked (a Saturday)
        assert not calendar.is_workday(date(2027, 2, 21)) and calendar.is_workday(date(2027, 3, 1))  # else Mon-Fri
        assert not calendar.is_workday(date(2026, 11, 27))  # a declared day wins over the package
        assert calendar.is_workday(date(2026, 11, 26)) and not calendar.is_workday(date(2026, 10, 1))  # the package
    assert caplog.records == []
    assert (calendar.source(2026), calendar.source(2027), calendar.source(2028)) == ("package", "config", "weekdays")
    assert calendar.exceptions(2027) == [(date(2027, 1, 1), False)] + [
        (date(2027, 2, d), False) for d in range(8, 13)] + [(date(2027, 2, 20), True)]


def test_a_year_nobody_knows_is_monday_to_friday_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    from bot.workdays import Calendar, _warn_unknown_year

    _warn_unknown_year.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        assert Calendar().is_workday(date(2031, 3, 3)) and not Calendar().is_workday(date(2031, 3, 8))
    [warning] = caplog.records  # once, however often asked
    assert warning.getMessage().startswith("the holiday calendar has no data for 2031: assuming Monday to Friday")


async def test_reminders_wait_out_a_declared_holiday_and_go_on_a_declared_make_up_day(world: World) -> None:
    """§12-§13 reminders are sent in working time only; in a year the package lacks, that is the declared one."""
    from bot.workdays import Calendar, parse_days

    await world.matter(date(2026, 11, 23), due=date(2027, 2, 24))
    app = world.h.app
    app.config = dataclasses.replace(app.config, calendar=Calendar(parse_days(["2027-02-08/2027-02-19"]),
                                                                   parse_days(["2027-02-20"])))
    assert await world.tick(at(date(2027, 2, 10), 10)) == {}  # 14 days before the due date, a declared holiday
    assert await world.tick(at(date(2027, 2, 17), 10)) == {}  # 7 days before: still the holiday
    assert (await world.tick(at(date(2027, 2, 20), 10)))["due_soon"] == 1  # the Saturday worked in exchange


async def test_s12_due_soon_reaches_the_department_and_the_urger_once(world: World) -> None:
    m = await world.matter(date(2026, 8, 3), due=date(2026, 12, 1))
    assert "due_soon" not in await world.tick(at(date(2026, 10, 30)))  # 32 days left: not yet
    assert (await world.tick(at(date(2026, 11, 2))))["due_soon"] == 1  # 29 days: the 30-day notice
    assert "due_soon" not in await world.tick(at(date(2026, 11, 2), 10))  # the same day again: nothing twice
    assert sum(t.startswith("办理期限临近") for t in world.texts_to(world.handler)) == 1
    assert len([t for t in world.texts_to(world.office) if "办理期限临近" in t]) == 1  # the urger
    assert not [t for t in world.texts_to(world.discipline) if t.startswith("办理期限临近")]  # not theirs
    assert m


async def test_thresholds_fire_in_turn_and_only_the_most_urgent_after_downtime(world: World) -> None:
    await world.matter(date(2026, 8, 3), due=date(2026, 12, 1))
    assert (await world.tick(at(date(2026, 11, 2))))["due_soon"] == 1  # 29 days: the 30-day notice
    assert (await world.tick(at(date(2026, 11, 17))))["due_soon"] == 1  # 14 days
    # the bot was down from 18 to 29 November: only the 3-day notice is due, not the 7-day one too
    assert (await world.tick(at(date(2026, 11, 30))))["due_soon"] == 1
    async with world.h.db.snapshot() as q:
        keys = [r[0] for r in await q.all("SELECT key FROM reminders WHERE rule = 'due_soon' ORDER BY fired_at")]
    assert keys == ["due:30:1:2026-12-01", "due:14:1:2026-12-01", "due:3:1:2026-12-01"]


async def test_s13_overdue_goes_to_both_lines_weekly(world: World) -> None:
    await world.matter(date(2026, 8, 3), due=date(2026, 11, 2))
    assert (await world.tick(at(date(2026, 11, 3))))["overdue"] == 1
    for person in (world.handler, world.office, world.discipline):  # office + department, and discipline
        assert sum("已逾期：办理期限为" in t for t in world.texts_to(person)) == 1
    assert "overdue" not in await world.tick(at(date(2026, 11, 6)))
    assert (await world.tick(at(date(2026, 11, 10))))["overdue"] == 1  # a week on: again


async def test_nobody_is_reminded_outside_working_time(world: World) -> None:
    await world.matter(date(2026, 7, 1), due=date(2026, 10, 20))
    assert await world.tick(at(date(2026, 10, 1), 10)) == {}  # National Day
    assert await world.tick(at(date(2026, 10, 9), 19)) == {}  # evening
    assert await world.tick(at(date(2026, 10, 9), 7)) == {}  # before 08:30
    assert (await world.tick(at(date(2026, 10, 10), 9)))["due_soon"] == 1  # a make-up Saturday is a working day


async def test_s12_a_major_matter_without_a_progress_notice_is_prompted_then_escalated(world: World) -> None:
    await world.matter(date(2026, 8, 3), due=date(2026, 11, 10), major=True)
    fired = await world.tick(at(date(2026, 11, 3)))
    assert fired["major_notice"] == 1
    assert sum(t.startswith("应通报进展情况") for t in world.texts_to(world.handler)) == 1
    fired = await world.tick(at(date(2026, 11, 10)))
    assert fired["major_escalate"] == 1
    assert any("LS-2026-0001" in t for t in world.texts_to(world.discipline))


async def test_a_progress_notice_satisfies_the_major_rule(world: World) -> None:
    m = await world.matter(date(2026, 8, 3), due=date(2026, 11, 10), major=True)
    async with world.h.db.transaction() as tx:
        await tx.execute("INSERT INTO timeline (matter_id, at, event, public, detail) VALUES"
                         " (?, ?, 'progress_public', 1, '{}')", (m, at(date(2026, 10, 20)).isoformat()))
    fired = await world.tick(at(date(2026, 11, 3)))
    assert "major_notice" not in fired


async def test_s13_the_urging_ladder_handler_then_head_then_leader(world: World) -> None:
    m = await world.matter(date(2026, 11, 2), due=date(2027, 2, 2))
    assert "urge" not in await world.tick(at(date(2026, 11, 6)))
    assert (await world.tick(at(date(2026, 11, 9))))["urge"] == 1
    assert (await world.tick(at(date(2026, 11, 16))))["urge"] == 1
    assert (await world.tick(at(date(2026, 11, 23))))["urge"] == 1
    assert sum("第1次" in t for t in world.texts_to(world.handler)) == 1
    assert sum("第2次" in t for t in world.texts_to(world.head)) == 1
    assert sum("第3次" in t for t in world.texts_to(world.leader)) == 1
    async with world.h.db.snapshot() as q:
        urged = [r[0] for r in await q.all("SELECT detail FROM timeline WHERE matter_id = ? AND event = 'urged'", (m,))]
    assert urged == ['{"count": 1, "level": 1}', '{"count": 2, "level": 2}', '{"count": 3, "level": 3}']


async def test_s16_no_action_for_fourteen_days_is_flagged_to_discipline(world: World) -> None:
    await world.matter(date(2026, 11, 2), due=date(2027, 2, 2))
    assert "stale" not in await world.tick(at(date(2026, 11, 13)))
    assert (await world.tick(at(date(2026, 11, 16))))["stale"] == 1
    flag = [t for t in world.texts_to(world.discipline) if "敷衍塞责" in t][-1]
    assert "刘洋" in flag and "吴刚" in flag


async def test_s13_the_monthly_bulletin_once_a_month(world: World) -> None:
    await world.matter(date(2026, 11, 2), due=date(2026, 12, 3))
    assert (await world.tick(at(date(2026, 12, 1))))["bulletin"] == 1
    assert "bulletin" not in await world.tick(at(date(2026, 12, 2)))
    text = [t for t in world.texts_to(world.leader) if t.startswith("办理进展情况定期通报（2026年12月）")]
    [bulletin] = text
    assert bulletin.startswith("办理进展情况定期通报（2026年12月）\n第一检察部：在办 1 件，7日内到期 1 件，逾期 0 件\n尚未交办：0 件\n\n")
    assert bulletin.splitlines()[-1].startswith("审计日志：共")  # the head, kept outside the database (issue 15)


async def test_an_unrated_reply_is_asked_about_once_then_recorded_as_unrated(world: World) -> None:
    m = await world.matter(date(2026, 8, 3), state="replied", due=date(2026, 11, 3))
    async with world.h.db.transaction() as tx:
        await tx.execute("INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by,"
                         " drafted_at, sent_at) VALUES (?, 1, 'reply', '答复内容', '依据', 'chat', 'sent', ?, ?, ?)",
                         (m, world.handler, at(date(2026, 11, 2)).isoformat(), at(date(2026, 11, 2)).isoformat()))
    assert "rerate" not in await world.tick(at(date(2026, 11, 11)))
    assert (await world.tick(at(date(2026, 11, 12))))["rerate"] == 1
    assert world.texts_to(world.deputy)[-1].startswith("答复")
    assert "rerate" not in await world.tick(at(date(2026, 11, 13)))
    assert (await world.tick(at(date(2026, 11, 23))))["unrated"] == 1
    async with world.h.db.snapshot() as q:
        assert tuple(await q.one("SELECT m.state, r.rating FROM matters m JOIN replies r ON r.matter_id = m.id")) == (
            "closed", "unrated")


@pytest.mark.slow(20)
async def test_a_year_with_a_restart_and_holidays(world: World) -> None:
    """A whole year, ticking every four hours: every reminder once, none outside working time, and the
    ones that fell due while the bot was down fired when it came back."""
    h = world.h
    await world.matter(date(2026, 1, 5), due=date(2026, 4, 10))
    await world.matter(date(2026, 3, 2), due=date(2026, 6, 2), major=True)
    await world.matter(date(2026, 9, 1), due=date(2026, 12, 1))
    moment = at(date(2026, 1, 5), 1)
    end = at(date(2026, 12, 31), 23)
    restarted = False
    while moment <= end:
        local = moment.astimezone(SHANGHAI)
        if not restarted and local.date() >= date(2026, 7, 1):
            # a restart: a new process on the same database, after three days down
            await h.app.close()
            moment += timedelta(days=3)
            h.clock.set(moment)
            h.app = h.clock.pace(await App.open(h.app.config, h.clock))
            channel = RecordingChannel(h.app.files)
            channel.sent = h.channel.sent
            h.app.add_channel(channel)
            h.channel = channel
            restarted = True
        await world.tick(moment)
        moment += timedelta(hours=4)  # 01, 05, 09, 13, 17, 21 o'clock: three in working hours, three out
    async with h.db.snapshot() as q:
        rows = await q.all("SELECT key, rule, fired_at FROM reminders")
        sent = await q.all("SELECT dedup_key, created_at FROM outbox WHERE dedup_key IS NOT NULL")
    hours = h.app.config.supervision.hours
    assert all(MAINLAND.is_working_time(datetime.fromisoformat(r["fired_at"]), SHANGHAI, hours) for r in rows)
    assert len({r["dedup_key"] for r in sent}) == len(sent)  # nobody told the same thing twice
    by_rule = Counter(r["rule"] for r in rows)
    assert by_rule["bulletin"] == 12
    assert by_rule["due_soon"] == 3 * 4  # 30, 14, 7 and 3 days before, for each of the three
    assert by_rule["major_notice"] == 1 and by_rule["major_escalate"] == 1
    keys = {r["key"] for r in rows}
    assert "due:3:1:2026-04-10" in keys and "bulletin:2026-07" in keys  # July's bulletin, fired after the restart
    july = [r for r in rows if r["key"] == "bulletin:2026-07"][0]
    assert datetime.fromisoformat(july["fired_at"]).astimezone(SHANGHAI).date() == date(2026, 7, 6)


async def test_the_scheduler_ticks_on_the_bots_own_loop_from_start_up(world: World) -> None:
    """APScheduler runs the sweep at start-up (what fell due while down goes out at once), then every few minutes."""
    import asyncio

    await world.matter(date(2026, 8, 3), due=date(2026, 11, 20))
    world.h.clock.set(at(date(2026, 11, 2)))
    stop = asyncio.Event()
    running = asyncio.create_task(world.h.app.run([], stop))
    try:
        async def fired() -> None:
            while not [t for t in world.texts_to(world.handler) if t.startswith("办理期限临近")]:
                world.h.channel.delivered.clear()
                await world.h.channel.delivered.wait()

        await asyncio.wait_for(fired(), timeout=15)
    finally:
        stop.set()
        await running


async def test_a_tick_cut_off_by_the_bot_stopping_is_no_error(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """The bot stopped in the middle of a tick (`:quit` at once in the console): the next start does it again, so
    the log says so, with no error and no traceback."""
    import asyncio

    from bot.scheduler import Ticker

    started = asyncio.Event()

    async def tick() -> None:
        started.set()
        await asyncio.Event().wait()  # a tick under way when the bot stops

    ticker = Ticker(world.h.app.config, world.h.clock, tick)
    running = asyncio.create_task(ticker._run())
    await started.wait()
    running.cancel()
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        await running
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.scheduler"] == [
        ("INFO", "sweep: stopped with the bot, to be done again at the next start")]


async def test_s16_discipline_sees_the_idle_matters_in_its_inbox(world: World) -> None:
    await world.matter(date(2026, 10, 8), due=date(2027, 1, 8))
    await world.matter(date(2026, 11, 20), due=date(2027, 2, 20))
    world.h.clock.set(at(date(2026, 11, 27)))
    listing = await world.h.user(f"u{world.discipline}").say("/inbox")
    assert listing[1].text.startswith("14 天以上无办理动作（1 件）\nLS-2026-0001")  # after the counts (gap 9)
    assert "LS-2026-0002" not in listing[1].text


async def test_s11_the_office_is_told_who_is_not_yet_contacted_monthly_and_weekly_before_summaries(
        world: World) -> None:
    other = await world.h.add_representative("李秀梅", body="cppcc", phone="13800000002", sector="教育界")
    async with world.h.db.transaction() as tx:
        from storage import contacts

        await contacts.add(tx, 1, world.deputy, "forum", date(2026, 3, 3), world.office, "", "chat",
                           world.h.clock.now())
    assert (await world.tick(at(date(2026, 3, 2))))["quota"] == 1  # March: monthly
    assert "quota" not in await world.tick(at(date(2026, 3, 9)))
    assert "quota" not in await world.tick(at(date(2026, 3, 31)))
    report = [t for t in world.texts_to(world.office) if "李秀梅" in t][-1]
    assert "王建国" not in report.split("\n", 3)[-1]  # contacted on 3 March: not listed
    assert (await world.tick(at(date(2026, 5, 6))))["quota"] == 1  # May: weekly
    assert (await world.tick(at(date(2026, 5, 11))))["quota"] == 1
    assert "quota" not in await world.tick(at(date(2026, 5, 12)))
    async with world.h.db.transaction() as tx:
        await contacts.add(tx, 1, other, "letter", date(2026, 5, 12), world.office, "", "chat", world.h.clock.now())
    assert "quota" not in await world.tick(at(date(2026, 5, 18)))  # everyone contacted: nothing to say


async def test_s11_a_sent_reply_counts_as_a_contact(harness: Harness) -> None:
    from tests.cast import Cast

    cast = await Cast.replied(harness)
    async with harness.db.snapshot() as q:
        row = await q.one("SELECT method, source, source_ref FROM contacts")
    assert tuple(row) == ("letter", "reply", "LS-2026-0001")


async def test_a_cannot_be_met_reply_is_asked_about_again_like_any_other(harness: Harness) -> None:
    """A reply given at once (cannot be met) is sent when written: the rating rule finds its date."""
    from tests.cast import GROUNDS, REPLY_BODY, Cast

    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("无法满足")
    await cast.office.say(REPLY_BODY)
    await cast.office.say(GROUNDS)
    await cast.office.press("确认")
    world = World(harness)
    fired = await world.tick(harness.clock.now() + timedelta(days=12))
    assert fired.get("rerate") == 1
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM replies WHERE sent_at IS NULL") == 0


async def test_a_days_reminders_fire_in_short_transactions_and_a_failure_loses_none(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many reminders at once (a province's 09:00 tick) are fired a batch per transaction, so people's
    updates are not held up for seconds; a batch that fails rolls back alone, and the next tick sends
    what it held — each reminder once, with its messages."""
    from handlers.oversight import sweep as rules
    from storage import matters as matter_store

    monkeypatch.setattr(rules, "FIRE_BATCH", 2)
    for _ in range(5):
        await world.matter(date(2026, 8, 3), due=date(2026, 11, 2))  # five overdue matters, urged too
    real_add_event = matter_store.add_event
    calls = {"n": 0}

    async def failing_once(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second urging: its batch (the 2nd and 3rd urgings) fails
            raise RuntimeError("disk full")
        await real_add_event(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matter_store, "add_event", failing_once)
    with pytest.raises(RuntimeError):
        await world.tick(at(date(2026, 11, 9)))
    first = Counter(rule for rule, _ in await world.fired())
    # batches: 5 overdue notices and the first urging committed, then the failing batch rolled back whole
    assert first == {"overdue": 5, "urge": 1}
    async with world.h.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM timeline WHERE event = 'urged'") == 1
    fired = await world.tick(at(date(2026, 11, 9), 10))  # (with the rest of that day's rules, held up too)
    assert fired["urge"] == 4 and "overdue" not in fired
    assert Counter(rule for rule, _ in await world.fired() if rule in ("overdue", "urge")) == {"overdue": 5, "urge": 5}
    overdue_notices = [t for t in world.texts_to(world.handler) if "已逾期：办理期限为" in t]
    assert len(overdue_notices) == 5  # each matter's once: nothing lost, nothing twice
    async with world.h.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(DISTINCT matter_id) FROM timeline WHERE event = 'urged'") == 5
        assert await q.scalar("SELECT COUNT(*) FROM timeline WHERE event = 'urged'") == 5


# -- issue 18: supervision's clock ------------------------------------------------------------------


def overdue_texts(world: World, person: int) -> list[str]:
    return [t for t in world.texts_to(person) if t.startswith("已逾期")]


async def test_s12_nothing_is_overdue_on_its_due_date_itself(world: World) -> None:
    """§12: a matter is to be concluded *by* its due date; on that day nobody is told it is overdue,
    and no weekly slot is used up (the reminders table and the outbox are untouched)."""
    await world.matter(date(2026, 8, 24), due=date(2026, 11, 24))  # due on a Tuesday
    assert "overdue" not in await world.tick(at(date(2026, 11, 24), 10))
    assert "overdue" not in await world.tick(at(date(2026, 11, 24), 17, 30))
    async with world.h.db.snapshot() as q:
        assert await q.scalar("SELECT COUNT(*) FROM reminders WHERE rule = 'overdue'") == 0
        assert await q.scalar("SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'overdue:%'") == 0
    for person in (world.office, world.handler, world.head, world.discipline):
        assert overdue_texts(world, person) == []
    card = await world.h.user(f"u{world.office}").say("/case LS-2026-0001")
    assert "办理期限：2026年11月24日" in card[0].text.split("\n")  # and not "overdue"


async def test_s12_overdue_from_the_day_after_its_due_date_counted_in_calendar_days(world: World) -> None:
    """§12, §13: the day after the due date the matter is one day overdue, and both lines are told."""
    await world.matter(date(2026, 8, 24), due=date(2026, 11, 24))
    await world.tick(at(date(2026, 11, 24), 10))
    assert (await world.tick(at(date(2026, 11, 25), 9)))["overdue"] == 1
    for person in (world.handler, world.head, world.office, world.discipline):
        [text] = overdue_texts(world, person)
        assert "期限为2026年11月24日，已逾期 1 天。" in text
    assert "overdue" not in await world.tick(at(date(2026, 11, 25), 15))  # once for its week


async def test_s13_after_a_weekend_the_first_working_day_says_three_days_then_weekly(world: World) -> None:
    """§13 at set intervals: due on a Friday, the first overdue notice goes on Monday, three days after;
    the next week's goes the Monday after, ten days after; the count is the calendar days in between."""
    await world.matter(date(2026, 8, 27), due=date(2026, 11, 27))  # a Friday
    assert "overdue" not in await world.tick(at(date(2026, 11, 27), 10))  # the due date
    assert await world.tick(at(date(2026, 11, 28), 10)) == {}  # Saturday: nobody is reminded
    assert (await world.tick(at(date(2026, 11, 30), 9)))["overdue"] == 1  # Monday
    assert "overdue" not in await world.tick(at(date(2026, 12, 4), 9))  # seven days after: the same week
    assert (await world.tick(at(date(2026, 12, 7), 9)))["overdue"] == 1  # the next Monday: the next week
    days = [t.split("已逾期 ")[1].split(" 天")[0] for t in overdue_texts(world, world.handler)]
    assert days == ["3", "10"]


async def test_s13_overdue_after_two_weeks_down_goes_once_with_the_true_count(world: World) -> None:
    """SPEC §5: an overdue notice that fell due while the bot was down goes once when it comes back."""
    await world.matter(date(2026, 8, 2), due=date(2026, 11, 2))
    assert (await world.tick(at(date(2026, 11, 17), 9)))["overdue"] == 1  # first tick in fifteen days
    assert "overdue" not in await world.tick(at(date(2026, 11, 17), 13))
    [text] = overdue_texts(world, world.discipline)
    assert "已逾期 15 天。" in text


async def test_s13_after_two_weeks_down_the_urging_ladder_starts_with_the_handler(world: World) -> None:
    """§13: the named urger presses the handler first, then the department head, then the leaders, one
    step per urging actually sent; the urging that fell due while the bot was down goes once (SPEC §5)."""
    m = await world.matter(date(2026, 11, 2), due=date(2027, 2, 2))
    assert (await world.tick(at(date(2026, 11, 18), 9)))["urge"] == 1  # first tick, sixteen days after assignment
    assert "urge" not in await world.tick(at(date(2026, 11, 18), 13))
    assert "urge" not in await world.tick(at(date(2026, 11, 20), 9))
    assert [t for t in world.texts_to(world.handler) if "催办" in t][0].startswith("催办\n第1次催办")
    assert not [t for t in world.texts_to(world.head) if "次催办" in t]
    assert (await world.tick(at(date(2026, 11, 23), 9)))["urge"] == 1  # the next weekly slot: the head
    assert [t for t in world.texts_to(world.head) if "次催办" in t][0].startswith("催办\n第2次催办")
    assert (await world.tick(at(date(2026, 11, 30), 9)))["urge"] == 1  # then the leaders
    assert [t for t in world.texts_to(world.leader) if "次催办" in t][0].startswith("催办\n第3次催办")
    async with world.h.db.snapshot() as q:
        urged = [r[0] for r in await q.all("SELECT detail FROM timeline WHERE matter_id = ? AND event = 'urged'"
                                           " ORDER BY id", (m,))]
    assert urged == ['{"count": 1, "level": 1}', '{"count": 2, "level": 2}', '{"count": 3, "level": 3}']


async def test_s12_the_card_the_digest_the_report_and_the_notice_say_the_same_days_overdue(world: World) -> None:
    """§12, §13, §17: three days after its due date a matter is three days overdue wherever it is said."""
    from handlers.reports.figures import HalfYear, half_year

    await world.matter(date(2026, 8, 27), due=date(2026, 11, 27))
    await world.tick(at(date(2026, 11, 30), 9))
    [notice] = overdue_texts(world, world.handler)
    assert "已逾期 3 天。" in notice
    card = await world.h.user(f"u{world.office}").say("/case LS-2026-0001")
    assert "办理期限：2026年11月27日（已逾期 3 天）" in card[0].text.split("\n")
    overview = await world.h.user(f"u{world.office}").say("/overview")
    assert "所列事项中逾期 1 件" in overview[0].text
    digest = "\n".join(s.text for s in await world.h.user(f"u{world.leader}").say("/digest"))
    assert "2026年11月27日到期，已逾期 3 天" in digest
    async with world.h.db.snapshot() as q:
        figures = await half_year(q, UnitScope.of(1), HalfYear(2026, 2), date(2026, 11, 30), SHANGHAI, "某县人民检察院")
    assert [(o.number, o.days) for o in figures.overdue] == [("LS-2026-0001", 3)]
