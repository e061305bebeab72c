"""SPEC §9 "never lose a notification": the outbox and its dispatcher (bot/dispatch.py, storage/outbox.py).

Every delivery outcome the channel can report (bot/channels/base.py) is played through the
RecordingChannel's `failures` list against a Dispatcher working on the harness's real SQLite
database. Time is the MovableClock for `not_before`, and a hand-moved `monotonic` for the
per-chat and global pacing; nothing here sleeps. Retries are made due by moving the clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from bot.channels.base import (DeliveryError, MaybeDelivered, Pacing, Progress, RateLimited, Rejected, TemporaryFailure,
                              Unreachable)
from bot.config import OutboxConfig
from bot.context import Context
from bot.dispatch import Dispatcher
from bot.i18n import Translator
from bot.messages import Incoming, Reply, SendResult
from handlers.matters import register
from bot.model import UnitScope
from storage import casework, outbox
from storage.db import ts
from storage.records import RECORDS
from tests.fakes import Harness, MovableClock, RecordingChannel, User

APOLOGY = "抱歉，系统出现问题，本次操作未作任何更改。请稍后重试，或与本院办公室联系。"


class ClockMonotonic:
    """A monotonic time that moves with the MovableClock: one source of time for the whole test."""

    def __init__(self, clock: MovableClock) -> None:
        self.clock = clock
        self.start = clock.now()

    def __call__(self) -> float:
        return (self.clock.now() - self.start).total_seconds()


class HandMonotonic:
    """A monotonic time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class PerChatFailingChannel(RecordingChannel):
    """A RecordingChannel whose failures are given per chat, so that concurrent sends stay deterministic."""

    def __init__(self, base: RecordingChannel) -> None:
        super().__init__(base.files)
        self.failures_for: dict[str, list[DeliveryError]] = {}

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        pending = self.failures_for.get(chat_id)
        if pending:
            raise pending.pop(0)
        return await super().deliver(chat_id, op, payload, progress)


@dataclass
class Row:
    state: str
    attempts: int
    last_error: str | None
    not_before: str


def dispatcher(harness: Harness, *, max_attempts: int = 5, per_chat_interval: float = 0.0, global_rate: float = 30.0,
               channel: RecordingChannel | None = None,
               monotonic: Callable[[], float] | None = None) -> Dispatcher:
    """A Dispatcher on the harness's database whose pacing runs on the test's clock, not the wall's."""
    return Dispatcher(
        harness.db,
        {"test": channel or harness.channel},
        OutboxConfig(global_rate=global_rate, per_chat_interval=per_chat_interval, max_attempts=max_attempts),
        harness.clock,
        monotonic=monotonic or ClockMonotonic(harness.clock),
    )


async def enqueue(harness: Harness, chat_id: str, text: str, *, op: str = "message", policy: str = "retry") -> int:
    payload: dict[str, Any] = (Reply(text).to_json() if op == "message"
                               else {"callback_id": f"cb-{text}", "text": text, "alert": False})
    async with harness.db.transaction() as tx:
        item = await outbox.enqueue(tx, channel="test", chat_id=chat_id, op=op, payload=payload, policy=policy,
                                    now=harness.clock.now())
    assert item is not None
    return item


async def row(harness: Harness, item_id: int) -> Row:
    async with harness.db.snapshot() as q:
        r = await q.one("SELECT state, attempts, last_error, not_before FROM outbox WHERE id = ?", (item_id,))
    assert r is not None
    return Row(r["state"], r["attempts"], r["last_error"], r["not_before"])


async def drain(d: Dispatcher) -> float:
    """Start everything that may start now and wait for it, until nothing more starts (no sleeping)."""
    while True:
        wait = await d._tick()
        if not d._inflight:
            return wait
        await asyncio.gather(*list(d._inflight.values()))


def texts(channel: RecordingChannel) -> list[tuple[str, str]]:
    return [(s.chat_id, s.text) for s in channel.sent]


@pytest.fixture
def max_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off without jitter: always the full 2**attempts seconds, so the test knows when a retry is due."""
    monkeypatch.setattr("bot.dispatch.random.uniform", lambda low, high: high)


# -- 429 -------------------------------------------------------------------------------------


async def test_rate_limited_waits_as_long_as_told_then_sends(harness: Harness) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "您好")
    start = harness.clock.now()
    harness.channel.failures.append(RateLimited(retry_after=5))

    await drain(d)
    assert harness.channel.sent == []
    # a 429 is no failure: the attempt is given back
    assert await row(harness, item) == Row("pending", 0, "429 retry after 5", ts(start + timedelta(seconds=5)))

    harness.clock.advance(seconds=4.9)
    await drain(d)
    assert harness.channel.sent == []

    harness.clock.advance(seconds=0.1)
    await drain(d)
    assert texts(harness.channel) == [("c1", "您好")]
    assert (await row(harness, item)).state == "sent"
    assert (await row(harness, item)).attempts == 1  # the 429 try was given back
    assert d.sent == 1


# -- temporary failures ------------------------------------------------------------------------


async def test_temporary_failure_is_retried_with_growing_back_off_until_sent(harness: Harness,
                                                                             max_backoff: None) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "第一条")
    harness.channel.failures += [TemporaryFailure("502 Bad Gateway"), TemporaryFailure("connection refused")]
    start = harness.clock.now()

    await drain(d)
    assert await row(harness, item) == Row("pending", 1, "temporary: 502 Bad Gateway",
                                           ts(start + timedelta(seconds=2)))
    harness.clock.advance(seconds=2)
    await drain(d)
    assert await row(harness, item) == Row("pending", 2, "temporary: connection refused",
                                           ts(start + timedelta(seconds=2 + 4)))
    harness.clock.advance(seconds=3)
    await drain(d)
    assert harness.channel.sent == []  # not yet due
    harness.clock.advance(seconds=1)
    await drain(d)
    assert texts(harness.channel) == [("c1", "第一条")]
    assert (await row(harness, item)).state == "sent" and (await row(harness, item)).attempts == 3


async def test_rate_limits_do_not_use_up_the_attempts_for_failures(harness: Harness, max_backoff: None) -> None:
    d = dispatcher(harness, max_attempts=3)
    item = await enqueue(harness, "c1", "征求意见卡")
    harness.channel.failures += [RateLimited(retry_after=1), RateLimited(retry_after=1), TemporaryFailure("502")]
    for _ in range(3):
        await drain(d)
        harness.clock.advance(seconds=1)
    assert (await row(harness, item)).state == "pending"  # one real failure of three allowed: try again
    harness.clock.advance(seconds=2)
    await drain(d)
    assert texts(harness.channel) == [("c1", "征求意见卡")]


async def test_temporary_failure_gives_up_after_max_attempts(harness: Harness, max_backoff: None) -> None:
    d = dispatcher(harness, max_attempts=3)
    item = await enqueue(harness, "c1", "第一条")
    harness.channel.failures += [TemporaryFailure(f"50{n}") for n in range(3)]
    start = harness.clock.now()
    for _ in range(3):
        await drain(d)
        harness.clock.advance(seconds=300)
    # the second failure was at start+300 s and set not_before 4 s later; the third gave up
    assert await row(harness, item) == Row("failed", 3, "temporary: 502", ts(start + timedelta(seconds=304)))
    await drain(d)
    assert harness.channel.sent == [] and harness.channel.failures == []


# -- maybe delivered --------------------------------------------------------------------------


async def test_maybe_delivered_is_sent_again_when_the_policy_is_retry(harness: Harness, max_backoff: None) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "LS-2026-0001 已交办", policy="retry")
    harness.channel.failures.append(MaybeDelivered("TimedOut"))
    await drain(d)
    assert (await row(harness, item)).state == "pending"
    assert (await row(harness, item)).last_error == "maybe delivered: TimedOut"
    harness.clock.advance(seconds=2)
    await drain(d)
    assert texts(harness.channel) == [("c1", "LS-2026-0001 已交办")]
    assert (await row(harness, item)).state == "sent"


class PartsChannel(RecordingChannel):
    """Sends a reply as one message per line of its text, through Progress as the real channels do; a failure
    queued in `failures_at[n]` is raised by the n-th message sent (counting from 1, across attempts)."""

    def __init__(self, base: RecordingChannel, harness: Harness) -> None:
        super().__init__(base.files)
        self.harness = harness
        self.failures_at: dict[int, DeliveryError] = {}
        self.calls = 0
        self.kept_seen: list[object] = []  # the outbox row's stored progress, read as each message goes

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        async def line(text: str) -> str:
            self.calls += 1
            async with self.harness.db.snapshot() as q:
                self.kept_seen.append(await q.scalar("SELECT result FROM outbox WHERE chat_id = ?", (chat_id,)))
            if self.calls in self.failures_at:
                raise self.failures_at.pop(self.calls)
            return (await super(PartsChannel, self).deliver(chat_id, op, {**payload, "text": text})).message_ids[0]

        return await (progress or Progress()).send([partial(line, text) for text in payload["text"].split("\n")])


async def test_a_reply_of_several_messages_goes_on_from_the_one_that_failed(harness: Harness,
                                                                           max_backoff: None) -> None:
    """A long reply is three messages; the second fails (a 5xx, WeCom's 45033): the retry sends the second and
    the third, and the person reads the first once, not twice."""
    channel = PartsChannel(harness.channel, harness)
    d = dispatcher(harness, channel=channel)
    item = await enqueue(harness, "c1", "第一段\n第二段\n第三段")
    channel.failures_at[2] = TemporaryFailure("HTTP 502")
    await drain(d)
    assert texts(channel) == [("c1", "第一段")]
    assert (await row(harness, item)).state == "pending"
    harness.clock.advance(seconds=300)
    await drain(d)
    assert texts(channel) == [("c1", "第一段"), ("c1", "第二段"), ("c1", "第三段")]
    async with harness.db.snapshot() as q:
        stored = await q.one("SELECT state, ambiguous, result FROM outbox WHERE id = ?", (item,))
    assert stored is not None and stored["state"] == "sent" and stored["ambiguous"] == 0
    assert json.loads(stored["result"]) == {"message_ids": [s.message_id for s in channel.sent]}
    # what went was stored before the next message left: a crash then loses no progress
    assert channel.kept_seen[0] is None
    assert json.loads(str(channel.kept_seen[1]))["message_ids"] == [channel.sent[0].message_id]


async def test_after_a_crash_half_way_a_reply_goes_on_from_where_it_stopped(harness: Harness) -> None:
    """Killed after the first of three messages went (its id kept): the restart counts the send as one that
    may have arrived and sends the second and the third only."""
    channel = PartsChannel(harness.channel, harness)
    item = await enqueue(harness, "c1", "第一段\n第二段\n第三段")
    async with harness.db.transaction() as tx:
        assert await outbox.claim(tx, [item]) == {item}
        await outbox.keep_progress(tx, item, ["m-before-the-crash"])
    d = dispatcher(harness, channel=channel)
    assert await d.recover() == {"retried": 1, "held": 0}
    await drain(d)
    assert texts(channel) == [("c1", "第二段"), ("c1", "第三段")]
    async with harness.db.snapshot() as q:
        result = await q.scalar("SELECT result FROM outbox WHERE id = ?", (item,))
    assert json.loads(str(result))["message_ids"][0] == "m-before-the-crash"


async def test_maybe_delivered_button_answer_is_held_and_never_sent_again(harness: Harness) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "已收到", op="answer", policy="hold")
    harness.channel.failures.append(MaybeDelivered("TimedOut"))
    await drain(d)
    assert await row(harness, item) == Row("held", 1, "maybe delivered: TimedOut", ts(harness.clock.now()))
    harness.clock.advance(days=1)
    await drain(d)
    assert harness.channel.sent == []
    assert (await row(harness, item)).state == "held"


async def test_real_button_answers_are_queued_with_the_hold_policy(harness: Harness) -> None:
    """The policy is chosen where the answer is written (Context.answer), not by the test."""
    rep = await harness.add_representative("王建国")
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(rep)}")
    await deputy.press("帮助")
    async with harness.db.snapshot() as q:
        rows = [tuple(r) for r in await q.all("SELECT op, policy, state FROM outbox ORDER BY id")]
    assert rows == [("message", "retry", "sent"), ("answer", "hold", "sent"), ("message", "retry", "sent")]


# -- permanent outcomes -----------------------------------------------------------------------


async def test_unreachable_is_recorded_as_blocked(harness: Harness) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "您好")
    harness.channel.failures.append(Unreachable("Forbidden: bot was blocked by the user"))
    await drain(d)
    assert await row(harness, item) == Row("blocked", 1, "Forbidden: bot was blocked by the user",
                                           ts(harness.clock.now()))
    harness.clock.advance(hours=1)
    await drain(d)
    assert harness.channel.sent == []


async def test_rejected_is_recorded_as_failed(harness: Harness) -> None:
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "您好")
    later = await enqueue(harness, "c1", "下一条")
    harness.channel.failures.append(Rejected("Bad Request: can't parse entities"))
    await drain(d)
    assert await row(harness, item) == Row("failed", 1, "rejected: Bad Request: can't parse entities",
                                           ts(harness.clock.now()))
    # a message given up on does not hold the chat's later messages back
    assert texts(harness.channel) == [("c1", "下一条")]
    assert (await row(harness, later)).state == "sent"


async def test_a_surprise_from_the_channel_does_not_wedge_the_chat(harness: Harness) -> None:
    """An exception outside the DeliveryError family (a bug in a channel, a file deleted before upload)."""
    d = dispatcher(harness)
    item = await enqueue(harness, "c1", "带附件的答复")
    later = await enqueue(harness, "c1", "下一条")
    harness.channel.failures.append(FileNotFoundError("data/files/ab/abcdef"))  # type: ignore[arg-type]
    await drain(d)
    harness.clock.advance(hours=1)
    await drain(d)
    assert (await row(harness, item)).state != "sending"
    assert (await row(harness, later)).state == "sent"


# -- order per chat -----------------------------------------------------------------------------


async def test_a_retried_message_holds_back_its_chat_but_not_other_chats(harness: Harness, max_backoff: None) -> None:
    channel = PerChatFailingChannel(harness.channel)
    channel.failures_for["A"] = [TemporaryFailure("502")]
    d = dispatcher(harness, channel=channel)
    a1 = await enqueue(harness, "A", "A1")
    a2 = await enqueue(harness, "A", "A2")
    b1 = await enqueue(harness, "B", "B1")
    b2 = await enqueue(harness, "B", "B2")

    await drain(d)
    assert texts(channel) == [("B", "B1"), ("B", "B2")]
    assert [(await row(harness, i)).state for i in (a1, a2)] == ["pending", "pending"]
    assert [(await row(harness, i)).attempts for i in (a1, a2)] == [1, 0]  # A2 was never tried before A1

    harness.clock.advance(seconds=2)
    await drain(d)
    assert texts(channel) == [("B", "B1"), ("B", "B2"), ("A", "A1"), ("A", "A2")]
    assert [(await row(harness, i)).state for i in (a1, a2, b1, b2)] == ["sent"] * 4


async def test_a_rate_limited_chat_holds_back_only_itself(harness: Harness) -> None:
    channel = PerChatFailingChannel(harness.channel)
    channel.failures_for["A"] = [RateLimited(retry_after=30)]
    d = dispatcher(harness, channel=channel)
    for text in ("A1", "A2"):
        await enqueue(harness, "A", text)
    await enqueue(harness, "B", "B1")
    await drain(d)
    assert texts(channel) == [("B", "B1")]
    harness.clock.advance(seconds=30)
    await drain(d)
    assert texts(channel) == [("B", "B1"), ("A", "A1"), ("A", "A2")]


# -- crash recovery -----------------------------------------------------------------------------


async def test_recover_settles_what_was_in_flight_by_policy(harness: Harness) -> None:
    message = await enqueue(harness, "c1", "LS-2026-0001 已登记", policy="retry")
    answer = await enqueue(harness, "c1", "已收到", op="answer", policy="hold")
    untouched = await enqueue(harness, "c2", "尚未发送")
    async with harness.db.transaction() as tx:
        assert await outbox.claim(tx, [message]) == {message}
        assert await outbox.claim(tx, [answer]) == {answer}
    # the process dies here; a new one starts
    d = dispatcher(harness)
    assert await d.recover() == {"retried": 1, "held": 1}
    assert await row(harness, message) == Row("pending", 1, "in flight at restart", ts(harness.clock.now()))
    assert await row(harness, answer) == Row("held", 1, "in flight at restart", ts(harness.clock.now()))
    assert (await row(harness, untouched)).state == "pending"

    await drain(d)
    assert texts(harness.channel) == [("c1", "LS-2026-0001 已登记"), ("c2", "尚未发送")]
    assert (await row(harness, message)).attempts == 2
    assert (await row(harness, answer)).state == "held"
    assert await d.recover() == {"retried": 0, "held": 0}


async def test_recover_through_a_restarted_app(harness: Harness) -> None:
    """The same through App: items left 'sending' by a crash are settled before anything is sent."""
    item = await enqueue(harness, "c1", "您好")
    async with harness.db.transaction() as tx:
        assert await outbox.claim(tx, [item]) == {item}
    assert await harness.app.dispatcher.recover() == {"retried": 1, "held": 0}
    await harness.app.dispatcher.flush()
    assert texts(harness.channel) == [("c1", "您好")]


# -- pacing -------------------------------------------------------------------------------------


async def test_per_chat_interval_and_global_rate(harness: Harness) -> None:
    mono = HandMonotonic()
    d = dispatcher(harness, per_chat_interval=1.0, global_rate=3, monotonic=mono)
    chats = ["c1", "c2", "c3", "c4", "c5"]
    for n in (1, 2):
        for chat in chats:
            await enqueue(harness, chat, f"{chat}-{n}")
    started: list[tuple[float, str]] = []

    async def tick() -> float:
        before = len(harness.channel.sent)
        wait = await d._tick()
        await asyncio.gather(*list(d._inflight.values()))
        started.extend((mono.now, s.text) for s in harness.channel.sent[before:])
        return wait

    assert await tick() == 1.0
    assert started == [(0.0, "c1-1"), (0.0, "c2-1"), (0.0, "c3-1")]
    assert await tick() == 1.0  # nothing more in this second: the global rate is used up
    mono.now = 0.5
    assert await tick() == 0.5
    assert len(started) == 3
    mono.now = 1.0
    await tick()
    mono.now = 1.5
    await tick()
    mono.now = 2.0
    await tick()
    mono.now = 3.0
    await tick()
    assert started == [
        (0.0, "c1-1"), (0.0, "c2-1"), (0.0, "c3-1"),
        (1.0, "c4-1"), (1.0, "c5-1"), (1.0, "c1-2"),
        (2.0, "c2-2"), (2.0, "c3-2"), (2.0, "c4-2"),
        (3.0, "c5-2"),
    ]
    # the two rules, checked on the record: at most 3 in any second, a chat at most once a second
    for at, _ in started:
        assert sum(1 for t, _ in started if at <= t < at + 1.0) <= 3
    for chat in chats:
        times = [t for t, text in started if text.startswith(chat + "-")]
        assert all(b - a >= 1.0 for a, b in zip(times, times[1:]))


async def test_button_answers_are_not_held_back_by_the_message_rate(harness: Harness) -> None:
    mono = HandMonotonic()
    d = dispatcher(harness, per_chat_interval=1.0, global_rate=1, monotonic=mono)
    await enqueue(harness, "c1", "m1")
    await enqueue(harness, "c1", "m2")
    await enqueue(harness, "c1", "a1", op="answer", policy="hold")
    await enqueue(harness, "c2", "m3")
    await drain(d)
    assert [(s.chat_id, s.op, s.text) for s in harness.channel.sent] == [
        ("c1", "message", "m1"), ("c1", "answer", "a1")]


# -- a state change and its notification, together ---------------------------------------------


async def bound_deputy(harness: Harness, name: str = "王建国", user_id: str = "1001") -> User:
    rep = await harness.add_representative(name)
    user = harness.user(user_id)
    await user.say(f"/start {await harness.invite(rep)}")
    return user


async def test_a_reply_written_before_a_crash_is_not_kept(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    deputy = await bound_deputy(harness)
    sent_before = len(harness.channel.sent)
    outbox_before = await harness.count("outbox")

    async def reply_then_crash(ctx: Context) -> None:
        await ctx.reply(Reply("不应送达的答复"))
        await ctx.tx.execute("INSERT INTO departments (name, created_at) VALUES ('临时部门', 'x')")
        raise RuntimeError("boom")

    monkeypatch.setitem(harness.app.processor.routes.commands, "help", reply_then_crash)
    replies = await deputy.say("/help")
    assert [r.text for r in replies] == [APOLOGY]
    assert [s.text for s in harness.channel.sent[sent_before:]] == [APOLOGY]
    async with harness.db.snapshot() as q:
        new_rows = [json_text(r["payload"]) for r in await q.all("SELECT payload FROM outbox WHERE id > ?",
                                                                  (outbox_before,))]
    assert new_rows == [APOLOGY]
    assert await harness.count("departments") == 0


def json_text(payload: str) -> str:
    return str(json.loads(payload)["text"])


async def test_a_matter_and_its_receipt_are_committed_together(harness: Harness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """If telling the office fails, the matter is not registered and no receipt goes out (and vice versa)."""
    deputy = await bound_deputy(harness)
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("关于乡村道路安全")
    await deputy.say("建议在村口增设减速带。")
    await deputy.press("完成")
    await deputy.press("无附件")
    before = await harness.dump("matters", "timeline", "counters", "dialogs")
    outbox_before = await harness.count("outbox")

    async def office_unreachable(ctx: Context, matter: Any) -> None:
        raise RuntimeError("office list unavailable")

    monkeypatch.setattr(register, "notify_office", office_unreachable)
    replies = await deputy.press("确认提交")
    assert [(r.op, r.text) for r in replies] == [("message", APOLOGY), ("answer", "")]
    assert await harness.dump("matters", "timeline", "counters", "dialogs") == before
    assert await harness.count("outbox", "id > ?", (outbox_before,)) == 2  # the apology and the answer only
    assert await harness.count("inbox", "state = 'failed'") == 1

    monkeypatch.undo()
    replies = await deputy.press("确认提交")  # the dialogue is intact: the same button works now
    assert "编号：LS-2026-0001" in [r.text for r in replies if r.op == "message"][0]
    assert await harness.count("matters") == 1


# -- fewer commits: claims together, sent marks together ------------------------------------------


class GatedSendChannel(RecordingChannel):
    """Holds every delivery until the test opens the gate, so that sends finish together."""

    def __init__(self, base: RecordingChannel) -> None:
        super().__init__(base.files)
        self.gate = asyncio.Event()
        self.waiting = 0

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        self.waiting += 1
        await self.gate.wait()
        return await super().deliver(chat_id, op, payload, progress)


async def test_sends_that_start_together_are_claimed_in_one_commit_and_recorded_in_one(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = GatedSendChannel(harness.channel)
    d = dispatcher(harness, channel=channel)
    items = [await enqueue(harness, f"c{n}", f"第{n}条") for n in range(5)]
    transactions: list[bool] = []
    original = harness.db.transaction

    def counting(*, urgent: bool = False) -> Any:
        transactions.append(urgent)
        return original(urgent=urgent)

    monkeypatch.setattr(harness.db, "transaction", counting)
    await d._tick()
    assert transactions == [False]  # the five claims: one ordinary transaction
    assert [(await row(harness, item)).state for item in items] == ["sending"] * 5
    while channel.waiting < 5:
        await asyncio.sleep(0)
    channel.gate.set()
    await asyncio.gather(*list(d._inflight.values()))
    assert transactions == [False, True]  # the five "sent" marks: one urgent transaction
    assert [(await row(harness, item)).state for item in items] == ["sent"] * 5
    assert [(await row(harness, item)).attempts for item in items] == [1] * 5
    assert d.sent == 5 and sorted(texts(channel)) == [(f"c{n}", f"第{n}条") for n in range(5)]


async def test_an_item_claimed_elsewhere_meanwhile_is_not_sent(harness: Harness) -> None:
    d = dispatcher(harness)
    first = await enqueue(harness, "c1", "一")
    second = await enqueue(harness, "c2", "二")
    async with harness.db.transaction() as tx:
        assert await outbox.claim(tx, [first]) == {first}
        assert await outbox.claim(tx, [first, second]) == {second}  # only what was still pending
        assert await outbox.claim(tx, []) == set()
        await outbox.retry_later(tx, second, harness.clock.now(), "test", refund=True)
    await drain(d)
    assert texts(harness.channel) == [("c2", "二")]
    assert (await row(harness, first)).state == "sending"  # left to recover(), never sent twice


async def test_a_failure_to_record_sends_is_reported_to_each_of_them(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = dispatcher(harness)
    items = [await enqueue(harness, f"c{n}", f"第{n}条") for n in range(3)]

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "mark_sent_many", broken)
    await drain(d)
    # each send is given up as before the batching (its record failed), not left "sending" for ever
    assert [(await row(harness, item)).state for item in items] == ["failed"] * 3
    errors = [(await row(harness, item)).last_error for item in items]
    assert errors == ["unexpected: OSError"] * 3


async def test_the_pace_counts_each_send_until_one_second_after_it_ended(harness: Harness) -> None:
    """Telegram counts a message when it arrives, somewhere between the send's start and its end: counted
    from the end, sends bunched up on the way can never make a second at the server exceed the rate."""
    mono = HandMonotonic()
    channel = GatedSendChannel(harness.channel)
    d = dispatcher(harness, per_chat_interval=1.0, global_rate=2, channel=channel, monotonic=mono)
    for chat in ("c1", "c2", "c3"):
        await enqueue(harness, chat, f"{chat}-1")
    await enqueue(harness, "c1", "c1-2")

    assert await d._tick() == 1.0  # two start; the third waits for one of them to end
    while channel.waiting < 2:
        await asyncio.sleep(0)
    mono.now = 0.5  # they end half a second after they started
    channel.gate.set()
    await asyncio.gather(*list(d._inflight.values()))
    assert texts(channel) == [("c1", "c1-1"), ("c2", "c2-1")]

    mono.now = 1.0  # a second after they started, but not after they ended: still full
    assert await d._tick() == 0.5
    assert not d._inflight
    mono.now = 1.5
    await drain(d)
    # c3 and c1's second message: c1's interval also ran from the end of its first send (0.5 + 1.0)
    assert texts(channel) == [("c1", "c1-1"), ("c2", "c2-1"), ("c3", "c3-1"), ("c1", "c1-2")]


async def test_heads_come_earliest_due_first_and_the_query_needs_no_sort(harness: Harness) -> None:
    """The dispatcher's query walks the outbox_due index and stops at its limit: its cost does not grow
    with the backlog (benchmarks/broadcast.py times it at 2 000, 20 000 and 100 000 pending)."""
    first = await enqueue(harness, "c1", "一")
    second = await enqueue(harness, "c2", "二")
    third = await enqueue(harness, "c3", "三")
    later = await enqueue(harness, "c1", "一之后")  # behind c1's head: not a head
    async with harness.db.transaction() as tx:  # the first item of c2 is put off a little
        await outbox.retry_later(tx, second, harness.clock.now() + timedelta(seconds=5), "test")
    now = harness.clock.now()
    async with harness.db.snapshot() as q:
        assert [i.id for i in await outbox.heads(q, now, ["test"])] == [first, third]
        assert [i.id for i in await outbox.heads(q, now + timedelta(seconds=5), ["test"])] == [first, third, second]
        assert [i.id for i in await outbox.heads(q, now + timedelta(seconds=5), ["test"], limit=1)] == [first]
        if harness.db.dialect == "sqlite":  # SQLite's plan; PostgreSQL's planner reads a test's tiny table whole
            plan = " ".join(str(r[3]) for r in await q.all("EXPLAIN QUERY PLAN " + outbox.HEADS_SQL,
                                                     (outbox.NOTIFICATION, "test", ts(now), 500)))
            assert "outbox_due" in plan and "TEMP B-TREE" not in plan
    assert later not in [i.id for i in await _all_heads(harness)]


async def _all_heads(harness: Harness) -> list[outbox.Item]:
    async with harness.db.snapshot() as q:
        return await outbox.heads(q, harness.clock.now() + timedelta(days=1), ["test"])


async def test_a_persons_own_answer_goes_before_a_broadcast_waiting(harness: Harness) -> None:
    """A briefing to thousands is paced at the global rate for a minute or more: a deputy who presses a
    button meanwhile is answered at once, ahead of it; within one chat the order stays as written."""
    mono = HandMonotonic()
    d = dispatcher(harness, global_rate=2, monotonic=mono)
    for n in range(6):
        await enqueue(harness, f"r{n}", f"briefing {n}")  # notifications (the default priority)
    async with harness.db.transaction() as tx:
        own = await outbox.enqueue(tx, channel="test", chat_id="deputy", op="message", payload=Reply("answer").to_json(),
                                   policy="retry", now=harness.clock.now(), priority=outbox.ANSWER)
        later = await outbox.enqueue(tx, channel="test", chat_id="r0", op="message", payload=Reply("r0 answer").to_json(),
                                     policy="retry", now=harness.clock.now(), priority=outbox.ANSWER)
    assert own is not None and later is not None
    await drain(d)  # two a second: the deputy's answer and r0's head (r0's answer waits behind its briefing)
    assert texts(harness.channel) == [("deputy", "answer"), ("r0", "briefing 0")]
    for second in range(1, 4):
        mono.now = float(second) + 1.0
        await drain(d)
    sent = texts(harness.channel)
    assert sent.index(("r0", "briefing 0")) < sent.index(("r0", "r0 answer"))  # one chat's order kept
    assert sent.index(("r0", "r0 answer")) < sent.index(("r5", "briefing 5"))  # an answer before the broadcast


async def test_replies_and_button_answers_are_queued_ahead_of_notifications(harness: Harness) -> None:
    """Context.reply and Context.answer queue with the answer priority; Context.notify with the notification one."""
    deputy = await harness.add_representative("王建国")
    office = await harness.add_staff("陈静", ["office"])
    for person in (deputy, office):
        await harness.user(f"u{person}").say(f"/start {await harness.invite(person)}")
    await harness.user(f"u{deputy}").say("/submit")
    async with harness.db.snapshot() as q:
        rows = await q.all("SELECT op, chat_id, priority FROM outbox ORDER BY id")
    assert rows and all(r["priority"] == outbox.ANSWER for r in rows if r["chat_id"] == f"u{deputy}")
    async with harness.db.transaction() as tx:
        ctx = Context(tx=tx, inc=Incoming(channel="test", user_id="x", chat_id="x"), now=harness.clock.now(),
                      config=harness.app.config, person=None, _=Translator("zh_Hans", harness.app.config.unit.tz),
                      channels=frozenset({"test"}), records=RECORDS)
        assert await ctx.notify(office, lambda _: Reply("notice"))
    async with harness.db.snapshot() as q:
        last = await q.one("SELECT chat_id, priority FROM outbox ORDER BY id DESC LIMIT 1")
    assert last is not None and last["chat_id"] == f"u{office}" and last["priority"] == outbox.NOTIFICATION


async def test_flush_waits_for_a_claim_another_tick_has_in_hand(harness: Harness) -> None:
    """The console and the tests call flush() while the dispatcher's own loop may be claiming the very
    message: flush must wait for it to be sent (the console once printed its next prompt before the
    answer, and a scripted "1" pressed a button not shown yet)."""
    d = dispatcher(harness)
    await enqueue(harness, "c1", "answer")
    loop_tick = asyncio.create_task(d._tick())
    while not d._claiming:
        await asyncio.sleep(0)  # (a turn of the event loop, not a pause)
    await d.flush()
    assert texts(harness.channel) == [("c1", "answer")]
    await loop_tick


# -- a clock stepped back (issue 15 item 12) ---------------------------------------------------------


async def test_a_retry_is_not_held_by_a_wall_clock_stepped_back_three_hours(harness: Harness,
                                                                            max_backoff: None) -> None:
    """Issue 15 item 12: a retry due in 2 s is sent 2 s later by the monotonic clock, although the wall clock
    was stepped back 3 hours meanwhile (before: held until the wall clock came back, 3 hours)."""
    mono = HandMonotonic()
    d = dispatcher(harness, monotonic=mono)
    item = await enqueue(harness, "c1", "您好")
    harness.channel.failures.append(TemporaryFailure("502 Bad Gateway"))
    await drain(d)
    assert (await row(harness, item)).state == "pending"

    harness.clock.advance(hours=-3)  # NTP, or an operator, steps the wall clock back
    mono.now += 1.0
    await drain(d)
    assert harness.channel.sent == []  # not yet due by either clock
    mono.now += 1.0
    await drain(d)
    assert texts(harness.channel) == [("c1", "您好")]
    assert (await row(harness, item)).state == "sent"


async def test_a_retry_due_by_the_monotonic_clock_goes_on_from_the_message_that_failed(harness: Harness,
                                                                                      max_backoff: None) -> None:
    """Issue 15 item 12 with a reply of several messages: the retry that falls due by the monotonic clock while
    the wall clock was stepped back sends on from the message that failed, as one due by the wall clock does;
    the person reads the first once (it was read twice: that retry lost the kept progress — found by the WeCom
    faults drill once its outbox ran on a faster time base, tests/fastchild.py)."""
    mono = HandMonotonic()
    channel = PartsChannel(harness.channel, harness)
    d = dispatcher(harness, channel=channel, monotonic=mono)
    item = await enqueue(harness, "c1", "第一段\n第二段")
    channel.failures_at[2] = TemporaryFailure("HTTP 502")
    await drain(d)
    assert texts(channel) == [("c1", "第一段")] and (await row(harness, item)).state == "pending"

    harness.clock.advance(hours=-3)  # the wall clock stepped back: only the monotonic clock makes it due
    mono.now += 2.0
    await drain(d)
    assert texts(channel) == [("c1", "第一段"), ("c1", "第二段")]
    async with harness.db.snapshot() as q:
        stored = await q.one("SELECT state, result FROM outbox WHERE id = ?", (item,))
    assert stored is not None and stored["state"] == "sent"
    assert json.loads(stored["result"]) == {"message_ids": [s.message_id for s in channel.sent]}


async def test_a_due_time_stored_before_the_clock_was_stepped_back_is_due_at_the_restart(harness: Harness) -> None:
    """Issue 15 item 12: a bot stopped with a retry pending and started after the wall clock went back 3 hours
    sends it at once (no wait the dispatcher sets is longer than an hour); a retry due in a minute keeps its
    minute; nothing else changes."""
    far = await enqueue(harness, "c1", "三小时前的重试")
    near = await enqueue(harness, "c2", "一分钟后的重试")
    now = harness.clock.now()
    async with harness.db.transaction() as tx:
        await outbox.retry_later(tx, far, now + timedelta(hours=3, seconds=2), "temporary: 502")
        await outbox.retry_later(tx, near, now + timedelta(minutes=1), "temporary: 502")
    d = dispatcher(harness)
    await d.recover()
    assert await row(harness, far) == Row("pending", 0, "temporary: 502", ts(now))
    assert (await row(harness, near)).not_before == ts(now + timedelta(minutes=1))
    await drain(d)
    assert texts(harness.channel) == [("c1", "三小时前的重试")]


class TimedPartsChannel(RecordingChannel):
    """Sends a reply as one message per line through Progress, says what an item costs (its lines, as the
    Telegram channel counts its messages) and records when each message went on the test's monotonic time; a
    failure queued in `failures_at[n]` is raised by the n-th message (counting from 1, across attempts)."""

    def __init__(self, base: RecordingChannel, mono: HandMonotonic) -> None:
        super().__init__(base.files)
        self.mono = mono
        self.failures_at: dict[int, DeliveryError] = {}
        self.times: list[tuple[float, str]] = []

    def cost(self, chat_id: str, op: str, payload: dict[str, Any]) -> int:
        return len(str(payload["text"]).split("\n"))

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        async def line(text: str) -> str:
            if len(self.times) + 1 in self.failures_at:
                raise self.failures_at.pop(len(self.times) + 1)
            self.times.append((self.mono.now, text))
            return (await super(TimedPartsChannel, self).deliver(chat_id, op, {**payload, "text": text})).message_ids[0]

        return await (progress or Progress()).send([partial(line, text) for text in payload["text"].split("\n")])


def paced(harness: Harness, channel: RecordingChannel, mono: HandMonotonic, slept: list[float], *,
          per_chat_interval: float, global_rate: float) -> Dispatcher:
    """A Dispatcher whose waits move the test's monotonic time instead of passing."""

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        mono.now += seconds

    return Dispatcher(harness.db, {"test": channel},
                      OutboxConfig(global_rate=global_rate, per_chat_interval=per_chat_interval, max_attempts=5),
                      harness.clock, monotonic=mono, sleep=sleep)


async def test_the_messages_of_one_reply_go_a_chat_interval_apart_and_count_in_the_global_rate(
        harness: Harness) -> None:
    """A reply that becomes three messages (a long text in parts, words and then files) is three messages to
    Telegram's limits: one a second to a chat, not back to back (each would meet a 429), and each counted in the
    second's rate, not the reply once (a briefing of words and a paper to thousands went at twice the rate)."""
    mono = HandMonotonic()
    slept: list[float] = []
    channel = TimedPartsChannel(harness.channel, mono)
    d = paced(harness, channel, mono, slept, per_chat_interval=1.0, global_rate=1)
    await enqueue(harness, "c1", "第一段\n第二段\n第三段")
    await enqueue(harness, "c2", "另一位")
    assert await drain(d) == 1.0  # c1's last message went at 2.0: the second is full until 3.0
    assert channel.times == [(0.0, "第一段"), (1.0, "第二段"), (2.0, "第三段")]
    assert slept == [1.0, 1.0]
    mono.now = 2.5
    assert await drain(d) == 0.5
    mono.now = 3.0
    await drain(d)
    assert channel.times[-1] == (3.0, "另一位")


async def test_each_message_of_a_reply_waits_its_turn_in_the_global_rate(harness: Harness) -> None:
    """Without a chat interval (WeCom's, the console's) the messages of one reply still take one place each in the
    second's rate; and the reply needs one free place to start, so the single messages of a broadcast going on
    beside it never hold it back until they are done."""
    mono = HandMonotonic()
    slept: list[float] = []
    channel = TimedPartsChannel(harness.channel, mono)
    d = paced(harness, channel, mono, slept, per_chat_interval=0.0, global_rate=2)
    await enqueue(harness, "c0", "广播")
    await enqueue(harness, "c1", "一之一\n一之二\n一之三")
    await drain(d)
    assert channel.times == [(0.0, "广播"), (0.0, "一之一"), (1.0, "一之二"), (1.0, "一之三")]
    assert slept == [1.0]  # the second message waited for the second to have room; the third went beside it


async def test_a_retried_reply_waits_before_its_first_message_only_as_the_dispatcher_paces_it(
        harness: Harness, max_backoff: None) -> None:
    """The second of three messages met a 429: the retry (after the wait Telegram named) sends the second at
    once and the third a chat interval later."""
    mono = HandMonotonic()
    slept: list[float] = []
    channel = TimedPartsChannel(harness.channel, mono)
    d = paced(harness, channel, mono, slept, per_chat_interval=1.0, global_rate=30)
    item = await enqueue(harness, "c1", "第一段\n第二段\n第三段")
    channel.failures_at[2] = RateLimited(3.0)
    await drain(d)
    assert [text for _, text in channel.times] == ["第一段"] and slept == [1.0]
    mono.now = 1.0 + 3.0
    harness.clock.advance(seconds=3)
    await drain(d)
    assert channel.times[1:] == [(4.0, "第二段"), (5.0, "第三段")]
    assert (await row(harness, item)).state == "sent"


async def test_a_claim_refused_by_a_full_disk_leaves_no_chat_waiting_for_ever(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim's transaction fails (the disk is full): nothing was sent, so nothing is counted — the chat's
    place and the second's are free again, and once the disk has room the messages go at once (before, the chat
    was held as if its send were still under way, until a restart)."""
    import sqlite3

    mono = HandMonotonic()
    d = dispatcher(harness, per_chat_interval=1.0, global_rate=2, monotonic=mono)
    await enqueue(harness, "c1", "一")
    await enqueue(harness, "c2", "二")
    real_claim = outbox.claim

    async def full(*args: Any, **kwargs: Any) -> set[int]:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(outbox, "claim", full)
    with pytest.raises(sqlite3.OperationalError):
        await d._tick()
    assert d.pace._rated_inflight["test"] == 0 and harness.channel.sent == []
    monkeypatch.setattr(outbox, "claim", real_claim)
    await drain(d)  # the same moment: nothing to wait out
    assert texts(harness.channel) == [("c1", "一"), ("c2", "二")]
    assert d.pace._rated_inflight["test"] == 0


async def test_a_backlog_on_one_channel_does_not_keep_another_channels_messages_waiting(harness: Harness) -> None:
    """A briefing to 2 000 WeCom members waits for WeCom's pace; a Telegram notice written after it goes at once
    (the channels' rates are separate). The heads are read per channel, each up to its own limit: read for all
    channels together, earliest first, the notice was not even looked at until the briefing was nearly done."""
    from tests.fakes import RecordingChannel

    wecom = RecordingChannel(harness.app.files)
    wecom.name = "wecom"
    wecom.pacing = Pacing(per_chat_interval=0.5, global_rate=25.0)  # type: ignore[attr-defined]
    harness.app.add_channel(wecom)
    now = harness.clock.now()
    async with harness.db.transaction() as tx:
        for n in range(600):  # more due heads than one read takes (500)
            await outbox.enqueue(tx, channel="wecom", chat_id=f"m{n}", op="message", payload=Reply(f"简报{n}").to_json(),
                                 policy="retry", now=now)
    harness.clock.advance(seconds=1)
    await enqueue(harness, "777", "通知")
    d = harness.app.dispatcher
    await d._tick()
    await asyncio.gather(*list(d._inflight.values()))
    assert texts(harness.channel) == [("777", "通知")]  # at once, beside the briefing's first 25
    assert len(wecom.sent) == 25


async def bound_on_two(harness: Harness, name: str = "王建国", chat: str = "777", userid: str = "wjg"
                       ) -> tuple[int, RecordingChannel]:
    """A deputy bound on the test channel (`chat`) and on a second one ("wecom", `userid`), the second used last."""
    from storage import people

    wecom = harness.app.channels.get("wecom")
    if not isinstance(wecom, RecordingChannel):
        wecom = RecordingChannel(harness.app.files)
        wecom.name = "wecom"
        harness.app.add_channel(wecom)
    rep = await harness.add_representative(name, phone=f"1390000{chat}")
    async with harness.db.transaction() as tx:
        await people.bind_identity(tx, "test", chat, chat, rep, harness.clock.now())
        harness.clock.advance(minutes=1)
        await people.bind_identity(tx, "wecom", userid, userid, rep, harness.clock.now())
    return rep, wecom


async def notice(harness: Harness, rep: int, text: str) -> None:
    async with harness.db.transaction() as tx:
        ctx = Context(tx, Incoming(channel="cli", user_id="op", chat_id=""), harness.clock.now(), harness.app.config,
                      None, Translator("zh_Hans", harness.app.config.unit.tz), channels=frozenset(harness.app.channels),
                      records=RECORDS)
        assert await ctx.notify(rep, lambda _: Reply(text))


async def test_a_notice_its_account_cannot_receive_goes_to_the_persons_other_account(harness: Harness) -> None:
    """The deputy's WeCom account, used last, cannot be reached (they left the corp's contact list: 81013): the
    notice is recorded `blocked` there for the office, and goes, once, to their Telegram account instead."""
    rep, wecom = await bound_on_two(harness)
    wecom.failures.append(Unreachable("errcode 81013"))
    await notice(harness, rep, "LS-2026-0001 已答复")
    await harness.app.dispatcher.flush()
    assert [(s.chat_id, s.text) for s in harness.channel.sent] == [("777", "LS-2026-0001 已答复")]
    async with harness.db.snapshot() as q:
        rows = [(r["channel"], r["state"]) for r in await q.all("SELECT channel, state FROM outbox ORDER BY id")]
    assert rows == [("wecom", "blocked"), ("test", "sent")]
    async with harness.db.snapshot() as q:  # it reached them: the office is not asked to reach them another way
        assert await casework.undelivered(q, UnitScope.of(1)) == []


async def test_a_notice_neither_account_can_receive_is_not_passed_back_and_forth(harness: Harness) -> None:
    rep, wecom = await bound_on_two(harness)
    wecom.failures.append(Unreachable("errcode 81013"))
    harness.channel.failures.append(Unreachable("Forbidden: bot was blocked by the user"))
    await notice(harness, rep, "LS-2026-0001 已答复")
    await harness.app.dispatcher.flush()
    async with harness.db.snapshot() as q:
        rows = [(r["channel"], r["state"]) for r in await q.all("SELECT channel, state FROM outbox ORDER BY id")]
    assert rows == [("wecom", "blocked"), ("test", "blocked")]  # each recorded for the office; no third copy
    async with harness.db.snapshot() as q:
        unreached = await casework.undelivered(q, UnitScope.of(1))  # one notice, whose copy failed too
    assert [(u.name, u.blocked, u.failed, u.held) for u in unreached] == [("王建国", 1, 0, 0)]


async def test_a_person_bound_on_two_channels_chooses_where_their_notices_go(harness: Harness) -> None:
    """Issue 14: each notice once, "on the channel they used last (or their chosen one)". The deputy writes from
    the test channel (now the one used last) and chooses WeCom with /channel: the notices go to WeCom. The one used
    last again: they follow the account used last. A choice of a channel they are not bound on is stale and changes
    nothing; with one account there is nothing to choose."""
    rep, wecom = await bound_on_two(harness)
    harness.clock.advance(minutes=1)  # they write from the test channel after WeCom's binding: the one used last
    deputy = harness.user("777")
    shown = await deputy.say("/channel")
    assert shown[0].text.startswith("您的通知目前发送到您最近使用的账号")
    assert deputy.last_buttons() == ["test", "企业微信", "最近使用的账号"]
    assert (await deputy.press("企业微信"))[-1].text == "已设置：今后您的通知将发送到企业微信。"
    await notice(harness, rep, "LS-2026-0001 已答复")
    await harness.app.dispatcher.flush()
    assert [s.text for s in wecom.sent] == ["LS-2026-0001 已答复"]

    before = await harness.dump("persons")
    refused = await deputy.press_data("channel:telegram")
    assert refused[-1].text == "此选项已失效。" and await harness.dump("persons") == before

    await deputy.say("/channel")
    await deputy.press("最近使用的账号")
    await notice(harness, rep, "LS-2026-0002 已登记")
    await harness.app.dispatcher.flush()
    assert [s.text for s in harness.channel.sent if s.chat_id == "777"][-1] == "LS-2026-0002 已登记"

    other = await harness.add_representative("李秀梅", phone="13900000002")
    single = harness.user("888")
    await single.say(f"/start {await harness.invite(other)}")
    assert (await single.say("/channel"))[0].text == "您只绑定了一个账号，通知将发送到这里。"
