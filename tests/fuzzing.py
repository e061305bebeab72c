"""The bad-input fuzz (issue 6, drill 6): random steps from people in every role, checked after each.

A *world* is built once through the real dialogues (a county procuratorate with two departments, its
office, handlers, a head, a leader, discipline inspection, two representatives with matters in several
states, a supervisor, an event with invitations, an opinion card, and one stranger holding nothing but
someone else's unused invite code) and copied for each example, so that every example starts from the
same database and the same buttons on everyone's screen.

A step is one thing a user does: free text, a command with arguments, a button press (a real button
they were shown, the same one mutated — another id, another nonce, truncated, another choice — or a
button shown to someone else, or random data), a file, a contact, or the clock moving on. Steps are
plain tuples drawn by Hypothesis, and every choice that depends on what is on screen is an index taken
modulo what is there, so a failure shrinks to a short, readable list that replays exactly.

After every step (`Runner.step`) three properties are checked:

1. no unhandled exception: the inbox entry is not marked `failed` (the router's catch-all, which sends
   the generic apology) and nothing was logged at ERROR or above;
2. every update is answered: a press gets exactly one callback answer, a message at least one message
   back in the same chat;
3. a refusal changes nothing: when the router refused (a UserError: permission, bad input, stale
   button, not found — it logs `refused ... <msgid>`) or the answer is one of the non-raising refusals
   (the stranger's "ask for an invite", "not understood", "finish what you are doing first", "nothing to
   cancel"), every business table is exactly as before. Bookkeeping — inbox, outbox, audit log (refusals
   are audited on purpose), dialogue state — is left out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import shutil
import string
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.app import App
from bot.i18n import Translator
from handlers.routes import build
from tests import pg_cluster
from tests.fakes import Harness, MovableClock, RecordingChannel, Sent, User, test_config

BOOKKEEPING = frozenset({"inbox", "outbox", "audit_log", "audit_head", "dialogs"})
TABLES = {  # the schema's tables, on each engine
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    "postgresql": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                  " AND table_type = 'BASE TABLE' ORDER BY table_name",
}

# Who acts: (key, user id, Telegram language code). The stranger is bound to nothing.
ACTORS: tuple[tuple[str, str, str], ...] = (
    ("stranger", "9001", "zh-hans"),
    ("deputy", "1001", "zh-hans"),
    ("member", "1002", "en"),
    ("supervisor", "1003", "zh-hans"),
    ("office", "3001", "zh-hans"),
    ("handler1", "4001", "zh-hans"),
    ("handler2", "4002", "en"),
    ("head1", "4101", "zh-hans"),
    ("leader", "6001", "zh-hans"),
    ("discipline", "5001", "zh-hans"),
)
ACTOR_KEYS = tuple(a[0] for a in ACTORS)
COMMANDS = tuple(sorted(build().commands))
REPLY_BODY = "经审查，您反映的占用耕地问题属实，我院已向相关部门发出检察建议，责令其限期整改，目前已恢复耕地原状。"
GROUNDS = "依据《中华人民共和国土地管理法》第七十五条及《人民检察院检察建议工作规定》第十一条。"


# -- the world ------------------------------------------------------------------------------------


@dataclass
class World:
    """A built database and what was on everyone's screen when it was built."""

    folder: Path
    sent: list[Sent]
    invite_codes: list[str]  # an unused invite code (a representative without a chat)
    updates: int


async def _bind(h: Harness, person_id: int, user_id: str, lang: str) -> User:
    user = h.user(user_id, language_code=lang)
    await user.say(f"/start {await h.invite(person_id)}")
    return user


async def _build(h: Harness) -> list[str]:
    lang = dict((a[0], a[2]) for a in ACTORS)
    await h.add_department("第一检察部")
    await h.add_department("第二检察部")
    u: dict[str, User] = {}
    for key, name, roles, dept, uid in (
        ("office", "陈静", ["office"], None, "3001"),
        ("handler1", "刘洋", ["handler"], "第一检察部", "4001"),
        ("handler2", "王芳", ["handler"], "第二检察部", "4002"),
        ("head1", "吴刚", ["head"], "第一检察部", "4101"),
        ("leader", "周明", ["leader"], None, "6001"),
        ("discipline", "孙磊", ["discipline"], None, "5001"),
    ):
        u[key] = await _bind(h, await h.add_staff(name, roles, dept), uid, lang[key])
    u["deputy"] = await _bind(h, await h.add_representative("王建国", phone="13800000001", sector="农业界"),
                              "1001", lang["deputy"])
    u["member"] = await _bind(h, await h.add_representative("李秀梅", body="cppcc", phone="13800000002",
                                                            sector="教育界"), "1002", lang["member"])
    u["supervisor"] = await _bind(h, await h.add_representative("赵敏", phone="13800000003", sector="企业界",
                                                                supervisor=True), "1003", lang["supervisor"])
    spare = await h.add_representative("刘强", phone="13800000005", sector="企业界")  # no chat yet
    code = await h.invite(spare)

    deputy, office = u["deputy"], u["office"]
    # LS-2026-0001: an appeal disputing the second department's handling, assigned to the first.
    await deputy.say("/submit")
    await deputy.press("申诉")
    await deputy.say("不服不起诉决定")
    await deputy.say("当事人认为不起诉决定认定事实有误。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("李四")
    await deputy.say("13900002222")
    await deputy.press("是")
    await deputy.press("第二检察部")
    await deputy.press("确认提交")
    await office.say("/case LS-2026-0001")
    await office.press("交办")
    await office.press("第一检察部")
    await office.press("陈静")
    # LS-2026-0002: a suggestion, registered, waiting for the office.
    await deputy.say("/submit")
    await deputy.press("建议")
    await deputy.say("村口增设减速带")
    await deputy.say("建议在村口增设减速带。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.press("确认提交")
    # LS-2026-0003: the deputy's report, assigned to the first department, concluded and replied.
    await deputy.say("/submit")
    await deputy.press("举报")
    await deputy.say("有人非法占用耕地")
    await deputy.say("村民反映某公司占用基本农田建厂。")
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say("张三")
    await deputy.say("13900001111")
    await deputy.press("确认提交")
    await office.say("/case LS-2026-0003")
    await office.press("交办")
    await office.press("第一检察部")
    await office.press("陈静")
    handler = u["handler1"]
    await handler.say("/case LS-2026-0003")
    await handler.press("办结")
    await handler.press("A类：已解决或基本解决")
    await handler.press("起草答复")
    await handler.press("网上答复")
    await handler.say(REPLY_BODY)
    await handler.say(GROUNDS)
    await handler.press("确认")
    await office.say("/case LS-2026-0003")
    await office.press("审批通过")  # the deputy now holds the rating buttons
    # An event with invitations to everyone, and an opinion card sent to everyone.
    await office.say("/event")
    await office.press("座谈会")
    await office.say("2026年度代表委员座谈会")
    await office.say("2026-12-04 09:30")
    await office.say("本院第一会议室")
    await office.press("第一检察部")
    await office.press("完成")
    await office.press("全体人大代表、政协委员")
    await office.press("确认")
    await office.say("/card")
    await office.say("2026年度征求意见卡")
    await office.say("您对本院工作有何意见和建议？")
    await office.press("文字回答")
    await office.press("完成")
    await office.press("全体人大代表、政协委员")
    await office.press("发送")
    # Each user ends on a screen with buttons of their own.
    await office.say("/inbox")
    await handler.say("/case LS-2026-0001")
    await u["head1"].say("/case LS-2026-0003")
    await u["leader"].say("/overview")
    await u["discipline"].say("/case LS-2026-0001")
    await u["member"].say("/help")
    await u["handler2"].say("/help")
    return [code]


async def build_world(root: Path) -> World:
    """Build the world once in `root`; examples copy it."""
    clock = MovableClock()
    if pg_cluster.current is not None:  # the world's database outlives the test that built it: examples copy it
        pg_cluster.current.url_for(root, keep=True)
    app = clock.pace(await App.open(test_config(root), clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    h = Harness(app, channel, clock)
    try:
        codes = await _build(h)
        failed = await h.count("inbox", "state = 'failed'")
        assert failed == 0, f"building the fuzz world failed {failed} updates"
        updates = next(h._updates)
    finally:
        await app.close()
    return World(root, list(channel.sent), codes, updates)


# -- steps ----------------------------------------------------------------------------------------

_CONTROL = "".join(chr(c) for c in (*range(0, 32), 127, 0x85, 0x200B, 0x200E, 0x200F, 0x202E, 0x2028, 0xFEFF))
_ODD_TEXT = (
    "", " ", "\n", "<b>加粗</b>", "&amp; & &lt;", "<a href='x'>链接</a>", "{0} {name} {{", "%s %(x)s", "😀👍🏽🇨🇳",
    "مرحبا بالعالم", "שלום \u202eRTL", "\x00\x01\x1b[31m", "LS-2026-0001", "LS-2026-9999", "ls-2026-0003", "1",
    "0", "-1", "99999999999999999999", "13900001111", "2026-12-05 09:30", "2026-02-30 25:61", "0001-01-01 00:00", "9999-12-31 23:59",
    "2027-01-15 10:00", "0001-01-01", "9999-12-31", "2026-11-20", "2031-12-31", "11月20日", "2026H2", "第一检察部", "陈静",
    "王建国", "是", "否", "完成", "确认", REPLY_BODY, GROUNDS, "路" * 100, "路" * 101, "字" * 4097,
    "/submit", "/start", "'; DROP TABLE matters; --", "\\", "\"", "null", "NaN", "a\ud800b", "\udfff", "😀\ud83d",
)
texts = st.one_of(
    st.sampled_from(_ODD_TEXT),
    st.text(max_size=40),
    st.text(alphabet=_CONTROL + "<>&\"' 字a", max_size=30),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["字", "a", "<", "😀", "\n"]),
              st.sampled_from([1000, 4096, 5000, 20001])),
)
args = st.one_of(
    st.just(""),
    st.sampled_from(("LS-2026-0001", "LS-2026-0002", "LS-2026-0003", "LS-2026-0004", "LS-2025-0001",
                     "LS-2026-00001", "{invite}", "{invite}x", "1", "2026H2", "2026H1", "2099H2", "half-year", "sent", "abc", "@bot")),
    texts,
)
_NAMESPACES = ("d", "menu", "lang", "my", "case", "act", "rate", "register", "contact", "card", "brief", "event",
               "sv", "npc", "report", "x", "")
raw_data = st.one_of(
    st.text(max_size=70),
    st.builds(":".join, st.lists(st.one_of(st.sampled_from(_NAMESPACES), st.text(string.ascii_letters + string.digits,
                                                                                 max_size=8),
                                           st.integers(0, 10 ** 13).map(str)), min_size=1, max_size=5)),
)
MUTATIONS = ("same", "same", "same", "int", "nonce", "truncate", "drop", "append", "choice", "namespace")

# "me" is the sequence's protagonist (set by an ("as", KEY) step), so that one person's dialogue gets deep.
# Short real openings into each dialogue, so that random input lands at every step, not only at the first.
# ("c", command, args) / ("t", text) / ("l", button label: the latest button so labelled, skipped if none).
SCRIPTS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "intake_files": ("deputy", (("c", "submit", ""), ("l", "举报"), ("t", "有人非法占用耕地"),
                                ("t", "村民反映某公司占用基本农田建厂。"), ("l", "完成"))),
    "intake_department": ("deputy", (("c", "submit", ""), ("l", "申诉"), ("t", "不服不起诉决定"), ("t", "认定事实有误。"),
                                     ("l", "完成"), ("l", "无附件"), ("t", "李四"), ("t", "13900002222"), ("l", "是"))),
    "register": ("office", (("c", "register", ""), ("t", "王"))),
    "event_when": ("office", (("c", "event", ""), ("l", "座谈会"), ("t", "座谈会"))),
    "event_audience": ("office", (("c", "event", ""), ("l", "座谈会"), ("t", "座谈会"), ("t", "2027-01-15 10:00"),
                                  ("t", "第一会议室"), ("l", "第一检察部"), ("l", "完成"))),
    "event_discussion": ("office", (("c", "event", ""), ("l", "案件研讨"), ("t", "LS-2026-0001"))),
    "card": ("office", (("c", "card", ""), ("t", "意见卡"), ("t", "您对本院工作有何意见？"))),
    "brief": ("office", (("c", "brief", ""), ("t", "工作简报"))),
    "contact": ("office", (("c", "contact", ""), ("l", "座谈会"))),
    "supervisor": ("office", (("c", "supervisors", ""), ("l", "聘请执法监督员"), ("t", "王"))),
    "npc": ("office", (("c", "npc", ""),)),
    "events": ("office", (("c", "events", ""),)),
    "progress": ("handler1", (("c", "case", "LS-2026-0001"), ("l", "进展"))),
    "extension": ("handler1", (("c", "case", "LS-2026-0001"), ("l", "申请延期"))),
    "assign": ("office", (("c", "case", "LS-2026-0002"), ("l", "交办"))),
    "office_case": ("office", (("c", "case", "LS-2026-0002"),)),
    "rate": ("deputy", (("l", "不满意"),)),
    "card_answer": ("member", (("l", "Answer"),)),
    "invitation": ("supervisor", (("l", "不参加"),)),
    "report": ("office", (("c", "report", ""),)),
    "lang": ("member", (("c", "lang", ""), ("l", "简体中文"))),
    "bind": ("stranger", (("c", "start", "{invite}"),)),
}

actor = st.one_of(st.just("me"), st.just("me"), st.just("me"), st.sampled_from(ACTOR_KEYS))
# A real button the actor was shown, pressed as it is: weighted up so that dialogues get deep.
real_press = st.tuples(st.just("press"), actor, st.just("own"), st.integers(0, 63), st.just("same"), st.just(0))
step = st.one_of(
    real_press, real_press, real_press,
    st.tuples(st.just("script"), st.sampled_from(sorted(SCRIPTS))),
    st.tuples(st.just("text"), actor, st.sampled_from(_ODD_TEXT)),
    st.tuples(st.just("text"), actor, texts),
    st.tuples(st.just("command"), actor, st.one_of(st.sampled_from(COMMANDS), st.sampled_from(
        ("START", "Submit", "nosuch", "", "start@liaison_bot", "x" * 70))), args),
    st.tuples(st.just("press"), actor, st.one_of(st.just("own"), st.just("own"), actor),
              st.integers(0, 63), st.sampled_from(MUTATIONS), st.integers(0, 2 ** 31)),
    st.tuples(st.just("data"), actor, raw_data),
    st.tuples(st.just("file"), actor, st.sampled_from(("photo", "document")),
              st.sampled_from(("报告.pdf", "a.exe", "", "x" * 300, "../../etc/passwd", "照片.jpg", "<b>.docx",
                               "no-extension", "\u202egnp.exe")),
              st.sampled_from((0, 1, 1024, 20 * 1024 * 1024, 20 * 1024 * 1024 + 1, 2 ** 40, -1)),
              st.sampled_from((None, "application/pdf", "image/jpeg", "application/x-msdownload", "", "text/html")),
              st.sampled_from((None, None, "too_large", "download_failed", "weird")), texts),
    st.tuples(st.just("contact"), actor, st.sampled_from(("13800000001", "13800000005", "+86 138 0000 0005", "",
                                                          "abc", "1" * 40)), st.booleans()),
    st.tuples(st.just("clock"), st.sampled_from((1, 24, 24 * 15, 24 * 100))),
    st.tuples(st.just("tick")),
)


def sequences(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """A protagonist (and whether binding asks for the phone number), then their steps (and others')."""
    return st.tuples(st.tuples(st.just("as"), st.sampled_from(ACTOR_KEYS), st.booleans()),
                     st.lists(step, min_size=min_size, max_size=max_size)).map(lambda t: [t[0], *t[1]])


steps = sequences()


# -- running -------------------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Failure(AssertionError):
    pass


def _refusal_patterns() -> list[re.Pattern[str]]:
    """The answers that refuse without raising, in both languages, placeholders as wildcards."""
    msgids = (
        "This service is for the people's congress deputies and CPPCC members who work with {unit}, "
        "and for its staff. To use it, please ask the liaison office for your personal invite link, "
        "then open the link.",
        "This service is for the people's congress deputies and CPPCC members who work with {unit}, "
        "and for its staff. To use it, please ask the liaison office to bind your account, or for your invite code, "
        "and send it here after the word {bind}.",
        "Sorry, I did not understand. Please choose below, or send {/help}.",
        "To send files with a matter, please start with {/submit}.",
        "You have not finished {what}. Please finish it first, or send {/cancel} to leave it.",
        "There is nothing to cancel.",
        "Please choose one of the options.",
        "Please answer in text.",
        "Please send a photo or a document, or choose the option below.",
    )
    out = []
    for locale in ("zh_Hans", "en"):
        _ = Translator(locale, test_config(Path(".")).unit.tz)
        for msgid in msgids:
            text = _(msgid, what="{what}", unit="{unit}", bind="{bind}")  # the placeholders kept, the commands ({/cancel}) named
            out.append(re.compile("^" + ".*".join(re.escape(p) for p in re.split(r"\{[a-z_]+\}", text)) + "$",
                                  re.S))
    return out


REFUSALS = _refusal_patterns()


@dataclass
class Stats:
    steps: int = 0
    examples: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    dialog_steps: Counter[str] = field(default_factory=Counter)  # flow:step reached, after each step


class Runner:
    """One example: a copy of the world, its users, and the checks after each step."""

    def __init__(self, world: World, stats: Stats | None = None, require_phone: bool = False) -> None:
        self.world = world
        self.require_phone = require_phone
        self.stats = stats or Stats()
        self.folder = Path(tempfile.mkdtemp(prefix="fuzz-", dir=_fast_tmp()))
        self.records = _Records()

    async def __aenter__(self) -> Runner:
        for item in self.world.folder.iterdir():
            target = self.folder / item.name
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy2(item, target)
        self.clock = MovableClock()
        if pg_cluster.current is not None:  # on PostgreSQL: a copy of the world's database
            pg_cluster.current.url_for(self.folder, template=pg_cluster.current.name(self.world.folder))
        config = test_config(self.folder)
        config = replace(config, binding=replace(config.binding, require_phone=self.require_phone))
        app = self.clock.pace(await App.open(config, self.clock))
        channel = RecordingChannel(app.files)
        channel.sent = list(self.world.sent)
        app.add_channel(channel)
        await app.dispatcher.recover()
        self.h = Harness(app, channel, self.clock)
        self.h._updates = itertools.count(self.world.updates + 1)
        self.protagonist = ACTOR_KEYS[0]
        self.users = {key: self.h.user(uid, language_code=lang) for key, uid, lang in ACTORS}
        async with self.h.db.snapshot() as q:
            names = [r[0] for r in await q.all(TABLES[self.h.db.dialect])]
        self.tables = tuple(n for n in names if n not in BOOKKEEPING and n != "schema_migrations")
        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self.records)
        self.stats.examples += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.records)
        root.setLevel(self._level)
        await self.h.app.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if pg_cluster.current is not None:
            pg_cluster.current.drop(self.folder)

    # -- one step

    async def step(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        self.stats.steps += 1
        self.stats.kinds[kind] += 1
        if kind == "clock":
            self.clock.advance(hours=item[1])
            return
        if kind == "tick":  # the scheduler's sweep, over whatever the input before left in the database
            self.records.records.clear()
            await self.h.app.supervise()
            await self.h.app.settle()
            errors = [r for r in self.records.records if r.levelno >= logging.ERROR]
            if errors:
                raise Failure("the supervision sweep logged: " + "; ".join(r.getMessage() for r in errors))
            return
        if kind == "as":
            self.protagonist = item[1]
            return
        if kind == "script":
            who, script = SCRIPTS[item[1]]
            self.protagonist = who
            for part in script:
                if part[0] == "c":
                    await self.step(("command", who, part[1], part[2]))
                elif part[0] == "t":
                    await self.step(("text", who, part[1]))
                else:
                    await self.step(("label", who, part[1]))
            return
        user = self.users[self.protagonist if item[1] == "me" else item[1]]
        if kind == "label":
            found = [(data, s.message_id) for s in reversed(user.received)
                     for label, data in s.buttons if label == item[2]]
            if not found:
                self.stats.kinds["label:missing"] += 1
                return
        before = await self.h.dump(*self.tables)
        self.records.records.clear()
        is_press = kind in ("press", "data", "label")
        if kind == "text":
            await user._send(text=item[2])
        elif kind == "command":
            name, arguments = item[2], item[3]
            arguments = arguments.replace("{invite}", self.world.invite_codes[0])
            await user._send(text=f"/{name} {arguments}".rstrip(), command=name, args=arguments)
        elif kind == "press":
            data, message_id = await self._button(user, item)
            self.stats.kinds[f"press:{item[4]}" + (":other" if item[2] != "own" else "")] += 1
            await user.press_data(data, message_id=message_id)
        elif kind == "label":
            await user.press_data(found[0][0], message_id=found[0][1])
        elif kind == "data":
            await user.press_data(item[2], message_id="1")
        elif kind == "file":
            _, _, fkind, name, size, mime, error, caption = item
            data = b"%PDF-1.4 fuzz" if size != 0 else b""
            await self._send_file(user, fkind, name, size, mime, error, caption, data)
        elif kind == "contact":
            await user.share_contact(item[2], own=item[3])
        else:
            raise AssertionError(kind)
        await self._check(user, is_press, before)

    async def _send_file(self, user: User, kind: str, name: str, size: int, mime: str | None, error: str | None,
                         caption: str, data: bytes) -> None:
        from bot.messages import Attachment

        ref = f"fuzz-{len(self.h.channel.blobs)}"
        self.h.channel.blobs[ref] = data
        attachment = Attachment(kind=kind, file_ref=ref, name=name, size=size,  # type: ignore[arg-type]
                                mime=mime, error=error)
        await user._send(text=caption, attachments=(attachment,))

    async def _button(self, user: User, item: tuple[Any, ...]) -> tuple[str, str]:
        _, _, source, index, mutation, salt = item
        shown = self.users[self.protagonist if source == "me" else source] if source != "own" else user
        buttons = [(data, s.message_id) for s in _last_screens(shown) for _, data in s.buttons]
        if not buttons:
            return "menu:help", "1"
        data, message_id = buttons[index % len(buttons)]
        parts = data.split(":")
        if mutation == "int":
            numbers = [i for i, p in enumerate(parts) if p.isdigit()]
            if numbers:
                parts[numbers[salt % len(numbers)]] = str((salt % 7) if salt % 3 else salt)
        elif mutation == "nonce" and parts[0] == "d" and len(parts) > 1:
            parts[1] = f"{salt % 16 ** 6:06x}"
        elif mutation == "truncate":
            return data[: salt % max(len(data), 1)], message_id
        elif mutation == "drop" and len(parts) > 1:
            del parts[salt % len(parts)]
        elif mutation == "append":
            parts.append(str(salt % 100))
        elif mutation == "choice" and len(parts) > 1:
            others = [b[0].split(":")[-1] for b in buttons] + ["x", "0", "999999", "-"]
            parts[-1] = others[salt % len(others)]
            if parts[0] == "d":  # the actor's own current nonce: a choice the step never offered
                async with self.h.db.snapshot() as q:
                    nonce = await q.scalar("SELECT nonce FROM dialogs WHERE actor = ?", (f"test:{user.user_id}",))
                if nonce:
                    parts[1] = nonce
        elif mutation == "namespace":
            parts[0] = _NAMESPACES[salt % len(_NAMESPACES)]
        return ":".join(parts), message_id

    async def _check(self, user: User, is_press: bool, before: dict[str, list[tuple[Any, ...]]]) -> None:
        async with self.h.db.snapshot() as q:
            entry = await q.one("SELECT id, state FROM inbox ORDER BY id DESC LIMIT 1")
            out = await q.all("SELECT op, chat_id, payload FROM outbox WHERE inbox_id = ?", (entry["id"],))
            dialog = await q.one("SELECT flow, step FROM dialogs WHERE actor = ?", (f"test:{user.user_id}",))
        if dialog is not None:
            self.stats.dialog_steps[f"{dialog['flow']}:{dialog['step']}"] += 1
        errors = [r for r in self.records.records if r.levelno >= logging.ERROR]
        if entry["state"] == "failed" or errors:
            detail = "; ".join(f"{r.name}: {r.getMessage()}" + (f" [{r.exc_info[1]!r}]" if r.exc_info else "")
                               for r in errors)
            raise Failure(f"unhandled error (inbox {entry['state']}): {detail}")
        answers = [r for r in out if r["op"] == "answer"]
        mine = [r for r in out if r["op"] == "message" and r["chat_id"] == user.chat_id]
        if is_press and len(answers) != 1:
            raise Failure(f"a press answered {len(answers)} times")
        if not is_press and not mine:
            raise Failure("a message got no reply")
        refused = [str(r.args[-1]) for r in self.records.records
                   if r.name == "bot.router" and r.msg.startswith("refused") and r.args]
        texts = [json.loads(r["payload"])["text"] for r in mine]
        soft = [t for t in texts if any(p.match(t) for p in REFUSALS)]
        if refused or soft:
            self.stats.refusals[refused[0] if refused else _short(soft[0])] += 1
            after = await self.h.dump(*self.tables)
            changed = [t for t in self.tables if after[t] != before[t]]
            if changed:
                raise Failure(f"refused ({refused or _short(soft[0])}) but changed {', '.join(changed)}")


def _short(text: str) -> str:
    return text.split("\n")[0][:40]


def _last_screens(user: User, n: int = 3) -> list[Sent]:
    """The last few messages with buttons in this user's chat: what they could press now."""
    return [s for s in user.received if s.buttons][-n:]


def _fast_tmp() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


async def run_steps(world: World, items: list[tuple[Any, ...]], stats: Stats | None = None) -> None:
    phone = bool(items) and items[0][0] == "as" and len(items[0]) > 2 and bool(items[0][2])
    async with Runner(world, stats, require_phone=phone) as runner:
        for n, item in enumerate(items):
            try:
                await runner.step(item)
            except Failure as failure:
                raise Failure(f"step {n + 1} of {len(items)} {item!r}: {failure}") from None


_WORLD: dict[str, World] = {}


def world() -> World:
    """The world, built once per process (in a temporary folder removed at exit)."""
    if "w" not in _WORLD:
        import atexit

        folder = Path(tempfile.mkdtemp(prefix="fuzz-world-", dir=_fast_tmp()))
        atexit.register(shutil.rmtree, folder, True)
        _WORLD["w"] = asyncio.run(build_world(folder))
    return _WORLD["w"]
