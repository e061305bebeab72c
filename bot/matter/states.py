"""The names of a matter's states, of its replies' and extensions' states, and of the timeline events that
its transitions write (SPEC §4; seed §12-§14). The one place these words are spelled: everything else —
handlers, storage queries (bound as parameters), labels — uses these constants.

They are `StrEnum`s, so a value is stored as its plain text and read back with `State(row["state"])`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    """Where a matter is in its life (SPEC §4)."""

    REGISTERED = "registered"  # 已登记待交办
    ASSIGNED = "assigned"  # 已交办 (a department and an urger, §13)
    IN_PROGRESS = "in_progress"  # 办理中 (a progress note was written)
    CONCLUDED = "concluded"  # 已办结待答复
    REPLIED = "replied"  # 已答复待评价 (also: cannot be met, §12)
    RATED = "rated"  # 已评价待最终答复 (outcome B or C owes a final reply)
    CLOSED = "closed"  # 已完结
    TRANSFERRED = "transferred"  # 已移送 (§12 receive first, explain, then transfer; closed)
    REOPENED = "reopened"  # 重新办理 (§14 after a dissatisfied rating)


STATES: Final = tuple(State)
CLOSED_STATES: Final = frozenset({State.CLOSED, State.TRANSFERRED})
OPEN_STATES: Final = tuple(s for s in State if s not in CLOSED_STATES)
NOT_CONCLUDED: Final = (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED)
"""What the §12 deadline is about: not yet concluded."""
WITH_DEPARTMENT: Final = (State.ASSIGNED, State.IN_PROGRESS, State.CONCLUDED, State.REOPENED)
"""With a department and an urger, and urged (§13). (A reopened matter keeps them until re-assigned.)"""
WATCHED: Final = (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS, State.CONCLUDED, State.REOPENED)
"""NOT_CONCLUDED ∪ WITH_DEPARTMENT: what the deadline sweep looks at."""
BEING_HANDLED: Final = (State.ASSIGNED, State.IN_PROGRESS)
"""A department handles it now: a progress notice is its duty (§12)."""
TO_ASSIGN: Final = (State.REGISTERED, State.REOPENED)
"""Waiting for the office to give it to a department."""
AT_DEPARTMENTS: Final = (State.ASSIGNED, State.IN_PROGRESS, State.CONCLUDED, State.RATED)
"""Work a department has in hand (a rated matter while its final reply is owed)."""
ENDED: Final = (State.CLOSED, State.TRANSFERRED)


class ReplyState(StrEnum):
    """A reply's approval (§14; a major matter's also by a leader)."""

    DRAFT = "draft"  # waiting for the office
    AWAITING_LEADER = "awaiting_leader"
    SENT = "sent"
    RETURNED = "returned"


WAITING_REPLY_STATES: Final = (ReplyState.DRAFT, ReplyState.AWAITING_LEADER)


class ExtensionState(StrEnum):
    """申请延期 (§12): asked for, then approved or refused."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class Happened(StrEnum):
    """The timeline events the transitions write (the public ones the representative sees in /my)."""

    REGISTERED = "registered"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    TRANSFERRED = "transferred"
    CONCLUDED = "concluded"
    REPLIED = "replied"
    CANNOT_MEET = "cannot_meet"
    REOPENED = "reopened"
    EXTENDED = "extended"
    UNRATED = "unrated"


SINCE_EVENTS: Final = (Happened.ASSIGNED, Happened.REGISTERED)
"""The events a department's time on a matter is counted from (the latest of them)."""
