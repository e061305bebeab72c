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
from bot.model import FIRST_UNIT, UnitScope
from storage.db import Tx

Make = Callable[[Translator], Reply]


def keyed(scope: UnitScope, key: str) -> str:
    """A reminder's key within its unit, for what belongs to no matter (a bulletin, a digest, the quota): unit 1's as
    it was before units, so that an upgraded database fires nothing again; another unit's prefixed with its id."""
    return key if scope.unit == FIRST_UNIT else f"unit{scope.unit}:{key}"


@dataclass
class Reminder:
    key: str
    rule: str
    matter: Matter | None
    recipients: list[int]
    make: Make
    effect: Callable[[Context], Awaitable[None]] | None = None
    unit: int = FIRST_UNIT  # whose: the matter's, else the unit the sweep asked for it (set by the sweep)


@dataclass(frozen=True)
class Tick:
    """One sweep's moment, for one unit, and what every provider needs, read once: the snapshot to read from, the
    time, the unit's day, the unit (`scope`), and its office's and its leaders' person ids."""

    q: Tx
    config: Config
    now: datetime
    today: date
    office: list[int]
    leaders: list[int]
    scope: UnitScope


@dataclass(frozen=True)
class Ticks:
    """One sweep's moment for every unit of the deployment (a `Tick` each, in the order of their ids). A provider
    reads each kind of row once for all of them (`scope` reads every unit) and sorts what it finds by unit: a tick
    costs the same few statements for twenty units as for one (on PostgreSQL each is a round trip)."""

    q: Tx
    config: Config
    now: datetime
    today: date
    units: tuple[Tick, ...]

    @property
    def scope(self) -> UnitScope:
        """Every unit of the sweep: what one query for all of them keeps to."""
        ids = frozenset(t.scope.unit for t in self.units)
        return UnitScope(min(ids), ids)

    def of(self, unit: int) -> Tick:
        return next(t for t in self.units if t.scope.unit == unit)


Provider = Callable[[Ticks], Awaitable[list[Reminder]]]
"""An area's reminders due at this tick in every unit (each reminder's `unit` set to its own; the sweep fires each
once under its key, in working time)."""
