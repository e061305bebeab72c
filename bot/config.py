"""Configuration: a TOML file read into frozen dataclasses, validated once at start-up.

Every key is documented in config.example.toml. A bad value raises ConfigError naming
the key (`telegram.poll_timeout: must be a whole number from 1 to 50`), and the command
line prints that one line and stops. The Telegram token may come from the environment
(LIAISON_TELEGRAM_TOKEN) so that it never has to be written in a file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import KINDS
from bot.errors import ConfigError
from bot.i18n import REGULATION, REGULATION_EN, Terms
from bot.toml_values import TomlReader
from bot.workdays import MAINLAND, Calendar, parse_hours
from storage.url import is_postgres, redacted

TOKEN_ENV = "LIAISON_TELEGRAM_TOKEN"
WECOM_SECRET_ENV = "LIAISON_WECOM_SECRET"
DATABASE_URL_ENV = "LIAISON_DATABASE_URL"  # database.url, password and all: a URL with a password only here
DATA_KEY_ENV = "LIAISON_DATA_KEY"  # the data key(s) themselves, instead of storage.key_file (bot/data_key.py)
LOCALES = ("zh_Hans", "en")


@dataclass(frozen=True)
class UnitConfig:
    name: str = "卢氏县人民检察院"
    timezone: str = "Asia/Shanghai"
    matter_prefix: str = "LS"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class StorageConfig:
    database: Path = Path("data/liaison.db")
    files_dir: Path = Path("data/files")
    keep_messages_days: int = 30
    keep_dialogs_days: int = 30
    key_file: Path = Path("liaison.key")  # the data key (bot/data_key.py): outside the data folder and its backups
    keep_complainant_days: int = 0  # after a referred case is closed; 0: as long as the matter


@dataclass(frozen=True)
class DatabaseConfig:
    """`database.url`: "postgresql://..." (storage/pg.py); "": SQLite, in the file `storage.database`."""

    url: str = field(default="", repr=False)  # may hold a password when it came from the environment
    # PostgreSQL, several bot processes: how often one standing by tries to take over (storage/pg.py `lead`)
    takeover_seconds: float = 5.0


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(default="", repr=False)  # a secret: never in a repr, so never in a log
    bot_username: str = "LiaisonBot"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = 30
    request_timeout: float = 10.0


@dataclass(frozen=True)
class WeComConfig:
    """WeCom 企业微信 / 政务微信: a self-built app (自建应用). Off while `corp_id` is empty.

    The secret comes from the environment (LIAISON_WECOM_SECRET) only; token and key are the app's
    "接收消息" settings. `api_base` is WeCom's, 政务微信's or a private deployment's address (every
    request goes there, token requests included)."""

    corp_id: str = ""
    agent_id: int = 0
    secret: str = field(default="", repr=False)  # from the environment only: never in a repr or a log
    token: str = field(default="", repr=False)
    encoding_aes_key: str = field(default="", repr=False)
    api_base: str = "https://qyapi.weixin.qq.com"
    callback_host: str = "127.0.0.1"
    callback_port: int = 8080
    callback_path: str = "/wecom"
    request_timeout: float = 10.0
    max_clock_skew: int = 300
    representatives: str = "text"  # how choices are shown: "text" (numbered) or "cards"
    staff: str = "cards"
    global_rate: float = 25.0  # messages a second to all members (90454 sets no limit on message/send)
    # The public address of the callback server (its HTTPS proxy's, on a domain the app trusts for 网页授权): set, an
    # invite also comes as a link that binds the member who opens it in WeCom (91022 网页授权, 91023 getuserinfo).
    public_url: str = ""
    oauth_base: str = "https://open.weixin.qq.com"  # where WeCom's 网页授权 link points (政务微信: its own)

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id)


@dataclass(frozen=True)
class BindingConfig:
    invite_ttl_days: int = 14
    require_phone: bool = False


@dataclass(frozen=True)
class IntakeConfig:
    max_subject_chars: int = 100
    max_text_chars: int = 10000
    max_attachments: int = 10
    max_file_mb: int = 20
    # What one chat may send (issue 15 item 4): updates and MB of files a minute; 0: no limit. Staff are not
    # limited (a clerk working through the inbox presses fast, and is accountable by the audit log).
    max_messages_per_minute: int = 30
    max_mb_per_minute: int = 50
    due_months: dict[str, int] = field(default_factory=lambda: {k: 3 for k in KINDS})


@dataclass(frozen=True)
class CaseworkConfig:
    min_reply_chars: int = 80
    min_outcome_chars: int = 20
    min_grounds_chars: int = 10
    leader_approves_major: bool = True
    extension_approver: str = "office"
    extension_cap_months: int = 6
    reopen_months: int = 1


@dataclass(frozen=True)
class SupervisionConfig:
    tick_minutes: int = 10
    working_hours: str = "08:30-18:00"
    due_soon_days: tuple[int, ...] = (30, 14, 7, 3)
    urge_every_days: int = 7
    stale_days: int = 14
    major_notice_days: int = 7
    bulletin_day: int = 1
    rerate_days: int = 10

    @property
    def hours(self) -> tuple[time, time]:
        return parse_hours(self.working_hours)


@dataclass(frozen=True)
class DigestConfig:
    """The leadership digest (SPEC §7): weekly on this ISO weekday, monthly on this day of the month."""

    weekly_day: int = 1  # 1 = Monday ... 7 = Sunday
    monthly_day: int = 1


# The sectors 界别 of the CPPCC, in the order the CPPCC lists them (a county's committee has some of them,
# in this order). Each entry is the name on the roster; "民盟|中国民主同盟" accepts either spelling.
CPPCC_SECTORS: Final = (
    "中共|中国共产党", "民革|中国国民党革命委员会", "民盟|中国民主同盟", "民建|中国民主建国会", "民进|中国民主促进会",
    "农工党|中国农工民主党", "致公党|中国致公党", "九三学社", "台盟|台湾民主自治同盟", "无党派人士|无党派",
    "共青团|中国共产主义青年团", "工会|总工会|中华全国总工会", "妇联|妇女联合会|中华全国妇女联合会",
    "青联|青年联合会|中华全国青年联合会", "工商联|工商业联合会|中华全国工商业联合会", "科协|科学技术协会|中国科学技术协会",
    "台联|中华全国台湾同胞联谊会", "侨联|归国华侨联合会|中华全国归国华侨联合会", "文化艺术界", "科学技术界|科技界",
    "社会科学界|社科界", "经济界", "农业界", "教育界", "体育界", "新闻出版界|新闻出版", "医药卫生界",
    "对外友好界", "社会福利和社会保障界|社会福利与社会保障界|社会福利", "少数民族界|少数民族", "宗教界",
    "环境资源界", "特邀人士|特邀|特别邀请人士",
)


@dataclass(frozen=True)
class ReportConfig:
    """What the papers to the higher procuratorate carry (GB/T 9704): the addressee, the document number
    with its serial left for the office to fill, the signer, and the order of the CPPCC's sectors."""

    addressee: str = "三门峡市人民检察院"  # 主送机关 (seed: the higher procuratorate is Sanmenxia's)
    document_number: str = "卢检〔{year}〕　号"  # 发文字号; {year} is the year it is drawn
    signer: str = ""  # 签发人: empty leaves a blank to sign by hand
    sectors: tuple[str, ...] = CPPCC_SECTORS
    copy_to: str = ""  # 抄送机关 in the 版记: empty prints none
    issuer: str = ""  # 印发机关 in the 版记: empty is the unit's office ({unit}办公室)

    def number(self, year: int) -> str:
        return self.document_number.replace("{year}", str(year))


@dataclass(frozen=True)
class CardsConfig:
    """Opinion cards 征求意见卡 (seed §5): the office is reminded of non-respondents this many days after sending."""

    remind_after_days: int = 7


@dataclass(frozen=True)
class OutboxConfig:
    global_rate: float = 25.0
    per_chat_interval: float = 1.0
    max_attempts: int = 8


@dataclass(frozen=True)
class Config:
    unit: UnitConfig = UnitConfig()
    storage: StorageConfig = StorageConfig()
    telegram: TelegramConfig = TelegramConfig()
    binding: BindingConfig = BindingConfig()
    intake: IntakeConfig = IntakeConfig()
    outbox: OutboxConfig = OutboxConfig()
    casework: CaseworkConfig = CaseworkConfig()
    supervision: SupervisionConfig = SupervisionConfig()
    default_locale: str = "zh_Hans"
    demo: bool = True  # the console channel seeds a small demo roster into an empty database
    digest: DigestConfig = DigestConfig()
    cards: CardsConfig = CardsConfig()
    calendar: Calendar = MAINLAND
    wecom: WeComConfig = WeComConfig()
    terms: Terms = Terms()  # the regulation's title and the English names of Chinese ones (bot/i18n.py)
    report: ReportConfig = ReportConfig()
    database: DatabaseConfig = DatabaseConfig()

    @property
    def database_engine(self) -> Path | str:
        """What `storage.db.Database.open` opens: the PostgreSQL URL, or the SQLite file."""
        return self.database.url or self.storage.database

    @property
    def database_shown(self) -> str:
        """The database as logs and messages may name it: the file, or the URL without its password."""
        return redacted(self.database.url) if self.database.url else str(self.storage.database)


def load(path: Path | None, *, environ: dict[str, str] | None = None) -> Config:
    """Read and validate the file at `path` (None: defaults only), then the environment."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text("utf-8-sig"))  # Windows editors add a byte-order mark
        except FileNotFoundError:
            raise ConfigError(str(path), "file not found") from None
        except UnicodeDecodeError:
            raise ConfigError(str(path), "not UTF-8 text; save the file as UTF-8") from None
        except OSError as exc:
            raise ConfigError(str(path), f"cannot be read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"not valid TOML ({exc})") from None
    base = path.parent if path is not None else Path.cwd()
    return _build(raw, base, env)


def _build(raw: dict[str, Any], base: Path, env: os._Environ[str] | dict[str, str]) -> Config:
    """The configuration from a parsed file: each section read and checked by its own function, in the order
    of the file, then any key nobody read refused."""
    r = TomlReader(raw)
    sqlite_file, url = _database_url(r, base, env)
    unit, storage, telegram = _unit(r), _storage(r, base, sqlite_file), _telegram(r, env)
    binding, intake, outbox, casework = _binding(r), _intake(r), _outbox(r), _casework(r)
    supervision, locale, digest, cards = _supervision(r), _locale(r), _digest(r), _cards(r)
    report, calendar, terms = _report(r), _calendar(r), _terms(r)
    config = Config(unit, storage, telegram, binding, intake, outbox, casework, supervision, locale,
                    r.boolean("console.demo", True), digest=digest, cards=cards, calendar=calendar,
                    wecom=_wecom(r, env), terms=terms, report=report,
                    database=DatabaseConfig(url, r.number("database.takeover_seconds", DatabaseConfig.takeover_seconds,
                                                          0.5, 300)))
    r.reject_unknown()
    return config


def _unit(r: TomlReader) -> UnitConfig:
    unit = UnitConfig(
        name=r.text("unit.name", UnitConfig.name, max_len=100),
        timezone=r.text("unit.timezone", UnitConfig.timezone),
        matter_prefix=r.text("unit.matter_prefix", UnitConfig.matter_prefix, max_len=10, pattern="A-Z0-9"),
    )
    try:
        ZoneInfo(unit.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("unit.timezone", f"unknown time zone {unit.timezone!r}") from None
    return unit


def _database_url(r: TomlReader, base: Path, env: os._Environ[str] | dict[str, str]) -> tuple[Path | None, str]:
    """`database.url` (or the environment's): a SQLite file (`sqlite:///relative/path`, `sqlite:////absolute`)
    or a PostgreSQL URL. A password only ever comes from the environment (PGPASSWORD, or this whole URL in
    LIAISON_DATABASE_URL), never from the file, which is copied and shown."""
    url, key = r.text("database.url", ""), "database.url"
    if env.get(DATABASE_URL_ENV, "").strip():
        url, key = env[DATABASE_URL_ENV].strip(), DATABASE_URL_ENV
    if not url:
        return None, ""
    if url.startswith("sqlite:///"):
        return base / url.removeprefix("sqlite:///"), ""
    if not is_postgres(url):
        raise ConfigError(key, "expected sqlite:///path or postgresql://user@host:port/database")
    if key == "database.url" and urlsplit(url).password is not None:
        raise ConfigError(key, f"holds a password: put it in PGPASSWORD (or the whole URL in {DATABASE_URL_ENV})")
    return None, url


def _storage(r: TomlReader, base: Path, sqlite_file: Path | None) -> StorageConfig:
    storage = StorageConfig(
        database=sqlite_file or base / r.text("storage.database", str(StorageConfig.database)),
        files_dir=base / r.text("storage.files_dir", str(StorageConfig.files_dir)),
        keep_messages_days=r.integer("storage.keep_messages_days", StorageConfig.keep_messages_days, 3, 3650),
        keep_dialogs_days=r.integer("storage.keep_dialogs_days", StorageConfig.keep_dialogs_days, 7, 3650),
        key_file=base / r.text("storage.key_file", str(StorageConfig.key_file)),
        keep_complainant_days=r.integer("storage.keep_complainant_days", StorageConfig.keep_complainant_days, 0,
                                        36500),
    )
    return storage


def _telegram(r: TomlReader, env: os._Environ[str] | dict[str, str]) -> TelegramConfig:
    token, token_key = r.text("telegram.token", ""), "telegram.token"
    if env.get(TOKEN_ENV, "").strip():
        token, token_key = env[TOKEN_ENV].strip(), TOKEN_ENV
    telegram = TelegramConfig(
        token=token,
        bot_username=r.text("telegram.bot_username", TelegramConfig.bot_username, max_len=32),
        base_url=r.text("telegram.base_url", TelegramConfig.base_url),
        base_file_url=r.text("telegram.base_file_url", TelegramConfig.base_file_url),
        poll_timeout=r.integer("telegram.poll_timeout", TelegramConfig.poll_timeout, 1, 50),
        request_timeout=r.number("telegram.request_timeout", TelegramConfig.request_timeout, 1, 120),
    )
    if token and ":" not in token:
        raise ConfigError(token_key, "does not look like a bot token (expected digits:letters)")
    return telegram


def _binding(r: TomlReader) -> BindingConfig:
    binding = BindingConfig(
        invite_ttl_days=r.integer("binding.invite_ttl_days", BindingConfig.invite_ttl_days, 1, 365),
        require_phone=r.boolean("binding.require_phone", BindingConfig.require_phone),
    )
    return binding


def _intake(r: TomlReader) -> IntakeConfig:
    due = {k: r.integer(f"intake.due_months.{k}", 3, 1, 12) for k in KINDS}
    intake = IntakeConfig(
        max_subject_chars=r.integer("intake.max_subject_chars", IntakeConfig.max_subject_chars, 10, 500),
        max_text_chars=r.integer("intake.max_text_chars", IntakeConfig.max_text_chars, 100, 200000),
        max_attachments=r.integer("intake.max_attachments", IntakeConfig.max_attachments, 0, 50),
        max_file_mb=r.integer("intake.max_file_mb", IntakeConfig.max_file_mb, 1, 20),
        max_messages_per_minute=r.integer("intake.max_messages_per_minute", IntakeConfig.max_messages_per_minute,
                                          0, 1000),
        max_mb_per_minute=r.integer("intake.max_mb_per_minute", IntakeConfig.max_mb_per_minute, 0, 10000),
        due_months=due,
    )
    return intake


def _outbox(r: TomlReader) -> OutboxConfig:
    outbox = OutboxConfig(
        global_rate=r.number("outbox.global_rate", OutboxConfig.global_rate, 0.1, 30),
        per_chat_interval=r.number("outbox.per_chat_interval", OutboxConfig.per_chat_interval, 0, 60),
        max_attempts=r.integer("outbox.max_attempts", OutboxConfig.max_attempts, 1, 100),
    )
    return outbox


def _casework(r: TomlReader) -> CaseworkConfig:
    casework = CaseworkConfig(
        min_reply_chars=r.integer("casework.min_reply_chars", CaseworkConfig.min_reply_chars, 10, 2000),
        min_outcome_chars=r.integer("casework.min_outcome_chars", CaseworkConfig.min_outcome_chars, 1, 2000),
        min_grounds_chars=r.integer("casework.min_grounds_chars", CaseworkConfig.min_grounds_chars, 1, 2000),
        leader_approves_major=r.boolean("casework.leader_approves_major", CaseworkConfig.leader_approves_major),
        extension_approver=r.text("casework.extension_approver", CaseworkConfig.extension_approver),
        extension_cap_months=r.integer("casework.extension_cap_months", CaseworkConfig.extension_cap_months, 1, 24),
        reopen_months=r.integer("casework.reopen_months", CaseworkConfig.reopen_months, 1, 12),
    )
    if casework.extension_approver not in ("office", "leader"):
        raise ConfigError("casework.extension_approver", "must be office or leader")
    return casework


def _supervision(r: TomlReader) -> SupervisionConfig:
    supervision = SupervisionConfig(
        tick_minutes=r.integer("supervision.tick_minutes", SupervisionConfig.tick_minutes, 1, 60),
        working_hours=r.text("supervision.working_hours", SupervisionConfig.working_hours),
        due_soon_days=r.days("supervision.due_soon_days", SupervisionConfig.due_soon_days),
        urge_every_days=r.integer("supervision.urge_every_days", SupervisionConfig.urge_every_days, 1, 90),
        stale_days=r.integer("supervision.stale_days", SupervisionConfig.stale_days, 1, 365),
        major_notice_days=r.integer("supervision.major_notice_days", SupervisionConfig.major_notice_days, 1, 60),
        bulletin_day=r.integer("supervision.bulletin_day", SupervisionConfig.bulletin_day, 1, 28),
        rerate_days=r.integer("supervision.rerate_days", SupervisionConfig.rerate_days, 1, 60),
    )
    try:
        supervision.hours
    except ValueError:
        raise ConfigError("supervision.working_hours", "must be like 08:30-18:00") from None
    return supervision


def _locale(r: TomlReader) -> str:
    locale = r.text("i18n.default_locale", "zh_Hans")
    if locale not in LOCALES:
        raise ConfigError("i18n.default_locale", f"must be one of {', '.join(LOCALES)}")
    return locale


def _digest(r: TomlReader) -> DigestConfig:
    digest = DigestConfig(
        weekly_day=r.integer("digest.weekly_day", DigestConfig.weekly_day, 1, 7),
        monthly_day=r.integer("digest.monthly_day", DigestConfig.monthly_day, 1, 28),
    )
    return digest


def _cards(r: TomlReader) -> CardsConfig:
    cards = CardsConfig(
        remind_after_days=r.integer("cards.remind_after_days", CardsConfig.remind_after_days, 1, 90),
    )
    return cards


def _report(r: TomlReader) -> ReportConfig:
    report = ReportConfig(
        addressee=r.text("report.addressee", ReportConfig.addressee, max_len=60, blank=True),
        document_number=r.text("report.document_number", ReportConfig.document_number, max_len=40, blank=True),
        signer=r.text("report.signer", ReportConfig.signer, max_len=20, blank=True),
        sectors=r.texts("report.sectors", ReportConfig.sectors),
        copy_to=r.text("report.copy_to", ReportConfig.copy_to, max_len=120, blank=True),
        issuer=r.text("report.issuer", ReportConfig.issuer, max_len=40, blank=True),
    )
    return report


def _calendar(r: TomlReader) -> Calendar:
    calendar = Calendar(r.dates("calendar.holidays"), r.dates("calendar.workdays"))
    if both := sorted(calendar.holidays & calendar.workdays):
        raise ConfigError("calendar.workdays", f"{both[0].isoformat()} is also listed in calendar.holidays")
    return calendar


def _terms(r: TomlReader) -> Terms:
    terms = Terms(
        regulation=r.text("terms.regulation", REGULATION, max_len=200),
        regulation_en=r.text("terms.regulation_en", REGULATION_EN, max_len=300),
        english_names=r.names("terms.english_names"),
    )
    return terms


def _wecom(r: TomlReader, env: os._Environ[str] | dict[str, str]) -> WeComConfig:
    d = WeComConfig
    if r.text("wecom.secret", "", max_len=200):
        raise ConfigError("wecom.secret", f"must not be written in the file; set the environment variable "
                                          f"{WECOM_SECRET_ENV} instead")
    config = WeComConfig(
        corp_id=r.text("wecom.corp_id", d.corp_id, max_len=64),
        agent_id=r.integer("wecom.agent_id", d.agent_id, 0, 2**31 - 1),
        secret=env.get(WECOM_SECRET_ENV, "").strip(),
        token=r.text("wecom.token", d.token, max_len=32),
        encoding_aes_key=r.text("wecom.encoding_aes_key", d.encoding_aes_key, max_len=43),
        api_base=r.text("wecom.api_base", d.api_base).rstrip("/"),
        callback_host=r.text("wecom.callback_host", d.callback_host, max_len=100),
        callback_port=r.integer("wecom.callback_port", d.callback_port, 0, 65535),
        callback_path=r.text("wecom.callback_path", d.callback_path, max_len=100),
        request_timeout=r.number("wecom.request_timeout", d.request_timeout, 1, 120),
        max_clock_skew=r.integer("wecom.max_clock_skew", d.max_clock_skew, 30, 3600),
        representatives=r.text("wecom.representatives", d.representatives),
        staff=r.text("wecom.staff", d.staff),
        global_rate=r.number("wecom.global_rate", d.global_rate, 0.1, 150),
        public_url=r.text("wecom.public_url", d.public_url, max_len=200).rstrip("/"),
        oauth_base=r.text("wecom.oauth_base", d.oauth_base, max_len=200).rstrip("/"),
    )
    for key in ("representatives", "staff"):
        if getattr(config, key) not in ("text", "cards"):
            raise ConfigError(f"wecom.{key}", "must be text or cards")
    if not config.api_base.startswith(("https://", "http://")):
        raise ConfigError("wecom.api_base", "must be an http(s) address, e.g. https://qyapi.weixin.qq.com")
    if not config.callback_path.startswith("/"):
        raise ConfigError("wecom.callback_path", "must start with /")
    for key, example in (("public_url", "https://liaison.example.gov.cn"), ("oauth_base", "https://open.weixin.qq.com")):
        value = getattr(config, key)
        # https: WeCom's one-time code (and the invite) travel in this address; plain http only on this machine
        local = value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if value and (not (value.startswith("https://") or local) or "?" in value or "#" in value):
            raise ConfigError(f"wecom.{key}", f"must be an https address without a query, e.g. {example}")
    if not config.enabled:
        return config
    if not config.corp_id.isascii() or not config.corp_id.isalnum():
        raise ConfigError("wecom.corp_id", "must be the CorpID (letters and digits, e.g. ww1436e0e65a779aee)")
    if config.agent_id < 1:
        raise ConfigError("wecom.agent_id", "must be the app's AgentId (a whole number, e.g. 1000002)")
    if not config.secret:
        raise ConfigError(WECOM_SECRET_ENV, "not set: the WeCom app's Secret comes from this environment variable")
    if not (3 <= len(config.token) <= 32 and config.token.isascii() and config.token.isalnum()):
        raise ConfigError("wecom.token", "must be the app's Token: 3 to 32 letters or digits")
    from bot.channels.wecom_crypto import decode_key  # the key's format is the crypto's business

    try:
        decode_key(config.encoding_aes_key)
    except ValueError as exc:
        raise ConfigError("wecom.encoding_aes_key", str(exc)) from None
    return config
