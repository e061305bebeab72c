"""The rules of a matter's life (SPEC §4; seed §12 clocks, §13 urging, §14 conflict and reply quality).

Each transition is a function of the matter as it is now and what the person gives; it returns the `Step`
to store — the new state and fields — or raises a `RuleError` if the rules forbid it. Handlers check the
same rules first (with `allowed`, `conflicts`, `extension_choices`) to refuse in the user's words; the
functions here are the last word. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain import OUTCOMES, OWES_FINAL_REPLY, add_months, extension_cap
from bot.matter.model import Matter
from bot.matter.states import ReplyState, State

S = State

# Which action may be taken from which state. The rule-specific checks (§14 conflict, reply quality, the
# extension cap) come on top of this table; a rated matter takes `progress` and `draft_reply` only while
# its final reply is owed (outcome B or C).
TRANSITIONS: Final[dict[str, frozenset[State]]] = {
    "assign": frozenset({S.REGISTERED, S.REOPENED}),
    "reassign": frozenset({S.ASSIGNED, S.IN_PROGRESS}),  # 改派: to another department, before it is concluded
    "mark_major": frozenset({S.REGISTERED, S.ASSIGNED, S.IN_PROGRESS, S.CONCLUDED, S.REOPENED}),
    "transfer": frozenset({S.REGISTERED, S.ASSIGNED}),
    "cannot_meet": frozenset({S.REGISTERED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED}),
    "progress": frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RATED}),
    "request_extension": frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    "conclude": frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    "draft_reply": frozenset({S.CONCLUDED, S.RATED}),
    "rate": frozenset({S.REPLIED}),
    "onsite": frozenset({S.ASSIGNED, S.IN_PROGRESS, S.CONCLUDED, S.REOPENED}),
}

# Who takes each transition (SPEC §1; `bot/permissions.py` decides it for a person, and a test holds the
# two together): the office; the department that has the matter; its representative; the person the
# configuration names to decide extensions; the office or discipline inspection (§13 on site).
TAKEN_BY: Final[dict[str, str]] = {
    "assign": "office", "reassign": "office", "mark_major": "office", "transfer": "office", "cannot_meet": "office",
    "approve_reply": "office", "return_reply": "office",
    "progress": "department", "request_extension": "department", "conclude": "department",
    "draft_reply": "department",
    "leader_approve": "leader", "leader_return": "leader",
    "decide_extension": "extension_approver",
    "rate": "representative",
    "onsite": "office_or_discipline",
}

FIRST_STATE: Final = S.REGISTERED
"""A matter is registered when it is committed (§3): the one state it is born in."""


class RuleError(Exception):
    """A transition the rules forbid (a handler that checked first never meets it)."""


class NotNowError(RuleError):
    """The action does not exist from the matter's present state."""


class ConflictError(RuleError):
    """§14: an appeal disputing our own handling never goes to the department that handled it."""


@dataclass(frozen=True)
class Step:
    """What a transition changes: `None` (or False) leaves a field as it is. `concluded`/`closed` stamp the
    moment; `clear_outcome` forgets the outcome of a reopened matter."""

    state: State | None = None
    department_id: int | None = None
    urger_id: int | None = None
    due_date: date | None = None
    outcome: str | None = None
    clear_outcome: bool = False
    owes_final_reply: bool | None = None
    reopened: int | None = None
    transferred_to: str | None = None
    major: bool | None = None
    concluded: bool = False
    closed: bool = False

    def changes(self) -> dict[str, object]:
        """The matter's fields this step sets, by name (the stamps `concluded`/`closed` left to storage)."""
        fields: dict[str, object] = {name: value for name, value in (
            ("state", self.state), ("department_id", self.department_id), ("urger_id", self.urger_id),
            ("due_date", self.due_date), ("outcome", self.outcome), ("reopened", self.reopened),
            ("transferred_to", self.transferred_to),
        ) if value is not None}
        if self.clear_outcome:
            fields["outcome"] = None
        if self.owes_final_reply is not None:
            fields["owes_final_reply"] = int(self.owes_final_reply)
        if self.major is not None:
            fields["major"] = int(self.major)
        return fields


def allowed(action: str, state: State, *, owes_final_reply: bool = False) -> bool:
    """Whether `action` exists from `state` (a rated matter only while a final reply is owed)."""
    if state == S.RATED and action in ("progress", "draft_reply"):
        return owes_final_reply
    return state in TRANSITIONS.get(action, frozenset())


def _require(action: str, matter: Matter) -> None:
    if not allowed(action, matter.state, owes_final_reply=matter.owes_final_reply):
        raise NotNowError(f"{action} from {matter.state}")


def conflicts(matter: Matter, department_id: int) -> bool:
    """§14: whether giving this matter to `department_id` would send a disputed appeal back to the
    department that handled it (at first, on re-assignment and on reopening alike)."""
    return matter.disputes_own_handling and matter.original_department_id == department_id


def assign(matter: Matter, department_id: int, urger_id: int) -> Step:
    """交办 (§13): to a department with a named urger; never against §14. The clock runs on: the due date
    was set at registration (or at reopening)."""
    _require("assign", matter)
    if conflicts(matter, department_id):
        raise ConflictError(str(matter.id))
    return Step(state=S.ASSIGNED, department_id=department_id, urger_id=urger_id)


def reassign(matter: Matter, department_id: int, urger_id: int) -> Step:
    """改派 (§13): to another department before it is concluded; §14 holds again; the due date is kept."""
    _require("reassign", matter)
    if department_id == matter.department_id:
        raise RuleError("the same department")
    if conflicts(matter, department_id):
        raise ConflictError(str(matter.id))
    return Step(state=S.ASSIGNED, department_id=department_id, urger_id=urger_id)


def mark_major(matter: Matter) -> Step:
    """重大疑难复杂 (§12), or not any more: the flag turns over."""
    _require("mark_major", matter)
    return Step(major=not matter.major)


def transfer(matter: Matter, authority: str) -> Step:
    """移送 (§12): receive first, explain, then transfer to the competent authority — which closes it."""
    _require("transfer", matter)
    if not authority.strip():
        raise RuleError("no authority")
    return Step(state=S.TRANSFERRED, transferred_to=authority.strip(), closed=True)


def progress(matter: Matter) -> Step:
    """A progress note: the first one puts an assigned matter in progress; later ones only count as action."""
    _require("progress", matter)
    return Step(state=S.IN_PROGRESS) if matter.state == S.ASSIGNED else Step()


def conclude(matter: Matter, outcome: str) -> Step:
    """办结 with an outcome class; B and C owe a final reply once resolved."""
    _require("conclude", matter)
    if outcome not in OUTCOMES:
        raise RuleError(f"outcome {outcome!r}")
    return Step(state=S.CONCLUDED, outcome=outcome, owes_final_reply=outcome in OWES_FINAL_REPLY, concluded=True)


def reply_kind(matter: Matter) -> str:
    """A rated matter's next reply is its final one (outcome B or C resolved); any other is the reply."""
    return "final" if matter.state == S.RATED else "reply"


def needs_leader(matter: Matter, leader_approves_major: bool) -> bool:
    """§14 with the unit's setting: a major matter's reply (or explanation) is approved by a leader too."""
    return matter.major and leader_approves_major


def approval_after_office(matter: Matter, leader_approves_major: bool) -> ReplyState:
    """Where a reply goes once the office has approved it (or written it, for cannot-be-met)."""
    return ReplyState.AWAITING_LEADER if needs_leader(matter, leader_approves_major) else ReplyState.SENT


def reply_sent(matter: Matter) -> Step:
    """A reply (or the explanation that a request cannot be met, §12) has gone to the representative."""
    return Step(state=S.REPLIED)


def after_rating(rating: str, outcome: str | None, final_given: bool) -> State:
    """The state a rating leads to: dissatisfied reopens (§14); B and C stay open for their final reply."""
    if rating == "dissatisfied":
        return S.REOPENED
    if outcome in OWES_FINAL_REPLY and not final_given:
        return S.RATED
    return S.CLOSED


def rate(matter: Matter, rating: str, *, final_given: bool, today: date, reopen_months: int) -> Step:
    """满意 / 基本满意 / 不满意 (or unrated, asked twice, §14). Dissatisfied reopens the matter with a new clock of
    `reopen_months` from `today` (the unit's local day), its outcome forgotten; it keeps its department
    until the office assigns it again (for a disputed appeal, elsewhere: `conflicts`)."""
    if matter.state != S.REPLIED:
        raise NotNowError(f"rate from {matter.state}")
    state = after_rating(rating, matter.outcome, final_given)
    if state == S.REOPENED:
        return Step(state=state, reopened=matter.reopened + 1, clear_outcome=True, owes_final_reply=False,
                    due_date=add_months(today, reopen_months))
    return Step(state=state, closed=state == S.CLOSED)


def is_closed(state: State) -> bool:
    return state in (S.CLOSED, S.TRANSFERRED)


def extension_choices(matter: Matter, registered_at: datetime, tz: ZoneInfo, cap_months: int) -> list[date]:
    """申请延期 (§12): the due dates an extension may grant, a month at a time, never past `cap_months` after
    registration; none when the due date is already there."""
    cap = extension_cap(registered_at, tz, cap_months)
    choices = [add_months(matter.due_date, n) for n in (1, 2, 3)]
    return sorted({min(day, cap) for day in choices if day > matter.due_date and min(day, cap) > matter.due_date})


def extend(matter: Matter, new_due: date, registered_at: datetime, tz: ZoneInfo, cap_months: int) -> Step:
    """An extension approved: the new due date is after the present one and at most the cap (§12)."""
    if new_due <= matter.due_date or new_due > extension_cap(registered_at, tz, cap_months):
        raise RuleError(f"due {new_due}")
    return Step(due_date=new_due)
