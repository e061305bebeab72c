"""Where received files are kept: content-addressed by SHA-256, written atomically.

A file's age is the application's clock, not the machine's: each store stamps the file's
modification time with `clock.now()`, so a test that moves the clock moves the files' ages too
and the retention reads the same time everywhere.

What the database stores is a path relative to the files folder (`storage.files_dir`), `ab/abcd…`,
so that the folder can move (a restore elsewhere: bot/backup.py); `resolve` turns it into the file.
A path stored absolute by an earlier version still resolves, by its digest, inside this folder."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.clock import Clock

_STORED = re.compile(r"[0-9a-f]{64}")
_PARTIAL = re.compile(r"[0-9a-f]{64}\.\d+\.tmp")  # a write a crash interrupted


class FileStore:
    def __init__(self, root: Path, clock: Clock, base: Path | None = None) -> None:
        """Files under `root`; the paths it returns are relative to `base` (the files folder; default `root`)."""
        self.root = root
        self.clock = clock
        self.base = root if base is None else base

    def _stamp(self, path: Path) -> None:
        moment = self.clock.now().timestamp()
        os.utime(path, (moment, moment))

    def put(self, data: bytes) -> tuple[str, str]:
        """Store the bytes durably; return (sha256, path relative to the files folder). Storing the same bytes
        twice is harmless."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.root / digest[:2] / digest
        if target.exists():
            self._stamp(target)  # stored again: just received, about to be referred to (see remove)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            try:
                with temporary.open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError:  # a full disk (bot/health.py): no half-written file is left behind
                temporary.unlink(missing_ok=True)
                raise
            self._stamp(temporary)
            temporary.replace(target)
        return digest, target.relative_to(self.base).as_posix()

    def resolve(self, path: str) -> Path:
        """The file a stored path names: relative to the files folder; an absolute one (stored by an earlier
        version, perhaps on another machine) by its digest, where this folder keeps it."""
        stored = Path(path)
        if not stored.is_absolute():
            return self.base / stored
        if _STORED.fullmatch(stored.name):
            here = self.base / stored.parent.name / stored.name
            if here.exists() or not stored.exists():
                return here
        return stored

    def resolve_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An outbox payload with its files' paths resolved, for a channel to read (bot/dispatch.py)."""
        files = payload.get("files")
        if not files:
            return payload
        return {**payload, "files": [[str(self.resolve(str(f[0]))), *f[1:]] for f in files]}

    def stored_before(self, moment: datetime) -> Iterator[tuple[str, str]]:
        """(sha256, path) of every file stored (or stored again) before `moment`, cached ones included;
        a partial write left by a crash is removed on the way."""
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    old = datetime.fromtimestamp(os.stat(path).st_mtime, UTC) < moment
                    if old and _PARTIAL.fullmatch(name):
                        os.unlink(path)
                except FileNotFoundError:
                    continue
                if old and _STORED.fullmatch(name):
                    yield name, path

    def remove(self, path: str, *, unless_stored_after: datetime) -> bool:
        """Remove a stored file nothing names any more, unless it was stored (again) after that moment:
        a file just received is named only once its handler commits. False if it was kept or absent."""
        target = self.resolve(path)
        if self.root.resolve() not in target.resolve().parents:
            return False  # not ours: never remove anything outside the store
        try:
            if datetime.fromtimestamp(target.stat().st_mtime, UTC) > unless_stored_after:
                return False
            target.unlink()
        except FileNotFoundError:
            return False
        return True
