"""The Telegram channel alone: real `telegram` objects in, Telegram's documented limits out,
and each Bot API failure mapped to what the dispatcher must do about it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot, Chat, Contact, Document, Message, MessageEntity, PhotoSize, Update, User

from bot.app import App
from bot.channels.base import MaybeDelivered, Progress, RateLimited, Rejected, TemporaryFailure, Unreachable
from bot.channels.telegram import NAME, TelegramChannel, _chat_key, to_incoming
from bot.channels.telegram_text import render_html, split_text
from bot.files import FileStore
from bot.messages import Button, Reply
from tests.fakes import Harness, MovableClock
from tests.fakebotapi import PASS, FakeBotAPI, parse_telegram_html, utf16_len
from tests.telegram_env import telegram_config

WHEN = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DEPUTY = User(7001, "建国", is_bot=False, language_code="zh-hans")
PRIVATE = Chat(7001, Chat.PRIVATE)


def message(**fields: object) -> Message:
    return Message(message_id=11, date=WHEN, chat=fields.pop("chat", PRIVATE), from_user=DEPUTY, **fields)  # type: ignore[arg-type]


def command(text: str) -> Message:
    length = len(text.split(" ")[0])
    return message(text=text, entities=(MessageEntity(MessageEntity.BOT_COMMAND, 0, length),))


# -- updates in -------------------------------------------------------------------------


def test_a_deep_link_start_carries_its_code() -> None:
    inc = to_incoming(Update(1, message=command("/start AbC-123_x")))
    assert inc is not None
    assert (inc.channel, inc.user_id, inc.chat_id, inc.command, inc.args) == (NAME, "7001", "7001", "start", "AbC-123_x")
    assert inc.language_code == "zh-hans"


def test_a_command_addressed_to_the_bot_by_name() -> None:
    inc = to_incoming(Update(1, message=command("/help@LiaisonBot")))
    assert inc is not None and (inc.command, inc.args) == ("help", "")


def test_text_that_merely_starts_with_a_slash_and_no_entity_is_text() -> None:
    inc = to_incoming(Update(1, message=message(text="/ 不是命令")))
    assert inc is not None and inc.command is None and inc.text == "/ 不是命令"


def test_a_photo_takes_its_largest_size_and_its_caption() -> None:
    sizes = (PhotoSize("small", "u1", 90, 90, file_size=1000), PhotoSize("large", "u2", 1280, 960, file_size=90000))
    inc = to_incoming(Update(1, message=message(photo=sizes, caption="现场照片")))
    assert inc is not None and inc.text == "现场照片"
    [photo] = inc.attachments
    assert (photo.kind, photo.file_ref, photo.size) == ("photo", "large", 90000)


def test_a_document_keeps_its_name_size_and_type() -> None:
    doc = Document("doc-id", "doc-u", file_name="证据.pdf", mime_type="application/pdf", file_size=12345)
    inc = to_incoming(Update(1, message=message(document=doc)))
    assert inc is not None
    assert [(a.kind, a.name, a.size, a.mime) for a in inc.attachments] == [("document", "证据.pdf", 12345, "application/pdf")]


def test_a_shared_contact_says_whose_it_is() -> None:
    own = to_incoming(Update(1, message=message(contact=Contact("+8613800000001", "建国", user_id=7001))))
    other = to_incoming(Update(2, message=message(contact=Contact("13900000000", "某人"))))
    assert own is not None and own.contact is not None and (own.contact.phone, own.contact.user_id) == ("+8613800000001", "7001")
    assert other is not None and other.contact is not None and other.contact.user_id is None


def test_a_button_press_is_an_action_on_a_message() -> None:
    from telegram import CallbackQuery

    query = CallbackQuery("q-1", DEPUTY, "chat-instance", data="my:open:3", message=message(text="列表"))
    inc = to_incoming(Update(1, callback_query=query))
    assert inc is not None
    assert (inc.action, inc.callback_id, inc.message_id, inc.chat_id) == ("my:open:3", "q-1", "11", "7001")


def test_groups_and_edits_are_ignored() -> None:
    group = Chat(-100123, Chat.SUPERGROUP)
    assert to_incoming(Update(1, message=message(text="大家好", chat=group))) is None
    assert to_incoming(Update(2, edited_message=message(text="改过的"))) is None


# -- rendering out ----------------------------------------------------------------------


def test_user_text_is_escaped_and_the_html_parses() -> None:
    html = render_html(Reply("<b>不是粗体</b> & a < b > c", title="事由 <1>"))
    text, entities = parse_telegram_html(html)
    assert text == "事由 <1>\n<b>不是粗体</b> & a < b > c"
    assert [e["type"] for e in entities] == ["bold"]


def test_long_text_is_split_at_line_breaks_within_the_limit() -> None:
    lines = [f"第{n}行：" + "内容" * 40 for n in range(200)]  # ~17 000 characters
    parts = split_text(render_html(Reply("\n".join(lines), title="标题")))
    assert len(parts) > 4
    assert all(utf16_len(parse_telegram_html(p)[0]) <= 4096 for p in parts)
    rejoined = "\n".join(parse_telegram_html(p)[0] for p in parts)
    assert rejoined == "标题\n" + "\n".join(lines)


def test_a_single_huge_line_is_cut_between_characters_never_inside_an_escape() -> None:
    line = ("😀&<" * 3000)  # astral emoji count twice in UTF-16; & and < become escapes
    parts = split_text(render_html(Reply(line)))
    texts = [parse_telegram_html(p)[0] for p in parts]  # each part parses on its own
    assert all(utf16_len(t) <= 4096 for t in texts)
    assert "".join(texts) == line


# -- against the fake Bot API ----------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(per_chat_interval=0) as server:
        server.faults.timeout_delay = 1.5
        yield server


@pytest.fixture
async def channel(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[TelegramChannel]:
    config = telegram_config(tmp_path, fake)
    tg = TelegramChannel(config.telegram.__class__(**{**config.telegram.__dict__, "request_timeout": 1.0}),
                         FileStore(tmp_path / "files", MovableClock()), 20)
    await tg.start()
    yield tg
    await tg.stop()


async def test_a_long_reply_arrives_in_parts_with_the_buttons_on_the_last(fake: FakeBotAPI,
                                                                          channel: TelegramChannel) -> None:
    user = fake.user(7001)
    reply = Reply("\n".join(["一二三四五六七八九十" * 9] * 60), title="很长的消息",
                  buttons=((Button("确认", "d:abc123:submit"),),))
    result = await channel.deliver(str(user.chat_id), "message", reply.to_json())
    sent = fake.messages_to(user.chat_id)
    assert len(sent) == len(result.message_ids) == 2
    assert sent[0].buttons() == [] and sent[1].buttons() == [("确认", "d:abc123:submit")]


async def test_a_caption_is_measured_as_telegram_counts_it_in_utf16_units(fake: FakeBotAPI, channel: TelegramChannel,
                                                                           tmp_path: Path) -> None:
    """One file with words under 1 024 characters but over 1 024 UTF-16 units (emoji are two): the words go as
    a message and the file after it, instead of a caption Telegram refuses (and the whole reply with it)."""
    from bot.messages import OutFile

    user = fake.user(7001)
    paper = tmp_path / "简报.pdf"
    paper.write_bytes(b"%PDF-1.4 briefing")
    text = "工作简报📢📢" * 165 + "\n请查收。"
    assert len(render_html(Reply(text, title="工作简报"))) <= 1024 < utf16_len(render_html(Reply(text, title="工作简报")))
    await channel.deliver(str(user.chat_id), "message",
                          Reply(text, title="工作简报", files=(OutFile(str(paper), "简报.pdf"),)).to_json())
    assert [m.method for m in fake.messages_to(user.chat_id)] == ["sendMessage", "sendDocument"]


async def test_an_answer_is_cut_at_200_utf16_units_never_inside_a_character(fake: FakeBotAPI,
                                                                          channel: TelegramChannel) -> None:
    user = fake.user(7001)
    await channel.deliver(str(user.chat_id), "message", Reply("选", buttons=((Button("一", "x:1"),),)).to_json())
    query = user.press(fake.messages_to(user.chat_id)[0], "x:1")
    await channel.deliver(str(user.chat_id), "answer", {"callback_id": query, "text": "注意🙂" * 120, "alert": True})
    [answer] = fake.callback_answers[query]
    assert utf16_len(answer["text"]) <= 200 and answer["text"].endswith("🙂") and "\ufffd" not in answer["text"]


async def test_a_long_reply_cut_short_by_a_429_goes_on_from_the_part_that_did_not_go(
        fake: FakeBotAPI, channel: TelegramChannel) -> None:
    """The first part went, the second met 429: the retry sends the second only (Progress keeps what went)."""
    user = fake.user(7001)
    reply = Reply("\n".join(["一二三四五六七八九十" * 9] * 60), buttons=((Button("确认", "d:abc123:submit"),),))
    progress = Progress()
    fake.faults.queue.extend([PASS, "429"])
    with pytest.raises(RateLimited):
        await channel.deliver(str(user.chat_id), "message", reply.to_json(), progress)
    assert len(fake.messages_to(user.chat_id)) == 1
    result = await channel.deliver(str(user.chat_id), "message", reply.to_json(), progress)
    sent = fake.messages_to(user.chat_id)
    assert len(sent) == len(result.message_ids) == 2
    assert sent[0].buttons() == [] and sent[1].buttons() == [("确认", "d:abc123:submit")]


@pytest.mark.parametrize(
    ("fault", "error"),
    [("429", RateLimited), ("500", TemporaryFailure), ("502", TemporaryFailure), ("drop", TemporaryFailure),
     ("timeout", MaybeDelivered), ("timeout_after_delivery", MaybeDelivered)],
)
async def test_each_bot_api_failure_maps_to_what_the_dispatcher_must_do(
    fake: FakeBotAPI, channel: TelegramChannel, fault: str, error: type[Exception]
) -> None:
    user = fake.user(7001)
    fake.faults.queue.append(fault)
    with pytest.raises(error):
        await channel.deliver(str(user.chat_id), "message", Reply("您好").to_json())
    if fault == "429":
        assert fake.faults.retry_after == 1
    delivered = len(fake.messages_to(user.chat_id))
    assert delivered == (1 if fault == "timeout_after_delivery" else 0)


async def test_a_blocked_bot_and_an_unknown_chat_are_unreachable(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    user = fake.user(7001)
    user.block_bot()
    with pytest.raises(Unreachable):
        await channel.deliver(str(user.chat_id), "message", Reply("您好").to_json())
    with pytest.raises(Unreachable):
        await channel.deliver("424242", "message", Reply("您好").to_json())


async def test_a_second_answer_to_a_button_is_rejected_not_retried(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    user = fake.user(7001)
    await channel.deliver(str(user.chat_id), "message", Reply("选", buttons=((Button("一", "x:1"),),)).to_json())
    query = user.press(fake.messages_to(user.chat_id)[0], "x:1")
    await channel.deliver(str(user.chat_id), "answer", {"callback_id": query, "text": "", "alert": False})
    with pytest.raises(Rejected):
        await channel.deliver(str(user.chat_id), "answer", {"callback_id": query, "text": "", "alert": False})
    assert len(fake.callback_answers[query]) == 1


async def test_removing_buttons_twice_is_not_an_error(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    user = fake.user(7001)
    result = await channel.deliver(str(user.chat_id), "message",
                                   Reply("选", buttons=((Button("一", "x:1"),),)).to_json())
    edit = Reply("", edit_message_id=result.message_ids[0]).to_json()
    await channel.deliver(str(user.chat_id), "message", edit)
    await channel.deliver(str(user.chat_id), "message", edit)  # "message is not modified": done already
    assert fake.messages_to(user.chat_id)[0].buttons() == []


async def test_a_file_over_20_mb_is_not_downloaded(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    user = fake.user(7001)
    user.send_document(b"small", "大文件.zip", declared_size=25 * 1024 * 1024)
    user.send_document(b"%PDF fine", "ok.pdf", "application/pdf")
    updates = await channel.bot.get_updates(timeout=0)
    described = [await channel.prepare(json.dumps(u.to_dict())) for u in updates]
    assert all(i is not None and i.attachments[0].stored_path is None for i in described)  # nothing downloaded yet
    big, fine = [await channel.fetch(i) for i in described if i is not None]
    assert big is not None and big.attachments[0].error == "too_large"
    assert fine is not None and fine.attachments[0].sha256 is not None
    assert channel.files.resolve(fine.attachments[0].stored_path or "").read_bytes() == b"%PDF fine"


# -- receiving --------------------------------------------------------------------------


async def test_polling_survives_409_faults_and_stores_before_confirming(fake: FakeBotAPI, tmp_path: Path) -> None:
    """Another instance polling (409), and getUpdates answered 500 or dropped: the loop goes on."""
    config = telegram_config(tmp_path, fake)
    app = await App.open(config)
    tg = TelegramChannel(config.telegram, app.files, 20)
    tg.backoff_start = 0.05
    app.add_channel(tg)
    await tg.start()
    receiving = asyncio.create_task(tg.receive(app))
    try:
        user = fake.user(7001)
        user.send_text("一")
        await fake.wait_until(lambda: tg.polls >= 1)
        # a rival poller takes over for a moment: ours is answered 409 and must carry on
        await fake.wait_until(lambda: fake.long_poll_pending)
        rival = Bot(fake.token, base_url=fake.base_url)
        async with rival:
            await rival.get_updates(timeout=0, offset=-1)
        # then getUpdates itself fails twice: a 500, then a dropped connection
        fake.faults.include_get_updates = True
        fake.faults.queue.extend(["500", "drop"])
        user.send_text("二")
        user.send_text("三")
        await fake.wait_until(lambda: fake.pending_updates == 0 and tg.polls >= 3, timeout=30)
        async with app.db.snapshot() as q:
            stored = [json.loads(r["payload"])["message"]["text"]
                      for r in await q.all("SELECT payload FROM inbox ORDER BY id")]
        assert stored == ["一", "二", "三"]
        assert any(code == 409 for _, code, _ in fake.errors)
    finally:
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        await tg.stop()
        await app.close()


async def test_sends_beyond_the_connection_pool_wait_for_a_connection_and_all_arrive(fake: FakeBotAPI,
                                                                                   tmp_path: Path) -> None:
    """The sends of a broadcast share one pool of connections: at most that many are in flight,
    the rest wait their turn (within the pool timeout) rather than fail."""
    config = telegram_config(tmp_path, fake)
    tg = TelegramChannel(config.telegram, FileStore(tmp_path / "files", MovableClock()), 20)
    tg.sender.connections = 4
    await tg.start()
    users = [fake.user(6100 + n) for n in range(10)]
    fake.latency = 0.05  # keeps each request in flight long enough for the others to queue behind it
    fake.global_rate = 0  # the flood limit is not the point here
    try:
        results = await asyncio.gather(*[tg.deliver(str(u.chat_id), "message", Reply(f"通知{n}").to_json())
                                         for n, u in enumerate(users)])
    finally:
        await tg.stop()
    assert fake.most_in_flight == 4
    assert sorted(m.chat_id for m in fake.sent) == [u.chat_id for u in users]
    assert all(len(r.message_ids) == 1 for r in results)


def test_each_stored_update_is_keyed_by_its_chat_as_telegram_sent_it() -> None:
    """Updates are stored as Telegram sent them (parsed once, when handled); the chat key that orders
    their handling is read from that JSON as PTB's effective_chat would give it."""
    chat = {"id": 7001, "type": "private"}
    message = {"message_id": 5, "date": 0, "chat": chat, "text": "hi"}
    assert _chat_key({"update_id": 1, "message": message}) == "telegram:7001"
    assert _chat_key({"update_id": 2, "callback_query": {"id": "q", "from": {"id": 7001}, "message": message,
                                                         "chat_instance": "c", "data": "x"}}) == "telegram:7001"
    assert _chat_key({"update_id": 3, "my_chat_member": {"chat": {"id": -100, "type": "group"}}}) == "telegram:-100"
    inline = {"id": "q", "from": {"id": 7001}, "inline_message_id": "m", "chat_instance": "c", "data": "x"}
    assert _chat_key({"update_id": 4, "callback_query": inline}) == "telegram:update-4"
    update = Update.de_json({"update_id": 2, "callback_query": {"id": "q", "from": {"id": 7001, "is_bot": False,
                             "first_name": "建国"}, "message": message, "chat_instance": "c", "data": "x"}}, None)
    assert update is not None and update.effective_chat is not None and update.effective_chat.id == 7001


@pytest.mark.parametrize("answer", [
    {"ok": True},  # no "result"
    [{"update_id": 1}],  # not an object at all
    {"ok": True, "result": {"update_id": 1}},  # a result that is not a list
    {"ok": True, "result": [{"message": {}}, "x"]},  # entries none of which is an update
])
async def test_a_get_updates_answer_that_cannot_be_read_is_a_network_error(
        channel: TelegramChannel, answer: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poller waits and polls again on a NetworkError: such an answer neither stops it nor confirms
    anything that was not stored."""
    from telegram.error import NetworkError

    async def odd(self: object, url: str, method: str, *args: object, **kwargs: object) -> tuple[int, bytes]:
        return 200, json.dumps(answer).encode()

    monkeypatch.setattr(type(channel.bot.request), "do_request", odd)  # the answer as Telegram's HTTP body
    with pytest.raises(NetworkError):
        await channel._get_updates(None)


async def test_entries_that_are_not_updates_are_skipped_and_the_rest_stored(
        channel: TelegramChannel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    good = {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": 7001, "type": "private"},
                                        "text": "你好"}}
    answer = {"ok": True, "result": [{"update_id": "7"}, good, {"update_id": True}]}

    async def odd(self: object, url: str, method: str, *args: object, **kwargs: object) -> tuple[int, bytes]:
        return 200, json.dumps(answer).encode()

    monkeypatch.setattr(type(channel.bot.request), "do_request", odd)
    assert await channel._get_updates(None) == [good]
    assert "2 of 3 entries are not updates; skipped" in caplog.text
    assert _chat_key({"update_id": 9, "callback_query": {"message": "not an object"}}) == "telegram:update-9"


# -- what an item costs, and its messages paced as Telegram limits them -----------------------------


def test_an_item_costs_the_messages_it_becomes(channel: TelegramChannel, tmp_path: Path) -> None:
    from bot.messages import OutFile

    paper = OutFile(str(tmp_path / "简报.pdf"), "简报.pdf")
    long_text = "\n".join(["一二三四五六七八九十" * 9] * 60)
    cost = channel.cost
    assert cost("1", "message", Reply("您好").to_json()) == 1
    assert cost("1", "message", Reply(long_text).to_json()) == len(split_text(render_html(Reply(long_text)))) == 2
    assert cost("1", "message", Reply("请查收", files=(paper,)).to_json()) == 1  # the words are the file's caption
    assert cost("1", "message", Reply("请查收", files=(paper, paper)).to_json()) == 3
    assert cost("1", "message", Reply(long_text, files=(paper,)).to_json()) == 3
    assert cost("1", "message", Reply("", edit_message_id="5").to_json()) == 1
    assert cost("1", "answer", {"callback_id": "q", "text": "已收到", "alert": False}) == 0


async def test_replies_of_several_messages_meet_no_429_from_telegrams_flood_limits(tmp_path: Path,
                                                                                harness: Harness) -> None:
    """Against the fake's flood limits at Telegram's own figures (one message a second to a chat, here three a
    second in all) on a clock the test moves: a long reply in two parts, words with two papers, and a short
    message to a third chat all arrive without a single 429 (before, each reply of several messages went back
    to back and met one)."""
    from bot.dispatch import Dispatcher
    from bot.config import OutboxConfig
    from bot.messages import OutFile
    from storage import outbox

    mono = [0.0]

    async def sleep(seconds: float) -> None:
        mono[0] += seconds

    async with FakeBotAPI(per_chat_interval=1.0, global_rate=3) as fake:
        fake.clock = lambda: mono[0]
        config = telegram_config(tmp_path, fake, per_chat_interval=1.0)
        files = FileStore(tmp_path / "files", MovableClock())
        tg = TelegramChannel(config.telegram, files, 20)
        await tg.start()
        try:
            d = Dispatcher(harness.db, {NAME: tg}, OutboxConfig(global_rate=3, per_chat_interval=1.0, max_attempts=5),
                           harness.clock, monotonic=lambda: mono[0], sleep=sleep)
            a, b, c = fake.user(7001), fake.user(7002), fake.user(7003)
            paper = tmp_path / "简报.pdf"
            paper.write_bytes(b"%PDF-1.4 briefing")
            replies = [(a, Reply("\n".join(["一二三四五六七八九十" * 9] * 60), buttons=((Button("确认", "x:1"),),))),
                       (b, Reply("请查收", files=(OutFile(str(paper), "简报.pdf"), OutFile(str(paper), "附件.pdf")))),
                       (c, Reply("您好"))]
            async with harness.db.transaction() as tx:
                for user, reply in replies:
                    await outbox.enqueue(tx, channel=NAME, chat_id=str(user.chat_id), op="message",
                                         payload=reply.to_json(), policy="retry", now=harness.clock.now())
            for _ in range(20):
                wait = await d._tick()
                if d._inflight:
                    await asyncio.gather(*list(d._inflight.values()))
                elif await harness.count("outbox", "state = 'pending'") == 0:
                    break
                else:
                    mono[0] += wait
            async with harness.db.snapshot() as q:
                rows = await q.all("SELECT state, last_error FROM outbox ORDER BY id")
        finally:
            await tg.stop()
        assert [(r["state"], r["last_error"]) for r in rows] == [("sent", None)] * 3
        assert [code for _, code, _ in fake.errors] == []
        assert [len(fake.messages_to(u.chat_id)) for u in (a, b, c)] == [2, 3, 1]
