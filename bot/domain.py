"""Pure rules: kinds of matter, roles, deadlines and numbering (seed §3, §12, §14); the matter's states and
transitions are in `bot/matter/`.

Nothing here does I/O; every function is deterministic given its arguments, so the
rules can be tested directly and named by the clause they implement.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

# The six kinds, in the order a representative is offered them (SPEC §3).
RAISED_KINDS: Final = ("suggestion", "criticism", "opinion")  # 建议 批评 意见
REFERRED_KINDS: Final = ("report", "accusation", "appeal")  # 举报 控告 申诉 (§12)
KINDS: Final = RAISED_KINDS + REFERRED_KINDS

Kind = Literal["suggestion", "criticism", "opinion", "report", "accusation", "appeal"]

BODIES: Final = ("npc", "cppcc")  # 人大代表 政协委员

# Staff roles (SPEC §1); a representative is a person with a body, not a role.
STAFF_ROLES: Final = ("office", "handler", "head", "discipline", "leader", "admin")

# A matter's states and transitions are the matter's own: bot/matter/ (states, model, life).

CHANNELS_OF_RECEIPT: Final = ("chat", "letter", "meeting", "visit", "phone", "other")


def is_referred(kind: str) -> bool:
    """A referred case (§12) carries a complainant's personal data and a three-month clock."""
    return kind in REFERRED_KINDS


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, clamped to the month's end (30 Nov + 3 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(registered_at: datetime, months: int, tz: ZoneInfo) -> date:
    """§12: a matter is due `months` calendar months after the local day it was registered."""
    return add_months(registered_at.astimezone(tz).date(), months)


def days_left(due: date, today: date) -> int:
    """§12: calendar days from `today` to the due date: 0 on the due date itself, negative after it."""
    return (due - today).days


def days_overdue(due: date, today: date) -> int:
    """§12: calendar days after the due date (both local days of the unit): a matter is to be concluded
    *by* its due date, so it is 0 on that day, 1 the day after, 3 on the 8th for the 5th. The one count
    of "days overdue" that the reminders, the digest, the half-year report and the card all say."""
    return max(0, -days_left(due, today))


def overdue_week(due: date, today: date) -> int | None:
    """§13 weekly while overdue: which week of being overdue `today` is in (0 for the first seven days
    after the due date, 1 for the next seven...), None while not overdue."""
    days = days_overdue(due, today)
    return (days - 1) // 7 if days else None


URGING_LADDER: Final = 3
"""§13: the urger presses the handler (1st urging), then the department head (2nd), then the leaders (3rd on)."""


def urging_rung(urged_before: int) -> int:
    """§13: the rung of the next urging, one step up per urging actually sent since the assignment (the
    urgings a stopped bot did not send are not climbed over)."""
    return min(urged_before + 1, URGING_LADDER)


def matter_number(prefix: str, year: int, sequence: int) -> str:
    """The public number of a matter, e.g. LS-2026-0001 (never reused: one sequence per year)."""
    return f"{prefix}-{year}-{sequence:04d}"


# A matter's number as the receipts and notices write it: the unit's prefix (storage/units.PREFIX), year, sequence
_MATTER_NUMBER = re.compile(r"[A-Z][A-Z0-9]{0,9}-\d{4}-\d{1,6}")
QUOTES = "“”\"'「」‘’ "  # around a command's words or a number copied from a message


def typed_matter_number(text: str) -> str | None:
    """The matter number a message is, alone ("LS-2026-0001", typed or copied, in any case), or None."""
    number = text.strip().strip(QUOTES).upper()
    return number if _MATTER_NUMBER.fullmatch(number) else None


def valid_userid(userid: str) -> bool:
    """A WeCom userid: 1-64 letters, digits and _-@., the first a letter or a digit (the corp's own account names;
    90195 创建成员)."""
    return (0 < len(userid) <= 64 and userid.isascii() and userid[0].isalnum()
            and all(c.isalnum() or c in "_-@." for c in userid))


def member_id(userid: str) -> str:
    """A userid as the bot keeps it, and as the WeCom channel reads callbacks (bot/channels/wecom.py member_of):
    lower case, WeCom's userids not being case-sensitive (90236)."""
    return userid.strip().lower()


def normalise_phone(text: str) -> str:
    """Digits only, a mainland country code dropped, so two spellings of one number compare equal."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    return digits


# -- handling a matter (seed §12-§14) -------------------------------------------------

OUTCOMES: Final = ("A", "B", "C", "D")  # 已解决/基本解决, 正在解决, 列入计划/条件限制, 留作参考
OWES_FINAL_REPLY: Final = frozenset({"B", "C"})  # answered again once finally resolved
RATINGS: Final = ("satisfied", "basically", "dissatisfied")
REPLY_VIA: Final = ("chat", "in_person", "paper")

@dataclass(frozen=True)
class ReplyMinimums:
    """§14: the shortest outcome statement, grounds (理由/依据) and whole reply accepted, in characters."""

    outcome: int = 20
    grounds: int = 10
    whole: int = 80


def reply_problem(body: str | None, grounds: str | None, minimums: ReplyMinimums) -> str | None:
    """§14: a reply states the outcome and its grounds, each not too brief, nor the whole: the first part
    that falls short ("outcome", "grounds" or "whole"), or None. A part not written yet (None) is not judged."""
    if body is not None and len(body.strip()) < minimums.outcome:
        return "outcome"
    if grounds is not None and len(grounds.strip()) < minimums.grounds:
        return "grounds"
    if body is not None and grounds is not None and len(body.strip()) + len(grounds.strip()) < minimums.whole:
        return "whole"
    return None


def extension_cap(registered_at: datetime, tz: ZoneInfo, cap_months: int = 6) -> date:
    """§12: an extended due date is at most `cap_months` after registration."""
    return add_months(registered_at.astimezone(tz).date(), cap_months)
