"""SPEC §9 "never lose a message": receiving without loss (storage/inbox.py, bot/inbox.py).

An update is committed to the inbox before the channel confirms it, so it may be stored
twice; it is processed exactly once, each chat's updates strictly in order, different chats
concurrently. A handler's work, its messages and the "done" mark are one transaction: a
refusal rolls back to the handler's savepoint, a crash rolls back everything and leaves a
'failed' entry and an apology. Logs name ids, never what people wrote.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from bot.context import Context
from bot.errors import NotFoundError
from bot.health import StoreUnavailable
from bot.messages import Attachment, Incoming, Reply
from bot.model import Dialog
from storage.db import ts
from storage.inbox import Entry
from tests.fakes import Harness, RecordingChannel, User

APOLOGY = "抱歉，系统出现问题，本次操作未作任何更改。请稍后重试，或与本院办公室联系。"
APOLOGY_EN = ("Sorry, something went wrong on our side, and nothing was changed. "
              "Please try again later, or contact the liaison office.")


async def bound_deputy(harness: Harness, name: str, user_id: str, lang: str = "zh-hans") -> User:
    rep = await harness.add_representative(name, phone=f"1380000{user_id[-4:]}")
    user = harness.user(user_id, language_code=lang)
    await user.say(f"/start {await harness.invite(rep)}")
    return user


async def deputy_writing_text(harness: Harness, name: str, user_id: str) -> User:
    """A deputy in the middle of /submit, at the step where any number of text messages is taken."""
    deputy = await bound_deputy(harness, name, user_id)
    await deputy.say("/submit")
    await deputy.press("意见")
    await deputy.say(f"{name}的意见")
    return deputy


def update(user_id: str, text: str) -> str:
    """The stored payload of a plain text message from a user in their private chat."""
    inc = Incoming(channel="test", user_id=user_id, chat_id=user_id, text=text, language_code="zh-hans")
    return json.dumps(inc.to_json())


async def inbox_states(harness: Harness) -> dict[str, str]:
    async with harness.db.snapshot() as q:
        return {r["external_id"]: r["state"] for r in await q.all("SELECT external_id, state FROM inbox")}


async def dialog_text(harness: Harness, user_id: str) -> list[str]:
    async with harness.db.snapshot() as q:
        data = await q.scalar("SELECT data FROM dialogs WHERE actor = ?", (f"test:{user_id}",))
    return list(json.loads(data)["text"])


def messages(harness: Harness, chat_id: str, since: int = 0) -> list[str]:
    return [s.text for s in harness.channel.sent[since:] if s.chat_id == chat_id and s.op == "message"]


# -- exactly once -----------------------------------------------------------------------------


async def test_the_same_update_stored_twice_is_processed_once(harness: Harness) -> None:
    """A crash between our commit and Telegram's confirmation: getUpdates hands the update over again."""
    deputy = await deputy_writing_text(harness, "王建国", "1001")
    await deputy.say("建议加强普法宣传。")
    await deputy.press("完成")
    await deputy.press("无附件")
    confirm = next(data for label, data in deputy.received[-1].buttons if label == "确认提交")
    press = Incoming(channel="test", user_id="1001", chat_id="1001", action=confirm, callback_id="cb-x",
                     message_id=deputy.received[-1].message_id, language_code="zh-hans")
    payload = json.dumps(press.to_json())
    before = len(harness.channel.sent)

    assert await harness.app.store("test", [("u-77", "test:1001", payload)]) == 1
    assert await harness.app.store("test", [("u-77", "test:1001", payload)]) == 0  # redelivered
    await harness.app.settle()
    assert await harness.app.store("test", [("u-77", "test:1001", payload), ("u-77", "test:1001", payload)]) == 0
    await harness.app.settle()

    assert await harness.count("inbox", "external_id = 'u-77'") == 1
    assert await harness.count("matters") == 1
    sent = harness.channel.sent[before:]
    assert [s.op for s in sent] == ["answer", "message"]
    assert sent[1].text.splitlines()[2] == "编号：LS-2026-0001"


async def test_an_update_id_used_again_long_after_is_a_new_update(harness: Harness) -> None:
    """Telegram starts update ids again from a random number after a week without updates, so an id may
    come back that the inbox holds from long ago: that is a new message, never a redelivery to drop.
    A redelivery (within Telegram's 24 hours) is still dropped, before and after."""
    await bound_deputy(harness, "王建国", "1001")
    assert await harness.app.store("test", [("u-5", "test:1001", update("1001", "你好"))]) == 1
    await harness.app.settle()
    harness.clock.advance(days=1, hours=23)
    assert await harness.app.store("test", [("u-5", "test:1001", update("1001", "你好"))]) == 0  # redelivered

    harness.clock.advance(days=200)
    before = len(harness.channel.sent)
    assert await harness.app.store("test", [("u-5", "test:1001", update("1001", "又来了"))]) == 1
    assert await harness.app.store("test", [("u-5", "test:1001", update("1001", "又来了"))]) == 0  # redelivered
    await harness.app.settle()

    async with harness.db.snapshot() as q:
        rows = [(r["id"], r["external_id"], r["state"], json.loads(r["payload"])["text"])
                for r in await q.all("SELECT * FROM inbox WHERE external_id LIKE 'u-5%' ORDER BY id")]
    [(old_id, old_key, old_state, old_text), (_, new_key, new_state, new_text)] = rows
    assert (old_key, old_state, old_text) == (f"u-5#{old_id}", "done", "你好")
    assert (new_key, new_state, new_text) == ("u-5", "done", "又来了")
    assert len(messages(harness, "1001", before)) == 1  # the new message was answered, once


async def test_a_batch_stores_new_ids_and_reused_ones_together_and_drops_redeliveries(harness: Harness) -> None:
    """A poll's updates go in as one statement (storage/inbox.py): in one batch a new id, an id from long ago used
    again (a new update) and a redelivery are told apart as one by one."""
    await bound_deputy(harness, "王建国", "1001")
    assert await harness.app.store("test", [("u-5", "test:1001", update("1001", "你好")),
                                            ("u-6", "test:1001", update("1001", "你好"))]) == 2
    await harness.app.settle()
    harness.clock.advance(days=200)
    assert await harness.app.store("test", [("u-6", "test:1001", update("1001", "又来了")),  # long ago: new
                                            ("u-7", "test:1001", update("1001", "新的")),
                                            ("u-7", "test:1001", update("1001", "新的"))]) == 2  # a redelivery
    assert await harness.app.store("test", [("u-6", "test:1001", update("1001", "又来了")),
                                            ("u-7", "test:1001", update("1001", "新的"))]) == 0  # both redelivered
    assert await harness.count("inbox", "external_id LIKE 'u-%'") == 4  # u-5, u-6 of long ago set aside, u-6, u-7
    async with harness.db.snapshot() as q:  # handled in the order received: the reused id before the new one
        order = [r[0] for r in await q.all("SELECT external_id FROM inbox WHERE external_id LIKE 'u-%' ORDER BY id")]
    assert order[0] == "u-5" and order[1].startswith("u-6#") and order[2:] == ["u-6", "u-7"]


async def test_one_batch_with_a_repeated_update_stores_it_once(harness: Harness) -> None:
    await bound_deputy(harness, "王建国", "1001")
    before = len(harness.channel.sent)
    added = await harness.app.store("test", [("u-1", "test:1001", update("1001", "第一条")),
                                             ("u-2", "test:1001", update("1001", "你好")),
                                             ("u-1", "test:1001", update("1001", "第一条"))])
    assert added == 2
    await harness.app.settle()
    assert messages(harness, "1001", before) == ["抱歉，未能理解您的消息。请在下方选择，或发送 /help 查看帮助。"] * 2


async def test_an_entry_marked_done_is_never_processed_again(harness: Harness) -> None:
    deputy = await bound_deputy(harness, "王建国", "1001")
    await deputy.say("/help")
    outbox_rows = await harness.count("outbox")

    # a processor that forgot what it had queued (as after a restart) looks again from the start
    harness.app.processor._last_queued = 0
    await harness.app.processor.process_pending()
    assert await harness.count("outbox") == outbox_rows

    # and one that is handed a done entry anyway does nothing with it
    async with harness.db.snapshot() as q:
        rows = await q.all("SELECT id, channel, external_id, chat_key, payload FROM inbox ORDER BY id")
    entries = [Entry(r["id"], r["channel"], r["external_id"], r["chat_key"], r["payload"]) for r in rows]
    processed = harness.app.processor.processed
    for entry in entries:
        await harness.app.processor._process(entry)
    assert harness.app.processor.processed == processed + len(entries)
    assert await harness.count("outbox") == outbox_rows
    assert set((await inbox_states(harness)).values()) == {"done"}


# -- order ------------------------------------------------------------------------------------


async def test_each_chat_in_its_own_order_from_one_interleaved_batch(harness: Harness) -> None:
    users = ["1001", "1002", "1003"]
    for n, user_id in enumerate(users):
        await deputy_writing_text(harness, f"代表{n}", user_id)
    before = len(harness.channel.sent)
    parts = {u: [f"{u}甲", f"{u}乙乙", f"{u}丙丙丙", f"{u}丁丁丁丁"] for u in users}
    batch = [(f"b-{u}-{i}", f"test:{u}", update(u, parts[u][i])) for i in range(4) for u in users]
    assert await harness.app.store("test", batch) == 12
    await harness.app.settle()

    for user_id in users:
        assert await dialog_text(harness, user_id) == parts[user_id]
        assert messages(harness, user_id, before) == [
            f"已收到（目前共 {n} 字）。可继续发送，或选择“完成”。" for n in (5, 11, 18, 26)
        ]
    assert set((await inbox_states(harness)).values()) == {"done"}


class GatedChannel(RecordingChannel):
    """Each update carries a file, and one chat's downloads (`fetch`) wait until the test opens the gate."""

    def __init__(self, base: RecordingChannel, gated_chat: str) -> None:
        super().__init__(base.files)
        self.sent = base.sent
        self.gated_chat = gated_chat
        self.gate = asyncio.Event()
        self.prepared: list[str] = []

    async def prepare(self, payload: str) -> Incoming | None:
        inc = await super().prepare(payload)
        assert inc is not None
        return replace(inc, attachments=(Attachment("photo", f"file-{inc.text}", "a.jpg", 10),))

    async def fetch(self, inc: Incoming) -> Incoming:
        if inc.chat_id == self.gated_chat:
            await self.gate.wait()
        self.prepared.append(inc.text)
        return replace(inc, attachments=())  # as if it were only the text: the step under test takes that


async def test_a_slow_chat_does_not_hold_up_the_others(harness: Harness) -> None:
    for n, user_id in enumerate(["1001", "1002"]):
        await deputy_writing_text(harness, f"代表{n}", user_id)
    before = len(harness.channel.sent)
    gated = GatedChannel(harness.channel, gated_chat="1001")
    harness.app.add_channel(gated)
    harness.channel = gated

    others_done = asyncio.Event()
    done_count = 0

    def on_processed() -> None:
        nonlocal done_count
        done_count += 1
        if done_count == 3:
            others_done.set()

    harness.app.processor.on_outbox = on_processed
    batch = [("a1", "test:1001", update("1001", "一")), ("b1", "test:1002", update("1002", "二")),
             ("a2", "test:1001", update("1001", "三三")), ("b2", "test:1002", update("1002", "四四")),
             ("a3", "test:1001", update("1001", "五五五")), ("b3", "test:1002", update("1002", "六六六"))]
    await harness.app.store("test", batch)  # files to fetch first: none is handled at once
    assert [(await inbox_states(harness))[k] for k, _, _ in batch] == ["new"] * 6
    processing = asyncio.create_task(harness.app.processor.process_pending())
    await asyncio.wait_for(others_done.wait(), timeout=10)

    # the second chat is through while the first still waits for its first update
    states = await inbox_states(harness)
    assert {k: states[k] for k, _, _ in batch} == {"a1": "new", "b1": "done", "a2": "new", "b2": "done",
                                                   "a3": "new", "b3": "done"}
    assert gated.prepared == ["二", "四四", "六六六"]
    assert not processing.done()

    gated.gate.set()
    await asyncio.wait_for(processing, timeout=10)
    await harness.app.dispatcher.flush()
    assert gated.prepared == ["二", "四四", "六六六", "一", "三三", "五五五"]
    assert await dialog_text(harness, "1001") == ["一", "三三", "五五五"]
    assert await dialog_text(harness, "1002") == ["二", "四四", "六六六"]
    assert messages(harness, "1001", before) == [f"已收到（目前共 {n} 字）。可继续发送，或选择“完成”。" for n in (1, 3, 6)]
    assert messages(harness, "1002", before) == [f"已收到（目前共 {n} 字）。可继续发送，或选择“完成”。" for n in (1, 3, 6)]


# -- failures ---------------------------------------------------------------------------------


async def test_an_unexpected_error_fails_the_entry_rolls_back_and_apologises(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    deputy = await bound_deputy(harness, "王建国", "1001")
    calls: list[str] = []

    async def broken_help(ctx: Context) -> None:
        calls.append(ctx.inc.text)
        await ctx.tx.execute("INSERT INTO departments (name, created_at) VALUES ('半途写入', 'x')")
        await ctx.reply(Reply("写了一半的回复"))
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(harness.app.processor.routes.commands, "help", broken_help)
    before = len(harness.channel.sent)
    replies = await deputy.say("/help")
    assert [(r.op, r.text) for r in replies] == [("message", APOLOGY)]
    assert calls == ["/help"]  # tried once, never retried in a loop
    assert await harness.count("departments") == 0
    assert await harness.count("inbox", "state = 'failed'") == 1
    async with harness.db.snapshot() as q:
        failed = await q.one("SELECT payload, processed_at FROM inbox WHERE state = 'failed'")
    assert json.loads(failed["payload"])["command"] == "help" and failed["processed_at"] is not None

    # the chat goes on: the next update is handled normally
    replies = await deputy.say("你好")
    assert [r.text for r in replies] == ["抱歉，未能理解您的消息。请在下方选择，或发送 /help 查看帮助。"]
    await harness.app.settle()  # nothing left over to process
    assert calls == ["/help"]
    assert len(harness.channel.sent) == before + 2


async def test_an_unexpected_error_on_a_button_answers_the_press_once_in_english(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    deputy = await bound_deputy(harness, "Wang", "1001", lang="en")

    async def broken_menu(ctx: Context, parts: list[str]) -> None:
        await ctx.answer("half way")
        raise KeyError(parts[0])

    monkeypatch.setitem(harness.app.processor.routes.buttons, "menu", broken_menu)
    replies = await deputy.press("Help")
    assert [(r.op, r.text) for r in replies] == [("message", APOLOGY_EN), ("answer", "")]
    assert await harness.count("inbox", "state = 'failed'") == 1


async def test_a_refusal_rolls_back_to_the_savepoint(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    deputy = await bound_deputy(harness, "王建国", "1001")

    async def refusing_help(ctx: Context) -> None:
        await ctx.tx.execute("INSERT INTO departments (name, created_at) VALUES ('被撤销的写入', 'x')")
        await ctx.save_dialog(Dialog("intake", "kind", "", {"text": [], "files": []}))
        await ctx.reply(Reply("不应送达"))
        raise NotFoundError("No such matter.")

    monkeypatch.setitem(harness.app.processor.routes.commands, "help", refusing_help)
    async with harness.app.db.transaction() as tx:  # the same person on a second channel, used more recently
        await tx.execute("INSERT INTO identities (channel, external_id, person_id, chat_id, bound_at)"
                         " SELECT 'other', 'o-1', person_id, 'o-1', ? FROM identities WHERE external_id = '1001'",
                         (ts(harness.clock.now()),))
    replies = await deputy.say("/help")
    assert [(r.op, r.text) for r in replies] == [("message", "未找到该事项。")]
    assert await harness.count("departments") == 0 and await harness.count("dialogs") == 0
    # the update's savepoint holds the entry's "done" mark too: it is written again after the rollback
    assert await inbox_states(harness) == {"1": "done", "2": "done"}
    async with harness.app.db.snapshot() as q:
        seen = await q.scalar("SELECT last_seen_at FROM identities WHERE channel = 'test' AND external_id = '1001'")
    assert seen == ts(harness.clock.now())  # and so is the person's last contact: this channel is the latest again


# -- handled at once, in the transaction that stores it ------------------------------------------------


async def test_an_update_is_handled_in_the_transaction_that_stores_it(harness: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One durable commit keeps it and does it: by the time the channel may confirm it, its answer is queued."""
    await bound_deputy(harness, "王建国", "1001")
    transactions = 0
    real = type(harness.db).transaction

    def counted(db: Any, **kwargs: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return real(db, **kwargs)

    monkeypatch.setattr(type(harness.db), "transaction", counted)
    queued = await harness.count("outbox")
    assert await harness.app.store("test", [("n-1", "test:1001", update("1001", "你好"))]) == 1
    assert transactions == 1
    assert (await inbox_states(harness))["n-1"] == "done"
    assert await harness.count("outbox") == queued + 1  # the answer, queued in the same commit
    before = len(harness.channel.sent)
    await harness.app.settle()
    assert messages(harness, "1001", before) == [NOT_UNDERSTOOD]


async def test_an_update_goes_after_one_of_its_chat_still_waiting(harness: Harness) -> None:
    """A chat's order holds across the two paths: behind an update stored earlier and not yet handled (here one
    stored while the store did not handle), the next one of that chat waits; another chat's is handled at once."""
    await deputy_writing_text(harness, "王建国", "1001")
    await bound_deputy(harness, "李红", "1002")
    harness.app.processor.at_once = False
    await harness.app.store("test", [("w-1", "test:1001", update("1001", "一"))])
    harness.app.processor.at_once = True
    await harness.app.store("test", [("w-2", "test:1001", update("1001", "二二")), ("w-3", "test:1002", update("1002", "好"))])
    states = await inbox_states(harness)
    assert (states["w-1"], states["w-2"], states["w-3"]) == ("new", "new", "done")
    await harness.app.settle()
    assert await dialog_text(harness, "1001") == ["一", "二二"]
    assert set((await inbox_states(harness)).values()) == {"done"}


async def test_what_needs_more_first_is_left_to_the_processor(harness: Harness) -> None:
    """A file to fetch, a command that reads first (the digest), a chat over its minute: stored, not handled, by
    the store; the processor does each as before. A refusal of the processor's changes nothing of the store's."""
    await bound_deputy(harness, "王建国", "1001")
    leader = await harness.add_staff("赵院长", ["leader"])
    await harness.user("2001").say(f"/start {await harness.invite(leader)}")
    photo = Incoming(channel="test", user_id="1001", chat_id="1001", text="",
                     attachments=(Attachment("photo", "p-1", "a.jpg", 3),), language_code="zh-hans")
    digest = Incoming(channel="test", user_id="2001", chat_id="2001", text="/digest", command="digest",
                      language_code="zh-hans")
    await harness.app.store("test", [("m-1", "test:1001", json.dumps(photo.to_json())),
                                     ("m-2", "test:2001", json.dumps(digest.to_json()))])
    states = await inbox_states(harness)
    assert (states["m-1"], states["m-2"]) == ("new", "new")
    await harness.app.settle()
    assert set((await inbox_states(harness)).values()) == {"done"}

    await bound_deputy(harness, "李红", "1003")
    app = harness.app
    app.config = replace(app.config, intake=replace(app.config.intake, max_messages_per_minute=1))
    app.processor.config = app.config
    minute = app.processor.monotonic() + 3600  # a minute of its own, after the binding's message
    app.processor.monotonic = lambda: minute
    await app.store("test", [("m-3", "test:1003", update("1003", "一"))])
    await app.store("test", [("m-4", "test:1003", update("1003", "二"))])  # over the chat's minute
    states = await inbox_states(harness)
    assert (states["m-3"], states["m-4"]) == ("done", "new")
    before = len(harness.channel.sent)
    await app.settle()
    assert (await inbox_states(harness))["m-4"] == "done"
    assert messages(harness, "1003", before)[-1].startswith("您在一分钟内发送的内容已超出本平台的接收限度")


async def test_a_chats_second_update_in_one_batch_waits_for_the_first_to_be_committed(harness: Harness) -> None:
    """A channel prepares an update from what is committed (WeCom: the chat's dialogue, its cards), so the second
    update of a chat in one batch is not prepared before the first is in: it goes to the processor, in order."""
    await deputy_writing_text(harness, "王建国", "1001")
    await harness.app.store("test", [("t-1", "test:1001", update("1001", "一")), ("t-2", "test:1001", update("1001", "二二"))])
    states = await inbox_states(harness)
    assert (states["t-1"], states["t-2"]) == ("done", "new")
    await harness.app.settle()
    assert await dialog_text(harness, "1001") == ["一", "二二"]


async def test_what_a_store_that_did_not_commit_handled_is_not_counted(harness: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 4 with the store's handling: a commit refused by a full disk leaves the update unconfirmed (the
    channel sends it again) and uncounted, so a chat allowed one message a minute is answered when it comes back,
    not told to wait with its message thrown away."""
    await bound_deputy(harness, "王建国", "1001")
    app = harness.app
    app.config = replace(app.config, intake=replace(app.config.intake, max_messages_per_minute=1))
    app.processor.config = app.config
    minute = app.processor.monotonic() + 3600
    app.processor.monotonic = lambda: minute
    app.health.first_wait = 0.0
    real = app.processor.handle_at_once
    refusals = 0

    async def then_the_disk_is_full(tx: Any, entries: list[Entry]) -> int:
        nonlocal refusals
        handled = await real(tx, entries)
        if refusals < 2:
            refusals += 1
            raise sqlite3.OperationalError("database or disk is full")  # as the COMMIT would
        return handled

    monkeypatch.setattr(app.processor, "handle_at_once", then_the_disk_is_full)
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            await app.store("test", [("d-1", "test:1001", update("1001", "你好"))])
    assert await harness.count("inbox") == await harness.count("inbox", "external_id <> 'd-1'")  # nothing kept
    before = len(harness.channel.sent)
    assert await app.store("test", [("d-1", "test:1001", update("1001", "你好"))]) == 1
    assert (await inbox_states(harness))["d-1"] == "done"
    await app.settle()
    assert messages(harness, "1001", before) == [NOT_UNDERSTOOD]


async def test_handling_that_breaks_never_keeps_an_update_from_being_stored(harness: Harness,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the store's handling itself fail (beyond a handler, which is failed alone), the updates are stored
    alone and left to the processor: never refused, which would have the channel send them again and again."""
    await bound_deputy(harness, "王建国", "1001")

    async def broken(tx: Any, entries: list[Entry]) -> int:
        await tx.execute("INSERT INTO departments (name, created_at) VALUES ('半途写入', 'x')")
        raise RuntimeError("a bug in handling at once")

    monkeypatch.setattr(harness.app.processor, "handle_at_once", broken)
    assert await harness.app.store("test", [("x-1", "test:1001", update("1001", "你好"))]) == 1
    assert (await inbox_states(harness))["x-1"] == "new"
    assert await harness.count("departments") == 0  # what it began was rolled back with it
    before = len(harness.channel.sent)
    await harness.app.settle()
    assert (await inbox_states(harness))["x-1"] == "done"
    assert messages(harness, "1001", before) == [NOT_UNDERSTOOD]


# -- group commit -----------------------------------------------------------------------------


NOT_UNDERSTOOD = "抱歉，未能理解您的消息。请在下方选择，或发送 /help 查看帮助。"


@pytest.mark.parametrize("at_once", [True, False], ids=["stored-and-handled", "processor"])
async def test_updates_of_different_chats_ready_together_share_one_commit(harness: Harness, at_once: bool) -> None:
    harness.app.processor.at_once = at_once
    users = ["1001", "1002", "1003"]
    for n, user_id in enumerate(users):
        await bound_deputy(harness, f"代表{n}", user_id)
    before, groups = len(harness.channel.sent), harness.app.processor.groups
    await harness.app.store("test", [(f"g-{u}", f"test:{u}", update(u, "你好")) for u in users])
    await harness.app.settle()
    assert harness.app.processor.groups == groups + 1  # three updates, one transaction
    for user_id in users:
        assert messages(harness, user_id, before) == [NOT_UNDERSTOOD]
    assert set((await inbox_states(harness)).values()) == {"done"}


@pytest.mark.parametrize("at_once", [True, False], ids=["stored-and-handled", "processor"])
async def test_a_failing_handler_in_a_group_fails_alone(harness: Harness, monkeypatch: pytest.MonkeyPatch,
                                                        at_once: bool) -> None:
    harness.app.processor.at_once = at_once
    for n, user_id in enumerate(["1001", "1002", "1003"]):
        await bound_deputy(harness, f"代表{n}", user_id)

    async def broken_help(ctx: Context) -> None:
        await ctx.tx.execute("INSERT INTO departments (name, created_at) VALUES ('半途写入', 'x')")
        await ctx.reply(Reply("写了一半的回复"))
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(harness.app.processor.routes.commands, "help", broken_help)
    before, groups = len(harness.channel.sent), harness.app.processor.groups
    await harness.app.store("test", [("f-1", "test:1001", update("1001", "你好")),
                                     ("f-2", "test:1002", json.dumps(Incoming(
                                         channel="test", user_id="1002", chat_id="1002", text="/help", command="help",
                                         language_code="zh-hans").to_json())),
                                     ("f-3", "test:1003", update("1003", "你好"))])
    await harness.app.settle()
    states = await inbox_states(harness)
    assert (states["f-1"], states["f-2"], states["f-3"]) == ("done", "failed", "done")
    assert messages(harness, "1001", before) == messages(harness, "1003", before) == [NOT_UNDERSTOOD]
    assert messages(harness, "1002", before) == [APOLOGY]
    assert await harness.count("departments") == 0  # rolled back to its own savepoint only
    assert harness.app.processor.groups == groups + 1  # the others were committed in the group


@pytest.mark.parametrize("at_once", [True, False], ids=["stored-and-handled", "processor"])
async def test_a_refusal_in_a_group_rolls_back_its_own_update_only(harness: Harness, monkeypatch: pytest.MonkeyPatch,
                                                                     at_once: bool) -> None:
    harness.app.processor.at_once = at_once
    for n, user_id in enumerate(["1001", "1002", "1003"]):
        await bound_deputy(harness, f"代表{n}", user_id)

    async def help_refused_for_1002(ctx: Context) -> None:
        await ctx.tx.execute("INSERT INTO departments (name, created_at) VALUES (?, 'x')", (f"写入{ctx.inc.user_id}",))
        if ctx.inc.user_id == "1002":
            raise NotFoundError("No such matter.")
        await ctx.reply(Reply("好的"))

    def helped(user_id: str, key: str) -> tuple[str, str, str]:
        return (key, f"test:{user_id}", json.dumps(Incoming(channel="test", user_id=user_id, chat_id=user_id,
                                                            text="/help", command="help",
                                                            language_code="zh-hans").to_json()))

    monkeypatch.setitem(harness.app.processor.routes.commands, "help", help_refused_for_1002)
    before, groups = len(harness.channel.sent), harness.app.processor.groups
    await harness.app.store("test", [helped("1001", "r-1"), helped("1002", "r-2"), helped("1003", "r-3")])
    await harness.app.settle()
    assert harness.app.processor.groups == groups + 1
    states = await inbox_states(harness)
    assert (states["r-1"], states["r-2"], states["r-3"]) == ("done", "done", "done")
    assert messages(harness, "1002", before) == ["未找到该事项。"]
    assert messages(harness, "1001", before) == messages(harness, "1003", before) == ["好的"]
    async with harness.app.db.snapshot() as q:
        names = [r[0] for r in await q.all("SELECT name FROM departments ORDER BY name")]
    assert names == ["写入1001", "写入1003"]


async def test_a_group_that_cannot_commit_is_done_again_one_by_one(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = ["1001", "1002", "1003"]
    for n, user_id in enumerate(users):
        await bound_deputy(harness, f"代表{n}", user_id)
    processor = harness.app.processor
    processor.at_once = False  # the processor's own groups (updates the store handles at once do not come here)
    original = processor._commit_group
    sizes: list[int] = []

    async def refuses_groups(group: list[tuple[Entry, Incoming | None]]) -> list[Exception | None]:
        sizes.append(len(group))
        if len(group) > 1:
            raise OSError("disk I/O error")
        return await original(group)

    monkeypatch.setattr(processor, "_commit_group", refuses_groups)
    before = len(harness.channel.sent)
    await harness.app.store("test", [(f"s-{u}", f"test:{u}", update(u, "你好")) for u in users])
    await harness.app.settle()
    assert sizes == [3, 1, 1, 1]
    # none failed for the group's fault: each was handled on its own
    assert {k: v for k, v in (await inbox_states(harness)).items() if k.startswith("s-")} == {
        "s-1001": "done", "s-1002": "done", "s-1003": "done"}
    for user_id in users:
        assert messages(harness, user_id, before) == [NOT_UNDERSTOOD]


# -- logs -------------------------------------------------------------------------------------


async def test_logs_name_ids_never_what_people_wrote(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the debugging lines too: none may hold a body
    deputy = await bound_deputy(harness, "王建国", "1001")
    await deputy.say("/submit")
    await deputy.press("举报")
    await deputy.say("紫色长颈鹿事件")
    await deputy.say("紫色长颈鹿在县城出没，请核查。")
    await deputy.say("紫" * 20001)  # refused as too long: the refusal is logged
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("欧阳娜娜")
    await deputy.say("13912345678")
    await deputy.press("确认提交")
    assert await harness.count("matters") == 1
    assert any("inbox" in r.getMessage() for r in caplog.records)  # the logs were captured at all

    for record in caplog.records:
        for secret in ("长颈鹿", "欧阳娜娜", "13912345678", "紫紫"):
            assert secret not in record.getMessage()
            assert secret not in (caplog.text or "")


async def test_an_unknown_command_is_not_copied_into_the_log(harness: Harness,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    deputy = await bound_deputy(harness, "王建国", "1001")
    replies = await deputy.say("/举报张三受贿十万元")
    assert [r.text for r in replies] == ["无法识别该命令。发送 /help 查看可用功能。"]
    assert "张三" not in caplog.text


async def test_an_update_the_channel_cannot_read_is_failed_and_the_chat_goes_on(harness: Harness) -> None:
    """A payload `prepare` cannot turn into an Incoming (a channel bug): failed, logged, not retried, apologised for."""
    await bound_deputy(harness, "王建国", "1001")
    before = len(harness.channel.sent)
    await harness.app.store("test", [("bad-1", "test:1001", "{not json"), ("ok-1", "test:1001", update("1001", "你好"))])
    await harness.app.settle()
    states = await inbox_states(harness)
    assert (states["bad-1"], states["ok-1"]) == ("failed", "done")
    # the chat is known from the entry's chat key: its user is told, then the next update goes on
    assert messages(harness, "1001", before) == [
        "抱歉，系统出现问题，本次操作未作任何更改。请稍后重试，或与本院办公室联系。",
        "抱歉，未能理解您的消息。请在下方选择，或发送 /help 查看帮助。",
    ]
