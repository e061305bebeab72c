"""Never lose what was acknowledged, over WeCom (SPEC §9; issue 14), short versions for CI.

The load, the kill loop and the counting are in tests/drills.py (run_wecom_drill), shared with
benchmarks/drills.py: `python -m bot run --channel wecom` as a child process, the strict fake WeCom
posting encrypted callbacks. WeCom gives up on a callback after three posts (90930): what it gave up on
while the bot was down is sent again by the person, and only what the bot answered 200 is owed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills import WeComDrillOptions, run_wecom_drill

# The bot's outbox and the fake's windows a minute in three seconds (tests/fastchild.py): these drills count
# what is lost or doubled across kills and faults; the pacing and the back-off are proven on the movable clock.
SPEED = 20.0


@pytest.mark.slow(25)
async def test_wecom_kill_drill_loses_nothing_acknowledged_and_doubles_only_what_the_policy_allows(
        tmp_path: Path) -> None:
    result = await run_wecom_drill(WeComDrillOptions(users=6, kills=3, seed=6, speed=SPEED), tmp_path)
    print("\n".join(["WeCom kill drill (short):", *result.lines()]))
    assert not result.failures(), "\n".join(result.failures())
    assert result.kills == 3 and result.kills_during_load >= 1
    assert result.matters == 6 and result.storm_posts >= 1


@pytest.mark.slow(20)
async def test_wecom_faults_drill_loses_nothing_and_refreshes_the_token(tmp_path: Path) -> None:
    result = await run_wecom_drill(WeComDrillOptions(users=5, kills=1, seed=7, fault_rate=0.10, speed=SPEED), tmp_path)
    print("\n".join(["WeCom faults drill (short):", *result.lines()]))
    assert not result.failures(), "\n".join(result.failures())
    assert sum(result.fault_counts.values()) >= 5  # the faults did happen
