"""Personal data sealed at rest (issue 15, item 5; PIPL Art. 28): complainants' names and contacts and the
roster's phone numbers are never in the database file in the clear; the key lives outside it; a missing or
wrong key stops start-up naming the setting; rows stored before sealing are sealed on the first start;
the key can be rotated; a closed referred case keeps its complainant's data only as long as configured."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.app import App
from bot.config import DATA_KEY_ENV, StorageConfig, load
from bot.model import UnitScope
from bot.instance import InstanceLock
from bot.sealing import (COMPLAINANT_CONTACT, COMPLAINANT_NAME, PHONE, KeyFormatError, Sealer, SealingError,
                         key_id, new_key, parse_keys)
from storage.db import Database
from storage.migrate import migrate
from tests.fakes import Harness, MovableClock, RecordingChannel
from tests.fakes import early_migrations
from tests.fakes import test_config as config_in

COMPLAINANT, CONTACT, PHONE_NO = "张三丰", "13900002222", "13712345678"


async def rows(app: App, sql: str) -> list[tuple[object, ...]]:
    """What the running bot's database holds, on either engine."""
    async with app.db.snapshot() as q:
        return [tuple(r) for r in await q.all(sql)]


def raw(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


# -- the cipher ------------------------------------------------------------------------------------


def test_sealed_values_open_only_with_their_key_and_purpose() -> None:
    key, other = new_key(), new_key()
    sealer = Sealer([key])
    token = sealer.seal(COMPLAINANT, COMPLAINANT_NAME)
    assert token.startswith(f"enc1:{key_id(key)}:") and COMPLAINANT not in token
    assert sealer.seal(COMPLAINANT, COMPLAINANT_NAME) != token  # a fresh nonce each time
    assert sealer.open(token, COMPLAINANT_NAME) == COMPLAINANT
    with pytest.raises(SealingError):
        sealer.open(token, COMPLAINANT_CONTACT)  # moved to another column: does not open
    changed = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SealingError):
        sealer.open(changed, COMPLAINANT_NAME)  # authenticated: a changed byte is an error, not wrong text
    with pytest.raises(SealingError):
        Sealer([other]).open(token, COMPLAINANT_NAME)
    assert Sealer([other, key]).open(token, COMPLAINANT_NAME) == COMPLAINANT  # an old key still opens
    assert sealer.seal("", PHONE) == "" and sealer.open("", PHONE) == ""
    assert sealer.digest(PHONE_NO, PHONE) == Sealer([key, other]).digest(PHONE_NO, PHONE)
    assert sealer.digest(PHONE_NO, PHONE) != Sealer([other]).digest(PHONE_NO, PHONE)  # keyed
    assert len(Sealer([other, key]).digests(PHONE_NO, PHONE)) == 2
    assert parse_keys(f"# comment\n{key}, {other}\n{key}\n") == [key, other]
    for bad in ("", "short", key + "x"):
        with pytest.raises(KeyFormatError):
            parse_keys(bad)


# -- nothing in the clear ----------------------------------------------------------------------------


async def test_the_database_file_holds_no_complainant_data_and_no_phone_in_the_clear(harness: Harness) -> None:
    deputy_id = await harness.add_representative("王建国", phone=PHONE_NO)
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(deputy_id)}")
    await deputy.say("/submit")
    await deputy.press("举报")
    for text in ("某公司非法占地", "村民反映某公司占用基本农田建厂。"):
        await deputy.say(text)
    await deputy.press("完成")
    await deputy.press("无附件")
    await deputy.say(COMPLAINANT)
    await deputy.say(CONTACT)
    await deputy.press("确认提交")
    assert "您转交的举报已登记" in deputy.last
    # the typed messages are kept word for word keep_messages_days (30), then erased (storage/retention.py)
    harness.clock.advance(days=31)
    await harness.app.supervise()
    await harness.app.settle()
    await harness.app.close()
    data = b"".join(p.read_bytes() for p in harness.app.config.storage.database.parent.glob("test.db*"))
    for secret in (COMPLAINANT, CONTACT, PHONE_NO):
        assert secret.encode() not in data, secret
    key_file = harness.app.config.storage.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # created on the first start, readable by its owner
    assert key_file.read_text("ascii").split()[-1].encode() not in data  # and never in the database


async def test_the_office_still_reads_the_complainant_and_binding_checks_the_phone(harness: Harness) -> None:
    """Sealing changes nothing a person sees: the card shows the complainant (SPEC §1), the phone confirmation
    of binding and the search by number find the sealed number by its keyed digest."""
    harness.app.config = replace(harness.app.config, binding=replace(harness.app.config.binding, require_phone=True))
    harness.app.processor.config = harness.app.config
    deputy_id = await harness.add_representative("王建国", phone=PHONE_NO)
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(deputy_id)}")
    await deputy.share_contact("+86 137-1234-5678")
    assert "您的账号已绑定成功" in deputy.last
    async with harness.db.snapshot() as q:
        phone, digest = (await q.one("SELECT phone, phone_hash FROM persons WHERE id = ?", (deputy_id,)) or ("", ""))
    assert harness.db.sealer is not None
    assert phone.startswith("enc1:") and digest == harness.db.sealer.digest(PHONE_NO, PHONE)


# -- the key: missing, wrong, created ----------------------------------------------------------------


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "data" / "liaison.db"}"\n'
                      f'files_dir = "{tmp_path / "data" / "files"}"\n{extra}', "utf-8")
    return config


def populated(tmp_path: Path, extra: str = "") -> Path:
    """A database with a representative on the roster (a sealed phone), closed again."""
    config = write_config(tmp_path, extra)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"姓名,类别,电话\n王建国,人大代表,{PHONE_NO}\n", "utf-8")
    assert main(["--config", str(config), "import-roster", str(roster)], MovableClock()) == 0
    return config


def test_without_its_key_a_sealed_database_does_not_start(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_KEY_ENV, raising=False)
    config = populated(tmp_path)
    key_file = tmp_path / "liaison.key"
    kid = key_id(parse_keys(key_file.read_text("ascii"))[0])
    key_file.rename(tmp_path / "elsewhere.key")
    capsys.readouterr()
    before = raw(tmp_path / "data" / "liaison.db", "SELECT * FROM persons")
    assert main(["--config", str(config), "invite", "--name", "王建国"], MovableClock()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"configuration error: storage.key_file: no data key: {key_file} "
                                                   f"does not exist and {DATA_KEY_ENV} is not set")
    assert f"sealed with key {kid}" in err
    assert not key_file.exists()  # no new key made for data sealed with another
    # a wrong key, from the environment, is named as such
    monkeypatch.setenv(DATA_KEY_ENV, new_key())
    assert main(["--config", str(config), "invite", "--name", "王建国"], MovableClock()) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"configuration error: {DATA_KEY_ENV}: this key (id ") and f"sealed with key {kid}" in err
    monkeypatch.setenv(DATA_KEY_ENV, "not a key")
    assert main(["--config", str(config), "invite", "--name", "王建国"], MovableClock()) == 2
    assert capsys.readouterr().err.startswith(f"configuration error: {DATA_KEY_ENV}: a data key is 43 characters")
    assert raw(tmp_path / "data" / "liaison.db", "SELECT * FROM persons") == before
    # the right key in the environment opens it
    monkeypatch.setenv(DATA_KEY_ENV, (tmp_path / "elsewhere.key").read_text("ascii"))
    assert main(["--config", str(config), "invite", "--name", "王建国"], MovableClock()) == 0


# -- a database from before sealing ------------------------------------------------------------------


async def test_rows_stored_before_sealing_are_sealed_on_the_first_start(tmp_path: Path) -> None:
    old = early_migrations(tmp_path / "migrations", 14)  # the schema as it was before sealing
    config = config_in(tmp_path)
    db = await Database.open(config.database_engine)
    await migrate(db, datetime(2026, 11, 1, tzinfo=UTC), old)
    async with db.transaction() as tx:
        rep = await tx.insert("INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                              f" VALUES ('王建国', 'npc', '{PHONE_NO}', 'phone:{PHONE_NO}', '2026', '2026') RETURNING id")
        await tx.execute("INSERT INTO matters (number, kind, representative_id, subject, body, complainant_name,"
                         " complainant_contact, state, registered_at, due_date, updated_at) VALUES ('LS-2026-0001',"
                         " 'report', ?, '事由', '内容', ?, ?, 'registered', '2026-11-01T00:00:00.000+00:00',"
                         " '2027-02-01', '2026')", (rep, COMPLAINANT, CONTACT))
    await db.close()
    app = await App.open(config, MovableClock())
    try:
        [(phone, digest, roster_key)] = await rows(app, "SELECT phone, phone_hash, roster_key FROM persons")
        [(name, contact)] = await rows(app, "SELECT complainant_name, complainant_contact FROM matters")
        sealer = app.db.sealer
        assert sealer is not None
        assert str(phone).startswith("enc1:") and sealer.open(str(phone), PHONE) == PHONE_NO
        assert digest == sealer.digest(PHONE_NO, PHONE) and roster_key == "phone:" + sealer.digest(PHONE_NO, PHONE)
        assert sealer.open(str(name), COMPLAINANT_NAME) == COMPLAINANT
        assert sealer.open(str(contact), COMPLAINANT_CONTACT) == CONTACT
        # a re-import finds the same person by the digest of the phone key
        from bot.roster_file import RosterRow
        from storage import roster
        async with app.db.transaction() as tx:
            result = await roster.upsert(tx, UnitScope.of(1), [RosterRow(2, None, "王建国", "npc", "", "", PHONE_NO, False)],
                                         app.clock.now())
        assert (result.added, result.unchanged) == (0, 1)
    finally:
        await app.close()
    app = await App.open(config, MovableClock())  # the second start seals nothing again
    try:
        assert await rows(app, "SELECT phone_hash FROM persons") == [(digest,)]
    finally:
        await app.close()


# -- rotation -------------------------------------------------------------------------------------------


def test_key_rotate_seals_everything_again_and_leaves_the_new_key_alone(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_KEY_ENV, raising=False)
    config = populated(tmp_path)
    key_file, database = tmp_path / "liaison.key", tmp_path / "data" / "liaison.db"
    old = parse_keys(key_file.read_text("ascii"))
    with InstanceLock(database):  # a running bot holds keys in memory: refused, nothing changed
        capsys.readouterr()
        assert main(["--config", str(config), "key", "rotate"], MovableClock()) == 1
        assert "stop it, rotate the key" in capsys.readouterr().err
    assert parse_keys(key_file.read_text("ascii")) == old
    capsys.readouterr()
    assert main(["--config", str(config), "key", "rotate"], MovableClock()) == 0
    new = parse_keys(key_file.read_text("ascii"))
    assert len(new) == 1 and new != old
    assert capsys.readouterr().out.startswith(f"data key rotated: {key_id(old[0])} -> {key_id(new[0])};")
    [(phone, digest, roster_key)] = raw(database, "SELECT phone, phone_hash, roster_key FROM persons")
    sealer = Sealer(new)
    assert sealer.open(str(phone), PHONE) == PHONE_NO and digest == roster_key[6:] == sealer.digest(PHONE_NO, PHONE)
    assert raw(database, "SELECT action, detail FROM audit_log WHERE action = 'data_key.rotated'") == [
        ("data_key.rotated", f'{{"from":"{key_id(old[0])}","to":"{key_id(new[0])}"}}')]
    roster = tmp_path / "roster.csv"
    assert main(["--config", str(config), "import-roster", str(roster)], MovableClock()) == 0
    assert "0 added, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_key_rotate_from_the_environment_takes_the_new_key_first(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    current = new_key()
    monkeypatch.setenv(DATA_KEY_ENV, current)
    config = populated(tmp_path)
    assert not (tmp_path / "liaison.key").exists()  # the environment's key: no file made
    capsys.readouterr()
    assert main(["--config", str(config), "key", "rotate"], MovableClock()) == 1
    assert "put a new key first in it" in capsys.readouterr().err
    assert main(["--config", str(config), "key", "new"], MovableClock()) == 0
    fresh = capsys.readouterr().out.strip()
    monkeypatch.setenv(DATA_KEY_ENV, f"{fresh} {current}")
    assert main(["--config", str(config), "key", "rotate"], MovableClock()) == 0
    assert "now remove the old key from it" in capsys.readouterr().out
    monkeypatch.setenv(DATA_KEY_ENV, fresh)
    assert main(["--config", str(config), "invite", "--name", "王建国"], MovableClock()) == 0


# -- how long a complainant's data is kept --------------------------------------------------------------


async def test_a_closed_referred_case_keeps_its_complainant_only_as_long_as_configured(tmp_path: Path,
                                                                                       clock: MovableClock) -> None:
    config = config_in(tmp_path)
    config = replace(config, storage=replace(config.storage, keep_complainant_days=30))
    app = await App.open(config, clock)
    app.add_channel(RecordingChannel(app.files))
    h = Harness(app, app.channels["test"], clock)  # type: ignore[arg-type]
    try:
        office_id = await h.add_staff("陈静", ["office"])
        rep = await h.add_representative("王建国")
        closed = clock.now() - timedelta(days=31)
        async with app.db.transaction() as tx:
            for number, state, when in (("LS-2026-0001", "closed", closed), ("LS-2026-0002", "closed", clock.now()),
                                        ("LS-2026-0003", "assigned", None)):
                await tx.execute(
                    "INSERT INTO matters (number, kind, representative_id, subject, body, complainant_name,"
                    " complainant_contact, state, registered_at, due_date, updated_at, closed_at) VALUES"
                    " (?, 'report', ?, '事由', '内容', ?, ?, ?, '2026-07-01T00:00:00.000+00:00', '2026-10-01', '2026', ?)",
                    (number, rep, tx.sealer.seal(COMPLAINANT, COMPLAINANT_NAME),
                     tx.sealer.seal(CONTACT, COMPLAINANT_CONTACT), state, when.isoformat() if when else None))
        await app.supervise()
        found = await rows(app, "SELECT number, complainant_name IS NULL, complainant_erased_at IS NULL"
                                            " FROM matters ORDER BY id")
        assert found == [("LS-2026-0001", 1, 0), ("LS-2026-0002", 0, 1), ("LS-2026-0003", 0, 1)]
        assert await rows(app, "SELECT action, matter_id FROM audit_log WHERE action LIKE 'complainant%'"
                   ) == [("complainant.erased", 1)]
        clerk = h.user("3001")
        await clerk.say(f"/start {await h.invite(office_id)}")
        assert "群众信息：（已过保存期限，信息已删除）" in (await clerk.say("/case LS-2026-0001"))[0].text
        assert f"举报人：{COMPLAINANT}" in (await clerk.say("/case LS-2026-0002"))[0].text
    finally:
        await app.close()


def test_by_default_the_complainant_is_kept_as_long_as_the_matter() -> None:
    assert StorageConfig().keep_complainant_days == 0
    assert load(None, environ={}).storage.keep_complainant_days == 0
