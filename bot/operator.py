"""The operator's commands that look after the data itself: the data key, backup and restore.

`python -m bot migrate-to URL` moves the SQLite database into PostgreSQL (storage/move.py).
`python -m bot key new` prints a fresh key (for LIAISON_DATA_KEY); `key rotate` seals everything again
under a new key (bot/data_key.py). `backup DIR` and `restore ARCHIVE` are in bot/backup.py; the
command line (bot/__main__.py) wires them. Each command returns a dict whose "message" is printed (or
the dict itself with --json), or raises `Refused`: nothing was changed, the message says why.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import backup_pg
from bot.app import App
from bot.backup import BackupError, check_backup, engine_of, restore_backup, write_backup
from bot.config import DATA_KEY_ENV, Config
from bot.data_key import RotationError, rotate
from bot.instance import AlreadyRunningError, InstanceLock
from bot.sealing import new_key
from bot.workdays import format_days
from storage.pg import PgDatabase
from storage.url import redacted


class Refused(Exception):
    """The command cannot do what was asked; nothing was changed. `data` goes into the --json output."""

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.data = data


async def backup_archive(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`backup DIR`: one archive; files the database names but the store lacks are listed, not fatal."""
    try:
        if isinstance(app.db, PgDatabase):
            written = await backup_pg.write_backup(app.db, app.config, args.folder, app.clock.now())
        else:
            written = await write_backup(app.db, app.config, args.folder, app.clock.now())
    except BackupError as exc:
        raise Refused(str(exc)) from None
    lines = [f"backup written to {written.archive}: the database, {written.files} files, audit log at "
             f"{written.entries} entries, head {written.head}; the data key is not in it (keep it apart)"]
    if written.missing:
        lines.append(f"warning: {len(written.missing)} files the database names are missing or damaged in "
                     f"{app.config.storage.files_dir}: " + ", ".join(written.missing[:5]))
    return {"message": "\n".join(lines), "archive": str(written.archive), "files": written.files,
            "missing": written.missing, "entries": written.entries, "head": written.head}


async def restore_archive(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """`restore ARCHIVE [--check]`: prove the archive whole; without --check, put it back (empty folder only)."""
    note = ""
    try:
        if args.check:
            with tempfile.TemporaryDirectory(prefix=".check-") as work:
                if engine_of(args.archive) == "postgresql":
                    checked, note = await backup_pg.check_backup(args.archive, Path(work), config.database.url or None)
                else:
                    checked = await check_backup(args.archive, Path(work))
        elif config.database.url:
            checked = await backup_pg.restore_backup(args.archive, config)
        else:
            checked = await restore_backup(args.archive, config)
    except BackupError as exc:
        raise Refused(str(exc)) from None
    where = redacted(config.database.url) if config.database.url else config.storage.database
    what = "is whole" if args.check else f"restored into {where} and {config.storage.files_dir}"
    manifest = checked.manifest
    audit_log = (f"audit log intact at {checked.entries} entries, head {checked.head}" if not note
                 else f"audit log recorded at {checked.entries} entries, head {checked.head}; {note}")
    return {"message": f"backup of {manifest['created_at']} {what}: {len(manifest['files'])} files, {audit_log}",
            "created_at": manifest["created_at"], "files": len(manifest["files"]), "entries": checked.entries,
            "head": checked.head}


def make_key() -> dict[str, Any]:
    """`key new`: a fresh key, printed once; nothing is stored."""
    key = new_key()
    return {"message": key, "key": key}


async def rotate_key(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`key rotate`: with the bot stopped (its lock is taken for the while), seal everything under a new key."""
    config = app.config
    try:
        with InstanceLock(config.storage.database):
            old, new = await rotate(app.db, config, app.clock.now())
    except AlreadyRunningError:
        raise Refused("the bot is running on this database: stop it, rotate the key, then start it again") from None
    except RotationError as exc:
        raise Refused(str(exc)) from None
    where = (f"{DATA_KEY_ENV}: now remove the old key from it" if os.environ.get(DATA_KEY_ENV, "").strip()
             else f"the key file {config.storage.key_file} holds the new key only")
    return {"message": f"data key rotated: {old} -> {new}; everything is sealed with the new key ({where})",
            "old": old, "new": new}


async def move_database(config: Config, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """`migrate-to URL`: the configured SQLite database copied into an empty PostgreSQL database, every table
    counted and compared and the audit chain verified there (storage/move.py). The bot must be stopped; the
    SQLite file is left as it was. The URL's password is never printed."""
    from storage.db import Database, DatabaseUnusableError
    from storage.move import MoveError, move
    from storage.pg import PgDatabase
    from storage.url import is_postgres, redacted

    url = args.url
    if config.database.url:
        raise Refused("the configured database is PostgreSQL already; migrate-to moves the SQLite database "
                      "(storage.database) of a configuration without database.url")
    if not is_postgres(url):
        raise Refused("expected postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD)")
    if not config.storage.database.exists():
        raise Refused(f"there is no database at {config.storage.database}")
    try:
        with InstanceLock(config.storage.database):
            source = await Database.open(config.storage.database)
            try:
                target = await Database.open(url)
                assert isinstance(target, PgDatabase)
                try:
                    moved = await move(source, target, now)
                finally:
                    await target.close()
            finally:
                await source.close()
    except AlreadyRunningError as exc:
        raise Refused(str(exc)) from None
    except (MoveError, DatabaseUnusableError) as exc:
        raise Refused(str(exc).replace(url, redacted(url))) from None
    shown = redacted(url)
    return {"message": f"moved {config.storage.database} into {shown}: {moved.rows} rows in {len(moved.tables)} "
                       f"tables, each counted and compared; audit log intact at {moved.audit_entries} entries. "
                       f"{config.storage.database} is unchanged. To run on PostgreSQL now, set database.url = "
                       f"\"{shown.replace(':***', '')}\" in the configuration (the password in PGPASSWORD).",
            "database": shown, "rows": moved.rows, "tables": moved.tables, "audit_entries": moved.audit_entries}


def calendar_days(config: Config, year: int) -> dict[str, Any]:
    """What the reminders take as working days in `year`: its exceptions to Monday-Friday, and their source."""
    calendar = config.calendar
    source = calendar.source(year)
    exceptions = calendar.exceptions(year)
    off = [d for d, working in exceptions if not working]
    worked = [d for d, working in exceptions if working]
    declared = sorted(d for d in calendar.holidays | calendar.workdays if d.year == year)
    heading = {
        "package": f"{year}: the mainland calendar of the chinese-calendar package"
                   + (f", with {len(declared)} day(s) declared under [calendar]" if declared else ""),
        "config": f"{year}: the days declared under [calendar] (the chinese-calendar package does not know {year})",
        "weekdays": f"{year}: neither the chinese-calendar package nor [calendar] knows this year, so Monday to"
                    " Friday is assumed; declare its holidays and make-up working days under [calendar]"
                    " (config.example.toml) once the State Council publishes them",
    }[source]
    lines = [heading,
             "days off, Monday to Friday: " + (format_days(off) or "none"),
             "working days on a weekend: " + (format_days(worked) or "none")]
    return {"message": "\n".join(lines), "year": year, "source": source, "days_off": [d.isoformat() for d in off],
            "working_weekend_days": [d.isoformat() for d in worked], "declared": [d.isoformat() for d in declared]}
