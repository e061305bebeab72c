"""Working days and hours on the mainland calendar: public holidays and the make-up working
days (调休) that the State Council publishes each year, from the maintained `chinese-calendar`
package. For a year the package does not know yet, Monday to Friday is assumed and a warning
is logged once: upgrade the package when the next year's schedule is published."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("the holiday calendar has no data for %d: assuming Monday to Friday (upgrade chinese-calendar)", year)


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def parse_hours(text: str) -> tuple[time, time]:
    """'08:30-18:00' -> (08:30, 18:00); raises ValueError for anything else."""
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    if start >= end:
        raise ValueError("the working day must end after it starts")
    return start, end


def is_working_time(moment: datetime, tz: ZoneInfo, hours: tuple[time, time]) -> bool:
    """Whether people may be reminded at this moment: a working day, within working hours."""
    local = moment.astimezone(tz)
    return is_workday(local.date()) and hours[0] <= local.time() < hours[1]
