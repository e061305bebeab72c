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

import pytest

from bot.app import App
from tests.drills import DrillOptions, run_drill
from tests.fakebotapi import FakeBotAPI
from tests.telegram_env import BotProcess, telegram_config, write_config_file

# The bot's outbox and the fake's flood limits on a time base twenty times faster (tests/fastchild.py): these
# drills count what is lost or doubled across kills and faults; pacing and back-off are proven on the movable clock.
SPEED = 20.0


@pytest.mark.slow(18)
async def test_kill_drill_loses_nothing_and_doubles_only_what_the_policy_allows(tmp_path: Path) -> None:
    result = await run_drill(DrillOptions(users=10, kills=3, seed=6, late_waves=1, speed=SPEED), tmp_path)
    print("\n".join(["kill drill (short):", *result.lines()]))
    assert not result.failures(), "\n".join(result.failures())
    assert result.kills == 3 and result.kills_during_load >= 1
    assert result.matters == 10
    assert result.callbacks_answered_once + result.callbacks_unanswered_held == result.callbacks
    assert result.messages_twice == result.messages_twice_allowed


@pytest.mark.slow(30)
async def test_faults_drill_loses_nothing_and_never_stops_polling(tmp_path: Path) -> None:
    result = await run_drill(DrillOptions(users=6, kills=1, seed=7, fault_rate=0.10, late_waves=2, speed=SPEED), tmp_path)
    print("\n".join(["faults drill (short):", *result.lines()]))
    assert not result.failures(), "\n".join(result.failures())
    assert sum(result.fault_counts.values()) >= 5  # the faults did happen
    assert result.poll_faults >= 1 and result.polls_after_last_fault >= 1  # getUpdates failed, and went on
    assert result.polls.get("late, faults on", 0) >= 1 and result.polls.get("late, faults off", 0) >= 1


@pytest.mark.parametrize(("method", "fault"), [("getMe", "500"), ("getMe", "drop"), ("setMyCommands", "429"),
                                             ("setMyCommands", "502")])
@pytest.mark.slow(3)
async def test_a_transient_fault_at_start_up_does_not_stop_the_bot(tmp_path: Path, method: str,
                                                                   fault: str) -> None:
    """A 5xx, a dropped connection or a 429 on getMe or setMyCommands at start-up is waited out and
    tried again: the bot starts and answers (it once exited with status 2)."""
    async with FakeBotAPI() as fake:
        config = telegram_config(tmp_path, fake)
        app = await App.open(config)  # migrated before the bot starts: the run below only starts
        await app.close()
        fake.faults.methods.add(method)
        fake.faults.queue.append(fault)  # the very next call of `method` only
        bot = BotProcess(write_config_file(config, tmp_path / "config.toml"), tmp_path / "bot.log")
        bot.start()
        try:
            user = fake.user(7001, language_code="en")
            user.send_text("/help")  # an unbound user's /help is answered too
            assert bot.proc is not None
            await fake.wait_until(lambda: bool(user.received) or bot.proc is not None and bot.proc.poll() is not None,
                                  timeout=60)
            assert bot.proc.poll() is None, f"the bot exited with {bot.proc.returncode}"
            assert fake.fault_counts[fault] == 1 and len(user.received) == 1
            assert await bot.terminate(timeout=15) == 0, (tmp_path / "bot.log").read_text("utf-8")[-6000:]  # stops cleanly
        finally:
            if bot.proc is not None and bot.proc.poll() is None:
                await bot.terminate()
