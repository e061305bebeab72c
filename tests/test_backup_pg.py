"""Backup and a tested restore on PostgreSQL (issue 17): the same archive as on SQLite, with the database as
pg_dump's custom format; its figures from the dump's own snapshot; restored into an empty database elsewhere,
the bot works there. A database in use, a running bot, an archive of the other engine, a key that does not open
it and an archive whose audit log does not verify are refused, changing nothing. These run on every suite run:
on the run's own cluster on PostgreSQL, on one this module starts otherwise."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import itertools
import json
import shutil
import tarfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot import backup_pg
from bot.__main__ import main
from bot.app import App
from bot.backup import BackupError, write_backup
from bot.config import Config, DatabaseConfig
from storage import audit
from storage.pg import PgDatabase
from tests import pg_cluster
from tests.cast import PHOTO, populated
from tests.fakes import Harness, MovableClock, RecordingChannel
from tests.fakes import test_config as config_in

TABLES = ("persons", "matters", "timeline", "attachments", "replies", "audit_log", "outbox", "inbox", "dialogs")


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    yield from pg_cluster.for_a_module()


class Server:
    """Empty databases on the cluster, dropped at the end of the test."""

    def __init__(self, cluster: pg_cluster.Cluster, admin: asyncpg.Connection, prefix: str) -> None:
        self.cluster, self.admin, self.prefix = cluster, admin, prefix
        self.made: list[str] = []

    async def database(self, label: str) -> str:
        name = f"{self.prefix}_{label}"
        await self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await self.admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        self.made.append(name)
        return self.cluster.url(name)


@pytest.fixture
async def server(cluster: pg_cluster.Cluster, request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    prefix = "b_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    admin = await asyncpg.connect(cluster.url())
    made = Server(cluster, admin, prefix)
    try:
        yield made
    finally:
        for name in made.made:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def on(folder: Path, url: str) -> Config:
    return replace(config_in(folder), database=DatabaseConfig(url))


async def bot_on(config: Config, clock: MovableClock) -> Harness:
    app = clock.pace(await App.open(config, clock))
    channel = RecordingChannel(app.files)
    app.add_channel(channel)
    await app.dispatcher.recover()
    return Harness(app, channel, clock)


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        return {t: int(await conn.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in TABLES if t in tables}
    finally:
        await conn.close()


async def a_backup(server: Server, tmp_path: Path) -> tuple[Path, Config, dict[str, int], MovableClock]:
    """A populated bot on PostgreSQL, backed up; its archive, its configuration and its tables' counts."""
    clock = MovableClock()
    config = on(tmp_path / "here", await server.database("here"))
    h = await bot_on(config, clock)
    try:
        await populated(h)
        written = await backup_pg.write_backup(h.app.db, config, tmp_path / "backups", clock.now())
    finally:
        await h.app.close()
    return written.archive, config, await counts(config.database.url), clock


async def test_a_bot_on_postgresql_backed_up_and_restored_into_an_empty_database_works_there(
        server: Server, tmp_path: Path) -> None:
    archive, here, before, clock = await a_backup(server, tmp_path)
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[-2:] == ["liaison.pgdump", "manifest.json"] and len(names) == 4  # and the two stored files
    assert manifest["engine"] == "postgresql" and manifest["database"]["path"] == "liaison.pgdump"
    key = here.storage.key_file.read_text("ascii").split()[-1]
    assert key.encode() not in gzip.decompress(archive.read_bytes())  # the data key is never in a backup
    assert "postgres@" not in json.dumps(manifest)
    # elsewhere: an empty database, an empty folder, the key carried apart
    there = on(tmp_path / "there", await server.database("there"))
    (tmp_path / "there").mkdir()
    shutil.copy(here.storage.key_file, there.storage.key_file)
    checked = await backup_pg.restore_backup(archive, there)
    assert (checked.entries, checked.head) == (manifest["audit"]["entries"], manifest["audit"]["head"])
    assert await counts(there.database.url) == before
    h = await bot_on(there, MovableClock(clock.now()))
    h._updates = itertools.count(10_000)  # the restored inbox knows the update ids used before
    try:
        deputy, office = h.user("1001"), h.user("3001")
        listing = await deputy.say("/my")
        assert "LS-2026-0001" in listing[0].text and "LS-2026-0002" in listing[0].text
        await office.say("/case LS-2026-0002")
        sent = await office.press("附件")
        [(path, name, _kind)] = [f for s in sent for f in s.payload.get("files") or []]
        assert name == "现场.jpg" and Path(path).read_bytes() == PHOTO
        case = await office.say("/case LS-2026-0001")
        assert "李四" in case[0].text  # the complainant, sealed in the backup, opens with the key carried apart
        async with h.app.db.snapshot() as q:
            assert (await audit.verify(q))[1] is None
    finally:
        await h.app.close()


async def test_the_figures_come_from_the_dumps_own_snapshot_while_the_bot_writes(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit entry committed after the figures were read and before pg_dump ran is in neither: the manifest's
    head is the dump's, so the archive verifies (a dump of its own moment would hold one entry more)."""
    clock = MovableClock()
    config = on(tmp_path / "here", await server.database("here"))
    h = await bot_on(config, clock)
    original = backup_pg._run

    async def dump_a_moment_later(url: str, *argv: str) -> bytes:
        if Path(argv[0]).name == "pg_dump":
            async with h.app.db.transaction() as tx:
                await audit.record(tx, clock.now(), None, "written.meanwhile")
        return await original(url, *argv)

    try:
        await populated(h)
        monkeypatch.setattr(backup_pg, "_run", dump_a_moment_later)
        written = await backup_pg.write_backup(h.app.db, config, tmp_path / "backups", clock.now())
        monkeypatch.setattr(backup_pg, "_run", original)
        async with h.app.db.snapshot() as q:
            now_entries = (await audit.head(q) or (0, ""))[0]
    finally:
        await h.app.close()
    assert now_entries == written.entries + 1
    checked, note = await backup_pg.check_backup(written.archive, tmp_path / "check", config.database.url)
    assert note == "" and checked.entries == written.entries


async def test_check_restores_into_a_throwaway_database_or_says_what_it_could_not_check(
        server: Server, tmp_path: Path) -> None:
    archive, here, _before, _clock = await a_backup(server, tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    admin = await asyncpg.connect(server.cluster.url())
    try:
        databases = {r[0] for r in await admin.fetch("SELECT datname FROM pg_database")}
        checked, note = await backup_pg.check_backup(archive, tmp_path / "one", here.database.url)
        assert note == "" and checked.head == manifest["audit"]["head"]
        assert {r[0] for r in await admin.fetch("SELECT datname FROM pg_database")} == databases  # dropped again
    finally:
        await admin.close()
    unchecked, note = await backup_pg.check_backup(archive, tmp_path / "two", None)
    assert "audit chain was not verified" in note and unchecked.head == manifest["audit"]["head"]


async def test_what_restore_refuses_changes_nothing(server: Server, tmp_path: Path) -> None:
    archive, here, before, clock = await a_backup(server, tmp_path)
    there = on(tmp_path / "there", await server.database("there"))
    (tmp_path / "there").mkdir()
    # a database in use is never overwritten
    with pytest.raises(BackupError, match="refusing to overwrite an installation"):
        await backup_pg.restore_backup(archive, here)
    assert await counts(here.database.url) == before
    # without the key that opens it: refused before anything is restored
    with pytest.raises(BackupError, match="sealed with key"):
        await backup_pg.restore_backup(archive, there)
    assert await counts(there.database.url) == {}
    shutil.copy(here.storage.key_file, there.storage.key_file)
    # a bot running on it
    running = await PgDatabase.open_url(there.database.url)
    try:
        await running.hold_instance()
        with pytest.raises(BackupError, match="a bot is running on"):
            await backup_pg.restore_backup(archive, there)
    finally:
        await running.close()
    assert await counts(there.database.url) == {}
    # an archive of SQLite's: restore it on SQLite, then migrate-to
    lite = replace(config_in(tmp_path / "lite"), database=DatabaseConfig(""))
    h = await bot_on(lite, MovableClock(clock.now()))
    try:
        lite_archive = (await write_backup(h.app.db, lite, tmp_path / "lite-backups", clock.now())).archive
    finally:
        await h.app.close()
    with pytest.raises(BackupError, match="migrate-to"):
        await backup_pg.restore_backup(lite_archive, there)
    assert await counts(there.database.url) == {}
    # and this archive on a bot configured for SQLite
    with pytest.raises(BackupError, match="holds a PostgreSQL database"):
        from bot.backup import restore_backup
        await restore_backup(archive, replace(config_in(tmp_path / "elsewhere"), database=DatabaseConfig("")))
    assert not (tmp_path / "elsewhere" / "test.db").exists()


def _rewritten(archive: Path, change: Any) -> Path:
    """The archive with its manifest changed by `change` (hashes still consistent: only the audit check sees it)."""
    out = archive.with_name("tampered.tar.gz")
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


async def test_a_restored_copy_whose_audit_log_does_not_verify_is_removed_again(server: Server,
                                                                               tmp_path: Path) -> None:
    archive, here, _before, _clock = await a_backup(server, tmp_path)
    tampered = _rewritten(archive, lambda m: m["audit"].update(entries=m["audit"]["entries"] - 1))
    there = on(tmp_path / "there", await server.database("there"))
    (tmp_path / "there").mkdir()
    shutil.copy(here.storage.key_file, there.storage.key_file)
    with pytest.raises(BackupError, match="does not end at the head its manifest recorded"):
        await backup_pg.restore_backup(tampered, there)
    assert await counts(there.database.url) == {}  # what was restored is gone again
    assert not there.storage.files_dir.exists() or not any(there.storage.files_dir.iterdir())
    conn = await asyncpg.connect(there.database.url)
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                                   " WHERE n.nspname = 'public'") == 0
    finally:
        await conn.close()
    # the archive as written restores there afterwards
    await backup_pg.restore_backup(archive, there)


async def test_the_password_is_never_on_a_command_line(server: Server, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = (await server.database("here")).replace("postgres@", "postgres:hunter2@")  # trust: any password does
    config = on(tmp_path / "here", url)
    h = await bot_on(config, MovableClock())
    seen: list[tuple[list[str], str | None]] = []
    spawn = asyncio.create_subprocess_exec

    async def spy(*argv: str, **kwargs: Any) -> Any:
        seen.append((list(argv), (kwargs.get("env") or {}).get("PGPASSWORD")))
        return await spawn(*argv, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    try:
        written = await backup_pg.write_backup(h.app.db, config, tmp_path / "backups", h.clock.now())
        await backup_pg.check_backup(written.archive, tmp_path / "check", url)
    finally:
        await h.app.close()
    assert seen and all("hunter2" not in " ".join(argv) for argv, _ in seen)
    assert any(password == "hunter2" for _, password in seen)  # given to the child in its environment


def test_backup_and_restore_on_postgresql_from_the_command_line(cluster: pg_cluster.Cluster, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    async def databases() -> tuple[str, str]:
        admin = await asyncpg.connect(cluster.url())
        try:
            for name in ("cli_here", "cli_there"):
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        finally:
            await admin.close()
        return cluster.url("cli_here"), cluster.url("cli_there")

    here_url, there_url = asyncio.run(databases())

    def config_file(folder: Path, url: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "config.toml"
        path.write_text(f'[storage]\ndatabase = "{folder / "data" / "liaison.db"}"\nfiles_dir = "{folder / "files"}"\n'
                        f'[database]\nurl = "{url}"\n', "utf-8")
        return path

    def cli(config: Path, *argv: str) -> int:
        return main(["--config", str(config), *argv], MovableClock())

    here, there = config_file(tmp_path / "here", here_url), config_file(tmp_path / "there", there_url)
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,类别,电话\n王建国,人大代表,13800000001\n", "utf-8")
    assert cli(here, "import-roster", str(roster)) == 0
    capsys.readouterr()
    assert cli(here, "backup", str(tmp_path / "backups")) == 0
    assert "backup written to" in capsys.readouterr().out
    [archive] = list((tmp_path / "backups").glob("*.tar.gz"))
    assert cli(here, "restore", "--check", str(archive)) == 0
    assert "is whole" in capsys.readouterr().out
    assert cli(here, "restore", str(archive)) == 1
    assert capsys.readouterr().err.startswith("refusing to overwrite an installation:")
    shutil.copy(tmp_path / "here" / "liaison.key", tmp_path / "there" / "liaison.key")
    assert cli(there, "restore", str(archive)) == 0
    assert "restored into postgresql://" in capsys.readouterr().out
    assert cli(there, "invite", "--name", "王建国") == 0
