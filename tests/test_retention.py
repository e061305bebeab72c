"""Messages received and sent are kept word for word only `storage.keep_messages_days` (storage/retention.py):
then their text is erased from the inbox and the outbox, the rows and everything the work needs stay,
and nothing still to be handled or sent is touched. Driven by the clock, through the ticks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.sealing import COMPLAINANT_CONTACT
from tests.fakes import Harness, User


async def reporting(harness: Harness, user_id: str = "1001", photo: bytes | None = None) -> User:
    """A bound deputy in the middle of referring a report, the complainant's name just typed."""
    rep = await harness.add_representative(f"王建国{user_id}", phone=f"1380000{user_id}")
    deputy = harness.user(user_id)
    await deputy.say(f"/start {await harness.invite(rep)}")
    await deputy.say("/submit")
    await deputy.press("举报")
    await deputy.say("某单位违规收费")
    await deputy.say("群众反映某单位违规收费。")
    await deputy.press("完成")
    if photo is None:
        await deputy.press("无附件")
    else:
        await deputy.send_file(photo, "现场.jpg", kind="photo")
        await deputy.press("附件已发完")
    await deputy.say("张三")  # the complainant: personal data (SPEC §1)
    return deputy


async def submitted(harness: Harness) -> User:
    office = await harness.add_staff("陈静", ["office"])
    await harness.user("u-office").say(f"/start {await harness.invite(office)}")
    deputy = await reporting(harness)
    await deputy.say("13900000000")
    await deputy.press("确认提交")
    assert "LS-2026-0001" in deputy.last
    return deputy


async def kept(harness: Harness, table: str) -> int:
    return await harness.count(table, "payload <> ''")


async def test_old_messages_lose_their_text_and_keep_their_record(harness: Harness) -> None:
    deputy = await submitted(harness)
    received, sent = await harness.count("inbox"), await harness.count("outbox")
    assert await kept(harness, "inbox") == received and await kept(harness, "outbox") == sent
    matter = await harness.dump("matters", "timeline", "attachments")

    harness.clock.advance(days=29)
    await harness.app.supervise()
    assert await kept(harness, "inbox") == received and await kept(harness, "outbox") == sent

    harness.clock.advance(days=2)
    await harness.app.supervise()
    await harness.app.settle()
    assert await kept(harness, "inbox") == 0
    assert await harness.count("outbox", "id <= ? AND payload <> ''", (sent,)) == 0  # the tick's own are new
    assert await harness.count("inbox") == received  # the rows stay: ids, states, the redelivery keys
    assert await harness.dump("matters", "timeline", "attachments") == matter  # the work keeps all it needs
    async with harness.db.snapshot() as q:
        body = await q.scalar("SELECT complainant_contact FROM matters")
        rows = await q.all("SELECT * FROM inbox") + await q.all("SELECT * FROM outbox")
    everything = " ".join(str(v) for r in rows for v in tuple(r))
    assert harness.db.sealer is not None  # sealed at rest (issue 15, item 5)
    assert harness.db.sealer.open(body, COMPLAINANT_CONTACT) == "13900000000" and "13900000000" not in everything

    await deputy.say("/my")  # and the bot goes on as before
    assert "LS-2026-0001" in deputy.last


async def test_a_dialogue_abandoned_as_long_is_dropped_with_what_was_typed(harness: Harness) -> None:
    deputy = await reporting(harness)  # and then nothing: the deputy never came back to it
    old_buttons = deputy.received[-1]
    harness.clock.advance(days=29)
    await harness.app.supervise()
    assert await harness.count("dialogs") == 1
    harness.clock.advance(days=2)
    await harness.app.supervise()
    assert await harness.count("dialogs") == 0
    [(_, data)] = old_buttons.buttons  # 取消, of the dialogue that is gone
    refused = await deputy.press_data(data)
    assert [(r.op, r.payload["text"]) for r in refused] == [("answer", "此选项已失效。")]
    assert await harness.count("dialogs") == 0
    await deputy.say("/submit")  # a new submission starts from the beginning
    assert deputy.last_buttons()[:3] == ["建议", "批评", "意见"]


async def test_an_abandoned_dialogues_files_go_unless_something_else_names_them(harness: Harness) -> None:
    """A photo attached to a submission never sent is removed with the dialogue — once nothing else names
    it: not a matter, not a dialogue still alive."""
    def on_disk() -> list[str]:
        return sorted(p.name for p in Path(harness.app.config.storage.files_dir).rglob("*") if p.is_file())

    await reporting(harness, "1001", photo=b"\xff\xd8 photo A")  # abandoned
    alive = await reporting(harness, "1002", photo=b"\xff\xd8 photo A")  # the same photo, in a dialogue going on
    sent = await reporting(harness, "1003", photo=b"\xff\xd8 photo B")
    await sent.say("13900000000")
    await sent.press("确认提交")
    await reporting(harness, "1004", photo=b"\xff\xd8 photo B")  # abandoned; its photo is the matter's too
    async with harness.db.snapshot() as q:
        [matter_photo] = [Path(r["path"]).name for r in await q.all("SELECT path FROM attachments")]
    [photo_a] = [name for name in on_disk() if name != matter_photo]

    harness.clock.advance(days=31)
    await alive.say("13900000001")  # 1002 goes on: its dialogue is fresh again
    await harness.app.supervise()
    assert await harness.count("dialogs") == 1
    assert on_disk() == sorted([photo_a, matter_photo])  # A is still named by 1002's dialogue

    harness.clock.advance(days=31)
    await harness.app.supervise()
    assert await harness.count("dialogs") == 0
    assert on_disk() == [matter_photo]


async def test_what_is_still_to_be_handled_or_sent_is_never_erased(harness: Harness) -> None:
    await submitted(harness)
    await harness.app.store("test", [("late-1", "test:1001", '{"never": "handled"}')])  # not processed yet
    async with harness.db.transaction() as tx:
        await tx.execute("UPDATE outbox SET state = 'pending' WHERE id = (SELECT MAX(id) FROM outbox)")
    harness.clock.advance(days=400)
    await harness.app.supervise()
    async with harness.db.snapshot() as q:
        assert await q.scalar("SELECT payload FROM inbox WHERE external_id = 'late-1'") == '{"never": "handled"}'
        assert await q.scalar("SELECT payload FROM outbox WHERE id = (SELECT MAX(id) FROM outbox)") != ""
    assert await kept(harness, "inbox") == 1  # that one alone: everything handled was erased


def test_a_file_stored_again_is_fresh_and_nothing_outside_the_store_is_removed(tmp_path: Path) -> None:
    """A file received again is named only when its handler commits: storing it refreshes it, so the
    retention never removes it in between. And a path that is not the store's is never removed."""
    from datetime import timedelta

    from bot.files import FileStore
    from tests.fakes import MovableClock

    clock = MovableClock()
    store = FileStore(tmp_path / "files", clock)
    _, path = store.put(b"evidence")
    clock.advance(days=30)
    store.put(b"evidence")  # received again, a month later
    assert not store.remove(path, unless_stored_after=clock.now() - timedelta(hours=1))
    assert store.remove(path, unless_stored_after=clock.now() + timedelta(seconds=1))
    outside = tmp_path / "config.toml"
    outside.write_text("x")
    assert not store.remove(str(outside), unless_stored_after=clock.now() + timedelta(days=1))
    assert outside.exists() and not Path(path).exists()


@pytest.mark.sqlite_only("secure_delete is SQLite's: freed pages of its file are overwritten")
async def test_erased_text_is_overwritten_in_the_database_file(harness: Harness) -> None:
    async with harness.db.snapshot() as q:
        assert await q.scalar("PRAGMA secure_delete") == 1


async def test_stored_files_nothing_names_go_after_the_message_retention(harness: Harness) -> None:
    """A file received but refused (here: sent where text was asked) is named by nothing; once a day the
    files nothing has named for keep_messages_days are removed, and a partial write a crash left too.
    A matter's attachment, a file a message still waiting to be sent names, stay."""
    deputy = await submitted(harness)  # its photo-less report; now a stray file, sent where the subject was asked:
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.send_file(b"%PDF-1.4 stray", "无关.pdf")
    await deputy.say("/cancel")
    root = Path(harness.app.config.storage.files_dir)
    async with harness.db.transaction() as tx:
        await tx.execute("INSERT INTO attachments (matter_id, kind, name, size, sha256, path, created_at) SELECT id,"
                         " 'document', 'x.pdf', 1, ?, ?, registered_at FROM matters", ("a" * 64, str(root / "aa" / ("a" * 64))))
        await tx.execute("UPDATE outbox SET state = 'pending', payload = ? WHERE id = (SELECT MAX(id) FROM outbox)",
                         (f'{{"text": "", "files": [["{root / "bb" / ("b" * 64)}", "chart.png", "photo"]]}}',))
    for folder, name in (("aa", "a" * 64), ("bb", "b" * 64), ("cc", "c" * 64 + ".123.tmp")):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes(b"kept?")
        stamp = harness.clock.now().timestamp()  # as the store would: ages follow the application's clock
        os.utime(root / folder / name, (stamp, stamp))
    on_disk = sorted(p.name for p in root.rglob("*") if p.is_file())
    assert len(on_disk) == 4  # the stray one, the matter's, the pending message's, the partial write

    await harness.app.supervise()  # the day's look, now: all of them are new
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == on_disk
    harness.clock.advance(days=31)
    await harness.app.supervise()
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["a" * 64, "b" * 64]
