"""Never lose what was acknowledged (SPEC §9; issue 6, drills 4 and 5), short versions for CI.

The load, the kill loop and the counting are in tests/drills.py, shared with the full drills of
benchmarks/drills.py: representatives submitting through the intake dialogue, the office
assigning from the card's buttons, departments posting public progress notes, and the
receipts and notices all of it owes — through `python -m bot run` as a child process and the
strict fake Bot API. Here: killed with SIGKILL a few times at random (seeded) moments; and 10 %
of the Bot API calls answered with a fault (getUpdates too), killed once besides.
"""

from __future__ import annotations

from pathlib import Path

from tests.drills import DrillOptions, run_drill


async def test_kill_drill_loses_nothing_and_doubles_only_what_the_policy_allows(tmp_path: Path) -> None:
    result = await run_drill(DrillOptions(users=10, kills=3, seed=6, late_waves=1), tmp_path)
    print("\n".join(["kill drill (short):", *result.lines()]))
    assert result.failures() == []
    assert result.kills == 3 and result.kills_during_load >= 1
    assert result.matters == 10
    assert result.callbacks_answered_once + result.callbacks_unanswered_held == result.callbacks
    assert result.messages_twice == result.messages_twice_allowed


async def test_faults_drill_loses_nothing_and_never_stops_polling(tmp_path: Path) -> None:
    result = await run_drill(DrillOptions(users=6, kills=1, seed=7, fault_rate=0.10, late_waves=2), tmp_path)
    print("\n".join(["faults drill (short):", *result.lines()]))
    assert result.failures() == []
    assert sum(result.fault_counts.values()) >= 5  # the faults did happen
    assert result.poll_faults >= 1 and result.polls_after_last_fault >= 1  # getUpdates failed, and went on
    assert result.polls.get("late, faults on", 0) >= 1 and result.polls.get("late, faults off", 0) >= 1
