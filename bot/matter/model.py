"""The matter as the core knows it (SPEC §3-§4): what storage loads and the rules in `life.py` judge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.matter.states import State


@dataclass(frozen=True)
class Matter:
    id: int
    number: str
    kind: str
    representative_id: int
    subject: str
    body: str
    received_via: str
    complainant_name: str | None  # sealed (bot/sealing.py): read it with `storage.matters.complainant`
    complainant_contact: str | None  # sealed, the same
    disputes_own_handling: bool
    original_department_id: int | None
    state: State
    major: bool
    department_id: int | None
    urger_id: int | None
    registered_at: str
    due_date: date
    outcome: str | None = None
    owes_final_reply: bool = False
    reopened: int = 0
    transferred_to: str | None = None
    unit_id: int = 1  # the unit whose matter it is (issue 17): its number, deadline and supervision are that unit's
    handling_unit_id: int | None = None  # a county below it whose department handles it (交办); None: its own
    transferred_from_id: int | None = None  # the matter of another unit of the deployment it was transferred from


@dataclass(frozen=True)
class NewMatter:
    """A matter about to be registered (intake, on behalf, an opinion card's answer)."""

    kind: str
    representative_id: int
    subject: str
    body: str
    received_via: str = "chat"
    registered_by: int | None = None
    complainant_name: str | None = None
    complainant_contact: str | None = None
    disputes_own_handling: bool = False
    original_department_id: int | None = None
    transferred_from_id: int | None = None  # another unit's matter transferred here (移送)
