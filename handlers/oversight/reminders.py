"""What the deadline sweep (handlers/oversight/sweep.py) fires, and how each area hands it its reminders.

The sweep owns the matter's own clocks (seed §12, §13, §16). The other areas' reminders — events and the
supervisors' number, opinion cards, the half-year report and protests, the leadership digest — are theirs:
each area writes a `Provider`, and handlers/routes.py, the only wiring, lists them in `REMINDERS`, which the
sweep is given. So the sweep imports no area, and no area imports the sweep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.config import Config
from bot.context import Context
from bot.i18n import Translator
from bot.matter.model import Matter
from bot.messages import Reply
from storage.db import Tx

Make = Callable[[Translator], Reply]


@dataclass
class Reminder:
    key: str
    rule: str
    matter: Matter | None
    recipients: list[int]
    make: Make
    effect: Callable[[Context], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Tick:
    """One sweep's moment and what every provider needs, read once: the snapshot to read from, the time,
    the unit's day, and the office's and the leaders' person ids."""

    q: Tx
    config: Config
    now: datetime
    today: date
    office: list[int]
    leaders: list[int]


Provider = Callable[[Tick], Awaitable[list[Reminder]]]
"""An area's reminders due at this tick (the sweep fires each once under its key, in working time)."""
