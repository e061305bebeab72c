"""bot/domain.py alone: the §12 clock, the §13 urging ladder, §14 reply quality, numbering (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot import domain

TZ = ZoneInfo("Asia/Shanghai")


def test_section_12_three_calendar_months_clamped_to_the_months_end() -> None:
    """§12: due three calendar months after registration; 30 November + 3 months is 28 February."""
    assert domain.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert domain.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert domain.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert domain.add_months(date(2026, 12, 5), 0) == date(2026, 12, 5)


def test_section_12_the_clock_starts_on_the_units_local_day() -> None:
    """§12: registered at 23:30 UTC on 31 August is 1 September in Asia/Shanghai."""
    assert domain.due_date(datetime(2026, 8, 31, 23, 30, tzinfo=UTC), 3, TZ) == date(2026, 12, 1)


def test_section_12_days_overdue_count_from_the_day_after() -> None:
    """§12: concluded *by* the due date: 0 on it, 1 the day after."""
    due = date(2026, 12, 5)
    assert domain.days_left(due, date(2026, 12, 1)) == 4
    assert [domain.days_overdue(due, date(2026, 12, d)) for d in (4, 5, 6, 8)] == [0, 0, 1, 3]


def test_section_13_weekly_while_overdue() -> None:
    """§13: the week of being overdue, None before."""
    due = date(2026, 12, 5)
    assert domain.overdue_week(due, date(2026, 12, 5)) is None
    assert [domain.overdue_week(due, date(2026, 12, d)) for d in (6, 12, 13, 20)] == [0, 0, 1, 2]


def test_section_13_the_urging_ladder_climbs_one_rung_per_urging_sent() -> None:
    """§13: handler, then department head, then the leaders (and stays there)."""
    assert [domain.urging_rung(n) for n in (0, 1, 2, 3, 9)] == [1, 2, 3, 3, 3]


def test_section_14_a_reply_states_its_outcome_and_grounds_not_too_briefly() -> None:
    """§14 reply quality: each part judged once written; the whole too."""
    least = domain.ReplyMinimums(outcome=20, grounds=10, whole=80)
    assert domain.reply_problem("短" * 19, None, least) == "outcome"
    assert domain.reply_problem("足" * 20, "短" * 9, least) == "grounds"
    assert domain.reply_problem("足" * 20, "足" * 59, least) == "whole"
    assert domain.reply_problem("足" * 20, "足" * 60, least) is None
    assert domain.reply_problem(None, None, least) is None


def test_section_12_an_extension_reaches_at_most_six_months_after_registration() -> None:
    """§12 申请延期."""
    assert domain.extension_cap(datetime(2026, 8, 31, 1, 0, tzinfo=UTC), TZ) == date(2027, 2, 28)


def test_a_matters_number_and_a_phone_compare_as_written() -> None:
    """§3: LS-2026-0001, one sequence a year; a phone number with or without +86 is one number."""
    assert domain.matter_number("LS", 2026, 1) == "LS-2026-0001"
    assert domain.normalise_phone("+86 138-0000-0000") == domain.normalise_phone("13800000000") == "13800000000"
    assert domain.is_referred("appeal") and not domain.is_referred("opinion")
