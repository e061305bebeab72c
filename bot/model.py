"""The core's plain types of people and dialogues: what storage loads and the router, permissions and
handlers work with (the matter's own are in `bot/matter/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


FIRST_UNIT = 1
"""The unit the configuration's [unit] section describes: the one every single-unit deployment serves, and the
unit of everything migrated from before there were units (storage/migrations/0021_units.sql)."""


@dataclass(frozen=True)
class UnitScope:
    """Where a person acts (docs/design-units.md): `unit`, the unit whose rows they write and whose matters they
    number, and `reads`, the units whose rows they may read (their own; a city's office and leaders will also read
    their counties'). Storage functions take it explicitly, never from a global: a query of a unit's rows without
    it is a defect (tests/test_unit_scope.py)."""

    unit: int
    reads: frozenset[int]
    acts: frozenset[int] = frozenset()  # further units whose rows they act on: a representative's other units
    representative: int | None = None  # a representative: their own matters, in whichever unit, are theirs too

    @classmethod
    def of(cls, unit: int) -> UnitScope:
        return cls(unit, frozenset({unit}))

    @property
    def acting(self) -> frozenset[int]:
        """The units whose rows they may change: their own (staff), every unit they are a member of (a
        representative rates, supplements and appeals their matters, answers invitations and cards, in each)."""
        return self.acts | {self.unit}


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    body: str | None  # "npc" | "cppcc" for a representative, None for staff
    sector: str
    organization: str
    phone: str
    supervisor: bool
    department_id: int | None
    locale: str | None
    roles: frozenset[str]
    disabled: bool = False  # access taken away (storage/access.py): never the person acting
    unit_id: int = 1  # the unit (procuratorate) they belong to: staff's one unit, a representative's first unit
    units: frozenset[int] = frozenset()  # a representative's units, the first and each further (memberships)

    @property
    def member_of(self) -> frozenset[int]:
        """The units whose roster they are on (a representative), or whose staff they are."""
        return self.units | {self.unit_id}

    @property
    def is_representative(self) -> bool:
        return self.body is not None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


def actor_of(channel: str, external_id: str) -> str:
    """The key of a chat account's dialogue (one per account: a person bound on two channels has two)."""
    return f"{channel}:{external_id}"


@dataclass
class Dialog:
    """A dialogue under way for one chat account: its flow, its step, the nonce that makes the buttons of
    an earlier step stale, and what it has gathered so far (stored as JSON; survives a restart)."""

    flow: str
    step: str
    nonce: str
    data: dict[str, Any] = field(default_factory=dict)
