"""Backups that hold everything, and restoring one elsewhere (issue 15, item 13): one archive of the database
(SQLite's online backup), the files it names and a manifest with hashes; restored into an empty data folder
somewhere else, the bot works there — /my, the card's files, a reply's files — and the data key was never
in the archive. A damaged archive, a live installation and a running bot are refused, changing nothing."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.app import App
from bot.backup import BackupError, restore_backup, write_backup
from bot.instance import InstanceLock
from storage import matters
from tests.cast import DECISION, PHOTO, populated
from tests.fakes import Harness, MovableClock, RecordingChannel
from tests.fakes import early_migrations
from tests.fakes import test_config as config_in

@pytest.mark.sqlite_only("the archive of an SQLite database; PostgreSQL's is tests/test_backup_pg.py")
async def test_a_populated_bot_backed_up_and_restored_elsewhere_works_there(harness: Harness, tmp_path: Path) -> None:
    await populated(harness)
    old = harness.app.config
    written = await write_backup(harness.db, old, tmp_path / "backups", harness.clock.now())
    assert written.files == 2 and written.missing == []
    with tarfile.open(written.archive) as tar:
        names = sorted(tar.getnames())
    assert names[2:] == ["liaison.db", "manifest.json"] and all(n.startswith("files/") for n in names[:2])
    key = old.storage.key_file.read_text("ascii").split()[-1]
    assert key.encode() not in gzip.decompress(written.archive.read_bytes())  # the data key is never in a backup
    # restored elsewhere, into an empty folder, with the key carried apart; the old folder is gone
    await harness.app.close()
    shutil.move(str(tmp_path / "files"), str(tmp_path / "files-gone"))
    elsewhere = config_in(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(old.storage.key_file, elsewhere.storage.key_file)
    checked = await restore_backup(written.archive, elsewhere)
    assert (checked.entries, checked.head) == (written.entries, written.head)
    clock = MovableClock(harness.clock.now())
    app = await App.open(elsewhere, clock)
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    there = Harness(app, channel, clock)
    there._updates = itertools.count(10_000)  # the restored inbox knows the update ids used before
    harness.app = app  # the fixture closes it
    deputy, office = there.user("1001"), there.user("3001")
    listing = await deputy.say("/my")
    assert "LS-2026-0001" in listing[0].text and "LS-2026-0002" in listing[0].text
    opened = await deputy.press("LS-2026-0002")
    assert "附件：1 个" in opened[-1].text or "附件：1" in opened[-1].text
    await office.say("/case LS-2026-0002")
    sent = await office.press("附件")
    [(path, name, _kind)] = [f for s in sent for f in s.payload.get("files") or []]
    assert name == "现场.jpg" and Path(path).is_relative_to(tmp_path / "elsewhere") and Path(path).read_bytes() == PHOTO
    async with app.db.snapshot() as q:
        reply_id = await q.scalar("SELECT id FROM replies")
        [reply_file] = await matters.files(q, 1, reply_id=int(reply_id))
    assert reply_file.path == f"{reply_file.sha256[:2]}/{reply_file.sha256}"  # relative to the files folder
    assert app.files.resolve(reply_file.path).read_bytes() == DECISION
    case = await office.say("/case LS-2026-0001")
    assert "李四" in case[0].text  # the complainant, sealed in the backup, opens with the key carried apart


def cli(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv], MovableClock())


def write_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{folder / "data" / "liaison.db"}"\n'
                      f'files_dir = "{folder / "data" / "files"}"\n', "utf-8")
    return config


def test_backup_and_restore_from_the_command_line_and_what_they_refuse(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    here = write_config(tmp_path / "here")
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,类别,电话\n王建国,人大代表,13800000001\n", "utf-8")
    assert cli(here, "import-roster", str(roster)) == 0
    capsys.readouterr()
    assert cli(here, "backup", str(tmp_path / "backups")) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backup written to {tmp_path / 'backups'}/liaison-backup-20261127-020000.tar.gz:")
    [archive] = list((tmp_path / "backups").glob("*.tar.gz"))
    assert not list((tmp_path / "backups").glob(".*"))  # nothing half-written left beside it
    assert cli(here, "restore", "--check", str(archive)) == 0
    assert "is whole" in capsys.readouterr().out
    # a live installation is never overwritten
    assert cli(here, "restore", str(archive)) == 1
    assert capsys.readouterr().err.startswith("refusing to overwrite an installation:")
    there = write_config(tmp_path / "there")
    # without the key it is refused before anything is moved
    assert cli(there, "restore", str(archive)) == 1
    assert "sealed with key" in capsys.readouterr().err
    assert not (tmp_path / "there" / "data" / "liaison.db").exists()
    shutil.copy(tmp_path / "here" / "liaison.key", tmp_path / "there" / "liaison.key")
    with InstanceLock(tmp_path / "there" / "data" / "liaison.db"):
        assert cli(there, "restore", str(archive)) == 1
        assert "a bot is running on" in capsys.readouterr().err
    assert cli(there, "restore", str(archive)) == 0
    assert "restored into" in capsys.readouterr().out
    assert cli(there, "invite", "--name", "王建国") == 0


def test_a_damaged_archive_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    here = write_config(tmp_path / "here")
    assert cli(here, "backup", str(tmp_path / "backups")) == 0
    [archive] = list((tmp_path / "backups").glob("*.tar.gz"))
    members: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for info in tar:
            handle = tar.extractfile(info)
            assert handle is not None
            members[info.name] = handle.read()
    db = bytearray(members["liaison.db"])
    db[-100] ^= 0xFF  # one byte changed
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for name, data in {**members, "liaison.db": bytes(db)}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    capsys.readouterr()
    assert cli(here, "restore", "--check", str(damaged)) == 1
    assert capsys.readouterr().err == "damaged backup: liaison.db does not match its hash in the manifest\n"
    manifest = json.loads(members["manifest.json"])
    manifest["audit"]["entries"] += 1  # a manifest that does not match its database
    with tarfile.open(damaged, "w:gz") as tar:
        for name, data in {**members, "manifest.json": json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert cli(here, "restore", "--check", str(damaged)) == 1
    assert "does not end at the head its manifest recorded" in capsys.readouterr().err
    (tmp_path / "not.tar.gz").write_bytes(b"garbage")
    assert cli(here, "restore", "--check", str(tmp_path / "not.tar.gz")) == 1
    assert "is not a backup archive" in capsys.readouterr().err
    with pytest.raises(BackupError):
        asyncio.run(restore_backup(tmp_path / "absent.tar.gz", config_in(tmp_path / "x")))


async def test_stored_paths_become_relative_to_the_files_folder(tmp_path: Path) -> None:
    """Migration 0016: absolute paths stored before are rewritten from the digest; a path left absolute inside
    a dialogue or a queued message (JSON) still resolves, by its digest, in the folder the bot uses now."""
    from datetime import UTC, datetime

    from storage.db import Database
    from storage.migrate import migrate

    old = early_migrations(tmp_path / "migrations", 15)
    config = config_in(tmp_path)
    db = await Database.open(config.database_engine)
    await migrate(db, datetime(2026, 11, 1, tzinfo=UTC), old)
    digest = "ab" + "0" * 62
    async with db.transaction() as tx:
        rep = await tx.insert("INSERT INTO persons (name, body, created_at, updated_at) VALUES ('王', 'npc', '2026',"
                              " '2026') RETURNING id")
        matter = await tx.insert("INSERT INTO matters (number, kind, representative_id, subject, body, state,"
                                 " registered_at, due_date, updated_at) VALUES ('LS-2026-0001', 'suggestion', ?, 's',"
                                 " 'b', 'registered', '2026', '2027-01-01', '2026') RETURNING id", (rep,))
        await tx.execute("INSERT INTO attachments (matter_id, kind, name, size, sha256, path, created_at) VALUES"
                         " (?, 'photo', 'x.jpg', 1, ?, ?, '2026')", (matter, digest, f"/srv/old-machine/files/ab/{digest}"))
    await db.close()
    app = await App.open(config, MovableClock())
    try:
        async with app.db.snapshot() as q:
            assert await q.scalar("SELECT path FROM attachments") == f"ab/{digest}"
        target = config.storage.files_dir / "ab" / digest
        target.parent.mkdir(parents=True)
        target.write_bytes(b"x")
        assert app.files.resolve(f"/srv/old-machine/files/ab/{digest}") == target
        assert app.files.resolve(f"ab/{digest}") == target
        assert app.files.resolve_payload({"files": [[f"ab/{digest}", "x.jpg", "photo"]]})["files"][0][0] == str(target)
    finally:
        await app.close()
