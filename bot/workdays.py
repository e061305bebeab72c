"""Working days and hours on the mainland calendar: public holidays and the make-up working
days (调休) that the State Council publishes each year, from the maintained `chinese-calendar`
package, corrected by the days the operator declares in the configuration (`[calendar]`), which
is how a year's schedule is entered before a package that knows it is released. For a year
neither knows, Monday to Friday is assumed and a warning is logged once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("the holiday calendar has no data for %d: assuming Monday to Friday (declare the year's holidays"
                " and make-up working days under [calendar], or upgrade chinese-calendar)", year)


def _package_workday(day: date) -> bool | None:
    """What chinese-calendar says of `day`; None for a year it does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class Calendar:
    """The working days: the package's, then `holidays` off and `workdays` on, as declared."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        known = _package_workday(day)
        if known is not None:
            return known
        if not self.declares(day.year):
            _warn_unknown_year(day.year)
        return day.weekday() < 5

    def declares(self, year: int) -> bool:
        """Whether the configuration gives this year's schedule (then Monday to Friday is no guess)."""
        return any(d.year == year for d in self.holidays | self.workdays)

    def source(self, year: int) -> str:
        """Where this year's working days come from: 'package', 'config' (a year the package lacks), or 'weekdays'."""
        if _package_workday(date(year, 7, 1)) is not None:
            return "package"
        return "config" if self.declares(year) else "weekdays"

    def exceptions(self, year: int) -> list[tuple[date, bool]]:
        """The days of `year` whose status differs from Monday to Friday: (day, is a working day)."""
        day, found = date(year, 1, 1), []
        while day.year == year:
            working = self.is_workday(day)
            if working != (day.weekday() < 5):
                found.append((day, working))
            day += timedelta(days=1)
        return found

    def is_working_time(self, moment: datetime, tz: ZoneInfo, hours: tuple[time, time]) -> bool:
        """Whether people may be reminded at this moment: a working day, within working hours."""
        local = moment.astimezone(tz)
        return self.is_workday(local.date()) and hours[0] <= local.time() < hours[1]


MAINLAND = Calendar()  # the package alone


def parse_days(values: list[object]) -> frozenset[date]:
    """Days as the configuration writes them: a TOML date, "YYYY-MM-DD", or a range "YYYY-MM-DD/YYYY-MM-DD"
    (at most 31 days). Raises ValueError naming the entry."""
    found: set[date] = set()
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            found.add(value)
            continue
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)")
        try:
            first, slash, last = value.strip().partition("/")
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if slash else start
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)") from None
        if not start <= end <= start + timedelta(days=30):
            raise ValueError(f"{value!r}: a range must go forward and span at most 31 days")
        found.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(found)


def format_days(days: list[date]) -> str:
    """Sorted days as parse_days reads them, runs as ranges: '2027-02-08/2027-02-12 (5 days)', and a
    day alone with its weekday: '2027-02-20 (Sat)'."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]:%Y-%m-%d} ({r[0]:%a})" if len(r) == 1 else
                     f"{r[0]:%Y-%m-%d}/{r[-1]:%Y-%m-%d} ({len(r)} days)" for r in runs)


def parse_hours(text: str) -> tuple[time, time]:
    """'08:30-18:00' -> (08:30, 18:00); raises ValueError for anything else."""
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    if start >= end:
        raise ValueError("the working day must end after it starts")
    return start, end
