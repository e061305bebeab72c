"""Who may do what to which matter: the one place that decides (SPEC §1, seed §13, §14).

Every command and every button press asks `may` again, with the matter as it is now:
button data is user input, and a matter changes hands between a message and a press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.errors import PermissionDeniedError
from bot.i18n import N_
from bot.model import Person

OFFICE_ACTIONS: Final = frozenset({
    "assign", "reassign", "mark_major", "transfer", "cannot_meet", "approve_reply", "return_reply", "register_on_behalf",
    "record_contact", "reply_letter", "record_rating",
})
DEPARTMENT_ACTIONS: Final = frozenset({"progress", "conclude", "draft_reply", "request_extension"})
ACTIONS: Final = OFFICE_ACTIONS | DEPARTMENT_ACTIONS | frozenset({
    "view", "view_personal", "leader_approve", "decide_extension", "rate", "onsite", "quota",
})
# Reporting: actions on the unit's records, never on a matter (`may(person, action, None)`).
UNIT_ACTIONS: Final = frozenset({"npc_register", "report", "report_sent", "digest", "ledger"})
# Opinion cards and briefings (seed §5): sent by the office to representatives, never on a matter.
# Answering a card or a briefing is decided by its recipient row, not here. `manage_accounts`: binding a
# person to a WeCom member, setting how choices are shown to them, and seeing to the people messages did not
# reach (handlers/people/undelivered.py): the office and the admin.
LIAISON_ACTIONS: Final = frozenset({"manage_cards", "send_briefing", "manage_accounts"})
# Events and law-enforcement supervisors (seed §5, §6, §15), never on a matter. Giving a view on a case
# discussion also takes an invitation to it, and marking a preparation done the task's department:
# the handlers check those rows.
EVENT_ACTIONS: Final = frozenset({"manage_events", "record_attendance", "manage_supervisors", "mark_prepared",
                                  "give_view"})

# What someone who may not is told, for the actions on no matter (the office's own work): `require`.
REFUSALS: Final = {
    "register_on_behalf": N_("Sorry, only the liaison office can register a matter on a representative's behalf."),
    "record_contact": N_("Sorry, only the liaison office can record contacts."),
    "manage_cards": N_("Sorry, only the liaison office can send opinion cards."),
    "send_briefing": N_("Sorry, only the liaison office can send briefings."),
    "npc_register": N_("Sorry, only the liaison office keeps the NPC register."),
    "manage_supervisors": N_("Sorry, only the liaison office can manage the law-enforcement supervisors."),
    "manage_events": N_("Sorry, only the liaison office can organise events."),
    "record_attendance": N_("Sorry, only the liaison office can record attendance."),
    "manage_accounts": N_("This is for the liaison office and the administrator."),
}


@dataclass(frozen=True)
class Policy:
    """The configurable parts: who decides extensions."""

    extension_approver: str = "office"  # or "leader"


@dataclass(frozen=True)
class MatterAccess:
    """What permission depends on: whose matter it is, which department has it, and which unit's matter it is."""

    representative_id: int
    department_id: int | None
    unit_id: int | None = None  # None: an action on no unit's matter in particular


def may(person: Person | None, action: str, matter: MatterAccess | None, policy: Policy = Policy()) -> bool:
    """Whether this person may take this action on this matter (None: an action on no matter yet)."""
    if person is None or action not in ACTIONS | UNIT_ACTIONS | LIAISON_ACTIONS | EVENT_ACTIONS:
        return False
    roles = person.roles
    own_department = (
        matter is not None and matter.department_id is not None and person.department_id == matter.department_id
        and bool(roles & {"handler", "head"})
    )
    if roles and matter is not None and matter.unit_id is not None and matter.unit_id != person.unit_id:
        # Staff act on their own unit's matters; a county's handling the city's matter (交办) through the
        # department it was given to and as that department only (whatever other roles they hold in their unit):
        # its supervision (urging, approval, extensions, on site) stays the city's.
        return own_department and action in {"view", "view_personal"} | DEPARTMENT_ACTIONS
    if action in ("view", "quota"):
        return bool(roles & {"office", "discipline", "leader"}) or (action == "view" and own_department)
    if action == "view_personal":  # a complainant's name and contact (SPEC §1)
        return bool(roles & {"office", "discipline"}) or own_department
    if action == "manage_accounts":  # the office and whoever installs it (SPEC §1: admin — roster, accounts)
        return bool(roles & {"office", "admin"})
    if action in OFFICE_ACTIONS or action in LIAISON_ACTIONS:
        return "office" in roles
    if action in DEPARTMENT_ACTIONS:
        return own_department
    if action == "leader_approve":
        return "leader" in roles
    if action == "onsite":  # joint on-site supervision: discipline inspection with the office (seed §13)
        return bool(roles & {"office", "discipline"})
    if action == "digest":  # the leadership digest, on demand (SPEC §7): no complainant data in it
        return bool(roles & {"leader", "office"})
    if action == "decide_extension":
        return policy.extension_approver in roles
    if action == "rate":
        return matter is not None and matter.representative_id == person.id
    if action in ("npc_register", "report_sent", "ledger"):  # the NPC register (§4); a report sent (§17); the ledger (§3)
        return "office" in roles
    if action == "report":  # the half-year report (seed §17): the office draws it, leaders read it
        return bool(roles & {"office", "leader"})
    if action in ("manage_events", "record_attendance", "manage_supervisors"):
        return "office" in roles
    if action == "mark_prepared":  # the office, or staff of a department (the task's, checked by the handler)
        return bool(roles & {"office", "handler", "head"})
    if action == "give_view":  # a representative; in office as a supervisor and invited: the handler checks
        return person.is_representative
    return False


def require(person: Person | None, action: str) -> None:
    """Refuse, unless the person may take this action on no matter (REFUSALS says why); the router audits it."""
    if not may(person, action, None):
        raise PermissionDeniedError.of(action, None, REFUSALS[action])
