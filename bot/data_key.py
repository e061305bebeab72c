"""Finding the data key, checking it against the database, sealing what was stored before, rotating it.

Where the key comes from, in order: the environment variable LIAISON_DATA_KEY (the key itself), else
the file `storage.key_file` (default `liaison.key` beside the configuration, outside the data folder, so
that no backup of the data folder holds it). When neither exists:
- a database that holds no sealed data yet (a new installation, the console demo, every test) gets a
  new key file, created with mode 0600, and a warning in the log saying where it is and to keep a copy;
- a database that does stops start-up with one line naming `storage.key_file` and LIAISON_DATA_KEY.
The database keeps a check value (`data_key.canary`): a known text sealed with the key that sealed the
data; a key that does not open it stops start-up the same way, naming the key id the data needs.

The first start with a key on a database from before sealing seals its phone numbers and complainants'
data in one transaction, with the check value: either all of it is sealed, or none.

`rotate` seals everything again under a new key in one transaction (bot stopped): with a key file it
writes the new key in front of the old one first (so that a crash at any point leaves a file that opens
every row), seals, then leaves the new key alone in the file; with the environment variable, the operator
puts the new key first and the old one after it, runs `key rotate`, then removes the old one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config import DATA_KEY_ENV, Config
from bot.domain import normalise_phone
from bot.errors import ConfigError, LiaisonError
from bot.sealing import (CANARY, COMPLAINANT_CONTACT, COMPLAINANT_NAME, PHONE, KeyFormatError, Sealer,
                         SealingError, new_key, parse_keys, sealed_with)
from storage import audit
from storage.db import Database, Tx, ts

log = logging.getLogger(__name__)

CANARY_TEXT = "liaison data key check"


@dataclass(frozen=True)
class KeySource:
    keys: list[str]
    setting: str  # what to name in a message: the variable or the key file setting and its path
    file: Path | None  # the key file, when the keys come from one


def read_keys(config: Config, environ: dict[str, str] | None = None) -> KeySource | None:
    """The configured keys, or None when there are none (no variable, no file)."""
    env = os.environ if environ is None else environ
    if env.get(DATA_KEY_ENV, "").strip():
        try:
            return KeySource(parse_keys(env[DATA_KEY_ENV]), DATA_KEY_ENV, None)
        except KeyFormatError as exc:
            raise ConfigError(DATA_KEY_ENV, str(exc)) from None
    path = config.storage.key_file
    setting = f"storage.key_file ({path})"
    try:
        text = path.read_text("ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(setting, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        return KeySource(parse_keys(text), setting, path)
    except KeyFormatError as exc:
        raise ConfigError(setting, str(exc)) from None


def write_key_file(path: Path, keys: list[str], *, new: bool = False) -> None:
    """Write the key file whole and durably, readable by its owner only. `new`: only if there is none yet
    (two processes starting at once on a new installation must not each make a key: FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("# The liaison bot's data key: keep a copy apart from the backups; never put it in git.\n")
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if new:
        try:
            os.link(temporary, path)  # atomic, and fails if a key file appeared meanwhile
        finally:
            temporary.unlink()
    else:
        temporary.replace(path)


async def open_sealer(db: Database, config: Config, now: datetime, environ: dict[str, str] | None = None) -> Sealer:
    """Find the key, check it against the database, seal what was stored before sealing; set `db.sealer`."""
    source = read_keys(config, environ)
    async with db.snapshot() as q:
        row = await q.one("SELECT key_id, canary FROM data_key WHERE id = 1")
    if source is None:
        if row is not None:
            raise ConfigError("storage.key_file", (
                f"no data key: {config.storage.key_file} does not exist and {DATA_KEY_ENV} is not set, but the "
                f"personal data in {config.database_shown} is sealed with key {row['key_id']}; put that key file "
                f"back (or set {DATA_KEY_ENV})"))
        try:
            write_key_file(config.storage.key_file, [new_key()], new=True)
        except FileExistsError:
            pass  # another process made it a moment ago: use that one
        else:
            log.warning("data key: created %s for the new database %s; keep a copy of it apart from the backups "
                        "(without it the sealed personal data cannot be read)", config.storage.key_file,
                        config.database_shown)
        source = read_keys(config, environ)
        assert source is not None
    sealer = Sealer(source.keys)
    if row is not None:
        _check(sealer, row["key_id"], row["canary"], source, config)
    else:
        async with db.transaction() as tx:  # checked again inside: another process may have sealed meanwhile
            row = await tx.one("SELECT key_id, canary FROM data_key WHERE id = 1")
            if row is not None:
                _check(sealer, row["key_id"], row["canary"], source, config)
            else:
                sealed = await seal_all(tx, sealer, now, plain=True)
                if sealed:
                    log.info("data key %s: sealed %d stored values", sealer.primary.id, sealed)
    db.sealer = sealer
    return sealer


def _check(sealer: Sealer, kid: object, canary: object, source: KeySource, config: Config) -> None:
    try:
        if sealer.open(str(canary), CANARY) != CANARY_TEXT:
            raise SealingError("wrong check value")
    except SealingError:
        raise ConfigError(source.setting, (
            f"this key (id {sealer.primary.id}) does not open the personal data in {config.database_shown}, "
            f"which is sealed with key {kid}; put that key back")) from None


async def seal_all(q: Tx, sealer: Sealer, now: datetime, *, plain: bool) -> int:
    """Seal every personal value again with the sealing key, and write the check value; `plain`: the stored
    values are not sealed yet (a database from before sealing), else they are opened with any key held."""
    def reopen(value: str, purpose: str) -> str:
        return value if plain else sealer.open(value, purpose)

    count = 0
    for row in await q.all("SELECT id, phone, roster_key FROM persons WHERE phone <> '' OR roster_key LIKE 'phone:%'"):
        phone = reopen(str(row["phone"]), PHONE)
        roster_key = row["roster_key"]
        if roster_key is not None and str(roster_key).startswith("phone:"):
            # the roster's phone key: digits as the roster wrote them (plain), or a digest to recompute
            digits = str(roster_key)[6:] if plain else normalise_phone(phone)
            roster_key = "phone:" + sealer.digest(normalise_phone(digits), PHONE)
        await q.execute("UPDATE persons SET phone = ?, phone_hash = ?, roster_key = ? WHERE id = ?",
                        (sealer.seal(phone, PHONE), phone_digest(sealer, phone), roster_key, row["id"]))
        if normalise_phone(phone):  # their further units' rosters found them by the same phone (storage/roster.py)
            await q.execute("UPDATE memberships SET roster_key = ? WHERE person_id = ? AND roster_key LIKE 'phone:%'",
                            ("phone:" + sealer.digest(normalise_phone(phone), PHONE), row["id"]))
        count += 1
    for row in await q.all("SELECT id, complainant_name, complainant_contact FROM matters"
                           " WHERE complainant_name IS NOT NULL OR complainant_contact IS NOT NULL"):
        name, contact = row["complainant_name"], row["complainant_contact"]
        await q.execute(
            "UPDATE matters SET complainant_name = ?, complainant_contact = ? WHERE id = ?",
            (None if name is None else sealer.seal(reopen(str(name), COMPLAINANT_NAME), COMPLAINANT_NAME),
             None if contact is None else sealer.seal(reopen(str(contact), COMPLAINANT_CONTACT), COMPLAINANT_CONTACT),
             row["id"]))
        count += 1
    canary = sealer.seal(CANARY_TEXT, CANARY)
    await q.execute("INSERT INTO data_key (id, key_id, canary, sealed_at) VALUES (1, ?, ?, ?) ON CONFLICT (id)"
                    " DO UPDATE SET key_id = excluded.key_id, canary = excluded.canary, sealed_at = excluded.sealed_at",
                    (sealer.primary.id, canary, ts(now)))
    return count


def phone_digest(sealer: Sealer, phone: str) -> str | None:
    digits = normalise_phone(phone)
    return sealer.digest(digits, PHONE) if digits else None


class RotationError(LiaisonError):
    """The key cannot be rotated now; the message says why and what to do."""


async def rotate(db: Database, config: Config, now: datetime, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Seal everything again under a new key; return (old key id, new key id). The bot must be stopped."""
    source = read_keys(config, environ)
    if source is None:
        raise RotationError(f"no data key to rotate: neither {DATA_KEY_ENV} nor {config.storage.key_file}")
    old_id = await _sealed_with(db) or Sealer(source.keys).primary.id
    ring = list(source.keys)
    if source.file is None:
        if len(ring) < 2:
            raise RotationError(
                f"the key comes from {DATA_KEY_ENV}: put a new key first in it (python -m bot key new) and the "
                "current one after it, run key rotate, then remove the old key from it")
    else:
        ring = [new_key(), *ring]
        write_key_file(source.file, ring)  # a crash from here on leaves a file that opens every row
    new = Sealer(ring)
    async with db.transaction() as tx:
        await seal_all(tx, new, now, plain=False)
        await audit.record(tx, now, None, "data_key.rotated", detail={"from": old_id, "to": new.primary.id})
    if source.file is not None:
        write_key_file(source.file, ring[:1])
        new = Sealer(ring[:1])
    db.sealer = new
    return old_id, new.primary.id


async def _sealed_with(db: Database) -> str | None:
    async with db.snapshot() as q:
        value = await q.scalar("SELECT canary FROM data_key WHERE id = 1")
    return None if value is None else sealed_with(str(value))
