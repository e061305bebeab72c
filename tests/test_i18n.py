"""SPEC §8, §10: every user-visible string in the catalogs, Chinese by default, dates by Babel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, Terms, Translator, locale_for

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "UserError": None, "PermissionDeniedError": None, "NotFoundError": None,
            "StaleActionError": None, "of": (3,)}
PLACEHOLDER = re.compile(r"\{(/?\w+)\}")  # {number}, and a command a person types, {/my}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog() -> dict[str, str]:
    with (LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}  # type: ignore[misc]


def test_every_string_in_the_code_has_a_chinese_translation() -> None:
    zh = catalog()
    missing = sorted(m for m in source_messages() if not zh.get(m))
    assert missing == [], "untranslated (see README, Translations): " + "\n".join(missing)


def test_translations_keep_the_placeholders_of_their_source() -> None:
    for msgid, msgstr in catalog().items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def test_the_chinese_interface_shows_no_english_words() -> None:
    allowed = {"submit", "my", "lang", "cancel", "help", "inbox", "case", "overview", "MB", "LS", "A", "B", "C", "D"}  # commands, a number, outcome classes
    for msgid, msgstr in catalog().items():
        text = PLACEHOLDER.sub("", msgstr)
        words = set(re.findall(r"[A-Za-z]+", text)) - allowed
        assert not words, f"{msgid!r} → {msgstr!r} shows {words}"


def test_a_command_is_named_by_its_words_where_members_type_words() -> None:
    """On WeCom (`ChannelTraits.words`) a Chinese message names a command by the words the channel takes
    ("我的"), set into the sentence without the spaces "/my" needs; elsewhere, and in English, it stays "/my"."""
    follow = "We will tell you of its progress and reply here. Send {/my} to follow it."
    assert Translator("zh_Hans", SHANGHAI, words=True)(follow) == "办理进展和答复将在此告知您。发送“我的”可随时查看。"
    assert Translator("zh_Hans", SHANGHAI)(follow) == "办理进展和答复将在此告知您。发送 /my 可随时查看。"
    assert Translator("en", SHANGHAI, words=True)(follow) == \
        "We will tell you of its progress and reply here. Send /my to follow it."
    zh = Translator("zh_Hans", SHANGHAI, words=True)
    assert zh("{/submit} — submit a suggestion, criticism or opinion, or refer a report, accusation or appeal") \
        == "“提交” — 提出建议、批评、意见，或转交举报、控告、申诉"
    assert zh("You have not finished {what}. Please finish it first, or send {/cancel} to leave it.",
              what="提交事项") == "您还有一项操作尚未完成：提交事项。请先完成，或发送“取消”退出。"
    assert zh("Unknown command. Send {/help} to see what you can do.") == "无法识别该命令。发送“帮助”查看可用功能。"
    assert zh.command("events") == "“活动”" and Translator("zh_Hans", SHANGHAI).command("events") == "/events"


def test_the_words_messages_name_are_the_words_the_wecom_channel_takes() -> None:
    from bot.channels.wecom_text import parse_command
    from bot.messages import TYPED_WORDS

    for command, word in TYPED_WORDS.items():
        assert parse_command(word) == (command, ""), word


@pytest.mark.parametrize(
    ("code", "locale"),
    [("zh-hans", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh", "zh_Hans"), ("zh-hant", "zh_Hans"),
     ("en", "en"), ("en-US", "en"), ("en_GB", "en"), ("ru", "zh_Hans"), (None, "zh_Hans"), ("", "zh_Hans")],
)
def test_telegram_language_codes_map_to_a_locale(code: str | None, locale: str) -> None:
    assert locale_for(code, "zh_Hans") == locale


def test_dates_and_times_in_the_units_time_zone() -> None:
    zh, en = Translator("zh_Hans", SHANGHAI), Translator("en", SHANGHAI)
    assert zh.date(date(2026, 11, 28)) == "2026年11月28日"
    assert zh.datetime(datetime(2026, 11, 28, 1, 30, tzinfo=UTC)) == "2026年11月28日 09:30"
    assert en.datetime(datetime(2026, 11, 28, 1, 30, tzinfo=UTC)) == "November 28, 2026 09:30"
    assert zh("Number: {number}", number="LS-2026-0001") == "编号：LS-2026-0001"
    assert en("Number: {number}", number="LS-2026-0001") == "Number: LS-2026-0001"


def test_configured_english_names_follow_the_chinese_name_in_english_only() -> None:
    """SPEC §10: a department named in an English sentence reads naturally; the Chinese interface is unchanged."""
    terms = Terms(english_names={"第二检察部": "Second Procuratorial Department"})
    en, zh = Translator("en", SHANGHAI, terms), Translator("zh_Hans", SHANGHAI, terms)
    msgid = "Your {kind} {number} has been assigned to {department}, and is being handled."
    assert en(msgid, kind="suggestion", number="LS-2026-0001", department="第二检察部") == (
        "Your suggestion LS-2026-0001 has been assigned to 第二检察部 (Second Procuratorial Department), and is being "
        "handled.")
    assert "交由第二检察部承办" in zh(msgid, kind="建议", number="LS-2026-0001", department="第二检察部")
    assert en(msgid, kind="suggestion", number="LS-2026-0002", department="第一检察部").count("第一检察部") == 1


def test_the_regulation_is_cited_by_its_configured_title_in_each_language() -> None:
    terms = Terms(regulation="某县检察院联络工作办法", regulation_en="Liaison Measures of X County")
    assert Translator("zh_Hans", SHANGHAI, terms).regulation == "某县检察院联络工作办法"
    assert Translator("en", SHANGHAI, terms).regulation == "Liaison Measures of X County"
    assert Translator("zh_Hans", SHANGHAI).regulation == "卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）"
