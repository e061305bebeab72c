"""Tests of the fake Telegram Bot API (tests/fakebotapi.py).

The fake is driven with python-telegram-bot's real ``telegram.Bot`` over real HTTP
and, where PTB would hide a detail, with a raw ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakebotapi import FakeBotAPI, FaultPlan, SentMessage, parse_telegram_html, utf16_len

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
KB_OK = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])


class ManualClock:
    """A settable stand-in for time.monotonic in rate-limit tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_request(read_timeout: float, pool_size: int = 8) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=pool_size,
        read_timeout=read_timeout,
        write_timeout=2.0,
        connect_timeout=2.0,
        pool_timeout=2.0,
        media_write_timeout=2.0,
    )


def make_bot(fake: FakeBotAPI, *, token: str | None = None, read_timeout: float = 2.0) -> Bot:
    return Bot(
        token or fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=make_request(read_timeout),
        get_updates_request=make_request(read_timeout, pool_size=1),
    )


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without this PTB 22.8 warns (PTBDeprecationWarning) when RetryAfter is built,
    # which -W error turns into an exception instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(per_chat_interval=0.0)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
    assert api.internal_errors == []


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with make_bot(fake) as the_bot:
        yield the_bot


@pytest.fixture
async def raw(fake: FakeBotAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{fake.port}", timeout=5.0) as client:
        yield client


async def call(
    client: httpx.AsyncClient, fake: FakeBotAPI, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    response = await client.post(f"/bot{fake.token}/{method}", json=params)
    return response.status_code, response.json()


# ---------------------------------------------------------------------------
# Basics
# ---------------------------------------------------------------------------


async def test_get_me(fake: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "LiaisonTestBot"
    assert me.id == 123456
    assert bot.username == "LiaisonTestBot"


async def test_latency_delays_every_call_and_calls_overlap(fake: FakeBotAPI, bot: Bot) -> None:
    """The simulated round trip (used by benchmarks/intake.py) delays each call; calls are not serialised."""
    fake.latency = 0.05
    started = time.monotonic()
    users = [fake.user(700 + n) for n in range(4)]
    await asyncio.gather(*(bot.send_message(u.chat_id, "hi") for u in users))
    elapsed = time.monotonic() - started
    assert elapsed >= 0.05
    assert len(fake.sent) == 4


async def test_timestamps_and_the_on_sent_hook_for_benchmarks(fake: FakeBotAPI, bot: Bot) -> None:
    """Queued updates and accepted messages carry monotonic timestamps; on_sent sees each new message."""
    seen: list[SentMessage] = []
    fake.on_sent = seen.append
    alice, bob = fake.user(801), fake.user(802)
    update_id = alice.send_text("hello")
    assert update_id in fake.queued_at
    await bot.get_updates(timeout=0)
    await bot.send_message(alice.chat_id, "one")
    await bot.send_message(bob.chat_id, "two")
    await bot.send_message(alice.chat_id, "three")
    assert [m.text for m in seen] == ["one", "two", "three"]
    assert fake.queued_at[update_id] <= seen[0].sent_at <= seen[1].sent_at <= seen[2].sent_at
    assert [m.text for m in fake.messages_to(alice.chat_id)] == ["one", "three"]
    assert [m.text for m in fake.messages_to(bob.chat_id)] == ["two"]
    fake.messages_to(alice.chat_id).clear()  # a copy: the fake's record is untouched
    assert len(fake.messages_to(alice.chat_id)) == 2


async def test_wrong_token_is_401_and_malformed_token_404(
    fake: FakeBotAPI, raw: httpx.AsyncClient
) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="123456:WRONG-TOKEN"):
            pass
    response = await raw.post("/bot123456:WRONG-TOKEN/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await raw.get("/botnonsense/getMe")
    assert response.status_code == 404
    assert ("getMe", 401, "Unauthorized") in fake.errors


async def test_unknown_method_is_404(fake: FakeBotAPI, bot: Bot, raw: httpx.AsyncClient) -> None:
    status, body = await call(raw, fake, "logOut")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": 1})


async def test_request_encodings_get_form_json_multipart(
    fake: FakeBotAPI, raw: httpx.AsyncClient
) -> None:
    fake.user(7)
    response = await raw.get(f"/bot{fake.token}/getMe")
    assert response.json()["result"]["username"] == "LiaisonTestBot"
    markup = {"inline_keyboard": [[{"text": "甲", "callback_data": "a"}]]}
    # form-urlencoded, reply_markup as a JSON string, method name case-insensitive
    response = await raw.post(
        f"/bot{fake.token}/sendmessage",
        data={"chat_id": "7", "text": "表单", "reply_markup": json.dumps(markup)},
    )
    assert response.json()["result"]["reply_markup"] == markup
    # JSON body with reply_markup as an object
    status, body = await call(raw, fake, "sendMessage", chat_id=7, text="JSON", reply_markup=markup)
    assert status == 200 and body["ok"] is True
    # multipart
    response = await raw.post(
        f"/bot{fake.token}/sendDocument",
        data={"chat_id": "7", "caption": "多部分"},
        files={"document": ("a.txt", b"hello", "text/plain")},
    )
    assert response.json()["result"]["document"]["file_name"] == "a.txt"
    assert [m.method for m in fake.messages_to(7)] == ["sendMessage", "sendMessage", "sendDocument"]
    assert fake.sent[0].buttons() == [("甲", "a")]
    # malformed reply_markup JSON
    response = await raw.post(
        f"/bot{fake.token}/sendMessage", data={"chat_id": "7", "text": "x", "reply_markup": "{"}
    )
    assert response.status_code == 400


async def test_webhook_methods(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1).send_text("早")
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert fake.pending_updates == 0


# ---------------------------------------------------------------------------
# Updates
# ---------------------------------------------------------------------------


async def test_user_updates_parse_into_full_ptb_objects(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1001, "张三")
    alice.send_text("/start 案件")
    alice.send_photo(PNG, caption="现场照片")
    alice.send_document(b"%PDF-1.4", "材料.pdf", "application/pdf", caption="材料")
    alice.share_contact("+8613800000000")
    alice.share_contact("+8613900000000", own=False)
    await bot.send_message(1001, "请选择", reply_markup=KB_OK)
    query_id = alice.press(fake.messages_to(1001)[0], "ok")

    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 6
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == 6

    text = updates[0].message
    assert text is not None and text.text == "/start 案件"
    assert text.chat.type == ChatType.PRIVATE and text.chat.id == 1001
    assert text.chat.first_name == "张三"
    assert text.from_user is not None and text.from_user.id == 1001
    assert not text.from_user.is_bot and text.from_user.language_code == "zh-hans"
    assert isinstance(text.date, dtm.datetime)
    entities = [(e.type, e.offset, e.length) for e in text.entities]
    assert entities == [(MessageEntity.BOT_COMMAND, 0, 6)]

    photo = updates[1].message
    assert photo is not None and len(photo.photo) == 2 and photo.caption == "现场照片"
    assert photo.photo[0].width < photo.photo[-1].width
    assert all(p.file_id and p.file_unique_id and p.file_size == len(PNG) for p in photo.photo)

    document = updates[2].message
    assert document is not None and document.document is not None
    assert document.document.file_name == "材料.pdf"
    assert document.document.mime_type == "application/pdf"
    assert document.document.file_size == 8

    own = updates[3].message
    assert own is not None and own.contact is not None
    assert own.contact.user_id == 1001 and own.contact.phone_number == "+8613800000000"
    other = updates[4].message
    assert other is not None and other.contact is not None
    assert other.contact.user_id not in (None, 1001)

    callback = updates[5].callback_query
    assert callback is not None and callback.id == query_id and callback.data == "ok"
    assert callback.from_user.id == 1001 and callback.chat_instance
    assert isinstance(callback.message, Message) and callback.message.text == "请选择"
    assert callback.message.reply_markup == KB_OK
    assert updates[5].effective_chat is not None and updates[5].effective_chat.id == 1001


async def test_offset_confirms_updates(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    ids = [alice.send_text(f"消息{i}") for i in range(3)]
    assert ids == sorted(ids)
    first = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == ids
    assert fake.pending_updates == 3
    again = await bot.get_updates(timeout=0)  # not confirmed: delivered again
    assert [u.update_id for u in again] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == [ids[1]]
    assert fake.pending_updates == 2
    assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()
    assert fake.pending_updates == 0
    assert alice.send_text("新") > ids[-1]


async def test_allowed_updates_filters(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    alice.send_text("文字")
    await bot.send_message(1, "按钮", reply_markup=KB_OK)
    alice.press(fake.sent[0], "ok")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_long_poll_returns_early_when_an_update_arrives(fake: FakeBotAPI, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.long_poll_pending, timeout=2)
    started = loop.time()
    update_id = fake.user(1).send_text("你好")
    updates = await asyncio.wait_for(task, 2)
    assert [u.update_id for u in updates] == [update_id]
    assert loop.time() - started < 1.0
    assert not fake.long_poll_pending


async def test_long_poll_without_updates_returns_empty_after_timeout(
    fake: FakeBotAPI, bot: Bot
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.5


async def test_concurrent_get_updates_conflict_409(fake: FakeBotAPI, bot: Bot) -> None:
    async with make_bot(fake) as second_instance:
        pending = asyncio.create_task(bot.get_updates(timeout=5))
        await fake.wait_until(lambda: fake.long_poll_pending, timeout=2)
        assert await second_instance.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await pending
    assert fake.errors[-1] == (
        "getUpdates",
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


async def test_ptb_bare_bot_has_one_get_updates_connection(fake: FakeBotAPI) -> None:
    # A bare telegram.Bot uses HTTPXRequest(connection_pool_size=1) for getUpdates,
    # so a second concurrent get_updates on the same Bot waits for the pool and
    # fails with TimedOut("Pool timeout ...") instead of reaching the server.
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bare:
        pending = asyncio.create_task(bare.get_updates(timeout=3))
        await fake.wait_until(lambda: fake.long_poll_pending, timeout=2)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bare.get_updates(timeout=0, pool_timeout=0.2)
        fake.user(1).send_text("x")
        assert len(await pending) == 1


# ---------------------------------------------------------------------------
# Text, HTML, lengths
# ---------------------------------------------------------------------------


async def test_html_parses_into_text_and_utf16_entities(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    html = (
        '<b>粗体</b> <i>斜体</i> &lt;标签&gt; &amp; &quot;引&quot; &#128512; '
        '<a href="https://example.com/?a=1&amp;b=2">链接</a> <tg-spoiler>剧透</tg-spoiler> '
        '<span class="tg-spoiler">s</span> <code>x</code>\n'
        '<pre><code class="language-python">print(1)</code></pre>'
        "<blockquote expandable>引用</blockquote>"
    )
    message = await bot.send_message(1, html, parse_mode="HTML")
    expected = '粗体 斜体 <标签> & "引" 😀 链接 剧透 s x\nprint(1)引用'
    assert message.text == expected
    parsed = {entity.type: text for entity, text in message.parse_entities().items()}
    assert parsed[MessageEntity.BOLD] == "粗体"
    assert parsed[MessageEntity.TEXT_LINK] == "链接"  # offsets counted in UTF-16 after the emoji
    assert parsed[MessageEntity.PRE] == "print(1)"
    assert parsed[MessageEntity.EXPANDABLE_BLOCKQUOTE] == "引用"
    link = next(e for e in message.entities if e.type == MessageEntity.TEXT_LINK)
    assert link.url == "https://example.com/?a=1&b=2"
    pre = next(e for e in message.entities if e.type == MessageEntity.PRE)
    assert pre.language == "python"
    sent = fake.sent[0]
    assert (sent.text, sent.raw_text, sent.parse_mode) == (expected, html, "HTML")


@pytest.mark.parametrize(
    "html",
    [
        "<b>x",
        "a < b",
        "&foo",
        "&foo;",
        "AT&T",
        "x</b>",
        "<b><i>x</b></i>",
        "<span>x</span>",
        "<script>x</script>",
        "a > b",
        '<a href="https://x.cn/?a=1&b=2">x</a>',
        "<a>x</a>",
        "<code><b>x</b></code>",
        "&#0;",
    ],
)
async def test_invalid_html_is_refused(fake: FakeBotAPI, bot: Bot, html: str) -> None:
    fake.user(1)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(1, html, parse_mode="HTML")
    assert fake.sent == []
    assert fake.errors[-1][:2] == ("sendMessage", 400)
    assert fake.errors[-1][2].startswith("Bad Request: can't parse entities: ")


async def test_plain_text_may_contain_markup_characters(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    message = await bot.send_message(1, "a < b & <b>c</b>")
    assert message.text == "a < b & <b>c</b>" and message.entities == ()


def test_parse_telegram_html_directly() -> None:
    assert parse_telegram_html("<b>a</b>😀<i>b</i>") == (
        "a😀b",
        [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 3, "length": 1}],
    )
    assert utf16_len("😀中a") == 4


@pytest.mark.parametrize(
    ("text", "parse_mode", "ok"),
    [
        ("a" * 4096, None, True),
        ("a" * 4097, None, False),
        ("中" * 4096, None, True),
        ("😀" * 2048, None, True),
        ("😀" * 2048 + "a", None, False),
        ("<b>" + "a" * 4096 + "</b>", "HTML", True),
        ("&amp;" * 4096, "HTML", True),
        ("&amp;" * 4097, "HTML", False),
        ("\n" + "a" * 4096 + "  \n", None, True),
    ],
)
async def test_text_length_limit_in_utf16_after_parsing(
    fake: FakeBotAPI, bot: Bot, text: str, parse_mode: str | None, ok: bool
) -> None:
    fake.user(1)
    if ok:
        message = await bot.send_message(1, text, parse_mode=parse_mode)
        assert message.text is not None and utf16_len(message.text) == 4096
    else:
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(1, text, parse_mode=parse_mode)


@pytest.mark.parametrize(
    ("text", "parse_mode"), [("", None), ("  \n ", None), ("<b> </b>", "HTML")]
)
async def test_empty_text_refused(
    fake: FakeBotAPI, bot: Bot, text: str, parse_mode: str | None
) -> None:
    fake.user(1)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1, text, parse_mode=parse_mode)


async def test_markdown_parse_modes_not_implemented(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    with pytest.raises(BadRequest, match="(?i)only parse_mode html"):
        await bot.send_message(1, "*x*", parse_mode="MarkdownV2")


async def test_caption_limit_and_html(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    await bot.send_photo(1, PNG, caption="字" * 1024)
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_photo(1, PNG, caption="字" * 1025)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_document(1, b"x", filename="a.txt", caption="<b>x", parse_mode="HTML")
    assert len(fake.sent) == 1


# ---------------------------------------------------------------------------
# Keyboards and callbacks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "ok"),
    [("a" * 64, True), ("a" * 65, False), ("中" * 21, True), ("中" * 22, False), ("", False)],
)
async def test_callback_data_limit_in_utf8_bytes(
    fake: FakeBotAPI, bot: Bot, data: str, ok: bool
) -> None:
    fake.user(1)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("按钮", callback_data=data)]])
    if ok:
        await bot.send_message(1, "选择", reply_markup=markup)
        assert fake.sent[0].buttons() == [("按钮", data)]
    else:
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(1, "选择", reply_markup=markup)


async def test_inline_button_rules(fake: FakeBotAPI, bot: Bot, raw: httpx.AsyncClient) -> None:
    fake.user(1)
    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed"):
        only_text = InlineKeyboardMarkup([[InlineKeyboardButton("只有文字")]])
        await bot.send_message(1, "x", reply_markup=only_text)
    both = {"inline_keyboard": [[{"text": "t", "callback_data": "a", "url": "https://a.cn"}]]}
    status, _ = await call(raw, fake, "sendMessage", chat_id=1, text="x", reply_markup=both)
    assert status == 400
    url_kb = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("官网", url="https://www.spp.gov.cn/")],
            [InlineKeyboardButton("是", callback_data="y")],
        ]
    )
    await bot.send_message(1, "x", reply_markup=url_kb)
    assert fake.sent[0].buttons() == [("是", "y")]
    assert fake.sent[0].url_buttons() == [("官网", "https://www.spp.gov.cn/")]


async def test_reply_keyboard_and_remove(
    fake: FakeBotAPI, bot: Bot, raw: httpx.AsyncClient
) -> None:
    fake.user(1)
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("分享手机号", request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    message = await bot.send_message(1, "请分享手机号", reply_markup=keyboard)
    assert message.reply_markup is None  # Telegram echoes only inline keyboards
    assert fake.sent[0].reply_keyboard() == [["分享手机号"]]
    assert fake.sent[0].reply_markup is not None
    assert fake.sent[0].reply_markup["keyboard"][0][0]["request_contact"] is True
    await bot.send_message(1, "谢谢", reply_markup=ReplyKeyboardRemove())
    assert fake.sent[1].reply_markup == {"remove_keyboard": True}
    # Only messages without reply_markup or with an inline keyboard can be edited.
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("改", chat_id=1, message_id=message.message_id)
    plain = await bot.send_message(1, "普通")
    status, body = await call(
        raw, fake, "editMessageText", chat_id=1, message_id=plain.message_id, text="改",
        reply_markup={"remove_keyboard": True},
    )
    assert (status, body["description"]) == (400, "Bad Request: inline keyboard expected")


async def test_edits_and_message_not_modified(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    message = await bot.send_message(1, "<b>案件</b>", parse_mode="HTML", reply_markup=KB_OK)
    mid = message.message_id
    for attempt in (
        bot.edit_message_text(
            "<b>案件</b>", chat_id=1, message_id=mid, parse_mode="HTML", reply_markup=KB_OK
        ),
        bot.edit_message_text(
            "<strong>案件</strong>", chat_id=1, message_id=mid, parse_mode="HTML", reply_markup=KB_OK
        ),
        bot.edit_message_reply_markup(chat_id=1, message_id=mid, reply_markup=KB_OK),
    ):
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await attempt
    assert fake.errors[-1][2] == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    # Same text but no reply_markup: Telegram removes the inline keyboard (a modification).
    edited = await bot.edit_message_text(
        "<b>案件</b>", chat_id=1, message_id=mid, parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.reply_markup is None
    assert edited.edit_date is not None
    sent = fake.sent[0]
    assert sent.edits == 1 and sent.buttons() == [] and sent.reply_markup is None
    edited = await bot.edit_message_text("已处理", chat_id=1, message_id=mid, reply_markup=KB_OK)
    assert sent.text == "已处理" and sent.history == ["案件", "案件"] and sent.edits == 2
    await bot.edit_message_reply_markup(chat_id=1, message_id=mid)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=1, message_id=mid)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=1, message_id=999)
    alice.send_text("用户消息")
    user_message = (await bot.get_updates(timeout=0))[0].message
    assert user_message is not None
    user_message_id = user_message.message_id
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=1, message_id=user_message_id)
    # The callback query's message shows the message as it is now.
    alice.press(sent, "ok")
    updates = await bot.get_updates(offset=-1)
    query = updates[-1].callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.message.text == "已处理"


async def test_one_answer_per_callback_query(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    await bot.send_message(1, "选择", reply_markup=KB_OK)
    query_id = alice.press_button(fake.sent[0], "确认")
    forged = alice.press(fake.sent[0], "forged-data")
    updates = await bot.get_updates(timeout=0)
    assert [u.callback_query and u.callback_query.data for u in updates] == ["ok", "forged-data"]
    assert await bot.answer_callback_query(query_id, text="已收到")
    with pytest.raises(BadRequest, match="(?i)query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="(?i)query id is invalid"):
        await bot.answer_callback_query("123456789")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(forged, text="长" * 201)
    assert await bot.answer_callback_query(forged, text="长" * 200, show_alert=True)
    assert fake.callback_answers[query_id] == [{"text": "已收到", "show_alert": False}]
    assert fake.callback_answers[forged][0]["show_alert"] is True


# ---------------------------------------------------------------------------
# Rate limits
# ---------------------------------------------------------------------------


async def test_per_chat_rate_limit(fake: FakeBotAPI, bot: Bot, raw: httpx.AsyncClient) -> None:
    clock = ManualClock()
    fake.clock = clock
    fake.per_chat_interval = 1.0
    fake.user(1)
    fake.user(2)
    first = await bot.send_message(1, "一")
    clock.now += 0.3
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1, "二")
    assert info.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.errors[-1] == ("sendMessage", 429, "Too Many Requests: retry after 1")
    with pytest.raises(RetryAfter):  # edits are limited too
        await bot.edit_message_text("改", chat_id=1, message_id=first.message_id)
    await bot.send_message(2, "另一个聊天不受影响")
    clock.now += 0.7  # a 429 did not count as a send: 1.0 s after the first one now
    await bot.send_message(1, "二")
    fake.per_chat_interval = 2.5
    clock.now += 0.2
    status, body = await call(raw, fake, "sendMessage", chat_id=1, text="三")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert [m.text for m in fake.messages_to(1)] == ["一", "二"]


async def test_per_chat_rate_limit_real_clock(fake: FakeBotAPI, bot: Bot) -> None:
    fake.per_chat_interval = 1.0
    fake.user(1)
    await bot.send_message(1, "一")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "二")
    fake.per_chat_interval = 0.0
    await bot.send_message(1, "二")


async def test_global_rate_limit(fake: FakeBotAPI, bot: Bot) -> None:
    clock = ManualClock()
    fake.clock = clock
    fake.global_rate = 3
    for chat in range(1, 6):
        fake.user(chat)
    for chat in (1, 2, 3):
        await bot.send_message(chat, "通知")
        clock.now += 0.1
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(4, "通知")
    assert info.value.retry_after == dtm.timedelta(seconds=1)
    clock.now = 1000.0 + 1.01  # the first send left the sliding window
    await bot.send_message(4, "通知")
    with pytest.raises(RetryAfter):
        await bot.send_message(5, "通知")
    assert len(fake.sent) == 4


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


async def test_file_upload_get_file_and_download_round_trip(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    payload = b"\x00\x01binary \xe6\x8a\xa5\xe5\x91\x8a"
    message = await bot.send_document(
        1, payload, filename="报告.pdf", caption="<b>附件</b>", parse_mode="HTML"
    )
    assert message.document is not None and message.caption == "附件"
    sent = fake.sent[0]
    assert (sent.file_name, sent.file_bytes, sent.text, sent.mime_type) == (
        "报告.pdf",
        payload,
        "附件",
        "application/pdf",
    )
    file = await bot.get_file(message.document.file_id)
    assert file.file_size == len(payload)
    assert bytes(await file.download_as_bytearray()) == payload

    resent = await bot.send_document(1, message.document.file_id)
    assert resent.document is not None and fake.sent[1].file_bytes == payload

    photo = await bot.send_photo(1, PNG)
    photo_file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()) == PNG
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(1, b"not an image")
    with pytest.raises(BadRequest, match="(?i)type of file mismatch"):
        await bot.send_photo(1, message.document.file_id)

    alice.send_document(b"user evidence", "证据.docx", "application/msword")
    alice.send_photo(PNG)
    updates = await bot.get_updates(timeout=0)
    doc = updates[0].message.document  # type: ignore[union-attr]
    assert doc is not None
    user_file = await bot.get_file(doc.file_id)
    assert bytes(await user_file.download_as_bytearray()) == b"user evidence"
    sizes = updates[1].message.photo  # type: ignore[union-attr]
    assert bytes(await (await bot.get_file(sizes[0].file_id)).download_as_bytearray()) == PNG
    with pytest.raises(BadRequest):
        await bot.get_file("no-such-file")


async def test_file_too_big(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    alice.send_document(b"PK", "big.zip", "application/zip", declared_size=25 * 1024 * 1024)
    alice.send_document(b"PK", "edge.zip", "application/zip", declared_size=20 * 1024 * 1024)
    updates = await bot.get_updates(timeout=0)
    big = updates[0].message.document  # type: ignore[union-attr]
    edge = updates[1].message.document  # type: ignore[union-attr]
    assert big is not None and edge is not None
    assert big.file_size == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(big.file_id)
    assert (await bot.get_file(edge.file_id)).file_size == 20 * 1024 * 1024


# ---------------------------------------------------------------------------
# Chats
# ---------------------------------------------------------------------------


async def test_chat_not_found(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(999, "x")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_chat_action(999, ChatAction.TYPING)
    assert fake.errors == [
        ("sendMessage", 400, "Bad Request: chat not found"),
        ("sendChatAction", 400, "Bad Request: chat not found"),
    ]


async def test_blocked_user_403(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    message = await bot.send_message(1, "欢迎")
    alice.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1, "x")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("y", chat_id=1, message_id=message.message_id)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(1, ChatAction.TYPING)
    assert fake.errors[0] == ("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert len(fake.sent) == 1
    alice.unblock_bot()
    await bot.send_message(1, "恢复")


async def test_chat_action_and_delete(fake: FakeBotAPI, bot: Bot, raw: httpx.AsyncClient) -> None:
    fake.user(1)
    assert await bot.send_chat_action(1, ChatAction.TYPING)
    assert fake.chat_actions == [(1, "typing")]
    status, _ = await call(raw, fake, "sendChatAction", chat_id=1, action="dancing")
    assert status == 400
    message = await bot.send_message(1, "临时")
    assert await bot.delete_message(1, message.message_id)
    assert fake.sent[0].deleted
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(1, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=1, message_id=message.message_id)


async def test_commands(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(5)
    commands = [BotCommand("start", "开始"), BotCommand("help", "帮助")]
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands(commands, scope=scope, language_code="zh")
    assert fake.commands[("all_private_chats", "zh")] == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert await bot.get_my_commands(scope=scope, language_code="zh") == tuple(commands)
    assert await bot.get_my_commands() == ()
    await bot.set_my_commands([BotCommand("cancel", "取消")], scope=BotCommandScopeChat(5))
    assert fake.commands[("chat:5", "")] == [{"command": "cancel", "description": "取消"}]
    await bot.set_my_commands([BotCommand("menu", "菜单")])
    assert ("default", "") in fake.commands
    for bad in (
        [BotCommand("Start", "x")],
        [BotCommand("a" * 33, "x")],
        [BotCommand("开始", "x")],
        [BotCommand("start", "")],
        [BotCommand("start", "x" * 257)],
        [BotCommand(f"c{i}", "x") for i in range(101)],
    ):
        with pytest.raises(BadRequest):
            await bot.set_my_commands(bad)
    await bot.set_my_commands([BotCommand("a" * 32, "x" * 256)], language_code="en")
    assert await bot.delete_my_commands(scope=scope, language_code="zh")
    assert ("all_private_chats", "zh") not in fake.commands


async def test_wait_for_messages(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    waiter = asyncio.create_task(fake.wait_for_messages(1, 2, timeout=5))
    await bot.send_message(1, "一")
    assert not waiter.done()
    await bot.send_message(1, "二")
    messages = await waiter
    assert [m.text for m in messages] == ["一", "二"]
    assert all(isinstance(m, SentMessage) for m in messages)
    with pytest.raises(TimeoutError, match="expected at least 3 message") as info:
        await fake.wait_for_messages(1, 3, timeout=0.1)
    assert "一" in str(info.value)
    with pytest.raises(TimeoutError):
        await fake.wait_until(lambda: False, timeout=0.05)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


async def test_fault_429(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    fake.faults.p_429 = 1.0
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1, "x")
    assert info.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.fault_counts["429"] == 1 and fake.sent == []
    assert fake.errors == [("sendMessage", 429, "Too Many Requests: retry after 1")]
    assert (await bot.get_me()).username == fake.bot_username  # getMe is not faulted


@pytest.mark.parametrize(
    ("kind", "text"), [("500", "Internal Server Error"), ("502", "Bad Gateway")]
)
async def test_fault_5xx(fake: FakeBotAPI, bot: Bot, kind: str, text: str) -> None:
    fake.user(1)
    setattr(fake.faults, f"p_{kind}", 1.0)
    with pytest.raises(NetworkError, match=text) as info:
        await bot.send_message(1, "x")
    assert not isinstance(info.value, (TimedOut, BadRequest))
    assert fake.fault_counts[kind] == 1 and fake.sent == []
    assert fake.errors == [("sendMessage", int(kind), text)]


async def test_fault_timeout_client_sees_timeout(fake: FakeBotAPI) -> None:
    fake.user(1)
    fake.faults.p_timeout = 1.0
    fake.faults.timeout_delay = 1.0
    async with make_bot(fake, read_timeout=0.3) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(1, "x")
        assert fake.sent == [] and fake.fault_counts["timeout"] == 1
        assert fake.errors[-1][:2] == ("sendMessage", 0)
        fake.faults.clear()
        await slow.send_message(1, "y")
    assert [m.text for m in fake.sent] == ["y"]


async def test_fault_timeout_shorter_than_client_timeout_is_a_disconnect(
    fake: FakeBotAPI, bot: Bot
) -> None:
    fake.user(1)
    fake.faults.p_timeout = 1.0
    fake.faults.timeout_delay = 0.05
    with pytest.raises(NetworkError, match="RemoteProtocolError") as info:
        await bot.send_message(1, "x")
    assert not isinstance(info.value, TimedOut)
    assert fake.sent == []


async def test_fault_timeout_after_delivery_records_message(fake: FakeBotAPI) -> None:
    fake.user(1)
    fake.faults.p_timeout_after_delivery = 1.0
    fake.faults.timeout_delay = 1.0
    async with make_bot(fake, read_timeout=0.3) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(1, "已送达但未确认")
        assert [m.text for m in fake.sent] == ["已送达但未确认"]
        assert fake.fault_counts["timeout_after_delivery"] == 1
        fake.faults.clear()
        await slow.send_message(1, "已送达但未确认")  # a naive retry duplicates it
    assert len(fake.messages_to(1)) == 2


async def test_fault_drop(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    fake.faults.p_drop = 1.0
    with pytest.raises(NetworkError) as info:
        await bot.send_message(1, "x")
    assert not isinstance(info.value, TimedOut)
    assert fake.sent == [] and fake.fault_counts["drop"] == 1
    assert fake.errors[-1][:2] == ("sendMessage", 0)


async def test_fault_on_answer_callback_query(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(1)
    await bot.send_message(1, "x", reply_markup=KB_OK)
    query_id = alice.press(fake.sent[0], "ok")
    fake.faults.queue.append("500")
    with pytest.raises(NetworkError):
        await bot.answer_callback_query(query_id)
    assert await bot.answer_callback_query(query_id)  # the faulted answer was not recorded


async def test_fault_queue_methods_and_get_updates_flag(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    fake.faults.queue.extend(["502", "drop"])
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1, "a")
    with pytest.raises(NetworkError):
        await bot.send_message(1, "b")
    await bot.send_message(1, "c")
    fake.faults.p_500 = 1.0
    assert await bot.get_updates(timeout=0) == ()  # getUpdates is not faulted by default
    fake.faults.include_get_updates = True
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_updates(timeout=0)
    fake.faults.methods = {"sendChatAction"}
    with pytest.raises(NetworkError):
        await bot.send_chat_action(1, ChatAction.TYPING)
    fake.faults.include_get_updates = False
    await bot.send_message(1, "d")
    assert [m.text for m in fake.sent] == ["c", "d"]
    assert fake.fault_counts == {"502": 1, "drop": 1, "500": 2}


async def test_faults_deterministic_with_seed() -> None:
    async def outcomes(seed: int) -> list[int]:
        async with FakeBotAPI(seed=seed, per_chat_interval=0, global_rate=0) as api:
            api.user(1)
            api.faults.p_500 = 0.5
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.port}") as client:
                return [
                    (await call(client, api, "sendMessage", chat_id=1, text="x"))[0]
                    for _ in range(24)
                ]

    first, second, other = await outcomes(3), await outcomes(3), await outcomes(4)
    assert first == second
    assert set(first) == {200, 500}
    assert first != other


def test_fault_plan_validation() -> None:
    plan = FaultPlan(p_500=1.5)
    with pytest.raises(ValueError):
        plan.probabilities()
    assert plan.applies_to("sendMessage") and not plan.applies_to("getUpdates")


async def test_held_request_does_not_block_and_stop_is_prompt() -> None:
    api = FakeBotAPI(per_chat_interval=0)
    await api.start()
    api.user(1)
    api.faults.p_timeout = 1.0
    api.faults.timeout_delay = 30.0
    try:
        async with make_bot(api, read_timeout=10.0) as patient:
            held = asyncio.create_task(patient.send_message(1, "held"))
            poll = asyncio.create_task(patient.get_updates(timeout=30))
            await api.wait_until(
                lambda: api.held_requests == 1 and api.long_poll_pending, timeout=3
            )
            assert (await patient.get_me()).username == api.bot_username  # still answering
            started = time.monotonic()
            await api.stop()
            assert time.monotonic() - started < 2.0
            with pytest.raises(NetworkError):
                await held
            result = await asyncio.gather(poll, return_exceptions=True)
            assert result[0] == () or isinstance(result[0], NetworkError)
    finally:
        await api.stop()


# ---------------------------------------------------------------------------
# End to end with a python-telegram-bot Application
# ---------------------------------------------------------------------------


async def test_ptb_application_polls_the_fake(fake: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, "<b>欢迎</b>", parse_mode="HTML", reply_markup=KB_OK
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("好")
        await query.edit_message_text(f"已选择 {query.data}")

    async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.contact is not None
        assert message.from_user is not None
        own = message.contact.user_id == message.from_user.id
        await message.reply_text("已登记" if own else "请分享本人号码")

    application = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .request(make_request(2.0))
        .get_updates_request(make_request(2.0, pool_size=1))
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    alice = fake.user(77)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        alice.send_text("/start")
        [welcome] = await fake.wait_for_messages(77, 1, timeout=5)
        assert welcome.text == "欢迎" and welcome.buttons() == [("确认", "ok")]
        query_id = alice.press_button(welcome, "确认")
        await fake.wait_until(lambda: welcome.edits == 1, timeout=5)
        assert welcome.text == "已选择 ok" and welcome.buttons() == []
        assert fake.callback_answers[query_id] == [{"text": "好", "show_alert": False}]
        alice.share_contact("+8613800000000", own=False)
        messages = await fake.wait_for_messages(77, 2, timeout=5)
        assert messages[-1].text == "请分享本人号码"
        await application.updater.stop()
        await application.stop()
    assert fake.pending_updates == 0  # the Updater confirmed everything on stop
