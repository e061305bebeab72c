"""The matter's life alone (bot/matter/life.py): transitions, who takes them, what each requires and what
the due date becomes — no database, no channel (SPEC §4; seed §12-§14)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.matter import life
from bot.matter.model import Matter
from bot.matter.states import CLOSED_STATES, STATES, ReplyState, State
from bot.model import Person
from bot.permissions import MatterAccess, Policy, may

TZ = ZoneInfo("Asia/Shanghai")
REGISTERED_AT = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def matter(state: State = State.REGISTERED, **fields: object) -> Matter:
    base = Matter(id=1, number="LS-2026-0001", kind="suggestion", representative_id=7, subject="s", body="b",
                  received_via="chat", complainant_name=None, complainant_contact=None, disputes_own_handling=False,
                  original_department_id=None, state=state, major=False, department_id=None, urger_id=None,
                  registered_at="2026-03-10T02:00:00.000+00:00", due_date=date(2026, 6, 10))
    return replace(base, **fields)  # type: ignore[arg-type]


def appeal_against(department_id: int, state: State = State.REGISTERED) -> Matter:
    return matter(state, kind="appeal", disputes_own_handling=True, original_department_id=department_id)


# -- which transitions exist from which state --------------------------------------------


def test_every_transition_starts_from_open_states_only() -> None:
    """SPEC §4: nothing is done to a closed or transferred matter."""
    for action, states in life.TRANSITIONS.items():
        assert not states & CLOSED_STATES, action
        for state in CLOSED_STATES:
            assert not life.allowed(action, state)


def test_a_rated_matter_takes_progress_and_a_reply_only_while_its_final_reply_is_owed() -> None:
    """§14 with outcomes B and C: the final reply is owed after the rating."""
    for action in ("progress", "draft_reply"):
        assert life.allowed(action, State.RATED, owes_final_reply=True)
        assert not life.allowed(action, State.RATED, owes_final_reply=False)


def test_a_transition_from_the_wrong_state_is_refused() -> None:
    with pytest.raises(life.NotNowError):
        life.conclude(matter(State.REGISTERED), "A")
    with pytest.raises(life.NotNowError):
        life.assign(matter(State.CONCLUDED), 3, 9)
    with pytest.raises(life.NotNowError):
        life.rate(matter(State.CONCLUDED), "satisfied", final_given=False, today=date(2026, 4, 1), reopen_months=3)


def test_the_states_are_the_nine_of_the_spec() -> None:
    """SPEC §4: registered → assigned → in progress → concluded → replied → rated → closed; transferred, reopened."""
    assert len(STATES) == 9 and State("in_progress") is State.IN_PROGRESS


# -- who takes each ----------------------------------------------------------------------


def person(*roles: str, department_id: int | None = None, pid: int = 50) -> Person:
    return Person(pid, "x", None, "", "", "", False, department_id, None, frozenset(roles))


@pytest.mark.parametrize("action", sorted(life.TAKEN_BY))
def test_who_takes_each_transition_agrees_with_the_permissions(action: str) -> None:
    """SPEC §1, seed §13: the model's `TAKEN_BY` and bot/permissions.py say the same."""
    on = MatterAccess(representative_id=7, department_id=3)
    party = life.TAKEN_BY[action]
    allowed = {
        "office": person("office"), "department": person("handler", department_id=3),
        "leader": person("leader"), "extension_approver": person("office"),
        "representative": Person(7, "r", "npc", "", "", "", False, None, None, frozenset()),
        "office_or_discipline": person("discipline"),
    }[party]
    permission = "leader_approve" if action == "leader_return" else action
    assert may(allowed, permission, on, Policy(extension_approver="office"))
    other_department = person("handler", department_id=4)
    assert not may(other_department, permission, on, Policy(extension_approver="office"))


# -- what each requires ------------------------------------------------------------------


def test_assign_gives_the_department_and_the_urger_and_keeps_the_clock() -> None:
    """§13 交办 with a named urger; the due date set at registration runs on."""
    step = life.assign(matter(), 3, 9)
    assert step == life.Step(state=State.ASSIGNED, department_id=3, urger_id=9)
    assert "due_date" not in step.changes()


def test_section_14_an_appeal_never_goes_to_the_department_that_handled_it() -> None:
    """§14 conflict rule: at assignment, at re-assignment and after reopening."""
    assert life.conflicts(appeal_against(3), 3) and not life.conflicts(appeal_against(3), 4)
    with pytest.raises(life.ConflictError):
        life.assign(appeal_against(3), 3, 9)
    with pytest.raises(life.ConflictError):
        life.reassign(appeal_against(3, State.ASSIGNED), 3, 9)
    with pytest.raises(life.ConflictError):
        life.assign(appeal_against(3, State.REOPENED), 3, 9)
    assert life.assign(appeal_against(3), 4, 9).department_id == 4


def test_an_appeal_not_disputing_our_handling_may_go_anywhere() -> None:
    """§14 applies only to an appeal disputing this procuratorate's own handling."""
    assert not life.conflicts(matter(kind="appeal", original_department_id=3), 3)


def test_reassignment_goes_elsewhere_and_keeps_the_due_date() -> None:
    """§13 改派: another department, the clock unchanged."""
    assigned = matter(State.IN_PROGRESS, department_id=3, urger_id=9)
    step = life.reassign(assigned, 4, 8)
    assert step.state == State.ASSIGNED and step.due_date is None
    with pytest.raises(life.RuleError):
        life.reassign(assigned, 3, 9)


def test_section_12_transfer_names_the_authority_and_closes() -> None:
    """§12 receive first, explain, then transfer."""
    step = life.transfer(matter(), "  县公安局 ")
    assert step.state == State.TRANSFERRED and step.transferred_to == "县公安局" and step.closed
    with pytest.raises(life.RuleError):
        life.transfer(matter(), " ")
    with pytest.raises(life.NotNowError):
        life.transfer(matter(State.IN_PROGRESS), "x")


def test_the_first_progress_note_puts_the_matter_in_progress() -> None:
    assert life.progress(matter(State.ASSIGNED)).state == State.IN_PROGRESS
    assert life.progress(matter(State.IN_PROGRESS)) == life.Step()


def test_conclude_records_the_outcome_and_whether_a_final_reply_is_owed() -> None:
    """§14: outcomes B and C owe a final reply once resolved."""
    step = life.conclude(matter(State.IN_PROGRESS), "B")
    assert step.changes() == {"state": State.CONCLUDED, "outcome": "B", "owes_final_reply": 1} and step.concluded
    assert life.conclude(matter(State.IN_PROGRESS), "A").owes_final_reply is False
    with pytest.raises(life.RuleError):
        life.conclude(matter(State.IN_PROGRESS), "Z")


def test_section_14_a_major_matters_reply_goes_to_a_leader_when_the_unit_says_so() -> None:
    """§14 with leader_approves_major."""
    major = matter(State.CONCLUDED, major=True)
    assert life.approval_after_office(major, True) == ReplyState.AWAITING_LEADER
    assert life.approval_after_office(major, False) == ReplyState.SENT
    assert life.approval_after_office(matter(State.CONCLUDED), True) == ReplyState.SENT


def test_the_reply_after_a_rating_is_the_final_one() -> None:
    assert life.reply_kind(matter(State.RATED, owes_final_reply=True)) == "final"
    assert life.reply_kind(matter(State.CONCLUDED)) == "reply"
    assert life.reply_sent(matter(State.CONCLUDED)).state == State.REPLIED


# -- what the due date becomes -----------------------------------------------------------


def test_section_14_dissatisfied_reopens_with_a_new_clock_from_the_day_rated() -> None:
    """§14: 不满意 reopens; re-handled and replied to within `reopen_months` of the rating."""
    replied = matter(State.REPLIED, department_id=3, outcome="A", reopened=1)
    step = life.rate(replied, "dissatisfied", final_given=False, today=date(2026, 8, 31), reopen_months=3)
    assert step.state == State.REOPENED and step.due_date == date(2026, 11, 30) and step.reopened == 2
    assert step.changes()["outcome"] is None and step.changes()["owes_final_reply"] == 0


@pytest.mark.parametrize(("rating", "outcome", "final_given", "state"), [
    ("satisfied", "A", False, State.CLOSED),
    ("basically", "B", False, State.RATED),
    ("satisfied", "C", True, State.CLOSED),
    ("unrated", "B", False, State.RATED),
    ("unrated", "D", False, State.CLOSED),
])
def test_section_14_what_a_rating_leads_to(rating: str, outcome: str, final_given: bool, state: State) -> None:
    """§14: B and C stay open for their final reply; the rest close (an unrated reply as well)."""
    step = life.rate(matter(State.REPLIED, outcome=outcome), rating, final_given=final_given, today=date(2026, 5, 1),
                     reopen_months=3)
    assert step.state == state and step.closed == (state == State.CLOSED) and step.due_date is None


def test_section_12_an_extension_is_a_month_at_a_time_and_capped() -> None:
    """§12 申请延期: at most six months after registration."""
    m = matter(State.IN_PROGRESS)  # registered 10 March, due 10 June
    assert life.extension_choices(m, REGISTERED_AT, TZ, 6) == [date(2026, 7, 10), date(2026, 8, 10),
                                                                date(2026, 9, 10)]
    late = replace(m, due_date=date(2026, 8, 10))
    assert life.extension_choices(late, REGISTERED_AT, TZ, 6) == [date(2026, 9, 10)]
    assert life.extension_choices(replace(m, due_date=date(2026, 9, 10)), REGISTERED_AT, TZ, 6) == []
    assert life.extend(m, date(2026, 9, 10), REGISTERED_AT, TZ, 6) == life.Step(due_date=date(2026, 9, 10))
    for beyond in (date(2026, 9, 11), date(2026, 6, 10)):
        with pytest.raises(life.RuleError):
            life.extend(m, beyond, REGISTERED_AT, TZ, 6)


def test_major_turns_over() -> None:
    """§12 重大疑难复杂: marked, and unmarked."""
    assert life.mark_major(matter(State.ASSIGNED)).changes() == {"major": 1}
    assert life.mark_major(matter(State.ASSIGNED, major=True)).changes() == {"major": 0}


def test_every_transition_names_who_takes_it() -> None:
    """SPEC §1: no transition without a party that takes it."""
    assert set(life.TRANSITIONS) <= set(life.TAKEN_BY)
