"""SPEC §10, Words and tone: rules of the Chinese text that hold for every message, checked on the catalog itself
so that they stay true as strings are added.

- Chinese punctuation in Chinese text: never an ASCII colon (a time such as 09:30 is not punctuation).
- A date inside a Chinese sentence has no spaces around it: 将于2027年5月5日前办结, not 将于 2027年5月5日 前办结.
- The regulation is cited by its title: 《{regulation}》第十四条, never an article alone or "seed §14".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.app import App
from bot.i18n import LOCALE_DIR, Terms
from tests import fakes
from tests.cast import Cast
from tests.fakes import Harness, MovableClock, RecordingChannel, User

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"\d{1,2}:\d{2}")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Punctuation and letters of a Chinese sentence: a space between one of these and a date is a stray space.
CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
ALWAYS_DATES = frozenset({"day", "when", "date", "month"})  # by convention these parameters are dates
FORMATTERS = frozenset({"date", "datetime", "month"})  # Translator's date formatting methods


def catalog() -> dict[str, str]:
    with (LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}  # type: ignore[misc]


def date_parameters() -> dict[str, set[str]]:
    """msgid -> the names of its parameters that the code fills with a formatted date (`day=_.date(...)`)."""
    found: dict[str, set[str]] = {}
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                first = node.args[0]
                if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                    continue
                for keyword in node.keywords:
                    value = keyword.value
                    if (keyword.arg and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                            and value.func.attr in FORMATTERS):
                        found.setdefault(first.value, set()).add(keyword.arg)
    return found


def test_the_chinese_catalog_has_no_ascii_colon() -> None:
    offending = {msgid: msgstr for msgid, msgstr in catalog().items() if ":" in TIME.sub("", msgstr)}
    assert offending == {}, "use the Chinese colon ：" + "".join(f"\n{k!r} → {v!r}" for k, v in offending.items())


def test_dates_in_chinese_sentences_have_no_spaces_around_them() -> None:
    dates = date_parameters()
    assert "day" in dates["To be concluded by: {day}"]  # the scan finds what the code formats
    offending = {}
    for msgid, msgstr in catalog().items():
        for name in ALWAYS_DATES | dates.get(msgid, set()):
            spaced = rf"{CJK}\s+\{{{name}\}}|\{{{name}\}}\s+{CJK}"
            if re.search(spaced, msgstr):
                offending[msgid] = msgstr
    assert offending == {}, "no spaces around a date" + "".join(f"\n{k!r} → {v!r}" for k, v in offending.items())


def test_the_regulation_is_cited_by_its_title() -> None:
    """Every article cited in Chinese is cited with the regulation's title; no English message says "seed"."""
    for msgid, msgstr in catalog().items():
        assert "seed" not in msgid.lower(), msgid
        if re.search(r"第[一二三四五六七八九十]+条", msgstr):
            assert "《{regulation}》第" in msgstr, msgstr
        if "§" in msgid or "Article" in msgid:
            assert "{regulation}" in msgid, msgid


# -- the words in the dialogues ------------------------------------------------------------------------------------

REGULATION = "《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》"


async def submit(deputy: User, kind: str, subject: str, referred: bool) -> str:
    await deputy.say("/submit")
    await deputy.press(kind)
    await deputy.say(subject)
    await deputy.say("具体情况如下。")
    await deputy.press("完成")
    confirm = await deputy.press("无附件")
    if referred:
        await deputy.say("张三")
        confirm = await deputy.say("13900001111")
    assert "无附件" in [s for s in confirm if s.op == "message"][-1].text.splitlines()  # not "附件：0 个"
    await deputy.press("确认提交")
    return deputy.last


async def test_a_deputy_refers_a_citizens_report_and_raises_their_own_suggestion(harness: Harness) -> None:
    """SPEC §10: 转交 for referred cases (举报/控告/申诉), 提出 only for the deputy's own suggestions and opinions."""
    cast = Cast(harness)
    await cast.setup()
    receipt = await submit(cast.deputy, "举报", "邻居被骗十万元", referred=True)
    assert receipt.splitlines()[1] == "感谢您的监督，您转交的举报已登记。"
    assert cast.office.last == "新事项\n新举报 LS-2026-0001，转交人：王建国代表，事由：邻居被骗十万元"
    card = (await cast.office.say("/case LS-2026-0001"))[0].text
    assert "转交人：王建国代表" in card and "提出人" not in card
    receipt = await submit(cast.deputy, "建议", "关于乡村道路安全", referred=False)
    assert receipt.splitlines()[1] == "感谢您的监督，您提出的建议已登记。"
    assert cast.office.last == "新事项\n新建议 LS-2026-0002，提出人：王建国代表，事由：关于乡村道路安全"
    await cast.assign("LS-2026-0002")
    assert cast.deputy.last == "进展\n您提出的建议（LS-2026-0002）已交由第二检察部承办，正在办理中。"


async def test_a_transfer_tells_the_deputy_which_authority_why_and_what_next(harness: Harness) -> None:
    """§12 "receive first, explain, then transfer", in words a deputy reads as courteous; thanks said once."""
    cast = Cast(harness)
    await cast.setup()
    await cast.submit_appeal()
    await cast.office.say("/case LS-2026-0001")
    await cast.office.press("移送")
    await cast.office.say("卢氏县公安局")
    await cast.office.say("该案系治安案件，依法由公安机关管辖，本院无权处理。")
    await cast.office.press("确认")
    assert cast.deputy.last == (
        "已移送\n"
        "您转交的申诉（LS-2026-0001）本院已收悉。经审查，该事项属于卢氏县公安局的管辖范围，不属于本院管辖，本院已"
        "先行接收并向您说明情况，现将其移送卢氏县公安局依法处理。具体说明如下：\n\n"
        "该案系治安案件，依法由公安机关管辖，本院无权处理。\n\n"
        "如需了解后续办理情况，您可以与卢氏县公安局联系，也可以与本院办公室联系。感谢您对检察工作的监督和支持。")


async def test_staff_notices_name_the_deputy_and_cite_the_regulation_by_title(harness: Harness) -> None:
    """§14: 不满意 reopens the matter; the office and discipline inspection hear who, and under which rule."""
    cast = await Cast.replied(harness)
    assert cast.handler2.last.endswith("LS-2026-0001 的答复已审批通过，并已发送给王建国代表。")
    await cast.deputy.press("不满意")
    await cast.deputy.say("答复没有回应我提出的问题。")
    for staff in (cast.office, cast.discipline):
        assert staff.last.splitlines()[:3] == [
            "不满意", f"王建国代表对 LS-2026-0001 的答复不满意。根据{REGULATION}第十四条，该事项已重新启动，须重新办理。",
            "其意见：答复没有回应我提出的问题。"]


async def test_the_staff_timeline_uses_chinese_punctuation(harness: Harness) -> None:
    cast = await Cast.assigned(harness)
    await cast.handler2.say("/case LS-2026-0001")
    await cast.handler2.press("进展")
    await cast.handler2.say("已调阅案卷，正在审查。")
    await cast.handler2.press("是，发送")
    card = (await cast.office.say("/case LS-2026-0001"))[0].text
    assert "进展情况通报：已调阅案卷，正在审查。" in card
    assert ":" not in TIME.sub("", card)


async def test_department_names_read_naturally_in_english(tmp_path: Path, clock: MovableClock) -> None:
    """[terms.english_names]: an English sentence shows the department's Chinese name and its English name."""
    config = fakes.test_config(tmp_path, terms=Terms(english_names={"第二检察部": "Second Procuratorial Department"}))
    app = clock.pace(await App.open(config, clock))
    try:
        channel = RecordingChannel(app.files)
        app.add_channel(channel)
        harness = Harness(app, channel, clock)
        cast = Cast(harness)
        await cast.setup()
        await cast.submit_appeal()
        await cast.deputy.say("/lang")
        await cast.deputy.press("English")
        await cast.assign()
        assert cast.deputy.last == ("Progress\nThe appeal LS-2026-0001 you referred has been assigned to 第二检察部 "
                                    "(Second Procuratorial Department), and is being handled.")
        assert "已交由第二检察部承办" in cast.handler2.last  # the Chinese interface is unchanged
    finally:
        await app.close()


def test_every_timeline_event_the_code_records_has_words() -> None:
    """No internal code on a timeline: each event name written by the code has its label in both languages."""
    from bot.matter.states import Happened
    from handlers.labels import EVENT_LABELS

    written: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and len(node.args) >= 3:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                event = node.args[2]
                choices = [event.body, event.orelse] if isinstance(event, ast.IfExp) else [event]
                if name in ("_record", "record_event", "add_event"):
                    written |= {c.value for c in choices if isinstance(c, ast.Constant) and isinstance(c.value, str)}
                    written |= {Happened[c.attr].value for c in choices  # the transitions' events: bot/matter/states.py
                                if isinstance(c, ast.Attribute) and isinstance(c.value, ast.Name) and c.value.id == "Happened"}
    assert {"registered", "transferred", "progress_public", "onsite"} <= written
    assert written - set(EVENT_LABELS) == set()
    assert all(catalog().get(EVENT_LABELS[e]) for e in written)
