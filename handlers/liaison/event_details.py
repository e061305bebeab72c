"""What every event needs, whether the office types it in chat or the operator gives it on the command
line (seed §5, §15): a kind, a title and a place within their lengths, a time in the future (`parse_when`
reads it as people write it), and the day its preparation is due (`prepare_by`)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.errors import UserError
from bot.workdays import Calendar
from handlers.liaison.event_notices import KIND_LABELS

PREPARE_WORKING_DAYS: Final = 3  # seed §15 "prepare in advance": the default deadline
MAX_TITLE: Final = 100
MAX_PLACE: Final = 100


_WHEN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*日\s*|\s+)(\d{1,2})\s*[:：]\s*(\d{2})$")


def parse_when(text: str, tz: ZoneInfo) -> datetime | None:
    """'2026-12-05 09:30' (or 2026/12/5 9:30, 2026年12月5日 9:30), local time, as a UTC moment; None if not one."""
    found = _WHEN.match(unicodedata.normalize("NFKC", text).strip())  # full-width digits and colon too
    if found is None:
        return None
    year, month, day, hour, minute = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):  # not a day, or (year 1, year 9999) a moment UTC cannot hold
        return None


def prepare_by(day: date, today: date, calendar: Calendar, working_days: int = PREPARE_WORKING_DAYS) -> date:
    """The preparation deadline: `working_days` working days before the event's day, but never before today."""
    deadline, left = day, working_days
    while left:
        deadline -= timedelta(days=1)
        if calendar.is_workday(deadline):
            left -= 1
    return max(deadline, today)


def check_details(ctx: Context, *, kind: str | None = None, title: str | None = None, place: str | None = None,
                  starts_at: datetime | None = None) -> None:
    """What every event needs, whether typed in chat or given on the command line: the parts given."""
    if kind is not None and kind not in KIND_LABELS:
        raise UserError("Please choose the kind of event.")
    if title is not None and (not title.strip() or len(title) > MAX_TITLE):
        raise UserError("The title is 1 to {max} characters.", max=MAX_TITLE)
    if place is not None and (not place.strip() or len(place) > MAX_PLACE):
        raise UserError("The place is 1 to {max} characters.", max=MAX_PLACE)
    if starts_at is not None and starts_at <= ctx.now:
        raise UserError("{when} has passed. Please give a time in the future.",
                        when=ctx._.datetime(starts_at))

