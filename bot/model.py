"""The core's plain types of people and dialogues: what storage loads and the router, permissions and
handlers work with (the matter's own are in `bot/matter/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

    @property
    def is_representative(self) -> bool:
        return self.body is not None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


@dataclass
class Dialog:
    """A dialogue under way for one chat account: its flow, its step, the nonce that makes the buttons of
    an earlier step stale, and what it has gathered so far (stored as JSON; survives a restart)."""

    flow: str
    step: str
    nonce: str
    data: dict[str, Any] = field(default_factory=dict)
