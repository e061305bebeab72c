"""SPEC §8: `bot.config.load` reads the TOML configuration, and a bad one names the key.

config.example.toml is the documentation of every key, so it is tested as data: it must
load, it must hold exactly the defaults, and it must mention every key the loader reads.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import TOKEN_ENV, Config, StorageConfig, load
from bot.domain import KINDS
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.toml"

# The two top-level fields of Config and the TOML keys that fill them; every other field of
# Config is a section whose dataclass fields are the section's keys.
TOP_LEVEL_KEYS = {"default_locale": "i18n.default_locale", "demo": "console.demo"}


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def flatten(table: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted names of every leaf key of a parsed TOML document."""
    keys: set[str] = set()
    for name, value in table.items():
        if isinstance(value, dict):
            keys |= flatten(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def keys_of_config() -> set[str]:
    """Every TOML key `load` fills, derived from the dataclasses in bot/config.py."""
    keys: set[str] = set()
    for section in dataclasses.fields(Config):
        default = section.default
        if not dataclasses.is_dataclass(default):
            keys.add(TOP_LEVEL_KEYS[section.name])  # a new top-level field fails here until mapped
            continue
        for item in dataclasses.fields(default):
            value = getattr(default, item.name)
            if isinstance(value, dict):
                keys |= {f"{section.name}.{item.name}.{k}" for k in value}
            else:
                keys.add(f"{section.name}.{item.name}")
    return keys


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ={} if environ is None else environ)
    return caught.value


# -- the example file ----------------------------------------------------------------------


def test_example_file_holds_exactly_the_defaults_except_paths() -> None:
    example = load(EXAMPLE, environ={})
    defaults = load(None, environ={})
    assert example.storage == StorageConfig(database=REPO / "data" / "liaison.db", files_dir=REPO / "data" / "files",
                                            key_file=REPO / "liaison.key")
    for section in dataclasses.fields(Config):
        if section.name != "storage":
            assert getattr(example, section.name) == getattr(defaults, section.name), section.name
    assert dataclasses.replace(example, storage=defaults.storage) == defaults
    # and load(None) is the dataclasses' own defaults, paths resolved against the working folder
    assert defaults == dataclasses.replace(
        Config(), storage=StorageConfig(database=Path.cwd() / "data" / "liaison.db",
                                        files_dir=Path.cwd() / "data" / "files", key_file=Path.cwd() / "liaison.key"))
    assert defaults.intake.due_months == {kind: 3 for kind in KINDS}
    assert defaults.telegram.token == ""
    assert defaults.default_locale == "zh_Hans"


def test_example_documents_every_key_the_loader_reads() -> None:
    documented = flatten(tomllib.loads(EXAMPLE.read_text("utf-8")))
    expected = keys_of_config()
    assert expected - documented == set(), "keys read but not documented in config.example.toml"
    assert documented - expected == set(), "keys documented but not read"
    assert {"telegram.poll_timeout", "intake.due_months.appeal", "i18n.default_locale", "console.demo"} <= documented


def test_every_documented_key_is_accepted_on_its_own(tmp_path: Path) -> None:
    """Each key of the example, written alone with its documented value, loads (none is 'unknown')."""
    raw = tomllib.loads(EXAMPLE.read_text("utf-8"))
    for key in sorted(flatten(raw)):
        *sections, name = key.split(".")
        node: Any = raw
        for part in key.split("."):
            node = node[part]
        value = ("true" if node else "false") if isinstance(node, bool) else json.dumps(node, ensure_ascii=False)
        config = load(write(tmp_path, f"[{'.'.join(sections)}]\n{name} = {value}\n", f"{key}.toml"), environ={})
        assert config == load(write(tmp_path, "", f"{key}.toml"), environ={}), key


# -- bad values name the key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        # wrong type
        ('[telegram]\npoll_timeout = "30"', "telegram.poll_timeout", "must be a whole number from 1 to 50"),
        ("[telegram]\npoll_timeout = 30.0", "telegram.poll_timeout", "must be a whole number from 1 to 50"),
        ("[telegram]\npoll_timeout = true", "telegram.poll_timeout", "must be a whole number from 1 to 50"),
        ('[telegram]\nrequest_timeout = "10"', "telegram.request_timeout", "must be a number from 1 to 120"),
        ("[outbox]\nglobal_rate = true", "outbox.global_rate", "must be a number from 0.1 to 30"),
        ('[binding]\nrequire_phone = "yes"', "binding.require_phone", "must be true or false"),
        ("[console]\ndemo = 1", "console.demo", "must be true or false"),
        ("[unit]\nname = 5", "unit.name", "must be a non-empty string"),
        ('[unit]\nname = "   "', "unit.name", "must be a non-empty string"),
        ("[storage]\ndatabase = []", "storage.database", "must be a non-empty string"),
        ('[intake.due_months]\nappeal = "3"', "intake.due_months.appeal", "must be a whole number from 1 to 12"),
        # out of range
        ("[telegram]\npoll_timeout = 0", "telegram.poll_timeout", "must be a whole number from 1 to 50"),
        ("[telegram]\npoll_timeout = 51", "telegram.poll_timeout", "must be a whole number from 1 to 50"),
        ("[telegram]\nrequest_timeout = 0.5", "telegram.request_timeout", "must be a number from 1 to 120"),
        ("[binding]\ninvite_ttl_days = 366", "binding.invite_ttl_days", "must be a whole number from 1 to 365"),
        ("[intake]\nmax_subject_chars = 9", "intake.max_subject_chars", "must be a whole number from 10 to 500"),
        ("[intake]\nmax_text_chars = 200001", "intake.max_text_chars",
         "must be a whole number from 100 to 200000"),
        ("[intake]\nmax_attachments = -1", "intake.max_attachments", "must be a whole number from 0 to 50"),
        ("[intake]\nmax_file_mb = 21", "intake.max_file_mb", "must be a whole number from 1 to 20"),
        ("[intake.due_months]\nsuggestion = 0", "intake.due_months.suggestion", "must be a whole number from 1 to 12"),
        ("[intake.due_months]\nappeal = 13", "intake.due_months.appeal", "must be a whole number from 1 to 12"),
        ("[outbox]\nglobal_rate = 31", "outbox.global_rate", "must be a number from 0.1 to 30"),
        ("[outbox]\nper_chat_interval = -1", "outbox.per_chat_interval", "must be a number from 0 to 60"),
        ("[outbox]\nmax_attempts = 0", "outbox.max_attempts", "must be a whole number from 1 to 100"),
        ("[outbox]\nglobal_rate = nan", "outbox.global_rate", "must be a number from 0.1 to 30"),
        ("[wecom]\nglobal_rate = 151", "wecom.global_rate", "must be a number from 0.1 to 150"),
        ("[wecom]\nglobal_rate = 0", "wecom.global_rate", "must be a number from 0.1 to 150"),
        (f'[unit]\nname = "{"检" * 101}"', "unit.name", "must be at most 100 characters"),
        (f'[telegram]\nbot_username = "{"b" * 33}"', "telegram.bot_username", "must be at most 32 characters"),
        # unknown time zone
        ('[unit]\ntimezone = "Mars/Olympus_Mons"', "unit.timezone", "unknown time zone 'Mars/Olympus_Mons'"),
        ('[unit]\ntimezone = "../../etc/passwd"', "unit.timezone", "unknown time zone '../../etc/passwd'"),
        ('[unit]\ntimezone = "Beijing"', "unit.timezone", "unknown time zone 'Beijing'"),
        # bad matter_prefix
        ('[unit]\nmatter_prefix = "L S"', "unit.matter_prefix", "must be letters, digits or '-'"),
        ('[unit]\nmatter_prefix = "卢氏"', "unit.matter_prefix", "must be letters, digits or '-'"),
        ('[unit]\nmatter_prefix = "LS/"', "unit.matter_prefix", "must be letters, digits or '-'"),
        ('[unit]\nmatter_prefix = "-"', "unit.matter_prefix", "must be letters, digits or '-'"),
        ('[unit]\nmatter_prefix = "ABCDEFGHIJK"', "unit.matter_prefix", "must be at most 10 characters"),
        ('[unit]\nmatter_prefix = ""', "unit.matter_prefix", "must be a non-empty string"),
        # unknown keys and sections
        ('[telegram]\ntokn = "x"', "telegram.tokn", "unknown key (see config.example.toml)"),
        ("[intake.due_months]\nappeals = 3", "intake.due_months.appeals", "unknown key (see config.example.toml)"),
        ('[telgram]\ntoken = "123:abc"', "telgram.token", "unknown key (see config.example.toml)"),
        ("debug = true", "debug", "unknown key (see config.example.toml)"),
        ('default_locale = "en"', "default_locale", "unknown key (see config.example.toml)"),
        # default locale
        ('[i18n]\ndefault_locale = "fr"', "i18n.default_locale", "must be one of zh_Hans, en"),
        ('[i18n]\ndefault_locale = "zh-Hans"', "i18n.default_locale", "must be one of zh_Hans, en"),
        # the calendar
        ('[calendar]\nholidays = "2027-01-01"', "calendar.holidays",
         'must be a list of dates, e.g. ["2027-01-01", "2027-02-06/2027-02-14"]'),
        ('[calendar]\nholidays = ["2027-02-30"]', "calendar.holidays",
         "'2027-02-30' is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)"),
        ('[calendar]\nholidays = [20270101]', "calendar.holidays",
         "20270101 is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)"),
        ('[calendar]\nworkdays = [2027-02-20T09:00:00]', "calendar.workdays",
         "datetime.datetime(2027, 2, 20, 9, 0) is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)"),
        ('[calendar]\nholidays = ["2027-02-08/"]', "calendar.holidays",
         "'2027-02-08/' is not a date (YYYY-MM-DD, or a range YYYY-MM-DD/YYYY-MM-DD)"),
        ('[calendar]\nholidays = ["2027-02-12/2027-02-08"]', "calendar.holidays",
         "'2027-02-12/2027-02-08': a range must go forward and span at most 31 days"),
        ('[calendar]\nholidays = ["2027-01-01/2027-12-31"]', "calendar.holidays",
         "'2027-01-01/2027-12-31': a range must go forward and span at most 31 days"),
        ('[calendar]\nholidays = ["2027-02-08/2027-02-12"]\nworkdays = ["2027-02-10"]', "calendar.workdays",
         "2027-02-10 is also listed in calendar.holidays"),
        # the terms
        ('[terms]\nenglish_names = "第二检察部"', "terms.english_names",
         'must be a table of names, e.g. "第二检察部" = "Second Procuratorial Department"'),
        ('[terms.english_names]\n"第二检察部" = 2', "terms.english_names",
         'must be a table of names, e.g. "第二检察部" = "Second Procuratorial Department"'),
        ('[terms]\nregulation = ""', "terms.regulation", "must be a non-empty string"),
        # a token without ':'
        ('[telegram]\ntoken = "123456abcdef"', "telegram.token",
         "does not look like a bot token (expected digits:letters)"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    error = error_of(tmp_path, text + "\n")
    assert (error.key, error.problem) == (key, message)
    assert str(error) == f"{key}: {message}"


def test_bad_token_error_does_not_show_the_token(tmp_path: Path) -> None:
    error = error_of(tmp_path, '[telegram]\ntoken = "SECRET-LOOKING-TOKEN"\n')
    assert error.key == "telegram.token"
    assert "SECRET-LOOKING-TOKEN" not in str(error)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[unit\nname = \n")
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == str(path)
    assert caught.value.problem.startswith("not valid TOML (")
    assert "line 1" in caught.value.problem
    assert str(caught.value).startswith(f"{path}: not valid TOML (")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "config.toml"
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert (caught.value.key, caught.value.problem) == (str(path), "file not found")


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""), environ={})
    assert config == dataclasses.replace(
        load(None, environ={}),
        storage=StorageConfig(database=tmp_path / "data" / "liaison.db", files_dir=tmp_path / "data" / "files",
                              key_file=tmp_path / "liaison.key"))


def test_good_values_are_read(tmp_path: Path) -> None:
    text = """
[unit]
name = " 某县人民检察院 "
timezone = "Asia/Urumqi"
matter_prefix = "MX-1"
[telegram]
token = "123:abc"
bot_username = "SomeBot"
poll_timeout = 50
request_timeout = 120
[binding]
invite_ttl_days = 1
require_phone = true
[intake]
max_attachments = 0
[intake.due_months]
appeal = 1
[outbox]
global_rate = 0.1
per_chat_interval = 0
max_attempts = 100
[i18n]
default_locale = "en"
[console]
demo = false
"""
    config = load(write(tmp_path, text), environ={})
    assert (config.unit.name, config.unit.timezone, config.unit.matter_prefix) == ("某县人民检察院", "Asia/Urumqi", "MX-1")
    assert str(config.unit.tz) == "Asia/Urumqi"
    assert (config.telegram.token, config.telegram.bot_username) == ("123:abc", "SomeBot")
    assert (config.telegram.poll_timeout, config.telegram.request_timeout) == (50, 120.0)
    assert isinstance(config.telegram.request_timeout, float)
    assert (config.binding.invite_ttl_days, config.binding.require_phone) == (1, True)
    assert config.intake.max_attachments == 0
    assert config.intake.due_months == {**{k: 3 for k in KINDS}, "appeal": 1}
    assert (config.outbox.global_rate, config.outbox.per_chat_interval, config.outbox.max_attempts) == (0.1, 0.0, 100)
    assert (config.default_locale, config.demo) == ("en", False)


# -- the environment and paths ---------------------------------------------------------------


def test_environment_token_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "111:from-file"\n')
    assert load(path, environ={TOKEN_ENV: "222:from-env"}).telegram.token == "222:from-env"
    assert load(path, environ={TOKEN_ENV: " 222:from-env\n"}).telegram.token == "222:from-env"
    assert load(path, environ={}).telegram.token == "111:from-file"
    assert load(path, environ={TOKEN_ENV: ""}).telegram.token == "111:from-file"
    assert load(None, environ={TOKEN_ENV: "333:only-env"}).telegram.token == "333:only-env"
    assert TOKEN_ENV == "LIAISON_TELEGRAM_TOKEN"


def test_environment_token_is_checked_too(tmp_path: Path) -> None:
    error = error_of(tmp_path, "", environ={TOKEN_ENV: "no-colon-here"})
    assert error.problem == "does not look like a bot token (expected digits:letters)"
    assert "no-colon-here" not in str(error)


def test_bad_environment_token_names_the_variable(tmp_path: Path) -> None:
    error = error_of(tmp_path, '[telegram]\ntoken = ""\n', environ={TOKEN_ENV: "no-colon-here"})
    assert error.key == TOKEN_ENV


def test_blank_environment_token_does_not_erase_the_files_token(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "111:from-file"\n')
    assert load(path, environ={TOKEN_ENV: "   "}).telegram.token == "111:from-file"


def test_relative_paths_are_resolved_against_the_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "liaison"
    path = write(folder, '[storage]\ndatabase = "db/main.db"\nfiles_dir = "../store"\n')
    config = load(path, environ={})
    assert config.storage.database == folder / "db" / "main.db"
    assert config.storage.files_dir == folder / "../store"
    assert config.storage.files_dir.resolve() == (tmp_path / "etc" / "store").resolve()


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    database, files = tmp_path / "abs" / "x.db", tmp_path / "abs" / "files"
    path = write(tmp_path / "conf", f'[storage]\ndatabase = "{database.as_posix()}"\nfiles_dir = "{files.as_posix()}"\n')
    config = load(path, environ={})
    assert (config.storage.database, config.storage.files_dir) == (database, files)


def test_default_paths_are_beside_the_file(tmp_path: Path) -> None:
    config = load(write(tmp_path / "conf", "[unit]\n"), environ={})
    assert config.storage == StorageConfig(database=tmp_path / "conf" / "data" / "liaison.db",
                                           files_dir=tmp_path / "conf" / "data" / "files",
                                           key_file=tmp_path / "conf" / "liaison.key")


# -- the token stays out of logs -----------------------------------------------------------------


def test_token_is_not_in_the_repr(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[telegram]\ntoken = "123456:SECRET-TOKEN-abc"\n'), environ={})
    assert config.telegram.token == "123456:SECRET-TOKEN-abc"
    assert "SECRET-TOKEN" not in repr(config)
    assert "SECRET-TOKEN" not in repr(config.telegram)
    assert "SECRET-TOKEN" not in str(config)


# -- files the loader cannot read --------------------------------------------------------------


def test_file_not_in_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[unit]\nname = "卢氏县人民检察院"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == str(path)


def test_folder_instead_of_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, environ={})
    assert caught.value.key == str(tmp_path)


def test_utf8_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[unit]\nname = "卢氏县人民检察院"\n'.encode("utf-8-sig"))
    assert load(path, environ={}).unit.name == "卢氏县人民检察院"


def test_process_environment_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With environ=None the process environment is used; with environ given, only that."""
    monkeypatch.setenv(TOKEN_ENV, "999:process-env")
    path = write(tmp_path, "")
    assert load(path).telegram.token == "999:process-env"
    assert load(path, environ={}).telegram.token == ""


def test_the_calendar_takes_dates_ranges_and_toml_dates(tmp_path: Path) -> None:
    """A year's schedule as the State Council publishes it: days off and weekend days worked (调休)."""
    from datetime import date, timedelta

    config = load(write(tmp_path, '[calendar]\nholidays = ["2027-01-01", " 2027-02-08 / 2027-02-10 ", 2027-02-11]\n'
                                  'workdays = ["2027-02-20", "2027-02-20"]\n'), environ={})
    assert config.calendar.holidays == {date(2027, 1, 1)} | {date(2027, 2, 8) + timedelta(days=n) for n in range(4)}
    assert config.calendar.workdays == {date(2027, 2, 20)}
    assert not config.calendar.is_workday(date(2027, 2, 9)) and config.calendar.is_workday(date(2027, 2, 20))


def test_database_url_picks_the_engine_and_keeps_passwords_out_of_the_file(tmp_path: Path) -> None:
    """database.url: unset, the SQLite file (today's default); sqlite:///path, that file; postgresql://, that
    server. A password is refused in the file and accepted only from the environment, and never shown."""
    assert load(write(tmp_path, ""), environ={}).database_engine == tmp_path / "data" / "liaison.db"
    config = load(write(tmp_path, '[database]\nurl = "sqlite:///elsewhere/bot.db"\n'), environ={})
    assert config.database_engine == config.storage.database == tmp_path / "elsewhere" / "bot.db"
    config = load(write(tmp_path, '[database]\nurl = "postgresql://liaison@db.example:5432/ls"\n'), environ={})
    assert config.database_engine == "postgresql://liaison@db.example:5432/ls"
    error = error_of(tmp_path, '[database]\nurl = "postgresql://liaison:secret@db.example/ls"\n')
    assert error.key == "database.url" and "PGPASSWORD" in str(error) and "secret" not in str(error)
    assert error_of(tmp_path, '[database]\nurl = "mysql://x/y"\n').key == "database.url"
    config = load(write(tmp_path, ""), environ={"LIAISON_DATABASE_URL": "postgresql://liaison:secret@db/ls"})
    assert config.database_engine == "postgresql://liaison:secret@db/ls"
    assert config.database_shown == "postgresql://liaison:***@db/ls"
    assert "secret" not in repr(config)
