"""Never lose what was acknowledged (SPEC §9): the bot process killed with SIGKILL while it
works through a backlog, restarted, twice over — every update answered exactly once (a
duplicate only where the outbox recorded a send whose outcome it could not know), no
matter registered twice, the database intact."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import dialogs, people
from storage.dialogs import Dialog
from tests.fakebotapi import FakeBotAPI, FakeUser, SentMessage
from tests.telegram_env import BotProcess, bot_in_process, telegram_config, write_config_file

USERS = 40


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(per_chat_interval=0.2, global_rate=30) as server:
        yield server


async def _seed_deputies_at_confirm(fake: FakeBotAPI, tmp_path: Path) -> list[FakeUser]:
    """USERS bound deputies, each with a submission waiting only for "confirm"; each has had one message."""
    config = telegram_config(tmp_path, fake)
    users = [fake.user(8000 + n, first_name=f"代表{n}") for n in range(USERS)]
    async with bot_in_process(config) as running:
        app = running.app
        async with app.db.transaction() as tx:
            for n, user in enumerate(users):
                person = await tx.insert(
                    "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                    " VALUES (?, 'npc', '', ?, '2026-01-01', '2026-01-01') RETURNING id", (f"代表{n}", f"k{n}"))
                await people.bind_identity(tx, "telegram", str(user.chat_id), str(user.chat_id), person,
                                           app.clock.now())
                await dialogs.save(tx, f"telegram:{user.chat_id}", Dialog(
                    "intake", "confirm", "", {"kind": "suggestion", "subject": f"事项{n}", "text": ["内容"],
                                              "files": []}), app.clock.now(), new_step=True)
        for user in users:
            user.send_text("/help")  # answered with the help text: a message to press a button on later
        await fake.wait_until(lambda: all(len(fake.messages_to(u.chat_id)) == 1 for u in users), timeout=30)
    return users


async def test_sigkill_during_a_backlog_loses_nothing_and_doubles_nothing(fake: FakeBotAPI, tmp_path: Path) -> None:
    users = await _seed_deputies_at_confirm(fake, tmp_path)
    config = telegram_config(tmp_path, fake)
    config_path = write_config_file(config, tmp_path / "config.toml")
    with sqlite3.connect(config.storage.database) as conn:
        nonces = dict(conn.execute("SELECT actor, nonce FROM dialogs").fetchall())

    # The backlog, queued while no bot runs: each deputy confirms, then asks /my and /help.
    for user in users:
        user.press(fake.messages_to(user.chat_id)[-1], f"d:{nonces[f'telegram:{user.chat_id}']}:submit")
        user.send_text("/my")
        user.send_text("/help")
    assert fake.pending_updates == 3 * USERS

    log = tmp_path / "bot.log"
    sent_before = len(fake.sent)
    for threshold in (5, 45):  # killed twice, at different depths of the backlog
        bot = BotProcess(config_path, log)
        bot.start()
        await fake.wait_until(lambda: len(fake.sent) - sent_before >= threshold, timeout=60)
        bot.kill()

    bot = BotProcess(config_path, log)
    bot.start()
    expected = 1 + 3  # the help of the set-up; then the receipt, the /my listing, the help
    await fake.wait_until(lambda: all(len(fake.messages_to(u.chat_id)) >= expected for u in users), timeout=90)
    await fake.wait_until(lambda: _outbox_settled(config.storage.database), timeout=30)
    assert bot.terminate() == 0

    with sqlite3.connect(config.storage.database) as conn:
        ambiguous = dict(conn.execute(
            "SELECT chat_id, SUM(ambiguous) FROM outbox WHERE op = 'message' GROUP BY chat_id").fetchall())
        inbox_states = dict(conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall())
        per_deputy = conn.execute("SELECT representative_id, COUNT(*) FROM matters GROUP BY 1").fetchall()
        numbers = conn.execute("SELECT COUNT(DISTINCT number) FROM matters").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        dialog_count = conn.execute("SELECT COUNT(*) FROM dialogs").fetchone()[0]
    duplicates = 0
    for user in users:
        messages = fake.messages_to(user.chat_id)
        extra = len(messages) - expected
        assert 0 <= extra <= (ambiguous.get(str(user.chat_id)) or 0), fake.dump(user.chat_id)
        assert sum("您提出的建议已登记" in m.text for m in messages) == 1 + min(extra, 1) * 0 or extra
        duplicates += extra
    assert inbox_states == {"done": USERS + 3 * USERS}  # nothing lost, nothing failed
    assert len(per_deputy) == USERS and all(count == 1 for _, count in per_deputy)  # no matter twice
    assert numbers == USERS and dialog_count == 0
    assert integrity == "ok"
    assert fake.pending_updates == 0
    assert all(len(answers) == 1 for answers in fake.callback_answers.values())  # one answer per press
    assert len(fake.callback_answers) == USERS
    print(f"kill drill: {3 * USERS} updates, 2 kills, {duplicates} duplicate message(s), each allowed by the policy")


def _outbox_settled(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')").fetchone()[0] == 0


async def test_notifications_survive_faults_and_a_kill(fake: FakeBotAPI, tmp_path: Path) -> None:
    """Sends answered 429, 500, dropped, or timed out after delivery, and the bot killed once in the
    middle: every receipt and every notice to the office arrives; a duplicate only where the outbox
    counted a send it could not know the outcome of (policy "retry")."""
    users = await _seed_deputies_at_confirm(fake, tmp_path)
    async with bot_in_process(telegram_config(tmp_path, fake)) as running:
        async with running.app.db.transaction() as tx:
            office = await people.add_staff(tx, "陈静", None, ["office"], "", running.app.clock.now())
            await people.bind_identity(tx, "telegram", "9001", "9001", office, running.app.clock.now())
    clerk = fake.user(9001)
    config = telegram_config(tmp_path, fake, request_timeout=1.0)
    config_path = write_config_file(config, tmp_path / "config.toml")
    with sqlite3.connect(config.storage.database) as conn:
        nonces = dict(conn.execute("SELECT actor, nonce FROM dialogs").fetchall())
    for user in users:
        user.press(fake.messages_to(user.chat_id)[-1], f"d:{nonces[f'telegram:{user.chat_id}']}:submit")
    fake.faults.p_429 = fake.faults.p_500 = fake.faults.p_drop = fake.faults.p_timeout_after_delivery = 0.04
    fake.faults.timeout_delay = 1.5

    log = tmp_path / "bot.log"
    bot = BotProcess(config_path, log)
    bot.start()
    await fake.wait_until(lambda: len(fake.messages_to(clerk.chat_id)) >= USERS // 2, timeout=60)
    bot.kill()
    bot = BotProcess(config_path, log)
    bot.start()
    await fake.wait_until(lambda: all(len(fake.messages_to(u.chat_id)) >= 2 for u in users)
                          and len(fake.messages_to(clerk.chat_id)) >= USERS, timeout=120)
    await fake.wait_until(lambda: _outbox_settled(config.storage.database), timeout=60)
    assert bot.terminate() == 0

    with sqlite3.connect(config.storage.database) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM outbox WHERE op = 'message' GROUP BY state").fetchall())
        ambiguous = dict(conn.execute(
            "SELECT chat_id, SUM(ambiguous) FROM outbox WHERE op = 'message' GROUP BY chat_id").fetchall())
    assert set(states) == {"sent"}  # nothing failed, blocked or held
    receipts = {u.chat_id: sum("您提出的建议已登记" in m.text for m in fake.messages_to(u.chat_id)) for u in users}
    notices = [m.text for m in fake.messages_to(clerk.chat_id)]
    duplicates = 0
    for user in users:
        extra = receipts[user.chat_id] - 1
        assert 0 <= extra <= (ambiguous.get(str(user.chat_id)) or 0), fake.dump(user.chat_id)
        duplicates += extra
    office_extra = len(notices) - USERS
    assert 0 <= office_extra <= (ambiguous.get("9001") or 0)
    assert len(set(notices)) == USERS  # every deputy's matter announced to the office
    duplicates += office_extra
    print(f"faults drill: {2 * USERS} notifications, faults {dict(fake.fault_counts)}, 1 kill, "
          f"{duplicates} duplicate(s), each after a send of unknown outcome")
