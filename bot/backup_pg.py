"""The backup archive on PostgreSQL: the same archive as on SQLite (bot/backup.py), with the database as
`pg_dump --format=custom` (`liaison.pgdump`) and `"engine": "postgresql"` in its manifest.

**Consistent while the bot runs.** The manifest's figures (the files the database names, the schema version,
the audit log's head, the data key's id) must describe exactly what the dump holds. They are read in a
REPEATABLE READ transaction that exports its snapshot (`pg_export_snapshot()`), and `pg_dump --snapshot`
dumps that same snapshot while the transaction stays open (PostgreSQL's documentation of pg_dump, "--snapshot";
"Snapshot Synchronization" under the system administration functions).

**Checked.** `restore --check` proves the archive whole (hashes, nothing more and nothing less, `pg_restore
--list` reads the dump); with a PostgreSQL server configured it also restores the dump into a throw-away
database there and verifies the audit chain up to the manifest's head (which needs the CREATEDB privilege; it
says so when it has not). `restore` puts the dump into the configured database only when that database is
empty (no table in its `public` schema) and no bot holds it (the instance lock of storage/pg.py), after the
configured data key has been shown to open the backup's personal data (its canary, read from the dump without
restoring anything); it restores in one transaction (`--single-transaction --exit-on-error`), then verifies
the schema version and the audit chain there: a restored copy that does not verify is removed again.

pg_dump and pg_restore come from PATH or beside the installed server (Debian's /usr/lib/postgresql/N/bin);
the password is passed in the child's environment (PGPASSWORD), never on its command line or in a message.
"""

from __future__ import annotations

import asyncio
import glob
import os
import secrets
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.backup import (AUDIT_HEAD, DUMP, KEY_ID, NAMED_FILES, NAMING_TEXTS, OTHER_ENGINE, SCHEMA, BackupError,
                        Checked, Written, against_manifest, archive_name, check_key, empty, figures,
                        put_files, unpack, write_archive)
from bot.config import Config
from storage import audit
from storage.pg import INSTANCE_LOCK, PgDatabase, connect
from storage.url import redacted, without_password


def tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest beside an installed server."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / name).exists():
            return str(Path(folder) / name)
    raise BackupError(f"a backup on PostgreSQL needs {name} (Debian: apt-get install postgresql-client)")


async def _run(url: str, *argv: str) -> bytes:
    """Run pg_dump / pg_restore against `url`; its output; its error as one line, the URL redacted."""
    shown, password = without_password(url)
    env = dict(os.environ) if password is None else {**os.environ, "PGPASSWORD": password}
    process = await asyncio.create_subprocess_exec(
        *[a.replace("{url}", shown) for a in argv], env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    out, err = await process.communicate()
    if process.returncode != 0:
        text = " ".join(err.decode(errors="replace").split()).replace(shown, redacted(url))[:300]
        raise BackupError(f"{Path(argv[0]).name} failed on {redacted(url)}: {text}")
    return out


async def write_backup(db: PgDatabase, config: Config, folder: Path, now: datetime) -> Written:
    """`backup DIR` on PostgreSQL: the dump and the manifest's figures from one snapshot, then the archive."""
    target = archive_name(folder, now)
    dump = tool("pg_dump")
    conn = await connect(db.url)
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=folder) as work:
            snapshot = Path(work) / DUMP
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                exported = await conn.fetchval("SELECT pg_export_snapshot()")
                found = figures({r[0] for r in await conn.fetch(NAMED_FILES)},
                                [r[0] for r in await conn.fetch(NAMING_TEXTS)], await conn.fetchval(SCHEMA),
                                await conn.fetchrow(AUDIT_HEAD), await conn.fetchrow(KEY_ID))
                await _run(db.url, dump, "--format=custom", "--no-owner", f"--snapshot={exported}",
                           f"--file={snapshot}", "--dbname={url}")
            return write_archive(target, "postgresql", snapshot, found, config, now)
    finally:
        await conn.close()


async def check_backup(archive: Path, into: Path, url: str | None) -> tuple[Checked, str]:
    """`restore --check` of PostgreSQL's archive; with `url` (a server), the audit chain too, in a throw-away
    database there. Returns what was checked and a note of what could not be."""
    manifest = unpack(archive, into)
    _is_ours(archive, manifest)
    await _run("", tool("pg_restore"), "--list", str(into / DUMP))
    recorded = manifest["audit"]
    unverified = Checked(manifest, int(recorded["entries"]), str(recorded["head"]))
    if not url:
        return unverified, ("the audit chain was not verified: that needs the dump restored, on a PostgreSQL server "
                            "(check with a configuration whose database.url is one)")
    name = f"liaison_check_{secrets.token_hex(6)}"
    admin = await connect(url)
    try:
        try:
            await admin.execute(f"CREATE DATABASE {name}")
        except Exception as exc:  # noqa: BLE001 - any refusal: say what could not be checked
            return unverified, (f"the audit chain was not verified: a throw-away database could not be made on "
                                f"{redacted(url)} ({type(exc).__name__}; it needs the CREATEDB privilege)")
        try:
            scratch = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
            await _restore(scratch, into / DUMP)
            return await _verify(scratch, manifest), ""
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def _is_ours(archive: Path, manifest: dict[str, object]) -> None:
    if manifest.get("engine", "sqlite") != "postgresql":
        raise BackupError(OTHER_ENGINE.format(archive=archive, engine="SQLite", here="PostgreSQL"))


async def _restore(url: str, dump: Path) -> None:
    await _run(url, tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", "--dbname={url}",
               str(dump))


async def _verify(url: str, manifest: dict[str, object]) -> Checked:
    db = await PgDatabase.open_url(url)
    try:
        async with db.snapshot() as q:
            schema = int(await q.scalar(SCHEMA))
            entries, broken = await audit.verify(q)
            head = await audit.head(q)
    finally:
        await db.close()
    if schema != manifest["schema"]:
        raise BackupError(f"the restored database is at schema {schema}, its manifest says {manifest['schema']}")
    return against_manifest(manifest, entries, broken, head)


async def _canary(dump: Path) -> str | None:
    """The data key's canary as the dump holds it, read without restoring (pg_restore's COPY text of the table)."""
    text = (await _run("", tool("pg_restore"), "--data-only", "--table=data_key", "--file=-", str(dump))).decode()
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "data_key" in line:
            columns = [c.strip().strip('"') for c in line[line.index("(") + 1:line.index(")")].split(",")]
            row = next(lines, "\\.")
            if row == "\\.":
                return None
            values = row.split("\t")
            canary = values[columns.index("canary")]
            return None if canary == "\\N" else canary
    return None


async def _tables(url: str) -> list[str]:
    conn = await connect(url)
    try:
        return [r[0] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")]
    finally:
        await conn.close()


async def _running(url: str) -> bool:
    conn = await connect(url)
    try:
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", INSTANCE_LOCK):
            await conn.fetchval("SELECT pg_advisory_unlock($1)", INSTANCE_LOCK)
            return False
        return True
    finally:
        await conn.close()


async def _remove_restored(url: str) -> None:
    """Empty the database again (it was empty before the restore): what pg_restore made in `public`."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            for (table,) in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
                await conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            for (signature,) in await conn.fetch(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'public'"):
                await conn.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    finally:
        await conn.close()


async def restore_backup(archive: Path, config: Config) -> Checked:
    """`restore ARCHIVE` on PostgreSQL: into the configured database, which must be empty, with no bot on it."""
    url, files_dir = config.database.url, config.storage.files_dir
    if await _running(url):
        raise BackupError(f"a bot is running on {redacted(url)}: stop it first (and restore into an empty database)")
    if tables := await _tables(url):
        raise BackupError(f"refusing to overwrite an installation: {redacted(url)} holds tables ({tables[0]}, …); "
                          "restore into a new, empty database (createdb)")
    if not empty(files_dir):
        raise BackupError(f"refusing to overwrite an installation: {files_dir} holds files; restore into an empty "
                          "files folder (move the current one aside first)")
    files_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=files_dir.parent) as work:
        manifest = unpack(archive, Path(work))
        _is_ours(archive, manifest)
        check_key(await _canary(Path(work) / DUMP), config, manifest.get("data_key"))
        await _restore(url, Path(work) / DUMP)
        try:
            checked = await _verify(url, manifest)
        except BaseException:
            await _remove_restored(url)
            raise
        put_files(Path(work), files_dir)
    return checked

