"""Who may do what to which matter: the one place that decides (SPEC §1, seed §13, §14).

Every command and every button press asks `may` again, with the matter as it is now:
button data is user input, and a matter changes hands between a message and a press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.people import Person

OFFICE_ACTIONS: Final = frozenset({
    "assign", "mark_major", "transfer", "cannot_meet", "approve_reply", "return_reply", "register_on_behalf",
    "record_contact",
})
DEPARTMENT_ACTIONS: Final = frozenset({"progress", "conclude", "draft_reply", "request_extension"})
ACTIONS: Final = OFFICE_ACTIONS | DEPARTMENT_ACTIONS | frozenset({
    "view", "view_personal", "leader_approve", "decide_extension", "rate", "onsite", "quota",
})


@dataclass(frozen=True)
class Policy:
    """The configurable parts: who decides extensions."""

    extension_approver: str = "office"  # or "leader"


@dataclass(frozen=True)
class MatterAccess:
    """What permission depends on: whose matter it is and which department has it."""

    representative_id: int
    department_id: int | None


def may(person: Person | None, action: str, matter: MatterAccess | None, policy: Policy = Policy()) -> bool:
    """Whether this person may take this action on this matter (None: an action on no matter yet)."""
    if person is None or action not in ACTIONS:
        return False
    roles = person.roles
    own_department = (
        matter is not None and matter.department_id is not None and person.department_id == matter.department_id
        and bool(roles & {"handler", "head"})
    )
    if action in ("view", "quota"):
        return bool(roles & {"office", "discipline", "leader"}) or (action == "view" and own_department)
    if action == "view_personal":  # a complainant's name and contact (SPEC §1)
        return bool(roles & {"office", "discipline"}) or own_department
    if action in OFFICE_ACTIONS:
        return "office" in roles
    if action in DEPARTMENT_ACTIONS:
        return own_department
    if action == "leader_approve":
        return "leader" in roles
    if action == "onsite":  # joint on-site supervision: discipline inspection with the office (seed §13)
        return bool(roles & {"office", "discipline"})
    if action == "decide_extension":
        return policy.extension_approver in roles
    if action == "rate":
        return matter is not None and matter.representative_id == person.id
    return False
