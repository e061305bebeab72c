"""Backups that hold everything the bot needs, and putting one back.

`write_backup` makes one archive, `liaison-backup-<UTC time>.tar.gz`, safe while the bot runs:
- `liaison.db`: the database through SQLite's online backup (a consistent snapshot however busy);
- `files/ab/abcd…`: every stored file the snapshot names (attachments, briefing files, files in open
  dialogues and in messages still queued), each checked against its SHA-256, which is its name;
- `manifest.json`: the SHA-256 and size of every member, the schema version, the audit log's head
  (entries and newest hash) and the id of the data key the personal data is sealed with.
The data key itself is never in it (bot/data_key.py): a stolen backup holds the personal data sealed.
It is written under a temporary name and renamed when whole, so a half-written archive never looks
like a backup.

`check_backup` reads an archive and proves it whole: every member listed with its hash, nothing else,
the database sound (quick_check), its audit chain intact and at the head the manifest recorded.
`restore_backup` does the same, then puts it into an empty data folder: it refuses a folder that holds
a database or stored files (a live installation is never overwritten) and a running bot, and it
checks that the configured data key opens the backup's personal data before anything is moved.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import StoppedClock
from bot.config import Config
from bot.data_key import CANARY_TEXT, read_keys
from bot.errors import LiaisonError
from bot.files import FileStore
from bot.instance import held
from bot.sealing import CANARY, Sealer, SealingError
from storage import audit
from storage.audit import Broken
from storage.db import Database

FORMAT = 1
DATABASE = "liaison.db"
MANIFEST = "manifest.json"
_MEMBER = re.compile(r"files/[0-9a-f]{2}/[0-9a-f]{64}")
_DIGEST = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_CHUNK = 1 << 20


DUMP = "liaison.pgdump"  # PostgreSQL's archive holds the database as pg_dump's custom format (bot/backup_pg.py)
ON_POSTGRESQL = "internal: the PostgreSQL archive is bot/backup_pg.py's"
OTHER_ENGINE = ("{archive} holds a {engine} database and this bot is configured for {here}: restore it with a "
                "configuration for {engine}; to move a database from SQLite to PostgreSQL, restore it on SQLite, then "
                "`python -m bot migrate-to URL` (README, 'On PostgreSQL')")


class BackupError(LiaisonError):
    """The backup cannot be made, read or put back; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Written:
    archive: Path
    files: int
    missing: list[str]  # named by the database but absent or damaged in the store
    entries: int  # audit log entries
    head: str


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Figures:
    """What a database snapshot names and records: read from the same snapshot the archive holds."""
    named: set[str]  # the stored files' digests
    schema: int
    head: tuple[int, str]  # audit entries, newest hash
    key_id: str | None


# The figures' queries: the same text on both engines (bot/backup_pg.py runs them in the dump's snapshot).
NAMED_FILES = "SELECT sha256 FROM attachments UNION SELECT sha256 FROM briefing_files"
NAMING_TEXTS = "SELECT data FROM dialogs UNION ALL SELECT payload FROM outbox WHERE state IN ('pending', 'sending')"
SCHEMA = "SELECT MAX(version) FROM schema_migrations"
AUDIT_HEAD = "SELECT count, hash FROM audit_head WHERE id = 1"
KEY_ID = "SELECT key_id FROM data_key WHERE id = 1"


def figures(named: set[str], texts: list[str], schema: Any, head: Any, key: Any) -> Figures:
    for text in texts:
        named = named | set(_DIGEST.findall(str(text)))  # files in open dialogues and queued messages
    return Figures(named, int(schema), (int(head[0]), str(head[1])), None if key is None else str(key[0]))


def archive_name(folder: Path, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"liaison-backup-{now.strftime('%Y%m%d-%H%M%S')}.tar.gz"
    if target.exists():
        raise BackupError(f"{target} exists already")
    return target


async def write_backup(db: Database, config: Config, folder: Path, now: datetime) -> Written:
    """Write the archive into `folder` (created if need be); see the module docstring. On PostgreSQL:
    bot/backup_pg.py."""
    if db.dialect != "sqlite":
        raise BackupError(ON_POSTGRESQL)
    target = archive_name(folder, now)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=folder) as work:
        snapshot = Path(work) / DATABASE
        await db.backup(snapshot)
        return write_archive(target, "sqlite", snapshot, _read_snapshot(snapshot), config, now)


def write_archive(target: Path, engine: str, snapshot: Path, found: Figures, config: Config, now: datetime) -> Written:
    """The archive of a database snapshot (the SQLite file, or PostgreSQL's dump) and the files it names."""
    store = FileStore(config.storage.files_dir, StoppedClock(now))  # only read here
    files: list[dict[str, Any]] = []
    missing: list[str] = []
    for digest in sorted(found.named):
        source = store.resolve(f"{digest[:2]}/{digest}")
        if not source.is_file() or _sha256_of(source) != digest:
            missing.append(digest)
            continue
        files.append({"path": f"files/{digest[:2]}/{digest}", "sha256": digest, "size": source.stat().st_size,
                      "source": source})
    manifest = {
        "format": FORMAT, "engine": engine, "created_at": now.isoformat(),
        "database": {"path": snapshot.name, "sha256": _sha256_of(snapshot), "size": snapshot.stat().st_size},
        "schema": found.schema, "audit": {"entries": found.head[0], "head": found.head[1]}, "data_key": found.key_id,
        "files": [{k: v for k, v in f.items() if k != "source"} for f in files], "missing": missing,
    }
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(snapshot, snapshot.name, recursive=False, filter=_plain)
            for f in files:
                tar.add(f["source"], f["path"], recursive=False, filter=_plain)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Written(target, len(files), missing, found.head[0], found.head[1])


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No owner names or ids of this machine in the archive."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _read_snapshot(path: Path) -> Figures:
    """What the snapshot names: stored files' digests, the schema version, the audit head, the data key id."""
    conn = sqlite3.connect(path)
    try:
        return figures({r[0] for r in conn.execute(NAMED_FILES)}, [r[0] for r in conn.execute(NAMING_TEXTS)],
                       conn.execute(SCHEMA).fetchone()[0], conn.execute(AUDIT_HEAD).fetchone(),
                       conn.execute(KEY_ID).fetchone())
    finally:
        conn.close()


# -- reading one back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    manifest: dict[str, Any]
    entries: int
    head: str


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for info in tar:
        if not info.isfile():
            raise BackupError(f"not a backup of this bot: {info.name!r} is not a plain file")
        yield info


async def check_backup(archive: Path, into: Path) -> Checked:
    """Unpack `archive` into the empty folder `into` and prove it whole (see the module docstring); an archive of
    PostgreSQL's is checked by bot/backup_pg.py."""
    manifest = unpack(archive, into)
    if manifest.get("engine", "sqlite") != "sqlite":
        raise BackupError(OTHER_ENGINE.format(archive=archive, engine="PostgreSQL", here="SQLite"))
    return await check_database(into, manifest)


def engine_of(archive: Path) -> str:
    """Which engine's database an archive holds (its manifest's `engine`; archives before it: SQLite's)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar:
                if info.name == MANIFEST and info.isfile() and info.size <= 64 << 20:
                    handle = tar.extractfile(info)
                    manifest = json.loads(handle.read()) if handle is not None else {}
                    return str(manifest.get("engine", "sqlite")) if isinstance(manifest, dict) else "sqlite"
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError):
        pass  # unpack() says what is wrong with it
    return "sqlite"


def unpack(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack `archive` into the empty folder `into`: every member listed in the manifest with its hash, and
    nothing else; return the manifest."""
    try:
        tar = tarfile.open(archive, "r:gz")
    except FileNotFoundError:
        raise BackupError(f"no such file: {archive}") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive} is not a backup archive ({exc})") from None
    found: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tar:
            for info in _members(tar):
                name = info.name
                if name not in (MANIFEST, DATABASE, DUMP) and not _MEMBER.fullmatch(name):
                    raise BackupError(f"not a backup of this bot: unexpected member {name!r}")
                if name in found or (name == MANIFEST and manifest is not None):
                    raise BackupError(f"damaged backup: {name} twice")
                handle = tar.extractfile(info)
                assert handle is not None
                if name == MANIFEST:
                    if info.size > 64 << 20:
                        raise BackupError("damaged backup: the manifest is too large")
                    manifest = json.loads(handle.read())
                    continue
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                found[name] = digest.hexdigest()
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"damaged backup {archive}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not a backup of this bot, or of a later version: {archive} has no manifest of format 1")
    expected = {manifest["database"]["path"]: manifest["database"]["sha256"],
                **{f["path"]: f["sha256"] for f in manifest["files"]}}
    for name, digest in expected.items():
        if name not in found:
            raise BackupError(f"damaged backup: {name} is missing from the archive")
        if found[name] != digest:
            raise BackupError(f"damaged backup: {name} does not match its hash in the manifest")
    if extra := sorted(set(found) - set(expected)):
        raise BackupError(f"damaged backup: {extra[0]} is not in the manifest")
    return manifest


def against_manifest(manifest: dict[str, Any], entries: int, broken: Broken | None,
                      head: tuple[int, str] | None) -> Checked:
    """The audit chain as found in the restored copy, against what the manifest recorded."""
    if broken is not None:
        raise BackupError(f"the backup's audit log is broken at entry {broken.id}: {broken.reason}")
    recorded = manifest["audit"]
    if head is None or (head[0], head[1]) != (recorded["entries"], recorded["head"]):
        raise BackupError("the backup's audit log does not end at the head its manifest recorded "
                          f"({recorded['entries']} entries, {recorded['head']})")
    return Checked(manifest, entries, head[1])


async def check_database(into: Path, manifest: dict[str, Any]) -> Checked:
    """The unpacked SQLite database: sound, and its audit chain whole up to the manifest's head."""
    db = await Database.open(into / DATABASE)  # quick_check: a damaged database is refused here
    try:
        async with db.snapshot() as q:
            entries, broken = await audit.verify(q)
            head = await audit.head(q)
    finally:
        await db.close()
    for suffix in ("-wal", "-shm"):
        (into / f"{DATABASE}{suffix}").unlink(missing_ok=True)
    return against_manifest(manifest, entries, broken, head)


def empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


async def restore_backup(archive: Path, config: Config) -> Checked:
    """Put the archive back as the configured database and files folder (both must be empty)."""
    if config.database.url:
        raise BackupError(ON_POSTGRESQL)  # bot/backup_pg.py
    database, files_dir = config.storage.database, config.storage.files_dir
    if held(database):
        raise BackupError(f"a bot is running on {database}: stop it first (and restore into an empty data folder)")
    live = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    if live or not empty(files_dir):
        raise BackupError(f"refusing to overwrite an installation: {live[0] if live else files_dir} exists; restore "
                          "into an empty data folder (move the current one aside first)")
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=database.parent) as work:
        checked = await check_backup(archive, Path(work))
        _check_key(Path(work) / DATABASE, config, checked.manifest.get("data_key"))
        put_files(Path(work), files_dir)
        os.replace(Path(work) / DATABASE, database)
    return checked


def put_files(unpacked: Path, files_dir: Path) -> None:
    """The unpacked archive's stored files into the (empty) files folder."""
    if (unpacked / "files").exists():
        files_dir.parent.mkdir(parents=True, exist_ok=True)
        if files_dir.exists():
            files_dir.rmdir()  # empty, as checked before
        shutil.move(str(unpacked / "files"), str(files_dir))


def _check_key(snapshot: Path, config: Config, key_id: str | None) -> None:
    conn = sqlite3.connect(snapshot)
    try:
        row = conn.execute("SELECT canary FROM data_key WHERE id = 1").fetchone()
    finally:
        conn.close()
    check_key(None if row is None else str(row[0]), config, key_id)


def check_key(canary: str | None, config: Config, key_id: str | None) -> None:
    """The configured key must open the backup's personal data (its canary): else the restored bot would not
    start."""
    if canary is None:
        return  # nothing sealed yet
    source = read_keys(config)
    need = f"the backup's personal data is sealed with key {key_id}"
    if source is None:
        raise BackupError(f"{need}: put that key at {config.storage.key_file} (or in LIAISON_DATA_KEY) first; "
                          "it is never in a backup")
    try:
        opened = Sealer(source.keys).open(canary, CANARY)
    except SealingError:
        opened = ""
    if opened != CANARY_TEXT:
        raise BackupError(f"{need}, which {source.setting} does not hold")
